-- Practices, PCNs and places as people work from them.

-- The practice register as the commands keep it, in the transaction of its events: what a
-- dashboard or DHU row is checked against once a register exists.
create table practice_register (
    ods_code    text primary key,
    pcn_code    text not null,
    place       text not null,
    -- the PracticeRegistration as last recorded
    entry       jsonb not null,
    updated_at  timestamptz not null default now()
);

-- practice_view becomes each practice's picture: registered, observed or flagged, with the three
-- counts (configured by the practice, seen by the DHU, the dashboard's) and whether they disagree.
-- Read models are disposable: emptied, its checkpoint removed, rebuilt from the log at next start.
truncate practice_view;
delete from subscription_checkpoints where subscriber = 'practice_view';
alter table practice_view
    alter column report_date drop not null,
    alter column visible_slots drop not null,
    alter column compliant drop not null,
    add column registered        boolean not null default false,
    add column main_site         text,
    add column branch_sites      text[] not null default '{}',
    add column configured_slots  integer,
    add column configured_at     timestamptz,
    add column dhu_slots         integer,
    add column dhu_seen_at       timestamptz,
    add column disagreement      boolean not null default false;
create index practice_view_pcn on practice_view (pcn_code);

-- Every dashboard observation, for a practice's weekly series.
create table practice_observations (
    ods_code        text not null,
    report_date     date not null,
    visible_slots   integer not null,
    required_slots  integer not null,
    list_size       integer not null,
    constraint practice_observations_pkey primary key (ods_code, report_date)
);
-- Every row of the DHU's own extracts.
create table dhu_observations (
    ods_code       text not null,
    date           date not null,
    visible_slots  integer not null,
    constraint dhu_observations_pkey primary key (ods_code, date)
);
-- The report dates of the dashboard extracts: a registered practice absent from the latest has
-- had no data since.
create table extract_dates (
    report_date  date primary key
);
-- The practice of each case: a case's later events name only the case.
create table practice_case_map (
    case_id   uuid primary key,
    ods_code  text not null
);
-- Each PCN's name and place, as its practices give them (the register's, or the dashboard's).
create table pcns (
    pcn_code  text primary key,
    pcn_name  text,
    place     text not null
);
