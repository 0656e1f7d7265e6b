-- The files NHS England publishes about this ICB's practices, as last imported: the facts the
-- register's entries are composed from (`caseledger import-ods`, `import-list-sizes`,
-- `import-pcns`). Written only by those imports, in the transaction that records the register's
-- events; the events hold what took effect.

-- ODS's epraccur.csv: this ICB's GP practices (prescribing setting 4), the whole file each time.
create table ods_practices (
    ods_code    text primary key,
    name        text not null,
    -- the OdsDetails: address, postcode, telephone, open and close dates, status, commissioner
    details     jsonb not null
);

-- "Patients Registered at a GP Practice": each practice's latest list size.
create table ods_list_sizes (
    ods_code      text primary key,
    extract_date  date not null,
    patients      integer not null check (patients >= 0)
);

-- ODS's ePCN release: this ICB's practices' PCN memberships, the whole release each time.
create table ods_pcn_members (
    ods_code    text not null,
    -- the PcnMember: PCN code and name, joined and left dates
    membership  jsonb not null
);
create index ods_pcn_members_practice on ods_pcn_members (ods_code);

-- practice_view shows what ODS publishes of a practice (its address and telephone for the
-- champion, when it opened and closed) and the date of its published list size. Read models are
-- disposable: emptied, its checkpoint removed, rebuilt from the log at next start.
truncate practice_view;
delete from subscription_checkpoints where subscriber = 'practice_view';
alter table practice_view
    add column address         text[] not null default '{}',
    add column postcode        text,
    add column telephone       text,
    add column opened          date,
    add column closed_on       date,
    add column ods_status      text,
    add column list_size_date  date;
