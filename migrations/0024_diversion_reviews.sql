-- Diversion reviews (issue 26): a practice past the threshold of diversions gets a review, for
-- support first; one row per review, with the support given and how it closed.
create table diversion_review_view (
    review_id         uuid primary key,
    ods_code          text not null,
    opened_at         timestamptz not null,
    notices           integer not null,
    core_minutes      bigint not null,
    window_since      timestamptz not null,
    support_count     integer not null default 0,
    support_kinds     text[] not null default '{}',
    first_support_at  timestamptz,
    last_support_at   timestamptz,
    closed_at         timestamptz,
    outcome           text constraint diversion_review_outcome
                          check (outcome in ('resolved', 'ongoing_support', 'no_action_needed')),
    -- The ICB's note on closing, as stored (sealed under the review's key when the vault is on).
    close_note        jsonb,
    closed_event      uuid
);
create index diversion_review_view_practice on diversion_review_view (ods_code, opened_at desc);
create index diversion_review_view_open on diversion_review_view (opened_at) where closed_at is null;
