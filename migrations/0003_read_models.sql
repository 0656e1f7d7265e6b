-- Read models, each kept by a named subscriber whose checkpoint commits with its rows.

-- One row per case: what every view lists and filters on.
create table case_view (
    case_id         uuid primary key,
    ods_code        text not null,
    practice_name   text not null,
    pcn_code        text not null,
    pcn_name        text,
    place           text not null,
    list_size       integer not null,
    required_slots  integer not null,
    status          text not null,
    revision        bigint not null,
    created_at      timestamptz not null,
    opened_at       timestamptz not null,
    compliant_at    timestamptz,
    closed_at       timestamptz,
    visible_slots   integer,
    assigned_to     text,
    root_causes     text[] not null default '{}',
    remap_changes   text[] not null default '{}',
    open_dhu_issue  boolean not null default false,
    -- business time of the first contract review, from contract-<case id>
    escalated_at    timestamptz,
    -- business time of the case's latest event
    last_event_at   timestamptz not null
);
create index case_view_practice on case_view (ods_code, created_at desc);
create index case_view_status on case_view (status, created_at);
create index case_view_assigned on case_view (assigned_to, status) where assigned_to is not null;

-- The practice register with each practice's latest dashboard observation.
create table practice_view (
    ods_code        text primary key,
    name            text not null,
    pcn_code        text not null,
    pcn_name        text,
    place           text not null,
    list_size       integer not null,
    required_slots  integer not null,
    report_date     date not null,
    visible_slots   integer not null,
    compliant       boolean not null
);
create index practice_view_place on practice_view (place);
