-- CaseLedger's own GP Connect free-slot searches (SlotVisibilityVerified / SlotVisibilityCheckFailed),
-- kept by the practice_view projection: a practice's latest verification, and its history.
create table slot_verifications (
    event_id          uuid primary key,
    ods_code          text not null,
    case_id           uuid,
    verified_at       timestamptz not null,
    verdict           text not null check (verdict in ('ENOUGH', 'TOO_FEW', 'FAILED')),
    required_per_day  integer not null,
    min_per_core_day  integer,
    window_start      date not null,
    window_end        date not null,
    short_days        date[] not null default '{}',
    error_code        text,
    error             text,
    -- the core-hours days, each with its free slots by location
    days              jsonb not null default '[]'
);
create index slot_verifications_latest on slot_verifications (ods_code, verified_at desc);
