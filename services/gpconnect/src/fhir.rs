//! The small part of FHIR STU3 that free-slot search uses, with GP Connect's system URLs.
//!
//! Unknown fields are ignored when reading and resources of other types are kept as
//! [`Resource::Other`], so a provider's extra content never breaks parsing.

use serde::{Deserialize, Serialize};

/// `Ssp-InteractionID` for Search for free slots.
pub const INTERACTION_ID: &str = "urn:nhs:names:services:gpconnect:fhir:rest:search:slot-1";
/// `Ssp-InteractionID` for the provider's CapabilityStatement (`GET [base]/metadata`).
pub const METADATA_INTERACTION_ID: &str = "urn:nhs:names:services:gpconnect:fhir:rest:read:metadata-1";
/// FHIR JSON media type.
pub const FHIR_JSON: &str = "application/fhir+json";
/// ODS organisation code identifier system.
pub const ODS_ORGANIZATION_CODE: &str = "https://fhir.nhs.uk/Id/ods-organization-code";
/// GP Connect organisation type code system (searchFilter).
pub const ORGANISATION_TYPE_SYSTEM: &str = "https://fhir.nhs.uk/STU3/CodeSystem/GPConnect-OrganisationType-1";
/// The organisation type NHS 111 uses.
pub const URGENT_CARE: &str = "urgent-care";
/// SDS user id identifier system.
pub const SDS_USER_ID: &str = "https://fhir.nhs.uk/Id/sds-user-id";
/// SDS role profile id identifier system.
pub const SDS_ROLE_PROFILE_ID: &str = "https://fhir.nhs.uk/Id/sds-role-profile-id";
/// Spine error code system as the spec's examples write it.
pub const SPINE_ERROR_VALUESET: &str = "https://fhir.nhs.uk/STU3/ValueSet/Spine-ErrorOrWarningCode-1";
/// Spine error code system as the CodeSystem itself is named.
pub const SPINE_ERROR_CODESYSTEM: &str = "https://fhir.nhs.uk/STU3/CodeSystem/Spine-ErrorOrWarningCode-1";
/// The Spine Secure Proxy's refusals (`ASID_CHECK_FAILED_…`, `FOT_CHECK_FAILED_…`), as the
/// specification's error handling guidance gives them.
pub const SSP_RESPONSE_CODE_SYSTEM: &str = "http://fhir.nhs.net/ValueSet/gpconnect-schedule-response-code-1-0";
/// Spine's own OperationOutcome coding (`405: Method Not Allowed`).
pub const SPINE_OPERATION_OUTCOME_SYSTEM: &str = "https://fhir.nhs.uk/StructureDefinition/spine-operationoutcome-1";
/// Slot delivery channel extension.
pub const DELIVERY_CHANNEL_EXTENSION: &str =
    "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-DeliveryChannel-2";
/// Schedule practitioner role extension.
pub const PRACTITIONER_ROLE_EXTENSION: &str =
    "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-PractitionerRole-1";
/// SDS job role name code system (practitioner role values).
pub const SDS_JOB_ROLE_NAME: &str = "https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-SDSJobRoleName-1";
/// Slot profile.
pub const SLOT_PROFILE: &str = "https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-Slot-1";
/// Schedule profile.
pub const SCHEDULE_PROFILE: &str = "https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-Schedule-1";
/// Location profile.
pub const LOCATION_PROFILE: &str = "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Location-1";
/// Practitioner profile.
pub const PRACTITIONER_PROFILE: &str = "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Practitioner-1";
/// Organization profile.
pub const ORGANIZATION_PROFILE: &str = "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Organization-1";
/// OperationOutcome profile.
pub const OPERATION_OUTCOME_PROFILE: &str = "https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-OperationOutcome-1";

/// `meta`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    /// `meta.lastUpdated`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<String>,
    /// `meta.profile`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profile: Vec<String>,
}

impl Meta {
    /// A `meta` naming one profile.
    pub fn profile(url: &str) -> Option<Self> {
        Some(Self {
            last_updated: None,
            profile: vec![url.to_owned()],
        })
    }
}

/// `Coding`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Coding {
    /// Code system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// Code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Display text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

/// `CodeableConcept`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CodeableConcept {
    /// Codings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub coding: Vec<Coding>,
    /// Text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// `Reference`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Reference {
    /// Literal reference such as `Location/1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

impl Reference {
    /// A reference to `{kind}/{id}`.
    pub fn to(kind: &str, id: &str) -> Self {
        Self {
            reference: Some(format!("{kind}/{id}")),
        }
    }

    /// The id this reference points at when it refers to a resource of type `kind`
    /// (`Location/1`, `https://host/fhir/Location/1` and `Location/1/_history/2` all give `1`).
    pub fn id_of(&self, kind: &str) -> Option<&str> {
        let reference = self.reference.as_deref()?;
        let mut parts = reference.split('/');
        while let Some(part) = parts.next() {
            if part == kind {
                return parts.next().filter(|id| !id.is_empty());
            }
        }
        None
    }
}

/// `Identifier`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Identifier {
    /// System.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// Value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

impl Identifier {
    /// An identifier with both parts.
    pub fn new(system: &str, value: &str) -> Self {
        Self {
            system: Some(system.to_owned()),
            value: Some(value.to_owned()),
        }
    }
}

/// `HumanName`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct HumanName {
    /// Use, e.g. `usual`.
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    pub name_use: Option<String>,
    /// Family name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    /// Given names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub given: Vec<String>,
    /// Prefixes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prefix: Vec<String>,
}

/// `Period`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Period {
    /// Start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// End.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
}

/// `Extension` (only the value types GP Connect slot search uses).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Extension {
    /// Extension URL.
    pub url: String,
    /// `valueCode`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_code: Option<String>,
    /// `valueCodeableConcept`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_codeable_concept: Option<CodeableConcept>,
}

/// `Slot`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Slot {
    /// Logical id.
    #[serde(default)]
    pub id: String,
    /// Meta.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Extensions (delivery channel).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension>,
    /// Slot type as the practice names it, in `text`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service_type: Vec<CodeableConcept>,
    /// The Schedule.
    #[serde(default)]
    pub schedule: Reference,
    /// `free`, `busy`, ...
    #[serde(default)]
    pub status: String,
    /// Start instant, UK local time with offset.
    #[serde(default)]
    pub start: String,
    /// End instant, UK local time with offset.
    #[serde(default)]
    pub end: String,
}

/// `Schedule`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Schedule {
    /// Logical id.
    #[serde(default)]
    pub id: String,
    /// Meta.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Extensions (practitioner role).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension>,
    /// Schedule type (session or rota name) in `text`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_category: Option<CodeableConcept>,
    /// Location and Practitioner actors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actor: Vec<Reference>,
    /// Planning horizon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planning_horizon: Option<Period>,
}

impl Schedule {
    /// The id of the Location actor, if any.
    pub fn location_id(&self) -> Option<&str> {
        self.actor.iter().find_map(|a| a.id_of("Location"))
    }
}

/// `Location`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    /// Logical id.
    #[serde(default)]
    pub id: String,
    /// Meta.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Name of the surgery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The practice Organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managing_organization: Option<Reference>,
}

/// `Practitioner`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Practitioner {
    /// Logical id.
    #[serde(default)]
    pub id: String,
    /// Meta.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Identifiers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identifier: Vec<Identifier>,
    /// Names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub name: Vec<HumanName>,
}

/// `Organization`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Organization {
    /// Logical id.
    #[serde(default)]
    pub id: String,
    /// Meta.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Identifiers (ODS code).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identifier: Vec<Identifier>,
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// One `OperationOutcome.issue`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Issue {
    /// `error`, `warning`, ...
    #[serde(default)]
    pub severity: String,
    /// Issue type, e.g. `invalid`.
    #[serde(default)]
    pub code: String,
    /// Spine error code in `coding`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<CodeableConcept>,
    /// Free-text diagnostics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnostics: Option<String>,
}

/// `OperationOutcome`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationOutcome {
    /// Logical id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Meta.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Issues.
    #[serde(default)]
    pub issue: Vec<Issue>,
}

impl OperationOutcome {
    /// A GP Connect OperationOutcome with one error issue.
    pub fn error(issue_type: &str, spine_code: &str, display: &str, diagnostics: &str) -> Self {
        Self {
            id: None,
            meta: Meta::profile(OPERATION_OUTCOME_PROFILE),
            issue: vec![Issue {
                severity: "error".to_owned(),
                code: issue_type.to_owned(),
                details: Some(CodeableConcept {
                    coding: vec![Coding {
                        system: Some(SPINE_ERROR_VALUESET.to_owned()),
                        code: Some(spine_code.to_owned()),
                        display: Some(display.to_owned()),
                    }],
                    text: None,
                }),
                diagnostics: Some(diagnostics.to_owned()),
            }],
        }
    }

    fn codings(&self) -> impl Iterator<Item = &Coding> {
        self.issue
            .iter()
            .filter_map(|i| i.details.as_ref())
            .flat_map(|d| d.coding.iter())
    }

    /// Whether any issue is an error (`error` or `fatal`): `information` and `warning` issues
    /// inside a searchset are notes beside the answer, not a failure.
    pub fn is_error(&self) -> bool {
        self.issue
            .iter()
            .any(|issue| matches!(issue.severity.as_str(), "error" | "fatal") || issue.severity.is_empty())
    }

    /// The code of the refusal, from Spine or the Spine Secure Proxy: the Spine error code
    /// ([`OperationOutcome::spine_code`]), else the proxy's refusal named by its display with
    /// every ASID, party key and address taken out (`ASID_CHECK_FAILED_MESSAGESENDER`,
    /// `FOT_CHECK_FAILED_MESSAGESENDER_MESSAGERECEIVER`, `METHOD_NOT_ALLOWED`): a code every
    /// party may see.
    pub fn refusal_code(&self) -> Option<String> {
        if let Some(code) = self.spine_code() {
            return Some(code.to_owned());
        }
        self.codings()
            .filter(|c| {
                matches!(
                    c.system.as_deref(),
                    Some(SSP_RESPONSE_CODE_SYSTEM) | Some(SPINE_OPERATION_OUTCOME_SYSTEM)
                )
            })
            .find_map(|c| c.display.as_deref().and_then(ssp_code))
    }

    /// The Spine error code (either system URL is accepted; a coding without a system is
    /// used only when no Spine coding is present). Only a code shaped like one (`A_CODE`, up to
    /// 40 capitals, digits and underscores) is taken: it is shown to every party, so free text
    /// from the practice's system must not pass as a code.
    pub fn spine_code(&self) -> Option<&str> {
        let shaped = |code: &&str| {
            (1..=40).contains(&code.len())
                && code
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        };
        let spine = self.codings().find(|c| {
            matches!(
                c.system.as_deref(),
                Some(SPINE_ERROR_VALUESET) | Some(SPINE_ERROR_CODESYSTEM)
            )
        });
        spine
            .or_else(|| self.codings().find(|c| c.system.is_none() && c.code.is_some()))
            .and_then(|c| c.code.as_deref())
            .filter(shaped)
    }

    /// A human-readable summary: diagnostics, else display, else the issue type.
    pub fn summary(&self) -> String {
        let parts: Vec<String> = self
            .issue
            .iter()
            .map(|i| {
                i.diagnostics
                    .clone()
                    .or_else(|| {
                        i.details
                            .as_ref()
                            .and_then(|d| d.coding.iter().find_map(|c| c.display.clone()))
                    })
                    .or_else(|| i.details.as_ref().and_then(|d| d.text.clone()))
                    .unwrap_or_else(|| i.code.clone())
            })
            .collect();
        parts.join("; ")
    }
}

/// A Spine Secure Proxy refusal's display as a code: its words in capitals, without the HTTP
/// status, ASIDs, party keys or addresses (`ASID_CHECK_FAILED_MESSAGESENDER_100000000001` gives
/// `ASID_CHECK_FAILED_MESSAGESENDER`; `405: Method Not Allowed` gives `METHOD_NOT_ALLOWED`).
pub fn ssp_code(display: &str) -> Option<String> {
    let code = display_words(display)?;
    // Only the proxy's own refusals, as the specification lists them: a provider could send this
    // system with any text, and a code is shown to every party.
    SSP_CODES.contains(&code.as_str()).then_some(code)
}

/// The Spine Secure Proxy's refusals, as the specification's error handling guidance gives them
/// (their displays' words; ASIDs, party keys and addresses taken out).
pub const SSP_CODES: [&str; 7] = [
    "ASID_CHECK_FAILED_MESSAGESENDER",
    "PARTYKEY_INTERACTION_CHECK_FAILED_MESSAGERECEIVER",
    "FOT_CHECK_FAILED_MESSAGESENDER_MESSAGERECEIVER",
    "ENDPOINT_CPAID_VARIES_FROM_TARGETURL",
    "METHOD_NOT_ALLOWED",
    "UNSUPPORTED_MEDIA_TYPE",
    "ERROR_COMMUNICATING_TO_ENDPOINT_URL",
];

fn display_words(display: &str) -> Option<String> {
    let words: Vec<String> = display
        .split(['_', ' ', ':'])
        .filter(|word| !word.is_empty() && word.chars().all(|c| c.is_ascii_alphabetic()))
        .filter(|word| !word.eq_ignore_ascii_case("http") && !word.eq_ignore_ascii_case("https"))
        .map(str::to_ascii_uppercase)
        .collect();
    let code = words.join("_");
    (!code.is_empty() && code.len() <= 80).then_some(code)
}

/// The provider's CapabilityStatement, as far as a consumer reads it before searching: which
/// system answers, and whether it offers free-slot search.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CapabilityStatement {
    /// Always `CapabilityStatement`.
    #[serde(default)]
    pub resource_type: String,
    /// The provider system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software: Option<Software>,
    /// What it offers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rest: Vec<Rest>,
}

/// `CapabilityStatement.software`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Software {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// `CapabilityStatement.rest`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Rest {
    /// Resource types offered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource: Vec<RestResource>,
}

/// `CapabilityStatement.rest.resource`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestResource {
    /// Resource type, e.g. `Slot`.
    #[serde(rename = "type", default)]
    pub resource_type: String,
    /// Interactions, e.g. `search-type`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub interaction: Vec<Interaction>,
}

/// `CapabilityStatement.rest.resource.interaction`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Interaction {
    /// The interaction's code.
    #[serde(default)]
    pub code: String,
}

impl CapabilityStatement {
    /// Whether it offers `GET [base]/Slot?…` (a `Slot` resource with `search-type`).
    pub fn offers_slot_search(&self) -> bool {
        self.rest.iter().flat_map(|rest| &rest.resource).any(|resource| {
            resource.resource_type == "Slot" && resource.interaction.iter().any(|i| i.code == "search-type")
        })
    }

    /// "EMIS Web 9.2", as a person names the system.
    pub fn system(&self) -> Option<String> {
        let software = self.software.as_ref()?;
        let name = software.name.trim();
        if name.is_empty() {
            return None;
        }
        Some(
            match software.version.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                Some(version) => format!("{name} {version}"),
                None => name.to_owned(),
            },
        )
    }
}

/// Any resource in a Bundle entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "resourceType")]
pub enum Resource {
    /// Slot.
    Slot(Slot),
    /// Schedule.
    Schedule(Schedule),
    /// Location.
    Location(Location),
    /// Practitioner.
    Practitioner(Practitioner),
    /// Organization.
    Organization(Organization),
    /// OperationOutcome.
    OperationOutcome(OperationOutcome),
    /// Any other resource type (ignored).
    #[serde(other)]
    Other,
}

/// One Bundle entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BundleEntry {
    /// Absolute URL of the resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_url: Option<String>,
    /// The resource.
    pub resource: Resource,
}

/// A Bundle (searchset for slot search).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bundle {
    /// Always `Bundle`.
    pub resource_type: String,
    /// Logical id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Meta.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Bundle type, `searchset`.
    #[serde(rename = "type")]
    pub bundle_type: String,
    /// Entries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entry: Vec<BundleEntry>,
}

impl Bundle {
    /// An empty searchset.
    pub fn searchset() -> Self {
        Self {
            resource_type: "Bundle".to_owned(),
            id: None,
            meta: None,
            bundle_type: "searchset".to_owned(),
            entry: Vec::new(),
        }
    }

    /// The resources, in order.
    pub fn resources(&self) -> impl Iterator<Item = &Resource> {
        self.entry.iter().map(|e| &e.resource)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_ids() {
        assert_eq!(Reference::to("Location", "1").id_of("Location"), Some("1"));
        let abs = Reference {
            reference: Some("https://x/fhir/Location/abc/_history/2".into()),
        };
        assert_eq!(abs.id_of("Location"), Some("abc"));
        assert_eq!(abs.id_of("Practitioner"), None);
        assert_eq!(
            Reference {
                reference: Some("Location/".into())
            }
            .id_of("Location"),
            None
        );
    }

    #[test]
    fn spine_code_accepts_both_systems() {
        let oo = OperationOutcome::error("invalid", "INVALID_PARAMETER", "Invalid parameter", "too long");
        assert_eq!(oo.spine_code(), Some("INVALID_PARAMETER"));
        assert_eq!(oo.summary(), "too long");
        let json = r#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"forbidden",
            "details":{"coding":[{"system":"urn:other","code":"X"},
            {"system":"https://fhir.nhs.uk/STU3/CodeSystem/Spine-ErrorOrWarningCode-1","code":"NO_RELATIONSHIP","display":"No relationship"}]}}]}"#;
        let Resource::OperationOutcome(oo) = serde_json::from_str::<Resource>(json).unwrap() else {
            panic!("not an OperationOutcome")
        };
        assert_eq!(oo.spine_code(), Some("NO_RELATIONSHIP"));
        assert_eq!(oo.summary(), "No relationship");
    }

    #[test]
    fn free_text_never_passes_as_a_spine_code() {
        for coding in [
            r#"{"system":"urn:other","code":"Ring Dr Jones on 07700 900123"}"#,
            r#"{"code":"Ring Dr Jones on 07700 900123"}"#,
            r#"{"system":"https://fhir.nhs.uk/STU3/CodeSystem/Spine-ErrorOrWarningCode-1","code":"call me"}"#,
        ] {
            let json = format!(
                r#"{{"resourceType":"OperationOutcome","issue":[{{"severity":"error","code":"processing",
                    "details":{{"coding":[{coding}]}}}}]}}"#
            );
            let Resource::OperationOutcome(oo) = serde_json::from_str::<Resource>(&json).unwrap() else {
                panic!("not an OperationOutcome")
            };
            assert_eq!(oo.spine_code(), None, "{coding}");
        }
    }

    #[test]
    fn bundle_round_trip_and_unknown_resources() {
        let json = r#"{"resourceType":"Bundle","type":"searchset","entry":[
            {"fullUrl":"https://x/Slot/1","resource":{"resourceType":"Slot","id":"1","status":"free",
              "start":"2025-01-06T09:00:00+00:00","end":"2025-01-06T09:15:00+00:00","schedule":{"reference":"Schedule/9"},
              "identifier":[{"value":"ignored"}]}},
            {"resource":{"resourceType":"HealthcareService","id":"h"}}]}"#;
        let bundle: Bundle = serde_json::from_str(json).unwrap();
        assert_eq!(bundle.entry.len(), 2);
        assert!(matches!(&bundle.entry[0].resource, Resource::Slot(s) if s.schedule.id_of("Schedule") == Some("9")));
        assert_eq!(bundle.entry[1].resource, Resource::Other);
        let mut only_slot = Bundle::searchset();
        only_slot.entry.push(bundle.entry[0].clone());
        let again: Bundle = serde_json::from_str(&serde_json::to_string(&only_slot).unwrap()).unwrap();
        assert_eq!(again.entry[0], bundle.entry[0]);
    }
}
