-- Sessions of the web pages. The cookie holds a random secret; only its SHA-256 is stored, so a
-- copy of this table signs nobody in. Each session has its own CSRF token for its forms.
create table web_sessions (
    secret_hash  bytea primary key,
    actor_id     text not null,
    role         text not null,
    csrf_token   text not null,
    created_at   timestamptz not null default now(),
    expires_at   timestamptz not null
);
create index web_sessions_expiry on web_sessions (expires_at);

-- Sign-ins under way with the OIDC provider (authorisation code flow with PKCE), by `state`.
create table web_logins (
    state          text primary key,
    nonce          text not null,
    pkce_verifier  text not null,
    return_to      text not null default '/',
    created_at     timestamptz not null default now()
);
