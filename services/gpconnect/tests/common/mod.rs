//! Shared test support: a throw-away PKI (rcgen), a fake provider and verifier configuration.
#![allow(dead_code, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use caseledger_gpconnect::fake::{FakeServer, FakeTls, Scenario, serve_fake};
use caseledger_gpconnect::{
    DeviceIdentity, EndpointConfig, GpConnectConfig, HttpSettings, PractitionerIdentity, TlsPaths, Verifier,
};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Value, json};

pub const PROVIDER_ODS: &str = "NHS111";
pub const FROM_ASID: &str = "200000000111";
pub const TO_ASID: &str = "918999198993";

/// A CA, a server certificate for localhost/127.0.0.1 and a client certificate, as PEM files.
pub struct Pki {
    pub dir: PathBuf,
    pub ca: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
    /// A client certificate from a different CA.
    pub rogue_cert: PathBuf,
    pub rogue_key: PathBuf,
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

pub fn pki() -> Pki {
    let dir = std::env::temp_dir().join(format!(
        "gpconnect-test-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let files = caseledger_gpconnect::pki::generate(&dir).unwrap();
    let rogue = caseledger_gpconnect::pki::Authority::new("Rogue CA").unwrap();
    let (rogue_pem, rogue_key) = rogue.issue(&[], "rogue", false).unwrap();
    Pki {
        ca: files.ca,
        server_cert: files.server_cert,
        server_key: files.server_key,
        client_cert: files.client_cert,
        client_key: files.client_key,
        rogue_cert: caseledger_gpconnect::pki::write(&dir, "rogue.pem", &rogue_pem).unwrap(),
        rogue_key: caseledger_gpconnect::pki::write(&dir, "rogue.key", &rogue_key).unwrap(),
        dir,
    }
}

pub fn fake_tls(pki: &Pki) -> FakeTls {
    FakeTls::from_pem_files(&pki.server_cert, &pki.server_key, &pki.ca).unwrap()
}

pub fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// The fixed clock used by both the fake and the verifier.
pub fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2025-03-01T09:00:00Z").unwrap().to_utc()
}

pub fn local() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

pub fn config(pki: &Pki, endpoints: EndpointConfig) -> GpConnectConfig {
    GpConnectConfig {
        encode_parameter_names: false,
        provider_ods_code: PROVIDER_ODS.into(),
        provider_name: "DHU Health Care (NHS 111)".into(),
        from_asid: FROM_ASID.into(),
        to_asid: Some(TO_ASID.into()),
        jwt_issuer: "https://caseledger.test/gpconnect".into(),
        endpoints,
        ssp_url: None,
        tls: TlsPaths {
            client_cert_path: pki.client_cert.clone(),
            client_key_path: pki.client_key.clone(),
            ca_bundle_path: pki.ca.clone(),
        },
        practitioner: PractitionerIdentity {
            id: "dc-42".into(),
            family: "Champion".into(),
            given: Some("Dana".into()),
            sds_user_id: "UNK".into(),
            sds_role_profile_id: "UNK".into(),
            local_user_system: "urn:caseledger:user-id".into(),
        },
        device: DeviceIdentity::default(),
        http: HttpSettings {
            connect_timeout_ms: 2_000,
            read_timeout_ms: 5_000,
            max_retries: 2,
            retry_base_delay_ms: 10,
            min_request_interval_ms: 0,
            ..HttpSettings::default()
        },
        bank_holidays_path: None,
    }
}

/// A running fake plus a verifier pointed at it through the endpoint template.
pub struct Rig {
    pub pki: Pki,
    pub fake: FakeServer,
    pub verifier: Verifier,
}

pub async fn rig(scenario: Value) -> Rig {
    rig_with(scenario, |c| c).await
}

pub async fn rig_with(scenario: Value, tweak: impl FnOnce(GpConnectConfig) -> GpConnectConfig) -> Rig {
    let pki = pki();
    let scenario = Scenario::from_json(&scenario.to_string()).unwrap();
    let fake = serve_fake(scenario, fake_tls(&pki), local()).await.unwrap();
    let config = tweak(config(
        &pki,
        EndpointConfig::Template {
            template: fake.endpoint_template(),
        },
    ));
    let verifier = Verifier::new(config).unwrap();
    Rig { pki, fake, verifier }
}

/// One practice, main site and a branch, one GP, a main-site and a branch schedule.
/// `extra` is merged into the practice object (slots, generate, flags).
pub fn practice(ods: &str, extra: Value) -> Value {
    let mut p = json!({
        "ods_code": ods,
        "name": "Riverside Surgery",
        "locations": [
            {"id": "loc-main", "name": "Riverside Surgery"},
            {"id": "loc-branch", "name": "Hillside Branch Surgery"}
        ],
        "practitioners": [{"id": "gp-1", "family": "Jones", "given": ["Sarah"], "prefix": ["Dr"], "sds_user_id": "G1234567"}],
        "schedules": [
            {"id": "main-am", "location": "loc-main", "practitioner": "gp-1", "name": "Morning surgery"},
            {"id": "branch-am", "location": "loc-branch", "practitioner": "gp-1", "name": "Branch surgery", "delivery_channel": "Telephone"}
        ]
    });
    if let (Some(obj), Some(more)) = (p.as_object_mut(), extra.as_object()) {
        for (k, v) in more {
            obj.insert(k.clone(), v.clone());
        }
    }
    p
}

/// `per_day` 15-minute slots from 09:00 on core weekdays between two dates at a schedule.
pub fn generate(schedule: &str, from: &str, to: &str, per_day: u32, availability: Value) -> Value {
    json!({"schedule": schedule, "from": from, "to": to, "per_day": per_day, "minutes": 15,
           "first_start": "09:00", "slot_type": "Urgent care slot", "availability": availability})
}

pub fn scenario(practices: Vec<Value>) -> Value {
    json!({"now": now().to_rfc3339(), "practices": practices})
}

pub fn header<'a>(req: &'a caseledger_gpconnect::fake::RecordedRequest, name: &str) -> &'a str {
    req.headers.get(name).map(String::as_str).unwrap_or("")
}

pub fn write_json(dir: &Path, name: &str, v: &Value) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_string_pretty(v).unwrap()).unwrap();
    p
}
