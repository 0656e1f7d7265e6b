-- The bookkeeping an ICB signs off on: what each case needs to show a DHU shortfall, the current
-- requirement (it follows the list size), why it reopened, its contract reviews and where it
-- came from; and DHU reports on practices, with their triage.
--
-- case_view is emptied and its checkpoint removed: its runner rebuilds it from the log.
truncate case_view;
delete from subscription_checkpoints where subscriber = 'case_view';
alter table case_view
    add column last_remap_at        timestamptz,
    add column dhu_check_visible    integer,
    add column dhu_check_required   integer,
    add column dhu_check_at         timestamptz,
    -- the DHU's confirmation at or above the requirement, while it stands
    add column dhu_confirmed_at     timestamptz,
    add column reopen_cause         text,
    add column reviews              integer not null,
    add column review_open          boolean not null,
    add column flag_source          text not null,
    add column dhu_report_id        uuid,
    -- the report date of the observation (or flag, or reopen) that set list_size and required_slots
    add column requirement_date     date not null;
create index case_view_dhu_confirmed on case_view (dhu_confirmed_at) where dhu_confirmed_at is not null;

-- One row per DHU report on a practice with no open case, and what the ICB did with it.
create table dhu_report_view (
    report_id         uuid primary key,
    ods_code          text not null,
    category          text not null,
    detail            text,
    reported_at       timestamptz not null,
    reported_by       text not null,
    status            text not null constraint dhu_report_view_status check (status in ('new', 'case_opened', 'dismissed')),
    case_id           uuid,
    dismissed_reason  text,
    triaged_at        timestamptz,
    triaged_by        text
);
create index dhu_report_view_status on dhu_report_view (status, reported_at);
create index dhu_report_view_practice on dhu_report_view (ods_code, reported_at desc);
