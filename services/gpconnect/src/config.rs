//! Verifier configuration: serde-deserialisable, or read from `CASELEDGER_GPCONNECT_*`
//! environment variables (see [`GpConnectConfig::from_env`] and the README).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Prefix of every environment variable the crate reads.
pub const ENV_PREFIX: &str = "CASELEDGER_GPCONNECT_";

/// A configuration problem.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A required environment variable is missing or empty.
    #[error("environment variable {var} is required")]
    MissingEnv {
        /// Full variable name.
        var: String,
    },
    /// An environment variable has an unusable value.
    #[error("environment variable {var}: {reason}")]
    InvalidEnv {
        /// Full variable name.
        var: String,
        /// What is wrong.
        reason: String,
    },
    /// A field fails validation.
    #[error("invalid GP Connect configuration: {field}: {reason}")]
    Invalid {
        /// Field name as in the serde form.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// The endpoint map file cannot be read or parsed.
    #[error("endpoint map file {path}: {reason}")]
    EndpointMap {
        /// The path given.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Client certificate, key or CA bundle cannot be loaded.
    #[error("TLS material {path}: {reason}")]
    Tls {
        /// The file (or a description when not file-specific).
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The bank holiday file cannot be loaded.
    #[error(transparent)]
    BankHolidays(#[from] crate::holidays::HolidayError),
}

fn invalid(field: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        field: field.to_owned(),
        reason: reason.into(),
    }
}

/// Where each practice's GP Connect service root comes from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EndpointConfig {
    /// A URL template; `{ods}` is replaced by the practice ODS code,
    /// e.g. `https://provider.example/{ods}/STU3/1/gpconnect/fhir`.
    Template {
        /// The template.
        template: String,
    },
    /// An explicit map ODS code → endpoint.
    Map {
        /// Practices by ODS code.
        practices: BTreeMap<String, PracticeEndpoint>,
    },
    /// A JSON file holding the map (same shape as `practices`).
    MapFile {
        /// The file.
        path: PathBuf,
    },
    /// The Spine Directory Service's FHIR API, as a consumer finds a practice's endpoint:
    /// `Endpoint` by the practice's ODS code and the slot search interaction gives the address
    /// and the party key, `Device` by ODS code and party key gives the ASID. Each answer is kept
    /// `cache_seconds`.
    Sds {
        /// The API's base, e.g. `https://…/spine-directory/FHIR/R4`.
        url: String,
        /// The `apikey` header, when the API needs one.
        #[serde(default)]
        api_key: Option<String>,
        /// How long an answer is kept before SDS is asked again.
        #[serde(default = "default_sds_cache_seconds")]
        cache_seconds: u64,
    },
}

fn default_sds_cache_seconds() -> u64 {
    3_600
}

/// One practice's endpoint (as found in SDS: `nhsMhsEndPoint` and the provider ASID).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "PracticeEndpointSpec")]
pub struct PracticeEndpoint {
    /// Service root, no trailing slash.
    pub service_root: String,
    /// Provider ASID for `Ssp-To`; the configuration's `to_asid` when absent.
    pub to_asid: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum PracticeEndpointSpec {
    Url(String),
    Full {
        service_root: String,
        #[serde(default, alias = "asid")]
        to_asid: Option<String>,
    },
}

impl From<PracticeEndpointSpec> for PracticeEndpoint {
    fn from(spec: PracticeEndpointSpec) -> Self {
        match spec {
            PracticeEndpointSpec::Url(service_root) => Self {
                service_root,
                to_asid: None,
            },
            PracticeEndpointSpec::Full { service_root, to_asid } => Self { service_root, to_asid },
        }
    }
}

/// Client certificate, key and CA bundle (PEM files).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TlsPaths {
    /// Client certificate chain (leaf first).
    pub client_cert_path: PathBuf,
    /// Client private key (PKCS#8, PKCS#1 or SEC1).
    pub client_key_path: PathBuf,
    /// CA certificates trusted for the server (e.g. the Spine CA bundle).
    pub ca_bundle_path: PathBuf,
}

/// The person on whose behalf requests are made (JWT `requesting_practitioner`).
/// GP Connect forbids a generic "system" user.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PractitionerIdentity {
    /// Local id; also the JWT `sub`.
    pub id: String,
    /// Family name.
    pub family: String,
    /// Given name.
    #[serde(default)]
    pub given: Option<String>,
    /// SDS user id, `UNK` without a smartcard.
    #[serde(default = "unk")]
    pub sds_user_id: String,
    /// SDS role profile id, `UNK` without a smartcard.
    #[serde(default = "unk")]
    pub sds_role_profile_id: String,
    /// System of the local user identifier.
    #[serde(default = "default_local_user_system")]
    pub local_user_system: String,
}

fn unk() -> String {
    "UNK".to_owned()
}

fn default_local_user_system() -> String {
    "urn:caseledger:user-id".to_owned()
}

/// The consumer system (JWT `requesting_device`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DeviceIdentity {
    /// Identifier system.
    pub system: String,
    /// Identifier value.
    pub value: String,
    /// Model.
    pub model: String,
    /// Version.
    pub version: String,
}

impl Default for DeviceIdentity {
    fn default() -> Self {
        Self {
            system: "urn:caseledger:device".to_owned(),
            value: "caseledger-gpconnect".to_owned(),
            model: "CaseLedger GP Connect verifier".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

/// Timeouts, retries and rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct HttpSettings {
    /// TCP connect timeout.
    pub connect_timeout_ms: u64,
    /// Read (and write) timeout.
    pub read_timeout_ms: u64,
    /// Retries after the first attempt, for transport errors and 5xx only.
    pub max_retries: u32,
    /// First backoff delay; doubled per retry, capped at 30 s.
    pub retry_base_delay_ms: u64,
    /// Minimum interval between two requests from one verifier.
    pub min_request_interval_ms: u64,
    /// Searches one verifier runs at once (however many practices are asked for together):
    /// the rest wait their turn.
    pub max_concurrent_searches: u64,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            connect_timeout_ms: 5_000,
            read_timeout_ms: 20_000,
            max_retries: 2,
            retry_base_delay_ms: 500,
            min_request_interval_ms: 200,
            max_concurrent_searches: 4,
        }
    }
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct GpConnectConfig {
    /// The 111 provider's ODS code (JWT organisation and the ODS searchFilter).
    pub provider_ods_code: String,
    /// The 111 provider's name (JWT `requesting_organization.name`).
    pub provider_name: String,
    /// Consumer ASID (`Ssp-From`).
    pub from_asid: String,
    /// Default provider ASID (`Ssp-To`) for practices whose endpoint has none.
    #[serde(default)]
    pub to_asid: Option<String>,
    /// JWT `iss`: the consumer system's Spine endpoint URL.
    pub jwt_issuer: String,
    /// Where service roots come from.
    pub endpoints: EndpointConfig,
    /// Spine Secure Proxy URL; when set requests go to `{ssp_url}/{service_root}/Slot`.
    #[serde(default)]
    pub ssp_url: Option<String>,
    /// TLS material.
    pub tls: TlsPaths,
    /// JWT practitioner.
    pub practitioner: PractitionerIdentity,
    /// JWT device.
    #[serde(default)]
    pub device: DeviceIdentity,
    /// Timeouts, retries, rate limit.
    #[serde(default)]
    pub http: HttpSettings,
    /// An updated bank holiday list to use instead of the shipped one.
    #[serde(default)]
    pub bank_holidays_path: Option<PathBuf>,
    /// Percent-encode the query's parameter names too (`_include%3Arecurse`): some providers
    /// want it (`ENCODE_PARAMETER_NAMES=true`).
    #[serde(default)]
    pub encode_parameter_names: bool,
}

/// A practice endpoint resolved for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedEndpoint {
    /// Practice ODS code.
    pub ods_code: String,
    /// Provider service root (JWT `aud`).
    pub service_root: String,
    /// Base the `/Slot` path is appended to (service root, behind the SSP when configured).
    pub request_base: String,
    /// `Ssp-To`.
    pub to_asid: String,
}

/// No endpoint is known for a practice.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no GP Connect endpoint configured for practice {ods_code}")]
pub struct NoEndpoint {
    /// The practice.
    pub ods_code: String,
}

fn is_ods_code(s: &str) -> bool {
    !s.is_empty() && s.len() <= 12 && s.chars().all(|c| c.is_ascii_alphanumeric())
}

fn is_asid(s: &str) -> bool {
    !s.is_empty() && s.len() <= 20 && s.chars().all(|c| c.is_ascii_digit())
}

fn check_https(field: &str, url: &str) -> Result<(), ConfigError> {
    let rest = url
        .strip_prefix("https://")
        .ok_or_else(|| invalid(field, format!("{url:?} must be an https:// URL")))?;
    if rest.is_empty() || rest.starts_with('/') || url.chars().any(char::is_whitespace) {
        return Err(invalid(field, format!("{url:?} has no host or contains spaces")));
    }
    Ok(())
}

fn trim_slash(s: &str) -> String {
    s.trim().trim_end_matches('/').to_owned()
}

impl GpConnectConfig {
    /// Read the configuration from the process environment (`CASELEDGER_GPCONNECT_*`).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(std::env::vars())
    }

    /// Read the configuration from `(name, value)` pairs named like the environment variables.
    ///
    /// Required: `PROVIDER_ODS_CODE`, `PROVIDER_NAME`, `FROM_ASID`, `JWT_ISSUER`,
    /// `CLIENT_CERT`, `CLIENT_KEY`, `CA_BUNDLE`, `PRACTITIONER_ID`, `PRACTITIONER_FAMILY`,
    /// and one of `ENDPOINT_TEMPLATE` / `ENDPOINT_MAP_FILE`. Optional: `TO_ASID`, `SSP_URL`,
    /// `PRACTITIONER_GIVEN`, `PRACTITIONER_SDS_USER_ID`, `PRACTITIONER_SDS_ROLE_PROFILE_ID`,
    /// `PRACTITIONER_LOCAL_SYSTEM`, `DEVICE_SYSTEM`, `DEVICE_VALUE`, `DEVICE_MODEL`,
    /// `DEVICE_VERSION`, `CONNECT_TIMEOUT_MS`, `READ_TIMEOUT_MS`, `MAX_RETRIES`,
    /// `RETRY_BASE_DELAY_MS`, `MIN_REQUEST_INTERVAL_MS`, `MAX_CONCURRENT_SEARCHES`, `BANK_HOLIDAYS_FILE`
    /// (each prefixed with [`ENV_PREFIX`]).
    pub fn from_vars<I, K, V>(vars: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let vars: BTreeMap<String, String> = vars
            .into_iter()
            .filter_map(|(k, v)| {
                let name = k.as_ref().strip_prefix(ENV_PREFIX)?.to_owned();
                let value = v.as_ref().trim().to_owned();
                (!value.is_empty()).then_some((name, value))
            })
            .collect();
        let opt = |name: &str| vars.get(name).cloned();
        let req = |name: &str| {
            opt(name).ok_or_else(|| ConfigError::MissingEnv {
                var: format!("{ENV_PREFIX}{name}"),
            })
        };
        let num = |name: &str, default: u64| -> Result<u64, ConfigError> {
            match vars.get(name) {
                None => Ok(default),
                Some(v) => v.parse().map_err(|_| ConfigError::InvalidEnv {
                    var: format!("{ENV_PREFIX}{name}"),
                    reason: format!("{v:?} is not a whole number"),
                }),
            }
        };

        let endpoints = match (opt("ENDPOINT_TEMPLATE"), opt("ENDPOINT_MAP_FILE"), opt("SDS_URL")) {
            (Some(template), None, None) => EndpointConfig::Template { template },
            (None, Some(path), None) => EndpointConfig::MapFile {
                path: PathBuf::from(path),
            },
            (None, None, Some(url)) => EndpointConfig::Sds {
                url,
                api_key: opt("SDS_API_KEY"),
                cache_seconds: num("SDS_CACHE_SECONDS", default_sds_cache_seconds())?,
            },
            (None, None, None) => {
                return Err(ConfigError::MissingEnv {
                    var: format!("{ENV_PREFIX}SDS_URL, {ENV_PREFIX}ENDPOINT_TEMPLATE or {ENV_PREFIX}ENDPOINT_MAP_FILE"),
                });
            }
            _ => {
                return Err(ConfigError::InvalidEnv {
                    var: format!("{ENV_PREFIX}SDS_URL"),
                    reason: format!(
                        "set only one of {ENV_PREFIX}SDS_URL, {ENV_PREFIX}ENDPOINT_TEMPLATE and {ENV_PREFIX}ENDPOINT_MAP_FILE"
                    ),
                });
            }
        };
        let defaults = HttpSettings::default();
        let device_default = DeviceIdentity::default();
        let max_retries = num("MAX_RETRIES", u64::from(defaults.max_retries))?;
        let config = Self {
            provider_ods_code: req("PROVIDER_ODS_CODE")?,
            provider_name: req("PROVIDER_NAME")?,
            from_asid: req("FROM_ASID")?,
            to_asid: opt("TO_ASID"),
            jwt_issuer: req("JWT_ISSUER")?,
            endpoints,
            ssp_url: opt("SSP_URL"),
            tls: TlsPaths {
                client_cert_path: req("CLIENT_CERT")?.into(),
                client_key_path: req("CLIENT_KEY")?.into(),
                ca_bundle_path: req("CA_BUNDLE")?.into(),
            },
            practitioner: PractitionerIdentity {
                id: req("PRACTITIONER_ID")?,
                family: req("PRACTITIONER_FAMILY")?,
                given: opt("PRACTITIONER_GIVEN"),
                sds_user_id: opt("PRACTITIONER_SDS_USER_ID").unwrap_or_else(unk),
                sds_role_profile_id: opt("PRACTITIONER_SDS_ROLE_PROFILE_ID").unwrap_or_else(unk),
                local_user_system: opt("PRACTITIONER_LOCAL_SYSTEM").unwrap_or_else(default_local_user_system),
            },
            device: DeviceIdentity {
                system: opt("DEVICE_SYSTEM").unwrap_or(device_default.system),
                value: opt("DEVICE_VALUE").unwrap_or(device_default.value),
                model: opt("DEVICE_MODEL").unwrap_or(device_default.model),
                version: opt("DEVICE_VERSION").unwrap_or(device_default.version),
            },
            http: HttpSettings {
                connect_timeout_ms: num("CONNECT_TIMEOUT_MS", defaults.connect_timeout_ms)?,
                read_timeout_ms: num("READ_TIMEOUT_MS", defaults.read_timeout_ms)?,
                max_retries: u32::try_from(max_retries).map_err(|_| ConfigError::InvalidEnv {
                    var: format!("{ENV_PREFIX}MAX_RETRIES"),
                    reason: "too large".to_owned(),
                })?,
                retry_base_delay_ms: num("RETRY_BASE_DELAY_MS", defaults.retry_base_delay_ms)?,
                min_request_interval_ms: num("MIN_REQUEST_INTERVAL_MS", defaults.min_request_interval_ms)?,
                max_concurrent_searches: match num("MAX_CONCURRENT_SEARCHES", defaults.max_concurrent_searches)? {
                    at_once @ 1..=64 => at_once,
                    _ => {
                        return Err(ConfigError::InvalidEnv {
                            var: format!("{ENV_PREFIX}MAX_CONCURRENT_SEARCHES"),
                            reason: "must be from 1 to 64".to_owned(),
                        });
                    }
                },
            },
            encode_parameter_names: match opt("ENCODE_PARAMETER_NAMES").as_deref() {
                None | Some("false") => false,
                Some("true") => true,
                Some(other) => {
                    return Err(ConfigError::InvalidEnv {
                        var: format!("{ENV_PREFIX}ENCODE_PARAMETER_NAMES"),
                        reason: format!("{other:?} is not true or false"),
                    });
                }
            },
            bank_holidays_path: opt("BANK_HOLIDAYS_FILE").map(PathBuf::from),
        };
        config.validate()?;
        Ok(config)
    }

    /// Check every field; returns the first problem found.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !is_ods_code(&self.provider_ods_code) {
            return Err(invalid("provider_ods_code", "must be an alphanumeric ODS code"));
        }
        if self.provider_name.trim().is_empty() {
            return Err(invalid("provider_name", "must not be empty"));
        }
        if !is_asid(&self.from_asid) {
            return Err(invalid("from_asid", "an ASID is a number"));
        }
        if let Some(to) = &self.to_asid
            && !is_asid(to)
        {
            return Err(invalid("to_asid", "an ASID is a number"));
        }
        if self.jwt_issuer.trim().is_empty() {
            return Err(invalid(
                "jwt_issuer",
                "must be the consumer system's Spine endpoint URL",
            ));
        }
        if let Some(ssp) = &self.ssp_url {
            check_https("ssp_url", ssp)?;
        }
        match &self.endpoints {
            EndpointConfig::Template { template } => {
                if !template.contains("{ods}") {
                    return Err(invalid("endpoints.template", "must contain the {ods} placeholder"));
                }
                check_https("endpoints.template", template)?;
                if self.to_asid.is_none() {
                    return Err(invalid("to_asid", "required when endpoints come from a template"));
                }
            }
            EndpointConfig::Map { practices } => self.validate_map(practices)?,
            EndpointConfig::MapFile { path } => {
                if path.as_os_str().is_empty() {
                    return Err(invalid("endpoints.path", "must not be empty"));
                }
            }
            EndpointConfig::Sds { url, .. } => check_https("endpoints.url", url)?,
        }
        for (field, path) in [
            ("tls.client_cert_path", &self.tls.client_cert_path),
            ("tls.client_key_path", &self.tls.client_key_path),
            ("tls.ca_bundle_path", &self.tls.ca_bundle_path),
        ] {
            if path.as_os_str().is_empty() {
                return Err(invalid(field, "must not be empty"));
            }
        }
        let p = &self.practitioner;
        if p.id.trim().is_empty() || p.family.trim().is_empty() {
            return Err(invalid("practitioner", "id and family name are required"));
        }
        if p.id.eq_ignore_ascii_case("system") || p.family.eq_ignore_ascii_case("system") {
            return Err(invalid("practitioner", "GP Connect forbids a generic \"system\" user"));
        }
        let d = &self.device;
        if [&d.system, &d.value, &d.model, &d.version]
            .iter()
            .any(|s| s.trim().is_empty())
        {
            return Err(invalid("device", "system, value, model and version are required"));
        }
        if self.http.connect_timeout_ms == 0 || self.http.read_timeout_ms == 0 {
            return Err(invalid("http", "timeouts must be greater than zero"));
        }
        Ok(())
    }

    fn validate_map(&self, practices: &BTreeMap<String, PracticeEndpoint>) -> Result<(), ConfigError> {
        for (ods, endpoint) in practices {
            let field = format!("endpoints.practices.{ods}");
            if !is_ods_code(ods) {
                return Err(invalid(&field, "key must be an alphanumeric ODS code"));
            }
            check_https(&field, &endpoint.service_root)?;
            match endpoint.to_asid.as_ref().or(self.to_asid.as_ref()) {
                None => return Err(invalid(&field, "no provider ASID (set to_asid here or globally)")),
                Some(asid) if !is_asid(asid) => return Err(invalid(&field, "an ASID is a number")),
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// Load a `MapFile` into a `Map` (other forms are returned unchanged) and validate again.
    pub fn load_endpoint_map(mut self) -> Result<Self, ConfigError> {
        if let EndpointConfig::MapFile { path } = &self.endpoints {
            let practices = read_map_file(path)?;
            self.endpoints = EndpointConfig::Map { practices };
        }
        self.validate()?;
        Ok(self)
    }

    /// The endpoint for a practice (the map must have been loaded, see [`Self::load_endpoint_map`]).
    pub fn resolve(&self, ods_code: &str) -> Result<ResolvedEndpoint, NoEndpoint> {
        let missing = || NoEndpoint {
            ods_code: ods_code.to_owned(),
        };
        if !is_ods_code(ods_code) {
            return Err(missing());
        }
        let (root, asid) = match &self.endpoints {
            EndpointConfig::Template { template } => (template.replace("{ods}", ods_code), self.to_asid.clone()),
            EndpointConfig::Map { practices } => {
                let found = practices
                    .get(ods_code)
                    .or_else(|| {
                        practices
                            .iter()
                            .find(|(k, _)| k.eq_ignore_ascii_case(ods_code))
                            .map(|(_, v)| v)
                    })
                    .ok_or_else(missing)?;
                (
                    found.service_root.clone(),
                    found.to_asid.clone().or_else(|| self.to_asid.clone()),
                )
            }
            // Looked up by the verifier, which asks SDS (`crate::sds`).
            EndpointConfig::MapFile { .. } | EndpointConfig::Sds { .. } => return Err(missing()),
        };
        let service_root = trim_slash(&root);
        let request_base = match &self.ssp_url {
            Some(ssp) => format!("{}/{}", trim_slash(ssp), service_root),
            None => service_root.clone(),
        };
        Ok(ResolvedEndpoint {
            ods_code: ods_code.to_owned(),
            service_root,
            request_base,
            to_asid: asid.ok_or_else(missing)?,
        })
    }

    /// The practice's endpoint from what SDS said: its service root and ASID (behind the Spine
    /// Secure Proxy when configured).
    pub fn endpoint_from(&self, ods_code: &str, service_root: &str, asid: &str) -> ResolvedEndpoint {
        let service_root = trim_slash(service_root);
        let request_base = match &self.ssp_url {
            Some(ssp) => format!("{}/{}", trim_slash(ssp), service_root),
            None => service_root.clone(),
        };
        ResolvedEndpoint {
            ods_code: ods_code.to_owned(),
            service_root,
            request_base,
            to_asid: asid.to_owned(),
        }
    }
}

fn read_map_file(path: &Path) -> Result<BTreeMap<String, PracticeEndpoint>, ConfigError> {
    let err = |reason: String| ConfigError::EndpointMap {
        path: path.to_owned(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    serde_json::from_str(&text).map_err(|e| err(format!("not a JSON object of ODS code → endpoint: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base_vars() -> Vec<(String, String)> {
        [
            ("PROVIDER_ODS_CODE", "NHS111"),
            ("PROVIDER_NAME", "DHU 111"),
            ("FROM_ASID", "200000000111"),
            ("TO_ASID", "918999198993"),
            ("JWT_ISSUER", "https://consumer.example/spine"),
            ("ENDPOINT_TEMPLATE", "https://gp.example/{ods}/STU3/1/gpconnect/fhir/"),
            ("CLIENT_CERT", "/etc/gpc/client.pem"),
            ("CLIENT_KEY", "/etc/gpc/client.key"),
            ("CA_BUNDLE", "/etc/gpc/ca.pem"),
            ("PRACTITIONER_ID", "dc-1"),
            ("PRACTITIONER_FAMILY", "Champion"),
            ("MIN_REQUEST_INTERVAL_MS", "50"),
        ]
        .into_iter()
        .map(|(k, v)| (format!("{ENV_PREFIX}{k}"), v.to_owned()))
        .collect()
    }

    #[test]
    fn searches_at_once_are_bounded_and_a_wrong_number_names_the_variable() {
        for (given, expected) in [
            ("1", Some(1)),
            ("16", Some(16)),
            ("0", None),
            ("65", None),
            ("many", None),
        ] {
            let mut vars = base_vars();
            vars.push((format!("{ENV_PREFIX}MAX_CONCURRENT_SEARCHES"), given.to_owned()));
            match (GpConnectConfig::from_vars(vars), expected) {
                (Ok(config), Some(n)) => assert_eq!(config.http.max_concurrent_searches, n),
                (Err(error), None) => assert!(error.to_string().contains("MAX_CONCURRENT_SEARCHES"), "{error}"),
                (other, _) => panic!("{given}: {other:?}"),
            }
        }
    }

    #[test]
    fn env_config_with_template_resolves_practices() {
        let mut vars = base_vars();
        vars.push(("UNRELATED".into(), "x".into()));
        let config = GpConnectConfig::from_vars(vars).unwrap();
        assert_eq!(config.http.min_request_interval_ms, 50);
        assert_eq!(config.http.max_retries, 2);
        assert_eq!(config.http.max_concurrent_searches, 4);
        assert_eq!(config.practitioner.sds_user_id, "UNK");
        let e = config.resolve("A12345").unwrap();
        assert_eq!(e.service_root, "https://gp.example/A12345/STU3/1/gpconnect/fhir");
        assert_eq!(e.request_base, e.service_root);
        assert_eq!(e.to_asid, "918999198993");
        assert_eq!(
            config.resolve("../x"),
            Err(NoEndpoint {
                ods_code: "../x".into()
            })
        );
    }

    #[test]
    fn ssp_url_prefixes_the_service_root() {
        let mut vars = base_vars();
        vars.push((format!("{ENV_PREFIX}SSP_URL"), "https://proxy.example/".into()));
        let config = GpConnectConfig::from_vars(vars).unwrap();
        let e = config.resolve("A12345").unwrap();
        assert_eq!(
            e.request_base,
            "https://proxy.example/https://gp.example/A12345/STU3/1/gpconnect/fhir"
        );
    }

    #[test]
    fn env_config_with_sds_asks_the_directory_and_refuses_two_sources() {
        let without_template: Vec<(String, String)> = base_vars()
            .into_iter()
            .filter(|(k, _)| !k.ends_with("ENDPOINT_TEMPLATE") && !k.ends_with("TO_ASID"))
            .collect();
        let mut vars = without_template.clone();
        vars.push((
            format!("{ENV_PREFIX}SDS_URL"),
            "https://sds.example/spine-directory/FHIR/R4".into(),
        ));
        vars.push((format!("{ENV_PREFIX}SDS_API_KEY"), "k-1".into()));
        let config = GpConnectConfig::from_vars(vars.clone()).unwrap();
        assert_eq!(
            config.endpoints,
            EndpointConfig::Sds {
                url: "https://sds.example/spine-directory/FHIR/R4".into(),
                api_key: Some("k-1".into()),
                cache_seconds: 3_600,
            }
        );
        // Found in SDS, not from the configuration: nothing to resolve without asking.
        assert!(config.resolve("A12345").is_err());
        let mut both = vars;
        both.push((
            format!("{ENV_PREFIX}ENDPOINT_TEMPLATE"),
            "https://gp.example/{ods}/fhir".into(),
        ));
        assert!(matches!(
            GpConnectConfig::from_vars(both),
            Err(ConfigError::InvalidEnv { var, .. }) if var.ends_with("SDS_URL")
        ));
        let mut plain = without_template;
        plain.push((format!("{ENV_PREFIX}SDS_URL"), "http://sds.example/FHIR/R4".into()));
        assert!(GpConnectConfig::from_vars(plain).is_err(), "SDS over https only");
    }

    #[test]
    fn env_errors_are_typed() {
        let vars: Vec<_> = base_vars()
            .into_iter()
            .filter(|(k, _)| !k.ends_with("FROM_ASID"))
            .collect();
        match GpConnectConfig::from_vars(vars) {
            Err(ConfigError::MissingEnv { var }) => assert_eq!(var, "CASELEDGER_GPCONNECT_FROM_ASID"),
            other => panic!("unexpected {other:?}"),
        }
        let mut vars = base_vars();
        vars.push((format!("{ENV_PREFIX}READ_TIMEOUT_MS"), "soon".into()));
        assert!(
            matches!(GpConnectConfig::from_vars(vars), Err(ConfigError::InvalidEnv { var, .. }) if var.ends_with("READ_TIMEOUT_MS"))
        );
        let mut vars = base_vars();
        vars.push((format!("{ENV_PREFIX}ENDPOINT_MAP_FILE"), "/x.json".into()));
        assert!(matches!(
            GpConnectConfig::from_vars(vars),
            Err(ConfigError::InvalidEnv { .. })
        ));
        let vars: Vec<_> = base_vars()
            .into_iter()
            .filter(|(k, _)| !k.ends_with("TO_ASID"))
            .collect();
        assert!(
            matches!(GpConnectConfig::from_vars(vars), Err(ConfigError::Invalid { field, .. }) if field == "to_asid")
        );
        let mut vars = base_vars();
        vars.retain(|(k, _)| !k.ends_with("PRACTITIONER_ID"));
        vars.push((format!("{ENV_PREFIX}PRACTITIONER_ID"), "SYSTEM".into()));
        assert!(
            matches!(GpConnectConfig::from_vars(vars), Err(ConfigError::Invalid { field, .. }) if field == "practitioner")
        );
    }

    #[test]
    fn serde_config_with_map_and_map_file() {
        let json = r#"{
            "provider_ods_code": "NHS111", "provider_name": "DHU", "from_asid": "200000000111",
            "jwt_issuer": "https://c.example", "tls": {"client_cert_path": "c", "client_key_path": "k", "ca_bundle_path": "ca"},
            "practitioner": {"id": "u1", "family": "Smith"},
            "endpoints": {"kind": "map", "practices": {
                "A12345": {"service_root": "https://a.example/A12345/STU3/1/gpconnect/fhir", "asid": "111"},
                "B23456": "https://b.example/B23456/STU3/1/gpconnect/fhir"}}
        }"#;
        let config: GpConnectConfig = serde_json::from_str(json).unwrap();
        // B23456 has no ASID and there is no default.
        assert!(matches!(config.validate(), Err(ConfigError::Invalid { field, .. }) if field.ends_with("B23456")));
        let mut fixed = config.clone();
        fixed.to_asid = Some("222".into());
        fixed.validate().unwrap();
        assert_eq!(fixed.resolve("A12345").unwrap().to_asid, "111");
        assert_eq!(fixed.resolve("B23456").unwrap().to_asid, "222");
        assert!(fixed.resolve("C99999").is_err());

        let dir = std::env::temp_dir().join(format!("gpc-map-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("map.json");
        std::fs::write(
            &path,
            r#"{"Z11111": {"service_root": "https://z.example/Z11111/STU3/1/gpconnect/fhir", "to_asid": "333"}}"#,
        )
        .unwrap();
        let mut from_file = fixed.clone();
        from_file.endpoints = EndpointConfig::MapFile { path: path.clone() };
        let loaded = from_file.load_endpoint_map().unwrap();
        assert_eq!(loaded.resolve("Z11111").unwrap().to_asid, "333");
        std::fs::write(&path, "[]").unwrap();
        let mut bad = fixed;
        bad.endpoints = EndpointConfig::MapFile { path };
        assert!(matches!(bad.load_endpoint_map(), Err(ConfigError::EndpointMap { .. })));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
