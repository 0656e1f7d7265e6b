//! The fake provider's free-slot search: request validation, availability matching and the
//! searchset Bundle, as a pure function of the request.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveTime, Utc};
use serde_json::Value;

use super::scenario::{Availability, PracticeScenario, SlotSpec};
use crate::fhir::{
    self, Bundle, BundleEntry, CodeableConcept, Coding, Extension, HumanName, Identifier, Location, Meta,
    OperationOutcome, Organization, Period, Practitioner, Reference, Resource, Schedule, Slot,
};
use crate::request::{JWT_LIFETIME_SECS, decode_jwt};
use crate::ukclock;

/// Longest span (`end date - start date`, days) the fake accepts, as the provider test suite.
pub const MAX_SPAN_DAYS: i64 = 14;

/// Clock skew tolerated on `iat`.
pub const JWT_SKEW_SECS: i64 = 60;

/// An HTTP answer: status and FHIR JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeResponse {
    /// HTTP status.
    pub status: u16,
    /// Body.
    pub body: Value,
}

impl FakeResponse {
    /// An OperationOutcome answer.
    pub fn error(status: u16, spine_code: &str, diagnostics: impl Into<String>) -> Self {
        let (issue_type, display) = match spine_code {
            "BAD_REQUEST" => ("invalid", "Bad request"),
            "INVALID_PARAMETER" => ("invalid", "Invalid parameter"),
            "ACCESS_DENIED" => ("forbidden", "Access denied"),
            "ORGANISATION_NOT_FOUND" => ("not-found", "Organisation record not found"),
            "INTERNAL_SERVER_ERROR" => ("exception", "Internal server error"),
            _ => ("processing", "Error"),
        };
        let outcome = OperationOutcome::error(issue_type, spine_code, display, &diagnostics.into());
        let body = serde_json::to_value(Resource::OperationOutcome(outcome)).unwrap_or(Value::Null);
        Self { status, body }
    }

    fn bad_request(why: impl Into<String>) -> Self {
        Self::error(400, "BAD_REQUEST", why)
    }

    fn invalid_parameter(why: impl Into<String>) -> Self {
        Self::error(422, "INVALID_PARAMETER", why)
    }
}

/// Request headers, names lower-cased.
pub type Headers = BTreeMap<String, String>;

fn non_empty(v: &Value, key: &str) -> bool {
    v.get(key).and_then(Value::as_str).is_some_and(|s| !s.trim().is_empty())
}

fn has_identifier(resource: &Value, system: Option<&str>) -> bool {
    resource.get("identifier").and_then(Value::as_array).is_some_and(|ids| {
        ids.iter().any(|id| {
            non_empty(id, "value") && system.is_none_or(|s| id.get("system").and_then(Value::as_str) == Some(s))
        })
    })
}

/// Validate the unsigned audit JWT claims as GP Connect requires. `aud_suffix` is the path of
/// the service root (`/{ods}/STU3/1/gpconnect/fhir`): `aud` must end with it.
pub fn validate_audit_jwt(authorization: Option<&str>, now: DateTime<Utc>, aud_suffix: &str) -> Result<(), String> {
    let token = authorization
        .and_then(|a| a.strip_prefix("Bearer "))
        .ok_or("Authorization header with a Bearer token is required")?;
    let (header, claims) = decode_jwt(token.trim()).map_err(|e| e.to_string())?;
    if header.get("alg").and_then(Value::as_str) != Some("none")
        || header.get("typ").and_then(Value::as_str) != Some("JWT")
    {
        return Err("JWT header must be {\"alg\":\"none\",\"typ\":\"JWT\"}".into());
    }
    if !token.trim().ends_with('.') {
        return Err("JWT must be unsigned (empty signature)".into());
    }
    for claim in ["iss", "sub", "aud", "reason_for_request", "requested_scope"] {
        if !non_empty(&claims, claim) {
            return Err(format!("JWT claim {claim} is missing"));
        }
    }
    let aud = claims.get("aud").and_then(Value::as_str).unwrap_or_default();
    if !aud.trim_end_matches('/').ends_with(aud_suffix) {
        return Err(format!("JWT aud {aud:?} is not this provider's service root"));
    }
    let iat = claims
        .get("iat")
        .and_then(Value::as_i64)
        .ok_or("JWT claim iat must be a number")?;
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or("JWT claim exp must be a number")?;
    if exp - iat != JWT_LIFETIME_SECS {
        return Err("JWT exp must be iat + 300 seconds".into());
    }
    if iat > now.timestamp() + JWT_SKEW_SECS {
        return Err("JWT iat is in the future".into());
    }
    if exp <= now.timestamp() {
        return Err("JWT has expired".into());
    }
    if claims.get("reason_for_request").and_then(Value::as_str) != Some("directcare") {
        return Err("JWT reason_for_request must be directcare".into());
    }
    if claims.get("requested_scope").and_then(Value::as_str) != Some("organization/*.read") {
        return Err("JWT requested_scope must be organization/*.read for slot search".into());
    }
    let resource = |name: &str, kind: &str| -> Result<&Value, String> {
        let r = claims.get(name).ok_or_else(|| format!("JWT claim {name} is missing"))?;
        if r.get("resourceType").and_then(Value::as_str) != Some(kind) {
            return Err(format!("JWT claim {name} must be a {kind} resource"));
        }
        Ok(r)
    };
    let device = resource("requesting_device", "Device")?;
    if !has_identifier(device, None) || !non_empty(device, "model") || !non_empty(device, "version") {
        return Err("JWT requesting_device needs identifier, model and version".into());
    }
    let org = resource("requesting_organization", "Organization")?;
    if !non_empty(org, "name") || !has_identifier(org, Some(fhir::ODS_ORGANIZATION_CODE)) {
        return Err("JWT requesting_organization needs a name and an ODS code identifier".into());
    }
    let prac = resource("requesting_practitioner", "Practitioner")?;
    if !non_empty(prac, "id") || prac.get("name").and_then(Value::as_array).is_none_or(Vec::is_empty) {
        return Err("JWT requesting_practitioner needs id and name".into());
    }
    if prac.get("id") != claims.get("sub") {
        return Err("JWT sub must equal requesting_practitioner.id".into());
    }
    if !has_identifier(prac, Some(fhir::SDS_USER_ID)) || !has_identifier(prac, Some(fhir::SDS_ROLE_PROFILE_ID)) {
        return Err("JWT requesting_practitioner needs sds-user-id and sds-role-profile-id identifiers".into());
    }
    Ok(())
}

/// A `start`/`end` bound as sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bound {
    Date(NaiveDate),
    Instant(DateTime<FixedOffset>),
}

impl Bound {
    fn date(self) -> NaiveDate {
        match self {
            Self::Date(d) => d,
            Self::Instant(i) => i.date_naive(),
        }
    }
}

fn parse_bound(name: &str, value: &str, prefix: &str) -> Result<Bound, String> {
    let rest = value
        .strip_prefix(prefix)
        .ok_or_else(|| format!("{name} must use the {prefix} prefix, got {value:?}"))?;
    if !rest.is_ascii() {
        return Err(format!("{name} {value:?} is not a valid date"));
    }
    if rest.len() == 10 {
        return NaiveDate::parse_from_str(rest, "%Y-%m-%d")
            .map(Bound::Date)
            .map_err(|_| format!("{name} {value:?} is not a valid date"));
    }
    let offset_ok = rest.len() > 6 && {
        let tail = &rest.as_bytes()[rest.len() - 6..];
        matches!(tail[0], b'+' | b'-') && tail[3] == b':'
    };
    if !offset_ok {
        return Err(format!(
            "{name} {value:?} must be yyyy-mm-dd or yyyy-mm-ddThh:mm:ss+hh:mm"
        ));
    }
    DateTime::parse_from_str(rest, "%Y-%m-%dT%H:%M:%S%:z")
        .map(Bound::Instant)
        .map_err(|_| format!("{name} {value:?} must be yyyy-mm-dd or yyyy-mm-ddThh:mm:ss+hh:mm"))
}

fn norm_type(s: &str) -> String {
    s.trim().to_ascii_lowercase().replace(' ', "-")
}

/// The organisation filters of a request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    /// ODS codes sent (`https://fhir.nhs.uk/Id/ods-organization-code|X`).
    pub ods_codes: BTreeSet<String>,
    /// Organisation types sent, normalised (`Urgent Care` → `urgent-care`).
    pub org_types: BTreeSet<String>,
}

/// Whether a slot with `availability` is returned for `filters` (the fact sheet's table):
/// it must be GP Connect bookable, and on each dimension either unrestricted or matched by a
/// filter that was sent.
pub fn slot_matches(availability: &Availability, filters: &Filters) -> bool {
    let ods_ok = availability.allowed_ods_codes.is_empty()
        || availability
            .allowed_ods_codes
            .iter()
            .any(|c| filters.ods_codes.contains(&c.trim().to_ascii_uppercase()));
    let type_ok = availability.allowed_org_types.is_empty()
        || availability
            .allowed_org_types
            .iter()
            .any(|t| filters.org_types.contains(&norm_type(t)));
    availability.gp_connect_bookable && ods_ok && type_ok
}

/// Handle a free-slot search for one practice.
pub fn search_free_slots(
    practice: &PracticeScenario,
    slots: &[SlotSpec],
    service_root: &str,
    aud_suffix: &str,
    raw_query: &str,
    headers: &Headers,
    now: DateTime<Utc>,
) -> FakeResponse {
    // Headers.
    match headers.get("ssp-interactionid").map(String::as_str) {
        None => return FakeResponse::bad_request("Ssp-InteractionID header is missing"),
        Some(fhir::INTERACTION_ID) => {}
        Some(other) => {
            return FakeResponse::bad_request(format!("Ssp-InteractionID {other:?} does not match the request"));
        }
    }
    for h in ["ssp-traceid", "ssp-from", "ssp-to"] {
        if headers.get(h).is_none_or(|v| v.trim().is_empty()) {
            return FakeResponse::bad_request(format!("{h} header is missing"));
        }
    }
    if let Err(why) = validate_audit_jwt(headers.get("authorization").map(String::as_str), now, aud_suffix) {
        return FakeResponse::bad_request(why);
    }

    // Parameters.
    let params: Vec<(String, String)> = form_urlencoded::parse(raw_query.as_bytes()).into_owned().collect();
    let all = |k: &str| {
        params
            .iter()
            .filter(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>()
    };
    let (starts, ends, statuses) = (all("start"), all("end"), all("status"));
    if starts.is_empty() || ends.is_empty() {
        return FakeResponse::bad_request("start and end parameters are required");
    }
    if statuses.is_empty() {
        return FakeResponse::bad_request("status parameter is required");
    }
    if starts.len() > 1 || ends.len() > 1 {
        return FakeResponse::invalid_parameter("start and end must appear exactly once");
    }
    if statuses != ["free"] {
        return FakeResponse::invalid_parameter("status must be free");
    }
    let includes = all("_include");
    if !includes.contains(&"Slot:schedule") {
        return FakeResponse::invalid_parameter("_include=Slot:schedule is required");
    }
    let start = match parse_bound("start", starts[0], "ge") {
        Ok(b) => b,
        Err(why) => return FakeResponse::invalid_parameter(why),
    };
    let end = match parse_bound("end", ends[0], "le") {
        Ok(b) => b,
        Err(why) => return FakeResponse::invalid_parameter(why),
    };
    let span = (end.date() - start.date()).num_days();
    let max_span = practice.max_span_days.unwrap_or(MAX_SPAN_DAYS);
    if !(0..=max_span).contains(&span) {
        return FakeResponse::invalid_parameter(format!("the search range is {span} days; it must be 0 to {max_span}"));
    }
    let from = match start {
        Bound::Date(d) => ukclock::from_local(d.and_time(NaiveTime::MIN)),
        Bound::Instant(i) => i,
    };
    let until = match end {
        // A date-only end covers the whole of that day.
        Bound::Date(d) => ukclock::from_local((d + Duration::days(1)).and_time(NaiveTime::MIN)),
        Bound::Instant(i) => i,
    };
    if until < from {
        return FakeResponse::invalid_parameter("end is before start");
    }
    let recurse = all("_include:recurse");
    let want_practitioner = recurse.contains(&"Schedule:actor:Practitioner");
    let want_location = recurse.contains(&"Schedule:actor:Location");

    let mut filters = Filters::default();
    for value in all("searchFilter") {
        let Some((system, code)) = value.split_once('|') else {
            continue;
        };
        match system {
            fhir::ODS_ORGANIZATION_CODE => {
                filters.ods_codes.insert(code.trim().to_ascii_uppercase());
            }
            fhir::ORGANISATION_TYPE_SYSTEM => {
                filters.org_types.insert(norm_type(code));
            }
            _ => {} // SHALL ignore systems it does not recognise.
        }
    }

    let mut matched: Vec<&SlotSpec> = slots
        .iter()
        .filter(|s| s.status == "free" && s.start >= from && s.end <= until)
        .filter(|s| slot_matches(&practice.availability_of(s), &filters))
        .collect();
    matched.sort_by_key(|s| (s.start, s.id.clone()));

    let horizon = Period {
        start: Some(from.to_rfc3339()),
        end: Some(until.to_rfc3339()),
    };
    FakeResponse {
        status: 200,
        body: serde_json::to_value(bundle(
            practice,
            &matched,
            service_root,
            horizon,
            want_practitioner,
            want_location,
            now,
        ))
        .unwrap_or(Value::Null),
    }
}

fn entry(service_root: &str, kind: &str, id: &str, resource: Resource) -> BundleEntry {
    BundleEntry {
        full_url: Some(format!("{service_root}/{kind}/{id}")),
        resource,
    }
}

fn bundle(
    practice: &PracticeScenario,
    slots: &[&SlotSpec],
    service_root: &str,
    horizon: Period,
    want_practitioner: bool,
    want_location: bool,
    now: DateTime<Utc>,
) -> Bundle {
    let mut out = Bundle::searchset();
    out.id = Some(uuid::Uuid::new_v4().to_string());
    out.meta = Some(Meta {
        last_updated: Some(now.to_rfc3339()),
        profile: Vec::new(),
    });
    let schedules: Vec<_> = {
        let ids: BTreeSet<&str> = slots.iter().map(|s| s.schedule.as_str()).collect();
        practice
            .schedules
            .iter()
            .filter(|s| ids.contains(s.id.as_str()))
            .collect()
    };
    for s in slots {
        let channel = schedules
            .iter()
            .find(|x| x.id == s.schedule)
            .map(|x| x.delivery_channel.clone());
        out.entry.push(entry(
            service_root,
            "Slot",
            &s.id,
            Resource::Slot(Slot {
                id: s.id.clone(),
                meta: Meta::profile(fhir::SLOT_PROFILE),
                extension: channel
                    .map(|c| Extension {
                        url: fhir::DELIVERY_CHANNEL_EXTENSION.to_owned(),
                        value_code: Some(c),
                        value_codeable_concept: None,
                    })
                    .into_iter()
                    .collect(),
                service_type: s
                    .slot_type
                    .iter()
                    .map(|t| CodeableConcept {
                        coding: Vec::new(),
                        text: Some(t.clone()),
                    })
                    .collect(),
                schedule: Reference::to("Schedule", &s.schedule),
                status: s.status.clone(),
                start: s.start.to_rfc3339(),
                end: s.end.to_rfc3339(),
            }),
        ));
    }
    for s in &schedules {
        let mut actor = vec![Reference::to("Location", &s.location)];
        actor.extend(s.practitioner.iter().map(|p| Reference::to("Practitioner", p)));
        out.entry.push(entry(
            service_root,
            "Schedule",
            &s.id,
            Resource::Schedule(Schedule {
                id: s.id.clone(),
                meta: Meta::profile(fhir::SCHEDULE_PROFILE),
                extension: vec![Extension {
                    url: fhir::PRACTITIONER_ROLE_EXTENSION.to_owned(),
                    value_code: None,
                    value_codeable_concept: Some(CodeableConcept {
                        coding: vec![Coding {
                            system: Some(fhir::SDS_JOB_ROLE_NAME.to_owned()),
                            code: Some(s.practitioner_role.clone()),
                            display: (s.practitioner_role == "R0260")
                                .then(|| "General Medical Practitioner".to_owned()),
                        }],
                        text: None,
                    }),
                }],
                service_category: s.name.as_ref().map(|n| CodeableConcept {
                    coding: Vec::new(),
                    text: Some(n.clone()),
                }),
                actor,
                planning_horizon: Some(horizon.clone()),
            }),
        ));
    }
    if want_practitioner {
        let ids: BTreeSet<&str> = schedules.iter().filter_map(|s| s.practitioner.as_deref()).collect();
        for p in practice.practitioners.iter().filter(|p| ids.contains(p.id.as_str())) {
            out.entry.push(entry(
                service_root,
                "Practitioner",
                &p.id,
                Resource::Practitioner(Practitioner {
                    id: p.id.clone(),
                    meta: Meta::profile(fhir::PRACTITIONER_PROFILE),
                    identifier: vec![Identifier::new(
                        fhir::SDS_USER_ID,
                        p.sds_user_id.as_deref().unwrap_or("UNK"),
                    )],
                    name: vec![HumanName {
                        name_use: Some("usual".to_owned()),
                        family: Some(p.family.clone()),
                        given: p.given.clone(),
                        prefix: p.prefix.clone(),
                    }],
                }),
            ));
        }
    }
    let org_id = "1";
    if want_location {
        let ids: BTreeSet<&str> = schedules.iter().map(|s| s.location.as_str()).collect();
        for l in practice.locations.iter().filter(|l| ids.contains(l.id.as_str())) {
            out.entry.push(entry(
                service_root,
                "Location",
                &l.id,
                Resource::Location(Location {
                    id: l.id.clone(),
                    meta: Meta::profile(fhir::LOCATION_PROFILE),
                    name: Some(l.name.clone()),
                    managing_organization: Some(Reference::to("Organization", org_id)),
                }),
            ));
        }
    }
    if !slots.is_empty() {
        // Known issue: the Organization is returned whenever any slot is.
        out.entry.push(entry(
            service_root,
            "Organization",
            org_id,
            Resource::Organization(Organization {
                id: org_id.to_owned(),
                meta: Meta::profile(fhir::ORGANIZATION_PROFILE),
                identifier: vec![Identifier::new(fhir::ODS_ORGANIZATION_CODE, &practice.ods_code)],
                name: Some(practice.name.clone()),
            }),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn avail(bookable: bool, ods: &[&str], types: &[&str]) -> Availability {
        Availability {
            gp_connect_bookable: bookable,
            allowed_ods_codes: ods.iter().map(|s| s.to_string()).collect(),
            allowed_org_types: types.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn filters(ods: &[&str], types: &[&str]) -> Filters {
        Filters {
            ods_codes: ods.iter().map(|s| s.to_string()).collect(),
            org_types: types.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn matching_table() {
        let open = avail(true, &[], &[]);
        let ods_only = avail(true, &["NHS111"], &[]);
        let type_only = avail(true, &[], &["urgent-care"]);
        let both = avail(true, &["NHS111"], &["Urgent Care"]);
        // none sent: only unrestricted slots
        assert!(slot_matches(&open, &filters(&[], &[])));
        assert!(!slot_matches(&ods_only, &filters(&[], &[])));
        assert!(!slot_matches(&type_only, &filters(&[], &[])));
        // type only
        assert!(slot_matches(&type_only, &filters(&[], &["urgent-care"])));
        assert!(!slot_matches(&ods_only, &filters(&[], &["urgent-care"])));
        assert!(!slot_matches(&type_only, &filters(&[], &["gp-practice"])));
        // ODS only
        assert!(slot_matches(&ods_only, &filters(&["NHS111"], &[])));
        assert!(!slot_matches(&type_only, &filters(&["NHS111"], &[])));
        assert!(!slot_matches(&ods_only, &filters(&["OTHER"], &[])));
        // both
        assert!(slot_matches(&both, &filters(&["NHS111"], &["urgent-care"])));
        assert!(slot_matches(&open, &filters(&["NHS111"], &["urgent-care"])));
        assert!(!slot_matches(&both, &filters(&["OTHER"], &["urgent-care"])));
        // never when not GP Connect bookable
        assert!(!slot_matches(
            &avail(false, &[], &[]),
            &filters(&["NHS111"], &["urgent-care"])
        ));
    }

    #[test]
    fn bounds() {
        assert_eq!(
            parse_bound("start", "ge2025-01-06", "ge"),
            Ok(Bound::Date(NaiveDate::from_ymd_opt(2025, 1, 6).unwrap()))
        );
        assert!(matches!(
            parse_bound("start", "ge2025-07-06T00:00:00+01:00", "ge"),
            Ok(Bound::Instant(_))
        ));
        for bad in [
            "gt2025-01-06",
            "ge2025-01",
            "ge2025",
            "ge2025-01-06T00:00:00",
            "ge2025-01-06T00:00:00Z",
            "ge",
            "geinvalid",
            "ge2025-01-06T00:00:00 01:00",
        ] {
            assert!(parse_bound("start", bad, "ge").is_err(), "{bad}");
        }
    }

    #[test]
    fn jwt_checks() {
        let now = DateTime::parse_from_rfc3339("2025-01-06T09:00:00Z").unwrap().to_utc();
        assert!(validate_audit_jwt(None, now, "/A1/STU3/1/gpconnect/fhir").is_err());
        assert!(validate_audit_jwt(Some("Basic x"), now, "/A1/STU3/1/gpconnect/fhir").is_err());
    }
}
