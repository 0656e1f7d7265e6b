-- Telephony metrics for PCN review (issue 26): one row a practice a month, and the PCN's own
-- notes of what it agreed at each month's review.
create table telephony_metrics (
    ods_code                  text not null,
    month                     date not null,
    inbound_calls             integer not null,
    average_wait_seconds      integer not null,
    abandonment_basis_points  integer not null,
    average_call_seconds      integer not null,
    callbacks                 integer not null,
    primary key (ods_code, month)
);
create index telephony_metrics_month on telephony_metrics (month);

create table pcn_review_notes (
    note_id     uuid primary key,
    pcn_code    text not null,
    month       date not null,
    -- The PCN's words, as stored (sealed under the note's key when the vault is on).
    note        jsonb not null,
    noted_event uuid not null,
    noted_by    text not null,
    noted_at    timestamptz not null
);
create index pcn_review_notes_pcn on pcn_review_notes (pcn_code, month desc, noted_at desc);
