//! `figures`: the read model behind every figure of the summary, the trend and the places. Each
//! case's and each practice's history as bitemporal rows ([`crate::timeline`]), and the day-by-day
//! changes of the present knowledge for trends. A case's rows are worked out again from its stream
//! whenever it has an event (cases are short); a practice's are extended in place by an
//! observation later than any it had, and worked out again from its stream only for one that
//! comes out of order.

mod held;
mod queries;
mod steps;
mod summary;

use std::collections::HashMap;

use caseledger_cases::case::{CaseEvent, StreamKind, StreamName, case_stream, decode_event};
use caseledger_cases::practice::{PracticeRegistration, SlotsObserved, practice_stream};
use caseledger_eventstore::{EventHandler, HandlerError, RecordedEvent, read_streams_with};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::envelope_of;
use crate::timeline::{Figure, Known, Observation, Observed, Row, bitemporal, forever, observed_bitemporal};

pub use held::HeldFigures;
pub use queries::{CaseCount, Episode, PracticeCount, Snapshot, TrendPoint, TrendScope, episodes, trend};
pub use steps::Metric;
pub use summary::{Figures, Summary, summarise};

pub const NAME: &str = <FiguresProjection as crate::declared::Registered>::NAME;

impl crate::declared::Registered for FiguresProjection {
    const NAME: &'static str = "figures";
    // A rebuild locks these in this order; held.rs reads three of them locked in the same order.
    const TABLES: &'static [&'static str] = &[
        "case_timeline",
        "practice_timeline",
        "practice_timeline_latest",
        "trend_steps",
        "trend_totals",
        "figures_changes",
    ];
}

#[derive(Debug, Default)]
pub struct FiguresProjection;

/// Case events after which `evolve` leaves every figure of the case as it was (its status, its
/// practice, its episode's opening and compliance), whenever they occurred: the case's rows need
/// not be worked out again for them. (The property test of `tests/figures.rs` plays them among
/// the others: one listed here wrongly makes the figures differ from the log's.)
const LEAVE_FIGURES: [&str; 5] = [
    "CaseAssigned",
    "RootCauseIdentified",
    "DhuVisibilityIssueReported",
    "GuidanceShared",
    "NoteAdded",
];

/// A stretch's end as stored: `None` for 'infinity' (which sqlx cannot decode into a `DateTime`:
/// every query that reads an end maps 'infinity' to null, and back to [`forever`]).
fn end(at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    (at != forever()).then_some(at)
}

#[derive(Debug, Serialize)]
struct CaseTimelineRow<'a> {
    case_id: Uuid,
    ods_code: &'a str,
    place: &'a str,
    pcn_code: &'a str,
    status: &'static str,
    opened_at: DateTime<Utc>,
    compliant_at: Option<DateTime<Utc>>,
    valid_from: DateTime<Utc>,
    valid_to: Option<DateTime<Utc>>,
    recorded_from: DateTime<Utc>,
    recorded_to: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize)]
struct PracticeTimelineRow<'a> {
    ods_code: &'a str,
    place: &'a str,
    pcn_code: &'a str,
    compliant: bool,
    valid_from: DateTime<Utc>,
    valid_to: Option<DateTime<Utc>>,
    recorded_from: DateTime<Utc>,
    recorded_to: Option<DateTime<Utc>>,
}

/// Whether a case event of type `event_type` can change its case's figures.
fn refigures_case(event_type: &str) -> bool {
    caseledger_cases::case::stream_kind_of(event_type) == StreamKind::Case && !LEAVE_FIGURES.contains(&event_type)
}

impl EventHandler for FiguresProjection {
    fn reads(&self, event_type: &str) -> bool {
        refigures_case(event_type) || PRACTICE_FIGURES.contains(&event_type)
    }

    async fn handle(&self, tx: &mut PgConnection, event: &RecordedEvent) -> Result<(), HandlerError> {
        self.handle_batch(tx, std::slice::from_ref(event)).await
    }

    async fn handle_batch(&self, tx: &mut PgConnection, events: &[RecordedEvent]) -> Result<(), HandlerError> {
        let mut cases: Vec<Uuid> = Vec::new();
        let mut seen: std::collections::HashSet<Uuid> = std::collections::HashSet::new();
        let mut observations: HashMap<String, Vec<Observation>> = HashMap::new();
        for event in events {
            match StreamName::parse(&event.stream_id) {
                Some(StreamName::Case(case_id)) if refigures_case(&event.event_type) && seen.insert(case_id) => {
                    cases.push(case_id);
                }
                Some(StreamName::Practice(ods_code)) if PRACTICE_FIGURES.contains(&event.event_type.as_str()) => {
                    if let Some(observation) = observation(event)? {
                        observations.entry(ods_code.to_string()).or_default().push(observation);
                    }
                }
                _ => {}
            }
        }
        let mut changes = steps::Changes::default();
        if !cases.is_empty() {
            refigure_cases(tx, &cases, &mut changes).await?;
        }
        let practices: Vec<String> = observations.keys().cloned().collect();
        if !observations.is_empty() {
            extend_practices(tx, observations, &mut changes).await?;
        }
        changes.write(tx).await?;
        held::record_changes(tx, &cases, &practices).await?;
        Ok(())
    }
}

/// The practice events the figures count: its dashboard rows, and the register's entries (which
/// say when it closed).
const PRACTICE_FIGURES: [&str; 3] = [
    SlotsObserved::EVENT_TYPE,
    PracticeRegistration::REGISTERED,
    PracticeRegistration::CHANGED,
];

/// A dashboard row as the figures count it, or a practice's closing: it leaves every figure from
/// its close date (from the entry's own time when ODS gives none).
fn observation(event: &RecordedEvent) -> Result<Option<Observation>, HandlerError> {
    let envelope = envelope_of(event)?;
    Ok(match decode_event(&event.event_type, event.data.get())? {
        CaseEvent::SlotsObserved(observed) => Some(Observation {
            occurred_at: envelope.occurred_at,
            recorded_at: event.recorded_at,
            observed: Some(Observed {
                place: observed.practice.place.to_string(),
                pcn_code: observed.practice.pcn_code.to_string(),
                compliant: observed.compliant(),
            }),
        }),
        CaseEvent::PracticeRegistered(entry) | CaseEvent::PracticeDetailsChanged(entry) => {
            entry.closed().map(|day| Observation {
                occurred_at: if day == chrono::NaiveDate::MIN {
                    envelope.occurred_at
                } else {
                    day.and_time(chrono::NaiveTime::MIN).and_utc()
                },
                recorded_at: event.recorded_at,
                observed: None,
            })
        }
        _ => None,
    })
}

/// Works out each case's rows again from its stream, and what that changes in the trend.
async fn refigure_cases(
    tx: &mut PgConnection,
    cases: &[Uuid],
    changes: &mut steps::Changes,
) -> Result<(), HandlerError> {
    let streams: Vec<String> = cases.iter().map(|id| case_stream(*id)).collect();
    let mut histories: HashMap<Uuid, Vec<Known>> = HashMap::new();
    for event in read_streams_with(tx, &streams).await? {
        if let Some(StreamName::Case(case_id)) = StreamName::parse(&event.stream_id) {
            histories.entry(case_id).or_default().push(Known {
                envelope: envelope_of(&event)?,
                recorded_at: event.recorded_at,
            });
        }
    }
    // What the present knowledge held before: taken back out of the trend.
    let before = sqlx::query!(
        r#"select place, pcn_code, status, compliant_at, valid_from, nullif(valid_to, 'infinity') as valid_to,
                  opened_at
             from case_timeline where case_id = any($1) and recorded_to = 'infinity'"#,
        cases
    )
    .fetch_all(&mut *tx)
    .await?;
    for row in before {
        let figure = Figure {
            status: caseledger_cases::CaseStatus::parse(&row.status).ok_or("a case_timeline row has no status")?,
            ods_code: String::new(),
            place: row.place,
            pcn_code: row.pcn_code,
            opened_at: row.opened_at,
            compliant_at: row.compliant_at,
        };
        changes.case_interval(&figure, row.valid_from, row.valid_to.unwrap_or_else(forever), -1);
    }
    let mut rows: Vec<(Uuid, Row<Figure>)> = Vec::new();
    for (case_id, history) in &histories {
        rows.extend(bitemporal(history).into_iter().map(|row| (*case_id, row)));
    }
    for (_, row) in rows.iter().filter(|(_, row)| row.recorded_to == forever()) {
        changes.case_interval(&row.figure, row.valid_from, row.valid_to, 1);
    }
    sqlx::query!("delete from case_timeline where case_id = any($1)", cases)
        .execute(&mut *tx)
        .await?;
    let rows: Vec<CaseTimelineRow> = rows
        .iter()
        .map(|(case_id, row)| CaseTimelineRow {
            case_id: *case_id,
            ods_code: &row.figure.ods_code,
            place: &row.figure.place,
            pcn_code: &row.figure.pcn_code,
            status: row.figure.status.as_str(),
            opened_at: row.figure.opened_at,
            compliant_at: row.figure.compliant_at,
            valid_from: row.valid_from,
            valid_to: end(row.valid_to),
            recorded_from: row.recorded_from,
            recorded_to: end(row.recorded_to),
        })
        .collect();
    sqlx::query!(
        r#"insert into case_timeline
           select case_id, ods_code, place, pcn_code, status, opened_at, compliant_at, valid_from,
                  coalesce(valid_to, 'infinity'), recorded_from, coalesce(recorded_to, 'infinity')
             from jsonb_to_recordset($1) as r(
                  case_id uuid, ods_code text, place text, pcn_code text, status text, opened_at timestamptz,
                  compliant_at timestamptz, valid_from timestamptz, valid_to timestamptz,
                  recorded_from timestamptz, recorded_to timestamptz)"#,
        serde_json::to_value(rows)?
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The practice's present knowledge, as stored.
struct Current {
    valid_from: DateTime<Utc>,
    valid_to: DateTime<Utc>,
    recorded_from: DateTime<Utc>,
    observed: Observed,
}

#[derive(sqlx::FromRow)]
struct CurrentRow {
    ods_code: String,
    place: String,
    pcn_code: String,
    compliant: bool,
    valid_from: DateTime<Utc>,
    valid_to: Option<DateTime<Utc>>,
    recorded_from: DateTime<Utc>,
}

/// Adds each practice's new observations (in log order) to its rows: in place when each is later
/// than any the practice had, otherwise from its whole stream again. A batch's practices are read
/// and written together, a few statements for all of them.
async fn extend_practices(
    tx: &mut PgConnection,
    observations: HashMap<String, Vec<Observation>>,
    changes: &mut steps::Changes,
) -> Result<(), HandlerError> {
    let codes: Vec<&str> = observations.keys().map(String::as_str).collect();
    let latest: HashMap<String, DateTime<Utc>> =
        sqlx::query_as("select ods_code, occurred_at from practice_timeline_latest where ods_code = any($1)")
            .bind(&codes)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .collect();
    let mut current: HashMap<String, Vec<Current>> = HashMap::new();
    let rows: Vec<CurrentRow> = sqlx::query_as(
        r#"select ods_code, place, pcn_code, compliant, valid_from, nullif(valid_to, 'infinity') as valid_to,
                  recorded_from
             from practice_timeline where ods_code = any($1) and recorded_to = 'infinity'
            order by ods_code, valid_from"#,
    )
    .bind(&codes)
    .fetch_all(&mut *tx)
    .await?;
    for row in rows {
        current.entry(row.ods_code).or_default().push(Current {
            valid_from: row.valid_from,
            valid_to: row.valid_to.unwrap_or_else(forever),
            recorded_from: row.recorded_from,
            observed: Observed {
                place: row.place,
                pcn_code: row.pcn_code,
                compliant: row.compliant,
            },
        });
    }

    // Those whose new observations all come after what they had change only at the tail (their
    // present knowledge is written again); the others are worked out from their stream.
    let mut extended: Vec<(String, Vec<Row<Observed>>)> = Vec::new();
    let mut from_stream: Vec<String> = Vec::new();
    let mut newest: Vec<(String, DateTime<Utc>)> = Vec::new();
    for (ods_code, observed) in observations {
        let in_order = observed
            .iter()
            .try_fold(latest.get(&ods_code).copied(), |latest, o| match latest {
                Some(latest) if o.occurred_at <= latest => None,
                _ => Some(Some(o.occurred_at)),
            })
            .is_some();
        let current = current.remove(&ods_code).unwrap_or_default();
        for row in &current {
            changes.practice_interval(&row.observed, row.valid_from, row.valid_to, -1);
        }
        if let Some(last) = observed.iter().map(|o| o.occurred_at).max() {
            newest.push((ods_code.clone(), last));
        }
        if in_order {
            let rows = extend_in_order(current, observed);
            extended.push((ods_code, rows));
        } else {
            from_stream.push(ods_code);
        }
    }
    let in_place: Vec<&str> = extended.iter().map(|(code, _)| code.as_str()).collect();
    sqlx::query("delete from practice_timeline where ods_code = any($1) and recorded_to = 'infinity'")
        .bind(&in_place)
        .execute(&mut *tx)
        .await?;
    for ods_code in from_stream {
        let stream = practice_stream(&caseledger_cases::values::OdsCode::parse(&ods_code)?);
        let mut all = Vec::new();
        for event in read_streams_with(tx, &[stream]).await? {
            if PRACTICE_FIGURES.contains(&event.event_type.as_str())
                && let Some(observation) = observation(&event)?
            {
                all.push(observation);
            }
        }
        sqlx::query!("delete from practice_timeline where ods_code = $1", ods_code)
            .execute(&mut *tx)
            .await?;
        extended.push((ods_code, observed_bitemporal(&all)));
    }

    let mut rows: Vec<PracticeTimelineRow> = Vec::new();
    for (ods_code, practice_rows) in &extended {
        for row in practice_rows {
            if row.recorded_to == forever() {
                changes.practice_interval(&row.figure, row.valid_from, row.valid_to, 1);
            }
            rows.push(PracticeTimelineRow {
                ods_code,
                place: &row.figure.place,
                pcn_code: &row.figure.pcn_code,
                compliant: row.figure.compliant,
                valid_from: row.valid_from,
                valid_to: end(row.valid_to),
                recorded_from: row.recorded_from,
                recorded_to: end(row.recorded_to),
            });
        }
    }
    sqlx::query!(
        r#"insert into practice_timeline
           select ods_code, place, pcn_code, compliant, valid_from, coalesce(valid_to, 'infinity'), recorded_from,
                  coalesce(recorded_to, 'infinity')
             from jsonb_to_recordset($1) as r(
                  ods_code text, place text, pcn_code text, compliant boolean, valid_from timestamptz,
                  valid_to timestamptz, recorded_from timestamptz, recorded_to timestamptz)"#,
        serde_json::to_value(rows)?
    )
    .execute(&mut *tx)
    .await?;
    let (codes, times): (Vec<String>, Vec<DateTime<Utc>>) = newest.into_iter().unzip();
    sqlx::query(
        "insert into practice_timeline_latest (ods_code, occurred_at)
         select * from unnest($1::text[], $2::timestamptz[])
         on conflict (ods_code) do update set occurred_at = greatest(practice_timeline_latest.occurred_at, excluded.occurred_at)",
    )
    .bind(&codes)
    .bind(&times)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// A practice's rows after `observed`, each later than any it had: its present knowledge
/// (`current`) with the last interval closed where it changed, and the rows that closes.
fn extend_in_order(current: Vec<Current>, observed: Vec<Observation>) -> Vec<Row<Observed>> {
    let mut rows: Vec<Row<Observed>> = current
        .into_iter()
        .map(|row| Row {
            valid_from: row.valid_from,
            valid_to: row.valid_to,
            recorded_from: row.recorded_from,
            recorded_to: forever(),
            figure: row.observed,
        })
        .collect();
    let mut closed: Vec<Row<Observed>> = Vec::new();
    for o in observed {
        let open = rows.last().filter(|last| last.valid_to == forever());
        // The same as before: the last interval just goes on.
        if open.is_some_and(|last| Some(&last.figure) == o.observed.as_ref()) {
            continue;
        }
        if open.is_some()
            && let Some(mut ended) = rows.pop()
        {
            rows.push(Row {
                valid_from: ended.valid_from,
                valid_to: o.occurred_at,
                recorded_from: o.recorded_at,
                recorded_to: forever(),
                figure: ended.figure.clone(),
            });
            ended.recorded_to = o.recorded_at;
            if ended.recorded_from < ended.recorded_to {
                closed.push(ended);
            }
        }
        // A closing starts nothing; a row after it starts the practice again.
        if let Some(figure) = o.observed {
            rows.push(Row {
                valid_from: o.occurred_at,
                valid_to: forever(),
                recorded_from: o.recorded_at,
                recorded_to: forever(),
                figure,
            });
        }
    }
    rows.extend(closed);
    rows
}

/// The first day (UTC) any case was open, as known now: where a trend of the cases starts.
pub async fn trend_start(pool: &sqlx::PgPool) -> Result<Option<chrono::NaiveDate>, sqlx::Error> {
    sqlx::query_scalar!(
        "select min(day) from trend_totals where metric = $1 and delta <> 0",
        Metric::OpenCases.as_str()
    )
    .fetch_one(pool)
    .await
}
