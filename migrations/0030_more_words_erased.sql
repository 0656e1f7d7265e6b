-- When the ICB's note on closing a diversion review, and a PCN's review note, were erased (issue
-- 26): the retention period passes them by afterwards.
alter table diversion_review_view add column words_erased_at timestamptz;
alter table pcn_review_notes add column words_erased_at timestamptz;
