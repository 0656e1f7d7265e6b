//! The `figures` read model against the log it is kept from: for random histories (dashboard
//! extracts in and out of order, cases flagged, worked, confirmed, closed and reopened, actions
//! backdated, events recorded long after they occurred), the summary at any (asOf, knownAt) and
//! the trend equal a fold of the log filtered to `occurred_at <= asOf` and `recorded_at <=
//! knownAt`: kept as the events arrive one command at a time, and rebuilt from zero.

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

use std::collections::BTreeMap;
use std::time::Duration;

use caseledger_cases::case::{
    CloseReason, ContactChannel, Evidence, RemapChange, ReopenCause, StreamName, envelope, stream_kind_of,
};
use caseledger_cases::values::{FreeText, ShortText, SlotCount};
use caseledger_cases::{Action, Actor, Case, CaseEvent, CaseStatus, evolve};
use caseledger_commands::{CommandContext, Commands};
use caseledger_eventstore::{EventStore, Position, RecordedEvent};
use caseledger_projections::figures::{self, Snapshot};
use caseledger_projections::{Projections, wait_for_projections};
use chrono::{DateTime, Duration as Days, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;

/// The practices of a history: (ODS code, place, PCN).
const PRACTICES: [(&str, &str, &str); 3] = [
    ("Z90001", "North", "U90001"),
    ("Z90002", "North", "U90002"),
    ("Z90003", "South", "U90003"),
];

fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).unwrap()
}

/// One step of a history.
#[derive(Debug, Clone)]
enum Step {
    /// A dashboard row for a practice: its report day (days after the base) and visible slots
    /// (the requirement is 2). Non-compliant rows flag the practice or reopen its case.
    Extract { practice: usize, day: i64, visible: u32 },
    /// An action on one of the cases so far, at a business time `back` hours before the latest
    /// business time of the history (backdated), or now when `back` is 0.
    Act { case: usize, action: u8, back: i64 },
    /// The way to compliance on one case, an hour a step: remap, DHU confirmation, the ICB's
    /// confirmation; from `back` hours before the latest business time.
    Resolve { case: usize, back: i64 },
    /// ODS says the practice closed on this day (days after the base): its register entry
    /// changes, recorded now; from that day it is in no figure, until a later row brings it back.
    Close { practice: usize, day: i64 },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        2 => (0..PRACTICES.len(), 0i64..60, 0u32..4).prop_map(|(practice, day, visible)| Step::Extract { practice, day, visible }),
        3 => (0usize..6, 0u8..13, prop_oneof![Just(0i64), 1i64..400]).prop_map(|(case, action, back)| Step::Act { case, action, back }),
        1 => (0usize..6, prop_oneof![Just(0i64), 1i64..400]).prop_map(|(case, back)| Step::Resolve { case, back }),
        1 => (0..PRACTICES.len(), 0i64..60).prop_map(|(practice, day)| Step::Close { practice, day }),
    ]
}

fn text(s: &str) -> ShortText {
    ShortText::parse(s).unwrap()
}

fn action(kind: u8) -> Action {
    match kind {
        0 => Action::AssignCase {
            champion_id: text("dc-1"),
        },
        1 => Action::RecordContact {
            channel: ContactChannel::Phone,
            contact_name: None,
            summary: FreeText::parse("spoke to the practice manager").unwrap(),
        },
        2 => Action::RecordRemap {
            changes: vec![RemapChange::MakeSlotTypeExternal],
            slots_per_day_configured: SlotCount::new(2).unwrap(),
        },
        3 => Action::ConfirmDhuVisibility {
            visible_slots_per_day: SlotCount::new(2).unwrap(),
        },
        4 => Action::ConfirmCompliance {
            visible_slots_per_day: SlotCount::new(2).unwrap(),
            evidence: Evidence::DhuConfirmation,
        },
        5 => Action::ConfirmCompliance {
            visible_slots_per_day: SlotCount::new(2).unwrap(),
            evidence: Evidence::Dashboard,
        },
        6 => Action::CloseCase {
            reason: CloseReason::Withdrawn,
        },
        7 => Action::ReopenCase {
            reason: FreeText::parse("slots gone again").unwrap(),
            visible_slots: None,
            cause: ReopenCause::Manual,
            list_size: None,
        },
        9 => Action::RecordRootCause {
            cause: caseledger_cases::case::RootCause::ProviderCodeUnmapped,
            detail: None,
        },
        10 => Action::ReportDhuVisibilityIssue {
            category: None,
            issue: Some(text("no slots seen")),
            detail: None,
        },
        11 => Action::ShareGuidance {
            guide: text("111-slots-how-to"),
            version: None,
        },
        _ => Action::AddNote {
            text: FreeText::parse("a note").unwrap(),
        },
    }
}

fn actor_for(action: &Action) -> Actor {
    let role = caseledger_cases::case::command_rule(action.name()).unwrap().roles[0];
    Actor::new(text(&format!("{role}-1")), role)
}

/// Plays the steps; every command goes through the rules, and those they refuse are skipped.
async fn play(commands: &Commands, steps: &[Step], store: &EventStore) {
    let importer = Actor::new(text("icb-1"), caseledger_cases::Role::Icb);
    let mut latest = base();
    for step in steps {
        match step {
            Step::Extract { practice, day, visible } => {
                let (ods, place, pcn) = PRACTICES[*practice];
                let date = (base() + Days::days(*day)).date_naive();
                latest = latest.max(base() + Days::days(*day));
                let csv = format!(
                    "report_date,ods_code,practice_name,pcn_code,place,list_size,slots_visible_111\n\
                     {date},{ods},Practice {ods},{pcn},{place},6000,{visible}\n"
                );
                commands
                    .import_dashboard(&importer, &csv, caseledger_testsupport::now())
                    .await
                    .unwrap();
            }
            Step::Act {
                case,
                action: kind,
                back,
            } => {
                act(
                    commands,
                    store,
                    *case,
                    &[*kind],
                    latest + Days::hours(12) - Days::hours(*back),
                    &mut latest,
                )
                .await;
            }
            Step::Resolve { case, back } => {
                act(
                    commands,
                    store,
                    *case,
                    &[2, 3, 4],
                    latest + Days::hours(12) - Days::hours(*back),
                    &mut latest,
                )
                .await;
            }
            Step::Close { practice, day } => close(store, *practice, *day).await,
        }
        // Each step its own batch: the read model is kept one commit at a time.
        assert!(wait_for_projections(store, Duration::from_secs(30)).await.unwrap());
    }
}

/// The practice's register entry as ODS's files make it, closed on `day` (days after the base).
async fn close(store: &EventStore, practice: usize, day: i64) {
    use caseledger_cases::practice::{OdsDetails, OdsStatus, PracticeDetails, PracticeRegistration};
    let (ods, place, pcn) = PRACTICES[practice];
    let closed = (base() + Days::days(day)).date_naive();
    let entry = PracticeRegistration {
        practice: PracticeDetails {
            ods_code: caseledger_cases::values::OdsCode::parse(ods).unwrap(),
            name: text(&format!("Practice {ods}")),
            pcn_code: caseledger_cases::values::PcnCode::parse(pcn).unwrap(),
            pcn_name: None,
            place: text(place),
        },
        list_size: caseledger_cases::values::ListSize::new(6_000).unwrap(),
        main_site: text(&format!("Practice {ods}")),
        branch_sites: Vec::new(),
        ods: Some(OdsDetails {
            address: Vec::new(),
            postcode: None,
            telephone: None,
            opened: None,
            closed: Some(closed),
            status: OdsStatus::Closed,
            commissioner: text("B2M3M"),
        }),
        list_size_date: None,
        pcn_joined: None,
    };
    let (event_type, data) = caseledger_cases::case::encode_event(&CaseEvent::PracticeDetailsChanged(entry));
    let mut metadata = caseledger_eventstore::EventMetadata::default();
    metadata.custom.insert("actor_id".into(), "icb-1".into());
    metadata.custom.insert("actor_role".into(), "icb".into());
    metadata
        .custom
        .insert("occurred_at".into(), caseledger_testsupport::now().to_rfc3339().into());
    let event = caseledger_eventstore::NewEvent::new(uuid::Uuid::now_v7(), event_type, &data, metadata).unwrap();
    store
        .append(
            &format!("practice-{ods}"),
            caseledger_eventstore::ExpectedRevision::Any,
            &[event],
        )
        .await
        .unwrap();
}

/// The actions `kinds` on the case `case` (of those so far), an hour apart from `at`.
async fn act(
    commands: &Commands,
    store: &EventStore,
    case: usize,
    kinds: &[u8],
    at: DateTime<Utc>,
    latest: &mut DateTime<Utc>,
) {
    let cases = case_ids(store).await;
    let Some(case_id) = cases.get(case % cases.len().max(1)) else {
        return;
    };
    for (hour, kind) in kinds.iter().enumerate() {
        let action = action(*kind);
        let mut context = CommandContext::new(actor_for(&action));
        let at = at + Days::hours(i64::try_from(hour).unwrap());
        context.occurred_at = Some(at);
        if commands
            .execute(*case_id, &context, action, caseledger_testsupport::now())
            .await
            .is_ok()
        {
            *latest = (*latest).max(at);
        }
    }
}

async fn case_ids(store: &EventStore) -> Vec<uuid::Uuid> {
    let mut ids: Vec<uuid::Uuid> = log(store)
        .await
        .iter()
        .filter_map(|e| match StreamName::parse(&e.stream_id) {
            Some(StreamName::Case(id)) => Some(id),
            _ => None,
        })
        .collect();
    ids.dedup();
    ids
}

async fn log(store: &EventStore) -> Vec<RecordedEvent> {
    let mut events = Vec::new();
    let mut after = Position::START;
    loop {
        let page = store.read_all(after, 1_000).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.position;
        events.extend(page);
    }
    events
}

/// What a summary counts, in one comparable shape: cases by (place, PCN, status) with their
/// sorted durations, and practices by (place, PCN) as (observed, non-compliant).
type Counts = (
    BTreeMap<(String, String, CaseStatus), (i64, Vec<i64>)>,
    BTreeMap<(String, String), (i64, i64)>,
);

fn counts(snapshot: &Snapshot) -> Counts {
    let cases = snapshot
        .cases
        .iter()
        .map(|c| {
            let mut durations = c.durations_ms.clone();
            durations.sort_unstable();
            ((c.place.clone(), c.pcn_code.clone(), c.status), (c.cases, durations))
        })
        .collect();
    let practices = snapshot
        .practices
        .iter()
        .map(|p| ((p.place.clone(), p.pcn_code.clone()), (p.practices, p.non_compliant)))
        .collect();
    (cases, practices)
}

/// A practice's dashboard row as the figures count it: place, PCN, compliant.
type Row = (String, String, bool);

/// The figures by folding the log: each case's known events that occurred by `as_of`, in log
/// order; each practice's latest known observation by `as_of` (of two at once, the later in the log).
fn fold(events: &[RecordedEvent], as_of: DateTime<Utc>, known_at: DateTime<Utc>) -> Counts {
    let mut cases: BTreeMap<uuid::Uuid, Case> = BTreeMap::new();
    // Each practice's latest row (or closing: none), by business time.
    let mut observed: BTreeMap<String, (DateTime<Utc>, Option<Row>)> = BTreeMap::new();
    for event in events.iter().filter(|e| e.recorded_at <= known_at) {
        let envelope = envelope(&event.event_type, event.data.get(), &event.metadata.custom).unwrap();
        // A closing holds from its close date (not the entry's own time): it takes the practice
        // out of every figure from then, until a later row brings it back.
        if let (Some(StreamName::Practice(ods)), CaseEvent::PracticeDetailsChanged(entry)) =
            (StreamName::parse(&event.stream_id), &envelope.event)
        {
            if let Some(closed) = entry.closed().map(|day| day.and_hms_opt(0, 0, 0).unwrap().and_utc())
                && closed <= as_of
                && observed.get(ods.as_str()).is_none_or(|(at, _)| *at <= closed)
            {
                observed.insert(ods.to_string(), (closed, None));
            }
            continue;
        }
        if envelope.occurred_at > as_of {
            continue;
        }
        match StreamName::parse(&event.stream_id) {
            Some(StreamName::Case(id))
                if stream_kind_of(&event.event_type) == caseledger_cases::case::StreamKind::Case =>
            {
                let case = cases.remove(&id).unwrap_or_default();
                cases.insert(id, evolve(case, &envelope));
            }
            Some(StreamName::Practice(ods)) => {
                if let CaseEvent::SlotsObserved(o) = &envelope.event
                    && observed
                        .get(ods.as_str())
                        .is_none_or(|(at, ..)| *at <= envelope.occurred_at)
                {
                    observed.insert(
                        ods.to_string(),
                        (
                            envelope.occurred_at,
                            Some((
                                o.practice.place.to_string(),
                                o.practice.pcn_code.to_string(),
                                o.compliant(),
                            )),
                        ),
                    );
                }
            }

            _ => {}
        }
    }
    let mut case_counts: BTreeMap<(String, String, CaseStatus), (i64, Vec<i64>)> = BTreeMap::new();
    for case in cases.values() {
        let (Some(status), Some(practice), Some(opened)) = (case.status, &case.practice, case.opened_at) else {
            continue;
        };
        let entry = case_counts
            .entry((practice.place.to_string(), practice.pcn_code.to_string(), status))
            .or_default();
        entry.0 += 1;
        if let Some(compliant) = case.compliant_at {
            entry.1.push((compliant - opened).num_milliseconds());
        }
    }
    for (_, durations) in case_counts.values_mut() {
        durations.sort_unstable();
    }
    let mut practice_counts: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new();
    for (place, pcn, compliant) in observed.values().filter_map(|(_, row)| row.as_ref()) {
        let entry = practice_counts.entry((place.clone(), pcn.clone())).or_default();
        entry.0 += 1;
        entry.1 += i64::from(!compliant);
    }
    (case_counts, practice_counts)
}

/// The moments worth asking about: around every event's two times, and some in between.
fn probes(events: &[RecordedEvent], picks: &[(usize, usize, bool)]) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let occurred: Vec<DateTime<Utc>> = events
        .iter()
        .map(|e| {
            envelope(&e.event_type, e.data.get(), &e.metadata.custom)
                .unwrap()
                .occurred_at
        })
        .collect();
    let recorded: Vec<DateTime<Utc>> = events.iter().map(|e| e.recorded_at).collect();
    picks
        .iter()
        .map(|(a, k, just_before)| {
            let nudge = if *just_before {
                Days::microseconds(-1)
            } else {
                Days::zero()
            };
            (
                occurred[a % occurred.len()] + nudge,
                recorded[k % recorded.len()] + nudge,
            )
        })
        .collect()
}

/// The figures counted by a holder that loads every row afresh (the service's first summary, and
/// one after a rebuild or a long gap).
async fn loaded(
    pool: &sqlx::PgPool,
    as_of: Option<DateTime<Utc>>,
    known_at: Option<DateTime<Utc>>,
) -> Result<Snapshot, sqlx::Error> {
    figures::HeldFigures::default().snapshot(pool, as_of, known_at).await
}

async fn check(steps: Vec<Step>, picks: Vec<(usize, usize, bool)>, days: Vec<i64>) {
    let db = caseledger_testsupport::fresh_db().await;
    let store = EventStore::new(db.pool.clone());
    let commands = Commands::new(store.clone());
    let projections = Projections::start(&store);
    // Held in memory from before the first event: after the play it reads only what changed; after
    // the rebuild (a new table) everything again.
    let held = figures::HeldFigures::default();
    held.snapshot(&db.pool, None, None).await.unwrap();
    play(&commands, &steps, &store).await;
    projections.stop().await;
    let events = log(&store).await;
    if events.is_empty() {
        return;
    }

    for round in ["kept one commit at a time", "rebuilt from zero"] {
        let now = Utc::now();
        let present = loaded(&db.pool, None, None).await.unwrap();
        assert_eq!(counts(&present), fold(&events, now, now), "the present, {round}");
        let held_present = held.snapshot(&db.pool, None, None).await.unwrap();
        assert_eq!(
            counts(&held_present),
            fold(&events, now, now),
            "the present held, {round}"
        );
        for (as_of, known_at) in probes(&events, &picks) {
            let expected = fold(&events, as_of, known_at);
            let figured = loaded(&db.pool, Some(as_of), Some(known_at)).await.unwrap();
            assert_eq!(counts(&figured), expected, "asOf {as_of}, knownAt {known_at}, {round}");
            let held_figured = held.snapshot(&db.pool, Some(as_of), Some(known_at)).await.unwrap();
            assert_eq!(
                counts(&held_figured),
                expected,
                "held: asOf {as_of}, knownAt {known_at}, {round}"
            );
            // As known now: the present knowledge's rows alone.
            let expected = fold(&events, as_of, Utc::now());
            let known_now = loaded(&db.pool, Some(as_of), None).await.unwrap();
            assert_eq!(counts(&known_now), expected, "asOf {as_of} as known now, {round}");
            let held_known_now = held.snapshot(&db.pool, Some(as_of), None).await.unwrap();
            assert_eq!(
                counts(&held_known_now),
                expected,
                "held: asOf {as_of} as known now, {round}"
            );
        }
        // The trend: the present knowledge at the end of each day, of all and of one place.
        for day in &days {
            let date: NaiveDate = (base() + Days::days(*day)).date_naive();
            let end = date.and_hms_milli_opt(23, 59, 59, 999).unwrap().and_utc();
            let (cases, practices) = fold(&events, end, now);
            for place in [None, Some("North")] {
                let scope = figures::TrendScope { place, pcn_code: None };
                let point = figures::trend(&db.pool, date, date, 1, scope)
                    .await
                    .unwrap()
                    .pop()
                    .unwrap();
                let mine = |p: &str| place.is_none_or(|wanted| wanted == p);
                let open: i64 = cases
                    .iter()
                    .filter(|((p, _, s), _)| mine(p) && s.is_open())
                    .map(|(_, (n, _))| n)
                    .sum();
                let compliant: i64 = cases
                    .iter()
                    .filter(|((p, _, _), _)| mine(p))
                    .map(|(_, (_, d))| d.len() as i64)
                    .sum();
                let observed: i64 = practices
                    .iter()
                    .filter(|((p, _), _)| mine(p))
                    .map(|(_, (n, _))| n)
                    .sum();
                let non_compliant: i64 = practices
                    .iter()
                    .filter(|((p, _), _)| mine(p))
                    .map(|(_, (_, n))| n)
                    .sum();
                assert_eq!(
                    (
                        point.open_cases,
                        point.compliant_cases,
                        point.practices,
                        point.non_compliant_practices
                    ),
                    (open, compliant, observed, non_compliant),
                    "the trend of {place:?} at the end of {date}, {round}"
                );
            }
        }
        caseledger_projections::rebuild(&store, figures::NAME).await.unwrap();
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_figures_are_a_fold_of_the_log_at_any_two_times(
        steps in proptest::collection::vec(step(), 1..40),
        picks in proptest::collection::vec((any::<usize>(), any::<usize>(), any::<bool>()), 12),
        days in proptest::collection::vec(-2i64..70, 4),
    ) {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
            .block_on(check(steps, picks, days));
    }
}
