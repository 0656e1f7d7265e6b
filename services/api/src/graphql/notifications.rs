//! Each person's own email notification settings.

use async_graphql::{Context, Enum, SimpleObject};
use caseledger_jobs::notifications as notify;

use super::state;
use crate::error::{ApiError, ApiResult, IntoGraphql};

/// What a person may hear about.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "caseledger_jobs::notifications::NotificationKind")]
pub enum NotificationKind {
    /// A champion's case was reopened.
    CaseReopened,
    /// The DHU reported a problem, or saw fewer slots than required, on a champion's case.
    DhuProblem,
    /// A champion's case is due today or overdue.
    Deadline,
    /// A case waits for the DHU's check.
    AwaitingCheck,
    /// The ICB's digest after each dashboard extract.
    WeeklyDigest,
    /// A practice's diversion to NHS 111 waits for the ICB's acknowledgement.
    DiversionNotice,
    /// A Directory of Services gap waits for the ICB's triage, or the 111 provider's confirmation.
    DosGap,
    /// A practice answered the champion on a case they hold.
    PracticeAnswer,
}

/// Where the caller's notifications go, and which kinds they turned off.
#[derive(SimpleObject, Debug)]
pub struct NotificationSettings {
    /// Null: no emails.
    pub email: Option<String>,
    pub off: Vec<NotificationKind>,
    /// The kinds someone in the caller's role is sent.
    pub kinds_for_role: Vec<NotificationKind>,
}

fn kinds_for(role: caseledger_cases::Role) -> Vec<NotificationKind> {
    use caseledger_cases::Role;
    match role {
        Role::Champion => vec![
            NotificationKind::CaseReopened,
            NotificationKind::DhuProblem,
            NotificationKind::Deadline,
            NotificationKind::PracticeAnswer,
        ],
        Role::Dhu => vec![NotificationKind::AwaitingCheck, NotificationKind::DosGap],
        Role::Icb => vec![
            NotificationKind::WeeklyDigest,
            NotificationKind::DiversionNotice,
            NotificationKind::DosGap,
        ],
        Role::Lmc | Role::Admin | Role::Practice | Role::PcnClinicalDirector => Vec::new(),
    }
}

pub async fn of_caller(ctx: &Context<'_>) -> ApiResult<NotificationSettings> {
    let actor = super::signed_in(ctx)?;
    let (email, muted) = notify::settings(state(ctx).reads.primary_pool(), actor.id.as_str())
        .await
        .map_err(ApiError::from)
        .gql()?;
    Ok(NotificationSettings {
        email,
        off: muted
            .iter()
            .filter_map(|kind| notify::NotificationKind::parse(kind))
            .map(Into::into)
            .collect(),
        kinds_for_role: kinds_for(actor.role),
    })
}

pub async fn set_for_caller(
    ctx: &Context<'_>,
    email: Option<String>,
    off: Vec<NotificationKind>,
) -> ApiResult<NotificationSettings> {
    let actor = super::signed_in(ctx)?;
    let email = email.map(|e| e.trim().to_string()).filter(|e| !e.is_empty());
    let domains = &state(ctx).mail_domains;
    if let Some(address) = &email
        && (address.len() > 254 || !notify::allowed_address(address, domains))
    {
        return Err(ApiError::bad_input(
            "email",
            format!("must be an email address at {}", domains.join(" or ")),
        ))
        .gql();
    }
    let mut off: Vec<notify::NotificationKind> = off.into_iter().map(Into::into).collect();
    off.dedup();
    notify::set(
        state(ctx).reads.primary_pool(),
        actor.id.as_str(),
        actor.role,
        email.as_deref(),
        &off,
    )
    .await
    .map_err(ApiError::from)
    .gql()?;
    of_caller(ctx).await
}
