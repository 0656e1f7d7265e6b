//! Bearer tokens: who is calling and in which role.
//!
//! Production: RS256/ES256 tokens from an OIDC issuer (NHS CIS2 in the NHS), checked against the
//! keys its discovery document's `jwks_uri` publishes, cached by `kid` and fetched again when a
//! token names a key not seen yet; issuer, audience, expiry and the configured role claim are
//! checked. Development (`CASELEDGER_DEV_JWT_SECRET` set): HS256 tokens signed with that secret,
//! issuer `caseledger-dev`, audience `caseledger`. The token's `alg` decides which of the two may
//! check it, so a token signed with HS256 using a public key as the secret (algorithm confusion)
//! never meets the public key, and `none` is refused outright.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use caseledger_cases::role::Scope;
pub use caseledger_cases::role::{OidcConfig, RoleNames, role_from_claims};
use caseledger_cases::values::ShortText;
use caseledger_cases::{Actor, Role};
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet, KeyAlgorithm, KeyOperations, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::{Mutex, RwLock};

pub const DEV_ISSUER: &str = "caseledger-dev";
pub const AUDIENCE: &str = "caseledger";

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: String,
    /// The organisation a practice or PCN role works for: the practice's ODS code, the PCN's code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub iss: String,
    pub aud: String,
    pub exp: u64,
    #[serde(default)]
    pub iat: u64,
}

/// The caller, as far as its token says.
#[derive(Debug, Clone)]
pub enum Caller {
    Anonymous,
    Rejected(String),
    Authenticated(Actor),
}

struct Oidc {
    config: OidcConfig,
    keys: RwLock<HashMap<String, (DecodingKey, Algorithm)>>,
    last_fetch: Mutex<Option<Instant>>,
}

/// How long a caller's standing in the directory of people is trusted before it is read again:
/// a person an admin deactivates is refused within this time.
const SIGHTING_TTL: Duration = Duration::from_secs(60);

/// The directory of people, told of each caller: added on first sight, their role kept to the
/// token's; a deactivated person's tokens are refused.
struct Sightings {
    pool: sqlx::PgPool,
    seen: std::sync::Mutex<HashMap<(String, Role), Instant>>,
}

impl Sightings {
    async fn sighted(&self, actor: &Actor) -> Result<(), String> {
        let key = (actor.id.as_str().to_string(), actor.role);
        let fresh =
            |seen: &HashMap<(String, Role), Instant>| seen.get(&key).is_some_and(|at| at.elapsed() < SIGHTING_TTL);
        if fresh(&self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner)) {
            return Ok(());
        }
        let signed = caseledger_commands::people::SignIn::default();
        match caseledger_commands::people::signed_in(
            &self.pool,
            actor.id.as_str(),
            actor.role,
            &signed,
            caseledger_clock::now(),
        )
        .await
        {
            Ok(_) => {
                let mut seen = self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                if seen.len() > 100_000 {
                    seen.clear();
                }
                seen.insert(key, Instant::now());
                Ok(())
            }
            Err(caseledger_commands::people::PeopleError::Deactivated { .. }) => {
                Err(format!("{} has been deactivated in CaseLedger", actor.id))
            }
            Err(error) => {
                tracing::error!(%error, "the directory of people could not be read");
                Err("the directory of people could not be read: try again".to_string())
            }
        }
    }
}

/// Checks bearer tokens.
#[derive(Clone)]
pub struct Authenticator {
    dev: Option<(DecodingKey, Validation)>,
    oidc: Option<Arc<Oidc>>,
    directory: Option<Arc<Sightings>>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("development", &self.dev.is_some())
            .field("issuer", &self.oidc.as_ref().map(|o| o.config.issuer.clone()))
            .finish()
    }
}

impl Authenticator {
    /// Development mode when `dev_secret` is given; add an issuer with [`Authenticator::with_oidc`].
    pub fn new(dev_secret: Option<&str>) -> Self {
        let dev = dev_secret.map(|secret| {
            let mut validation = Validation::new(Algorithm::HS256);
            validation.set_issuer(&[DEV_ISSUER]);
            validation.set_audience(&[AUDIENCE]);
            validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
            // A token not valid yet is refused here as from the issuer (an `nbf` in the future).
            validation.validate_nbf = true;
            (DecodingKey::from_secret(secret.as_bytes()), validation)
        });
        Self {
            dev,
            oidc: None,
            directory: None,
        }
    }

    pub fn with_oidc(mut self, config: OidcConfig) -> Self {
        self.oidc = Some(Arc::new(Oidc {
            config,
            keys: RwLock::default(),
            last_fetch: Mutex::default(),
        }));
        self
    }

    /// Tells the directory of people of each caller (see [`Sightings`]).
    pub fn with_directory(mut self, pool: sqlx::PgPool) -> Self {
        self.directory = Some(Arc::new(Sightings {
            pool,
            seen: std::sync::Mutex::default(),
        }));
        self
    }

    pub fn development_mode(&self) -> bool {
        self.dev.is_some()
    }

    /// The caller named by an `Authorization` header value.
    pub async fn caller(&self, authorization: Option<&str>) -> Caller {
        self.caller_until(authorization).await.0
    }

    /// The caller, and when its token expires (UNIX seconds) if it is authenticated.
    pub async fn caller_until(&self, authorization: Option<&str>) -> (Caller, Option<u64>) {
        let Some(header) = authorization else {
            return (Caller::Anonymous, None);
        };
        let started = std::time::Instant::now();
        let caller = self.bearer(header).await;
        caseledger_eventstore::stage::record("token", started);
        caller
    }

    /// The caller an `Authorization` header's value names.
    async fn bearer(&self, header: &str) -> (Caller, Option<u64>) {
        let Some(token) = header.strip_prefix("Bearer ").map(str::trim) else {
            return (
                Caller::Rejected("the Authorization header must be `Bearer <token>`".into()),
                None,
            );
        };
        let result = match jsonwebtoken::decode_header(token) {
            Err(error) => Err(format!("invalid token: {error}")),
            Ok(header) => match (header.alg, &self.dev, &self.oidc) {
                (Algorithm::HS256, Some((key, validation)), _) => {
                    check(token, key, validation, "role", RoleNames::CaseLedger)
                }
                (Algorithm::HS256, None, _) => Err("HS256 tokens are accepted only in development mode".into()),
                (Algorithm::RS256 | Algorithm::ES256, _, Some(oidc)) => oidc.check(token, header).await,
                (Algorithm::RS256 | Algorithm::ES256, _, None) => Err("no token issuer is configured".into()),
                (alg, _, _) => Err(format!("tokens signed with {alg:?} are not accepted")),
            },
        };
        if let (Ok((actor, _)), Some(directory)) = (&result, &self.directory)
            && let Err(reason) = directory.sighted(actor).await
        {
            return (Caller::Rejected(reason), None);
        }
        match result {
            Ok((actor, expires)) => (Caller::Authenticated(actor), Some(expires)),
            Err(reason) => (Caller::Rejected(reason), None),
        }
    }
}

impl Oidc {
    async fn check(&self, token: &str, header: Header) -> Result<(Actor, u64), String> {
        let kid = header.kid.ok_or("the token names no key (kid)")?;
        let key = match self.key(&kid, header.alg).await {
            Some(key) => key,
            None => {
                self.refresh().await?;
                self.key(&kid, header.alg)
                    .await
                    .ok_or_else(|| format!("unknown key {kid:?} for {:?}", header.alg))?
            }
        };
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_audience(&[&self.config.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        check(
            token,
            &key,
            &validation,
            &self.config.role_claim,
            RoleNames::Mapped(&self.config.role_map),
        )
    }

    async fn key(&self, kid: &str, alg: Algorithm) -> Option<DecodingKey> {
        let keys = self.keys.read().await;
        keys.get(kid)
            .filter(|(_, key_alg)| *key_alg == alg)
            .map(|(key, _)| key.clone())
    }

    /// Fetches the issuer's keys again, unless that was done within the refetch interval.
    async fn refresh(&self) -> Result<(), String> {
        let mut last_fetch = self.last_fetch.lock().await;
        if last_fetch.is_some_and(|at| at.elapsed() < self.config.refetch_interval) {
            return Ok(());
        }
        *last_fetch = Some(Instant::now());
        let issuer = self.config.issuer.clone();
        let set = tokio::task::spawn_blocking(move || fetch_keys(&issuer))
            .await
            .map_err(|e| format!("fetching the issuer's keys: {e}"))??;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            // Only keys published for verifying signatures (`use: sig`, or `key_ops` with `verify`).
            let for_signatures = jwk
                .common
                .public_key_use
                .as_ref()
                .is_none_or(|used| *used == PublicKeyUse::Signature)
                && jwk
                    .common
                    .key_operations
                    .as_ref()
                    .is_none_or(|ops| ops.contains(&KeyOperations::Verify));
            if !for_signatures {
                continue;
            }
            let alg = match (&jwk.algorithm, jwk.common.key_algorithm) {
                (AlgorithmParameters::RSA(_), None | Some(KeyAlgorithm::RS256)) => Algorithm::RS256,
                (AlgorithmParameters::EllipticCurve(ec), None | Some(KeyAlgorithm::ES256))
                    if ec.curve == EllipticCurve::P256 =>
                {
                    Algorithm::ES256
                }
                _ => continue,
            };
            let (Some(kid), Ok(key)) = (jwk.common.key_id.clone(), DecodingKey::from_jwk(jwk)) else {
                continue;
            };
            keys.insert(kid, (key, alg));
        }
        tracing::info!(issuer = %self.config.issuer, keys = keys.len(), "fetched the issuer's signing keys");
        *self.keys.write().await = keys;
        Ok(())
    }
}

fn fetch_keys(issuer: &str) -> Result<JwkSet, String> {
    let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(10)).build();
    let discovery = format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'));
    let document: Value = agent
        .get(&discovery)
        .call()
        .map_err(|e| format!("{discovery}: {e}"))?
        .into_json()
        .map_err(|e| format!("{discovery}: {e}"))?;
    let jwks_uri = document["jwks_uri"]
        .as_str()
        .ok_or_else(|| format!("{discovery} has no jwks_uri"))?;
    agent
        .get(jwks_uri)
        .call()
        .map_err(|e| format!("{jwks_uri}: {e}"))?
        .into_json()
        .map_err(|e| format!("{jwks_uri}: {e}"))
}

/// Verifies `token` and reads the actor (`sub`, and the role from `role_claim`) and its expiry.
fn check(
    token: &str,
    key: &DecodingKey,
    validation: &Validation,
    role_claim: &str,
    names: RoleNames<'_>,
) -> Result<(Actor, u64), String> {
    let claims = jsonwebtoken::decode::<Map<String, Value>>(token, key, validation)
        .map_err(|e| format!("invalid token: {e}"))?
        .claims;
    let role = role_from_claims(&claims, role_claim, names)
        .ok_or_else(|| format!("the token carries no CaseLedger role in {role_claim:?}"))?;
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .ok_or("the token has no sub")?;
    let id = ShortText::parse(sub).map_err(|e| format!("sub: {e}"))?;
    let expires = claims
        .get("exp")
        .and_then(Value::as_u64)
        .ok_or("the token has no exp")?;
    Ok((Actor::scoped(id, role, scope_from_claims(&claims, role)?), expires))
}

/// The organisation a practice or PCN role's token names in `org` (none for the other roles): a
/// scoped role without a well-formed code is refused, never read as unscoped.
fn scope_from_claims(claims: &Map<String, Value>, role: Role) -> Result<Option<Scope>, String> {
    if role.scoped_to().is_none() {
        return Ok(None);
    }
    let org = claims
        .get(ORG_CLAIM)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("the {role} role needs its organisation's code in {ORG_CLAIM:?}"))?;
    Scope::for_role(role, org).map_err(|e| format!("{ORG_CLAIM}: {e}"))
}

/// The claim naming a scoped role's organisation.
pub const ORG_CLAIM: &str = "org";

/// A development token valid for `seconds`, as `caseledger token` prints it.
pub fn dev_token(secret: &str, role: Role, sub: &str, seconds: u64) -> Result<String, jsonwebtoken::errors::Error> {
    dev_token_for(secret, role, sub, None, seconds)
}

/// A development token of a role scoped to organisation `org` (a practice's ODS code, a PCN's
/// code), valid for `seconds`.
pub fn dev_token_for(
    secret: &str,
    role: Role,
    sub: &str,
    org: Option<&str>,
    seconds: u64,
) -> Result<String, jsonwebtoken::errors::Error> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let claims = Claims {
        sub: sub.to_string(),
        role: role.as_str().to_string(),
        org: org.map(str::to_string),
        name: Some(sub.to_string()),
        iss: DEV_ISSUER.to_string(),
        aud: AUDIENCE.to_string(),
        exp: now + seconds,
        iat: now,
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
}
