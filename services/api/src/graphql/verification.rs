//! CaseLedger's GP Connect verifications as the parties see them: the verdict and the counts for
//! everyone, what went wrong (which may name an endpoint) for those who work the case and the
//! DHU, as the lens says.

use async_graphql::{Context, Enum, ID, SimpleObject};
use caseledger_cases::Role as DomainRole;
use caseledger_cases::practice::{SlotVerification as Recorded, VerificationVerdict as DomainVerdict};
use caseledger_projections::lens::shows_field;
use caseledger_projections::practice_view::VerificationRow;
use chrono::{DateTime, Utc};

use super::scalars::Date;
use super::{caller, state};
use crate::error::{ApiError, ApiResult, IntoGraphql};

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "DomainVerdict")]
pub enum VerificationVerdict {
    /// Every core-hours day of the window met the requirement.
    Enough,
    /// At least one core-hours day fell short (`shortDays`).
    TooFew,
    /// The practice's system did not answer (`errorCode`, `error`).
    Failed,
}

/// Many practices' searches, begun together (`verifyPractices`).
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub struct VerificationBatch {
    /// When the searches began: a practice's `latestVerification` from then is this batch's.
    pub started_at: DateTime<Utc>,
    /// The practices being searched, in ODS code order.
    pub ods_codes: Vec<String>,
    /// How many practice systems are asked at once; the rest wait their turn.
    pub searches_at_once: i32,
}

/// Free slots the 111 provider could book at one location on one day.
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub struct LocationSlotCount {
    pub location_id: String,
    pub name: Option<String>,
    pub main_site: bool,
    /// A location the answer names but does not describe, which the register cannot place (the
    /// practice has branches): neither main site nor branch.
    pub unresolved: bool,
    pub free_slots: i32,
}

/// One free slot the search returned inside its window, as NHS England's appointment checker
/// lists it.
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub struct FreeSlot {
    pub date: Date,
    /// UK local start, `HH:MM`.
    pub start: String,
    pub duration_minutes: i32,
    /// The session or rota (`Schedule.serviceCategory.text`).
    pub session: Option<String>,
    /// The practice's own name for the slot type (`Slot.serviceType.text`).
    pub slot_type: Option<String>,
    /// `In-person`, `Telephone` or `Video`.
    pub delivery_channel: Option<String>,
    pub practitioner_role: Option<String>,
    pub location_id: Option<String>,
    /// Counted towards the requirement: in core hours on a core-hours day, not past.
    pub counted: bool,
    /// Already past when searched.
    pub past: bool,
}

/// How many of the counted slots share a value (a delivery channel, a slot type).
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub struct SlotTally {
    /// Null: not given by the practice's system.
    pub value: Option<String>,
    pub count: i32,
}

fn tally(slots: &[FreeSlot], of: impl Fn(&FreeSlot) -> Option<String>) -> Vec<SlotTally> {
    let mut counts: std::collections::BTreeMap<Option<String>, i32> = std::collections::BTreeMap::new();
    for slot in slots.iter().filter(|slot| slot.counted) {
        *counts.entry(of(slot)).or_default() += 1;
    }
    let mut tallies: Vec<SlotTally> = counts
        .into_iter()
        .map(|(value, count)| SlotTally { value, count })
        .collect();
    tallies.sort_by(|a, b| b.count.cmp(&a.count).then(a.value.cmp(&b.value)));
    tallies
}

fn free_slots(slots: &[caseledger_cases::practice::VerifiedSlot]) -> Vec<FreeSlot> {
    let text = |t: &Option<caseledger_cases::values::ShortText>| t.as_ref().map(ToString::to_string);
    slots
        .iter()
        .map(|slot| FreeSlot {
            date: Date(slot.date),
            start: slot.start.to_string(),
            duration_minutes: int(slot.duration_minutes),
            session: text(&slot.session),
            slot_type: text(&slot.slot_type),
            delivery_channel: text(&slot.delivery_channel),
            practitioner_role: text(&slot.practitioner_role),
            location_id: text(&slot.location_id),
            counted: slot.counted,
            past: slot.past,
        })
        .collect()
}

/// One core-hours day (08:00–18:30 UK time, Monday to Friday, not a bank holiday).
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub struct VerifiedDay {
    pub date: Date,
    pub free_slots: i32,
    pub locations: Vec<LocationSlotCount>,
}

/// The free slots a search returned, and what they add up to.
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub struct SlotDetail {
    /// Every free slot returned inside the window, in time order (up to 3,000: priced as a list
    /// of that size).
    #[graphql(complexity = "200 + 20 * child_complexity")]
    pub slots: Vec<FreeSlot>,
    /// The counted slots by delivery channel, most first.
    pub by_delivery_channel: Vec<SlotTally>,
    /// The counted slots by slot type, most first.
    pub by_slot_type: Vec<SlotTally>,
    /// Free slots in the window already past when searched: listed, never counted.
    pub past_slots: i32,
    /// Informational or warning notes beside the answer (their codes).
    pub notices: Vec<String>,
}

impl SlotDetail {
    fn of(slots: Vec<FreeSlot>, past_slots: i32, notices: Vec<String>) -> Self {
        Self {
            by_delivery_channel: tally(&slots, |slot| slot.delivery_channel.clone()),
            by_slot_type: tally(&slots, |slot| slot.slot_type.clone()),
            slots,
            past_slots,
            notices,
        }
    }
}

/// What CaseLedger's own GP Connect free-slot search, run as the 111 provider runs it, found.
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub struct SlotVerification {
    pub verified_at: DateTime<Utc>,
    pub window_start: Date,
    pub window_end: Date,
    /// The requirement it was judged against, in slots a core-hours day.
    pub required_per_day: i32,
    pub days: Vec<VerifiedDay>,
    /// The fewest free slots on any core-hours day of the window.
    pub min_per_core_day: Option<i32>,
    pub verdict: VerificationVerdict,
    pub short_days: Vec<Date>,
    /// The OperationOutcome's code when the search failed, e.g. `INVALID_PARAMETER`.
    pub error_code: Option<String>,
    /// What went wrong; null for the LMC.
    pub error: Option<String>,
    /// The case it was run for, if any.
    pub case_id: Option<ID>,
    /// Every slot it returned, as the appointment checker lists them.
    #[graphql(flatten)]
    pub detail: SlotDetail,
    /// The practice's system, as its CapabilityStatement names it ("EMIS Web 9.2").
    pub provider_system: Option<String>,
}

fn int(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn days(days: &[caseledger_cases::practice::VerifiedDay]) -> Vec<VerifiedDay> {
    days.iter()
        .map(|d| VerifiedDay {
            date: Date(d.date),
            free_slots: int(d.total),
            locations: d
                .locations
                .iter()
                .map(|l| LocationSlotCount {
                    location_id: l.location_id.to_string(),
                    name: l.name.as_ref().map(ToString::to_string),
                    main_site: l.main_site,
                    unresolved: l.unresolved,
                    free_slots: int(l.free_slots),
                })
                .collect(),
        })
        .collect()
}

fn error_for(viewer: DomainRole, event_type: &str, error: Option<String>) -> Option<String> {
    error.filter(|_| shows_field(viewer, event_type, "error"))
}

impl SlotVerification {
    /// A recorded verification as `viewer` may see it.
    pub fn of_row(row: &VerificationRow, viewer: DomainRole) -> Self {
        Self {
            verified_at: row.verified_at,
            window_start: Date(row.window_start),
            window_end: Date(row.window_end),
            required_per_day: row.required_per_day,
            days: days(&row.days),
            min_per_core_day: row.min_per_core_day,
            verdict: row.verdict.into(),
            short_days: row.short_days.iter().copied().map(Date).collect(),
            error_code: row.error_code.clone(),
            error: error_for(viewer, Recorded::FAILED, row.error.clone()),
            case_id: row.case_id.map(|id| ID(id.to_string())),
            provider_system: row.provider_system.clone(),
            detail: SlotDetail::of(free_slots(&row.slots), row.past_slots, row.notices.clone()),
        }
    }

    /// A verification just made, as `viewer` may see it.
    pub fn of_recorded(found: &Recorded, at: DateTime<Utc>, viewer: DomainRole) -> Self {
        Self {
            verified_at: at,
            window_start: Date(found.window_start),
            window_end: Date(found.window_end),
            required_per_day: int(found.required_per_day),
            days: days(&found.days),
            min_per_core_day: found.min_per_core_day.map(int),
            verdict: found.verdict.into(),
            short_days: found.short_days.iter().copied().map(Date).collect(),
            error_code: found.error_code.as_ref().map(ToString::to_string),
            error: error_for(
                viewer,
                found.event_type(),
                found.error.as_ref().map(ToString::to_string),
            ),
            case_id: found.case_id.map(|id| ID(id.to_string())),
            provider_system: found.provider_system.as_ref().map(ToString::to_string),
            detail: SlotDetail::of(
                free_slots(&found.slots),
                int(found.past_slots),
                found.notices.iter().map(ToString::to_string).collect(),
            ),
        }
    }
}

/// The practice's latest verification as the caller may see it (batched across the request).
pub async fn latest_verification(ctx: &Context<'_>, ods_code: &str) -> ApiResult<Option<SlotVerification>> {
    let viewer = caller(ctx)?.role;
    let row = state(ctx)
        .loaders
        .verifications
        .load_one(ods_code.to_string())
        .await
        .map_err(ApiError::internal)
        .gql()?;
    Ok(row.map(|row| SlotVerification::of_row(&row, viewer)))
}
