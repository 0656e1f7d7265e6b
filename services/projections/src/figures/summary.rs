//! The summary's arithmetic, one definition for every moment: a case is *open* until COMPLIANT
//! or CLOSED; a case is *compliant* when its current episode (since the flag or the last reopen)
//! reached compliance, whether or not it was closed after; its *time to compliance* is from the
//! episode's opening to that confirmation; *within N days* counts the compliant cases whose time
//! was at most N days.

use std::collections::BTreeMap;

use caseledger_cases::CaseStatus;

use super::queries::Snapshot;

const DAY_MS: i64 = 86_400_000;

/// The figures of one group of cases and practices (all of them, a place or a PCN).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    /// Practices with at least one observation.
    pub practices: i64,
    /// Of them, those whose latest observation was below the requirement.
    pub non_compliant_practices: i64,
    pub cases_opened: i64,
    pub open_cases: i64,
    pub compliant_cases: i64,
    pub closed_cases: i64,
    /// Cases by status, in the order of [`CaseStatus::ALL`].
    pub by_status: Vec<(CaseStatus, i64)>,
    /// openedAt → compliantAt of each compliant case, in milliseconds, sorted.
    pub durations_ms: Vec<i64>,
}

impl Figures {
    /// The median time to compliance, in days.
    pub fn median_days_to_compliance(&self) -> Option<f64> {
        let sorted = &self.durations_ms;
        let n = sorted.len();
        let ms = match n {
            0 => return None,
            _ if n % 2 == 1 => sorted[n / 2] as f64,
            _ => (sorted[n / 2 - 1] as f64 + sorted[n / 2] as f64) / 2.0,
        };
        Some(ms / DAY_MS as f64)
    }

    /// How many compliant cases took at most `days`.
    pub fn compliant_within_days(&self, days: u32) -> i64 {
        let limit = i64::from(days) * DAY_MS;
        i64::try_from(self.durations_ms.partition_point(|ms| *ms <= limit)).unwrap_or(i64::MAX)
    }

    /// How many compliant cases took each stretch of `bucket_days` days (0 to `bucket_days`,
    /// then on), up to the longest: `counts[i]` took from `i * bucket_days` days to less than
    /// `(i + 1) * bucket_days`.
    pub fn time_to_compliance(&self, bucket_days: u32) -> Vec<i64> {
        let width = i64::from(bucket_days.max(1)) * DAY_MS;
        let Some(longest) = self.durations_ms.last() else {
            return Vec::new();
        };
        let buckets = usize::try_from(longest.max(&0) / width).unwrap_or_default() + 1;
        let mut counts = vec![0; buckets];
        for ms in &self.durations_ms {
            if let Some(count) = usize::try_from(ms.max(&0) / width).ok().and_then(|i| counts.get_mut(i)) {
                *count += 1;
            }
        }
        counts
    }

    fn add_cases(&mut self, status: CaseStatus, cases: i64, durations_ms: &[i64]) {
        self.cases_opened += cases;
        if status.is_open() {
            self.open_cases += cases;
        }
        if status == CaseStatus::Closed {
            self.closed_cases += cases;
        }
        if let Some((_, n)) = self.by_status.iter_mut().find(|(s, _)| *s == status) {
            *n += cases;
        }
        self.compliant_cases += i64::try_from(durations_ms.len()).unwrap_or(i64::MAX);
        self.durations_ms.extend_from_slice(durations_ms);
    }

    fn empty() -> Self {
        Self {
            by_status: CaseStatus::ALL.iter().map(|s| (*s, 0)).collect(),
            ..Self::default()
        }
    }
}

/// The figures in total and by place and PCN.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub all: Figures,
    /// By place, in name order.
    pub by_place: Vec<(String, Figures)>,
    /// By PCN (its code), in code order.
    pub by_pcn: Vec<(String, Figures)>,
}

/// The figures of a snapshot.
pub fn summarise(snapshot: &Snapshot) -> Summary {
    let mut all = Figures::empty();
    let mut places: BTreeMap<&str, Figures> = BTreeMap::new();
    let mut pcns: BTreeMap<&str, Figures> = BTreeMap::new();
    for count in &snapshot.practices {
        for figures in [
            &mut all,
            places.entry(&count.place).or_insert_with(Figures::empty),
            pcns.entry(&count.pcn_code).or_insert_with(Figures::empty),
        ] {
            figures.practices += count.practices;
            figures.non_compliant_practices += count.non_compliant;
        }
    }
    for count in &snapshot.cases {
        for figures in [
            &mut all,
            places.entry(&count.place).or_insert_with(Figures::empty),
            pcns.entry(&count.pcn_code).or_insert_with(Figures::empty),
        ] {
            figures.add_cases(count.status, count.cases, &count.durations_ms);
        }
    }
    let sorted = |groups: BTreeMap<&str, Figures>| -> Vec<(String, Figures)> {
        groups
            .into_iter()
            .map(|(key, mut figures)| {
                figures.durations_ms.sort_unstable();
                (key.to_string(), figures)
            })
            .collect()
    };
    all.durations_ms.sort_unstable();
    Summary {
        all,
        by_place: sorted(places),
        by_pcn: sorted(pcns),
    }
}

#[cfg(test)]
mod tests {
    use super::super::queries::{CaseCount, PracticeCount};
    use super::*;

    fn cases(place: &str, pcn: &str, status: CaseStatus, cases: i64, durations_days: &[i64]) -> CaseCount {
        CaseCount {
            place: place.into(),
            pcn_code: pcn.into(),
            status,
            cases,
            durations_ms: durations_days.iter().map(|d| d * DAY_MS).collect(),
        }
    }

    #[test]
    fn groups_add_up_to_the_whole() {
        let snapshot = Snapshot {
            cases: vec![
                cases("North", "U1", CaseStatus::Flagged, 3, &[]),
                cases("North", "U2", CaseStatus::Compliant, 2, &[10, 30]),
                cases("South", "U3", CaseStatus::Closed, 2, &[70]),
            ],
            practices: vec![
                PracticeCount {
                    place: "North".into(),
                    pcn_code: "U1".into(),
                    practices: 5,
                    non_compliant: 2,
                },
                PracticeCount {
                    place: "South".into(),
                    pcn_code: "U3".into(),
                    practices: 4,
                    non_compliant: 0,
                },
            ],
        };
        let summary = summarise(&snapshot);
        assert_eq!(summary.all.cases_opened, 7);
        assert_eq!(summary.all.open_cases, 3);
        assert_eq!(
            summary.all.compliant_cases, 3,
            "a closed case that had reached compliance counts"
        );
        assert_eq!(summary.all.closed_cases, 2);
        assert_eq!(summary.all.practices, 9);
        assert_eq!(summary.all.non_compliant_practices, 2);
        assert_eq!(summary.all.median_days_to_compliance(), Some(30.0));
        assert_eq!(summary.all.compliant_within_days(56), 2);
        assert_eq!(summary.all.compliant_within_days(70), 3);
        // 10 and 30 days, then 70: weeks 2, 5 and 11.
        let weeks = summary.all.time_to_compliance(7);
        assert_eq!(weeks.len(), 11);
        assert_eq!((weeks[1], weeks[4], weeks[10]), (1, 1, 1));
        assert_eq!(weeks.iter().sum::<i64>(), summary.all.compliant_cases);
        let total = |groups: &[(String, Figures)]| groups.iter().map(|(_, f)| f.cases_opened).sum::<i64>();
        assert_eq!(total(&summary.by_place), 7);
        assert_eq!(total(&summary.by_pcn), 7);
        assert_eq!(summary.by_pcn.len(), 3);
        let north = &summary.by_place[0].1;
        assert_eq!(
            (north.open_cases, north.compliant_cases, north.non_compliant_practices),
            (3, 2, 2)
        );
        assert_eq!(north.median_days_to_compliance(), Some(20.0));
    }
}
