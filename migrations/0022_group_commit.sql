-- Group commit (issue 28): the appends of many writers, to different streams, in one transaction
-- and one round trip, so that they share one commit.
--
-- Every stream's lock is taken first, in one order for everyone (eventstore_lock_streams), before
-- the transaction's first write, so global order still agrees with each stream's revisions. Each
-- append keeps its own outcome: a writer whose expected revision fails gets
-- 'wrong_expected_version' (or 'duplicate', for a retry) while the others commit. The passing
-- appends' events go in with one insert, as one append's do. Anything the set-wise path does not
-- answer raises and aborts the whole transaction (an event id already taken: a retry with `any`,
-- or a conflict); the caller then appends each alone, which answers it exactly.
--
-- The events of all appends come flattened, in order; p_counts says how many belong to each.
create function eventstore_append_many(
    p_stream_ids text[],
    p_expected_kinds text[],
    p_expected_revisions bigint[],
    p_counts int[],
    p_event_ids uuid[],
    p_event_types text[],
    p_data jsonb[],
    p_metadata jsonb[]
)
returns table (ordinal int, outcome text, stream_revision bigint, transaction_id text, positions bigint[])
language plpgsql
as $$
declare
    v_n int := coalesce(cardinality(p_stream_ids), 0);
    v_last bigint[];
    v_soft boolean[];
    v_tomb boolean[];
    v_ok boolean[];
    v_before int[];
    v_exists boolean;
    v_wanted int := 0;
    v_from int := 1;
    v_to int;
    v_streams text[];
    v_positions bigint[];
    v_revisions bigint[];
begin
    if not eventstore_lock_streams(p_stream_ids) then
        return query select 0, 'not_first_write'::text, -1::bigint, null::text, null::bigint[];
        return;
    end if;

    -- A stream named twice: append one after the other, each as it would alone.
    if (select count(distinct s) from unnest(p_stream_ids) s) < v_n then
        for i in 1 .. v_n loop
            v_to := v_from + p_counts[i] - 1;
            return query
                select i, a.outcome, a.stream_revision, a.transaction_id, a.positions
                  from eventstore_append(p_stream_ids[i], p_expected_kinds[i], p_expected_revisions[i],
                                         p_event_ids[v_from:v_to], p_event_types[v_from:v_to],
                                         p_data[v_from:v_to], p_metadata[v_from:v_to], true) a;
            v_from := v_to + 1;
        end loop;
        return;
    end if;

    -- Every stream's last revision and settings, in one read under the locks.
    select array_agg(coalesce(r.last, -1) order by u.i),
           array_agg(coalesce(st.soft_deleted, false) order by u.i),
           array_agg(coalesce(st.tombstoned, false) order by u.i)
      into v_last, v_soft, v_tomb
      from unnest(p_stream_ids) with ordinality u(s, i)
      left join lateral (select max(e.revision) as last from events e where e.stream_id = u.s) r on true
      left join streams st on st.stream_id = u.s;

    -- Which appends pass their checks, and where each one's events start.
    v_ok := array_fill(false, array[v_n]);
    v_before := array_fill(0, array[v_n]);
    for i in 1 .. v_n loop
        v_before[i] := v_from - 1;
        v_from := v_from + p_counts[i];
        v_exists := v_last[i] >= 0 and not v_soft[i];
        v_ok[i] := not v_tomb[i] and not (
               (p_expected_kinds[i] = 'no_stream' and v_exists)
            or (p_expected_kinds[i] = 'stream_exists' and not v_exists)
            or (p_expected_kinds[i] = 'exact' and p_expected_revisions[i] is distinct from v_last[i]));
        if v_ok[i] then
            v_wanted := v_wanted + p_counts[i];
        end if;
    end loop;

    -- The passing appends' events, in one insert, in the batch's order.
    with flat as (
        select a.i, g.j, v_before[a.i] + g.j as k
          from generate_series(1, v_n) a(i)
          cross join lateral generate_series(1, p_counts[a.i]) g(j)
         where v_ok[a.i]
    ),
    inserted as (
        insert into events (stream_id, revision, event_id, event_type, data, metadata)
        select p_stream_ids[f.i], v_last[f.i] + f.j, p_event_ids[f.k], p_event_types[f.k], p_data[f.k], p_metadata[f.k]
          from flat f
         order by f.k
        on conflict on constraint events_event_id_unique do nothing
        returning events.stream_id, events.position, events.revision
    )
    select array_agg(i.stream_id), array_agg(i.position), array_agg(i.revision)
      into v_streams, v_positions, v_revisions
      from inserted i;

    if coalesce(cardinality(v_positions), 0) < v_wanted then
        raise exception 'an event id of a group commit is taken'
            using errcode = 'unique_violation', constraint = 'events_event_id_unique';
    end if;

    update streams s set soft_deleted = false
      from generate_series(1, v_n) a(i)
     where v_ok[a.i] and v_soft[a.i] and s.stream_id = p_stream_ids[a.i];

    -- Every passing append's answer in one query; the others one by one (rare: a stale writer,
    -- a tombstoned stream, a retry).
    return query
        select a.i, 'ok'::text, v_last[a.i] + p_counts[a.i], pg_current_xact_id()::text, w.positions
          from generate_series(1, v_n) a(i)
          join (select u.stream_id, array_agg(u.position order by u.revision) as positions
                  from unnest(v_streams, v_positions, v_revisions) u(stream_id, position, revision)
                 group by u.stream_id) w on w.stream_id = p_stream_ids[a.i]
         where v_ok[a.i];
    for i in 1 .. v_n loop
        if v_ok[i] then
            continue;
        elsif v_tomb[i] then
            return query select i, 'stream_deleted'::text, v_last[i], null::text, null::bigint[];
        else
            -- A retry of an append that succeeded fails the check it once passed: answer it.
            v_from := v_before[i] + 1;
            v_to := v_before[i] + p_counts[i];
            return query
                select i, e.outcome, e.stream_revision, e.transaction_id, e.positions
                  from eventstore_earlier_append(p_stream_ids[i], p_event_ids[v_from:v_to],
                                                 p_event_types[v_from:v_to], p_data[v_from:v_to],
                                                 case when v_last[i] >= 0 and not v_soft[i] then v_last[i] else -1 end) e;
        end if;
    end loop;
end;
$$;
