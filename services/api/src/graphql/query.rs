//! The query root: who am I, one case, and the four views, each for its roles only.

use async_graphql::{Context, ID, Object, SimpleObject};
use caseledger_cases::Role as DomainRole;
use uuid::Uuid;

use super::case::{CaseNode, case_by_id, case_by_practice};
use super::enums::Role;
use super::views::{ChampionView, DhuView, IcbView, LmcView};
use super::{caller, reads, require, state};
use crate::error::{ApiError, ApiResult, IntoGraphql};

#[derive(SimpleObject, Debug)]
pub struct Actor {
    pub id: String,
    pub role: Role,
    /// The practice's ODS code or the PCN's code a practice or PCN role works for.
    pub scope: Option<String>,
    /// That practice's or PCN's name, when CaseLedger knows it.
    pub scope_name: Option<String>,
    /// Their name in the directory of people, if it has one.
    pub name: Option<String>,
    /// Their sign-in to the pages before the latest: where "since your last visit" starts (null
    /// before their second visit).
    pub last_visit_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The kinds of case the caller may act on (any command of the kind's is theirs).
    pub works_on: Vec<CaseType>,
}

/// A kind of case the ledger holds.
#[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "caseledger_cases::case_type::CaseType")]
pub enum CaseType {
    SlotVisibility,
    Diversion,
    TelephonyReview,
    DosGap,
}

/// The cost of a field that reads a whole table and aggregates it: a quarter of an operation's
/// budget, so an operation repeats it (under aliases) at most three times.
const AGGREGATE: usize = super::MAX_COMPLEXITY / 4;

#[derive(Debug, Default)]
pub struct QueryRoot;

#[Object(name = "Query")]
impl QueryRoot {
    async fn me(&self, ctx: &Context<'_>) -> ApiResult<Actor> {
        let actor = super::signed_in(ctx)?;
        let person = caseledger_commands::people::get(state(ctx).reads.primary_pool(), actor.id.as_str())
            .await
            .map_err(ApiError::from)
            .gql()?;
        let (name, last_visit_at) = person.map_or((None, None), |p| (p.name, p.last_visit_at));
        let scope_name = match &actor.scope {
            Some(caseledger_cases::role::Scope::Practice(ods)) => {
                sqlx::query_scalar("select name from practice_view where ods_code = $1")
                    .bind(ods.as_str())
                    .fetch_optional(reads(ctx))
                    .await
            }
            Some(caseledger_cases::role::Scope::Pcn(pcn)) => {
                sqlx::query_scalar(
                    "select pcn_name from practice_view where pcn_code = $1 and pcn_name is not null limit 1",
                )
                .bind(pcn.as_str())
                .fetch_optional(reads(ctx))
                .await
            }
            None => Ok(None),
        }
        .map_err(ApiError::from)
        .gql()?;
        Ok(Actor {
            id: actor.id.to_string(),
            role: actor.role.into(),
            scope: actor.scope.as_ref().map(|scope| scope.code().to_string()),
            scope_name,
            name,
            last_visit_at,
            works_on: caseledger_cases::case_type::CaseType::ALL
                .into_iter()
                .filter(|kind| kind.commands().any(|command| command.permits(actor.role)))
                .map(Into::into)
                .collect(),
        })
    }

    /// The report date of the latest dashboard extract imported: what the observed figures are as
    /// at (null before the first). Every role.
    async fn data_as_at(&self, ctx: &Context<'_>) -> ApiResult<Option<super::scalars::Date>> {
        caller(ctx)?;
        let date = caseledger_projections::practice_view::latest_extract_date(reads(ctx))
            .await
            .map_err(ApiError::from)
            .gql()?;
        Ok(date.map(super::scalars::Date))
    }

    /// The caller's email notifications: the address they go to and the kinds turned off.
    async fn my_notifications(&self, ctx: &Context<'_>) -> ApiResult<super::notifications::NotificationSettings> {
        super::notifications::of_caller(ctx).await
    }

    /// Null if absent or not visible to the caller.
    async fn case(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<CaseNode>> {
        let actor = caller(ctx)?;
        let Ok(case_id) = Uuid::parse_str(&id) else {
            return Ok(None);
        };
        let data = case_by_id(reads(ctx), case_id).await.gql()?;
        Ok(data.map(|data| CaseNode::seen_by(data, actor)))
    }

    /// The practice's open case, else its most recent.
    async fn case_by_practice(&self, ctx: &Context<'_>, ods_code: String) -> ApiResult<Option<CaseNode>> {
        let actor = caller(ctx)?;
        let ods_code = caseledger_cases::values::OdsCode::parse(&ods_code)
            .map_err(|e| ApiError::bad_input("odsCode", e))
            .gql()?;
        let data = case_by_practice(reads(ctx), ods_code.as_str()).await.gql()?;
        Ok(data.map(|data| CaseNode::seen_by(data, actor)))
    }

    /// Diversions to NHS 111 the caller may read, newest first: a practice its own, a PCN's
    /// clinical director its PCN's practices', every other party all. `since`: those running at
    /// or beginning after it; `unacknowledgedOnly`: those the ICB has still to acknowledge.
    async fn diversions(
        &self,
        ctx: &Context<'_>,
        since: Option<chrono::DateTime<chrono::Utc>>,
        #[graphql(default = false)] unacknowledged_only: bool,
        ods_code: Option<String>,
        #[graphql(default = 100)] first: i32,
    ) -> ApiResult<Vec<super::diversions::Diversion>> {
        super::diversions::list(ctx, since, unacknowledged_only, ods_code, first).await
    }

    /// Diversion reviews the caller may read (as `diversions`), newest first; only open ones when
    /// `openOnly`.
    async fn diversion_reviews(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false)] open_only: bool,
        #[graphql(default = 100)] first: i32,
    ) -> ApiResult<Vec<super::diversions::DiversionReview>> {
        super::diversions::reviews(ctx, open_only, first).await
    }

    /// Calls to NHS 111 in core hours over the last `weeks` weeks, by practice: per 1,000
    /// registered patients against the PCN's and the ICB's medians, beside diversions and 111 slot
    /// compliance. A practice reads its own, a PCN's clinical director its PCN's, every other party
    /// all.
    // Reads a whole table and aggregates it: a few per operation at most.
    #[graphql(complexity = "AGGREGATE + child_complexity")]
    async fn core_hours_calls(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 8)] weeks: i32,
    ) -> ApiResult<Vec<super::calls::PracticeCalls>> {
        super::calls::core_hours_calls(ctx, weeks).await
    }

    /// Practices' telephony month by month over the last `months` whole months, oldest first: inbound
    /// calls, average wait, abandonment, average call length, callbacks. The ICB and champions
    /// read every practice, a practice its own, a PCN's clinical director its PCN's; FORBIDDEN to
    /// the LMC and the DHU.
    // Reads a whole table and aggregates it: a few per operation at most.
    #[graphql(complexity = "AGGREGATE + child_complexity")]
    async fn telephony_metrics(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 6)] months: i32,
    ) -> ApiResult<Vec<super::telephony::PracticeTelephony>> {
        super::telephony::metrics(ctx, months).await
    }

    /// The PCN's notes of what it agreed at its reviews of the last `months` months (and this
    /// one), the latest month first: its clinical director's own (an admin names the PCN). FORBIDDEN to every other
    /// party.
    async fn pcn_review_notes(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 12)] months: i32,
        pcn_code: Option<String>,
    ) -> ApiResult<Vec<super::telephony::PcnReviewNote>> {
        super::telephony::notes(ctx, months, pcn_code).await
    }

    /// Gaps in the Directory of Services, newest first: every open one and those closed or
    /// dismissed in the last 90 days (only open ones when `openOnly`). The ICB and the 111
    /// provider read all, a practice those in its own entry; FORBIDDEN to every other party.
    #[graphql(
        complexity = "1 + usize::try_from(first.clamp(0, super::dos::MAX_GAPS)).unwrap_or_default() * child_complexity.max(1)"
    )]
    async fn dos_gaps(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false)] open_only: bool,
        #[graphql(default = 100)] first: i32,
    ) -> ApiResult<Vec<super::dos::DosGap>> {
        super::dos::gaps(ctx, open_only, first).await
    }

    /// Each service with a Directory of Services gap open, or closed in the last 90 days, the red
    /// ones at the top. Red: an open gap that bit in core hours; amber: an open gap; green: none.
    /// Read as `dosGaps`.
    // Reads a whole table and aggregates it: a few per operation at most.
    #[graphql(complexity = "AGGREGATE + child_complexity")]
    async fn dos_services(&self, ctx: &Context<'_>) -> ApiResult<Vec<super::dos::DosServiceStatus>> {
        super::dos::services(ctx).await
    }

    /// Directory of Services gaps reported (and of those, in core hours), closed and dismissed
    /// per week and kind over the last `weeks` weeks, this one included. Read as `dosGaps`.
    // Reads a whole table and aggregates it: a few per operation at most.
    #[graphql(complexity = "AGGREGATE + child_complexity")]
    async fn dos_figures(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 8)] weeks: i32,
    ) -> ApiResult<Vec<super::dos::DosWeek>> {
        super::dos::figures(ctx, weeks).await
    }

    /// A practice's own slot cases, or a PCN clinical director's practices' (open ones first):
    /// where each stands, when its stage is due and what the practice is asked to do; never the
    /// case's words or who worked it. FORBIDDEN to every other role.
    async fn own_cases(&self, ctx: &Context<'_>) -> ApiResult<Vec<super::own_cases::OwnCase>> {
        super::own_cases::list(ctx).await
    }

    /// One diversion, if the caller may read it.
    async fn diversion(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<super::diversions::Diversion>> {
        super::diversions::one(ctx, &id).await
    }

    /// Diversion notices, late notices and core-hours minutes per week (by when each began) over
    /// the last `weeks` weeks, by practice, PCN or place, of the practices the caller may read.
    // Reads a whole table and aggregates it: a few per operation at most.
    #[graphql(complexity = "AGGREGATE + child_complexity")]
    async fn diversion_figures(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 8)] weeks: i32,
        #[graphql(default_with = "super::diversions::DiversionGrouping::Practice")]
        group_by: super::diversions::DiversionGrouping,
    ) -> ApiResult<Vec<super::diversions::DiversionWeek>> {
        super::diversions::figures(ctx, weeks, group_by).await
    }

    async fn icb(&self, ctx: &Context<'_>) -> ApiResult<IcbView> {
        let actor = require(ctx, &caseledger_cases::role::views::ICB, "read the ICB view")?;
        Ok(IcbView { viewer: actor.role })
    }

    async fn lmc(&self, ctx: &Context<'_>) -> ApiResult<LmcView> {
        require(ctx, &caseledger_cases::role::views::LMC, "read the LMC view")?;
        Ok(LmcView)
    }

    async fn dhu(&self, ctx: &Context<'_>) -> ApiResult<DhuView> {
        let actor = require(ctx, &caseledger_cases::role::views::DHU, "read the DHU view")?;
        Ok(DhuView { viewer: actor.role })
    }

    async fn champion(&self, ctx: &Context<'_>) -> ApiResult<ChampionView> {
        let actor = require(
            ctx,
            &[DomainRole::Champion, DomainRole::Admin],
            "read the champion view",
        )?;
        Ok(ChampionView {
            champion_id: actor.id.to_string(),
        })
    }

    /// Events the projections set aside after failing on them, unresolved first, newest first:
    /// of one projection, or of all (at most `first`, up to 500). Admins only.
    #[graphql(complexity = "super::admin::parked_cost(first, child_complexity)")]
    async fn parked_events(
        &self,
        ctx: &Context<'_>,
        projection: Option<String>,
        #[graphql(default = 50)] first: Option<i32>,
    ) -> ApiResult<Vec<super::admin::ParkedEvent>> {
        super::admin::parked_events(ctx, projection, first.unwrap_or(50)).await
    }

    /// The directory of people (of one role; active or not), by name, at most 1,000. Admins only.
    async fn people(
        &self,
        ctx: &Context<'_>,
        role: Option<Role>,
        active: Option<bool>,
    ) -> ApiResult<Vec<super::people::Person>> {
        super::people::list(ctx, role, active).await
    }

    /// Practices in ODS code order, a page at a time: the ICB, admins, the LMC and the DHU see
    /// every practice; a champion the practices of their own cases. `missingData`: registered
    /// and absent from the latest dashboard extract; `minMissingWeeks`: registered and absent
    /// from at least that many extracts since its latest row; `disagreement`: the three counts
    /// disagree; `search`: ODS code starting with, or name containing, this text (any case);
    /// `closed`: closed as ODS publishes it (a closed practice is never "missing data");
    /// `odsCodes`: only these practices (at most 500).
    #[graphql(complexity = "super::practices::practices_cost(first, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn practices(
        &self,
        ctx: &Context<'_>,
        place: Option<String>,
        pcn: Option<String>,
        compliant: Option<bool>,
        has_open_case: Option<bool>,
        missing_data: Option<bool>,
        min_missing_weeks: Option<i32>,
        disagreement: Option<bool>,
        search: Option<String>,
        closed: Option<bool>,
        ods_codes: Option<Vec<String>>,
        #[graphql(default = 50)] first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<super::practices::PracticeConnection> {
        if search.as_ref().is_some_and(|s| s.chars().count() > 100) {
            return Err(crate::error::ApiError::bad_input(
                "search",
                "must be at most 100 characters",
            ))
            .gql();
        }
        let filter = caseledger_projections::practice_view::PracticeFilter {
            place,
            pcn_code: pcn,
            compliant,
            has_open_case,
            missing_data,
            min_missing_weeks: min_missing_weeks.map(i64::from),
            disagreement,
            ods_codes: match ods_codes {
                Some(codes) => Some(super::practices::ods_code_list("odsCodes", &codes, 500)?),
                None => None,
            },
            search,
            closed,
        };
        super::practices::practices(ctx, filter, first, after).await
    }

    /// One practice with its weekly series, its case episodes, the DHU's reports and the three
    /// counts; null when there is none, or when a champion has no case of it.
    async fn practice(
        &self,
        ctx: &Context<'_>,
        ods_code: String,
    ) -> ApiResult<Option<super::practices::MonitoredPractice>> {
        super::practices::practice(ctx, ods_code).await
    }
}
