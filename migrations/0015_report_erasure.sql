-- A DHU report's personal data can be erased on its own (a report nobody opened a case from), and
-- the retention period covers dismissed reports: the view records when it was erased.
alter table dhu_report_view add column personal_data_erased_at timestamptz;
create index dhu_report_view_dismissed_with_personal_data
    on dhu_report_view (triaged_at)
    where status = 'dismissed' and personal_data_erased_at is null;
