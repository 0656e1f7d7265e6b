//! What every mutation shares: the fields each command input ends with, the command's context
//! built from them, a value parsed into the domain's type or BAD_USER_INPUT naming its field, and
//! the wait for the views to show what was written.

use async_graphql::{Context, ID};
use caseledger_cases::Actor;
use caseledger_cases::values::{ShortText, ValueError};
use caseledger_commands::CommandContext;
use caseledger_eventstore::Position;
use caseledger_projections::read_back;
use chrono::{DateTime, Utc};

use super::state;
use crate::error::{ApiError, ApiResult, IntoGraphql};
use crate::monitoring::RequestIds;

/// The three fields every command input ends with.
pub(crate) struct Common {
    pub(crate) occurred_at: Option<DateTime<Utc>>,
    pub(crate) expected_revision: Option<i32>,
    pub(crate) command_id: Option<ID>,
}

pub(crate) fn field<T>(name: &str, parsed: Result<T, ValueError>) -> ApiResult<T> {
    parsed.map_err(|e| ApiError::bad_input(name, e)).gql()
}

/// The command's context: its actor, the request's correlation id, and the common fields.
pub(crate) fn context(ctx: &Context<'_>, actor: &Actor, common: Common) -> ApiResult<CommandContext> {
    let mut context = CommandContext::new(actor.clone());
    context.correlation_id = ctx.data_opt::<RequestIds>().map(|ids| ids.correlation_id);
    context.occurred_at = common.occurred_at;
    context.expected_revision = common
        .expected_revision
        .map(|r| u64::try_from(r).map_err(|_| ApiError::bad_input("expectedRevision", "must not be negative")))
        .transpose()
        .gql()?;
    if let Some(command_id) = common.command_id {
        let command_id = field("commandId", ShortText::parse(&command_id))?;
        context.command_id = Some(command_id.to_string());
    }
    Ok(context)
}

/// Waits (a while) for the views to show what was just written (see
/// [`caseledger_projections::read_back`]). Whether they caught up.
pub(crate) async fn wait(ctx: &Context<'_>, written: Option<Position>, duplicate: bool) -> ApiResult<bool> {
    let app = state(ctx);
    read_back::settle(&app.store, &app.reads, written, &[], duplicate, app.read_your_writes)
        .await
        .map_err(ApiError::from)
        .gql()
}
