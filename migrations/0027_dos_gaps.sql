-- Directory of Services gaps (issue 26): one row a gap, where it stands and when its stage began
-- (its deadline counts from there); the words as stored (sealed under the gap's key).
create table dos_gap_view (
    gap_id            uuid primary key,
    service_id        text not null,
    service_name      text not null,
    kind              text not null constraint dos_gap_kind
                          check (kind in ('hours', 'skill_or_capacity', 'wrong_details')),
    bit_at            timestamptz not null,
    ods_code          text,
    status            text not null constraint dos_gap_status
                          check (status in ('REPORTED', 'AWAITING_UPDATE', 'AWAITING_CONFIRMATION', 'CLOSED', 'DISMISSED')),
    reported_at       timestamptz not null,
    reported_event    uuid not null,
    detail            jsonb,
    stage_since       timestamptz not null,
    triaged_at        timestamptz,
    dismiss_reason    jsonb,
    triage_event      uuid,
    updated_at        timestamptz,
    update_summary    jsonb,
    update_event      uuid,
    persists_count    integer not null default 0,
    persist_detail    jsonb,
    persist_event     uuid,
    closed_at         timestamptz
);
create index dos_gap_view_service on dos_gap_view (service_id, reported_at desc);
create index dos_gap_view_open on dos_gap_view (reported_at desc) where status not in ('CLOSED', 'DISMISSED');
create index dos_gap_view_practice on dos_gap_view (ods_code) where ods_code is not null;
