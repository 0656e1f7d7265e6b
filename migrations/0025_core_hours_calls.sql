-- The 111 provider's weekly core-hours calls by practice (issue 26): one row a practice a week.
create table core_hours_calls (
    ods_code    text not null,
    week_start  date not null,
    calls       integer not null,
    primary key (ods_code, week_start)
);
create index core_hours_calls_week on core_hours_calls (week_start);
