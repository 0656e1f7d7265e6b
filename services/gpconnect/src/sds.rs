//! Finding a practice's GP Connect endpoint the way a consumer must: the Spine Directory
//! Service's FHIR API. `Endpoint` by the practice's ODS code and the interaction id gives the
//! endpoint's address (the service root, the JWT's `aud`) and its MHS party key; `Device` by the
//! ODS code, the interaction id and that party key gives the provider's ASID (`Ssp-To`). NHS
//! England's appointment checker asks the same two questions.

use serde::Deserialize;

use crate::fhir::{Identifier, ODS_ORGANIZATION_CODE};

/// The interaction id identifier system.
pub const INTERACTION_ID_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhsServiceInteractionId";
/// The MHS party key identifier system.
pub const PARTY_KEY_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhsMhsPartyKey";
/// The Spine ASID identifier system.
pub const ASID_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhsSpineASID";

/// Why SDS gave no endpoint to search, as the appointment checker reports it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdsMiss {
    /// SDS holds no GP Connect Appointment Management endpoint for the practice.
    #[error("SDS has no GP Connect Appointment Management endpoint for practice {0}")]
    NoEndpoint(String),
    /// The endpoint has no ASID.
    #[error("SDS has no ASID for practice {0}'s GP Connect endpoint")]
    NoAsid(String),
    /// SDS did not answer usefully.
    #[error("the Spine Directory Service did not answer for practice {ods}: {reason}")]
    Failed {
        /// The practice.
        ods: String,
        /// What went wrong.
        reason: String,
    },
}

impl SdsMiss {
    /// The outcome's code, shown to every party.
    pub fn code(&self) -> &'static str {
        match self {
            SdsMiss::NoEndpoint(_) => "NO_ENDPOINT_IN_SDS",
            SdsMiss::NoAsid(_) => "NO_ASID_IN_SDS",
            SdsMiss::Failed { .. } => "SDS_UNAVAILABLE",
        }
    }
}

/// The two searches' URLs (`base` without a trailing slash).
pub fn endpoint_query(base: &str, ods: &str, interaction: &str) -> String {
    format!(
        "{base}/Endpoint?organization={}&identifier={}",
        crate::request::encode_component(&format!("{ODS_ORGANIZATION_CODE}|{ods}")),
        crate::request::encode_component(&format!("{INTERACTION_ID_SYSTEM}|{interaction}")),
    )
}

/// The `Device` search for the ASID of the endpoint with `party_key`.
pub fn device_query(base: &str, ods: &str, interaction: &str, party_key: &str) -> String {
    format!(
        "{}&identifier={}",
        endpoint_query(base, ods, interaction).replacen("/Endpoint?", "/Device?", 1),
        crate::request::encode_component(&format!("{PARTY_KEY_SYSTEM}|{party_key}")),
    )
}

#[derive(Debug, Deserialize)]
struct SearchBundle {
    #[serde(default)]
    entry: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
struct Entry {
    resource: SdsResource,
}

#[derive(Debug, Deserialize)]
struct SdsResource {
    #[serde(rename = "resourceType", default)]
    resource_type: String,
    #[serde(default)]
    address: Option<String>,
    #[serde(default)]
    identifier: Vec<Identifier>,
}

fn identifier<'a>(resource: &'a SdsResource, system: &str) -> Option<&'a str> {
    resource
        .identifier
        .iter()
        .find(|i| i.system.as_deref() == Some(system))
        .and_then(|i| i.value.as_deref())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

fn resources(body: &str, kind: &str) -> Result<Vec<SdsResource>, String> {
    let bundle: SearchBundle = serde_json::from_str(body).map_err(|e| format!("not a FHIR Bundle: {e}"))?;
    Ok(bundle
        .entry
        .into_iter()
        .map(|entry| entry.resource)
        .filter(|resource| resource.resource_type == kind)
        .collect())
}

/// The endpoint's address and party key from an `Endpoint` search's answer.
pub fn read_endpoint(ods: &str, body: &str) -> Result<(String, String), SdsMiss> {
    let failed = |reason: String| SdsMiss::Failed {
        ods: ods.to_owned(),
        reason,
    };
    let found = resources(body, "Endpoint").map_err(failed)?;
    found
        .iter()
        .find_map(|endpoint| {
            let address = endpoint.address.as_deref().map(str::trim).filter(|a| !a.is_empty())?;
            let key = identifier(endpoint, PARTY_KEY_SYSTEM)?;
            Some((address.to_owned(), key.to_owned()))
        })
        .ok_or_else(|| SdsMiss::NoEndpoint(ods.to_owned()))
}

/// The ASID from a `Device` search's answer.
pub fn read_asid(ods: &str, body: &str) -> Result<String, SdsMiss> {
    let found = resources(body, "Device").map_err(|reason| SdsMiss::Failed {
        ods: ods.to_owned(),
        reason,
    })?;
    found
        .iter()
        .find_map(|device| identifier(device, ASID_SYSTEM))
        .map(str::to_owned)
        .ok_or_else(|| SdsMiss::NoAsid(ods.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queries_ask_by_ods_code_interaction_and_party_key() {
        let endpoint = endpoint_query("https://sds.example/FHIR/R4", "A12345", crate::fhir::INTERACTION_ID);
        assert!(
            endpoint.starts_with("https://sds.example/FHIR/R4/Endpoint?organization="),
            "{endpoint}"
        );
        assert!(endpoint.contains("ods-organization-code%7CA12345"), "{endpoint}");
        assert!(
            endpoint.contains("nhsServiceInteractionId%7Curn:nhs:names:services:gpconnect:fhir:rest:search:slot-1")
        );
        let device = device_query(
            "https://sds.example/FHIR/R4",
            "A12345",
            crate::fhir::INTERACTION_ID,
            "A12345-0823456",
        );
        assert!(
            device.contains("/Device?") && device.contains("nhsMhsPartyKey%7CA12345-0823456"),
            "{device}"
        );
    }

    #[test]
    fn answers_are_read_or_their_absence_named() {
        let endpoint = r#"{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Endpoint",
            "address":"https://provider.example/A12345/STU3/1/gpconnect/fhir",
            "identifier":[{"system":"https://fhir.nhs.uk/Id/nhsMhsPartyKey","value":"A12345-0823456"}]}}]}"#;
        assert_eq!(
            read_endpoint("A12345", endpoint),
            Ok((
                "https://provider.example/A12345/STU3/1/gpconnect/fhir".to_owned(),
                "A12345-0823456".to_owned()
            ))
        );
        let empty = r#"{"resourceType":"Bundle","type":"searchset","entry":[]}"#;
        assert_eq!(
            read_endpoint("A12345", empty),
            Err(SdsMiss::NoEndpoint("A12345".into()))
        );
        assert_eq!(read_asid("A12345", empty), Err(SdsMiss::NoAsid("A12345".into())));
        let device = r#"{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Device",
            "identifier":[{"system":"https://fhir.nhs.uk/Id/nhsSpineASID","value":"918999198993"}]}}]}"#;
        assert_eq!(read_asid("A12345", device), Ok("918999198993".to_owned()));
        assert!(matches!(read_endpoint("A12345", "<html>"), Err(SdsMiss::Failed { .. })));
        assert_eq!(SdsMiss::NoAsid("A".into()).code(), "NO_ASID_IN_SDS");
    }
}
