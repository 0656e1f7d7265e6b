-- Email notifications (issue 16). Who wants which, by email: each person sets their own address
-- and the kinds they turn off. The outbox records every notification once (its key says what it
-- is about), so a restart or a second instance never sends one twice; a failed send is retried.
create table people (
    person_id   text primary key,
    role        text not null,
    email       text,
    muted       text[] not null default '{}',
    updated_at  timestamptz not null default now()
);

create table notifications (
    key              text primary key,
    person_id        text not null,
    kind             text not null,
    email            text not null,
    subject          text not null,
    body             text not null,
    created_at       timestamptz not null default now(),
    sent_at          timestamptz,
    attempts         integer not null default 0,
    next_attempt_at  timestamptz not null default now(),
    last_error       text
);
create index notifications_unsent on notifications (next_attempt_at) where sent_at is null;
