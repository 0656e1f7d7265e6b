//! Sessions of the web pages, kept in PostgreSQL. The cookie carries a random 256-bit secret;
//! the table keeps only its SHA-256, with the actor, the role and the session's CSRF token. A
//! session ends a working day after sign-in, or sooner when it has not been used for a while.
//!
//! Outside development the cookies are `Secure` and carry the `__Host-` prefix, so a browser
//! accepts them only from this origin over HTTPS, for the whole site, and no subdomain can set
//! or overwrite them.

use std::time::Duration;

use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use caseledger_cases::values::ShortText;
use caseledger_cases::{Actor, Role};
use cookie::{Cookie, SameSite};
use sha2::{Digest, Sha256};
use sqlx::PgPool;

/// The session cookie's name (before any prefix).
pub const SESSION_COOKIE: &str = "caseledger_session";
/// The cookie that carries the sign-in form's CSRF token before there is a session.
pub const PRE_SESSION_COOKIE: &str = "caseledger_signin";
/// The cookie that binds an OIDC sign-in's `state` to the browser that started it.
#[cfg(feature = "sign-in")]
pub const LOGIN_COOKIE: &str = "caseledger_login";
/// How long a session lasts from sign-in (a working day).
pub const SESSION_LIFETIME: Duration = Duration::from_secs(10 * 60 * 60);
/// A session's last use is written again only when it is older than this, so reading pages does
/// not write a row each time.
const TOUCH_EVERY_SECONDS: f64 = 60.0;

/// A signed-in person.
#[derive(Debug, Clone)]
pub struct Session {
    pub actor: Actor,
    /// Every form of this session carries it; a POST without it is refused.
    pub csrf: String,
}

/// The cookies' settings: `Secure` and `__Host-` outside development.
#[derive(Debug, Clone, Copy)]
pub struct Cookies {
    pub secure: bool,
}

impl Cookies {
    /// The cookie's name as sent: `__Host-<name>` when secure.
    pub fn name(&self, name: &str) -> String {
        if self.secure {
            format!("__Host-{name}")
        } else {
            name.to_string()
        }
    }

    /// The value of cookie `name` in the request, if any.
    pub fn get(&self, headers: &HeaderMap, name: &str) -> Option<String> {
        let name = self.name(name);
        headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(Cookie::split_parse)
            .filter_map(Result::ok)
            .find(|cookie| cookie.name() == name)
            .map(|cookie| cookie.value().to_string())
    }

    /// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Path=/, Secure unless in development.
    pub fn set(&self, name: &str, value: &str, max_age: Option<Duration>) -> String {
        let mut cookie = Cookie::build((self.name(name), value.to_string()))
            .http_only(true)
            .same_site(SameSite::Lax)
            .path("/")
            .secure(self.secure);
        if let Some(max_age) = max_age {
            let seconds = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
            cookie = cookie.max_age(cookie::time::Duration::seconds(seconds));
        }
        cookie.build().to_string()
    }

    /// A `Set-Cookie` value that removes cookie `name`.
    pub fn clear(&self, name: &str) -> String {
        self.set(name, "", Some(Duration::ZERO))
    }
}

/// 32 random bytes, URL-safe base64.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    // The operating system's generator; without it nothing here can be made safely.
    getrandom::getrandom(&mut bytes).expect("the operating system's random number generator failed");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Equal strings, compared in time that does not depend on where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    let (a, b) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// The sessions: where they live, their cookies, and how long one may sit unused.
#[derive(Debug, Clone)]
pub struct Sessions {
    pub pool: PgPool,
    pub cookies: Cookies,
    pub idle: Duration,
}

impl Sessions {
    /// Starts a session for `actor`; the cookie's secret is returned, and only its hash is stored.
    pub async fn start(&self, actor: &Actor) -> Result<String, sqlx::Error> {
        let secret = random_token();
        let lifetime = i64::try_from(SESSION_LIFETIME.as_secs()).unwrap_or(i64::MAX);
        sqlx::query(
            "insert into web_sessions (secret_hash, actor_id, role, csrf_token, expires_at, scope_code)
             values ($1, $2, $3, $4, now() + make_interval(secs => $5), $6)",
        )
        .bind(hash(&secret))
        .bind(actor.id.as_str())
        .bind(actor.role.as_str())
        .bind(random_token())
        .bind(lifetime as f64)
        .bind(actor.scope.as_ref().map(|scope| scope.code().to_string()))
        .execute(&self.pool)
        .await?;
        // Sessions that ran out, or sat unused too long, go when new ones come.
        sqlx::query(
            "delete from web_sessions where expires_at < now() or last_seen_at < now() - make_interval(secs => $1)",
        )
        .bind(self.idle.as_secs_f64())
        .execute(&self.pool)
        .await?;
        Ok(secret)
    }

    /// The live session whose secret the request's cookie carries; using it keeps it alive.
    pub async fn load(&self, headers: &HeaderMap) -> Result<Option<Session>, sqlx::Error> {
        let Some(secret) = self.cookies.get(headers, SESSION_COOKIE) else {
            return Ok(None);
        };
        let row: Option<(String, String, String, f64, Option<String>)> = sqlx::query_as(
            "select actor_id, role, csrf_token, extract(epoch from now() - last_seen_at)::float8, scope_code
               from web_sessions
              where secret_hash = $1 and expires_at > now() and last_seen_at > now() - make_interval(secs => $2)",
        )
        .bind(hash(&secret))
        .bind(self.idle.as_secs_f64())
        .fetch_optional(&self.pool)
        .await?;
        let Some((id, role, csrf, idle_seconds, scope)) = row else {
            return Ok(None);
        };
        if idle_seconds > TOUCH_EVERY_SECONDS {
            sqlx::query("update web_sessions set last_seen_at = now() where secret_hash = $1")
                .bind(hash(&secret))
                .execute(&self.pool)
                .await?;
        }
        let (Ok(id), Some(role)) = (ShortText::parse(&id), Role::parse(&role)) else {
            return Ok(None);
        };
        // A scoped role's session without a well-formed organisation is no session at all.
        let scope = match (role.scoped_to(), scope) {
            (None, _) => None,
            (Some(_), Some(code)) => match caseledger_cases::role::Scope::for_role(role, &code) {
                Ok(scope) => scope,
                Err(_) => return Ok(None),
            },
            (Some(_), None) => return Ok(None),
        };
        Ok(Some(Session {
            actor: Actor::scoped(id, role, scope),
            csrf,
        }))
    }

    /// Ends the session whose secret the request's cookie carries.
    pub async fn end(&self, headers: &HeaderMap) -> Result<(), sqlx::Error> {
        if let Some(secret) = self.cookies.get(headers, SESSION_COOKIE) {
            sqlx::query("delete from web_sessions where secret_hash = $1")
                .bind(hash(&secret))
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }
}
