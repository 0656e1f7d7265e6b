-- The write side's register of each practice's latest case, written in the same transaction as the
-- case event that changes it (after the append, which must be the transaction's first write).
-- Its primary key makes "at most one open case per practice" race-free: of two concurrent flags of
-- one practice, the second finds the first's open row and rolls its case back.
create table practice_cases (
    ods_code    text primary key,
    case_id     uuid not null,
    state       text not null constraint practice_cases_state check (state in ('open', 'compliant', 'closed')),
    updated_at  timestamptz not null default now()
);
