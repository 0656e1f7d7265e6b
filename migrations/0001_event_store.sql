-- The event store: one row per stream (the only row an append locks) and the append-only event log.

-- Only streams with settings have a row here: read limits, a soft delete or a tombstone. A stream's
-- revision is the highest revision among its events, read under the stream's lock, so a plain
-- append writes one row, as the raw baseline does.
create table streams (
    stream_id        text primary key,
    -- reads start at this revision: a soft delete moves it past the last event
    truncate_before  bigint not null default 0,
    soft_deleted     boolean not null default false,
    tombstoned       boolean not null default false,
    max_count        bigint constraint streams_max_count_positive check (max_count > 0),
    max_age_seconds  bigint constraint streams_max_age_positive check (max_age_seconds > 0),
    custom_metadata  jsonb not null default '{}'
);

create table events (
    -- the appending transaction: readers of $all only pass transactions older than every one in flight
    tx_id        xid8 not null default pg_current_xact_id(),
    position     bigint generated always as identity,
    stream_id    text not null,
    revision     bigint not null,
    event_id     uuid not null,
    event_type   text not null,
    data         jsonb not null,
    metadata     jsonb not null,
    recorded_at  timestamptz not null default now(),
    -- the global order, and the index every $all and category reader walks
    constraint events_global_order primary key (tx_id, position),
    constraint events_event_id_unique unique (event_id),
    constraint events_stream_revision_unique unique (stream_id, revision)
);

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
    p_metadata jsonb[],
    -- true only from append_batch, which took every stream's lock before the transaction's first write
    p_already_locked boolean default false
)
returns table (outcome text, stream_revision bigint, transaction_id text, positions bigint[])
language plpgsql
as $$
declare
    v_count int := coalesce(cardinality(p_event_ids), 0);
    v_written_before boolean;
    v_last bigint;
    v_soft_deleted boolean;
    v_tombstoned boolean;
    v_exists boolean;
    v_positions bigint[];
begin
    if not p_already_locked then
        select pg_current_xact_id_if_assigned() is not null,
               pg_advisory_xact_lock(hashtextextended(p_stream_id, 0)) is null
          into v_written_before;
        if v_written_before then
            return query select 'not_first_write'::text, -1::bigint, null::text, null::bigint[];
            return;
        end if;
    end if;

    select coalesce((select max(e.revision) from events e where e.stream_id = p_stream_id), -1),
           coalesce(s.soft_deleted, false), coalesce(s.tombstoned, false)
      into v_last, v_soft_deleted, v_tombstoned
      from (select 1) one
      left join streams s on s.stream_id = p_stream_id;

    if v_tombstoned then
        return query select 'stream_deleted'::text, v_last, null::text, null::bigint[];
        return;
    end if;

    v_exists := v_last >= 0 and not v_soft_deleted;
    if (p_expected_kind = 'no_stream' and v_exists)
       or (p_expected_kind = 'stream_exists' and not v_exists)
       or (p_expected_kind = 'exact' and p_expected_revision is distinct from v_last) then
        -- A retry of an append that succeeded fails the check it once passed: answer it.
        return query select * from eventstore_earlier_append(p_stream_id, p_event_ids, p_event_types, p_data,
                                                             case when v_exists then v_last else -1 end);
        return;
    end if;

    if v_count = 0 then
        return query select 'ok'::text, v_last, null::text, '{}'::bigint[];
        return;
    end if;

    with inserted as (
        insert into events (stream_id, revision, event_id, event_type, data, metadata)
        select p_stream_id, v_last + u.ord, u.event_id, u.event_type, u.data, u.metadata
          from unnest(p_event_ids, p_event_types, p_data, p_metadata)
               with ordinality as u(event_id, event_type, data, metadata, ord)
         order by u.ord
        on conflict on constraint events_event_id_unique do nothing
        returning events.position, events.revision
    )
    select array_agg(i.position order by i.revision) into v_positions from inserted i;

    if coalesce(cardinality(v_positions), 0) = 0 then
        -- Every id was taken: a retry (with Any) or a conflict.
        return query select * from eventstore_earlier_append(p_stream_id, p_event_ids, p_event_types, p_data, v_last);
        return;
    elsif cardinality(v_positions) < v_count then
        -- Some ids were taken, some not: roll back what was inserted.
        raise exception 'event id conflict in an append to %', p_stream_id
            using errcode = 'unique_violation', constraint = 'events_event_id_unique';
    end if;

    if v_soft_deleted then
        update streams s set soft_deleted = false where s.stream_id = p_stream_id;
    end if;

    return query select 'ok'::text, v_last + v_count, pg_current_xact_id()::text, v_positions;
end;
$$;

-- Takes the locks of many streams, in one order for everyone (so two batches cannot deadlock),
-- before the transaction's first write; false if the transaction has written already.
create function eventstore_lock_streams(p_stream_ids text[])
returns boolean
language plpgsql
as $$
begin
    if pg_current_xact_id_if_assigned() is not null then
        return false;
    end if;
    perform pg_advisory_xact_lock(k.key)
       from (select distinct hashtextextended(s, 0) as key from unnest(p_stream_ids) s order by 1) k;
    return true;
end;
$$;

-- The result of an earlier append of exactly these events to this stream (same ids, types and data,
-- consecutive revisions), as 'duplicate'; otherwise 'event_id_conflict' if any id is taken, or
-- 'wrong_expected_version' with the stream's actual revision.
create function eventstore_earlier_append(
    p_stream_id text, p_event_ids uuid[], p_event_types text[], p_data jsonb[], p_actual bigint
)
returns table (outcome text, stream_revision bigint, transaction_id text, positions bigint[])
language sql
stable
as $$
    with earlier as (
        select e.stream_id = p_stream_id and e.event_type = u.event_type and e.data = u.data as same,
               e.revision - u.ord as offset_, e.revision, e.position, e.tx_id
          from unnest(p_event_ids, p_event_types, p_data) with ordinality as u(event_id, event_type, data, ord)
          join events e on e.event_id = u.event_id
    ),
    summary as (
        select count(*) as found, bool_and(same) as all_same, min(offset_) as min_offset, max(offset_) as max_offset,
               min(tx_id)::text as tx_id, array_agg(position order by revision) as positions
          from earlier
    )
    select case
               when found = cardinality(p_event_ids) and all_same and min_offset = max_offset then 'duplicate'
               when found > 0 then 'event_id_conflict'
               else 'wrong_expected_version'
           end,
           case
               when found = cardinality(p_event_ids) and all_same and min_offset = max_offset
                   then max_offset + cardinality(p_event_ids)
               else p_actual
           end,
           tx_id,
           positions
      from summary
$$;
