-- Crypto-shredding (issue 13): personal fields of events are sealed under a data key per scope
-- (a case); each data key is stored wrapped by the key-encryption key (KEK) from configuration,
-- which never reaches the database. Erasing a scope destroys its wrapped keys: the sealed fields
-- can no longer be opened by anyone, while the events and every other fact stay.
create table data_keys (
    key_id      uuid primary key,
    scope       text not null,
    -- nonce || AES-256-GCM(KEK, data key) || tag; null once destroyed
    wrapped     bytea,
    created_at  timestamptz not null default now(),
    erased_at   timestamptz,
    check ((wrapped is null) = (erased_at is not null))
);
-- One live key per scope; destroyed keys stay as the record that the scope was erased.
create unique index data_keys_live on data_keys (scope) where wrapped is not null;

-- A value sealed by the KEK when the database first met one: a different KEK cannot open it, so
-- a wrong or lost key is refused at startup instead of failing on the first read.
create table kek_check (
    id      boolean primary key default true check (id),
    sealed  bytea not null,
    created_at timestamptz not null default now()
);

-- A DHU report's detail and the ICB's reason for dismissing one are sealed too (under the report's
-- own key, destroyed with the case opened from it). The view keeps the values as stored, with
-- the events they came from, and they are opened when shown: emptied here, rebuilt from the log.
truncate dhu_report_view;
alter table dhu_report_view
    alter column detail type jsonb using null,
    alter column dismissed_reason type jsonb using null,
    add column filed_event uuid,
    add column triaged_event uuid;
delete from subscription_checkpoints where subscriber = 'dhu_report_view';
