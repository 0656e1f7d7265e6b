-- Appends whose revisions are known before they run (NoStream, Exact): a plain insert, where the
-- unique (stream_id, revision) index decides a lost race and the unique event_id an idempotent
-- retry. They hold the stream's advisory lock in shared mode, so they do not wait for each other,
-- while an append that must read the stream's revision first (Any, StreamExists) and a delete or
-- a metadata change still take it exclusively (see eventstore_append).

-- Whether a plain append may go ahead: the stream has no settings row (no soft delete, tombstone
-- or limits to honour) and the expected revision is the stream's (NULL: no events yet). Volatile,
-- so that it reads with a snapshot taken after the caller's lock, not the statement's.
create function eventstore_plain_append_ok(p_stream_id text, p_expected_revision bigint)
returns boolean
language sql
volatile
as $$
    select not exists (select 1 from streams s where s.stream_id = p_stream_id)
       and case
               when p_expected_revision is null
                   then not exists (select 1 from events e where e.stream_id = p_stream_id)
               else exists (select 1 from events e
                             where e.stream_id = p_stream_id and e.revision = p_expected_revision)
           end
$$;

-- Some of an append's ids were taken (another stream's events), some not: fail the statement, so
-- that none of it is written.
create function eventstore_partial_append(p_stream_id text)
returns boolean
language plpgsql
as $$
begin
    raise exception 'event id conflict in an append to %', p_stream_id
        using errcode = 'unique_violation', constraint = 'events_event_id_unique';
end;
$$;
