-- The event store: one row per stream (the only row an append locks) and the append-only event log.

create table streams (
    stream_id        text primary key,
    -- revision of the stream's last event; -1 while it has none
    revision         bigint not null default -1,
    -- reads start at this revision: a soft delete moves it past the last event
    truncate_before  bigint not null default 0,
    soft_deleted     boolean not null default false,
    tombstoned       boolean not null default false,
    max_count        bigint constraint streams_max_count_positive check (max_count > 0),
    max_age_seconds  bigint constraint streams_max_age_positive check (max_age_seconds > 0),
    custom_metadata  jsonb not null default '{}'
);

create table events (
    position     bigint generated always as identity primary key,
    -- the appending transaction: readers of $all only pass transactions older than every one in flight
    tx_id        xid8 not null default pg_current_xact_id(),
    stream_id    text not null,
    revision     bigint not null,
    event_id     uuid not null,
    event_type   text not null,
    data         jsonb not null,
    metadata     jsonb not null,
    recorded_at  timestamptz not null default now(),
    category     text not null generated always as (split_part(stream_id, '-', 1)) stored,
    constraint events_event_id_unique unique (event_id),
    constraint events_stream_revision_unique unique (stream_id, revision)
);

create index events_global_order on events (tx_id, position);
create index events_category_order on events (category, tx_id, position);

-- Where each named subscriber has got to; written in the subscriber's own transaction.
create table subscription_checkpoints (
    subscriber  text primary key,
    tx_id       xid8 not null,
    position    bigint not null,
    updated_at  timestamptz not null default now()
);

-- Append in one round trip: lock the stream, answer a retry of the same events with the original
-- result, check the expected revision, insert every event with one unnest. Outcomes are returned,
-- not raised, so the caller maps each to a typed error.
--
-- The stream's lock is a transaction advisory lock keyed by its name, taken before the transaction
-- has an id. A row lock (select ... for update) would give a waiting transaction its id before it
-- waits, and waiters are not woken in order, so a later revision could carry an older tx_id and
-- come first in $all. For the same reason the append must be the transaction's first write.
create function eventstore_append(
    p_stream_id text,
    p_expected_kind text,        -- any | no_stream | stream_exists | exact
    p_expected_revision bigint,  -- used when p_expected_kind = 'exact'
    p_event_ids uuid[],
    p_event_types text[],
    p_data jsonb[],
    p_metadata jsonb[]
)
returns table (outcome text, stream_revision bigint, transaction_id text, positions bigint[])
language plpgsql
as $$
declare
    v_stream streams%rowtype;
    v_count int := coalesce(cardinality(p_event_ids), 0);
    v_found int;
    v_matching int;
    v_min_offset bigint;
    v_max_offset bigint;
    v_exists boolean;
    v_positions bigint[];
begin
    if pg_current_xact_id_if_assigned() is not null then
        return query select 'not_first_write'::text, -1::bigint, null::text, null::bigint[];
        return;
    end if;
    perform pg_advisory_xact_lock(hashtextextended(p_stream_id, 0));
    select * into v_stream from streams s where s.stream_id = p_stream_id;
    if not found then
        -- on conflict: set_stream_metadata may create the row without the stream's lock
        insert into streams (stream_id) values (p_stream_id) on conflict do nothing;
        select * into v_stream from streams s where s.stream_id = p_stream_id;
    end if;

    if v_stream.tombstoned then
        return query select 'stream_deleted'::text, v_stream.revision, null::text, null::bigint[];
        return;
    end if;

    -- Checked after the lock, so a concurrent retry of the same events sees the first one's commit.
    if v_count > 0 then
        select count(*)::int,
               (count(*) filter (where e.stream_id = p_stream_id and e.event_type = u.event_type
                                   and e.data = u.data))::int,
               min(e.revision - u.ord),
               max(e.revision - u.ord)
          into v_found, v_matching, v_min_offset, v_max_offset
          from unnest(p_event_ids, p_event_types, p_data) with ordinality as u(event_id, event_type, data, ord)
          join events e on e.event_id = u.event_id;
        if v_found > 0 then
            if v_found = v_count and v_matching = v_count and v_min_offset = v_max_offset then
                return query
                    select 'duplicate'::text, v_min_offset + v_count, min(e.tx_id)::text,
                           array_agg(e.position order by e.revision)
                      from events e
                     where e.event_id = any (p_event_ids);
            else
                return query select 'event_id_conflict'::text, v_stream.revision, null::text, null::bigint[];
            end if;
            return;
        end if;
    end if;

    v_exists := v_stream.revision >= 0 and not v_stream.soft_deleted;
    if (p_expected_kind = 'no_stream' and v_exists)
       or (p_expected_kind = 'stream_exists' and not v_exists)
       or (p_expected_kind = 'exact' and p_expected_revision is distinct from v_stream.revision) then
        return query select 'wrong_expected_version'::text,
                            case when v_exists then v_stream.revision else -1 end, null::text, null::bigint[];
        return;
    end if;

    if v_count = 0 then
        return query select 'ok'::text, v_stream.revision, null::text, '{}'::bigint[];
        return;
    end if;

    with inserted as (
        insert into events (stream_id, revision, event_id, event_type, data, metadata)
        select p_stream_id, v_stream.revision + u.ord, u.event_id, u.event_type, u.data, u.metadata
          from unnest(p_event_ids, p_event_types, p_data, p_metadata)
               with ordinality as u(event_id, event_type, data, metadata, ord)
         order by u.ord
        returning events.position, events.revision
    )
    select array_agg(i.position order by i.revision) into v_positions from inserted i;

    update streams s set revision = v_stream.revision + v_count, soft_deleted = false
     where s.stream_id = p_stream_id;

    return query select 'ok'::text, v_stream.revision + v_count, pg_current_xact_id()::text, v_positions;
end;
$$;
