//! Compliance summaries and trends. The live summary reads the views; a summary as of a business
//! time (`asOf`) or as known at a system time (`knownAt`) folds the event log. Both reduce to one
//! `Snapshot` and go through one `summarise`, so at "now" they agree by construction of the data,
//! not of the arithmetic.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use async_graphql::SimpleObject;
use caseledger_cases::case::CaseEvent as DomainEvent;
use caseledger_cases::{Case, CaseStatus as DomainStatus, evolve};
use caseledger_commands::envelope_of;
use caseledger_eventstore::{EventStore, Position};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgPool;

use super::enums::CaseStatus;
use super::scalars::Date;
use crate::error::ApiError;

/// The figures. One definition: a case is *open* until COMPLIANT or CLOSED; a case is *compliant*
/// when its current episode (since the flag or the last reopen) reached compliance, whether or not
/// it was closed after; its *time to compliance* is from the episode's opening to that
/// confirmation; *within N days* counts the compliant cases whose time was at most N days, as a
/// share of the cases opened.
#[derive(SimpleObject, Debug, Clone, PartialEq)]
#[graphql(complex)]
pub struct ComplianceSummary {
    pub as_of: DateTime<Utc>,
    /// Practices with at least one observation.
    pub practices: i32,
    /// Latest observation at `asOf` below the requirement.
    pub non_compliant_practices: i32,
    pub cases_opened: i32,
    /// Not COMPLIANT, not CLOSED.
    pub open_cases: i32,
    /// Cases whose current episode reached compliance (closed afterwards or not).
    pub compliant_cases: i32,
    pub closed_cases: i32,
    /// openedAt → compliantAt, over the compliant cases.
    pub median_days_to_compliance: Option<f64>,
    pub by_status: Vec<StatusCount>,
    pub by_place: Vec<PlaceSummary>,
    #[graphql(skip)]
    pub durations_ms: Vec<i64>,
}

/// How many cases reached compliance within a number of days of opening.
#[derive(SimpleObject, Debug, Clone, PartialEq)]
pub struct WithinDays {
    pub days: i32,
    pub count: i32,
    /// `count` as a percentage of the cases opened; null when none were.
    pub percentage: Option<f64>,
}

fn within(durations_ms: &[i64], opened: i32, days: i32) -> async_graphql::Result<WithinDays> {
    if !(0..=3660).contains(&days) {
        return Err(async_graphql::ErrorExtensions::extend(&ApiError::bad_input(
            "days",
            "must be from 0 to 3660",
        )));
    }
    let limit = i64::from(days) * 86_400_000;
    let count = i32::try_from(durations_ms.iter().filter(|ms| **ms <= limit).count()).unwrap_or(i32::MAX);
    Ok(WithinDays {
        days,
        count,
        percentage: (opened > 0).then(|| f64::from(count) * 100.0 / f64::from(opened)),
    })
}

#[async_graphql::ComplexObject]
impl ComplianceSummary {
    /// The compliant cases whose time to compliance was at most `days` (8 weeks by default).
    async fn compliant_within_days(&self, #[graphql(default = 56)] days: i32) -> async_graphql::Result<WithinDays> {
        within(&self.durations_ms, self.cases_opened, days)
    }
}

#[derive(SimpleObject, Debug, Clone, PartialEq)]
pub struct StatusCount {
    pub status: CaseStatus,
    pub count: i32,
}

#[derive(SimpleObject, Debug, Clone, PartialEq)]
#[graphql(complex)]
pub struct PlaceSummary {
    pub place: String,
    pub open_cases: i32,
    pub compliant_cases: i32,
    pub non_compliant_practices: i32,
    pub cases_opened: i32,
    /// openedAt → compliantAt, over the place's compliant cases.
    pub median_days_to_compliance: Option<f64>,
    #[graphql(skip)]
    pub durations_ms: Vec<i64>,
}

#[async_graphql::ComplexObject]
impl PlaceSummary {
    /// The place's compliant cases whose time to compliance was at most `days`.
    async fn compliant_within_days(&self, #[graphql(default = 56)] days: i32) -> async_graphql::Result<WithinDays> {
        within(&self.durations_ms, self.cases_opened, days)
    }
}

/// The state at the end of that day (UTC), by business time.
#[derive(SimpleObject, Debug, Clone, PartialEq)]
pub struct TrendPoint {
    pub date: Date,
    pub open_cases: i32,
    pub compliant_cases: i32,
    pub non_compliant_practices: i32,
}

/// What a summary counts, however it was found: counts by place (and status), and the time to
/// compliance (openedAt → compliantAt, in milliseconds) of each compliant case, by place.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// place → (practices observed, of them non-compliant)
    practices: BTreeMap<String, (i64, i64)>,
    /// (place, status) → cases
    cases: BTreeMap<(String, DomainStatus), i64>,
    /// place → the durations of its compliant cases, in milliseconds, sorted
    durations: BTreeMap<String, Vec<i64>>,
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
    let int = |n: i64| i32::try_from(n).unwrap_or(i32::MAX);
    let mut places: BTreeMap<&str, PlaceSummary> = BTreeMap::new();
    for (place, (_, non_compliant)) in &snapshot.practices {
        places
            .entry(place)
            .or_insert_with(|| empty_place(place))
            .non_compliant_practices += int(*non_compliant);
    }
    for ((place, status), count) in &snapshot.cases {
        let entry = places.entry(place).or_insert_with(|| empty_place(place));
        entry.cases_opened += int(*count);
        if status.is_open() {
            entry.open_cases += int(*count);
        }
    }
    let mut all_durations = Vec::new();
    for (place, durations) in &snapshot.durations {
        let entry = places.entry(place).or_insert_with(|| empty_place(place));
        entry.compliant_cases = int(i64::try_from(durations.len()).unwrap_or(i64::MAX));
        entry.median_days_to_compliance = median_days(durations);
        entry.durations_ms = durations.clone();
        all_durations.extend_from_slice(durations);
    }
    all_durations.sort_unstable();
    let with = |wanted: fn(DomainStatus) -> bool| {
        snapshot
            .cases
            .iter()
            .filter(|((_, s), _)| wanted(*s))
            .map(|(_, n)| n)
            .sum::<i64>()
    };
    ComplianceSummary {
        as_of,
        practices: int(snapshot.practices.values().map(|(n, _)| n).sum()),
        non_compliant_practices: int(snapshot.practices.values().map(|(_, n)| n).sum()),
        cases_opened: int(with(|_| true)),
        open_cases: int(with(DomainStatus::is_open)),
        compliant_cases: int(i64::try_from(all_durations.len()).unwrap_or(i64::MAX)),
        closed_cases: int(with(|s| s == DomainStatus::Closed)),
        median_days_to_compliance: median_days(&all_durations),
        by_status: STATUSES
            .iter()
            .map(|s| StatusCount {
                status: (*s).into(),
                count: int(snapshot
                    .cases
                    .iter()
                    .filter(|((_, st), _)| st == s)
                    .map(|(_, n)| n)
                    .sum()),
            })
            .collect(),
        by_place: places.into_values().collect(),
        durations_ms: all_durations,
    }
}

/// The median of sorted durations, in days.
fn median_days(sorted_ms: &[i64]) -> Option<f64> {
    let n = sorted_ms.len();
    let ms = match n {
        0 => return None,
        _ if n % 2 == 1 => sorted_ms[n / 2] as f64,
        _ => (sorted_ms[n / 2 - 1] as f64 + sorted_ms[n / 2] as f64) / 2.0,
    };
    Some(ms / 86_400_000.0)
}

fn empty_place(name: &str) -> PlaceSummary {
    PlaceSummary {
        place: name.to_string(),
        open_cases: 0,
        compliant_cases: 0,
        non_compliant_practices: 0,
        cases_opened: 0,
        median_days_to_compliance: None,
        durations_ms: Vec::new(),
    }
}

/// The live snapshot, computed again only when a projection has committed since: the views
/// change only then, and a summary is read far more often than the views change.
#[derive(Debug, Clone, Default)]
pub struct SummaryCache(Arc<Mutex<Option<Cached>>>);

/// The projections' checkpoints, and the snapshot computed at them.
type Cached = (Vec<String>, Arc<Snapshot>);

/// The projections' checkpoints: they move with every event of the log (each projection reads
/// `$all`), so anything computed from the log after reading them is at least as new.
async fn log_key(pool: &PgPool) -> Result<Vec<String>, ApiError> {
    let names: Vec<String> = caseledger_projections::NAMES.iter().map(|n| n.to_string()).collect();
    Ok(sqlx::query_scalar!(
        r#"select subscriber || '@' || tx_id::text || '/' || position as "checkpoint!"
                 from subscription_checkpoints where subscriber = any($1) order by subscriber"#,
        &names
    )
    .fetch_all(pool)
    .await?)
}

impl SummaryCache {
    pub async fn snapshot(&self, pool: &PgPool) -> Result<Arc<Snapshot>, ApiError> {
        let key = log_key(pool).await?;
        if let Some((cached_key, snapshot)) = self.0.lock().map_err(|_| poisoned())?.as_ref()
            && *cached_key == key
        {
            return Ok(snapshot.clone());
        }
        // Computed after reading the key, so it is at least as new as the key says.
        let snapshot = Arc::new(live_snapshot(pool).await?);
        *self.0.lock().map_err(|_| poisoned())? = Some((key, snapshot.clone()));
        Ok(snapshot)
    }
}

fn poisoned() -> ApiError {
    ApiError::internal(caseledger_eventstore::StoreError::Malformed(
        "the summary cache's lock was poisoned".into(),
    ))
}

/// The live snapshot: aggregated by the database from the views.
pub async fn live_snapshot(pool: &PgPool) -> Result<Snapshot, ApiError> {
    let mut snapshot = Snapshot::default();
    let practices = sqlx::query!(
        r#"select place, count(*) as "practices!", count(*) filter (where not compliant) as "non_compliant!"
             from practice_view group by place"#
    )
    .fetch_all(pool)
    .await?;
    for row in practices {
        snapshot.practices.insert(row.place, (row.practices, row.non_compliant));
    }
    let cases = sqlx::query!(r#"select place, status, count(*) as "cases!" from case_view group by place, status"#)
        .fetch_all(pool)
        .await?;
    for row in cases {
        let status = serde_json::from_value(row.status.clone().into()).map_err(|_| {
            ApiError::internal(caseledger_eventstore::StoreError::Malformed(format!(
                "status {}",
                row.status
            )))
        })?;
        snapshot.cases.insert((row.place, status), row.cases);
    }
    let durations = sqlx::query!(
        r#"select place, (extract(epoch from (compliant_at - opened_at)) * 1000)::bigint as "ms!"
             from case_view where compliant_at is not null order by 2"#
    )
    .fetch_all(pool)
    .await?;
    for row in durations {
        snapshot.durations.entry(row.place).or_default().push(row.ms);
    }
    Ok(snapshot)
}

/// The timeline of the log as it stands, loaded again only when the log has grown. One load at
/// a time: requests that arrive during a load wait for it and share it, instead of each reading
/// the whole log (16 concurrent loads of a 1,000,000-event log took minutes and 17 GB).
#[derive(Clone, Default)]
pub struct TimelineCache(Arc<tokio::sync::Mutex<Option<CachedTimeline>>>);

/// The timeline loaded at some checkpoints of the projections, and the trends asked of it.
struct CachedTimeline {
    key: Vec<String>,
    timeline: Arc<Timeline>,
    /// (from, to, every days) → points; the dashboard asks everyone the same one.
    trends: HashMap<(NaiveDate, NaiveDate, i64), Arc<Vec<TrendPoint>>>,
}

impl std::fmt::Debug for TimelineCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimelineCache").finish_non_exhaustive()
    }
}

impl TimelineCache {
    /// The timeline as the log stands (waits while another request loads it).
    pub async fn timeline(&self, store: &EventStore) -> Result<Arc<Timeline>, ApiError> {
        let key = log_key(store.pool()).await?;
        let mut cached = self.0.lock().await;
        Ok(Self::current(&mut cached, store, key).await?.timeline.clone())
    }

    /// A trend of the log as it stands, computed once while the log stays as it was.
    pub async fn trend(
        &self,
        store: &EventStore,
        from: NaiveDate,
        to: NaiveDate,
        every_days: i64,
    ) -> Result<Arc<Vec<TrendPoint>>, ApiError> {
        let key = log_key(store.pool()).await?;
        let mut cached = self.0.lock().await;
        let current = Self::current(&mut cached, store, key).await?;
        if let Some(points) = current.trends.get(&(from, to, every_days)) {
            return Ok(points.clone());
        }
        let timeline = current.timeline.clone();
        let points = tokio::task::spawn_blocking(move || timeline.trend(from, to, every_days, Utc::now()))
            .await
            .map_err(ApiError::internal)?;
        let points = Arc::new(points);
        current.trends.insert((from, to, every_days), points.clone());
        Ok(points)
    }

    async fn current<'a>(
        cached: &'a mut Option<CachedTimeline>,
        store: &EventStore,
        key: Vec<String>,
    ) -> Result<&'a mut CachedTimeline, ApiError> {
        if cached.as_ref().is_none_or(|c| c.key != key) {
            *cached = Some(CachedTimeline {
                key,
                timeline: Arc::new(Timeline::load(store).await?),
                trends: HashMap::new(),
            });
        }
        cached.as_mut().ok_or_else(poisoned)
    }
}

/// Every case and practice event, for folding to any moment.
pub struct Timeline {
    cases: Vec<Vec<(caseledger_cases::EventEnvelope, DateTime<Utc>)>>,
    observations: Vec<ObservationFacts>,
}

impl Timeline {
    /// One pass over `$all` in global order (the store's fastest read: a category read re-sorts
    /// what is left of the category for every page), keeping case and practice events.
    pub async fn load(store: &EventStore) -> Result<Self, ApiError> {
        let mut by_case: HashMap<String, Vec<(caseledger_cases::EventEnvelope, DateTime<Utc>)>> = HashMap::new();
        let mut observations = Vec::new();
        let mut position = Position::START;
        loop {
            let page = store.read_all(position, 5_000).await?;
            let Some(last) = page.last() else { break };
            position = last.position;
            for event in &page {
                if event.stream_id.starts_with("case-") {
                    let envelope = envelope_of(event).map_err(ApiError::from)?;
                    by_case
                        .entry(event.stream_id.clone())
                        .or_default()
                        .push((envelope, event.recorded_at));
                } else if event.stream_id.starts_with("practice-") {
                    let envelope = envelope_of(event).map_err(ApiError::from)?;
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
            }
        }
        Ok(Self {
            cases: by_case.into_values().collect(),
            observations,
        })
    }

    /// What was true at `as_of` (business time), as the log stood at `known_at` (system time).
    pub fn snapshot(&self, as_of: DateTime<Utc>, known_at: DateTime<Utc>) -> Snapshot {
        self.snapshots(&[as_of], known_at).pop().unwrap_or_default()
    }

    /// The snapshots at each of `points` (in ascending order), as the log stood at `known_at`:
    /// one sweep over the observations in business-time order, so a trend of many points does
    /// not scan every observation for each.
    pub fn snapshots(&self, points: &[DateTime<Utc>], known_at: DateTime<Utc>) -> Vec<Snapshot> {
        let mut known: Vec<&ObservationFacts> =
            self.observations.iter().filter(|o| o.recorded_at <= known_at).collect();
        // Stable: of observations at the same time, the later in the log counts, as it would if
        // each were read in log order.
        known.sort_by_key(|o| o.occurred_at);
        let mut latest: HashMap<&str, (&str, bool)> = HashMap::new();
        let mut next = 0;
        points
            .iter()
            .map(|&as_of| {
                while let Some(o) = known.get(next).filter(|o| o.occurred_at <= as_of) {
                    latest.insert(&o.ods_code, (&o.place, o.compliant));
                    next += 1;
                }
                let mut snapshot = Snapshot::default();
                for (place, compliant) in latest.values() {
                    let entry = snapshot.practices.entry(place.to_string()).or_default();
                    entry.0 += 1;
                    entry.1 += i64::from(!compliant);
                }
                self.count_cases(as_of, known_at, &mut snapshot);
                snapshot
            })
            .collect()
    }

    /// The cases as they stood at `as_of`, known at `known_at`, counted into `snapshot`.
    fn count_cases(&self, as_of: DateTime<Utc>, known_at: DateTime<Utc>, snapshot: &mut Snapshot) {
        for events in &self.cases {
            let case = events
                .iter()
                .filter(|(envelope, recorded_at)| envelope.occurred_at <= as_of && *recorded_at <= known_at)
                .fold(Case::default(), |case, (envelope, _)| evolve(case, envelope));
            if let (Some(status), Some(practice)) = (case.status, &case.practice) {
                let place = practice.place.to_string();
                if let (Some(opened), Some(compliant)) = (case.opened_at, case.compliant_at) {
                    snapshot
                        .durations
                        .entry(place.clone())
                        .or_default()
                        .push((compliant - opened).num_milliseconds());
                }
                *snapshot.cases.entry((place, status)).or_default() += 1;
            }
        }
        for durations in snapshot.durations.values_mut() {
            durations.sort_unstable();
        }
    }

    /// The state at the end of each day (UTC) from `from` to `to`, every `every_days` days.
    pub fn trend(&self, from: NaiveDate, to: NaiveDate, every_days: i64, now: DateTime<Utc>) -> Vec<TrendPoint> {
        let mut days = Vec::new();
        let mut day = from;
        while day <= to {
            days.push(day);
            day += chrono::Duration::days(every_days);
        }
        let ends: Vec<DateTime<Utc>> = days
            .iter()
            .map(|day| day.and_hms_milli_opt(23, 59, 59, 999).map_or(now, |t| t.and_utc()))
            .collect();
        days.into_iter()
            .zip(self.snapshots(&ends, now).iter().zip(&ends))
            .map(|(day, (snapshot, end))| {
                let summary = summarise(snapshot, *end);
                TrendPoint {
                    date: Date(day),
                    open_cases: summary.open_cases,
                    compliant_cases: summary.compliant_cases,
                    non_compliant_practices: summary.non_compliant_practices,
                }
            })
            .collect()
    }
}
