-- case_view keeps when the practice was first supported in the case's current episode (a
-- contact, guidance, a root cause, a remap or GP Connect re-enabled): the LMC's figures come from
-- it, over every case. Read models are disposable: emptied, its checkpoint removed, rebuilt from
-- the log at next start.
truncate case_view;
delete from subscription_checkpoints where subscriber = 'case_view';
alter table case_view add column first_support_at timestamptz;

-- And what its visible slots are from: the latest evidence by business time (the flag, a
-- dashboard row, the DHU's confirmation, a GP Connect search, the ICB's confirmation, a reopen).
alter table case_view
    add column visible_slots_source text,
    add column visible_slots_at     timestamptz;
