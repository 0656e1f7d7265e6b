//! The one place where errors become GraphQL errors with `extensions.code`. Internal failures are
//! logged with their cause and shown as a short message without internals.

use async_graphql::{Error, ErrorExtensions};
use caseledger_cases::{CaseError, ValueError};
use caseledger_commands::CommandError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No or no valid token.
    #[error("{0}")]
    Unauthenticated(String),
    /// The caller's role may not do this.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{field}: {message}")]
    BadInput { field: String, message: String },
    #[error(transparent)]
    Command(#[from] CommandError),
    /// The caller holds as many subscriptions as it may.
    #[error("{0}")]
    TooMany(String),
    /// A subscription fell further behind the log than its queue holds; subscribe again.
    #[error("this subscription fell behind the events and was ended: subscribe again")]
    FellBehind,
    /// A feature this deployment has not configured (e.g. GP Connect verification).
    #[error("{0} is not configured on this service")]
    NotConfigured(String),
    /// Too much expensive work at once, or in a short time, for this person (or this instance).
    #[error(transparent)]
    RateLimited(#[from] caseledger_commands::throttle::RateLimited),
    /// A parked event failed again when retried.
    #[error("the event still fails: {0}")]
    StillFails(String),
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    pub fn bad_input(field: &str, error: impl std::fmt::Display) -> Self {
        ApiError::BadInput {
            field: field.to_string(),
            message: error.to_string(),
        }
    }

    pub fn internal(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        ApiError::Internal(Box::new(error))
    }
}

impl From<ValueError> for ApiError {
    fn from(error: ValueError) -> Self {
        ApiError::bad_input("input", error)
    }
}

impl From<caseledger_jobs::verification::VerifyError> for ApiError {
    fn from(error: caseledger_jobs::verification::VerifyError) -> Self {
        use caseledger_jobs::verification::VerifyError;
        match error {
            VerifyError::Forbidden(_) => ApiError::Forbidden(error.to_string()),
            VerifyError::NotFound(what) => ApiError::NotFound(what),
            VerifyError::Command(error) => ApiError::Command(error),
            VerifyError::Database(error) => ApiError::internal(error),
            VerifyError::Store(error) => ApiError::internal(error),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        ApiError::internal(error)
    }
}

impl From<caseledger_eventstore::StoreError> for ApiError {
    fn from(error: caseledger_eventstore::StoreError) -> Self {
        ApiError::internal(error)
    }
}

impl From<caseledger_commands::people::PeopleError> for ApiError {
    fn from(error: caseledger_commands::people::PeopleError) -> Self {
        use caseledger_commands::people::PeopleError;
        match error {
            PeopleError::Exists { .. } => ApiError::bad_input("id", error),
            PeopleError::NotFound { .. } => ApiError::NotFound(error.to_string()),
            PeopleError::Deactivated { .. } => ApiError::Forbidden(error.to_string()),
            PeopleError::Database(cause) => ApiError::internal(cause),
        }
    }
}

impl From<caseledger_projections::parked::AdminError> for ApiError {
    fn from(error: caseledger_projections::parked::AdminError) -> Self {
        use caseledger_eventstore::ParkedError;
        use caseledger_projections::parked::AdminError;
        match error {
            AdminError::UnknownProjection(_) => ApiError::bad_input("projection", error),
            AdminError::Parked(ParkedError::NotFound { .. }) => ApiError::NotFound(error.to_string()),
            AdminError::Parked(ParkedError::StillFails(cause)) => ApiError::StillFails(cause.to_string()),
            AdminError::Parked(ParkedError::Store(cause)) => ApiError::internal(cause),
        }
    }
}

impl ErrorExtensions for ApiError {
    fn extend(&self) -> Error {
        let (code, message) = match self {
            ApiError::Unauthenticated(_) => ("UNAUTHENTICATED", self.to_string()),
            ApiError::Forbidden(_) => ("FORBIDDEN", self.to_string()),
            ApiError::NotFound(_) => ("NOT_FOUND", self.to_string()),
            ApiError::BadInput { .. } => ("BAD_USER_INPUT", self.to_string()),
            ApiError::Command(error) => (command_code(error), self.to_string()),
            ApiError::TooMany(_) => ("TOO_MANY_SUBSCRIPTIONS", self.to_string()),
            ApiError::FellBehind => ("SUBSCRIPTION_FELL_BEHIND", self.to_string()),
            ApiError::StillFails(_) => ("EVENT_STILL_FAILS", self.to_string()),
            ApiError::NotConfigured(_) => ("NOT_CONFIGURED", self.to_string()),
            ApiError::RateLimited(_) => ("RATE_LIMITED", self.to_string()),
            ApiError::Internal(cause) => {
                tracing::error!(error = %cause, source = ?cause.source(), "request failed");
                ("INTERNAL_SERVER_ERROR", "internal error".to_string())
            }
        };
        let message = if code == "INTERNAL_SERVER_ERROR" && !matches!(self, ApiError::Internal(_)) {
            tracing::error!(error = %self, "request failed");
            "internal error".to_string()
        } else {
            message
        };
        Error::new(message).extend_with(|_, extensions| {
            extensions.set("code", code);
            if let ApiError::RateLimited(limited) = self {
                extensions.set("retryAfter", limited.retry_after.as_secs().max(1));
            }
            if let ApiError::Command(CommandError::Conflict { expected, actual }) = self {
                extensions.set("expectedRevision", expected.map(|r| r as i64));
                extensions.set("actualRevision", actual.map(|r| r as i64));
            }
            if let ApiError::BadInput { field, .. } = self {
                extensions.set("field", field.as_str());
            }
            if let ApiError::Command(CommandError::Rejected(
                CaseError::InvalidValue { field, .. } | CaseError::InvalidPeriod { field, .. },
            )) = self
            {
                extensions.set("field", *field);
            }
            if let ApiError::Command(CommandError::PracticeHasOpenCase { case_id, .. }) = self {
                extensions.set("caseId", case_id.to_string());
            }
            if let ApiError::Command(CommandError::NoSuchPractice { .. }) = self {
                // Well formed, but no register, extract or case names it: a client can say so in its
                // own words (a malformed code is BAD_USER_INPUT on `odsCode` without the reason).
                extensions.set("field", "odsCode");
                extensions.set("reason", "UNKNOWN_PRACTICE");
            }
        })
    }
}

fn command_code(error: &CommandError) -> &'static str {
    match error {
        CommandError::Rejected(rejection) => match rejection {
            CaseError::Forbidden { .. }
            | CaseError::AssignOnlySelf { .. }
            | CaseError::HeldByAnotherChampion
            | CaseError::NotYourCase
            | CaseError::NotYourPractice(_)
            | CaseError::NotYourPcn(_) => "FORBIDDEN",
            CaseError::CaseNotFound
            | CaseError::ReportNotFound(_)
            | CaseError::DiversionNotFound(_)
            | CaseError::DiversionReviewNotFound(_)
            | CaseError::DosGapNotFound(_)
            | CaseError::PcnReviewNoteNotFound(_) => "NOT_FOUND",
            // Two diversions of one practice at once cannot both be true: the earlier one stands.
            CaseError::DiversionOverlaps(_) => "CONFLICT",
            CaseError::InvalidTransition { .. }
            | CaseError::NotCompliant { .. }
            | CaseError::CaseAlreadyExists
            | CaseError::ReviewAlreadyOpen
            | CaseError::NoOpenReview
            | CaseError::ReportAlreadyTriaged
            | CaseError::ErasedWithItsCase(_)
            | CaseError::DiversionAlreadyEnded(_)
            | CaseError::DiversionAlreadyAcknowledged(_)
            | CaseError::DiversionReviewClosed(_)
            | CaseError::DosGapAlreadyReported(_)
            | CaseError::DosGapWrongStage { .. }
            | CaseError::SupportFirst => "INVALID_TRANSITION",
            CaseError::OccurredInFuture { .. }
            | CaseError::OccurredBeforeOpened { .. }
            | CaseError::OccurredTooEarly { .. }
            | CaseError::InvalidValue { .. }
            | CaseError::DhuShortfall { .. }
            | CaseError::MissingEvidence(_)
            | CaseError::InvalidPeriod { .. } => "BAD_USER_INPUT",
            CaseError::TooManyAnswers(_) => "RATE_LIMITED",
        },
        CommandError::UnknownPractice { .. } | CommandError::NoSuchPractice { .. } => "BAD_USER_INPUT",
        // A `commandId` used before for another command, or two imports racing with different
        // figures for one row: the first stands.
        CommandError::Conflict { .. }
        | CommandError::PracticeHasOpenCase { .. }
        | CommandError::Store(caseledger_eventstore::StoreError::EventIdConflict { .. }) => "CONFLICT",
        CommandError::NotLatestCase { .. } => "INVALID_TRANSITION",
        CommandError::Corrupt { .. } | CommandError::MissingMetadata { .. } | CommandError::Store(_) => {
            "INTERNAL_SERVER_ERROR"
        }
    }
}

/// Resolver results: the error is mapped to `extensions.code` on the way out.
pub type ApiResult<T> = Result<T, Error>;

pub trait IntoGraphql<T> {
    fn gql(self) -> ApiResult<T>;
}

impl<T, E: Into<ApiError>> IntoGraphql<T> for Result<T, E> {
    fn gql(self) -> ApiResult<T> {
        self.map_err(|e| e.into().extend())
    }
}
