//! Pure counting of free slots per core-hours day and Location, and the verdict.
//!
//! Rules:
//! - A slot counts when its `status` is `free`, it starts at or after `now` (past slots cannot be
//!   booked), and it starts within core hours (08:00 inclusive to 18:30 exclusive, UK local
//!   time) on a core-hours day in the window (Monday–Friday, not an England and Wales bank
//!   holiday). The provider has already applied its availability rules (GP Connect bookable,
//!   ODS/organisation-type restrictions): a slot the 111 provider could not book is simply not
//!   in the Bundle.
//! - A slot's Location is its Schedule's Location actor. Slots are de-duplicated by id across
//!   Bundles.
//! - A Location the Schedule names but the Bundle does not describe (the specification's
//!   "minimum parameters" example asks for no Locations) is the main site when the register lists
//!   no branch for the practice ([`Sites::single_site`]); otherwise it is reported unresolved,
//!   never silently as a branch. A single-site practice's every Location is its main site.
//! - Only an OperationOutcome with an `error` or `fatal` issue fails the search; `information`
//!   and `warning` ones inside a searchset are kept as notices beside the counts.
//! - Every free slot in the window is listed ([`SlotDetail`]: date, start, duration, session,
//!   slot type, delivery channel, practitioner role); those already past are counted apart.
//! - Main site: when the caller names it, every Location whose name or id equals that name
//!   (trimmed, case-insensitive) is the main site, and if none came back a zero-count entry
//!   with an empty `location_id` is reported for it. When the caller does not name it, the
//!   Location whose name equals the practice Organization's name is the main site; failing
//!   that, the first Location in the (first) Bundle is. Every other Location is a branch.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};

use crate::fhir::{
    Bundle, DELIVERY_CHANNEL_EXTENSION, Location, OperationOutcome, PRACTITIONER_ROLE_EXTENSION, Resource, Schedule,
    Slot,
};
use crate::holidays::{BankHolidays, CORE_END, CORE_START};
use crate::model::{DayCount, LocationCount, MAX_SLOT_DETAILS, SlotDetail, Verdict, Verification};
use crate::ukclock;

/// A Bundle that cannot be counted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CountError {
    /// `Slot.start` is not an instant with an offset.
    #[error("Slot {slot_id}: start {value:?} is not a date-time with an offset")]
    InvalidStart {
        /// Slot id.
        slot_id: String,
        /// The value.
        value: String,
    },
    /// A Slot's Schedule is not in the Bundle.
    #[error("Slot {slot_id}: Schedule {reference:?} is not in the Bundle")]
    MissingSchedule {
        /// Slot id.
        slot_id: String,
        /// The reference.
        reference: String,
    },
    /// The response is an OperationOutcome inside a Bundle.
    #[error("the Bundle carries an OperationOutcome: {0}")]
    OperationOutcome(String),
}

/// At most this many notices are kept from one search.
pub const MAX_NOTICES: usize = 20;

/// Location key used for a Schedule without a Location actor.
pub const NO_LOCATION: &str = "(no location)";

fn same(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

struct Index<'a> {
    slots: Vec<&'a Slot>,
    schedules: BTreeMap<&'a str, &'a Schedule>,
    locations: Vec<&'a Location>,
    organization_names: Vec<&'a str>,
    outcome: Option<&'a OperationOutcome>,
    notices: Vec<String>,
}

fn index(bundles: &[Bundle]) -> Index<'_> {
    let mut ix = Index {
        slots: Vec::new(),
        schedules: BTreeMap::new(),
        locations: Vec::new(),
        organization_names: Vec::new(),
        outcome: None,
        notices: Vec::new(),
    };
    let mut slot_ids = BTreeSet::new();
    for resource in bundles.iter().flat_map(Bundle::resources) {
        match resource {
            Resource::Slot(s) => {
                if slot_ids.insert(s.id.as_str()) {
                    ix.slots.push(s);
                }
            }
            Resource::Schedule(s) => {
                ix.schedules.entry(s.id.as_str()).or_insert(s);
            }
            Resource::Location(l) => {
                if !ix.locations.iter().any(|x| x.id == l.id) {
                    ix.locations.push(l);
                }
            }
            Resource::Organization(o) => ix.organization_names.extend(o.name.as_deref()),
            Resource::OperationOutcome(o) if o.is_error() => ix.outcome = ix.outcome.or(Some(o)),
            Resource::OperationOutcome(o) => {
                // Only what is shaped like a code: a notice is shown to every party.
                let code = o.refusal_code().or_else(|| {
                    o.issue
                        .iter()
                        .map(|issue| issue.code.as_str())
                        .find(|code| {
                            (1..=30).contains(&code.len()) && code.chars().all(|c| c.is_ascii_lowercase() || c == '-')
                        })
                        .map(str::to_owned)
                });
                for issue in &o.issue {
                    let severity = issue.severity.as_str();
                    if matches!(severity, "information" | "warning")
                        && let Some(code) = &code
                    {
                        let notice = format!("{severity}: {code}");
                        if ix.notices.len() < MAX_NOTICES && !ix.notices.contains(&notice) {
                            ix.notices.push(notice);
                        }
                    }
                }
            }
            Resource::Practitioner(_) | Resource::Other => {}
        }
    }
    ix
}

/// Which Location ids are the main site (see the module docs).
fn main_site_ids(ix: &Index<'_>, main_site_name: Option<&str>) -> BTreeSet<String> {
    let matches = |l: &&Location, name: &str| same(&l.id, name) || l.name.as_deref().is_some_and(|n| same(n, name));
    match main_site_name {
        Some(name) => ix
            .locations
            .iter()
            .filter(|l| matches(l, name))
            .map(|l| l.id.clone())
            .collect(),
        None => {
            let by_org = ix
                .locations
                .iter()
                .filter(|l| {
                    ix.organization_names
                        .iter()
                        .any(|org| l.name.as_deref().is_some_and(|n| same(n, org)))
                })
                .map(|l| l.id.clone())
                .collect::<BTreeSet<_>>();
            if by_org.is_empty() {
                ix.locations.first().map(|l| l.id.clone()).into_iter().collect()
            } else {
                by_org
            }
        }
    }
}

/// Where the practice's sites are, as the register knows them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sites<'a> {
    /// The main site's name (or Location id).
    pub main_site_name: Option<&'a str>,
    /// The register lists no branch: every Location is the main site.
    pub single_site: bool,
}

impl<'a> Sites<'a> {
    /// Named main site, branches possible.
    pub fn named(main_site_name: Option<&'a str>) -> Self {
        Self {
            main_site_name,
            single_site: false,
        }
    }
}

/// What a search's Bundles hold, counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted {
    /// Core-hours days, by Location.
    pub days: Vec<DayCount>,
    /// Every free slot inside the window, in time order (at most [`MAX_SLOT_DETAILS`]).
    pub slots: Vec<SlotDetail>,
    /// Free slots inside the window already past.
    pub past_slots: u32,
    /// Informational and warning OperationOutcomes' codes.
    pub notices: Vec<String>,
}

/// Count bookable free slots per core-hours day in `days` days from `window_start`, by Location.
pub fn count_free_slots(
    bundles: &[Bundle],
    window_start: NaiveDate,
    days: u32,
    holidays: &BankHolidays,
    main_site_name: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Vec<DayCount>, CountError> {
    count(bundles, window_start, days, holidays, Sites::named(main_site_name), now).map(|counted| counted.days)
}

fn text_of(concept: Option<&crate::fhir::CodeableConcept>) -> Option<String> {
    let concept = concept?;
    concept
        .text
        .clone()
        .or_else(|| {
            concept
                .coding
                .iter()
                .find_map(|c| c.display.clone().or_else(|| c.code.clone()))
        })
        .map(|text| text.trim().to_owned())
        .filter(|text| !text.is_empty())
}

/// Count, and list every free slot of the window.
pub fn count(
    bundles: &[Bundle],
    window_start: NaiveDate,
    days: u32,
    holidays: &BankHolidays,
    sites: Sites<'_>,
    now: DateTime<Utc>,
) -> Result<Counted, CountError> {
    let ix = index(bundles);
    if let Some(outcome) = ix.outcome {
        return Err(CountError::OperationOutcome(outcome.summary()));
    }
    let core_days = holidays.core_days(window_start, days);
    let window_end = window_start + chrono::Duration::days(i64::from(days.max(1)) - 1);
    let main_site_name = sites.main_site_name;
    let mut mains = main_site_ids(&ix, main_site_name);
    let described: BTreeSet<&str> = ix.locations.iter().map(|l| l.id.as_str()).collect();
    let mut unresolved: BTreeSet<String> = BTreeSet::new();

    // Every Location seen (plus one for each slot whose Location resource was not included),
    // so each day lists the same Locations, zero or not.
    let mut names: BTreeMap<String, Option<String>> =
        ix.locations.iter().map(|l| (l.id.clone(), l.name.clone())).collect();
    let mut counts: BTreeMap<(NaiveDate, String), u32> = BTreeMap::new();
    let mut slots: Vec<(DateTime<Utc>, SlotDetail)> = Vec::new();
    let mut past_slots = 0u32;

    for slot in &ix.slots {
        if !slot.status.eq_ignore_ascii_case("free") {
            continue;
        }
        let start = DateTime::parse_from_rfc3339(slot.start.trim()).map_err(|_| CountError::InvalidStart {
            slot_id: slot.id.clone(),
            value: slot.start.clone(),
        })?;
        let start = start.to_utc();
        let local = ukclock::to_uk(start);
        let (date, time) = (local.date_naive(), local.time());
        if date < window_start || date > window_end {
            continue;
        }
        let schedule_ref = slot.schedule.reference.clone().unwrap_or_default();
        let schedule = slot
            .schedule
            .id_of("Schedule")
            .and_then(|id| ix.schedules.get(id))
            .ok_or_else(|| CountError::MissingSchedule {
                slot_id: slot.id.clone(),
                reference: schedule_ref,
            })?;
        let location = schedule.location_id().unwrap_or(NO_LOCATION).to_owned();
        if !described.contains(location.as_str()) {
            // Named by the Schedule, not described by the Bundle: the register places it.
            if sites.single_site {
                mains.insert(location.clone());
            } else {
                unresolved.insert(location.clone());
            }
        }
        names.entry(location.clone()).or_insert(None);
        let past = start < now;
        let counted = !past && core_days.contains(&date) && time >= CORE_START && time < CORE_END;
        if past {
            past_slots += 1;
        }
        if counted {
            *counts.entry((date, location.clone())).or_insert(0) += 1;
        }
        let minutes = DateTime::parse_from_rfc3339(slot.end.trim())
            .ok()
            .map(|end| (end.to_utc() - start).num_minutes())
            .and_then(|m| u32::try_from(m).ok())
            .unwrap_or(0);
        let extension = |url: &str| slot.extension.iter().find(|e| e.url == url);
        let role = schedule.extension.iter().find(|e| e.url == PRACTITIONER_ROLE_EXTENSION);
        slots.push((
            start,
            SlotDetail {
                date,
                start: local.format("%H:%M").to_string(),
                duration_minutes: minutes,
                session: text_of(schedule.service_category.as_ref()),
                slot_type: text_of(slot.service_type.first()),
                delivery_channel: extension(DELIVERY_CHANNEL_EXTENSION).and_then(|e| e.value_code.clone()),
                practitioner_role: role.and_then(|e| text_of(e.value_codeable_concept.as_ref())),
                location_id: if location == NO_LOCATION {
                    String::new()
                } else {
                    location.clone()
                },
                counted,
                past,
            },
        ));
    }
    if sites.single_site {
        // One site: whatever the Locations are called, they are it.
        mains.extend(names.keys().cloned());
        unresolved.clear();
    }
    slots.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.location_id.cmp(&b.1.location_id)));
    slots.truncate(MAX_SLOT_DETAILS);

    let missing_main = main_site_name.filter(|_| mains.is_empty());
    let mut order: Vec<(&String, &Option<String>)> = names.iter().collect();
    // Main site first, then by name, then id.
    order.sort_by_key(|(id, name)| {
        (
            !mains.contains(*id),
            name.as_deref().unwrap_or_default().to_lowercase(),
            (*id).clone(),
        )
    });

    let days = core_days
        .iter()
        .map(|&date| {
            let mut by_location: Vec<LocationCount> = Vec::new();
            if let Some(name) = missing_main {
                by_location.push(LocationCount {
                    location_id: String::new(),
                    name: Some(name.to_owned()),
                    main_site: true,
                    unresolved: false,
                    free_slots: 0,
                });
            }
            by_location.extend(order.iter().map(|(id, name)| LocationCount {
                location_id: (*id).clone(),
                name: (*name).clone(),
                main_site: mains.contains(*id),
                unresolved: unresolved.contains(*id),
                free_slots: counts.get(&(date, (*id).clone())).copied().unwrap_or(0),
            }));
            DayCount {
                date,
                total: by_location.iter().map(|l| l.free_slots).sum(),
                by_location,
            }
        })
        .collect();
    Ok(Counted {
        days,
        slots: slots.into_iter().map(|(_, detail)| detail).collect(),
        past_slots,
        notices: ix.notices,
    })
}

/// The verdict and the lowest daily total for counted days against a requirement.
/// With no core-hours day in the window the requirement is met vacuously.
pub fn decide(required_per_day: u32, days: &[DayCount]) -> (Option<u32>, Verdict) {
    // Judged on the main site: slots set up only at a branch the 111 provider does not book into
    // are the "branch anomaly", not compliance. Branch counts stay in `by_location` for the record.
    let main = |d: &DayCount| -> u32 { d.by_location.iter().filter(|l| l.main_site).map(|l| l.free_slots).sum() };
    let min = days.iter().map(main).min();
    let short_days: Vec<NaiveDate> = days
        .iter()
        .filter(|d| main(d) < required_per_day)
        .map(|d| d.date)
        .collect();
    let verdict = if short_days.is_empty() {
        Verdict::Enough
    } else {
        Verdict::TooFew { short_days }
    };
    (min, verdict)
}

/// Count and decide in one step.
pub fn evaluate(
    bundles: &[Bundle],
    window_start: NaiveDate,
    days: u32,
    required_per_day: u32,
    holidays: &BankHolidays,
    sites: Sites<'_>,
    now: DateTime<Utc>,
) -> Verification {
    let window_end = window_start + chrono::Duration::days(i64::from(days.max(1)) - 1);
    match count(bundles, window_start, days, holidays, sites, now) {
        Ok(counted) => {
            let (min_per_core_day, verdict) = decide(required_per_day, &counted.days);
            Verification {
                window_start,
                window_end,
                required_per_day,
                days: counted.days,
                min_per_core_day,
                verdict,
                slots: counted.slots,
                past_slots: counted.past_slots,
                notices: counted.notices,
                provider_system: None,
            }
        }
        Err(e) => Verification::failed(
            window_start,
            window_end,
            required_per_day,
            None,
            format!("invalid response: {e}"),
            None,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::{BundleEntry, Organization, Reference};

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn entry(resource: Resource) -> BundleEntry {
        BundleEntry {
            full_url: None,
            resource,
        }
    }

    fn slot(id: &str, start: &str, schedule: &str, status: &str) -> Resource {
        Resource::Slot(Slot {
            id: id.into(),
            schedule: Reference::to("Schedule", schedule),
            status: status.into(),
            start: start.into(),
            end: start.into(),
            ..Slot::default()
        })
    }

    fn schedule(id: &str, location: &str) -> Resource {
        Resource::Schedule(Schedule {
            id: id.into(),
            actor: vec![Reference::to("Location", location), Reference::to("Practitioner", "p1")],
            ..Schedule::default()
        })
    }

    fn location(id: &str, name: &str) -> Resource {
        Resource::Location(Location {
            id: id.into(),
            name: Some(name.into()),
            ..Location::default()
        })
    }

    fn bundle(resources: Vec<Resource>) -> Bundle {
        let mut b = Bundle::searchset();
        b.entry = resources.into_iter().map(entry).collect();
        b
    }

    fn early() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2024-12-01T00:00:00Z").unwrap().to_utc()
    }

    fn sample() -> Bundle {
        bundle(vec![
            // Mon 2025-01-06 (GMT)
            slot("a", "2025-01-06T08:00:00+00:00", "s-main", "free"),
            slot("b", "2025-01-06T18:29:00+00:00", "s-branch", "free"),
            slot("c", "2025-01-06T18:30:00+00:00", "s-main", "free"), // after core hours
            slot("d", "2025-01-06T07:59:00+00:00", "s-main", "free"), // before core hours
            slot("e", "2025-01-06T10:00:00+00:00", "s-main", "busy"),
            // Tue 2025-01-07
            slot("f", "2025-01-07T09:00:00+00:00", "s-main", "free"),
            // Sat 2025-01-11: not a core day
            slot("g", "2025-01-11T09:00:00+00:00", "s-main", "free"),
            schedule("s-main", "L1"),
            schedule("s-branch", "L2"),
            location("L1", "Riverside Surgery"),
            location("L2", "Hillside Branch"),
            Resource::Organization(Organization {
                id: "o".into(),
                name: Some("Riverside Surgery".into()),
                ..Organization::default()
            }),
        ])
    }

    #[test]
    fn counts_core_hours_per_day_and_location() {
        let h = BankHolidays::england_and_wales();
        let days = count_free_slots(&[sample()], d(2025, 1, 6), 7, &h, None, early()).unwrap();
        let dates: Vec<_> = days.iter().map(|x| x.date).collect();
        assert_eq!(
            dates,
            [
                d(2025, 1, 6),
                d(2025, 1, 7),
                d(2025, 1, 8),
                d(2025, 1, 9),
                d(2025, 1, 10)
            ]
        );
        assert_eq!(days[0].total, 2);
        assert_eq!(
            days[0].by_location,
            vec![
                LocationCount {
                    location_id: "L1".into(),
                    name: Some("Riverside Surgery".into()),
                    main_site: true,
                    unresolved: false,
                    free_slots: 1
                },
                LocationCount {
                    location_id: "L2".into(),
                    name: Some("Hillside Branch".into()),
                    main_site: false,
                    unresolved: false,
                    free_slots: 1
                },
            ]
        );
        assert_eq!(days[1].total, 1);
        assert_eq!(days[2].total, 0);
        assert_eq!(days[2].by_location.len(), 2, "every Location is listed every day");
    }

    #[test]
    fn caller_named_main_site_wins_and_missing_main_site_reports_zero() {
        let h = BankHolidays::england_and_wales();
        let days = count_free_slots(&[sample()], d(2025, 1, 6), 1, &h, Some("hillside branch"), early()).unwrap();
        let main: Vec<_> = days[0]
            .by_location
            .iter()
            .filter(|l| l.main_site)
            .map(|l| l.location_id.as_str())
            .collect();
        assert_eq!(main, ["L2"]);
        let days = count_free_slots(&[sample()], d(2025, 1, 6), 1, &h, Some("Old Town Surgery"), early()).unwrap();
        assert_eq!(
            days[0].by_location[0],
            LocationCount {
                location_id: String::new(),
                name: Some("Old Town Surgery".into()),
                main_site: true,
                unresolved: false,
                free_slots: 0
            }
        );
        assert!(days[0].by_location[1..].iter().all(|l| !l.main_site));
        assert_eq!(days[0].total, 2);
    }

    #[test]
    fn without_organisation_match_the_first_location_is_main() {
        let mut b = sample();
        b.entry.retain(|e| !matches!(e.resource, Resource::Organization(_)));
        b.entry
            .retain(|e| !matches!(&e.resource, Resource::Location(l) if l.id == "L1"));
        b.entry.push(entry(location("L1", "Riverside Surgery")));
        let days = count_free_slots(
            &[b],
            d(2025, 1, 6),
            1,
            &BankHolidays::england_and_wales(),
            None,
            early(),
        )
        .unwrap();
        let main: Vec<_> = days[0]
            .by_location
            .iter()
            .filter(|l| l.main_site)
            .map(|l| l.location_id.as_str())
            .collect();
        assert_eq!(main, ["L2"]);
    }

    #[test]
    fn past_slots_are_not_counted_and_duplicates_once() {
        let h = BankHolidays::england_and_wales();
        let now = DateTime::parse_from_rfc3339("2025-01-06T12:00:00Z").unwrap().to_utc();
        let days = count_free_slots(&[sample(), sample()], d(2025, 1, 6), 2, &h, None, now).unwrap();
        assert_eq!(days[0].total, 1, "08:00 is past, 18:29 is not");
        assert_eq!(days[1].total, 1, "the duplicate Bundle adds nothing");
    }

    #[test]
    fn bst_slot_times_are_read_in_uk_local_time() {
        // 07:30Z on a summer day is 08:30 BST: inside core hours. 17:45Z is 18:45 BST: outside.
        let b = bundle(vec![
            slot("a", "2025-07-07T07:30:00Z", "s", "free"),
            slot("b", "2025-07-07T17:45:00Z", "s", "free"),
            slot("c", "2025-07-07T08:30:00+01:00", "s", "free"),
            schedule("s", "L1"),
        ]);
        let days = count_free_slots(
            &[b],
            d(2025, 7, 7),
            1,
            &BankHolidays::england_and_wales(),
            None,
            early(),
        )
        .unwrap();
        assert_eq!(days[0].total, 2);
        assert_eq!(days[0].by_location[0].name, None, "Location not included: id only");
        assert_eq!(days[0].by_location[0].location_id, "L1");
    }

    #[test]
    fn bad_bundles_are_errors() {
        let h = BankHolidays::england_and_wales();
        let b = bundle(vec![slot("a", "2025-01-06T09:00:00", "s", "free"), schedule("s", "L1")]);
        assert!(matches!(
            count_free_slots(&[b], d(2025, 1, 6), 1, &h, None, early()),
            Err(CountError::InvalidStart { .. })
        ));
        let b = bundle(vec![slot("a", "2025-01-06T09:00:00+00:00", "nope", "free")]);
        assert!(matches!(
            count_free_slots(&[b], d(2025, 1, 6), 1, &h, None, early()),
            Err(CountError::MissingSchedule { .. })
        ));
        let v = evaluate(
            &[bundle(vec![slot("a", "x", "s", "free")])],
            d(2025, 1, 6),
            1,
            1,
            &h,
            Sites::default(),
            early(),
        );
        assert!(matches!(v.verdict, Verdict::Failed { code: None, .. }));
    }

    #[test]
    fn decide_lists_short_days() {
        let h = BankHolidays::england_and_wales();
        let days = count_free_slots(&[sample()], d(2025, 1, 6), 2, &h, None, early()).unwrap();
        assert_eq!(decide(1, &days), (Some(1), Verdict::Enough));
        assert_eq!(
            decide(2, &days),
            (
                Some(1),
                // Monday has 2 in all, but only 1 at the main site: the branch slot does not count.
                Verdict::TooFew {
                    short_days: vec![d(2025, 1, 6), d(2025, 1, 7)]
                }
            )
        );
        assert_eq!(decide(5, &[]), (None, Verdict::Enough));
        let v = evaluate(&[sample()], d(2025, 1, 6), 2, 2, &h, Sites::default(), early());
        assert_eq!(v.window_end, d(2025, 1, 7));
        assert_eq!(v.min_per_core_day, Some(1));
    }
}
