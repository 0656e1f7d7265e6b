-- Events a named subscriber could not handle after retries: parked here with the error, so the
-- subscriber goes on past them instead of stopping every view behind one bad event. An admin
-- retries (once the cause is fixed) or skips each.
create table parked_events (
    subscriber   text not null,
    event_id     uuid not null,
    tx_id        xid8 not null,
    position     bigint not null,
    stream_id    text not null,
    revision     bigint not null,
    event_type   text not null,
    error        text not null,
    attempts     integer not null,
    parked_at    timestamptz not null default now(),
    resolved_at  timestamptz,
    resolution   text constraint parked_events_resolution check (resolution in ('retried', 'skipped')),
    constraint parked_events_pkey primary key (subscriber, event_id)
);
create index parked_events_unresolved on parked_events (subscriber, parked_at) where resolved_at is null;
