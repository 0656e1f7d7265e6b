-- Which cases and practices each commit of the `figures` projection rewrote, in commit order (the
-- projection is one writer at a time). A service holds the figures' rows in memory and, before it
-- answers a summary, reads the rows of only what changed since it last looked (figures/held.rs).
-- The last 100,000 changes are kept; a reader further behind, or one that finds the table rebuilt
-- (a new table, so a new oid), loads every row again. It replaces figures_version, which stays
-- (unread) while instances of the previous version may still run during a rolling deploy.
create table figures_changes (
    seq      bigint generated always as identity primary key,
    case_id  uuid,
    ods_code text,
    constraint figures_changes_one check ((case_id is null) <> (ods_code is null))
);
