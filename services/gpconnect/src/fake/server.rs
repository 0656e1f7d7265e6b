//! The fake provider's HTTPS server: axum 0.8 on hyper 1 over tokio-rustls, requiring a client
//! certificate signed by the configured CA.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Utc;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;

use super::scenario::{PracticeScenario, Scenario, SlotSpec, WhenDisabled};
use super::search::{FakeResponse, Headers, search_free_slots};
use crate::holidays::BankHolidays;
use crate::transport::crypto_provider;

/// The service root path under which each practice is served: `/{ods}` + this.
pub const SERVICE_ROOT_PATH: &str = "/STU3/1/gpconnect/fhir";

/// The fake could not start.
#[derive(Debug, thiserror::Error)]
pub enum FakeError {
    /// TLS material unusable.
    #[error("fake provider TLS: {0}")]
    Tls(String),
    /// Socket problem.
    #[error("fake provider I/O: {0}")]
    Io(#[from] std::io::Error),
    /// Scenario problem.
    #[error(transparent)]
    Scenario(#[from] super::scenario::ScenarioError),
}

/// Server certificate chain, key and the CA that client certificates must chain to (PEM).
#[derive(Clone)]
pub struct FakeTls {
    /// Server certificate chain (leaf first).
    pub cert_chain_pem: Vec<u8>,
    /// Server private key.
    pub key_pem: Vec<u8>,
    /// CA certificate(s) for client certificates.
    pub client_ca_pem: Vec<u8>,
}

impl std::fmt::Debug for FakeTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeTls")
            .field("key_pem", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl FakeTls {
    /// Read the three PEM files.
    pub fn from_pem_files(cert: &Path, key: &Path, client_ca: &Path) -> Result<Self, FakeError> {
        let read = |p: &Path| std::fs::read(p).map_err(|e| FakeError::Tls(format!("{}: {e}", p.display())));
        Ok(Self {
            cert_chain_pem: read(cert)?,
            key_pem: read(key)?,
            client_ca_pem: read(client_ca)?,
        })
    }

    /// A rustls server configuration that requires a client certificate.
    pub fn server_config(&self) -> Result<rustls::ServerConfig, FakeError> {
        let tls = |e: &dyn std::fmt::Display| FakeError::Tls(e.to_string());
        let certs = |pem: &[u8]| -> Result<Vec<CertificateDer<'static>>, FakeError> {
            let list = CertificateDer::pem_slice_iter(pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| tls(&e))?;
            if list.is_empty() {
                Err(FakeError::Tls("no certificate in PEM".into()))
            } else {
                Ok(list)
            }
        };
        let mut roots = rustls::RootCertStore::empty();
        for ca in certs(&self.client_ca_pem)? {
            roots.add(ca).map_err(|e| tls(&e))?;
        }
        let provider = crypto_provider();
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| tls(&e))?;
        let key = PrivateKeyDer::from_pem_slice(&self.key_pem).map_err(|e| tls(&e))?;
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| tls(&e))?
            .with_client_cert_verifier(verifier)
            .with_single_cert(certs(&self.cert_chain_pem)?, key)
            .map_err(|e| tls(&e))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(config)
    }
}

/// One request the fake answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// Practice ODS code from the path.
    pub ods_code: String,
    /// Raw (encoded) query string.
    pub query: String,
    /// Headers, lower-cased names.
    pub headers: BTreeMap<String, String>,
    /// Status answered.
    pub status: u16,
}

struct PracticeState {
    scenario: PracticeScenario,
    slots: Vec<SlotSpec>,
    failures_left: AtomicU32,
}

struct FakeState {
    practices: BTreeMap<String, PracticeState>,
    now: Option<chrono::DateTime<Utc>>,
    log: Mutex<Vec<RecordedRequest>>,
    /// Questions to the fake Spine Directory Service.
    sds_questions: AtomicU32,
    sds_api_key: Option<String>,
    answer_delay: std::time::Duration,
    /// Slot searches being answered now, and the most at once so far.
    searching: AtomicU32,
    most_at_once: AtomicU32,
}

/// A running fake provider.
#[derive(Debug)]
pub struct FakeServer {
    local_addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    log: Arc<dyn RequestLog>,
}

trait RequestLog: Send + Sync + std::fmt::Debug {
    fn all(&self) -> Vec<RecordedRequest>;
    fn sds_questions(&self) -> u32;
    fn most_at_once(&self) -> u32;
}

impl std::fmt::Debug for FakeState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeState")
            .field("practices", &self.practices.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl RequestLog for FakeState {
    fn all(&self) -> Vec<RecordedRequest> {
        self.log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn sds_questions(&self) -> u32 {
        self.sds_questions.load(Ordering::SeqCst)
    }

    fn most_at_once(&self) -> u32 {
        self.most_at_once.load(Ordering::SeqCst)
    }
}

impl FakeServer {
    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `https://{addr}/{ods}/STU3/1/gpconnect/fhir`: an endpoint template for the verifier.
    pub fn endpoint_template(&self) -> String {
        format!("https://{}/{{ods}}{SERVICE_ROOT_PATH}", self.local_addr)
    }

    /// `https://{addr}/spine-directory/FHIR/R4`: the fake Spine Directory Service's FHIR API.
    pub fn sds_url(&self) -> String {
        format!("https://{}{SDS_PATH}", self.local_addr)
    }

    /// Questions the fake Spine Directory Service has answered (`Endpoint` and `Device`).
    pub fn sds_questions(&self) -> u32 {
        self.log.sds_questions()
    }

    /// The most slot searches the fake was answering at one time.
    pub fn most_searches_at_once(&self) -> u32 {
        self.log.most_at_once()
    }

    /// Requests answered so far (connections dropped before HTTP are not listed).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.log.all()
    }

    /// Stop accepting, close open connections and wait for the server task.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

fn respond(r: FakeResponse) -> Response {
    let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = r.body.to_string();
    (
        status,
        [
            (header::CONTENT_TYPE, "application/fhir+json;charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

async fn slot_search(
    State(state): State<Arc<FakeState>>,
    UrlPath(ods): UrlPath<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let headers: Headers = headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_ascii_lowercase(), v.to_str().ok()?.to_owned())))
        .collect();
    let query = uri.query().unwrap_or("").to_owned();
    let now_searching = state.searching.fetch_add(1, Ordering::SeqCst) + 1;
    state.most_at_once.fetch_max(now_searching, Ordering::SeqCst);
    if !state.answer_delay.is_zero() {
        tokio::time::sleep(state.answer_delay).await;
    }
    let response = answer(&state, &ods, &query, &headers);
    state.searching.fetch_sub(1, Ordering::SeqCst);
    tracing::debug!(ods, status = response.status, "fake GP Connect slot search");
    state
        .log
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(RecordedRequest {
            ods_code: ods,
            query,
            headers,
            status: response.status,
        });
    respond(response)
}

/// Where the fake Spine Directory Service's FHIR API is.
pub const SDS_PATH: &str = "/spine-directory/FHIR/R4";

/// `GET {SDS}/Endpoint?organization=…|{ods}&identifier=…|{interaction}` and `GET {SDS}/Device?…
/// &identifier=…nhsMhsPartyKey|{key}`: what the Spine Directory Service holds of a practice, as
/// the scenario says.
async fn sds(
    State(state): State<Arc<FakeState>>,
    UrlPath(kind): UrlPath<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    state.sds_questions.fetch_add(1, Ordering::SeqCst);
    if let Some(wanted) = &state.sds_api_key
        && headers.get("apikey").and_then(|v| v.to_str().ok()) != Some(wanted.as_str())
    {
        return respond(FakeResponse::error(
            401,
            "ACCESS_DENIED",
            "the apikey is missing or wrong",
        ));
    }
    let params: Vec<(String, String)> = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .into_owned()
        .collect();
    let value_of = |system: &str| {
        params
            .iter()
            .filter(|(name, _)| name == "organization" || name == "identifier")
            .find_map(|(_, value)| value.strip_prefix(&format!("{system}|")).map(str::to_owned))
    };
    let ods = value_of(crate::fhir::ODS_ORGANIZATION_CODE)
        .unwrap_or_default()
        .to_ascii_uppercase();
    let interaction = value_of(crate::sds::INTERACTION_ID_SYSTEM).unwrap_or_default();
    let practice = state
        .practices
        .get(&ods)
        .filter(|_| interaction == crate::fhir::INTERACTION_ID);
    let party_key = format!("{ods}-0000001");
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost")
        .to_owned();
    let entries: Vec<serde_json::Value> = match (kind.as_str(), practice) {
        ("Endpoint", Some(p)) if p.scenario.sds.endpoint => vec![serde_json::json!({ "resource": {
            "resourceType": "Endpoint",
            "status": "active",
            "address": format!("https://{host}/{ods}{SERVICE_ROOT_PATH}"),
            "identifier": [{ "system": crate::sds::PARTY_KEY_SYSTEM, "value": party_key }]
        } })],
        ("Device", Some(p))
            if p.scenario.sds.endpoint
                && value_of(crate::sds::PARTY_KEY_SYSTEM).as_deref() == Some(party_key.as_str()) =>
        {
            let mut identifier =
                vec![serde_json::json!({ "system": crate::sds::PARTY_KEY_SYSTEM, "value": party_key })];
            if let Some(asid) = &p.scenario.sds.asid {
                identifier.push(serde_json::json!({ "system": crate::sds::ASID_SYSTEM, "value": asid }));
            }
            vec![serde_json::json!({ "resource": { "resourceType": "Device", "identifier": identifier } })]
        }
        ("Endpoint" | "Device", _) => Vec::new(),
        _ => {
            return respond(FakeResponse::error(
                404,
                "NO_RECORD_FOUND",
                format!("no {kind} search here"),
            ));
        }
    };
    respond(FakeResponse {
        status: 200,
        body: serde_json::json!({ "resourceType": "Bundle", "type": "searchset", "total": entries.len(), "entry": entries }),
    })
}

/// `GET [base]/metadata`: the practice system's CapabilityStatement (not in the request log,
/// which holds the searches).
async fn metadata(State(state): State<Arc<FakeState>>, UrlPath(ods): UrlPath<String>) -> Response {
    let Some(practice) = state.practices.get(&ods.to_ascii_uppercase()) else {
        return respond(FakeResponse::error(
            404,
            "ORGANISATION_NOT_FOUND",
            format!("no practice {ods}"),
        ));
    };
    let system = &practice.scenario.system;
    let resources = if system.slot_search {
        serde_json::json!([{ "type": "Slot", "interaction": [{ "code": "search-type" }] },
                           { "type": "Appointment", "interaction": [{ "code": "read" }, { "code": "create" }] }])
    } else {
        serde_json::json!([{ "type": "Patient", "interaction": [{ "code": "read" }] }])
    };
    let mut software = serde_json::json!({ "name": system.name });
    if let Some(version) = &system.version {
        software["version"] = serde_json::json!(version);
    }
    respond(FakeResponse {
        status: 200,
        body: serde_json::json!({
            "resourceType": "CapabilityStatement",
            "version": "1.2.7",
            "status": "active",
            "kind": "instance",
            "software": software,
            "fhirVersion": "3.0.1",
            "format": ["application/fhir+json"],
            "rest": [{ "mode": "server", "resource": resources }]
        }),
    })
}

fn answer(state: &FakeState, ods: &str, query: &str, headers: &Headers) -> FakeResponse {
    let Some(practice) = state.practices.get(&ods.to_ascii_uppercase()) else {
        return FakeResponse::error(
            404,
            "ORGANISATION_NOT_FOUND",
            format!("no practice {ods} at this address"),
        );
    };
    if !practice.scenario.gp_connect_enabled {
        return match practice.scenario.when_disabled {
            WhenDisabled::Forbidden => FakeResponse::error(
                403,
                "ACCESS_DENIED",
                "PARTYKEY_INTERACTION_CHECK_FAILED: the practice is not enabled for GP Connect slot search",
            ),
            WhenDisabled::NotFound => FakeResponse {
                status: 404,
                body: serde_json::Value::Null,
            },
        };
    }
    if let Some(failure) = practice.scenario.fail_first_requests {
        let took = practice
            .failures_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        if took.is_ok() {
            return FakeResponse::error(failure.status, "INTERNAL_SERVER_ERROR", "injected failure");
        }
    }
    let service_root = format!(
        "https://{}/{}{SERVICE_ROOT_PATH}",
        headers.get("host").map(String::as_str).unwrap_or("localhost"),
        practice.scenario.ods_code
    );
    let aud_suffix = format!("/{}{SERVICE_ROOT_PATH}", practice.scenario.ods_code);
    let now = state.now.unwrap_or_else(caseledger_clock::now);
    search_free_slots(
        &practice.scenario,
        &practice.slots,
        &service_root,
        &aud_suffix,
        query,
        headers,
        now,
    )
}

async fn not_found() -> Response {
    respond(FakeResponse::error(404, "NOT_FOUND", "no such endpoint"))
}

/// Start the fake provider on `addr` (port 0 picks a free port).
pub async fn serve_fake(scenario: Scenario, tls: FakeTls, addr: SocketAddr) -> Result<FakeServer, FakeError> {
    scenario.validate()?;
    let acceptor = TlsAcceptor::from(Arc::new(tls.server_config()?));
    let holidays = BankHolidays::england_and_wales();
    let practices = scenario
        .practices
        .iter()
        .map(|p| {
            let state = PracticeState {
                slots: p.all_slots(&holidays),
                failures_left: AtomicU32::new(p.fail_first_requests.map_or(0, |f| f.count)),
                scenario: p.clone(),
            };
            (p.ods_code.to_ascii_uppercase(), state)
        })
        .collect();
    let state = Arc::new(FakeState {
        practices,
        now: scenario.now,
        log: Mutex::new(Vec::new()),
        sds_questions: AtomicU32::new(0),
        sds_api_key: scenario.sds_api_key.clone(),
        answer_delay: std::time::Duration::from_millis(scenario.answer_delay_ms.min(60_000)),
        searching: AtomicU32::new(0),
        most_at_once: AtomicU32::new(0),
    });
    let router = Router::new()
        .route(&format!("/{{ods}}{SERVICE_ROOT_PATH}/Slot"), get(slot_search))
        .route(&format!("/{{ods}}{SERVICE_ROOT_PATH}/metadata"), get(metadata))
        .route(&format!("{SDS_PATH}/{{kind}}"), get(sds))
        .fallback(not_found)
        .with_state(state.clone());

    let listener = TcpListener::bind(addr).await?;
    let local_addr = listener.local_addr()?;
    let (tx, mut rx) = oneshot::channel::<()>();
    let drops = AtomicU32::new(scenario.drop_first_connections);
    let task = tokio::spawn(async move {
        let mut connections = JoinSet::new();
        loop {
            tokio::select! {
                _ = &mut rx => break,
                accepted = listener.accept() => {
                    let (tcp, peer) = match accepted {
                        Ok(c) => c,
                        Err(e) => {
                            tracing::warn!(error = %e, "fake provider accept failed");
                            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                            continue;
                        }
                    };
                    if drops.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok() {
                        tracing::debug!(%peer, "fake provider dropping connection (injected)");
                        drop(tcp);
                        continue;
                    }
                    let acceptor = acceptor.clone();
                    let service = TowerToHyperService::new(router.clone());
                    connections.spawn(async move {
                        let stream = match acceptor.accept(tcp).await {
                            Ok(s) => s,
                            Err(e) => {
                                tracing::debug!(%peer, error = %e, "fake provider TLS handshake refused");
                                return;
                            }
                        };
                        let served = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                        if let Err(e) = served {
                            tracing::debug!(%peer, error = %e, "fake provider connection ended with error");
                        }
                    });
                }
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
        connections.shutdown().await;
    });
    Ok(FakeServer {
        local_addr,
        shutdown: Some(tx),
        task: Some(task),
        log: state,
    })
}
