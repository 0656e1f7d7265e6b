//! Wire protocol: headers and JWT as received, the fake's 400/422 errors, mutual TLS, retries.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use caseledger_gpconnect::request::{self, AuditClaims, SearchWindow, SlotSearchRequest, decode_jwt, unsigned_jwt};
use caseledger_gpconnect::transport::{self, HttpClient};
use caseledger_gpconnect::{GpConnectConfig, HttpSettings, PracticeTarget, Verdict};
use common::*;
use serde_json::{Value, json};

const ODS: &str = "C11111";

fn target() -> PracticeTarget {
    PracticeTarget {
        ods_code: ODS.into(),
        required_per_day: 2,
        main_site_name: None,
        single_site: false,
    }
}

fn healthy() -> Value {
    scenario(vec![practice(
        ODS,
        json!({"generate": [generate("main-am", "2025-03-03", "2025-03-14", 2, json!({}))]}),
    )])
}

fn week() -> SearchWindow {
    SearchWindow {
        start: d(2025, 3, 3),
        end: d(2025, 3, 7),
    }
}

fn agent(config: &GpConnectConfig) -> ureq::Agent {
    transport::build_agent(transport::client_tls_config(&config.tls).unwrap(), &config.http)
}

fn valid_request(config: &GpConnectConfig) -> SlotSearchRequest {
    let endpoint = config.resolve(ODS).unwrap();
    request::build_slot_search(config, &endpoint, &week(), now(), uuid::Uuid::new_v4()).unwrap()
}

/// Send once (no retries) and return status and JSON body.
async fn send(config: &GpConnectConfig, req: SlotSearchRequest) -> (u16, Value, u32) {
    let settings = HttpSettings {
        max_retries: 3,
        retry_base_delay_ms: 5,
        ..config.http
    };
    let client = HttpClient::new(agent(config), settings);
    tokio::task::spawn_blocking(move || {
        let r = client.get_with_retries(|_| req.clone()).unwrap();
        (
            r.status,
            serde_json::from_str(&r.body).unwrap_or(Value::Null),
            r.attempts,
        )
    })
    .await
    .unwrap()
}

fn spine_code(body: &Value) -> &str {
    assert_eq!(body["resourceType"], "OperationOutcome", "{body}");
    assert_eq!(
        body["meta"]["profile"][0],
        "https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-OperationOutcome-1"
    );
    assert_eq!(body["issue"][0]["severity"], "error");
    assert_eq!(
        body["issue"][0]["details"]["coding"][0]["system"],
        "https://fhir.nhs.uk/STU3/ValueSet/Spine-ErrorOrWarningCode-1"
    );
    body["issue"][0]["details"]["coding"][0]["code"].as_str().unwrap()
}

fn config_of(rig: &Rig) -> GpConnectConfig {
    rig.verifier.config().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_query_and_jwt_arrive_as_specified() {
    let rig = rig(healthy()).await;
    let v = rig.verifier.verify(&target(), d(2025, 3, 3), 5, now()).await;
    assert_eq!(v.verdict, Verdict::Enough);
    let reqs = rig.fake.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.ods_code, ODS);
    assert_eq!(
        header(r, "ssp-interactionid"),
        "urn:nhs:names:services:gpconnect:fhir:rest:search:slot-1"
    );
    assert_eq!(header(r, "ssp-from"), FROM_ASID);
    assert_eq!(header(r, "ssp-to"), TO_ASID);
    assert_eq!(header(r, "accept"), "application/fhir+json");
    assert!(uuid::Uuid::parse_str(header(r, "ssp-traceid")).is_ok());
    for expected in [
        "status=free",
        "_include=Slot:schedule",
        "_include:recurse=Schedule:actor:Practitioner",
        "_include:recurse=Schedule:actor:Location",
        "searchFilter=https://fhir.nhs.uk/Id/ods-organization-code%7CNHS111",
        "searchFilter=https://fhir.nhs.uk/STU3/CodeSystem/GPConnect-OrganisationType-1%7Curgent-care",
    ] {
        assert!(
            r.query.split('&').any(|kv| kv == expected),
            "{expected} missing from {}",
            r.query
        );
    }
    let token = header(r, "authorization").strip_prefix("Bearer ").unwrap();
    let (h, claims) = decode_jwt(token).unwrap();
    assert_eq!(h["alg"], "none");
    let claims: AuditClaims = serde_json::from_value(claims).unwrap();
    assert_eq!(claims.aud, rig.fake.endpoint_template().replace("{ods}", ODS));
    assert_eq!(claims.exp - claims.iat, 300);
    assert_eq!(claims.iat, now().timestamp());
    assert_eq!(
        claims.requesting_organization.identifier[0].value.as_deref(),
        Some(PROVIDER_ODS)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bundle_has_the_spec_shape() {
    let rig = rig(healthy()).await;
    let (status, body, _) = send(&config_of(&rig), valid_request(&config_of(&rig))).await;
    assert_eq!(status, 200);
    assert_eq!(body["resourceType"], "Bundle");
    assert_eq!(body["type"], "searchset");
    let entries = body["entry"].as_array().unwrap();
    let kinds: Vec<&str> = entries
        .iter()
        .map(|e| e["resource"]["resourceType"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.iter().filter(|k| **k == "Slot").count(), 10);
    for k in ["Schedule", "Practitioner", "Location", "Organization"] {
        assert_eq!(kinds.iter().filter(|x| **x == k).count(), 1, "{k}");
    }
    let slot = &entries[0]["resource"];
    assert_eq!(slot["status"], "free");
    assert_eq!(slot["start"], "2025-03-03T09:00:00+00:00");
    assert_eq!(slot["schedule"]["reference"], "Schedule/main-am");
    assert_eq!(
        slot["extension"][0]["url"],
        "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-DeliveryChannel-2"
    );
    assert_eq!(slot["extension"][0]["valueCode"], "In-person");
    assert_eq!(slot["serviceType"][0]["text"], "Urgent care slot");
    let schedule = &entries
        .iter()
        .find(|e| e["resource"]["resourceType"] == "Schedule")
        .unwrap()["resource"];
    assert_eq!(
        schedule["actor"],
        json!([{"reference": "Location/loc-main"}, {"reference": "Practitioner/gp-1"}])
    );
    assert_eq!(
        schedule["extension"][0]["valueCodeableConcept"]["coding"][0]["code"],
        "R0260"
    );
    assert!(
        entries[0]["fullUrl"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/{ODS}/STU3/1/gpconnect/fhir/Slot/main-am-20250303-1"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fake_answers_spec_errors_which_are_not_retried() {
    let rig = rig(healthy()).await;
    let config = config_of(&rig);
    let base = valid_request(&config);
    let replace_param = |name: &str, value: Option<&str>| {
        let (path, query) = base.url.split_once('?').unwrap();
        let mut kept: Vec<String> = query
            .split('&')
            .filter(|kv| !kv.starts_with(&format!("{name}=")))
            .map(str::to_owned)
            .collect();
        if let Some(v) = value {
            kept.push(format!("{name}={v}"));
        }
        SlotSearchRequest {
            url: format!("{path}?{}", kept.join("&")),
            headers: base.headers.clone(),
        }
    };
    let cases: Vec<(&str, SlotSearchRequest, u16, &str)> = vec![
        (
            "15-day range",
            replace_param("end", Some("le2025-03-18T23:59:59%2B00:00")),
            422,
            "INVALID_PARAMETER",
        ),
        (
            "end before start",
            replace_param("end", Some("le2025-03-02")),
            422,
            "INVALID_PARAMETER",
        ),
        (
            "status=busy",
            replace_param("status", Some("busy")),
            422,
            "INVALID_PARAMETER",
        ),
        (
            "bad start prefix",
            replace_param("start", Some("gt2025-03-03")),
            422,
            "INVALID_PARAMETER",
        ),
        (
            "partial date",
            replace_param("start", Some("ge2025-03")),
            422,
            "INVALID_PARAMETER",
        ),
        (
            "no offset",
            replace_param("start", Some("ge2025-03-03T00:00:00")),
            422,
            "INVALID_PARAMETER",
        ),
        (
            "unencoded +",
            replace_param("start", Some("ge2025-03-03T00:00:00+00:00")),
            422,
            "INVALID_PARAMETER",
        ),
        ("missing start", replace_param("start", None), 400, "BAD_REQUEST"),
        ("missing status", replace_param("status", None), 400, "BAD_REQUEST"),
        (
            "missing interaction id",
            SlotSearchRequest {
                url: base.url.clone(),
                headers: base
                    .headers
                    .iter()
                    .filter(|(k, _)| k != "Ssp-InteractionID")
                    .cloned()
                    .collect(),
            },
            400,
            "BAD_REQUEST",
        ),
    ];
    let n = cases.len();
    for (what, req, status, code) in cases {
        let (got_status, body, attempts) = send(&config, req).await;
        assert_eq!(got_status, status, "{what}: {body}");
        assert_eq!(spine_code(&body), code, "{what}");
        assert_eq!(attempts, 1, "{what}: 4xx must not be retried");
    }
    assert_eq!(rig.fake.requests().len(), n);
    // Unknown searchFilter systems are ignored; a 14-day span (end - start = 14) is accepted.
    let mut ok = replace_param("end", Some("le2025-03-17"));
    ok.url
        .push_str("&searchFilter=https://example.org/uc-disposition%7CDx05");
    assert_eq!(send(&config, ok).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_422_comes_back_as_failed_with_code_and_is_not_retried() {
    let mut s = healthy();
    s["practices"][0]["max_span_days"] = json!(6);
    let rig = rig(s).await;
    let v = rig.verifier.verify(&target(), d(2025, 3, 3), 14, now()).await;
    match &v.verdict {
        Verdict::Failed {
            code,
            http_status,
            message,
        } => {
            assert_eq!(code.as_deref(), Some("INVALID_PARAMETER"));
            assert_eq!(*http_status, Some(422));
            assert!(message.contains("must be 0 to 6"), "{message}");
        }
        other => panic!("expected FAILED, got {other:?}"),
    }
    assert_eq!(v.min_per_core_day, None);
    assert_eq!(rig.fake.requests().len(), 1, "a 422 is not retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_jwt_claims_get_400_bad_request() {
    let rig = rig(healthy()).await;
    let config = config_of(&rig);
    let endpoint = config.resolve(ODS).unwrap();
    let good = request::audit_claims(&config, &endpoint.service_root, now());
    let mut cases: Vec<(&str, Value)> = Vec::new();
    let mut v = serde_json::to_value(&good).unwrap();
    let reason = v.as_object_mut().unwrap().remove("reason_for_request").unwrap();
    v["reason"] = reason;
    cases.push(("claim named reason", v));
    let mut v = serde_json::to_value(&good).unwrap();
    v["exp"] = json!(good.iat + 3600);
    cases.push(("exp not iat + 5 min", v));
    let mut v = serde_json::to_value(&good).unwrap();
    v["sub"] = json!("someone-else");
    cases.push(("sub differs from practitioner id", v));
    let mut v = serde_json::to_value(&good).unwrap();
    v["requested_scope"] = json!("patient/*.read");
    cases.push(("patient scope", v));
    let mut v = serde_json::to_value(&good).unwrap();
    v["aud"] = json!("https://elsewhere.example/Z99999/STU3/1/gpconnect/fhir");
    cases.push(("wrong audience", v));
    let mut v = serde_json::to_value(&good).unwrap();
    v["requesting_organization"]["identifier"] = json!([]);
    cases.push(("organisation without ODS code", v));
    let mut v = serde_json::to_value(&good).unwrap();
    v["requesting_practitioner"]["identifier"] = json!([{"system": "urn:x", "value": "1"}]);
    cases.push(("practitioner without SDS identifiers", v));

    for (what, claims) in cases {
        let mut req = valid_request(&config);
        for (k, val) in req.headers.iter_mut() {
            if k == "Authorization" {
                *val = format!("Bearer {}", unsigned_jwt(&claims).unwrap());
            }
        }
        let (status, body, _) = send(&config, req).await;
        assert_eq!(status, 400, "{what}: {body}");
        assert_eq!(spine_code(&body), "BAD_REQUEST", "{what}");
    }
    // The untouched claims are accepted.
    let mut req = valid_request(&config);
    for (k, val) in req.headers.iter_mut() {
        if k == "Authorization" {
            *val = format!("Bearer {}", unsigned_jwt(&good).unwrap());
        }
    }
    assert_eq!(send(&config, req).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_jwt_through_the_verifier_is_failed_bad_request() {
    let rig = rig(healthy()).await;
    // The verifier's clock is 10 minutes behind the provider's: its token has expired.
    let skewed = now() - chrono::Duration::minutes(10);
    let v = rig.verifier.verify(&target(), d(2025, 3, 3), 5, skewed).await;
    match &v.verdict {
        Verdict::Failed {
            code,
            http_status,
            message,
        } => {
            assert_eq!(code.as_deref(), Some("BAD_REQUEST"));
            assert_eq!(*http_status, Some(400));
            assert!(message.contains("expired"), "{message}");
        }
        other => panic!("expected FAILED, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_without_certificate_is_refused() {
    let rig = rig(healthy()).await;
    let config = config_of(&rig);
    let url = valid_request(&config).url;

    let mut roots = rustls::RootCertStore::empty();
    for ca in transport::load_certs(&rig.pki.ca).unwrap() {
        roots.add(ca).unwrap();
    }
    let no_cert = rustls::ClientConfig::builder_with_provider(transport::crypto_provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots.clone())
        .with_no_client_auth();
    let rogue = rustls::ClientConfig::builder_with_provider(transport::crypto_provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_client_auth_cert(
            transport::load_certs(&rig.pki.rogue_cert).unwrap(),
            transport::load_key(&rig.pki.rogue_key).unwrap(),
        )
        .unwrap();
    for (what, tls) in [("no certificate", no_cert), ("certificate from another CA", rogue)] {
        let agent = ureq::AgentBuilder::new().tls_config(Arc::new(tls)).build();
        let url = url.clone();
        let outcome = tokio::task::spawn_blocking(move || match agent.get(&url).call() {
            Ok(r) => format!("response {}", r.status()),
            Err(ureq::Error::Status(code, _)) => format!("status {code}"),
            Err(ureq::Error::Transport(t)) => format!("transport: {t}"),
        })
        .await
        .unwrap();
        assert!(outcome.starts_with("transport"), "{what}: {outcome}");
    }
    assert!(rig.fake.requests().is_empty(), "no HTTP request got through");

    // And the verifier with the rogue certificate reports FAILED (after its retries).
    let mut cfg = config.clone();
    cfg.tls.client_cert_path = rig.pki.rogue_cert.clone();
    cfg.tls.client_key_path = rig.pki.rogue_key.clone();
    cfg.http.max_retries = 1;
    let v = caseledger_gpconnect::Verifier::new(cfg)
        .unwrap()
        .verify(&target(), d(2025, 3, 3), 5, now())
        .await;
    match &v.verdict {
        Verdict::Failed {
            code: None,
            http_status: None,
            message,
        } => {
            assert!(message.contains("after 2 attempt(s)"), "{message}")
        }
        other => panic!("expected transport FAILED, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_503_is_retried_then_succeeds_with_a_fresh_trace_id() {
    let mut s = healthy();
    s["practices"][0]["fail_first_requests"] = json!({"count": 1, "status": 503});
    let rig = rig(s).await;
    let v = rig.verifier.verify(&target(), d(2025, 3, 3), 5, now()).await;
    assert_eq!(v.verdict, Verdict::Enough);
    let reqs = rig.fake.requests();
    let statuses: Vec<u16> = reqs.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [503, 200]);
    assert_ne!(header(&reqs[0], "ssp-traceid"), header(&reqs[1], "ssp-traceid"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_exhaust_retries_then_fail() {
    let mut s = healthy();
    s["practices"][0]["fail_first_requests"] = json!({"count": 10, "status": 500});
    let rig = rig(s).await;
    let v = rig.verifier.verify(&target(), d(2025, 3, 3), 5, now()).await;
    assert!(
        matches!(&v.verdict, Verdict::Failed { code: Some(c), http_status: Some(500), .. } if c == "INTERNAL_SERVER_ERROR"),
        "{v:?}"
    );
    assert_eq!(rig.fake.requests().len(), 3, "first attempt + max_retries (2)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_is_retried() {
    let mut s = healthy();
    s["drop_first_connections"] = json!(1);
    let rig = rig(s).await;
    let v = rig.verifier.verify(&target(), d(2025, 3, 3), 5, now()).await;
    assert_eq!(v.verdict, Verdict::Enough);
    assert_eq!(
        rig.fake.requests().len(),
        1,
        "the dropped connection never reached HTTP"
    );

    // Without retries the same fault is a FAILED transport error. Two connections drop: the
    // CapabilityStatement's (a provider that does not answer `metadata` is still searched, noted)
    // and the search's.
    let mut s = healthy();
    s["drop_first_connections"] = json!(2);
    let no_retry = rig_with(s, |mut c| {
        c.http.max_retries = 0;
        c
    })
    .await;
    let v = no_retry.verifier.verify(&target(), d(2025, 3, 3), 5, now()).await;
    assert!(
        matches!(
            &v.verdict,
            Verdict::Failed {
                code: None,
                http_status: None,
                ..
            }
        ),
        "{v:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_spaces_requests() {
    let rig = rig_with(healthy(), |mut c| {
        c.http.min_request_interval_ms = 150;
        c
    })
    .await;
    let started = std::time::Instant::now();
    // 40 days: three requests, so at least two intervals.
    let v = rig
        .verifier
        .verify(
            &PracticeTarget {
                required_per_day: 0,
                ..target()
            },
            d(2025, 3, 3),
            40,
            now(),
        )
        .await;
    assert_eq!(v.verdict, Verdict::Enough);
    assert_eq!(rig.fake.requests().len(), 3);
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_from_env_vars_and_endpoint_map_file() {
    let rig = rig(healthy()).await;
    let root = rig.fake.endpoint_template().replace("{ods}", ODS);
    let map = write_json(
        &rig.pki.dir,
        "endpoints.json",
        &json!({ODS: {"service_root": root, "asid": "555000000555"}}),
    );
    let vars = [
        ("PROVIDER_ODS_CODE", PROVIDER_ODS.to_string()),
        ("PROVIDER_NAME", "DHU Health Care".into()),
        ("FROM_ASID", FROM_ASID.into()),
        ("JWT_ISSUER", "https://caseledger.test/gpconnect".into()),
        ("ENDPOINT_MAP_FILE", map.display().to_string()),
        ("CLIENT_CERT", rig.pki.client_cert.display().to_string()),
        ("CLIENT_KEY", rig.pki.client_key.display().to_string()),
        ("CA_BUNDLE", rig.pki.ca.display().to_string()),
        ("PRACTITIONER_ID", "dc-1".into()),
        ("PRACTITIONER_FAMILY", "Champion".into()),
        ("MIN_REQUEST_INTERVAL_MS", "0".into()),
    ]
    .map(|(k, v)| (format!("CASELEDGER_GPCONNECT_{k}"), v));
    let config = GpConnectConfig::from_vars(vars).unwrap();
    let verifier = caseledger_gpconnect::Verifier::new(config).unwrap();
    let v = verifier.verify(&target(), d(2025, 3, 3), 5, now()).await;
    assert_eq!(v.verdict, Verdict::Enough);
    assert_eq!(header(&rig.fake.requests()[0], "ssp-to"), "555000000555");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verifier_new_reports_bad_tls_material() {
    let pki = pki();
    let mut cfg = config(
        &pki,
        caseledger_gpconnect::EndpointConfig::Template {
            template: "https://127.0.0.1:1/{ods}/STU3/1/gpconnect/fhir".into(),
        },
    );
    cfg.tls.client_key_path = pki.rogue_key.clone(); // key does not fit the certificate
    match caseledger_gpconnect::Verifier::new(cfg) {
        Err(caseledger_gpconnect::ConfigError::Tls { path, .. }) => assert_eq!(path, pki.rogue_key),
        other => panic!("expected a TLS config error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fake_binary_serves_a_scenario_file() {
    use std::io::{BufRead, BufReader};
    let pki = pki();
    let scenario_path = write_json(&pki.dir, "scenario.json", &healthy());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_gpconnect-fake"))
        .args(["--scenario", &scenario_path.display().to_string()])
        .args(["--cert", &pki.server_cert.display().to_string()])
        .args(["--key", &pki.server_key.display().to_string()])
        .args(["--client-ca", &pki.ca.display().to_string()])
        .args(["--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let _listening = lines.next().unwrap().unwrap();
    let template_line = lines.next().unwrap().unwrap();
    let template = template_line.strip_prefix("endpoint template: ").unwrap().to_owned();
    let verifier = caseledger_gpconnect::Verifier::new(config(
        &pki,
        caseledger_gpconnect::EndpointConfig::Template { template },
    ))
    .unwrap();
    let v = verifier.verify(&target(), d(2025, 3, 3), 5, now()).await;
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(v.verdict, Verdict::Enough);
    assert_eq!(v.days.len(), 5);
}

#[test]
fn shipped_demo_scenario_is_valid() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/demo.json");
    let s = caseledger_gpconnect::fake::Scenario::from_path(&path).unwrap();
    assert_eq!(s.practices.len(), 7);
    assert!(s.practices.iter().any(|p| !p.gp_connect_enabled));
}

/// The provider's CapabilityStatement is asked before searching: the system that answers is kept
/// with the search, and a system that does not offer free-slot search is its own outcome (and is
/// not searched).
#[tokio::test]
async fn the_capability_statement_names_the_system_and_refuses_a_system_without_slot_search() {
    let mut s = healthy();
    s["practices"][0]["system"] = json!({ "name": "EMIS Web", "version": "9.2" });
    let named = rig(s).await;
    let v = named.verifier.verify(&target(), d(2025, 3, 3), 5, now()).await;
    assert_eq!(v.verdict, Verdict::Enough, "{v:?}");
    assert_eq!(v.provider_system.as_deref(), Some("EMIS Web 9.2"));

    let mut s = healthy();
    s["practices"][0]["system"] = json!({ "name": "Old System", "slot_search": false });
    let without = rig(s).await;
    let v = without.verifier.verify(&target(), d(2025, 3, 3), 5, now()).await;
    assert!(
        matches!(&v.verdict, Verdict::Failed { code: Some(code), .. } if code == "SLOT_SEARCH_NOT_SUPPORTED"),
        "{v:?}"
    );
    assert!(
        without.fake.requests().is_empty(),
        "no search of a system that does not offer it"
    );
}

/// With `Sds` endpoints: the verifier's template pointed at the same fake's Spine Directory
/// Service instead, wanting an `apikey`, and no default ASID (it must come from SDS).
fn with_sds(api_key: &'static str) -> impl FnOnce(GpConnectConfig) -> GpConnectConfig {
    move |mut c| {
        let base = match &c.endpoints {
            caseledger_gpconnect::EndpointConfig::Template { template } => {
                template.split("/{ods}").next().unwrap().to_owned()
            }
            other => panic!("{other:?}"),
        };
        c.endpoints = caseledger_gpconnect::EndpointConfig::Sds {
            url: format!("{base}{}", caseledger_gpconnect::fake::SDS_PATH),
            api_key: Some(api_key.into()),
            cache_seconds: 3_600,
        };
        c.to_asid = None;
        c
    }
}

/// The endpoint and the ASID are found the way a consumer must find them: SDS's `Endpoint` by ODS
/// code and interaction, then `Device` by party key; kept for a while; and a practice SDS holds no
/// endpoint or no ASID for is its own outcome, as NHS England's checker reports it.
#[tokio::test]
async fn the_endpoint_and_asid_come_from_sds_and_their_absence_is_named() {
    let generated = json!({"generate": [generate("main-am", "2025-03-03", "2025-03-14", 2, json!({}))]});
    let mut found_here = practice(ODS, generated.clone());
    found_here["sds"] = json!({ "asid": "200000000777" });
    let mut no_endpoint = practice("B22222", generated.clone());
    no_endpoint["sds"] = json!({ "endpoint": false });
    let mut no_asid = practice("D33333", generated);
    no_asid["sds"] = json!({ "asid": null });
    let mut s = scenario(vec![found_here, no_endpoint, no_asid]);
    s["sds_api_key"] = json!("k-123");
    let rig = rig_with(s, with_sds("k-123")).await;

    let v = rig.verifier.verify(&target(), d(2025, 3, 3), 5, now()).await;
    assert_eq!(v.verdict, Verdict::Enough, "{v:?}");
    let searched = rig.fake.requests();
    assert_eq!(searched.len(), 1);
    assert_eq!(
        searched[0].headers.get("ssp-to").map(String::as_str),
        Some("200000000777"),
        "the ASID SDS gave"
    );
    assert_eq!(rig.fake.sds_questions(), 2, "Endpoint, then Device");
    // Asked again within the hour: SDS is not asked again.
    rig.verifier.verify(&target(), d(2025, 3, 3), 5, now()).await;
    assert_eq!(rig.fake.sds_questions(), 2);

    let other = |ods: &str| PracticeTarget {
        ods_code: ods.into(),
        ..target()
    };
    for (ods, code) in [
        ("B22222", "NO_ENDPOINT_IN_SDS"),
        ("D33333", "NO_ASID_IN_SDS"),
        ("E44444", "NO_ENDPOINT_IN_SDS"),
    ] {
        let v = rig.verifier.verify(&other(ods), d(2025, 3, 3), 5, now()).await;
        assert!(
            matches!(&v.verdict, Verdict::Failed { code: Some(c), .. } if c == code),
            "{ods}: {v:?}"
        );
    }
    assert_eq!(rig.fake.requests().len(), 2, "no search without an endpoint");

    // A refused key: SDS is unavailable, said so, and asked again next time.
    let mut s = scenario(vec![practice(ODS, json!({}))]);
    s["sds_api_key"] = json!("the-right-key");
    let refused = rig_with(s, with_sds("a-wrong-key")).await;
    let v = refused.verifier.verify(&target(), d(2025, 3, 3), 5, now()).await;
    assert!(
        matches!(&v.verdict, Verdict::Failed { code: Some(c), .. } if c == "SDS_UNAVAILABLE"),
        "{v:?}"
    );
    refused.verifier.verify(&target(), d(2025, 3, 3), 5, now()).await;
    assert_eq!(
        refused.fake.sds_questions(),
        2,
        "an SDS that did not answer is asked again"
    );
}

/// Parameter names percent-encoded (some providers need it): the provider reads the same search.
#[tokio::test]
async fn a_provider_reads_the_search_with_its_parameter_names_encoded() {
    let rig = rig_with(healthy(), |mut c| {
        c.encode_parameter_names = true;
        c
    })
    .await;
    let v = rig.verifier.verify(&target(), d(2025, 3, 3), 5, now()).await;
    assert_eq!(v.verdict, Verdict::Enough, "{v:?}");
    let searched = rig.fake.requests();
    assert!(
        searched[0].query.contains("_include%3Arecurse="),
        "{}",
        searched[0].query
    );
}
