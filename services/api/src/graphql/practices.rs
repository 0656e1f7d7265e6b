//! Practices as people monitor them: the register's details, the latest dashboard row, the weeks
//! without data, the three counts of their 111 slots (configured by the practice, seen by the
//! DHU, the dashboard's) and whether they disagree, the weekly series, every case episode and the
//! DHU's reports. The ICB, admins, the LMC and the DHU see every practice; a champion the
//! practices of their own cases. Cases and reports are seen through the caller's lens.

use async_graphql::{ComplexObject, Context, ID, SimpleObject};
use caseledger_cases::Role as DomainRole;
use caseledger_projections::case_view::{self, CaseFilter};
use caseledger_projections::figures;
use caseledger_projections::practice_view::{self, Count, PracticeFilter, PracticeSummary};
use chrono::{DateTime, NaiveDate, Utc};

use super::case::{CaseNode, Observation};
use super::enums::CaseStatus;
use super::reports::{DhuReport, dhu_reports_of};
use super::scalars::Date;
use super::verification::SlotVerification;
use super::views::PageInfo;
use super::{reads, state};
use crate::error::{ApiError, ApiResult, IntoGraphql};

const MAX_PAGE: i32 = 500;
/// The most cases a practice lists.
const MAX_CASES: i64 = 500;

/// What a page of practices costs: each of `first` costs its selection.
pub fn practices_cost(first: Option<i32>, child_complexity: usize) -> usize {
    let first = usize::try_from(first.unwrap_or(50).clamp(0, MAX_PAGE)).unwrap_or_default();
    1 + first.saturating_mul(child_complexity.max(1))
}

fn int(n: i64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// One count of a practice's 111 slots a day, and when it was taken.
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub struct SlotCount {
    pub slots: i32,
    pub at: DateTime<Utc>,
}

impl From<Count> for SlotCount {
    fn from(count: Count) -> Self {
        Self {
            slots: count.slots,
            at: count.at,
        }
    }
}

/// The three counts side by side: what the practice configured (its last remap), what the DHU
/// saw last (a confirmation on a case, or its own extract), and the dashboard's latest row.
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub struct SlotCounts {
    pub required_slots: i32,
    pub configured: Option<SlotCount>,
    pub seen_by_dhu: Option<SlotCount>,
    pub dashboard: Option<SlotCount>,
    /// One count is below the requirement while another meets it.
    pub disagreement: bool,
}

/// A week of the dashboard for a practice.
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub struct WeeklyObservation {
    pub report_date: Date,
    pub visible_slots: i32,
    pub required_slots: i32,
    pub list_size: i32,
    pub compliant: bool,
}

/// A row of the DHU's own extract for a practice.
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub struct DhuObservation {
    pub date: Date,
    pub visible_slots: i32,
}

/// One episode of a case: from its flag or a reopen.
#[derive(SimpleObject, Debug, Clone, PartialEq)]
pub struct CaseEpisode {
    pub case_id: ID,
    pub opened_at: DateTime<Utc>,
    pub compliant_at: Option<DateTime<Utc>>,
    /// Where it stood at its end (or stands now, for the current one).
    pub status: CaseStatus,
}

/// A practice as ODS publishes it: its address and telephone (the practice's own, not a
/// person's), when it opened and closed, and its status.
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub struct OdsEntry {
    pub address: Vec<String>,
    pub postcode: Option<String>,
    pub telephone: Option<String>,
    pub opened: Option<Date>,
    /// The day it closed; null for an open practice (and for a closed one ODS gives no date for:
    /// `status` says CLOSED).
    pub closed_on: Option<Date>,
    pub status: super::enums::OdsStatus,
}

/// A practice: who it is, where, and how its 111 slots look.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(complex)]
pub struct MonitoredPractice {
    pub ods_code: String,
    pub name: String,
    pub pcn_code: String,
    pub pcn_name: Option<String>,
    pub place: String,
    pub list_size: i32,
    pub required_slots: i32,
    /// In the practice register.
    pub registered: bool,
    pub main_site: Option<String>,
    pub branch_sites: Vec<String>,
    /// The dashboard's latest row for it.
    pub latest_observation: Option<Observation>,
    /// Dashboard extracts since its latest row (registered practices only): 1 is "no data this
    /// week", 2 or more in a row is for the ICB's attention.
    pub missing_weeks: i32,
    pub counts: SlotCounts,
    /// What ODS publishes of the practice (`epraccur.csv`), once its file is loaded.
    pub ods: Option<OdsEntry>,
    /// The extract date of "Patients Registered at a GP Practice" its list size is from, when it
    /// is from there.
    pub list_size_date: Option<Date>,
    #[graphql(skip)]
    pub open_case_id: Option<uuid::Uuid>,
    #[graphql(skip)]
    pub viewer: DomainRole,
}

impl MonitoredPractice {
    fn of(summary: PracticeSummary, viewer: DomainRole) -> Self {
        let row = summary.row;
        let latest_observation = match (row.report_date, row.visible_slots, row.compliant) {
            (Some(report_date), Some(visible_slots), Some(compliant)) => Some(Observation {
                report_date: Date(report_date),
                visible_slots,
                required_slots: row.required_slots,
                compliant,
            }),
            _ => None,
        };
        let counts = SlotCounts {
            required_slots: row.required_slots,
            configured: row.configured().map(Into::into),
            seen_by_dhu: row.seen_by_dhu().map(Into::into),
            dashboard: row.dashboard().map(Into::into),
            disagreement: row.disagreement,
        };
        Self {
            ods_code: row.ods_code,
            name: row.name,
            pcn_code: row.pcn_code,
            pcn_name: row.pcn_name,
            place: row.place,
            list_size: row.list_size,
            required_slots: row.required_slots,
            registered: row.registered,
            main_site: row.main_site,
            branch_sites: row.branch_sites,
            latest_observation,
            missing_weeks: int(summary.missing_weeks),
            counts,
            ods: row
                .ods_status
                .and_then(|status| serde_json::from_value::<caseledger_cases::practice::OdsStatus>(status.into()).ok())
                .map(|status| OdsEntry {
                    address: row.address,
                    postcode: row.postcode,
                    telephone: row.telephone,
                    opened: row.opened.map(Date),
                    closed_on: row.closed_on.map(Date),
                    status: status.into(),
                }),
            list_size_date: row.list_size_date.map(Date),
            open_case_id: summary.open_case_id,
            viewer,
        }
    }
}

/// The day a series starts from, if given.
fn since(from: Option<Date>) -> Option<NaiveDate> {
    from.map(|d| d.0)
}

#[ComplexObject]
impl MonitoredPractice {
    /// CaseLedger's latest GP Connect free-slot search of the practice, beside the three counts.
    #[graphql(complexity = "2 + child_complexity")]
    async fn latest_verification(&self, ctx: &Context<'_>) -> ApiResult<Option<SlotVerification>> {
        super::verification::latest_verification(ctx, &self.ods_code).await
    }

    /// Its GP Connect free-slot searches, latest first (at most `last`, 1 to 52; 10 by default).
    // Each search carries up to 3,000 slots: the cost grows with how many are asked for.
    #[graphql(complexity = "(last.max(1) as usize).saturating_mul(child_complexity.max(1))")]
    async fn verifications(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 10)] last: i32,
    ) -> ApiResult<Vec<SlotVerification>> {
        if !(1..=52).contains(&last) {
            return Err(ApiError::bad_input("last", "must be from 1 to 52")).gql();
        }
        let viewer = super::caller(ctx)?.role;
        let rows = practice_view::verifications(reads(ctx), &self.ods_code, i64::from(last))
            .await
            .gql()?;
        Ok(rows.iter().map(|row| SlotVerification::of_row(row, viewer)).collect())
    }

    /// Its open case, through the caller's lens.
    #[graphql(complexity = "2 + child_complexity")]
    async fn open_case(&self, ctx: &Context<'_>) -> ApiResult<Option<CaseNode>> {
        let Some(case_id) = self.open_case_id else {
            return Ok(None);
        };
        let data = case_view::by_id(reads(ctx), case_id)
            .await
            .map_err(ApiError::from)
            .gql()?;
        let actor = super::caller(ctx)?;
        Ok(data.map(|data| CaseNode::seen_by(data, actor)))
    }

    /// Its weekly dashboard rows from `from` (all when left out), oldest first.
    #[graphql(complexity = "20 + child_complexity")]
    async fn observations(&self, ctx: &Context<'_>, from: Option<Date>) -> ApiResult<Vec<WeeklyObservation>> {
        let rows = practice_view::observations(reads(ctx), &self.ods_code, since(from))
            .await
            .map_err(ApiError::from)
            .gql()?;
        Ok(rows
            .into_iter()
            .map(|o| WeeklyObservation {
                report_date: Date(o.report_date),
                visible_slots: o.visible_slots,
                required_slots: o.required_slots,
                list_size: o.list_size,
                compliant: o.visible_slots >= o.required_slots,
            })
            .collect())
    }

    /// The DHU's own extract's rows for it from `from` (all when left out), oldest first.
    #[graphql(complexity = "20 + child_complexity")]
    async fn dhu_observations(&self, ctx: &Context<'_>, from: Option<Date>) -> ApiResult<Vec<DhuObservation>> {
        let rows = practice_view::dhu_observations(reads(ctx), &self.ods_code, since(from))
            .await
            .map_err(ApiError::from)
            .gql()?;
        Ok(rows
            .into_iter()
            .map(|o| DhuObservation {
                date: Date(o.date),
                visible_slots: o.visible_slots,
            })
            .collect())
    }

    /// Its cases, oldest first (at most 500), through the caller's lens.
    #[graphql(complexity = "20 + 10 * child_complexity")]
    async fn cases(&self, ctx: &Context<'_>) -> ApiResult<Vec<CaseNode>> {
        let actor = super::caller(ctx)?;
        Ok(self
            .case_rows(ctx)
            .await?
            .into_iter()
            .map(|data| CaseNode::seen_by(data, actor))
            .collect())
    }

    /// Every episode of its cases (a case's flag, and each reopen), oldest first.
    #[graphql(complexity = "20 + 10 * child_complexity")]
    async fn episodes(&self, ctx: &Context<'_>) -> ApiResult<Vec<CaseEpisode>> {
        let ids: Vec<uuid::Uuid> = self.case_rows(ctx).await?.iter().map(|c| c.case_id).collect();
        let episodes = figures::episodes(reads(ctx), &ids)
            .await
            .map_err(ApiError::from)
            .gql()?;
        Ok(episodes
            .into_iter()
            .map(|e| CaseEpisode {
                case_id: ID(e.case_id.to_string()),
                opened_at: e.opened_at,
                compliant_at: e.compliant_at,
                status: e.status.into(),
            })
            .collect())
    }

    /// The DHU's reports on it, oldest first, as the caller may see them.
    #[graphql(complexity = "20 + 10 * child_complexity")]
    async fn dhu_reports(&self, ctx: &Context<'_>) -> ApiResult<Vec<DhuReport>> {
        dhu_reports_of(state(ctx), &self.ods_code, self.viewer).await
    }
}

impl MonitoredPractice {
    async fn case_rows(&self, ctx: &Context<'_>) -> ApiResult<Vec<case_view::CaseRow>> {
        let filter = CaseFilter {
            ods_code: Some(self.ods_code.clone()),
            ..CaseFilter::default()
        };
        case_view::list(reads(ctx), &filter, MAX_CASES)
            .await
            .map_err(ApiError::from)
            .gql()
    }
}

#[derive(SimpleObject, Debug)]
pub struct PracticeEdge {
    pub node: MonitoredPractice,
    pub cursor: String,
}

#[derive(SimpleObject, Debug)]
#[graphql(complex)]
pub struct PracticeConnection {
    pub edges: Vec<PracticeEdge>,
    pub page_info: PageInfo,
    #[graphql(skip)]
    pub filter: PracticeFilter,
}

#[ComplexObject]
impl PracticeConnection {
    /// How many practices the list holds in all (counted only when asked for).
    #[graphql(complexity = 5)]
    async fn total_count(&self, ctx: &Context<'_>) -> ApiResult<i32> {
        let total = practice_view::count(reads(ctx), &self.filter)
            .await
            .map_err(ApiError::from)
            .gql()?;
        Ok(int(total))
    }
}

/// The practices a champion may see: those of their own cases.
async fn champions_practices(ctx: &Context<'_>, champion_id: &str) -> ApiResult<Vec<String>> {
    let filter = CaseFilter {
        assigned_to: Some(champion_id.to_string()),
        ..CaseFilter::default()
    };
    let mut codes: Vec<String> = case_view::list(reads(ctx), &filter, i64::from(MAX_PAGE) * 10)
        .await
        .map_err(ApiError::from)
        .gql()?
        .into_iter()
        .map(|c| c.ods_code)
        .collect();
    codes.sort_unstable();
    codes.dedup();
    Ok(codes)
}

/// The filter a caller's role allows: a champion's is narrowed to their practices.
async fn visible(ctx: &Context<'_>, mut filter: PracticeFilter) -> ApiResult<PracticeFilter> {
    let actor = super::caller(ctx)?;
    if actor.role == DomainRole::Champion {
        let mine = champions_practices(ctx, actor.id.as_str()).await?;
        filter.ods_codes = Some(match filter.ods_codes.take() {
            Some(asked) => asked.into_iter().filter(|c| mine.contains(c)).collect(),
            None => mine,
        });
    }
    Ok(filter)
}

/// Who may read practices: every party, a champion only their own practices.
pub const READERS: [DomainRole; 5] = [
    DomainRole::Icb,
    DomainRole::Admin,
    DomainRole::Lmc,
    DomainRole::Dhu,
    DomainRole::Champion,
];

/// A page of practices under `filter`, in ODS code order.
pub async fn practices(
    ctx: &Context<'_>,
    filter: PracticeFilter,
    first: Option<i32>,
    after: Option<String>,
) -> ApiResult<PracticeConnection> {
    let actor = super::require(ctx, &READERS, "read practices")?;
    let first = first.unwrap_or(50);
    if !(0..=MAX_PAGE).contains(&first) {
        return Err(ApiError::bad_input("first", format!("must be from 0 to {MAX_PAGE}"))).gql();
    }
    if let Some(after) = &after {
        caseledger_cases::values::OdsCode::parse(after)
            .map_err(|_| ApiError::bad_input("after", "not a cursor from this list"))
            .gql()?;
    }
    let filter = visible(ctx, filter).await?;
    let page = practice_view::page(reads(ctx), &filter, after.as_deref(), i64::from(first))
        .await
        .map_err(ApiError::from)
        .gql()?;
    let edges: Vec<PracticeEdge> = page
        .rows
        .into_iter()
        .map(|row| PracticeEdge {
            cursor: row.row.ods_code.clone(),
            node: MonitoredPractice::of(row, actor.role),
        })
        .collect();
    Ok(PracticeConnection {
        page_info: PageInfo {
            has_next_page: page.has_next_page,
            end_cursor: edges.last().map(|e| e.cursor.clone()),
        },
        edges,
        filter,
    })
}

/// One practice, or null when there is none (or the caller, a champion, has no case of it).
pub async fn practice(ctx: &Context<'_>, ods_code: String) -> ApiResult<Option<MonitoredPractice>> {
    let actor = super::require(ctx, &READERS, "read practices")?;
    let ods_code = caseledger_cases::values::OdsCode::parse(&ods_code)
        .map_err(|e| ApiError::bad_input("odsCode", e))
        .gql()?;
    let filter = visible(
        ctx,
        PracticeFilter {
            ods_codes: Some(vec![ods_code.to_string()]),
            ..PracticeFilter::default()
        },
    )
    .await?;
    let page = practice_view::page(reads(ctx), &filter, None, 1)
        .await
        .map_err(ApiError::from)
        .gql()?;
    Ok(page
        .rows
        .into_iter()
        .next()
        .map(|row| MonitoredPractice::of(row, actor.role)))
}

/// A list of ODS codes a person gave (`field` names it in an error): each checked, in order,
/// duplicates dropped, at most `max`.
pub fn ods_code_list(field: &str, codes: &[String], max: usize) -> ApiResult<Vec<String>> {
    let mut parsed: Vec<String> = Vec::with_capacity(codes.len().min(max));
    for code in codes {
        let code = caseledger_cases::values::OdsCode::parse(code)
            .map_err(|e| ApiError::bad_input(field, e))
            .gql()?
            .to_string();
        if !parsed.contains(&code) {
            parsed.push(code);
        }
        if parsed.len() > max {
            return Err(ApiError::bad_input(field, format!("at most {max} practices at once"))).gql();
        }
    }
    Ok(parsed)
}

/// The practices a batch of GP Connect searches covers: those of one PCN, one place, or a list
/// of ODS codes (exactly one of the three), open, that the caller may see, at most `max`. A PCN
/// or place with none, too many, or a listed code that is not one of them is refused, naming it.
pub async fn batch(
    ctx: &Context<'_>,
    pcn: Option<String>,
    place: Option<String>,
    ods_codes: Option<Vec<String>>,
    max: usize,
) -> ApiResult<Vec<PracticeSummary>> {
    let bad = |field: &str, message: String| Err(ApiError::bad_input(field, message)).gql();
    let listed = match &ods_codes {
        Some(codes) => Some(ods_code_list("odsCodes", codes, max)?),
        None => None,
    };
    let (field, filter) = match (pcn, place, listed) {
        (Some(pcn), None, None) => (
            "pcn",
            PracticeFilter {
                pcn_code: Some(pcn.trim().to_string()),
                closed: Some(false),
                ..PracticeFilter::default()
            },
        ),
        (None, Some(place), None) => (
            "place",
            PracticeFilter {
                place: Some(place.trim().to_string()),
                closed: Some(false),
                ..PracticeFilter::default()
            },
        ),
        (None, None, Some(codes)) if !codes.is_empty() => (
            "odsCodes",
            PracticeFilter {
                ods_codes: Some(codes),
                ..PracticeFilter::default()
            },
        ),
        _ => return bad("pcn", "give one of a PCN, a place or a list of ODS codes".into()),
    };
    let asked = filter.ods_codes.clone();
    let filter = visible(ctx, filter).await?;
    let limit = i64::try_from(max).unwrap_or(i64::MAX).saturating_add(1);
    let found = practice_view::page(reads(ctx), &filter, None, limit)
        .await
        .map_err(ApiError::from)
        .gql()?
        .rows;
    if let Some(asked) = asked {
        let missing: Vec<&str> = asked
            .iter()
            .filter(|code| !found.iter().any(|p| &p.row.ods_code == *code))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            return bad(
                field,
                format!("no practice you can see has the ODS code {}", missing.join(", ")),
            );
        }
        let closed: Vec<&str> = found
            .iter()
            .filter(|p| p.row.is_closed())
            .map(|p| p.row.ods_code.as_str())
            .collect();
        if !closed.is_empty() {
            return bad(field, format!("closed, as ODS publishes it: {}", closed.join(", ")));
        }
    }
    if found.is_empty() {
        return bad(
            field,
            format!(
                "no open practice you can see is in that {}",
                if field == "pcn" { "PCN" } else { field }
            ),
        );
    }
    if found.len() > max {
        return bad(field, format!("more than {max} practices: search a smaller group"));
    }
    Ok(found)
}
