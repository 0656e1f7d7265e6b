-- Who a person is in the NHS, as CIS2 says at their sign-in: the organisation of the role they
-- selected (its ODS code and name) and that role, kept in the directory of people.
alter table people
    add column org_code      text,
    add column org_name      text,
    add column job_role      text,
    add column signed_in_at  timestamptz;
