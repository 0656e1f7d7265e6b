//! Sessions of the web pages, kept in PostgreSQL. The cookie carries a random 256-bit secret;
//! the table keeps only its SHA-256, with the actor, the role and the session's CSRF token.

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

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "caseledger_session";
/// The cookie that carries the sign-in form's CSRF token before there is a session.
pub const PRE_SESSION_COOKIE: &str = "caseledger_signin";
/// How long a session lasts from sign-in (a working day).
pub const SESSION_LIFETIME: Duration = Duration::from_secs(10 * 60 * 60);

/// A signed-in person.
#[derive(Debug, Clone)]
pub struct Session {
    pub actor: Actor,
    /// Every form of this session carries it; a POST without it is refused.
    pub csrf: String,
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

/// The value of cookie `name` in the request, if any.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
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
pub fn set_cookie(name: &str, value: &str, max_age: Option<Duration>, secure: bool) -> String {
    let mut cookie = Cookie::build((name.to_string(), value.to_string()))
        .http_only(true)
        .same_site(SameSite::Lax)
        .path("/")
        .secure(secure);
    if let Some(max_age) = max_age {
        let seconds = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
        cookie = cookie.max_age(cookie::time::Duration::seconds(seconds));
    }
    cookie.build().to_string()
}

/// A `Set-Cookie` value that removes cookie `name`.
pub fn clear_cookie(name: &str, secure: bool) -> String {
    set_cookie(name, "", Some(Duration::ZERO), secure)
}

/// Starts a session for `actor`; the cookie's secret is returned, and only its hash is stored.
pub async fn start(pool: &PgPool, actor: &Actor) -> Result<String, sqlx::Error> {
    let secret = random_token();
    let lifetime = i64::try_from(SESSION_LIFETIME.as_secs()).unwrap_or(i64::MAX);
    sqlx::query(
        "insert into web_sessions (secret_hash, actor_id, role, csrf_token, expires_at)
         values ($1, $2, $3, $4, now() + make_interval(secs => $5))",
    )
    .bind(hash(&secret))
    .bind(actor.id.as_str())
    .bind(actor.role.as_str())
    .bind(random_token())
    .bind(lifetime as f64)
    .execute(pool)
    .await?;
    // Sessions that ran out go when new ones come.
    sqlx::query("delete from web_sessions where expires_at < now()")
        .execute(pool)
        .await?;
    Ok(secret)
}

/// The live session whose secret the request's cookie carries.
pub async fn load(pool: &PgPool, headers: &HeaderMap) -> Result<Option<Session>, sqlx::Error> {
    let Some(secret) = cookie_value(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let row: Option<(String, String, String)> = sqlx::query_as(
        "select actor_id, role, csrf_token from web_sessions where secret_hash = $1 and expires_at > now()",
    )
    .bind(hash(&secret))
    .fetch_optional(pool)
    .await?;
    Ok(row.and_then(|(id, role, csrf)| {
        let actor = Actor::new(ShortText::parse(&id).ok()?, Role::parse(&role)?);
        Some(Session { actor, csrf })
    }))
}

/// Ends the session whose secret the request's cookie carries.
pub async fn end(pool: &PgPool, headers: &HeaderMap) -> Result<(), sqlx::Error> {
    if let Some(secret) = cookie_value(headers, SESSION_COOKIE) {
        sqlx::query("delete from web_sessions where secret_hash = $1")
            .bind(hash(&secret))
            .execute(pool)
            .await?;
    }
    Ok(())
}
