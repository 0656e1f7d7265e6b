-- Diversions of a practice's phones to NHS 111 (issue 26): one row per notice, read by the
-- practice, its PCN's clinical director, the ICB and the parties that watch them. The practice's
-- detail is kept as stored (sealed under the diversion's key when the vault is on).
create table diversion_view (
    diversion_id      uuid primary key,
    ods_code          text not null,
    from_at           timestamptz not null,
    expected_until    timestamptz not null,
    ended_at          timestamptz,
    reason            text not null constraint diversion_view_reason
                          check (reason in ('telephony_failure', 'staff_shortage', 'premises', 'other')),
    detail            jsonb,
    notified_event    uuid not null,
    -- Business time: when the practice told. After from_at, the notice was late.
    notified_at       timestamptz not null,
    notified_by       text not null,
    notified_role     text not null,
    acknowledged_at   timestamptz,
    acknowledged_by   text
);
create index diversion_view_practice on diversion_view (ods_code, from_at desc);
create index diversion_view_from on diversion_view (from_at desc);
create index diversion_view_unacknowledged on diversion_view (notified_at) where acknowledged_at is null;

-- A practice manager's or a PCN clinical director's session is scoped to one organisation.
alter table web_sessions add column scope_code text;
