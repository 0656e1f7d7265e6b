//! Who a person signed in with NHS CIS2 is to CaseLedger, from the claims CIS2 sends: the ID
//! token's `selected_roleid` (the role the person chose at sign-in, under the `selectedrole`
//! scope), matched to one of the userinfo's `nhsid_nrbac_roles` (`person_roleid`, `org_code`,
//! `role_code` shaped `S…:G…:R…`, `activity_codes`; scope `nationalrbacaccess`), the organisation's
//! name from `nhsid_user_orgs` (scope `associatedorgs`), and the identity assurance level,
//! `id_assurance_level` in the ID token or `idassurancelevel` in userinfo (scope `nhsperson`),
//! `"0"`–`"3"` (a string; some issuers send a number), and the ID token's
//! `authentication_assurance_level` when it carries one (the lower of the two stands). A deployment maps selected roles to
//! CaseLedger roles by its own rules; a role no rule grants gets no access, never a default.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::extract::{ImportError, Sheet};
use crate::role::Role;

/// One of the person's national RBAC roles.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NrbacRole {
    pub person_roleid: String,
    #[serde(default)]
    pub person_orgid: Option<String>,
    pub org_code: String,
    /// `S8000:G8000:R8001`: the job role code (its `R…` part is the role).
    pub role_code: String,
    #[serde(default)]
    pub role_name: Option<String>,
    #[serde(default)]
    pub activity_codes: Vec<String>,
    #[serde(default)]
    pub workgroups_codes: Vec<String>,
}

impl NrbacRole {
    /// The `R…` part of the role code (`R8001` of `S8000:G8000:R8001`).
    pub fn job_role(&self) -> &str {
        self.role_code.rsplit(':').next().unwrap_or(&self.role_code)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
struct UserOrg {
    org_code: String,
    org_name: String,
}

/// One rule: the CaseLedger role granted to a selected role that matches every condition given
/// (organisation codes, job role codes, activity codes; each a list, any of which matches).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cis2Rule {
    pub role: Role,
    pub org_codes: Vec<String>,
    /// A whole code (`S8000:G8000:R8001`) or its job role (`R8001`).
    pub role_codes: Vec<String>,
    pub activity_codes: Vec<String>,
}

impl Cis2Rule {
    fn matches(&self, role: &NrbacRole) -> bool {
        let any =
            |wanted: &[String], found: &dyn Fn(&str) -> bool| wanted.is_empty() || wanted.iter().any(|w| found(w));
        any(&self.org_codes, &|code| code.eq_ignore_ascii_case(&role.org_code))
            && any(&self.role_codes, &|code| {
                code.eq_ignore_ascii_case(&role.role_code) || code.eq_ignore_ascii_case(role.job_role())
            })
            && any(&self.activity_codes, &|code| {
                role.activity_codes.iter().any(|have| have.eq_ignore_ascii_case(code))
            })
    }
}

/// The deployment's rules, in order (the first that matches grants its role), and the lowest
/// identity assurance level it accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cis2Rules {
    pub rules: Vec<Cis2Rule>,
    pub min_assurance: u8,
}

/// The highest identity assurance level CIS2 issues.
pub const MAX_ASSURANCE: u8 = 3;

impl Cis2Rules {
    /// From a CSV of `caseledger_role, org_code, role_code, activity_code` (a header row, then one
    /// rule a row; several codes in a cell separated by spaces; an empty cell matches any). A rule
    /// must name at least one condition: one that would grant everyone is refused.
    pub fn parse(csv: &str, min_assurance: u8) -> Result<Self, Vec<ImportError>> {
        if min_assurance > MAX_ASSURANCE {
            return Err(vec![ImportError::new(
                0,
                None,
                format!("an assurance level is 0 to {MAX_ASSURANCE}, not {min_assurance}"),
            )]);
        }
        let sheet = Sheet::read(
            csv,
            &["caseledger_role", "org_code", "role_code", "activity_code"],
            1_000,
        )?;
        let mut errors = sheet.unreadable.clone();
        let mut rules = Vec::new();
        for record in sheet.records() {
            let codes =
                |column: &str| -> Vec<String> { record.field(column).split_whitespace().map(str::to_string).collect() };
            let Some(role) = Role::parse(record.field("caseledger_role")) else {
                errors.push(ImportError::new(
                    record.line,
                    Some("caseledger_role"),
                    format!(
                        "{:?} is not a CaseLedger role (icb, lmc, dhu, champion, admin, practice, pcn_clinical_director)",
                        record.field("caseledger_role")
                    ),
                ));
                continue;
            };
            let rule = Cis2Rule {
                role,
                org_codes: codes("org_code"),
                role_codes: codes("role_code"),
                activity_codes: codes("activity_code"),
            };
            if rule.org_codes.is_empty() && rule.role_codes.is_empty() && rule.activity_codes.is_empty() {
                errors.push(ImportError::new(
                    record.line,
                    None,
                    "a rule must name an organisation, a role or an activity: this one would grant everyone",
                ));
                continue;
            }
            rules.push(rule);
        }
        match (errors.is_empty(), rules.is_empty()) {
            (true, false) => Ok(Self { rules, min_assurance }),
            (true, true) => Err(vec![ImportError::new(2, None, "no rules: nobody could sign in")]),
            (false, _) => Err(errors),
        }
    }

    /// Who the person is to CaseLedger, from the verified ID token's claims and the userinfo.
    pub fn decide(
        &self,
        id_token: &Map<String, Value>,
        userinfo: &Map<String, Value>,
    ) -> Result<Cis2Person, Cis2Refusal> {
        // The signed ID token's levels when it carries them (a claim it carries but that does not
        // read as a level counts as 0: no falling back past it); userinfo's only when it has
        // none. The authentication level, when given, counts too: the lower of the two stands.
        let level = |claims: &Map<String, Value>, name: &str| claims.get(name).map(|v| assurance(Some(v)).unwrap_or(0));
        let identity = level(id_token, "id_assurance_level")
            .or_else(|| level(userinfo, "idassurancelevel"))
            .unwrap_or(0);
        let assurance = match level(id_token, "authentication_assurance_level") {
            Some(authentication) => identity.min(authentication),
            None => identity,
        };
        if assurance < self.min_assurance {
            return Err(Cis2Refusal::AssuranceTooLow {
                have: assurance,
                need: self.min_assurance,
            });
        }
        // Only the signed ID token says which role was selected.
        let selected = id_token
            .get("selected_roleid")
            .and_then(text)
            .ok_or(Cis2Refusal::NoSelectedRole)?;
        let roles: Vec<NrbacRole> = userinfo
            .get("nhsid_nrbac_roles")
            .and_then(|roles| roles.as_array())
            .map(|roles| {
                roles
                    .iter()
                    .filter_map(|role| serde_json::from_value(role.clone()).ok())
                    .collect()
            })
            .unwrap_or_default();
        let chosen = roles
            .into_iter()
            .find(|role| role.person_roleid == selected)
            .ok_or(Cis2Refusal::SelectedRoleUnknown)?;
        let Some(rule) = self.rules.iter().find(|rule| rule.matches(&chosen)) else {
            return Err(Cis2Refusal::NoAccess {
                role_name: chosen.role_name.clone().unwrap_or_else(|| chosen.role_code.clone()),
                org_code: chosen.org_code.clone(),
            });
        };
        let org_name = userinfo
            .get("nhsid_user_orgs")
            .and_then(|orgs| serde_json::from_value::<Vec<UserOrg>>(orgs.clone()).ok())
            .and_then(|orgs| orgs.into_iter().find(|org| org.org_code == chosen.org_code))
            .map(|org| org.org_name);
        // A practice role works for the selected role's organisation (a practice), a PCN's
        // clinical director for theirs (a PCN's `U…` code): any other organisation gives no access.
        let scope = crate::role::Scope::for_role(rule.role, &chosen.org_code).map_err(|_| {
            Cis2Refusal::OrganisationDoesNotFit {
                role: rule.role,
                org_code: chosen.org_code.clone(),
            }
        })?;
        Ok(Cis2Person {
            role: rule.role,
            scope,
            org_code: chosen.org_code.clone(),
            org_name,
            job_role: chosen,
            assurance,
        })
    }
}

/// A claim's text: a string, or a number written out (IDs are strings, but not every issuer
/// says so).
fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) if !text.is_empty() => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// An assurance level: `"3"` or `3`.
fn assurance(value: Option<&Value>) -> Option<u8> {
    value
        .and_then(text)
        .and_then(|level| level.trim().parse::<u8>().ok())
        .filter(|level| *level <= MAX_ASSURANCE)
}

/// Whom CIS2 signed in, as CaseLedger knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cis2Person {
    pub role: Role,
    /// The practice or PCN a scoped role works for: the selected role's organisation.
    pub scope: Option<crate::role::Scope>,
    /// The selected role's organisation, and its name when userinfo gives it.
    pub org_code: String,
    pub org_name: Option<String>,
    pub job_role: NrbacRole,
    pub assurance: u8,
}

/// Why a CIS2 sign-in gives no access.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Cis2Refusal {
    #[error("identity assurance level {have} is below the {need} this service needs")]
    AssuranceTooLow { have: u8, need: u8 },
    #[error("no role was selected at sign-in (selected_roleid)")]
    NoSelectedRole,
    #[error("the selected role is not among the person's national RBAC roles")]
    SelectedRoleUnknown,
    #[error("the role {role_name} at {org_code} has no access to CaseLedger")]
    NoAccess { role_name: String, org_code: String },
    #[error("the {role} role works for one practice or PCN, and {org_code} is not one")]
    OrganisationDoesNotFit { role: Role, org_code: String },
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde_json::json;

    const RULES: &str = "caseledger_role,org_code,role_code,activity_code\n\
                         icb,QWU,,\n\
                         champion,,R8008,B0145\n\
                         lmc,X09,S0080:G0450:R5080,\n";

    /// The shape of a real CIS2 userinfo (NHSDigital/identity-service-api's e2e response bank).
    fn userinfo() -> Map<String, Value> {
        json!({
            "sub": "656005750104",
            "nhsid_useruid": "656005750104",
            "idassurancelevel": "3",
            "nhsid_nrbac_roles": [
                { "person_orgid": "656008045105", "person_roleid": "656014452101", "org_code": "Y51",
                  "role_name": "\"Support\":\"Support\":\"Admin/Clinical Support Access Role\"",
                  "role_code": "S8001:G8002:R8008", "activities": ["Run PbR Commissioning Extracts"],
                  "activity_codes": ["B0145", "B8002", "B1560"] },
                { "person_orgid": "656005753107", "person_roleid": "656005754108", "org_code": "X09",
                  "role_name": "\"Admin & Clerical\":\"Management - A & C\":\"Registration Authority Manager\"",
                  "role_code": "S0080:G0450:R5080", "activity_codes": ["B0015"],
                  "workgroups_codes": ["655694018104"] },
                { "person_orgid": "1", "person_roleid": "093895563513", "org_code": "RBA",
                  "role_code": "S8000:G8000:R8003" }
            ],
            "nhsid_user_orgs": [
                { "org_name": "THE NORTH MIDLANDS AND EAST PROGRAMME FOR IT (NMEPFIT)", "org_code": "Y51" },
                { "org_name": "NHS CONNECTING FOR HEALTH", "org_code": "X09" }
            ]
        })
        .as_object()
        .unwrap()
        .clone()
    }

    fn id_token(selected: &str, assurance: Value) -> Map<String, Value> {
        json!({ "sub": "656005750104", "selected_roleid": selected, "id_assurance_level": assurance, "acr": "AAL3_ANY" })
            .as_object()
            .unwrap()
            .clone()
    }

    #[test]
    fn the_selected_role_decides_not_the_persons_other_roles() {
        let rules = Cis2Rules::parse(RULES, 3).unwrap();
        let support = rules
            .decide(&id_token("656014452101", json!("3")), &userinfo())
            .unwrap();
        assert_eq!(support.role, Role::Champion);
        assert_eq!(support.org_code, "Y51");
        assert_eq!(
            support.org_name.as_deref(),
            Some("THE NORTH MIDLANDS AND EAST PROGRAMME FOR IT (NMEPFIT)")
        );
        let manager = rules.decide(&id_token("656005754108", json!(3)), &userinfo()).unwrap();
        assert_eq!((manager.role, manager.org_code.as_str()), (Role::Lmc, "X09"));
        // An ID with a leading zero stays a string.
        assert_eq!(
            rules.decide(&id_token("093895563513", json!("3")), &userinfo()),
            Err(Cis2Refusal::NoAccess {
                role_name: "S8000:G8000:R8003".into(),
                org_code: "RBA".into()
            })
        );
    }

    #[test]
    fn no_rule_no_selection_or_too_little_assurance_is_no_access() {
        let rules = Cis2Rules::parse(RULES, 3).unwrap();
        assert_eq!(
            rules.decide(&id_token("656014452101", json!("2")), &userinfo()),
            Err(Cis2Refusal::AssuranceTooLow { have: 2, need: 3 })
        );
        let mut info = userinfo();
        info.insert("idassurancelevel".into(), json!("3"));
        let mut token = id_token("656014452101", json!("3"));
        token.remove("id_assurance_level");
        assert!(
            rules.decide(&token, &info).is_ok(),
            "userinfo's idassurancelevel when the token has none"
        );
        // A level the token carries but that reads as none is not passed over for userinfo's.
        let mut odd = token.clone();
        odd.insert("id_assurance_level".into(), json!("3.0"));
        assert_eq!(
            rules.decide(&odd, &info),
            Err(Cis2Refusal::AssuranceTooLow { have: 0, need: 3 })
        );
        // A weaker sign-in than the identity's level: the lower stands.
        let mut weak = id_token("656014452101", json!("3"));
        weak.insert("authentication_assurance_level".into(), json!("2"));
        assert_eq!(
            rules.decide(&weak, &userinfo()),
            Err(Cis2Refusal::AssuranceTooLow { have: 2, need: 3 })
        );
        // The selected role comes from the signed ID token only, never from userinfo.
        token.remove("selected_roleid");
        info.insert("selected_roleid".into(), json!("656014452101"));
        assert_eq!(rules.decide(&token, &info), Err(Cis2Refusal::NoSelectedRole));
        assert_eq!(
            rules.decide(&id_token("999", json!("3")), &userinfo()),
            Err(Cis2Refusal::SelectedRoleUnknown)
        );
        // A level-2 deployment takes the same person at level 2.
        let lower = Cis2Rules::parse(RULES, 2).unwrap();
        assert!(lower.decide(&id_token("656014452101", json!("2")), &userinfo()).is_ok());
    }

    #[test]
    fn a_practice_or_pcn_role_works_for_the_selected_roles_organisation_only() {
        let rules = Cis2Rules::parse(
            "caseledger_role,org_code,role_code,activity_code\n\
             practice,,R8000,\n\
             pcn_clinical_director,,R8013,\n",
            3,
        )
        .unwrap();
        let info = json!({
            "nhsid_nrbac_roles": [
                { "person_roleid": "1", "org_code": "C82001", "role_code": "S8000:G8000:R8000" },
                { "person_roleid": "2", "org_code": "U10001", "role_code": "S8000:G8000:R8013" },
                { "person_roleid": "3", "org_code": "X09", "role_code": "S8000:G8000:R8000" },
                { "person_roleid": "4", "org_code": "C82001", "role_code": "S8000:G8000:R8013" }
            ]
        })
        .as_object()
        .unwrap()
        .clone();
        let manager = rules.decide(&id_token("1", json!("3")), &info).unwrap();
        assert_eq!(
            manager.scope,
            Some(crate::role::Scope::Practice(
                crate::values::OdsCode::parse("C82001").unwrap()
            ))
        );
        let director = rules.decide(&id_token("2", json!("3")), &info).unwrap();
        assert_eq!(
            director.scope,
            Some(crate::role::Scope::Pcn(
                crate::values::PcnCode::parse("U10001").unwrap()
            ))
        );
        // A practice role at an organisation that is not a practice, or a PCN role at a practice.
        for (selected, role) in [("3", Role::Practice), ("4", Role::PcnClinicalDirector)] {
            assert!(
                matches!(
                    rules.decide(&id_token(selected, json!("3")), &info),
                    Err(Cis2Refusal::OrganisationDoesNotFit { role: refused, .. }) if refused == role
                ),
                "{selected}"
            );
        }
    }

    #[test]
    fn rules_that_would_grant_everyone_or_name_no_role_are_refused() {
        let errors = Cis2Rules::parse("caseledger_role,org_code,role_code,activity_code\nicb,,,\n", 3).unwrap_err();
        assert!(errors[0].message.contains("everyone"));
        let errors = Cis2Rules::parse("caseledger_role,org_code,role_code,activity_code\nboss,QWU,,\n", 3).unwrap_err();
        assert_eq!(errors[0].column.as_deref(), Some("caseledger_role"));
        assert!(Cis2Rules::parse("caseledger_role,org_code,role_code,activity_code\n", 3).is_err());
        assert!(Cis2Rules::parse(RULES, 4).is_err());
    }
}
