//! Who is acting: the five roles of DESIGN.md and an actor's id.

use serde::{Deserialize, Serialize};

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
