-- When each party last saw a case move, through its own lens (a party must not learn of events
-- hidden from it by watching one shared "last activity" time move).
--
-- Read models are disposable: this one is emptied and its checkpoint removed, so its runner
-- rebuilds it from the log at the next start.
truncate case_view;
delete from subscription_checkpoints where subscriber = 'case_view';
alter table case_view drop column last_event_at;
alter table case_view
    add column last_activity_icb       timestamptz not null,
    add column last_activity_champion  timestamptz not null,
    add column last_activity_dhu       timestamptz not null,
    add column last_activity_lmc       timestamptz not null;
