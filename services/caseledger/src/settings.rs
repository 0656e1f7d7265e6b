//! The service's configuration, read once from the environment at start; an error names the
//! variable that is wrong and why. Everything the service does differently per deployment is
//! here (logging and tracing, which start before anything else, read their own variables).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use caseledger_cases::Role;

use caseledger_api::auth::{AUDIENCE, OidcConfig};
use caseledger_api::graphql::Limits;
use caseledger_api::graphql::SubscriptionLimits;
use caseledger_jobs::notifications::DEFAULT_MAIL_DOMAINS;

pub const DEV_SECRET_VAR: &str = "CASELEDGER_DEV_JWT_SECRET";
/// An HS256 secret shorter than this is refused: it could be guessed offline from one token.
pub const MIN_DEV_SECRET_BYTES: usize = 32;

#[derive(Debug, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct SettingsError {
    pub variable: &'static str,
    pub problem: String,
}

fn wrong(variable: &'static str, problem: impl Into<String>) -> SettingsError {
    SettingsError {
        variable,
        problem: problem.into(),
    }
}

/// A variable's value; unset and empty are the same.
fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.trim().is_empty())
}

fn number<T: std::str::FromStr>(name: &'static str, default: T) -> Result<T, SettingsError> {
    match var(name) {
        None => Ok(default),
        Some(value) => value
            .trim()
            .parse()
            .map_err(|_| wrong(name, format!("{value:?} is not a whole number"))),
    }
}

/// Where the service listens, and what it accepts.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `CASELEDGER_LISTEN`: the public address (GraphQL, web pages, probes).
    pub listen: String,
    /// `CASELEDGER_METRICS_LISTEN`: where `/metrics` is served, apart from the public port
    /// (`off` serves no metrics).
    pub metrics_listen: Option<String>,
    /// `CASELEDGER_DEV_JWT_SECRET`: development mode (HS256 tokens, the GraphQL explorer, demo sign-in).
    pub dev_secret: Option<String>,
    pub oidc: Option<OidcConfig>,
    pub limits: Limits,
    /// `CASELEDGER_MAX_SUBSCRIPTIONS_PER_CONNECTION` and `…_PER_PERSON`.
    pub subscriptions: SubscriptionLimits,
    /// `CASELEDGER_SESSION_IDLE_SECONDS`: a web session unused this long ends (30 minutes).
    pub session_idle: Duration,
    /// `CASELEDGER_GPCONNECT_VERIFY_EVERY_HOURS`: how often each practice with an open case is
    /// verified through GP Connect, when GP Connect is configured (a week; 0 turns it off).
    pub verify_every: Option<Duration>,
    /// `CASELEDGER_KEK`: the key-encryption key that wraps each case's data key (32 random bytes,
    /// base64-encoded, or the path of a file holding them). Needed to write or read personal data.
    pub kek: Option<Secret>,
    /// `CASELEDGER_RETAIN_PERSONAL_DAYS`: a closed case's personal data is erased this many days
    /// after it closed (unset or 0: kept until erased by hand).
    pub retain_personal: Option<Duration>,
    /// `CASELEDGER_TARGET_*_DAYS`: working days allowed for each stage of a case.
    pub targets: caseledger_cases::deadlines::StageTargets,
    /// `CASELEDGER_BANK_HOLIDAYS_FILE`: an updated England and Wales bank holiday list (one ISO
    /// date a line), for the deadlines; the shipped list otherwise.
    pub bank_holidays: Option<std::path::PathBuf>,
    /// `CASELEDGER_SMTP_URL`: the relay notifications go through (`smtp://host:25`,
    /// `smtp://host:587?tls=required`, `smtps://user:password@host:465`); none: no emails.
    pub smtp_url: Option<Secret>,
    /// `CASELEDGER_MAIL_FROM`: who the emails are from.
    #[cfg_attr(not(feature = "email"), allow(dead_code))]
    pub mail_from: String,
    /// `CASELEDGER_NOTIFY_EVERY_SECONDS`: how often notifications are worked out and sent.
    #[cfg_attr(not(feature = "email"), allow(dead_code))]
    pub notify_every: Duration,
    /// `CASELEDGER_PUBLIC_URL`: where people reach the service (links in emails).
    #[cfg_attr(not(feature = "email"), allow(dead_code))]
    pub public_url: Option<String>,
    /// `CASELEDGER_MAIL_DOMAINS`: the domains people may have notifications sent to.
    pub mail_domains: Vec<String>,
    /// `CASELEDGER_ICB_NAME`: the ICB's name, on its reports' cover.
    pub icb_name: Option<String>,
    /// `CASELEDGER_NOW`: business time starts at this instant (RFC 3339) and runs on from there,
    /// so the demo and the tests can live any day. Development mode only.
    pub clock_start: Option<chrono::DateTime<chrono::Utc>>,
    /// `CASELEDGER_GRAPHQL_INTROSPECTION`: `on` or `off`; unset, on in development mode only.
    pub introspection: Option<bool>,
    /// `CASELEDGER_MAX_CONNECTIONS`, `CASELEDGER_HEADER_TIMEOUT_SECONDS` and
    /// `CASELEDGER_BODY_TIMEOUT_SECONDS`: what one client may hold of the server.
    pub connections: caseledger_api::serve::ConnectionLimits,
    /// `CASELEDGER_IMPORT_EARLIEST_DATE` and `CASELEDGER_IMPORT_MAX_PRACTICES`: what an import
    /// accepts.
    pub imports: caseledger_commands::ImportPolicy,
    /// `CASELEDGER_SUB_ICB_CODES` and `CASELEDGER_PLACES_FILE`: this ICB as NHS England's files
    /// name it, and where its practices are counted.
    pub sources: caseledger_commands::Sources,
    /// `CASELEDGER_DIVERSION_REVIEW_NOTICES`, `…_CORE_HOURS` and `…_WEEKS`: a practice with more
    /// notices, or more core hours diverted, in that many weeks gets a diversion review.
    pub diversion_review: DiversionReviewSettings,
    /// `CASELEDGER_GPCONNECT_*`: GP Connect, when `…_PROVIDER_ODS_CODE` is set (the README lists
    /// the rest).
    pub gpconnect: Option<caseledger_gpconnect::GpConnectConfig>,
    /// `DATABASE_URL`: the PostgreSQL server; unset, a cluster of the service's own under
    /// `CASELEDGER_DATA_DIR`.
    pub database_url: Option<Secret>,
    /// `CASELEDGER_READ_DATABASE_URL`: a streaming replica of that database; queries and pages
    /// read the views from it while it has replayed this instance's writes.
    pub read_database_url: Option<Secret>,
    /// `CASELEDGER_DATA_DIR`: where the embedded cluster lives (`./.caseledger`).
    pub data_dir: PathBuf,
    /// `CASELEDGER_WEB_ASSETS`: the NHS.UK frontend's built files (the checkout's npm install).
    pub web_assets: Option<PathBuf>,
    /// `CASELEDGER_OIDC_CLIENT_ID`, `…_CLIENT_SECRET` and `…_SCOPES`: web sign-in with the issuer.
    /// Always `None` in a build without the `sign-in` feature (the client id is refused there).
    #[cfg_attr(not(feature = "sign-in"), allow(dead_code))]
    pub web_sign_in: Option<WebSignIn>,
}

/// Web sign-in asked for (`CASELEDGER_OIDC_CLIENT_ID`) in a build with or without the `sign-in`
/// feature: without it the client id is refused, naming the feature, rather than ignored.
fn sign_in_built(built: bool) -> Result<(), SettingsError> {
    if built {
        Ok(())
    } else {
        Err(wrong(
            "CASELEDGER_OIDC_CLIENT_ID",
            "this build has no sign-in with an issuer: build with `--features sign-in` (the deployment image does), \
             or unset it",
        ))
    }
}

/// Web sign-in with the OIDC issuer (authorisation code flow with PKCE).
#[derive(Debug, Clone)]
#[cfg_attr(not(feature = "sign-in"), allow(dead_code))]
pub struct WebSignIn {
    pub client_id: String,
    pub client_secret: Option<Secret>,
    /// Asked for beside `openid` and `profile`.
    pub scopes: Vec<String>,
    /// `CASELEDGER_PUBLIC_URL`: the redirect is `<url>/auth/callback`.
    pub public_url: String,
    /// `CASELEDGER_CIS2_ROLES_FILE` and `CASELEDGER_CIS2_MIN_ASSURANCE`: NHS CIS2's selected role,
    /// mapped to a CaseLedger role by the file's rules, at this identity assurance level or above.
    pub cis2: Option<caseledger_cases::cis2::Cis2Rules>,
}

/// How the service logs, read before anything else starts.
#[derive(Debug, Clone, Copy)]
pub struct Logging {
    /// `CASELEDGER_LOG_FORMAT`: `json` or `text`; unset, text at a terminal and JSON elsewhere.
    pub json: Option<bool>,
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set: traces go
    /// there (the OpenTelemetry SDK reads those and its other `OTEL_*` variables itself).
    pub otlp: bool,
}

pub const LOG_FORMAT_VAR: &str = "CASELEDGER_LOG_FORMAT";

impl Logging {
    pub fn from_env() -> Result<Self, SettingsError> {
        let json = match var(LOG_FORMAT_VAR).as_deref().map(str::trim) {
            None => None,
            Some("json") => Some(true),
            Some("text") => Some(false),
            Some(other) => return Err(wrong(LOG_FORMAT_VAR, format!("{other:?}: expected json or text"))),
        };
        let otlp = ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]
            .iter()
            .any(|name| var(name).is_some());
        Ok(Self { json, otlp })
    }
}

pub const CLOCK_START_VAR: &str = "CASELEDGER_NOW";

/// GP Connect is configured when this is set.
const GPCONNECT_VAR: &str = "CASELEDGER_GPCONNECT_PROVIDER_ODS_CODE";

/// The longest a client may take to send a request's headers, or its body.
const MAX_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// A whole number of seconds from 1 up to `most`.
fn seconds_within(name: &'static str, default: Duration, most: Duration) -> Result<Duration, SettingsError> {
    let seconds = number(name, default.as_secs())?;
    if seconds == 0 || seconds > most.as_secs() {
        return Err(wrong(
            name,
            format!("{seconds} seconds: from 1 to {} are accepted", most.as_secs()),
        ));
    }
    Ok(Duration::from_secs(seconds))
}

/// The most working days a stage target may be (a year's).
const MAX_TARGET_DAYS: u32 = 260;

fn target(name: &'static str, default: u32) -> Result<u32, SettingsError> {
    let days = number(name, default)?;
    if days > MAX_TARGET_DAYS {
        return Err(wrong(
            name,
            format!("{days} working days is more than a year's ({MAX_TARGET_DAYS})"),
        ));
    }
    Ok(days)
}

/// A secret from the environment: never printed.
#[derive(Clone)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Settings {
    /// From the environment, with the defaults the README lists.
    pub fn from_env() -> Result<Self, SettingsError> {
        let listen = var("CASELEDGER_LISTEN").unwrap_or_else(|| "127.0.0.1:8080".into());
        let metrics_listen = match var("CASELEDGER_METRICS_LISTEN") {
            Some(value) if value.eq_ignore_ascii_case("off") => None,
            Some(value) => Some(value),
            None => Some("127.0.0.1:9464".into()),
        };
        let dev_secret = var(DEV_SECRET_VAR);
        let defaults = Limits::default();
        let timeout_ms = number(
            "CASELEDGER_REQUEST_TIMEOUT_MS",
            u64::try_from(defaults.timeout.as_millis()).unwrap_or(u64::MAX),
        )?;
        let defaults_subscriptions = SubscriptionLimits::default();
        let public_url = var("CASELEDGER_PUBLIC_URL");
        let settings = Self {
            listen,
            metrics_listen,
            dev_secret,
            oidc: oidc_from_env()?,
            limits: Limits {
                timeout: Duration::from_millis(timeout_ms),
                ..defaults
            },
            subscriptions: SubscriptionLimits {
                per_connection: number(
                    "CASELEDGER_MAX_SUBSCRIPTIONS_PER_CONNECTION",
                    defaults_subscriptions.per_connection,
                )?,
                per_person: number(
                    "CASELEDGER_MAX_SUBSCRIPTIONS_PER_PERSON",
                    defaults_subscriptions.per_person,
                )?,
            },
            session_idle: Duration::from_secs(number("CASELEDGER_SESSION_IDLE_SECONDS", 30 * 60u64)?),
            verify_every: match number("CASELEDGER_GPCONNECT_VERIFY_EVERY_HOURS", 7 * 24u64)? {
                0 => None,
                hours => Some(Duration::from_secs(hours.saturating_mul(3600))),
            },
            kek: var("CASELEDGER_KEK").map(Secret),
            targets: {
                let defaults = caseledger_cases::deadlines::StageTargets::default();
                caseledger_cases::deadlines::StageTargets {
                    contact: target("CASELEDGER_TARGET_CONTACT_DAYS", defaults.contact)?,
                    remap: target("CASELEDGER_TARGET_REMAP_DAYS", defaults.remap)?,
                    dhu_check: target("CASELEDGER_TARGET_DHU_CHECK_DAYS", defaults.dhu_check)?,
                    icb_decision: target("CASELEDGER_TARGET_ICB_DECISION_DAYS", defaults.icb_decision)?,
                }
            },
            bank_holidays: var("CASELEDGER_BANK_HOLIDAYS_FILE").map(std::path::PathBuf::from),
            smtp_url: var("CASELEDGER_SMTP_URL").map(Secret),
            mail_from: var("CASELEDGER_MAIL_FROM").unwrap_or_else(|| "CaseLedger <caseledger@localhost>".into()),
            notify_every: Duration::from_secs(number("CASELEDGER_NOTIFY_EVERY_SECONDS", 300u64)?.max(1)),
            public_url: public_url.clone(),
            icb_name: var("CASELEDGER_ICB_NAME")
                .map(|name| name.trim().to_string())
                .filter(|name| !name.is_empty()),
            mail_domains: var("CASELEDGER_MAIL_DOMAINS").map_or_else(
                || DEFAULT_MAIL_DOMAINS.iter().map(|d| d.to_string()).collect(),
                |list| {
                    list.split(',')
                        .map(|d| d.trim().trim_start_matches('@').to_ascii_lowercase())
                        .filter(|d| !d.is_empty())
                        .collect()
                },
            ),
            retain_personal: match number("CASELEDGER_RETAIN_PERSONAL_DAYS", 0u64)? {
                0 => None,
                days => Some(Duration::from_secs(days.saturating_mul(24 * 3600))),
            },
            introspection: match var("CASELEDGER_GRAPHQL_INTROSPECTION").as_deref().map(str::trim) {
                None => None,
                Some("on") => Some(true),
                Some("off") => Some(false),
                Some(other) => {
                    return Err(wrong(
                        "CASELEDGER_GRAPHQL_INTROSPECTION",
                        format!("{other:?} is neither on nor off"),
                    ));
                }
            },
            connections: {
                let defaults = caseledger_api::serve::ConnectionLimits::default();
                caseledger_api::serve::ConnectionLimits {
                    max_connections: number("CASELEDGER_MAX_CONNECTIONS", defaults.max_connections)?.max(1),
                    header_timeout: seconds_within(
                        "CASELEDGER_HEADER_TIMEOUT_SECONDS",
                        defaults.header_timeout,
                        MAX_READ_TIMEOUT,
                    )?,
                    body_timeout: seconds_within(
                        "CASELEDGER_BODY_TIMEOUT_SECONDS",
                        defaults.body_timeout,
                        MAX_READ_TIMEOUT,
                    )?,
                    ..defaults
                }
            },
            imports: {
                let defaults = caseledger_commands::ImportPolicy::default();
                caseledger_commands::ImportPolicy {
                    earliest: match var("CASELEDGER_IMPORT_EARLIEST_DATE") {
                        None => defaults.earliest,
                        Some(value) => chrono::NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").map_err(|_| {
                            wrong(
                                "CASELEDGER_IMPORT_EARLIEST_DATE",
                                format!("{value:?} is not a date (YYYY-MM-DD)"),
                            )
                        })?,
                    },
                    max_practices: number("CASELEDGER_IMPORT_MAX_PRACTICES", defaults.max_practices)?.max(1),
                    ..defaults
                }
            },
            sources: sources_from_env()?,
            diversion_review: DiversionReviewSettings {
                notices: number("CASELEDGER_DIVERSION_REVIEW_NOTICES", 2)?,
                core_hours: number("CASELEDGER_DIVERSION_REVIEW_CORE_HOURS", 4)?,
                weeks: number::<i64>("CASELEDGER_DIVERSION_REVIEW_WEEKS", 4)?.clamp(1, 52),
            },
            gpconnect: match var(GPCONNECT_VAR) {
                None => None,
                Some(_) => Some(
                    caseledger_gpconnect::GpConnectConfig::from_env()
                        .map_err(|error| wrong("CASELEDGER_GPCONNECT_*", error.to_string()))?,
                ),
            },
            database_url: var("DATABASE_URL").map(Secret),
            read_database_url: match var("CASELEDGER_READ_DATABASE_URL") {
                None => None,
                Some(url) => {
                    url.parse::<sqlx::postgres::PgConnectOptions>().map_err(|error| {
                        wrong("CASELEDGER_READ_DATABASE_URL", format!("not a PostgreSQL URL: {error}"))
                    })?;
                    Some(Secret(url))
                }
            },
            data_dir: data_dir(),
            web_assets: var("CASELEDGER_WEB_ASSETS").map(PathBuf::from),
            web_sign_in: match var("CASELEDGER_OIDC_CLIENT_ID") {
                None => None,
                Some(client_id) => {
                    sign_in_built(cfg!(feature = "sign-in"))?;
                    Some(WebSignIn {
                        cis2: cis2_from_env()?,
                        client_id,
                        client_secret: var("CASELEDGER_OIDC_CLIENT_SECRET").map(Secret),
                        scopes: var("CASELEDGER_OIDC_SCOPES")
                            .unwrap_or_default()
                            .split([' ', ','])
                            .filter(|s| !s.is_empty())
                            .map(str::to_string)
                            .collect(),
                        public_url: public_url.ok_or_else(|| {
                            wrong(
                                "CASELEDGER_PUBLIC_URL",
                                "needed for web sign-in (CASELEDGER_OIDC_CLIENT_ID is set): the address people use, \
                             e.g. https://caseledger.example.nhs.uk",
                            )
                        })?,
                    })
                }
            },
            clock_start: match var(CLOCK_START_VAR) {
                None => None,
                Some(value) => Some(
                    chrono::DateTime::parse_from_rfc3339(value.trim())
                        .map_err(|_| {
                            wrong(
                                CLOCK_START_VAR,
                                format!("{value:?} is not an RFC 3339 instant such as 2026-12-07T09:30:00Z"),
                            )
                        })?
                        .with_timezone(&chrono::Utc),
                ),
            },
        };
        Ok(settings)
    }

    /// Whether the schema answers introspection: as configured, else in development mode only.
    pub fn introspection(&self) -> bool {
        self.introspection.unwrap_or(self.dev_secret.is_some())
    }

    /// Development mode is for a developer's own machine: its secret signs anyone in as anyone,
    /// so it is refused on an address others can reach, and when it is short enough to guess.
    pub fn check_development_mode(&self) -> Result<(), SettingsError> {
        let Some(secret) = &self.dev_secret else {
            if self.clock_start.is_some() {
                return Err(wrong(
                    CLOCK_START_VAR,
                    format!("moving business time is for development and tests only: set {DEV_SECRET_VAR} too"),
                ));
            }
            return Ok(());
        };
        if secret.len() < MIN_DEV_SECRET_BYTES {
            return Err(wrong(
                DEV_SECRET_VAR,
                format!(
                    "the development secret is {} bytes long; use at least {MIN_DEV_SECRET_BYTES} random bytes",
                    secret.len()
                ),
            ));
        }
        if !is_loopback(&self.listen) {
            return Err(wrong(
                "CASELEDGER_LISTEN",
                format!(
                    "development mode ({DEV_SECRET_VAR} is set) signs anyone in without a password, so it serves \
                     only a loopback address (127.0.0.1, ::1 or localhost), not {}; unset {DEV_SECRET_VAR} and \
                     configure CASELEDGER_OIDC_ISSUER to serve others",
                    self.listen
                ),
            ));
        }
        Ok(())
    }
}

/// Whether `address` (`host:port`) is reachable only from this machine.
pub fn is_loopback(address: &str) -> bool {
    if let Ok(socket) = address.parse::<SocketAddr>() {
        return socket.ip().is_loopback();
    }
    match address.rsplit_once(':') {
        Some((host, _)) => {
            let host = host.trim_start_matches('[').trim_end_matches(']');
            host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
        }
        None => false,
    }
}

/// `CASELEDGER_CIS2_ROLES_FILE` (CSV `caseledger_role, org_code, role_code, activity_code`) and
/// `CASELEDGER_CIS2_MIN_ASSURANCE` (0 to 3; 3 unless set).
fn cis2_from_env() -> Result<Option<caseledger_cases::cis2::Cis2Rules>, SettingsError> {
    let Some(path) = var("CASELEDGER_CIS2_ROLES_FILE") else {
        if var("CASELEDGER_CIS2_MIN_ASSURANCE").is_some() {
            return Err(wrong(
                "CASELEDGER_CIS2_MIN_ASSURANCE",
                "set CASELEDGER_CIS2_ROLES_FILE too: the level applies to CIS2 sign-in",
            ));
        }
        return Ok(None);
    };
    let min = number("CASELEDGER_CIS2_MIN_ASSURANCE", caseledger_cases::cis2::MAX_ASSURANCE)?;
    let csv =
        std::fs::read_to_string(&path).map_err(|e| wrong("CASELEDGER_CIS2_ROLES_FILE", format!("{path}: {e}")))?;
    caseledger_cases::cis2::Cis2Rules::parse(&csv, min)
        .map(Some)
        .map_err(|errors| {
            let first = errors
                .first()
                .map(|e| format!("line {}: {}", e.line, e.message))
                .unwrap_or_default();
            wrong("CASELEDGER_CIS2_ROLES_FILE", format!("{path}: {first}"))
        })
}

/// `CASELEDGER_SUB_ICB_CODES` (comma-separated) and `CASELEDGER_PLACES_FILE` (CSV `code,place`).
fn sources_from_env() -> Result<caseledger_commands::Sources, SettingsError> {
    let icb = match var("CASELEDGER_SUB_ICB_CODES") {
        None => caseledger_cases::ods::SubIcbCodes::default(),
        Some(list) => {
            caseledger_cases::ods::SubIcbCodes::parse(&list).map_err(|e| wrong("CASELEDGER_SUB_ICB_CODES", e))?
        }
    };
    let places = match var("CASELEDGER_PLACES_FILE") {
        None => caseledger_cases::ods::Places::default(),
        Some(path) => {
            let csv =
                std::fs::read_to_string(&path).map_err(|e| wrong("CASELEDGER_PLACES_FILE", format!("{path}: {e}")))?;
            caseledger_cases::ods::Places::parse(&csv).map_err(|errors| {
                let first = errors
                    .first()
                    .map(|e| format!("line {}: {}", e.line, e.message))
                    .unwrap_or_default();
                wrong("CASELEDGER_PLACES_FILE", format!("{path}: {first}"))
            })?
        }
    };
    Ok(caseledger_commands::Sources { icb, places })
}

/// `CASELEDGER_OIDC_ISSUER`, `CASELEDGER_OIDC_AUDIENCE` (default `caseledger`),
/// `CASELEDGER_ROLE_CLAIM` (default `role`) and `CASELEDGER_ROLE_MAP` (`external=icb,other=lmc`);
/// `None` without an issuer.
fn oidc_from_env() -> Result<Option<OidcConfig>, SettingsError> {
    let Some(issuer) = var("CASELEDGER_OIDC_ISSUER") else {
        return Ok(None);
    };
    let mut role_map = HashMap::new();
    for pair in var("CASELEDGER_ROLE_MAP")
        .unwrap_or_default()
        .split(',')
        .filter(|p| !p.trim().is_empty())
    {
        let (external, role) = pair
            .split_once('=')
            .ok_or_else(|| wrong("CASELEDGER_ROLE_MAP", format!("{pair:?} is not name=role")))?;
        let role =
            Role::parse(role.trim()).ok_or_else(|| wrong("CASELEDGER_ROLE_MAP", format!("unknown role {role:?}")))?;
        role_map.insert(external.trim().to_string(), role);
    }
    if role_map.is_empty() {
        tracing::warn!(
            "CASELEDGER_ROLE_MAP is empty: with an issuer configured only mapped role names count, so nobody it signs \
             in has a CaseLedger role"
        );
    }
    Ok(Some(OidcConfig {
        issuer,
        audience: var("CASELEDGER_OIDC_AUDIENCE").unwrap_or_else(|| AUDIENCE.into()),
        role_claim: var("CASELEDGER_ROLE_CLAIM").unwrap_or_else(|| "role".into()),
        role_map,
        refetch_interval: Duration::from_secs(30),
    }))
}

/// `CASELEDGER_DATA_DIR`: where the embedded cluster lives when `DATABASE_URL` is unset.
fn data_dir() -> PathBuf {
    var("CASELEDGER_DATA_DIR").map_or_else(|| PathBuf::from(".caseledger"), PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(listen: &str, secret: Option<&str>) -> Settings {
        Settings {
            listen: listen.into(),
            metrics_listen: None,
            dev_secret: secret.map(str::to_string),
            oidc: None,
            limits: Limits::default(),
            subscriptions: SubscriptionLimits::default(),
            session_idle: Duration::from_secs(60),
            verify_every: None,
            kek: None,
            retain_personal: None,
            targets: caseledger_cases::deadlines::StageTargets::default(),
            diversion_review: DiversionReviewSettings {
                notices: 2,
                core_hours: 4,
                weeks: 4,
            },
            bank_holidays: None,
            smtp_url: None,
            mail_from: String::new(),
            notify_every: Duration::from_secs(300),
            public_url: None,
            mail_domains: Vec::new(),
            icb_name: None,
            clock_start: None,
            introspection: None,
            connections: caseledger_api::serve::ConnectionLimits::default(),
            imports: caseledger_commands::ImportPolicy::default(),
            sources: caseledger_commands::Sources::default(),
            gpconnect: None,
            database_url: None,
            read_database_url: None,
            data_dir: PathBuf::new(),
            web_assets: None,
            web_sign_in: None,
        }
    }

    #[test]
    fn a_client_id_is_refused_by_a_build_without_sign_in_naming_the_feature() {
        assert!(sign_in_built(true).is_ok());
        let refused = sign_in_built(false).unwrap_err().to_string();
        assert!(refused.contains("CASELEDGER_OIDC_CLIENT_ID"), "{refused}");
        assert!(refused.contains("--features sign-in"), "{refused}");
    }

    #[test]
    fn loopback_addresses_are_told_apart_from_reachable_ones() {
        for address in ["127.0.0.1:8080", "[::1]:8080", "localhost:8080", "127.0.0.2:1"] {
            assert!(is_loopback(address), "{address}");
        }
        for address in [
            "0.0.0.0:8080",
            "[::]:8080",
            "10.1.2.3:8080",
            "caseledger.example:443",
            "8080",
        ] {
            assert!(!is_loopback(address), "{address}");
        }
    }

    #[test]
    fn development_mode_needs_a_long_secret_and_a_loopback_address() {
        let long = "x".repeat(MIN_DEV_SECRET_BYTES);
        assert!(with("127.0.0.1:8080", Some(&long)).check_development_mode().is_ok());
        assert!(
            with("0.0.0.0:8080", None).check_development_mode().is_ok(),
            "no development mode"
        );
        let short = with("127.0.0.1:8080", Some("change-me"))
            .check_development_mode()
            .unwrap_err();
        assert_eq!(short.variable, DEV_SECRET_VAR);
        let reachable = with("0.0.0.0:8080", Some(&long)).check_development_mode().unwrap_err();
        assert_eq!(reachable.variable, "CASELEDGER_LISTEN");
        assert!(reachable.problem.contains("loopback"), "{reachable}");
    }

    #[test]
    fn business_time_moves_only_in_development_mode() {
        let mut production = with("0.0.0.0:8080", None);
        production.clock_start = Some(chrono::Utc::now());
        let refused = production.check_development_mode().unwrap_err();
        assert_eq!(refused.variable, CLOCK_START_VAR);
        let mut development = with("127.0.0.1:8080", Some(&"x".repeat(MIN_DEV_SECRET_BYTES)));
        development.clock_start = Some(chrono::Utc::now());
        assert!(development.check_development_mode().is_ok());
    }
}

/// When a practice's diversions open a review (more than either, in the window).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiversionReviewSettings {
    pub notices: u32,
    pub core_hours: i64,
    pub weeks: i64,
}

impl DiversionReviewSettings {
    /// The rule, counting core hours on `calendar`'s working days.
    pub fn policy(
        self,
        calendar: std::sync::Arc<caseledger_cases::holidays::BankHolidays>,
    ) -> caseledger_cases::diversion::ReviewPolicy {
        caseledger_cases::diversion::ReviewPolicy {
            notices: self.notices,
            core_minutes: self.core_hours.saturating_mul(60),
            window: chrono::Duration::weeks(self.weeks),
            calendar,
        }
    }
}
