//! Who issues a command and the optional controls every command input takes.

use caseledger_cases::Actor;
use uuid::Uuid;

/// The ids of one request, in its extensions for the handlers (the HTTP layer sets them;
/// GraphQL and the pages read them).
#[derive(Debug, Clone, Copy)]
pub struct RequestIds {
    pub request_id: Uuid,
    /// The caller's `X-Correlation-Id` (a UUID), or the request id: the commands of the request
    /// carry it in their events' metadata.
    pub correlation_id: Uuid,
}

#[derive(Debug, Clone)]
pub struct CommandContext {
    pub actor: Actor,
    /// Business time; now when absent.
    pub occurred_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The caller's view of the case: a mismatch is a conflict instead of a retry.
    pub expected_revision: Option<u64>,
    /// Idempotency key: a repeat writes nothing and returns the first result.
    pub command_id: Option<String>,
    pub correlation_id: Option<Uuid>,
    pub causation_id: Option<Uuid>,
}

impl CommandContext {
    pub fn new(actor: Actor) -> Self {
        Self {
            actor,
            occurred_at: None,
            expected_revision: None,
            command_id: None,
            correlation_id: None,
            causation_id: None,
        }
    }

    pub fn at(mut self, occurred_at: chrono::DateTime<chrono::Utc>) -> Self {
        self.occurred_at = Some(occurred_at);
        self
    }

    pub fn with_command_id(mut self, command_id: impl Into<String>) -> Self {
        self.command_id = Some(command_id.into());
        self
    }

    pub fn expecting(mut self, revision: u64) -> Self {
        self.expected_revision = Some(revision);
        self
    }
}
