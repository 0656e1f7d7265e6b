//! Building a Search for free slots request: windows, query, headers and the unsigned audit JWT.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::config::{GpConnectConfig, ResolvedEndpoint};
use crate::fhir::{self, HumanName, Identifier};
use crate::ukclock;

/// The most calendar days one request may cover. The provider rejects a span over 14 days
/// (`end - start`); asking for at most 14 calendar days inclusive stays inside that.
pub const MAX_DAYS_PER_REQUEST: u32 = 14;

/// JWT lifetime: `exp = iat + 5 minutes`.
pub const JWT_LIFETIME_SECS: i64 = 300;

/// One request's date range, both ends inclusive (UK local dates).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchWindow {
    /// First day.
    pub start: NaiveDate,
    /// Last day.
    pub end: NaiveDate,
}

impl SearchWindow {
    /// `start` parameter value: `ge` + 00:00:00 UK local time with its offset.
    pub fn start_param(&self) -> String {
        format!("ge{}", ukclock::format_local(self.start.and_time(NaiveTime::MIN)))
    }

    /// `end` parameter value: `le` + 23:59:59 UK local time with its offset.
    pub fn end_param(&self) -> String {
        let last = NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN);
        format!("le{}", ukclock::format_local(self.end.and_time(last)))
    }
}

/// Split `days` days from `start` into windows of at most [`MAX_DAYS_PER_REQUEST`] days.
pub fn split_window(start: NaiveDate, days: u32) -> Vec<SearchWindow> {
    let mut windows = Vec::new();
    let mut offset = 0u32;
    while offset < days {
        let len = (days - offset).min(MAX_DAYS_PER_REQUEST);
        let first = start + Duration::days(i64::from(offset));
        windows.push(SearchWindow {
            start: first,
            end: first + Duration::days(i64::from(len) - 1),
        });
        offset += len;
    }
    windows
}

/// The query parameters, in order, unencoded.
pub fn slot_search_params(window: &SearchWindow, provider_ods_code: &str) -> Vec<(&'static str, String)> {
    vec![
        ("start", window.start_param()),
        ("end", window.end_param()),
        ("status", "free".to_owned()),
        ("_include", "Slot:schedule".to_owned()),
        ("_include:recurse", "Schedule:actor:Practitioner".to_owned()),
        ("_include:recurse", "Schedule:actor:Location".to_owned()),
        ("_include:recurse", "Location:managingOrganization".to_owned()),
        (
            "searchFilter",
            format!("{}|{}", fhir::ODS_ORGANIZATION_CODE, provider_ods_code),
        ),
        (
            "searchFilter",
            format!("{}|{}", fhir::ORGANISATION_TYPE_SYSTEM, fhir::URGENT_CARE),
        ),
    ]
}

/// Percent-encode a query component. Unreserved characters, `:` and `/` stay as they are;
/// everything else (notably `+` in offsets → `%2B`, and `|` → `%7C`) is encoded.
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b':' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `k=v&k=v`, encoded.
pub fn encode_query(params: &[(&str, String)]) -> String {
    encode_query_with(params, false)
}

/// `k=v&k=v`, encoded; with `names`, the names' `:` too (`_include%3Arecurse`).
pub fn encode_query_with(params: &[(&str, String)], names: bool) -> String {
    params
        .iter()
        .map(|(k, v)| {
            let name = if names {
                encode_component(k).replace(':', "%3A")
            } else {
                encode_component(k)
            };
            format!("{name}={}", encode_component(v))
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// JWT `requesting_device`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JwtDevice {
    /// `Device`.
    pub resource_type: String,
    /// Identifier.
    pub identifier: Vec<Identifier>,
    /// Model.
    pub model: String,
    /// Version.
    pub version: String,
}

/// JWT `requesting_organization`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JwtOrganization {
    /// `Organization`.
    pub resource_type: String,
    /// ODS code identifier.
    pub identifier: Vec<Identifier>,
    /// Name.
    pub name: String,
}

/// JWT `requesting_practitioner`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JwtPractitioner {
    /// `Practitioner`.
    pub resource_type: String,
    /// Id (equals `sub`).
    pub id: String,
    /// Identifiers: SDS user id, SDS role profile id, local user id.
    pub identifier: Vec<Identifier>,
    /// Name.
    pub name: Vec<HumanName>,
}

/// The audit JWT claims.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditClaims {
    /// Consumer system's Spine endpoint URL.
    pub iss: String,
    /// `requesting_practitioner.id`.
    pub sub: String,
    /// Provider service root.
    pub aud: String,
    /// Expiry, UNIX seconds (`iat + 300`).
    pub exp: i64,
    /// Issued at, UNIX seconds.
    pub iat: i64,
    /// `directcare`.
    pub reason_for_request: String,
    /// `organization/*.read`.
    pub requested_scope: String,
    /// Device.
    pub requesting_device: JwtDevice,
    /// Organisation.
    pub requesting_organization: JwtOrganization,
    /// Practitioner.
    pub requesting_practitioner: JwtPractitioner,
}

/// The claims for one request.
pub fn audit_claims(config: &GpConnectConfig, audience: &str, now: DateTime<Utc>) -> AuditClaims {
    let p = &config.practitioner;
    let d = &config.device;
    AuditClaims {
        iss: config.jwt_issuer.clone(),
        sub: p.id.clone(),
        aud: audience.to_owned(),
        iat: now.timestamp(),
        exp: now.timestamp() + JWT_LIFETIME_SECS,
        reason_for_request: "directcare".to_owned(),
        requested_scope: "organization/*.read".to_owned(),
        requesting_device: JwtDevice {
            resource_type: "Device".to_owned(),
            identifier: vec![Identifier::new(&d.system, &d.value)],
            model: d.model.clone(),
            version: d.version.clone(),
        },
        requesting_organization: JwtOrganization {
            resource_type: "Organization".to_owned(),
            identifier: vec![Identifier::new(fhir::ODS_ORGANIZATION_CODE, &config.provider_ods_code)],
            name: config.provider_name.clone(),
        },
        requesting_practitioner: JwtPractitioner {
            resource_type: "Practitioner".to_owned(),
            id: p.id.clone(),
            identifier: vec![
                Identifier::new(fhir::SDS_USER_ID, &p.sds_user_id),
                Identifier::new(fhir::SDS_ROLE_PROFILE_ID, &p.sds_role_profile_id),
                Identifier::new(&p.local_user_system, &p.id),
            ],
            name: vec![HumanName {
                name_use: None,
                family: Some(p.family.clone()),
                given: p.given.iter().cloned().collect(),
                prefix: Vec::new(),
            }],
        },
    }
}

/// An unsigned JWT: `base64url(header).base64url(claims).` (alg none, empty signature).
pub fn unsigned_jwt<T: Serialize>(claims: &T) -> Result<String, serde_json::Error> {
    let header = serde_json::to_vec(&serde_json::json!({"alg": "none", "typ": "JWT"}))?;
    let payload = serde_json::to_vec(claims)?;
    Ok(format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    ))
}

/// A JWT that cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed JWT: {0}")]
pub struct JwtDecodeError(pub String);

/// Decode a JWT's header and claims as JSON without checking any signature.
pub fn decode_jwt(token: &str) -> Result<(serde_json::Value, serde_json::Value), JwtDecodeError> {
    let parts: Vec<&str> = token.split('.').collect();
    let [header, payload, _signature] = parts.as_slice() else {
        return Err(JwtDecodeError("expected three dot-separated parts".to_owned()));
    };
    let decode = |part: &str, what: &str| -> Result<serde_json::Value, JwtDecodeError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(part.trim_end_matches('='))
            .map_err(|e| JwtDecodeError(format!("{what} is not base64url: {e}")))?;
        serde_json::from_slice(&bytes).map_err(|e| JwtDecodeError(format!("{what} is not JSON: {e}")))
    };
    Ok((decode(header, "header")?, decode(payload, "payload")?))
}

/// A ready-to-send request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotSearchRequest {
    /// Full URL including the encoded query.
    pub url: String,
    /// Headers, in order.
    pub headers: Vec<(String, String)>,
}

impl SlotSearchRequest {
    /// A header value by (case-insensitive) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Build one request with a fresh trace id and JWT.
pub fn build_slot_search(
    config: &GpConnectConfig,
    endpoint: &ResolvedEndpoint,
    window: &SearchWindow,
    now: DateTime<Utc>,
    trace_id: Uuid,
) -> Result<SlotSearchRequest, serde_json::Error> {
    let jwt = unsigned_jwt(&audit_claims(config, &endpoint.service_root, now))?;
    let query = encode_query_with(
        &slot_search_params(window, &config.provider_ods_code),
        config.encode_parameter_names,
    );
    Ok(SlotSearchRequest {
        url: format!("{}/Slot?{}", endpoint.request_base, query),
        headers: vec![
            ("Ssp-TraceID".to_owned(), trace_id.to_string()),
            ("Ssp-From".to_owned(), config.from_asid.clone()),
            ("Ssp-To".to_owned(), endpoint.to_asid.clone()),
            ("Ssp-InteractionID".to_owned(), fhir::INTERACTION_ID.to_owned()),
            ("Authorization".to_owned(), format!("Bearer {jwt}")),
            ("Accept".to_owned(), fhir::FHIR_JSON.to_owned()),
        ],
    })
}

/// The provider's CapabilityStatement request (`GET [base]/metadata`), with a fresh trace id and
/// JWT, asked before searching.
pub fn build_metadata(
    config: &GpConnectConfig,
    endpoint: &ResolvedEndpoint,
    now: DateTime<Utc>,
    trace_id: Uuid,
) -> Result<SlotSearchRequest, serde_json::Error> {
    let jwt = unsigned_jwt(&audit_claims(config, &endpoint.service_root, now))?;
    Ok(SlotSearchRequest {
        url: format!("{}/metadata", endpoint.request_base),
        headers: vec![
            ("Ssp-TraceID".to_owned(), trace_id.to_string()),
            ("Ssp-From".to_owned(), config.from_asid.clone()),
            ("Ssp-To".to_owned(), endpoint.to_asid.clone()),
            ("Ssp-InteractionID".to_owned(), fhir::METADATA_INTERACTION_ID.to_owned()),
            ("Authorization".to_owned(), format!("Bearer {jwt}")),
            ("Accept".to_owned(), fhir::FHIR_JSON.to_owned()),
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    pub(crate) fn config() -> GpConnectConfig {
        GpConnectConfig {
            provider_ods_code: "NHS111".into(),
            provider_name: "DHU 111".into(),
            from_asid: "200000000111".into(),
            to_asid: Some("918999198993".into()),
            jwt_issuer: "https://consumer.example/spine".into(),
            endpoints: EndpointConfig::Template {
                template: "https://gp.example/{ods}/STU3/1/gpconnect/fhir".into(),
            },
            ssp_url: None,
            encode_parameter_names: false,
            tls: TlsPaths {
                client_cert_path: "c".into(),
                client_key_path: "k".into(),
                ca_bundle_path: "ca".into(),
            },
            practitioner: PractitionerIdentity {
                id: "dc-7".into(),
                family: "Champion".into(),
                given: Some("Dana".into()),
                sds_user_id: "UNK".into(),
                sds_role_profile_id: "UNK".into(),
                local_user_system: "urn:caseledger:user-id".into(),
            },
            device: DeviceIdentity::default(),
            http: HttpSettings::default(),
            bank_holidays_path: None,
        }
    }

    #[test]
    fn windows_are_split_at_14_days() {
        assert!(split_window(d(2025, 1, 6), 0).is_empty());
        assert_eq!(
            split_window(d(2025, 1, 6), 14),
            vec![SearchWindow {
                start: d(2025, 1, 6),
                end: d(2025, 1, 19)
            }]
        );
        assert_eq!(
            split_window(d(2025, 1, 6), 30),
            vec![
                SearchWindow {
                    start: d(2025, 1, 6),
                    end: d(2025, 1, 19)
                },
                SearchWindow {
                    start: d(2025, 1, 20),
                    end: d(2025, 2, 2)
                },
                SearchWindow {
                    start: d(2025, 2, 3),
                    end: d(2025, 2, 4)
                },
            ]
        );
    }

    #[test]
    fn window_params_use_uk_offsets() {
        let w = SearchWindow {
            start: d(2025, 3, 24),
            end: d(2025, 4, 4),
        };
        assert_eq!(w.start_param(), "ge2025-03-24T00:00:00+00:00");
        assert_eq!(w.end_param(), "le2025-04-04T23:59:59+01:00");
    }

    #[test]
    fn parameter_names_are_encoded_when_configured_and_values_alike_either_way() {
        let w = SearchWindow {
            start: d(2025, 6, 2),
            end: d(2025, 6, 13),
        };
        let now = DateTime::parse_from_rfc3339("2025-06-02T08:00:00Z").unwrap().to_utc();
        let plain = config();
        let endpoint = plain.resolve("A12345").unwrap();
        let as_is = build_slot_search(&plain, &endpoint, &w, now, Uuid::nil()).unwrap();
        let encoding = GpConnectConfig {
            encode_parameter_names: true,
            ..config()
        };
        let encoded = build_slot_search(&encoding, &endpoint, &w, now, Uuid::nil()).unwrap();
        assert!(
            as_is.url.contains("&_include:recurse=Schedule:actor:Practitioner"),
            "{}",
            as_is.url
        );
        assert!(
            encoded.url.contains("&_include%3Arecurse=Schedule:actor:Practitioner"),
            "{}",
            encoded.url
        );
        assert!(!encoded.url.contains("_include:recurse"));
        // Only the names change.
        assert_eq!(encoded.url.replace("%3Arecurse", ":recurse"), as_is.url);
    }

    #[test]
    fn request_has_headers_query_and_jwt() {
        let config = config();
        let endpoint = config.resolve("A12345").unwrap();
        let now = DateTime::parse_from_rfc3339("2025-06-02T08:00:00Z").unwrap().to_utc();
        let trace = Uuid::from_u128(0x1234);
        let w = SearchWindow {
            start: d(2025, 6, 2),
            end: d(2025, 6, 13),
        };
        let req = build_slot_search(&config, &endpoint, &w, now, trace).unwrap();
        assert_eq!(
            req.url,
            "https://gp.example/A12345/STU3/1/gpconnect/fhir/Slot?start=ge2025-06-02T00:00:00%2B01:00\
             &end=le2025-06-13T23:59:59%2B01:00&status=free&_include=Slot:schedule\
             &_include:recurse=Schedule:actor:Practitioner&_include:recurse=Schedule:actor:Location\
             &_include:recurse=Location:managingOrganization\
             &searchFilter=https://fhir.nhs.uk/Id/ods-organization-code%7CNHS111\
             &searchFilter=https://fhir.nhs.uk/STU3/CodeSystem/GPConnect-OrganisationType-1%7Curgent-care"
        );
        assert_eq!(req.header("ssp-traceid"), Some(trace.to_string().as_str()));
        assert_eq!(req.header("Ssp-From"), Some("200000000111"));
        assert_eq!(req.header("Ssp-To"), Some("918999198993"));
        assert_eq!(
            req.header("Ssp-InteractionID"),
            Some("urn:nhs:names:services:gpconnect:fhir:rest:search:slot-1")
        );
        assert_eq!(req.header("Accept"), Some("application/fhir+json"));

        let token = req.header("Authorization").unwrap().strip_prefix("Bearer ").unwrap();
        assert!(token.ends_with('.'), "unsigned JWT has an empty signature");
        let (header, claims) = decode_jwt(token).unwrap();
        assert_eq!(header, serde_json::json!({"alg": "none", "typ": "JWT"}));
        let claims: AuditClaims = serde_json::from_value(claims).unwrap();
        assert_eq!(claims.iss, "https://consumer.example/spine");
        assert_eq!(claims.aud, "https://gp.example/A12345/STU3/1/gpconnect/fhir");
        assert_eq!(claims.iat, now.timestamp());
        assert_eq!(claims.exp - claims.iat, 300);
        assert_eq!(claims.sub, claims.requesting_practitioner.id);
        assert_eq!(claims.reason_for_request, "directcare");
        assert_eq!(claims.requested_scope, "organization/*.read");
        assert_eq!(claims.requesting_device.resource_type, "Device");
        assert_eq!(
            claims.requesting_organization.identifier,
            vec![Identifier::new(
                "https://fhir.nhs.uk/Id/ods-organization-code",
                "NHS111"
            )]
        );
        assert_eq!(claims.requesting_organization.name, "DHU 111");
        let systems: Vec<_> = claims
            .requesting_practitioner
            .identifier
            .iter()
            .filter_map(|i| i.system.as_deref())
            .collect();
        assert_eq!(
            systems,
            [
                "https://fhir.nhs.uk/Id/sds-user-id",
                "https://fhir.nhs.uk/Id/sds-role-profile-id",
                "urn:caseledger:user-id"
            ]
        );
        assert_eq!(
            claims.requesting_practitioner.name[0].family.as_deref(),
            Some("Champion")
        );

        // A second request gets a different trace id and token.
        let later = build_slot_search(&config, &endpoint, &w, now + Duration::seconds(1), Uuid::new_v4()).unwrap();
        assert_ne!(later.header("Authorization"), req.header("Authorization"));
        assert_ne!(later.header("Ssp-TraceID"), req.header("Ssp-TraceID"));
    }

    #[test]
    fn decode_rejects_garbage() {
        assert!(decode_jwt("abc").is_err());
        assert!(decode_jwt("!!.!!.").is_err());
    }
}
