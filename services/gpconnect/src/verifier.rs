//! The verifier: resolves the practice endpoint, runs the searches and decides.

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use uuid::Uuid;

use crate::config::{ConfigError, EndpointConfig, GpConnectConfig, ResolvedEndpoint};
use crate::count;
use crate::fhir::{Bundle, OperationOutcome, Resource};
use crate::holidays::BankHolidays;
use crate::model::{PracticeTarget, Verification};
use crate::request::{self, SearchWindow};
use crate::sds::{self, SdsMiss};
use crate::transport::{self, HttpClient};

/// Checks whether practices offer enough GP Connect free slots to the 111 provider.
/// Cheap to clone; clones share the rate limiter and connection pool.
#[derive(Debug, Clone)]
pub struct Verifier {
    config: Arc<GpConnectConfig>,
    holidays: Arc<BankHolidays>,
    http: Arc<HttpClient>,
    /// What the Spine Directory Service said of each practice, and when (with `Sds` endpoints).
    sds: Arc<std::sync::Mutex<SdsCache>>,
    /// Turns to search: at most `http.max_concurrent_searches` at once, however many are asked.
    turns: Arc<tokio::sync::Semaphore>,
    /// The turns background work (a batch, the schedule) may hold at once: one fewer than all
    /// (at least one), so a person's search from a case page always finds one free soon.
    background: Arc<tokio::sync::Semaphore>,
}

/// A turn to search (see [`Verifier::turn`]): given back when the search is over.
#[derive(Debug)]
pub struct Turn {
    _held: Option<tokio::sync::OwnedSemaphorePermit>,
    _background: Option<tokio::sync::OwnedSemaphorePermit>,
}

type SdsCache = std::collections::HashMap<String, (std::time::Instant, Result<ResolvedEndpoint, SdsMiss>)>;

/// What the CapabilityStatement said, beside the search.
#[derive(Debug)]
struct Asked {
    system: Option<String>,
    notices: Vec<String>,
}

/// Why a search failed, before it becomes a `FAILED` verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Failure {
    code: Option<String>,
    message: String,
    http_status: Option<u16>,
}

impl Verifier {
    /// Validate the configuration, load the endpoint map, TLS material and bank holidays.
    pub fn new(config: GpConnectConfig) -> Result<Self, ConfigError> {
        let config = config.load_endpoint_map()?;
        let holidays = match &config.bank_holidays_path {
            Some(path) => BankHolidays::from_path(path)?,
            None => BankHolidays::england_and_wales(),
        };
        let tls = transport::client_tls_config(&config.tls)?;
        let agent = transport::build_agent(tls, &config.http);
        let http = HttpClient::new(agent, config.http);
        let at_once = usize::try_from(config.http.max_concurrent_searches.max(1)).unwrap_or(1);
        Ok(Self {
            config: Arc::new(config),
            holidays: Arc::new(holidays),
            http: Arc::new(http),
            sds: Arc::default(),
            turns: Arc::new(tokio::sync::Semaphore::new(at_once)),
            background: Arc::new(tokio::sync::Semaphore::new(at_once.saturating_sub(1).max(1))),
        })
    }

    /// Use another bank holiday list (e.g. one loaded with [`BankHolidays::from_path`]).
    pub fn with_bank_holidays(mut self, holidays: BankHolidays) -> Self {
        self.holidays = Arc::new(holidays);
        self
    }

    /// The validated configuration.
    pub fn config(&self) -> &GpConnectConfig {
        &self.config
    }

    /// The bank holidays in use.
    pub fn bank_holidays(&self) -> &BankHolidays {
        &self.holidays
    }

    /// Waits for a turn to search: at most `http.max_concurrent_searches` searches run at once.
    /// The turn is held until the search's blocking work is over, even when whoever asked stopped
    /// waiting for it.
    pub async fn turn(&self) -> Turn {
        Turn {
            _held: self.turns.clone().acquire_owned().await.ok(),
            _background: None,
        }
    }

    /// A turn for background work (a batch of many practices, the schedule): background work
    /// holds at most one fewer turn than there are, so a person's own search is never stuck
    /// behind it.
    pub async fn background_turn(&self) -> Turn {
        let background = self.background.clone().acquire_owned().await.ok();
        Turn {
            _held: self.turns.clone().acquire_owned().await.ok(),
            _background: background,
        }
    }

    /// How many searches run at once; the rest wait their turn.
    pub fn searches_at_once(&self) -> usize {
        usize::try_from(self.config.http.max_concurrent_searches.max(1)).unwrap_or(1)
    }

    /// Verify `days` days from `window_start` (UK local dates), once it is this search's turn.
    /// `now` stamps the audit JWTs and excludes slots already in the past.
    pub async fn verify(
        &self,
        practice: &PracticeTarget,
        window_start: NaiveDate,
        days: u32,
        now: DateTime<Utc>,
    ) -> Verification {
        let turn = self.turn().await;
        self.verify_in_turn(turn, practice, window_start, days, now).await
    }

    /// [`Self::verify`] with a turn already taken. Runs the blocking HTTP on a blocking thread,
    /// which holds the turn until it is done.
    pub async fn verify_in_turn(
        &self,
        turn: Turn,
        practice: &PracticeTarget,
        window_start: NaiveDate,
        days: u32,
        now: DateTime<Utc>,
    ) -> Verification {
        let this = self.clone();
        let target = practice.clone();
        let searched = move || {
            let _turn = turn;
            this.verify_blocking(&target, window_start, days, now)
        };
        match tokio::task::spawn_blocking(searched).await {
            Ok(v) => v,
            Err(e) => Verification::failed(
                window_start,
                window_end(window_start, days),
                practice.required_per_day,
                None,
                format!("verification task failed: {e}"),
                None,
            ),
        }
    }

    /// The same as [`Self::verify`], blocking the calling thread (without waiting for a turn:
    /// only [`Self::verify_in_turn`] calls it).
    fn verify_blocking(
        &self,
        practice: &PracticeTarget,
        window_start: NaiveDate,
        days: u32,
        now: DateTime<Utc>,
    ) -> Verification {
        let end = window_end(window_start, days);
        let fail = |f: Failure| {
            tracing::info!(ods = %practice.ods_code, code = ?f.code, message = %f.message, "GP Connect slot check failed");
            Verification::failed(
                window_start,
                end,
                practice.required_per_day,
                f.code,
                f.message,
                f.http_status,
            )
        };
        if days == 0 {
            return fail(Failure {
                code: None,
                message: "the window must cover at least one day".into(),
                http_status: None,
            });
        }
        match self.fetch_bundles(&practice.ods_code, window_start, days, now) {
            Ok((bundles, asked)) => {
                let mut v = count::evaluate(
                    &bundles,
                    window_start,
                    days,
                    practice.required_per_day,
                    &self.holidays,
                    count::Sites {
                        main_site_name: practice.main_site_name.as_deref(),
                        single_site: practice.single_site,
                    },
                    now,
                );
                v.provider_system = asked.system;
                v.notices.extend(asked.notices);
                tracing::info!(ods = %practice.ods_code, verdict = ?v.verdict, min = ?v.min_per_core_day, "GP Connect slot check");
                v
            }
            Err((f, system)) => Verification {
                provider_system: system,
                ..fail(f)
            },
        }
    }

    /// The practice's endpoint: from the configuration, or from the Spine Directory Service
    /// (kept `cache_seconds`; an SDS that did not answer is asked again next time).
    fn endpoint(&self, ods_code: &str) -> Result<ResolvedEndpoint, Failure> {
        let EndpointConfig::Sds {
            url,
            api_key,
            cache_seconds,
        } = &self.config.endpoints
        else {
            return self.config.resolve(ods_code).map_err(|e| Failure {
                code: None,
                message: e.to_string(),
                http_status: None,
            });
        };
        let ods = ods_code.trim().to_ascii_uppercase();
        let fresh = std::time::Duration::from_secs(*cache_seconds);
        let cached = self
            .sds
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&ods)
            .filter(|(at, _)| at.elapsed() < fresh)
            .map(|(_, found)| found.clone());
        let found = match cached {
            Some(found) => found,
            None => {
                let found = self.ask_sds(url.trim_end_matches('/'), api_key.as_deref(), &ods);
                if !matches!(found, Err(SdsMiss::Failed { .. })) {
                    let mut cache = self.sds.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    if cache.len() > 20_000 {
                        cache.clear();
                    }
                    cache.insert(ods.clone(), (std::time::Instant::now(), found.clone()));
                }
                found
            }
        };
        found.map_err(|miss| Failure {
            code: Some(miss.code().to_owned()),
            message: miss.to_string(),
            http_status: None,
        })
    }

    fn ask_sds(&self, base: &str, api_key: Option<&str>, ods: &str) -> Result<ResolvedEndpoint, SdsMiss> {
        let get = |url: String| {
            let mut headers = vec![("Accept".to_owned(), crate::fhir::FHIR_JSON.to_owned())];
            if let Some(key) = api_key {
                headers.push(("apikey".to_owned(), key.to_owned()));
            }
            let request = request::SlotSearchRequest { url, headers };
            match self.http.get_with_retries(|_| request.clone()) {
                Ok(response) if (200..300).contains(&response.status) => Ok(response.body),
                Ok(response) => Err(SdsMiss::Failed {
                    ods: ods.to_owned(),
                    reason: format!("HTTP {}", response.status),
                }),
                Err(e) => Err(SdsMiss::Failed {
                    ods: ods.to_owned(),
                    reason: e.to_string(),
                }),
            }
        };
        let interaction = crate::fhir::INTERACTION_ID;
        let (address, party_key) = sds::read_endpoint(ods, &get(sds::endpoint_query(base, ods, interaction))?)?;
        let asid = sds::read_asid(ods, &get(sds::device_query(base, ods, interaction, &party_key))?)?;
        Ok(self.config.endpoint_from(ods, &address, &asid))
    }

    /// The provider's CapabilityStatement, asked before searching: the system that answers, and
    /// a refusal of its own when it does not offer free-slot search. A provider that does not
    /// answer `metadata` is still searched (noted).
    fn capability(&self, endpoint: &crate::config::ResolvedEndpoint, now: DateTime<Utc>) -> Result<Asked, Failure> {
        let built = request::build_metadata(&self.config, endpoint, now, Uuid::new_v4()).map_err(|e| Failure {
            code: None,
            message: format!("cannot build request: {e}"),
            http_status: None,
        })?;
        let answer = self.http.get_with_retries(|_| built.clone());
        let response = match answer {
            Ok(response) => response,
            Err(e) => {
                // The transport's words name the endpoint's address: logged, never recorded.
                tracing::info!(error = %e, "GP Connect metadata: no answer");
                return Ok(Asked {
                    system: None,
                    notices: vec!["metadata: no answer".to_owned()],
                });
            }
        };
        let statement = (200..300)
            .contains(&response.status)
            .then(|| serde_json::from_str::<crate::fhir::CapabilityStatement>(&response.body).ok())
            .flatten()
            .filter(|statement| statement.resource_type == "CapabilityStatement");
        match statement {
            Some(statement) if !statement.offers_slot_search() => Err(Failure {
                code: Some("SLOT_SEARCH_NOT_SUPPORTED".to_owned()),
                message: format!(
                    "the practice's system ({}) does not offer free-slot search in its CapabilityStatement",
                    statement.system().unwrap_or_else(|| "unnamed".to_owned())
                ),
                http_status: Some(response.status),
            }),
            Some(statement) => Ok(Asked {
                system: statement.system(),
                notices: Vec::new(),
            }),
            None => Ok(Asked {
                system: None,
                notices: vec![format!("metadata: HTTP {}, no CapabilityStatement", response.status)],
            }),
        }
    }

    fn fetch_bundles(
        &self,
        ods_code: &str,
        window_start: NaiveDate,
        days: u32,
        now: DateTime<Utc>,
    ) -> Result<(Vec<Bundle>, Asked), (Failure, Option<String>)> {
        let config = &self.config;
        let endpoint = self.endpoint(ods_code).map_err(|f| (f, None))?;
        let asked = self.capability(&endpoint, now).map_err(|f| (f, None))?;
        let system = asked.system.clone();
        let mut bundles = Vec::new();
        for window in request::split_window(window_start, days) {
            let mut build_error = None;
            let result = self.http.get_with_retries(|elapsed| {
                let at = now + Duration::from_std(elapsed).unwrap_or_else(|_| Duration::zero());
                match request::build_slot_search(config, &endpoint, &window, at, Uuid::new_v4()) {
                    Ok(r) => r,
                    Err(e) => {
                        build_error = Some(e.to_string());
                        request::SlotSearchRequest {
                            url: String::new(),
                            headers: Vec::new(),
                        }
                    }
                }
            });
            if let Some(e) = build_error {
                return Err((
                    Failure {
                        code: None,
                        message: format!("cannot build request: {e}"),
                        http_status: None,
                    },
                    system,
                ));
            }
            let response = result.map_err(|e| {
                (
                    Failure {
                        code: None,
                        message: e.to_string(),
                        http_status: None,
                    },
                    system.clone(),
                )
            })?;
            bundles.push(interpret(&window, response.status, &response.body).map_err(|f| (f, system.clone()))?);
        }
        Ok((bundles, asked))
    }
}

fn window_end(start: NaiveDate, days: u32) -> NaiveDate {
    start + Duration::days(i64::from(days.max(1)) - 1)
}

fn snippet(body: &str) -> String {
    let trimmed = body.trim();
    let cut: String = trimmed.chars().take(200).collect();
    if cut.len() < trimmed.len() {
        format!("{cut}…")
    } else {
        cut
    }
}

/// Turn one response into a Bundle or a failure.
fn interpret(window: &SearchWindow, status: u16, body: &str) -> Result<Bundle, Failure> {
    let parsed = serde_json::from_str::<serde_json::Value>(body).ok();
    let resource_type = parsed
        .as_ref()
        .and_then(|v| v.get("resourceType"))
        .and_then(|v| v.as_str());
    if resource_type == Some("OperationOutcome") {
        let outcome: OperationOutcome = parsed
            .and_then(|v| serde_json::from_value::<Resource>(v).ok())
            .and_then(|r| match r {
                Resource::OperationOutcome(o) => Some(o),
                _ => None,
            })
            .unwrap_or_default();
        return Err(Failure {
            code: outcome.refusal_code(),
            message: format!(
                "HTTP {status} OperationOutcome for {}..{}: {}",
                window.start,
                window.end,
                outcome.summary()
            ),
            http_status: Some(status),
        });
    }
    if !(200..300).contains(&status) {
        let what = if status == 403 {
            " (refused by the Spine Secure Proxy or provider)"
        } else {
            ""
        };
        return Err(Failure {
            code: None,
            message: format!("HTTP {status}{what}: {}", snippet(body)),
            http_status: Some(status),
        });
    }
    match parsed.map(serde_json::from_value::<Bundle>) {
        Some(Ok(bundle)) if bundle.resource_type == "Bundle" && bundle.bundle_type == "searchset" => Ok(bundle),
        Some(Ok(bundle)) if bundle.resource_type == "Bundle" => Err(Failure {
            code: None,
            message: format!("expected a searchset Bundle, got a {} Bundle", bundle.bundle_type),
            http_status: Some(status),
        }),
        Some(Ok(bundle)) => Err(Failure {
            code: None,
            message: format!("expected a Bundle, got {}", bundle.resource_type),
            http_status: Some(status),
        }),
        Some(Err(e)) => Err(Failure {
            code: None,
            message: format!("response is not a FHIR Bundle: {e}"),
            http_status: Some(status),
        }),
        None => Err(Failure {
            code: None,
            message: format!("response is not JSON: {}", snippet(body)),
            http_status: Some(status),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w() -> SearchWindow {
        let d = NaiveDate::from_ymd_opt(2025, 1, 6).unwrap();
        SearchWindow { start: d, end: d }
    }

    #[test]
    fn operation_outcomes_become_failures_with_code() {
        let outcome = OperationOutcome::error("invalid", "INVALID_PARAMETER", "Invalid parameter", "range");
        let body = serde_json::to_string(&Resource::OperationOutcome(outcome)).unwrap();
        let f = interpret(&w(), 422, &body).unwrap_err();
        assert_eq!(f.code.as_deref(), Some("INVALID_PARAMETER"));
        assert_eq!(f.http_status, Some(422));
        assert!(f.message.contains("range"));
    }

    #[test]
    fn plain_errors_and_bad_bodies() {
        let f = interpret(&w(), 403, "Forbidden").unwrap_err();
        assert_eq!(f.code, None);
        assert!(f.message.starts_with("HTTP 403"));
        assert!(
            interpret(&w(), 200, "<html/>")
                .unwrap_err()
                .message
                .contains("not JSON")
        );
        assert!(interpret(&w(), 200, r#"{"resourceType":"Patient"}"#).is_err());
        let ok = interpret(&w(), 200, r#"{"resourceType":"Bundle","type":"searchset"}"#).unwrap();
        assert!(ok.entry.is_empty());
        // A Bundle, but not a search's answer.
        let batch = interpret(&w(), 200, r#"{"resourceType":"Bundle","type":"batch-response"}"#).unwrap_err();
        assert!(batch.message.contains("searchset"), "{}", batch.message);
    }

    /// The specification's own error examples (`tests/fixtures/spec/`, SOURCES.md there), each
    /// with the code a consumer must take from it: Spine's codes as they are, the Spine Secure
    /// Proxy's refusals as codes with no ASID, party key or address in them.
    #[test]
    fn the_specifications_error_examples_give_their_codes() {
        let examples: [(&str, u16, Option<&str>); 16] = [
            (
                include_str!("../tests/fixtures/spec/outcome-example-invalid-nhs-number-supplied.json"),
                400,
                Some("INVALID_NHS_NUMBER"),
            ),
            (
                include_str!("../tests/fixtures/spec/outcome-example-patient-not-found.json"),
                404,
                Some("PATIENT_NOT_FOUND"),
            ),
            (
                include_str!("../tests/fixtures/spec/outcome-example-resource-not-found.json"),
                404,
                Some("NO_RECORD_FOUND"),
            ),
            (
                include_str!("../tests/fixtures/spec/outcome-example-no-patient-consent-to-share.json"),
                403,
                Some("NO_PATIENT_CONSENT"),
            ),
            (
                include_str!("../tests/fixtures/spec/outcome-example-access-denied.json"),
                403,
                Some("ACCESS_DENIED"),
            ),
            (
                include_str!(
                    "../tests/fixtures/spec/outcome-example-attempting-to-register-a-patient-that-already-exists.json"
                ),
                409,
                Some("DUPLICATE_REJECTED"),
            ),
            (
                include_str!("../tests/fixtures/spec/outcome-example-reference-not-found.json"),
                422,
                Some("REFERENCE_NOT_FOUND"),
            ),
            (
                include_str!("../tests/fixtures/spec/outcome-example-malformed-json-claim-in-request.json"),
                400,
                Some("BAD_REQUEST"),
            ),
            (
                include_str!("../tests/fixtures/spec/outcome-example-unexpected-exception.json"),
                500,
                Some("INTERNAL_SERVER_ERROR"),
            ),
            (
                include_str!(
                    "../tests/fixtures/spec/outcome-ssp-error-example-sender-asid-is-not-authorised-for-this-interaction.json"
                ),
                403,
                Some("ASID_CHECK_FAILED_MESSAGESENDER"),
            ),
            (
                include_str!(
                    "../tests/fixtures/spec/outcome-ssp-error-example-receiver-asid-is-not-authorised-for-this-interaction.json"
                ),
                403,
                Some("PARTYKEY_INTERACTION_CHECK_FAILED_MESSAGERECEIVER"),
            ),
            (
                include_str!(
                    "../tests/fixtures/spec/outcome-ssp-error-example-sender-asid-is-not-authorised-to-send-the-interaction-to-receiver-asid.json"
                ),
                403,
                Some("FOT_CHECK_FAILED_MESSAGESENDER_MESSAGERECEIVER"),
            ),
            (
                include_str!("../tests/fixtures/spec/outcome-ssp-error-example-method-not-allowed.json"),
                405,
                Some("METHOD_NOT_ALLOWED"),
            ),
            (
                include_str!("../tests/fixtures/spec/outcome-ssp-error-example-unsupported-media-type.json"),
                415,
                Some("UNSUPPORTED_MEDIA_TYPE"),
            ),
            (
                include_str!("../tests/fixtures/spec/outcome-ssp-error-example-error-communicating-to-target-url.json"),
                502,
                Some("ERROR_COMMUNICATING_TO_ENDPOINT_URL"),
            ),
            // Published with a trailing comma: not JSON, and still an answer (no code, its status).
            (
                include_str!(
                    "../tests/fixtures/spec/outcome-ssp-error-example-target-url-varies-from-endpoint-registered-in-sds.json"
                ),
                400,
                None,
            ),
        ];
        for (body, status, code) in examples {
            let failed = interpret(&w(), status, body).unwrap_err();
            assert_eq!(failed.code.as_deref(), code, "{body}");
            assert_eq!(failed.http_status, Some(status));
            if let Some(code) = &failed.code {
                assert!(
                    code.chars().all(|c| c.is_ascii_uppercase() || c == '_') && !code.contains("HTTP"),
                    "a code every party may see: {code}"
                );
            }
        }
    }
}
