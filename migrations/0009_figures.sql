-- The figures as data (the `figures` read model): each case's and each practice's history as
-- bitemporal rows (what held over a stretch of business time, as known over a stretch of system
-- time), so that a summary as of any business time, as known at any system time, is an aggregate
-- over indexed rows, never a replay of the log. 'infinity' ends a stretch that has not ended.
-- The day-by-day changes of the present knowledge (trend_steps, trend_totals) make a trend of any
-- length a running sum over at most one row per day.

create table case_timeline (
    case_id        uuid not null,
    ods_code       text not null,
    place          text not null,
    pcn_code       text not null,
    status         text not null,
    -- the episode this state belongs to: its opening, and its compliance if it reached it
    opened_at      timestamptz not null,
    compliant_at   timestamptz,
    valid_from     timestamptz not null,
    valid_to       timestamptz not null,
    recorded_from  timestamptz not null,
    recorded_to    timestamptz not null
);
create index case_timeline_case on case_timeline (case_id);
create index case_timeline_at on case_timeline
    using gist (tstzrange(valid_from, valid_to), tstzrange(recorded_from, recorded_to));
-- the present: the last interval of what is known now, one row per case
create index case_timeline_now on case_timeline (place, status)
    where valid_to = 'infinity' and recorded_to = 'infinity';

create table practice_timeline (
    ods_code       text not null,
    place          text not null,
    pcn_code       text not null,
    compliant      boolean not null,
    valid_from     timestamptz not null,
    valid_to       timestamptz not null,
    recorded_from  timestamptz not null,
    recorded_to    timestamptz not null
);
create index practice_timeline_practice on practice_timeline (ods_code);
create index practice_timeline_at on practice_timeline
    using gist (tstzrange(valid_from, valid_to), tstzrange(recorded_from, recorded_to));
create index practice_timeline_now on practice_timeline (place, compliant)
    where valid_to = 'infinity' and recorded_to = 'infinity';

-- the latest observation time of each practice: one later than it extends the timeline in place
create table practice_timeline_latest (
    ods_code     text primary key,
    occurred_at  timestamptz not null
);

-- how each figure of the present knowledge changes from one day to the next (at the day's end, UTC)
create table trend_steps (
    metric     text not null,
    day        date not null,
    place      text not null,
    pcn_code   text not null,
    delta      integer not null,
    constraint trend_steps_pkey primary key (metric, day, place, pcn_code)
);
create table trend_totals (
    metric  text not null,
    day     date not null,
    delta   integer not null,
    constraint trend_totals_pkey primary key (metric, day)
);

-- A new value whenever the figures change (not for events that leave them as they were): what
-- holds the present figures in memory checks it to know they still hold.
create table figures_version (
    id       integer primary key default 1 constraint figures_version_one check (id = 1),
    version  uuid not null
);
