//! The GraphQL API of GRAPHQL.md: every root field and mutation checks the caller's role, and
//! every case is seen through the caller's lens.

mod admin;
mod calls;
mod case;
mod command;
pub mod deadline;
mod diversions;
mod dos;
mod enums;
mod limits;
mod loaders;
mod mutation;
mod notifications;
mod own_cases;
mod people;
mod practices;
mod query;
mod reports;
mod scalars;
mod subscription;
mod summary;
mod telephony;
mod verification;
mod views;

use std::time::Duration;

use async_graphql::{Context, ErrorExtensions, Schema};
use caseledger_cases::{Actor, Role};
use caseledger_commands::Commands;
use caseledger_eventstore::EventStore;
use caseledger_projections::live::LiveFeed;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
pub use subscription::SubscriptionLimits;

pub use limits::{Limits, QueryLimits};
pub use mutation::MutationRoot;
pub use query::QueryRoot;
pub use subscription::{ConnectionSubscriptions, SubscriptionRoot};

pub type AppSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Runs `request` as the signed-in `actor`, in process: what the web pages call. A plain
/// function, so the schema's execution is compiled here once, not again in each crate that
/// hands it to the pages.
pub fn execute_as(
    schema: &AppSchema,
    actor: Actor,
    ids: Option<caseledger_commands::RequestIds>,
    request: async_graphql::Request,
) -> futures_util::future::BoxFuture<'static, async_graphql::Response> {
    let mut request = request.data(Caller::Authenticated(actor));
    if let Some(ids) = ids {
        request = request.data(ids);
    }
    let schema = schema.clone();
    Box::pin(async move { schema.execute(request).await })
}

/// `request`, a subscription, streamed with `actor` as the authenticated caller: the pages' live
/// updates, through the same lens and limits as a WebSocket subscriber's.
pub fn subscribe_as(
    schema: &AppSchema,
    actor: Actor,
    request: async_graphql::Request,
) -> futures_util::stream::BoxStream<'static, async_graphql::Response> {
    schema.execute_stream(request.data(Caller::Authenticated(actor)))
}

/// What every resolver may use.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: EventStore,
    /// Where queries read the views: the primary, or a replica of it.
    pub reads: caseledger_projections::Reads,
    pub commands: Commands,
    /// How long a mutation waits for the views to show its effect before answering.
    pub read_your_writes: Duration,
    /// The figures' rows, held in memory and brought up to date before each summary.
    pub(crate) figures: std::sync::Arc<caseledger_projections::figures::HeldFigures>,
    /// New case events for every subscription of this process.
    pub live: LiveFeed,
    /// How many subscriptions each person holds, and may.
    pub(crate) subscribers: subscription::Subscribers,
    pub(crate) loaders: loaders::Loaders,
    /// GP Connect verification, when configured.
    pub verifier: Option<caseledger_jobs::verification::SharedVerifier>,
    /// Stage targets in working days, and the calendar they count.
    pub deadlines: caseledger_cases::deadlines::Deadlines,
    /// The mail domains notifications may go to (`CASELEDGER_MAIL_DOMAINS`).
    pub mail_domains: Vec<String>,
    /// How much expensive work (searches, imports) one person may start; shared with the pages.
    pub throttle: caseledger_commands::throttle::Throttle,
}

impl AppState {
    /// Create inside a Tokio runtime: the live feed starts, and runs for the life of the process.
    pub fn new(store: EventStore) -> Self {
        let live = LiveFeed::start(store.clone(), None);
        Self::with(store, live, SubscriptionLimits::default())
    }

    /// With the service's live feed and subscription limits.
    pub fn with(store: EventStore, live: LiveFeed, subscriptions: SubscriptionLimits) -> Self {
        Self {
            commands: Commands::new(store.clone()),
            loaders: loaders::Loaders::new(&store),
            reads: caseledger_projections::Reads::primary(store.pool().clone()),
            store,
            read_your_writes: Duration::from_secs(5),
            figures: std::sync::Arc::default(),
            live,
            subscribers: subscription::Subscribers::new(subscriptions),
            verifier: None,
            deadlines: caseledger_cases::deadlines::Deadlines::default(),
            mail_domains: caseledger_jobs::notifications::DEFAULT_MAIL_DOMAINS
                .iter()
                .map(|d| d.to_string())
                .collect(),
            throttle: caseledger_commands::throttle::Throttle::default(),
        }
    }

    /// With this deployment's stage targets and bank holidays.
    pub fn with_deadlines(mut self, deadlines: caseledger_cases::deadlines::Deadlines) -> Self {
        self.deadlines = deadlines;
        self
    }

    /// Queries read the views from a replica while it is current (see
    /// [`caseledger_projections::Reads`]).
    pub fn with_read_replica(mut self, replica: sqlx::PgPool) -> Self {
        self.reads = caseledger_projections::Reads::with_replica(self.store.pool().clone(), replica);
        self
    }

    /// Reads the figures' rows into memory in the background, so that the first summary after a
    /// start does not wait for all of them (it waits for this read instead, if it is still going).
    pub fn warm_figures(&self) {
        let (figures, pool) = (self.figures.clone(), self.store.pool().clone());
        tokio::spawn(async move {
            if let Err(error) = figures.summary(&pool, None, None).await {
                tracing::warn!(%error, "could not read the figures into memory ahead of the first summary");
            }
        });
    }

    /// With GP Connect verification.
    pub fn with_verifier(mut self, verifier: caseledger_jobs::verification::SharedVerifier) -> Self {
        self.verifier = Some(verifier);
        self
    }
}

/// How deep a query may nest.
pub const MAX_DEPTH: usize = 12;
/// Directives on one field, fragment or operation.
pub const MAX_DIRECTIVES: usize = 8;
/// What one operation may cost: each field 1 unless it says otherwise; a page of cases costs its
/// selection times `first`, an unpaged list 100 times, a history 20.
pub const MAX_COMPLEXITY: usize = 20_000;

/// The schema with the default limits, answering introspection.
pub fn build_schema(state: AppState) -> AppSchema {
    build_schema_with(state, Limits::default(), true)
}

/// The schema with `limits`; `introspection` off, it answers no `__schema` or `__type` (the SDL
/// is published in the repository; `CASELEDGER_GRAPHQL_INTROSPECTION`).
pub fn build_schema_with(state: AppState, limits: Limits, introspection: bool) -> AppSchema {
    let builder = Schema::build(QueryRoot, MutationRoot, SubscriptionRoot)
        .data(state)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .limit_directives(MAX_DIRECTIVES)
        .extension(QueryLimits(limits))
        .extension(crate::monitoring::GraphqlMetrics);
    if introspection {
        builder.finish()
    } else {
        // Nor "did you mean …" suggestions, which would name the fields introspection hides.
        builder.disable_introspection().disable_suggestions().finish()
    }
}

/// The SDL of the schema, as `schema/caseledger.graphql` holds it, with the contract's notes on
/// the fields every command input shares.
pub fn sdl() -> String {
    let sdl = Schema::build(QueryRoot, MutationRoot, SubscriptionRoot).finish().sdl();
    let header = "# CaseLedger's GraphQL schema, exported from the code by `caseledger schema`.\n\
                  # A test fails when this file and the code disagree.\n\n";
    let mutation_note = "# Every command input also takes:\n\
                         #   occurredAt: DateTime   (default now; never in the future, never before the case opened)\n\
                         #   expectedRevision: Int  (optional; CONFLICT if the case has moved on)\n\
                         #   commandId: ID          (optional idempotency key: a repeat returns the first result)\n";
    let inputs_note = "# The first of the command inputs; every input below ends with the three common fields:\n\
                       # occurredAt: DateTime  expectedRevision: Int  commandId: ID\n";
    let sdl = sdl.replacen("type Mutation {", &format!("{mutation_note}type Mutation {{"), 1);
    let sdl = sdl.replacen(
        "input FlagPracticeInput {",
        &format!("{inputs_note}input FlagPracticeInput {{"),
        1,
    );
    format!("{header}{sdl}")
}

pub(crate) fn state<'a>(ctx: &Context<'a>) -> &'a AppState {
    ctx.data_unchecked::<AppState>()
}

/// The pool a query reads the views from: the read replica when one is set and current, else
/// the primary (see [`caseledger_projections::Reads`]). Mutations, the people directory and
/// subscriptions use the primary.
pub(crate) fn reads<'a>(ctx: &Context<'a>) -> &'a sqlx::PgPool {
    state(ctx).reads.pool()
}

/// The authenticated caller of a field every party reads across the whole ICB, or
/// UNAUTHENTICATED; FORBIDDEN for a role scoped to one practice or PCN, which reads only the
/// fields made for it (they call [`signed_in`] and keep it to its own organisation).
pub(crate) fn caller<'a>(ctx: &Context<'a>) -> ApiResult<&'a Actor> {
    let actor = signed_in(ctx)?;
    match actor.role.scoped_to() {
        None => Ok(actor),
        Some(_) => Err(ApiError::Forbidden(format!(
            "the {} role reads its own organisation's diversions and figures, not this",
            actor.role
        ))
        .extend()),
    }
}

/// The authenticated caller, whatever their role, or UNAUTHENTICATED: for fields that keep a
/// scoped role to its own organisation themselves.
pub(crate) fn signed_in<'a>(ctx: &Context<'a>) -> ApiResult<&'a Actor> {
    match ctx.data_opt::<Caller>() {
        Some(Caller::Authenticated(actor)) => Ok(actor),
        Some(Caller::Rejected(reason)) => Err(ApiError::Unauthenticated(reason.clone()).extend()),
        _ => Err(ApiError::Unauthenticated("a bearer token is required".into()).extend()),
    }
}

/// The caller, if the command catalogue lets their role issue `command`; FORBIDDEN otherwise.
pub(crate) fn require_command<'a>(
    ctx: &Context<'a>,
    command: caseledger_cases::case::CommandName,
) -> ApiResult<&'a Actor> {
    require(ctx, command.rule().roles, &words(command.as_str()))
}

/// `RecordContact` → `record contact`.
fn words(name: &str) -> String {
    let mut words = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            words.push(' ');
        }
        words.extend(c.to_lowercase());
    }
    words
}

/// Starts expensive `work` for `actor`, or RATE_LIMITED with when to try again: hold the permit
/// until the work is done.
pub(crate) fn throttle(
    ctx: &Context<'_>,
    actor: &Actor,
    work: caseledger_commands::throttle::Work,
) -> ApiResult<caseledger_commands::throttle::Permit> {
    state(ctx)
        .throttle
        .start(&format!("{}:{}", actor.role, actor.id), work)
        .map_err(|limited| ApiError::RateLimited(limited).extend())
}

/// The caller, if their role is one of `roles`; FORBIDDEN otherwise.
pub(crate) fn require<'a>(ctx: &Context<'a>, roles: &[Role], what: &str) -> ApiResult<&'a Actor> {
    let actor = signed_in(ctx)?;
    if roles.contains(&actor.role) {
        Ok(actor)
    } else {
        Err(ApiError::Forbidden(format!("the {} role may not {what}", actor.role)).extend())
    }
}
