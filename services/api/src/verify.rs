//! CaseLedger's own GP Connect free-slot search, as the 111 provider runs it: on demand for a
//! case or a practice, and on a schedule for every practice with an open case (by one instance
//! at a time). What the search found is recorded in the practice's stream; the search itself is
//! `caseledger-gpconnect`'s.

use std::sync::Arc;
use std::time::Duration;

use caseledger_cases::Actor;
use caseledger_cases::practice::{LocationSlots, SlotVerification, VerificationVerdict, VerifiedDay};
use caseledger_cases::values::{OdsCode, ShortText};
use caseledger_eventstore::Position;
use caseledger_gpconnect::{GpConnectConfig, PracticeTarget, Verdict, Verification, Verifier};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::ApiError;
use crate::graphql::AppState;

/// Days a verification looks ahead, from tomorrow: one search (GP Connect allows 14 days).
pub const WINDOW_DAYS: u32 = 14;

/// How long a search may take, retries included, before it is recorded as FAILED: within the
/// 30 s a request may run.
pub const SEARCH_DEADLINE: Duration = Duration::from_secs(25);

/// The locations a day records at most (the main site first): what another system sends is
/// bounded before it is stored.
pub const MAX_LOCATIONS: usize = 20;

/// The verifier the service runs, configured from `CASELEDGER_GPCONNECT_*`.
#[derive(Debug)]
pub struct SlotVerifier {
    verifier: Verifier,
}

impl SlotVerifier {
    pub fn new(config: GpConnectConfig) -> Result<Self, caseledger_gpconnect::ConfigError> {
        Ok(Self {
            verifier: Verifier::new(config)?,
        })
    }

    /// `None` when no GP Connect provider is configured (`CASELEDGER_GPCONNECT_PROVIDER_ODS_CODE`
    /// unset); an error when it is configured wrongly.
    pub fn from_env() -> Result<Option<Self>, caseledger_gpconnect::ConfigError> {
        let key = format!("{}PROVIDER_ODS_CODE", caseledger_gpconnect::ENV_PREFIX);
        if std::env::var(&key).map_or(true, |v| v.trim().is_empty()) {
            return Ok(None);
        }
        Self::new(GpConnectConfig::from_env()?).map(Some)
    }

    /// Searches the practice's free slots for the 14 days from tomorrow (UK time: today is partly
    /// gone, and its past slots cannot be booked) and judges them against `required` a
    /// core-hours day.
    pub async fn search(
        &self,
        ods_code: &OdsCode,
        case_id: Option<Uuid>,
        required: u32,
        main_site: Option<String>,
        now: DateTime<Utc>,
    ) -> SlotVerification {
        let target = PracticeTarget {
            ods_code: ods_code.to_string(),
            required_per_day: required.max(1),
            main_site_name: main_site,
        };
        let today = caseledger_gpconnect::ukclock::to_uk(now).date_naive();
        let start = today.succ_opt().unwrap_or(today);
        let found =
            match tokio::time::timeout(SEARCH_DEADLINE, self.verifier.verify(&target, start, WINDOW_DAYS, now)).await {
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
                },
            };
        recorded(ods_code, case_id, found)
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
    }
}

/// Verifies the practice of `case_id` against the case's requirement now, records what was
/// found as `actor`, and returns it with where it was recorded.
pub async fn verify_case(
    state: &AppState,
    actor: &Actor,
    case_id: Uuid,
) -> Result<(SlotVerification, Option<Position>), ApiError> {
    let pool = state.store.pool();
    let case = caseledger_projections::case_view::by_id(pool, case_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("case {case_id}")))?;
    let ods = OdsCode::parse(&case.ods_code).map_err(ApiError::internal)?;
    let required = u32::try_from(case.required_slots).unwrap_or(1);
    verify(state, actor, &ods, Some(case_id), Some(required)).await
}

/// Verifies a practice (against `required` a day, else its current requirement), records what
/// was found as `actor`, and returns it with where it was recorded.
pub async fn verify(
    state: &AppState,
    actor: &Actor,
    ods: &OdsCode,
    case_id: Option<Uuid>,
    required: Option<u32>,
) -> Result<(SlotVerification, Option<Position>), ApiError> {
    // The role first: nobody without the right makes the practice's system answer.
    if !caseledger_cases::case::command_rule("VerifySlotVisibility").is_some_and(|rule| rule.permits(actor.role)) {
        return Err(ApiError::Forbidden(format!(
            "the {} role may not verify slot visibility",
            actor.role
        )));
    }
    let verifier = state
        .verifier
        .as_ref()
        .ok_or_else(|| ApiError::NotConfigured("GP Connect verification (CASELEDGER_GPCONNECT_*)".into()))?;
    let practice = caseledger_projections::practice_view::get(state.store.pool(), ods.as_str()).await?;
    let required = match (required, &practice) {
        (Some(required), _) => required,
        (None, Some(p)) => u32::try_from(p.row.required_slots).unwrap_or(1),
        (None, None) => return Err(ApiError::NotFound(format!("practice {ods}"))),
    };
    let main_site = practice.and_then(|p| p.row.main_site);
    let now = caseledger_clock::now();
    let found = verifier.search(ods, case_id, required, main_site, now).await;
    let position = state.commands.record_verification(actor, found.clone(), now).await?;
    Ok((found, position))
}

/// Every `every`, verifies each practice with an open case not verified for `every`, `batch` at
/// a time, while this instance holds the schedule's lease; stops when `stop` turns true.
pub fn spawn_schedule(
    state: AppState,
    every: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let Some(id) = ShortText::lossy("gpconnect-schedule") else {
            return;
        };
        let system = Actor::new(id, caseledger_cases::Role::Admin);
        loop {
            match run_due(&state, &system, every).await {
                Ok(0) => {}
                Ok(verified) => tracing::info!(verified, "scheduled GP Connect verifications recorded"),
                Err(error) => tracing::warn!(%error, "scheduled GP Connect verification"),
            }
            let pause = every.min(Duration::from_secs(15 * 60));
            tokio::select! {
                _ = stop.wait_for(|stop| *stop) => return,
                () = tokio::time::sleep(pause) => {}
            }
        }
    })
}

/// One scheduled round: under the lease, the practices due, oldest verification first.
pub async fn run_due(state: &AppState, actor: &Actor, every: Duration) -> Result<usize, ApiError> {
    let Some(lease) = caseledger_eventstore::SubscriberLease::try_acquire(state.store.pool(), SCHEDULE_LEASE).await?
    else {
        return Ok(0);
    };
    let cutoff = caseledger_clock::now() - chrono::Duration::from_std(every).unwrap_or(chrono::Duration::weeks(1));
    let due = caseledger_projections::practice_view::due_for_verification(state.store.pool(), cutoff, 500).await?;
    let mut verified = 0;
    let mut last = None;
    for (ods, case_id) in due {
        match verify_case(state, actor, case_id).await {
            Ok((_, position)) => {
                verified += 1;
                last = last.max(position);
            }
            Err(error) => tracing::warn!(%error, %ods, "scheduled verification not recorded"),
        }
    }
    // The next holder of the lease must see these as done: let the views catch up first.
    if let Some(position) = last {
        caseledger_projections::wait_for_position(&state.store, position, Duration::from_secs(30)).await?;
    }
    lease.release().await?;
    Ok(verified)
}

/// The lease that lets one instance run the schedule at a time.
pub const SCHEDULE_LEASE: &str = "gpconnect-schedule";

/// Shared with the GraphQL state.
pub type SharedVerifier = Arc<SlotVerifier>;

/// The 111 provider's ODS code in the demo (the fake's slots allow it).
pub const DEMO_PROVIDER_ODS: &str = "NHS111";

/// The demo's scenario for the fake provider, from the demo's practices: from a week before
/// `today` to two months after it, a practice with an open case offers its slots but not to the
/// 111 provider (not GP Connect bookable: the case study's commonest cause); of the others, every
/// seventh offers one slot a day fewer than it needs, the rest one more.
pub fn demo_scenario(
    practices: &[caseledger_projections::practice_view::PracticeSummary],
    today: chrono::NaiveDate,
) -> caseledger_gpconnect::fake::Scenario {
    use caseledger_gpconnect::fake::{
        Availability, LocationSpec, PracticeScenario, PractitionerSpec, Scenario, ScheduleSpec, SlotGenerator,
    };
    let practices = practices
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let row = &p.row;
            let required = u32::try_from(row.required_slots).unwrap_or(1).max(1);
            let (per_day, bookable) = match (p.open_case_id, i % 7) {
                (Some(_), _) => (required + 1, false),
                (None, 6) => (required - 1, true),
                (None, _) => (required + 1, true),
            };
            let mut locations = vec![LocationSpec {
                id: "main".into(),
                name: row.main_site.clone().unwrap_or_else(|| row.name.clone()),
            }];
            locations.extend(row.branch_sites.iter().enumerate().map(|(b, name)| LocationSpec {
                id: format!("branch-{}", b + 1),
                name: name.clone(),
            }));
            PracticeScenario {
                ods_code: row.ods_code.clone(),
                name: row.name.clone(),
                gp_connect_enabled: true,
                when_disabled: Default::default(),
                fail_first_requests: None,
                max_span_days: None,
                locations,
                practitioners: vec![PractitionerSpec {
                    id: "gp-1".into(),
                    family: "Duty".into(),
                    given: vec!["Doctor".into()],
                    prefix: vec!["Dr".into()],
                    sds_user_id: None,
                }],
                schedules: vec![ScheduleSpec {
                    id: "main-111".into(),
                    location: "main".into(),
                    practitioner: Some("gp-1".into()),
                    delivery_channel: "In-person".into(),
                    practitioner_role: "R0260".into(),
                    name: Some("111 direct booking".into()),
                    availability: None,
                }],
                slots: Vec::new(),
                generate: (per_day > 0)
                    .then(|| SlotGenerator {
                        schedule: "main-111".into(),
                        from: today - chrono::Days::new(7),
                        to: today + chrono::Days::new(60),
                        per_day,
                        minutes: 15,
                        first_start: chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default(),
                        status: "free".into(),
                        slot_type: Some("111 direct booking".into()),
                        availability: Some(Availability {
                            gp_connect_bookable: bookable,
                            allowed_ods_codes: vec![DEMO_PROVIDER_ODS.into()],
                            allowed_org_types: vec!["urgent-care".into()],
                        }),
                    })
                    .into_iter()
                    .collect(),
            }
        })
        .collect();
    Scenario {
        now: None,
        drop_first_connections: 0,
        practices,
    }
}

/// The verifier's configuration for the demo's fake provider.
pub fn demo_config(pki: &caseledger_gpconnect::pki::PkiFiles, endpoint_template: String) -> GpConnectConfig {
    use caseledger_gpconnect::{DeviceIdentity, EndpointConfig, HttpSettings, PractitionerIdentity, TlsPaths};
    GpConnectConfig {
        provider_ods_code: DEMO_PROVIDER_ODS.into(),
        provider_name: "NHS 111 provider (demo)".into(),
        from_asid: "200000000111".into(),
        to_asid: Some("918999198993".into()),
        jwt_issuer: "https://caseledger.localhost/gpconnect".into(),
        endpoints: EndpointConfig::Template {
            template: endpoint_template,
        },
        ssp_url: None,
        tls: TlsPaths {
            client_cert_path: pki.client_cert.clone(),
            client_key_path: pki.client_key.clone(),
            ca_bundle_path: pki.ca.clone(),
        },
        practitioner: PractitionerIdentity {
            id: "caseledger".into(),
            family: "CaseLedger".into(),
            given: None,
            sds_user_id: "UNK".into(),
            sds_role_profile_id: "UNK".into(),
            local_user_system: "urn:caseledger:user-id".into(),
        },
        device: DeviceIdentity::default(),
        http: HttpSettings {
            connect_timeout_ms: 2_000,
            read_timeout_ms: 10_000,
            max_retries: 2,
            retry_base_delay_ms: 200,
            min_request_interval_ms: 50,
        },
        bank_holidays_path: None,
    }
}
