//! CaseLedger's own GP Connect free-slot search, as the 111 provider runs it: on demand for a
//! case or a practice (the API asks), and on a schedule for every practice with an open case (a
//! [`Job`](crate::Job)). What the search found is recorded in the practice's stream; the search
//! itself is `caseledger-gpconnect`'s.

use std::sync::Arc;
use std::time::Duration;

use caseledger_cases::Actor;
use caseledger_cases::practice::{LocationSlots, SlotVerification, VerificationVerdict, VerifiedDay, VerifiedSlot};
use caseledger_cases::values::{OdsCode, ShortText};
use caseledger_commands::{CommandError, Commands};
use caseledger_eventstore::Position;
use caseledger_gpconnect::{GpConnectConfig, PracticeTarget, Verdict, Verification, Verifier};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use uuid::Uuid;

/// Days a verification looks ahead, from tomorrow: one search (GP Connect allows 14 days).
pub const WINDOW_DAYS: u32 = 14;

/// How long a search may take, retries included, before it is recorded as FAILED: within the
/// 30 s a request may run.
pub const SEARCH_DEADLINE: Duration = Duration::from_secs(25);

/// The locations a day records at most (the main site first): what another system sends is
/// bounded before it is stored.
pub const MAX_LOCATIONS: usize = 20;

/// Who a search is for: a person waiting on a page, or background work (a batch, the schedule),
/// which never takes the last turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    Person,
    Background,
}

/// The verifier the service runs, configured from `CASELEDGER_GPCONNECT_*`, with the batches it
/// is running (stopped with the service).
#[derive(Debug)]
pub struct SlotVerifier {
    verifier: Verifier,
    batches: tokio_util::task::TaskTracker,
    stopping: tokio_util::sync::CancellationToken,
}

impl SlotVerifier {
    pub fn new(config: GpConnectConfig) -> Result<Self, caseledger_gpconnect::ConfigError> {
        Ok(Self {
            verifier: Verifier::new(config)?,
            batches: tokio_util::task::TaskTracker::new(),
            stopping: tokio_util::sync::CancellationToken::new(),
        })
    }

    /// How many searches run at once; the rest wait their turn.
    pub fn searches_at_once(&self) -> usize {
        self.verifier.searches_at_once()
    }

    /// Stops the batches: no search starts from now; those under way are recorded, for at most
    /// `grace`.
    pub async fn stop_batches(&self, grace: Duration) {
        self.stopping.cancel();
        self.batches.close();
        if tokio::time::timeout(grace, self.batches.wait()).await.is_err() {
            tracing::warn!(
                seconds = grace.as_secs(),
                "GP Connect batches still searching after the grace period"
            );
        }
    }

    /// Searches the practice's free slots for the 14 days from tomorrow (UK time: today is partly
    /// gone, and its past slots cannot be booked) and judges them against `required` a
    /// core-hours day. Waits for its turn first (the verifier runs so many searches at once); the
    /// deadline runs from then. Returns what it found and when it searched.
    pub async fn search(
        &self,
        ods_code: &OdsCode,
        case_id: Option<Uuid>,
        required: u32,
        main_site: Option<String>,
        single_site: bool,
        priority: Priority,
    ) -> (SlotVerification, DateTime<Utc>) {
        let turn = match priority {
            Priority::Person => self.verifier.turn().await,
            Priority::Background => self.verifier.background_turn().await,
        };
        let now = caseledger_clock::now();
        let target = PracticeTarget {
            ods_code: ods_code.to_string(),
            required_per_day: required.max(1),
            main_site_name: main_site,
            single_site,
        };
        let today = caseledger_gpconnect::ukclock::to_uk(now).date_naive();
        let start = today.succ_opt().unwrap_or(today);
        let found = match tokio::time::timeout(
            SEARCH_DEADLINE,
            self.verifier.verify_in_turn(turn, &target, start, WINDOW_DAYS, now),
        )
        .await
        {
            Ok(found) => found,
            Err(_) => Verification {
                window_start: start,
                window_end: start + chrono::Days::new(u64::from(WINDOW_DAYS) - 1),
                required_per_day: target.required_per_day,
                days: Vec::new(),
                min_per_core_day: None,
                verdict: Verdict::Failed {
                    code: None,
                    message: format!("no answer within {} s", SEARCH_DEADLINE.as_secs()),
                    http_status: None,
                },
                slots: Vec::new(),
                past_slots: 0,
                notices: Vec::new(),
                provider_system: None,
            },
        };
        (recorded(ods_code, case_id, found), now)
    }
}

/// What the search found, as the event records it (text from the practice's system made to fit).
pub fn recorded(ods_code: &OdsCode, case_id: Option<Uuid>, found: Verification) -> SlotVerification {
    let (verdict, short_days, error_code, error) = match found.verdict {
        Verdict::Enough => (VerificationVerdict::Enough, Vec::new(), None, None),
        Verdict::TooFew { short_days } => (VerificationVerdict::TooFew, short_days, None, None),
        Verdict::Failed { code, message, .. } => (
            VerificationVerdict::Failed,
            Vec::new(),
            code.as_deref().and_then(ShortText::lossy),
            ShortText::lossy(&message).or_else(|| ShortText::lossy("the search failed")),
        ),
    };
    SlotVerification {
        ods_code: ods_code.clone(),
        case_id,
        window_start: found.window_start,
        window_end: found.window_end,
        required_per_day: found.required_per_day,
        days: found
            .days
            .into_iter()
            .map(|day| VerifiedDay {
                date: day.date,
                total: day.total,
                locations: {
                    let mut locations = day.by_location;
                    locations.sort_by_key(|l| !l.main_site);
                    locations.truncate(MAX_LOCATIONS);
                    locations
                }
                .into_iter()
                .filter_map(|l| {
                    // The main site that offered nothing comes back without an id.
                    let id = ShortText::lossy(&l.location_id).or_else(|| ShortText::lossy("main site"))?;
                    Some(LocationSlots {
                        location_id: id,
                        name: l.name.as_deref().and_then(ShortText::lossy),
                        main_site: l.main_site,
                        unresolved: l.unresolved,
                        free_slots: l.free_slots,
                    })
                })
                .collect(),
            })
            .collect(),
        min_per_core_day: found.min_per_core_day,
        verdict,
        short_days,
        error_code,
        error,
        slots: found
            .slots
            .into_iter()
            .filter_map(|slot| {
                Some(VerifiedSlot {
                    date: slot.date,
                    start: ShortText::lossy(&slot.start)?,
                    duration_minutes: slot.duration_minutes,
                    session: slot.session.as_deref().and_then(ShortText::lossy),
                    slot_type: slot.slot_type.as_deref().and_then(ShortText::lossy),
                    delivery_channel: slot.delivery_channel.as_deref().and_then(ShortText::lossy),
                    practitioner_role: slot.practitioner_role.as_deref().and_then(ShortText::lossy),
                    location_id: ShortText::lossy(&slot.location_id),
                    counted: slot.counted,
                    past: slot.past,
                })
            })
            .collect(),
        past_slots: found.past_slots,
        notices: found
            .notices
            .iter()
            .filter_map(|notice| ShortText::lossy(notice))
            .collect(),
        provider_system: found.provider_system.as_deref().and_then(ShortText::lossy),
    }
}

/// Why a verification was not made.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The caller's role may not make a practice's system answer.
    #[error("the {0} role may not verify slot visibility")]
    Forbidden(caseledger_cases::Role),
    /// What is missing, in a sentence.
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Command(#[from] CommandError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Store(#[from] caseledger_eventstore::StoreError),
}

/// What a verification needs: the verifier, and the commands that record what it found (whose
/// store the views are read from).
#[derive(Debug, Clone)]
pub struct Verifications {
    pub verifier: SharedVerifier,
    pub commands: Commands,
}

impl Verifications {
    /// Verifies the practice of `case_id` against the case's requirement now, records what was
    /// found as `actor`, and returns it with where it was recorded.
    pub async fn verify_case(
        &self,
        actor: &Actor,
        case_id: Uuid,
        priority: Priority,
    ) -> Result<(SlotVerification, Option<Position>), VerifyError> {
        let pool = self.commands.store().pool();
        let case = caseledger_projections::case_view::by_id(pool, case_id)
            .await?
            .ok_or_else(|| VerifyError::NotFound(format!("case {case_id} not found")))?;
        let ods = OdsCode::parse(&case.ods_code)
            .map_err(|_| VerifyError::NotFound(format!("practice {} not found", case.ods_code)))?;
        let required = u32::try_from(case.required_slots).unwrap_or(1);
        self.verify(actor, &ods, Some(case_id), Some(required), priority).await
    }

    /// Verifies a practice (against `required` a day, else its current requirement), records
    /// what was found as `actor`, and returns it with where it was recorded.
    pub async fn verify(
        &self,
        actor: &Actor,
        ods: &OdsCode,
        case_id: Option<Uuid>,
        required: Option<u32>,
        priority: Priority,
    ) -> Result<(SlotVerification, Option<Position>), VerifyError> {
        // The role first: nobody without the right makes the practice's system answer.
        if !caseledger_cases::case::CommandName::VerifySlotVisibility.permits(actor.role) {
            return Err(VerifyError::Forbidden(actor.role));
        }
        let practice = caseledger_projections::practice_view::get(self.commands.store().pool(), ods.as_str()).await?;
        let required = match (required, &practice) {
            (Some(required), _) => required,
            (None, Some(p)) => u32::try_from(p.row.required_slots).unwrap_or(1),
            (None, None) => {
                return Err(VerifyError::NotFound(format!(
                    "practice {ods} is not in the register: import it first (the practice register CSV, or \
                     ODS's epraccur.csv with the list sizes)"
                )));
            }
        };
        // A practice the register lists with no branch has one site: every location is it.
        let single_site = practice
            .as_ref()
            .is_some_and(|p| p.row.main_site.is_some() && p.row.branch_sites.is_empty());
        let main_site = practice.and_then(|p| p.row.main_site);
        let (found, at) = self
            .verifier
            .search(ods, case_id, required, main_site, single_site, priority)
            .await;
        let position = self.commands.record_verification(actor, found.clone(), at).await?;
        Ok((found, position))
    }

    /// Verifies many practices as `actor`, each against its open case's requirement if it has
    /// one (else its current requirement), as background work: starts them and returns at once;
    /// each search is recorded as it ends, like one asked for alone. `permit` (the caller's place
    /// in the throttle) is held until the last one ends. When the service stops, no search
    /// starts and those under way are recorded.
    pub fn start_batch<P: Send + 'static>(&self, actor: Actor, practices: Vec<BatchPractice>, permit: P) {
        let this = self.clone();
        let at_once = this.verifier.searches_at_once();
        let stopping = this.verifier.stopping.clone();
        let asked = practices.len();
        self.verifier.batches.spawn(async move {
            let _permit = permit;
            let started = std::time::Instant::now();
            let searched = futures_util::stream::iter(practices)
                .take_while(|_| std::future::ready(!stopping.is_cancelled()))
                .map(|practice| {
                    let this = &this;
                    let actor = &actor;
                    async move {
                        let verified = match practice.open_case {
                            Some(case_id) => this.verify_case(actor, case_id, Priority::Background).await,
                            None => {
                                this.verify(actor, &practice.ods_code, None, None, Priority::Background)
                                    .await
                            }
                        };
                        if let Err(error) = &verified {
                            tracing::warn!(%error, ods = %practice.ods_code, "verification of a batch not recorded");
                        }
                        verified.is_ok()
                    }
                })
                .buffer_unordered(at_once)
                .filter(|recorded| std::future::ready(*recorded))
                .count()
                .await;
            if stopping.is_cancelled() && searched < asked {
                tracing::warn!(actor = %actor.id, searched, asked, "GP Connect batch stopped with the service");
            } else {
                tracing::info!(actor = %actor.id, searched, asked, seconds = started.elapsed().as_secs(), "GP Connect batch done");
            }
        });
    }

    /// One scheduled round: the practices with an open case not verified for `every`, oldest
    /// verification first (at most 500), each recorded as `actor`.
    pub async fn run_due(&self, actor: &Actor, every: Duration) -> Result<usize, VerifyError> {
        let store = self.commands.store();
        let cutoff = caseledger_clock::now() - chrono::Duration::from_std(every).unwrap_or(chrono::Duration::weeks(1));
        let due = caseledger_projections::practice_view::due_for_verification(store.pool(), cutoff, 500).await?;
        let mut verified = 0;
        let mut last = None;
        for (ods, case_id) in due {
            match self.verify_case(actor, case_id, Priority::Background).await {
                Ok((_, position)) => {
                    verified += 1;
                    last = last.max(position);
                }
                Err(error) => tracing::warn!(%error, %ods, "scheduled verification not recorded"),
            }
        }
        // The next holder of the lease must see these as done: let the views catch up first.
        if let Some(position) = last {
            caseledger_projections::wait_for_position(store, position, Duration::from_secs(30)).await?;
        }
        Ok(verified)
    }
}

/// The schedule's job: its lease lets one instance run it at a time.
pub const SCHEDULE: &str = "gpconnect-schedule";

/// Verifying, on a schedule, every practice with an open case not verified for `every`.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub verifications: Verifications,
    pub every: Duration,
}

impl crate::Job for Schedule {
    fn name(&self) -> &'static str {
        SCHEDULE
    }

    fn every(&self) -> Duration {
        self.every.min(Duration::from_secs(15 * 60))
    }

    fn round(&self) -> BoxFuture<'_, Result<usize, crate::JobError>> {
        Box::pin(async move {
            let Some(id) = ShortText::lossy(SCHEDULE) else {
                return Ok(0);
            };
            let system = Actor::new(id, caseledger_cases::Role::Admin);
            Ok(self.verifications.run_due(&system, self.every).await?)
        })
    }
}

/// One practice of a batch: its ODS code, and its open case if it has one (searched against the
/// case's requirement, and shown on the case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchPractice {
    pub ods_code: OdsCode,
    pub open_case: Option<Uuid>,
}

/// The most practices one batch searches.
pub const MAX_BATCH: usize = 200;

/// Shared by the API and the schedule.
pub type SharedVerifier = Arc<SlotVerifier>;
