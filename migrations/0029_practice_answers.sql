-- A practice's answers to the Digital Champion on its slot cases (issue 26): kept in the
-- practice's stream beside the case; the words stay sealed here as they are in the log.
create table practice_answers (
    answer_id uuid primary key,
    case_id uuid not null,
    ods_code text not null,
    answered_at timestamptz not null,
    answered_by text not null,
    text jsonb,
    answered_event uuid not null
);
create index practice_answers_case on practice_answers (case_id, answered_at);
