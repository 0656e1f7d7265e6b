//! Compliance summaries and trends. The live summary reads the views; a summary as of a business
//! time (`asOf`) or as known at a system time (`knownAt`) folds the event log. Both reduce to one
//! `Snapshot` and go through one `summarise`, so at "now" they agree by construction of the data,
//! not of the arithmetic.

use std::collections::{BTreeMap, HashMap};

use async_graphql::SimpleObject;
use caseledger_cases::case::CaseEvent as DomainEvent;
use caseledger_cases::{Case, CaseStatus as DomainStatus, evolve};
use caseledger_commands::envelope_of;
use caseledger_eventstore::{EventStore, Position, RecordedEvent};
use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::enums::CaseStatus;
use super::scalars::Date;
use crate::error::ApiError;

#[derive(SimpleObject, Debug, Clone, PartialEq)]
pub struct ComplianceSummary {
    pub as_of: DateTime<Utc>,
    /// Practices with at least one observation.
    pub practices: i32,
    /// Latest observation at `asOf` below the requirement.
    pub non_compliant_practices: i32,
    pub cases_opened: i32,
    /// Not COMPLIANT, not CLOSED.
    pub open_cases: i32,
    pub compliant_cases: i32,
    pub closed_cases: i32,
    /// openedAt → compliantAt, over the cases compliant at `asOf`.
    pub median_days_to_compliance: Option<f64>,
    pub by_status: Vec<StatusCount>,
    pub by_place: Vec<PlaceSummary>,
}

#[derive(SimpleObject, Debug, Clone, PartialEq)]
pub struct StatusCount {
    pub status: CaseStatus,
    pub count: i32,
}

#[derive(SimpleObject, Debug, Clone, PartialEq)]
pub struct PlaceSummary {
    pub place: String,
    pub open_cases: i32,
    pub compliant_cases: i32,
    pub non_compliant_practices: i32,
}

/// The state at the end of that day (UTC), by business time.
#[derive(SimpleObject, Debug, Clone, PartialEq)]
pub struct TrendPoint {
    pub date: Date,
    pub open_cases: i32,
    pub compliant_cases: i32,
    pub non_compliant_practices: i32,
}

/// What a summary counts, however it was found.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// (place, compliant) of each observed practice's latest observation.
    practices: Vec<(String, bool)>,
    cases: Vec<CaseFacts>,
}

#[derive(Debug)]
struct CaseFacts {
    place: String,
    status: DomainStatus,
    opened_at: DateTime<Utc>,
    compliant_at: Option<DateTime<Utc>>,
}

/// One dashboard row, with when it was true and when the log learnt it.
struct ObservationFacts {
    ods_code: String,
    place: String,
    occurred_at: DateTime<Utc>,
    recorded_at: DateTime<Utc>,
    compliant: bool,
}

const STATUSES: [DomainStatus; 6] = [
    DomainStatus::Flagged,
    DomainStatus::Contacted,
    DomainStatus::Remapped,
    DomainStatus::DhuConfirmed,
    DomainStatus::Compliant,
    DomainStatus::Closed,
];

pub fn summarise(snapshot: &Snapshot, as_of: DateTime<Utc>) -> ComplianceSummary {
    let count = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
    let mut places: BTreeMap<&str, PlaceSummary> = BTreeMap::new();
    for (name, compliant) in &snapshot.practices {
        let entry = places.entry(name).or_insert_with(|| empty_place(name));
        entry.non_compliant_practices += i32::from(!compliant);
    }
    let mut days = Vec::new();
    for case in &snapshot.cases {
        let entry = places.entry(&case.place).or_insert_with(|| empty_place(&case.place));
        if case.status.is_open() {
            entry.open_cases += 1;
        } else if case.status == DomainStatus::Compliant {
            entry.compliant_cases += 1;
            if let Some(compliant_at) = case.compliant_at {
                days.push((compliant_at - case.opened_at).num_milliseconds() as f64 / 86_400_000.0);
            }
        }
    }
    let with = |wanted: DomainStatus| snapshot.cases.iter().filter(|c| c.status == wanted).count();
    ComplianceSummary {
        as_of,
        practices: count(snapshot.practices.len()),
        non_compliant_practices: count(snapshot.practices.iter().filter(|(_, c)| !c).count()),
        cases_opened: count(snapshot.cases.len()),
        open_cases: count(snapshot.cases.iter().filter(|c| c.status.is_open()).count()),
        compliant_cases: count(with(DomainStatus::Compliant)),
        closed_cases: count(with(DomainStatus::Closed)),
        median_days_to_compliance: median(&mut days),
        by_status: STATUSES
            .iter()
            .map(|s| StatusCount {
                status: (*s).into(),
                count: count(with(*s)),
            })
            .collect(),
        by_place: places.into_values().collect(),
    }
}

fn empty_place(name: &str) -> PlaceSummary {
    PlaceSummary {
        place: name.to_string(),
        open_cases: 0,
        compliant_cases: 0,
        non_compliant_practices: 0,
    }
}

fn median(values: &mut [f64]) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]) / 2.0),
    }
}

/// The live snapshot, from the views.
pub async fn live_snapshot(pool: &PgPool) -> Result<Snapshot, ApiError> {
    let practices = sqlx::query!("select place, compliant from practice_view")
        .fetch_all(pool)
        .await?;
    let cases = sqlx::query!("select place, status, opened_at, compliant_at from case_view")
        .fetch_all(pool)
        .await?;
    let mut snapshot = Snapshot {
        practices: practices.into_iter().map(|p| (p.place, p.compliant)).collect(),
        ..Snapshot::default()
    };
    for case in cases {
        let status = serde_json::from_value(case.status.clone().into()).map_err(|_| {
            ApiError::internal(caseledger_eventstore::StoreError::Malformed(format!(
                "status {}",
                case.status
            )))
        })?;
        let facts = CaseFacts {
            place: case.place,
            status,
            opened_at: case.opened_at,
            compliant_at: case.compliant_at,
        };
        snapshot.cases.push(facts);
    }
    Ok(snapshot)
}

/// Every case and practice event, for folding to any moment.
pub struct Timeline {
    cases: Vec<Vec<(caseledger_cases::EventEnvelope, DateTime<Utc>)>>,
    observations: Vec<ObservationFacts>,
}

impl Timeline {
    pub async fn load(store: &EventStore) -> Result<Self, ApiError> {
        let mut by_case: HashMap<String, Vec<(caseledger_cases::EventEnvelope, DateTime<Utc>)>> = HashMap::new();
        for event in read_category(store, "case").await? {
            let envelope = envelope_of(&event).map_err(ApiError::from)?;
            by_case
                .entry(event.stream_id.clone())
                .or_default()
                .push((envelope, event.recorded_at));
        }
        let mut observations = Vec::new();
        for event in read_category(store, "practice").await? {
            let envelope = envelope_of(&event).map_err(ApiError::from)?;
            if let DomainEvent::SlotsObserved(observed) = envelope.event {
                observations.push(ObservationFacts {
                    ods_code: observed.practice.ods_code.to_string(),
                    place: observed.practice.place.to_string(),
                    occurred_at: envelope.occurred_at,
                    recorded_at: event.recorded_at,
                    compliant: observed.compliant(),
                });
            }
        }
        Ok(Self {
            cases: by_case.into_values().collect(),
            observations,
        })
    }

    /// What was true at `as_of` (business time), as the log stood at `known_at` (system time).
    pub fn snapshot(&self, as_of: DateTime<Utc>, known_at: DateTime<Utc>) -> Snapshot {
        let mut latest: HashMap<&str, (&str, DateTime<Utc>, bool)> = HashMap::new();
        for o in &self.observations {
            if o.occurred_at > as_of || o.recorded_at > known_at {
                continue;
            }
            if latest
                .get(o.ods_code.as_str())
                .is_none_or(|(_, seen, _)| *seen <= o.occurred_at)
            {
                latest.insert(&o.ods_code, (&o.place, o.occurred_at, o.compliant));
            }
        }
        let mut snapshot = Snapshot {
            practices: latest
                .into_values()
                .map(|(place, _, compliant)| (place.to_string(), compliant))
                .collect(),
            ..Snapshot::default()
        };
        for events in &self.cases {
            let case = events
                .iter()
                .filter(|(envelope, recorded_at)| envelope.occurred_at <= as_of && *recorded_at <= known_at)
                .fold(Case::default(), |case, (envelope, _)| evolve(case, envelope));
            if let (Some(status), Some(practice), Some(opened_at)) = (case.status, &case.practice, case.opened_at) {
                let place = practice.place.to_string();
                snapshot.cases.push(CaseFacts {
                    place,
                    status,
                    opened_at,
                    compliant_at: case.compliant_at,
                });
            }
        }
        snapshot
    }
}

async fn read_category(store: &EventStore, category: &str) -> Result<Vec<RecordedEvent>, ApiError> {
    let mut all = Vec::new();
    let mut position = Position::START;
    loop {
        let page = store.read_category(category, position, 5_000).await?;
        let Some(last) = page.last() else { break };
        position = last.position;
        all.extend(page);
    }
    Ok(all)
}
