//! Who is acting: the roles of DESIGN.md, an actor's id and, for the roles scoped to one
//! organisation (a practice, a PCN), which one; and how an OIDC issuer's tokens name those roles
//! (read by the API's bearer tokens and the pages' sign-in alike).

use std::collections::HashMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::values::{OdsCode, PcnCode, ShortText};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Icb,
    Lmc,
    Dhu,
    Champion,
    Admin,
    /// A practice manager: their own practice only (its ODS code is the actor's scope).
    Practice,
    /// A PCN's clinical director: their own PCN's practices only (its code is the actor's scope).
    PcnClinicalDirector,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Icb => "icb",
            Role::Lmc => "lmc",
            Role::Dhu => "dhu",
            Role::Champion => "champion",
            Role::Admin => "admin",
            Role::Practice => "practice",
            Role::PcnClinicalDirector => "pcn_clinical_director",
        }
    }

    /// Every role.
    pub const ALL: [Role; 7] = [
        Role::Icb,
        Role::Lmc,
        Role::Dhu,
        Role::Champion,
        Role::Admin,
        Role::Practice,
        Role::PcnClinicalDirector,
    ];

    pub fn parse(role: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str().eq_ignore_ascii_case(role))
    }

    /// Whether this party may know which champion works a case: the ICB and the champions do
    /// (and admins); the LMC and the DHU never learn who the champion is (DESIGN.md), nor does a
    /// practice or a PCN from the case's history. The API's `assignedTo` and the pages ask this,
    /// not a list of roles of their own; the lens's `shows_actor` agrees (its tests say so).
    pub fn knows_champions(self) -> bool {
        matches!(self, Role::Icb | Role::Champion | Role::Admin)
    }

    /// What kind of organisation the role is scoped to, if any.
    pub fn scoped_to(self) -> Option<ScopeKind> {
        match self {
            Role::Practice => Some(ScopeKind::Practice),
            Role::PcnClinicalDirector => Some(ScopeKind::Pcn),
            Role::Icb | Role::Lmc | Role::Dhu | Role::Champion | Role::Admin => None,
        }
    }
}

/// Who reads each party's own view (DESIGN.md's rows): the API answers these and refuses the
/// rest, and the pages link these only. Admins read every view.
pub mod views {
    use super::Role;

    /// The ICB's assurance view: every case, the champions it may assign, the figures.
    pub const ICB: [Role; 2] = [Role::Icb, Role::Admin];
    /// The LMC's oversight view.
    pub const LMC: [Role; 2] = [Role::Lmc, Role::Admin];
    /// The DHU's liaison view.
    pub const DHU: [Role; 2] = [Role::Dhu, Role::Admin];
    /// The directory of people (who may sign in, as which party).
    pub const PEOPLE: [Role; 1] = [Role::Admin];
}

/// The kind of organisation a scoped role works for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeKind {
    Practice,
    Pcn,
}

/// The one organisation a scoped actor works for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "code", rename_all = "snake_case")]
pub enum Scope {
    Practice(OdsCode),
    Pcn(PcnCode),
}

impl Scope {
    /// `code` read as the organisation `role` is scoped to: `None` for a role with no scope, or a
    /// code of the wrong shape (a practice's ODS code, a PCN's `U…` code).
    pub fn for_role(role: Role, code: &str) -> Result<Option<Scope>, crate::values::ValueError> {
        Ok(match role.scoped_to() {
            None => None,
            // A `U…` code is a PCN's, never a practice's.
            Some(ScopeKind::Practice) if PcnCode::parse(code).is_ok() => {
                return Err(crate::values::ValueError::PracticeCode(code.to_string()));
            }
            Some(ScopeKind::Practice) => Some(Scope::Practice(OdsCode::parse(code)?)),
            Some(ScopeKind::Pcn) => Some(Scope::Pcn(PcnCode::parse(code)?)),
        })
    }

    /// The organisation's code.
    pub fn code(&self) -> &str {
        match self {
            Scope::Practice(code) => code.as_str(),
            Scope::Pcn(code) => code.as_str(),
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A person or system acting in a role, e.g. `dc-amira` as a champion, or `pm-c82001` as the
/// practice manager of C82001.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub id: ShortText,
    pub role: Role,
    /// The organisation a practice or PCN role works for (none for the other roles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
}

impl Actor {
    pub fn new(id: ShortText, role: Role) -> Self {
        Self { id, role, scope: None }
    }

    /// An actor of a scoped role, working for `scope`.
    pub fn scoped(id: ShortText, role: Role, scope: Option<Scope>) -> Self {
        Self { id, role, scope }
    }

    /// The practice a practice role works for.
    pub fn practice(&self) -> Option<&OdsCode> {
        match (&self.role, &self.scope) {
            (Role::Practice, Some(Scope::Practice(code))) => Some(code),
            _ => None,
        }
    }

    /// The PCN a PCN clinical director works for.
    pub fn pcn(&self) -> Option<&PcnCode> {
        match (&self.role, &self.scope) {
            (Role::PcnClinicalDirector, Some(Scope::Pcn(code))) => Some(code),
            _ => None,
        }
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
