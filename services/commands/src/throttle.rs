//! How much expensive work one person may start: a GP Connect search, an import, an export, a
//! live stream. Per person and kind, a number in flight at once and a rate (a bucket that
//! refills steadily: `burst` at once, then one every `every`); per kind, a number in flight for
//! everyone together, so that imports never crowd out the queries people are waiting on. A
//! refusal says when to try again.
//!
//! Per instance, in memory: behind a load balancer each instance keeps its own counts, which
//! bounds one person to (instances × limit); the point is that nobody can make one instance do
//! fifty searches at once. Hand-written (about a hundred lines) rather than a rate-limiting crate:
//! the concurrency half is not what those crates do, and they would add a dozen crates to a build
//! this project keeps small.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The expensive kinds of work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Work {
    /// A GP Connect free-slot search (outbound, to a practice's system).
    Verification,
    /// A batch of GP Connect searches (many practices, in the background).
    VerificationBatch,
    /// An import of a file (dashboard, register, list sizes, DHU extract…).
    Import,
    /// A spreadsheet or CSV export.
    Export,
    /// A page's stream of live updates (a person's tabs).
    LiveStream,
}

impl Work {
    pub fn as_str(self) -> &'static str {
        match self {
            Work::Verification => "verification",
            Work::VerificationBatch => "verification batch",
            Work::Import => "import",
            Work::Export => "export",
            Work::LiveStream => "live update stream",
        }
    }
}

/// One kind's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// In flight at once for one person.
    pub per_person: usize,
    /// In flight at once for everyone on this instance.
    pub overall: usize,
    /// Started at once after a quiet spell, for one person.
    pub burst: u32,
    /// Then one more every this long.
    pub every: Duration,
}

impl Work {
    /// The defaults: a person verifies one practice at a time (many at once go through a batch),
    /// imports one file at a time, exports two at a time.
    pub fn default_limit(self) -> Limit {
        match self {
            Work::Verification => Limit {
                per_person: 1,
                overall: 4,
                burst: 10,
                every: Duration::from_secs(6),
            },
            // A person runs one batch at a time, and an instance two: each holds background turns
            // of the verifier (never its last), so neither crowds out a person's own search.
            Work::VerificationBatch => Limit {
                per_person: 1,
                overall: 2,
                burst: 3,
                every: Duration::from_secs(60),
            },
            // One at a time (fifty at once crowded out the queries people were waiting on);
            // a script replaying a backlog of weekly files one after another is not refused.
            Work::Import => Limit {
                per_person: 1,
                overall: 2,
                burst: 60,
                every: Duration::from_secs(1),
            },
            Work::Export => Limit {
                per_person: 2,
                overall: 4,
                burst: 10,
                every: Duration::from_secs(6),
            },
            // Streams cost no database connection (one feed serves them all), but each holds a
            // connection: bounded by count (the service sets `overall` to half its connections).
            Work::LiveStream => Limit {
                per_person: 8,
                overall: 256,
                burst: 1_000,
                every: Duration::from_millis(10),
            },
        }
    }
}

/// Too much at once: try again after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many {kind} requests at once or in a short time: try again in {} s", retry_after.as_secs().max(1))]
pub struct RateLimited {
    pub kind: &'static str,
    pub retry_after: Duration,
}

#[derive(Debug, Default)]
struct Counts {
    /// (person, kind) → in flight, and when the bucket is next empty (GCRA's theoretical arrival).
    people: HashMap<(String, Work), (usize, Instant)>,
    /// kind → in flight.
    overall: HashMap<Work, usize>,
}

/// The counts of this instance; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Throttle {
    counts: Arc<Mutex<Counts>>,
    limits: Arc<HashMap<Work, Limit>>,
}

/// Work under way: its place in the counts, given back when dropped.
#[derive(Debug)]
pub struct Permit {
    counts: Arc<Mutex<Counts>>,
    key: (String, Work),
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Ok(mut counts) = self.counts.lock() {
            if let Some((in_flight, _)) = counts.people.get_mut(&self.key) {
                *in_flight = in_flight.saturating_sub(1);
            }
            if let Some(overall) = counts.overall.get_mut(&self.key.1) {
                *overall = overall.saturating_sub(1);
            }
        }
    }
}

impl Throttle {
    /// With each kind's limit as given, the defaults for the rest.
    pub fn with_limits(limits: impl IntoIterator<Item = (Work, Limit)>) -> Self {
        Self {
            counts: Arc::default(),
            limits: Arc::new(limits.into_iter().collect()),
        }
    }

    fn limit(&self, work: Work) -> Limit {
        self.limits.get(&work).copied().unwrap_or_else(|| work.default_limit())
    }

    /// Starts `work` for `person`, or says when they may.
    pub fn start(&self, person: &str, work: Work) -> Result<Permit, RateLimited> {
        self.start_at(person, work, Instant::now())
    }

    fn start_at(&self, person: &str, work: Work, now: Instant) -> Result<Permit, RateLimited> {
        let limit = self.limit(work);
        let refused = |retry_after: Duration| {
            metrics::counter!("caseledger_rate_limited_total", "kind" => work.as_str()).increment(1);
            Err(RateLimited {
                kind: work.as_str(),
                retry_after,
            })
        };
        let Ok(mut counts) = self.counts.lock() else {
            return refused(Duration::from_secs(1));
        };
        // Forget people whose buckets are full again and who have nothing in flight.
        if counts.people.len() > 10_000 {
            counts
                .people
                .retain(|_, (in_flight, empty_at)| *in_flight > 0 || *empty_at > now);
        }
        let overall = counts.overall.get(&work).copied().unwrap_or(0);
        let key = (person.to_string(), work);
        let (in_flight, empty_at) = counts.people.get(&key).copied().unwrap_or((0, now));
        if in_flight >= limit.per_person || overall >= limit.overall {
            return refused(Duration::from_secs(1));
        }
        // GCRA: each start moves the bucket's "empty at" on by `every`; at most `burst` ahead.
        let every = limit.every;
        let tolerance = every.saturating_mul(limit.burst.saturating_sub(1));
        let empty_at = empty_at.max(now);
        if empty_at > now + tolerance {
            return refused(empty_at - (now + tolerance));
        }
        counts.people.insert(key.clone(), (in_flight + 1, empty_at + every));
        counts.overall.insert(work, overall + 1);
        Ok(Permit {
            counts: self.counts.clone(),
            key,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_person_has_so_many_in_flight_and_a_rate_and_others_are_not_held_up() {
        let throttle = Throttle::with_limits([(
            Work::Verification,
            Limit {
                per_person: 1,
                overall: 2,
                burst: 2,
                every: Duration::from_secs(10),
            },
        )]);
        let now = Instant::now();
        let first = throttle.start_at("dc-amira", Work::Verification, now);
        assert!(first.is_ok());
        let second = throttle.start_at("dc-amira", Work::Verification, now);
        assert!(second.is_err(), "one at a time for one person");
        let ben = throttle.start_at("dc-ben", Work::Verification, now);
        assert!(ben.is_ok(), "another person is not held up");
        let third = throttle.start_at("dc-chloe", Work::Verification, now);
        assert!(third.is_err(), "two at a time for everyone");
        drop((first, ben));
        // Amira's second start uses her burst; the third must wait for the bucket.
        assert!(throttle.start_at("dc-amira", Work::Verification, now).is_ok());
        let refused = throttle.start_at("dc-amira", Work::Verification, now).unwrap_err();
        assert_eq!(refused.retry_after, Duration::from_secs(10), "{refused}");
        assert!(
            throttle
                .start_at("dc-amira", Work::Verification, now + Duration::from_secs(10))
                .is_ok(),
            "the bucket refills"
        );
        assert!(throttle.start_at("dc-amira", Work::Import, now).is_ok(), "kinds apart");
    }
}
