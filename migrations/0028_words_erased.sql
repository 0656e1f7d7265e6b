-- When the words about a diversion or a Directory of Services gap were erased (issue 26): the
-- retention period passes them by afterwards.
alter table diversion_view add column words_erased_at timestamptz;
alter table dos_gap_view add column words_erased_at timestamptz;
alter table diversion_view add column cancelled_at timestamptz;
