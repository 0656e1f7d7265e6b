-- A web session also ends when it has not been used for a while (the idle timeout), not only a
-- working day after sign-in.
alter table web_sessions add column last_seen_at timestamptz not null default now();
create index web_sessions_last_seen on web_sessions (last_seen_at);
-- Pending OIDC sign-ins are swept by age when new ones start.
create index web_logins_created on web_logins (created_at);
