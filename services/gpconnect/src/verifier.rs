//! The verifier: resolves the practice endpoint, runs the searches and decides.

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use uuid::Uuid;

use crate::config::{ConfigError, GpConnectConfig};
use crate::count;
use crate::fhir::{Bundle, OperationOutcome, Resource};
use crate::holidays::BankHolidays;
use crate::model::{PracticeTarget, Verification};
use crate::request::{self, SearchWindow};
use crate::transport::{self, HttpClient};

/// Checks whether practices offer enough GP Connect free slots to the 111 provider.
/// Cheap to clone; clones share the rate limiter and connection pool.
#[derive(Debug, Clone)]
pub struct Verifier {
    config: Arc<GpConnectConfig>,
    holidays: Arc<BankHolidays>,
    http: Arc<HttpClient>,
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
        Ok(Self {
            config: Arc::new(config),
            holidays: Arc::new(holidays),
            http: Arc::new(http),
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

    /// Verify `days` days from `window_start` (UK local dates). `now` stamps the audit JWTs and
    /// excludes slots already in the past. Runs the blocking HTTP on a blocking thread.
    pub async fn verify(
        &self,
        practice: &PracticeTarget,
        window_start: NaiveDate,
        days: u32,
        now: DateTime<Utc>,
    ) -> Verification {
        let this = self.clone();
        let target = practice.clone();
        match tokio::task::spawn_blocking(move || this.verify_blocking(&target, window_start, days, now)).await {
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

    /// The same as [`Self::verify`], blocking the calling thread.
    pub fn verify_blocking(
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
            Ok(bundles) => {
                let v = count::evaluate(
                    &bundles,
                    window_start,
                    days,
                    practice.required_per_day,
                    &self.holidays,
                    practice.main_site_name.as_deref(),
                    now,
                );
                tracing::info!(ods = %practice.ods_code, verdict = ?v.verdict, min = ?v.min_per_core_day, "GP Connect slot check");
                v
            }
            Err(f) => fail(f),
        }
    }

    fn fetch_bundles(
        &self,
        ods_code: &str,
        window_start: NaiveDate,
        days: u32,
        now: DateTime<Utc>,
    ) -> Result<Vec<Bundle>, Failure> {
        let config = &self.config;
        let endpoint = config.resolve(ods_code).map_err(|e| Failure {
            code: None,
            message: e.to_string(),
            http_status: None,
        })?;
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
                return Err(Failure {
                    code: None,
                    message: format!("cannot build request: {e}"),
                    http_status: None,
                });
            }
            let response = result.map_err(|e| Failure {
                code: None,
                message: e.to_string(),
                http_status: None,
            })?;
            bundles.push(interpret(&window, response.status, &response.body)?);
        }
        Ok(bundles)
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
            code: outcome.spine_code().map(str::to_owned),
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
        Some(Ok(bundle)) if bundle.resource_type == "Bundle" => Ok(bundle),
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
    }
}
