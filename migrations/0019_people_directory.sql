-- The directory of people (issue 24): a name, whether they are active (only an active champion may
-- be given a case; a deactivated person cannot sign in to the pages), the sign-in before the latest
-- (where "since your last visit" starts), and who added them ahead of their first sign-in.
alter table people
    add column name           text,
    add column active         boolean not null default true,
    add column last_visit_at  timestamptz,
    add column added_by       text,
    add column created_at     timestamptz not null default now();
create index people_role on people (role, active);

