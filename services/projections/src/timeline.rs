//! Time as data: a case's history as bitemporal rows. Each row says what the case looked like
//! (its status, place, episode) over a stretch of business time (`valid_from` to `valid_to`,
//! `occurred_at`), as the system knew it over a stretch of system time (`recorded_from` to
//! `recorded_to`, `recorded_at`). The case's figures at any (asOf, knownAt) are then the rows whose
//! two stretches hold that point: one row per case, found by an index, never by reading the log.
//!
//! The rows are a pure function of the case's events: as known after each commit (a prefix of the
//! events in log order), the case at business time `t` is the fold, in log order, of the known
//! events that occurred at or before `t`: the same fold a replay of the log filtered to
//! `occurred_at <= asOf` and `recorded_at <= knownAt` makes.

use std::collections::HashMap;

use caseledger_cases::{Case, CaseStatus, EventEnvelope, evolve};
use chrono::{DateTime, Utc};

/// Business or system time without end.
pub fn forever() -> DateTime<Utc> {
    DateTime::<Utc>::MAX_UTC
}

/// What the figures need of a case at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Figure {
    pub status: CaseStatus,
    pub ods_code: String,
    pub place: String,
    pub pcn_code: String,
    /// The episode's opening (the flag, or the last reopen).
    pub opened_at: DateTime<Utc>,
    /// When the episode reached compliance, if it has.
    pub compliant_at: Option<DateTime<Utc>>,
}

impl Figure {
    fn of(case: &Case) -> Option<Figure> {
        let practice = case.practice.as_ref()?;
        Some(Figure {
            status: case.status?,
            ods_code: practice.ods_code.to_string(),
            place: practice.place.to_string(),
            pcn_code: practice.pcn_code.to_string(),
            opened_at: case.opened_at?,
            compliant_at: case.compliant_at,
        })
    }
}

/// One bitemporal row: what held (`figure`) over business time `valid_from..valid_to`, as known
/// over system time `recorded_from..recorded_to` (both half-open; [`forever`] for no end).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row<F> {
    pub valid_from: DateTime<Utc>,
    pub valid_to: DateTime<Utc>,
    pub recorded_from: DateTime<Utc>,
    pub recorded_to: DateTime<Utc>,
    pub figure: F,
}

/// A stretch of business time and what held over it.
pub type Interval<F> = (DateTime<Utc>, DateTime<Utc>, F);

/// The rows of a history known in steps: for each commit (its system time, in order), the whole
/// business timeline as known after it. Intervals that stay the same from one step to the next
/// stay one row; those that change close at the step and open anew.
pub fn compress<F: Clone + Eq + std::hash::Hash>(
    steps: impl IntoIterator<Item = (DateTime<Utc>, Vec<Interval<F>>)>,
) -> Vec<Row<F>> {
    let mut rows: Vec<Row<F>> = Vec::new();
    // The intervals known now, and where each sits in `rows`.
    let mut open: HashMap<Interval<F>, usize> = HashMap::new();
    for (recorded_at, timeline) in steps {
        let mut still_open = HashMap::with_capacity(timeline.len());
        for interval in timeline {
            let index = match open.remove(&interval) {
                Some(index) => index,
                None => {
                    rows.push(Row {
                        valid_from: interval.0,
                        valid_to: interval.1,
                        recorded_from: recorded_at,
                        recorded_to: forever(),
                        figure: interval.2.clone(),
                    });
                    rows.len() - 1
                }
            };
            still_open.insert(interval, index);
        }
        // What is no longer known as it was closes now.
        for (_, index) in open.drain() {
            rows[index].recorded_to = recorded_at;
        }
        open = still_open;
    }
    // A row learnt and withdrawn in the same instant was never known.
    rows.retain(|row| row.recorded_from < row.recorded_to);
    rows
}

/// Adjacent intervals with the same figure made one.
fn merged<F: PartialEq>(points: Vec<(DateTime<Utc>, Option<F>)>) -> Vec<Interval<F>> {
    let mut intervals: Vec<Interval<F>> = Vec::new();
    let ends: Vec<DateTime<Utc>> = points.iter().skip(1).map(|(at, _)| *at).chain([forever()]).collect();
    for ((from, figure), to) in points.into_iter().zip(ends) {
        let Some(figure) = figure else { continue };
        match intervals.last_mut() {
            Some(last) if last.1 == from && last.2 == figure => last.1 = to,
            _ => intervals.push((from, to, figure)),
        }
    }
    intervals
}

/// One of a case's events, with when it happened and when it was recorded.
#[derive(Debug, Clone)]
pub struct Known {
    pub envelope: EventEnvelope,
    pub recorded_at: DateTime<Utc>,
}

/// The case over business time, as known from `events` (in log order): intervals with what the
/// case looked like, adjacent equal ones merged.
pub fn business_timeline(events: &[&Known]) -> Vec<Interval<Figure>> {
    let mut times: Vec<DateTime<Utc>> = events.iter().map(|e| e.envelope.occurred_at).collect();
    times.sort_unstable();
    times.dedup();
    let in_order = events
        .windows(2)
        .all(|pair| pair[0].envelope.occurred_at <= pair[1].envelope.occurred_at);
    let mut states: Vec<(DateTime<Utc>, Option<Figure>)> = Vec::with_capacity(times.len());
    if in_order {
        // The common case: each time's fold extends the last.
        let mut case = Case::default();
        let mut next = 0;
        for &at in &times {
            while let Some(event) = events.get(next).filter(|e| e.envelope.occurred_at <= at) {
                case = evolve(case, &event.envelope);
                next += 1;
            }
            states.push((at, Figure::of(&case)));
        }
    } else {
        for &at in &times {
            let case = events
                .iter()
                .filter(|e| e.envelope.occurred_at <= at)
                .fold(Case::default(), |case, e| evolve(case, &e.envelope));
            states.push((at, Figure::of(&case)));
        }
    }
    merged(states)
}

/// The commits of `events` (in log order): for each, the system time and how many events were
/// known after it (one commit's events are learnt together).
fn commits<T>(events: &[T], recorded_at: impl Fn(&T) -> DateTime<Utc>) -> Vec<(DateTime<Utc>, usize)> {
    let mut commits: Vec<(DateTime<Utc>, usize)> = Vec::new();
    for (i, event) in events.iter().enumerate() {
        let at = recorded_at(event);
        match commits.last_mut() {
            Some(last) if last.0 == at => last.1 = i + 1,
            _ => commits.push((at, i + 1)),
        }
    }
    commits
}

/// Every bitemporal row of a case with `events` (its stream, in log order).
pub fn bitemporal(events: &[Known]) -> Vec<Row<Figure>> {
    compress(
        commits(events, |e| e.recorded_at)
            .into_iter()
            .map(|(recorded_at, known)| {
                let known: Vec<&Known> = events[..known].iter().collect();
                (recorded_at, business_timeline(&known))
            }),
    )
}

/// What the figures need of a practice over a stretch of business time.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Observed {
    pub place: String,
    pub pcn_code: String,
    pub compliant: bool,
}

/// One dashboard row of a practice, with when it held (its report date) and when it was recorded;
/// or, with `observed` none, its closing (ODS's close date): from then it is in no figure.
#[derive(Debug, Clone)]
pub struct Observation {
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub observed: Option<Observed>,
}

/// The practice over business time as known from `observations` (in log order): each holds from
/// its time until the next (of the same time, the later in the log counts).
fn observed_timeline(observations: &[Observation]) -> Vec<Interval<Observed>> {
    let mut by_time: Vec<&Observation> = observations.iter().collect();
    // Stable: at equal times the later in the log stays last.
    by_time.sort_by_key(|o| o.occurred_at);
    let mut points: Vec<(DateTime<Utc>, Option<Observed>)> = Vec::with_capacity(by_time.len());
    for observation in by_time {
        match points.last_mut() {
            Some(last) if last.0 == observation.occurred_at => last.1 = observation.observed.clone(),
            _ => points.push((observation.occurred_at, observation.observed.clone())),
        }
    }
    merged(points)
}

/// Every bitemporal row of a practice with `observations` (its stream's, in log order).
pub fn observed_bitemporal(observations: &[Observation]) -> Vec<Row<Observed>> {
    compress(
        commits(observations, |o| o.recorded_at)
            .into_iter()
            .map(|(recorded_at, known)| (recorded_at, observed_timeline(&observations[..known]))),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use caseledger_cases::case::*;
    use caseledger_cases::practice::PracticeDetails;
    use caseledger_cases::values::{ListSize, OdsCode, PcnCode, ShortText, SlotCount};
    use caseledger_cases::{Actor, Role};
    use chrono::TimeZone;

    fn t(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, day, 12, 0, 0)
            .single()
            .unwrap_or_default()
    }

    fn known(event: CaseEvent, occurred: u32, recorded: u32) -> Known {
        Known {
            envelope: EventEnvelope {
                event,
                occurred_at: t(occurred),
                actor: Actor::new(
                    ShortText::parse("someone").unwrap_or_else(|_| unreachable!()),
                    Role::Icb,
                ),
            },
            recorded_at: t(recorded),
        }
    }

    fn flagged() -> CaseEvent {
        CaseEvent::PracticeFlagged(PracticeFlagged {
            practice: PracticeDetails {
                ods_code: OdsCode::parse("Z00012").unwrap_or_else(|_| unreachable!()),
                name: ShortText::parse("Mill").unwrap_or_else(|_| unreachable!()),
                pcn_code: PcnCode::parse("U10001").unwrap_or_else(|_| unreachable!()),
                pcn_name: None,
                place: ShortText::parse("Coventry").unwrap_or_else(|_| unreachable!()),
            },
            list_size: ListSize::new(3000).unwrap_or_else(|_| unreachable!()),
            required_slots: 1,
            visible_slots: SlotCount::new(0).unwrap_or_else(|_| unreachable!()),
            source: FlagSource {
                kind: FlagSourceKind::Manual,
                report_date: None,
                report_id: None,
            },
            reason: None,
        })
    }

    fn remapped() -> CaseEvent {
        CaseEvent::SlotsRemapped(SlotsRemapped {
            changes: vec![RemapChange::AddSlots],
            slots_per_day_configured: SlotCount::new(1).unwrap_or_else(|_| unreachable!()),
        })
    }

    fn contacted() -> CaseEvent {
        CaseEvent::PracticeContacted(PracticeContacted {
            channel: ContactChannel::Phone,
            contact_name: None,
            summary: caseledger_cases::values::FreeText::parse("x").unwrap_or_else(|_| unreachable!()),
        })
    }

    fn at(rows: &[Row<Figure>], as_of: u32, known_at: u32) -> Option<CaseStatus> {
        let (a, k) = (t(as_of), t(known_at));
        let found: Vec<&Row<Figure>> = rows
            .iter()
            .filter(|r| r.valid_from <= a && a < r.valid_to && r.recorded_from <= k && k < r.recorded_to)
            .collect();
        assert!(found.len() <= 1, "one row at most per point: {found:?}");
        found.first().map(|r| r.figure.status)
    }

    #[test]
    fn events_in_order_give_one_row_per_status_and_close_what_they_change() {
        let events = [
            known(flagged(), 2, 2),
            known(contacted(), 4, 4),
            known(remapped(), 6, 6),
        ];
        let rows = bitemporal(&events);
        assert_eq!(at(&rows, 1, 10), None, "no case before its flag");
        assert_eq!(at(&rows, 3, 10), Some(CaseStatus::Flagged));
        assert_eq!(at(&rows, 5, 10), Some(CaseStatus::Contacted));
        assert_eq!(at(&rows, 7, 10), Some(CaseStatus::Remapped));
        assert_eq!(
            at(&rows, 7, 5),
            Some(CaseStatus::Contacted),
            "as known before the remap was"
        );
        let current = rows.iter().filter(|r| r.recorded_to == forever()).count();
        assert_eq!(current, 3, "the present knowledge: three intervals");
    }

    #[test]
    fn a_backdated_event_rewrites_the_past_from_when_it_was_learnt() {
        // The contact happened on the 3rd but was recorded on the 8th, after the remap.
        let events = [
            known(flagged(), 2, 2),
            known(remapped(), 6, 6),
            known(contacted(), 3, 8),
        ];
        let rows = bitemporal(&events);
        assert_eq!(
            at(&rows, 4, 7),
            Some(CaseStatus::Flagged),
            "before the 8th, nobody knew"
        );
        assert_eq!(
            at(&rows, 4, 9),
            Some(CaseStatus::Contacted),
            "from the 8th, it is known"
        );
        assert_eq!(at(&rows, 7, 9), Some(CaseStatus::Remapped), "the fold in log order");
    }
}
