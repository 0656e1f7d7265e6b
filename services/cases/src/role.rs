//! Who is acting: the five roles of DESIGN.md and an actor's id, and how an OIDC issuer's
//! tokens name those roles (read by the API's bearer tokens and the pages' sign-in alike).

use std::collections::HashMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::values::ShortText;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Icb,
    Lmc,
    Dhu,
    Champion,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Icb => "icb",
            Role::Lmc => "lmc",
            Role::Dhu => "dhu",
            Role::Champion => "champion",
            Role::Admin => "admin",
        }
    }

    pub fn parse(role: &str) -> Option<Role> {
        [Role::Icb, Role::Lmc, Role::Dhu, Role::Champion, Role::Admin]
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(role))
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A person or system acting in a role, e.g. `dc-amira` as a champion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub id: ShortText,
    pub role: Role,
}

impl Actor {
    pub fn new(id: ShortText, role: Role) -> Self {
        Self { id, role }
    }
}

/// How a token's role values are read.
#[derive(Debug, Clone, Copy)]
pub enum RoleNames<'a> {
    /// CaseLedger's own names (`icb`, `champion`, …): development tokens, which CaseLedger signs.
    CaseLedger,
    /// Only the names an issuer's role map lists.
    Mapped(&'a HashMap<String, Role>),
}

/// Where production tokens come from and how to read their role.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// The issuer, exactly as tokens carry it in `iss`; discovery is at
    /// `<issuer>/.well-known/openid-configuration`.
    pub issuer: String,
    pub audience: String,
    /// The claim holding the role (a string, or an array whose first mapped value counts).
    pub role_claim: String,
    /// The issuer's role names to CaseLedger roles: only these count (a value that merely
    /// happens to read "admin" or "icb" grants nothing).
    pub role_map: HashMap<String, Role>,
    /// At most one fetch of the keys per this long, however many unknown `kid`s arrive.
    pub refetch_interval: Duration,
}

/// The CaseLedger role in `claims[role_claim]`: a string, or the first of an array that names
/// one, read as `names` says.
pub fn role_from_claims(claims: &Map<String, Value>, role_claim: &str, names: RoleNames<'_>) -> Option<Role> {
    let named = |value: &Value| {
        value.as_str().and_then(|name| match names {
            RoleNames::CaseLedger => Role::parse(name),
            RoleNames::Mapped(map) => map.get(name).copied(),
        })
    };
    match claims.get(role_claim) {
        Some(Value::Array(values)) => values.iter().find_map(named),
        Some(value) => named(value),
        None => None,
    }
}
