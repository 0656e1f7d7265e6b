//! Bearer tokens: who is calling and in which role. In development (`CASELEDGER_DEV_JWT_SECRET`
//! set) HS256 tokens signed with that secret, issuer `caseledger-dev`, audience `caseledger`.

use caseledger_cases::values::ShortText;
use caseledger_cases::{Actor, Role};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

pub const DEV_ISSUER: &str = "caseledger-dev";
pub const AUDIENCE: &str = "caseledger";

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: String,
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

/// Checks bearer tokens.
#[derive(Clone)]
pub struct Authenticator {
    dev: Option<(DecodingKey, Validation)>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("development", &self.dev.is_some())
            .finish()
    }
}

impl Authenticator {
    /// Development mode when `dev_secret` is given; otherwise no token is accepted yet.
    pub fn new(dev_secret: Option<&str>) -> Self {
        let dev = dev_secret.map(|secret| {
            let mut validation = Validation::new(Algorithm::HS256);
            validation.set_issuer(&[DEV_ISSUER]);
            validation.set_audience(&[AUDIENCE]);
            validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
            (DecodingKey::from_secret(secret.as_bytes()), validation)
        });
        Self { dev }
    }

    pub fn development_mode(&self) -> bool {
        self.dev.is_some()
    }

    /// The caller named by an `Authorization` header value.
    pub fn caller(&self, authorization: Option<&str>) -> Caller {
        let Some(header) = authorization else {
            return Caller::Anonymous;
        };
        let Some(token) = header.strip_prefix("Bearer ").map(str::trim) else {
            return Caller::Rejected("the Authorization header must be `Bearer <token>`".into());
        };
        let Some((key, validation)) = &self.dev else {
            return Caller::Rejected("no token issuer is configured".into());
        };
        match jsonwebtoken::decode::<Claims>(token, key, validation) {
            Ok(data) => actor_of(&data.claims).map_or_else(Caller::Rejected, Caller::Authenticated),
            Err(error) => Caller::Rejected(format!("invalid token: {error}")),
        }
    }
}

fn actor_of(claims: &Claims) -> Result<Actor, String> {
    let role = Role::parse(&claims.role).ok_or_else(|| format!("unknown role {:?}", claims.role))?;
    let id = ShortText::parse(&claims.sub).map_err(|e| format!("sub: {e}"))?;
    Ok(Actor::new(id, role))
}

/// A development token, as `caseledger token` prints it.
pub fn dev_token(secret: &str, role: Role, sub: &str, minutes: u64) -> Result<String, jsonwebtoken::errors::Error> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let claims = Claims {
        sub: sub.to_string(),
        role: role.as_str().to_string(),
        name: Some(sub.to_string()),
        iss: DEV_ISSUER.to_string(),
        aud: AUDIENCE.to_string(),
        exp: now + minutes * 60,
        iat: now,
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
}
