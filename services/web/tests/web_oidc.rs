//! Web sign-in with the authorisation code flow and PKCE against an identity provider served by
//! this test (discovery, authorise, token and key set endpoints, RS256 ID tokens). The provider
//! checks the PKCE verifier against the challenge as a real one does; the service checks the ID
//! token's signature, issuer, audience, expiry and nonce, and reads the role from its claim.

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use caseledger_api::auth::{Authenticator, OidcConfig};
use caseledger_api::graphql::{AppState, build_schema};
use caseledger_api::http::{HttpState, router};
use caseledger_cases::Role;
use caseledger_eventstore::EventStore;
use caseledger_web::WebState;
use caseledger_web::oidc::WebOidc;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const CLIENT_ID: &str = "caseledger-web";
const CLIENT_SECRET: &str = "web-client-secret";

/// What the provider does wrong, to see each refused.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
enum Misbehave {
    #[default]
    Nothing,
    /// Issues a role CaseLedger does not know.
    UnknownRole,
    /// Issues a role value that happens to be one of CaseLedger's own names, not in the map.
    CaseLedgerName,
    /// Puts another nonce in the ID token.
    WrongNonce,
}

#[derive(Debug, Clone)]
struct Pending {
    challenge: String,
    nonce: String,
    redirect: String,
}

#[derive(Clone)]
struct Provider {
    url: String,
    key: EncodingKey,
    jwk: Value,
    codes: Arc<Mutex<HashMap<String, Pending>>>,
    misbehave: Arc<Mutex<Misbehave>>,
    /// The token requests that came with a wrong verifier.
    refused_verifiers: Arc<Mutex<usize>>,
    /// How many times the discovery document was fetched.
    discoveries: Arc<Mutex<usize>>,
}

fn rsa_key() -> (EncodingKey, Value) {
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::traits::PublicKeyParts;
    let private = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).unwrap();
    let public = private.to_public_key();
    (
        EncodingKey::from_rsa_der(private.to_pkcs1_der().unwrap().as_bytes()),
        json!({ "kty": "RSA", "kid": "web-1", "use": "sig", "alg": "RS256",
                "n": URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
                "e": URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()) }),
    )
}

async fn discovery(State(p): State<Provider>) -> Json<Value> {
    *p.discoveries.lock().unwrap() += 1;
    Json(json!({
        "issuer": p.url,
        "authorization_endpoint": format!("{}/authorize", p.url),
        "token_endpoint": format!("{}/token", p.url),
        "jwks_uri": format!("{}/jwks", p.url),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
    }))
}

/// Signs the person in at once and sends them back with a code.
async fn authorize(State(p): State<Provider>, Query(q): Query<HashMap<String, String>>) -> Response {
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], CLIENT_ID);
    assert_eq!(q["code_challenge_method"], "S256", "PKCE with SHA-256");
    assert!(q["scope"].split(' ').any(|s| s == "openid"));
    let code = format!("code-{}", p.codes.lock().unwrap().len());
    p.codes.lock().unwrap().insert(
        code.clone(),
        Pending {
            challenge: q["code_challenge"].clone(),
            nonce: q["nonce"].clone(),
            redirect: q["redirect_uri"].clone(),
        },
    );
    Redirect::to(&format!("{}?code={code}&state={}", q["redirect_uri"], q["state"])).into_response()
}

async fn token(
    State(p): State<Provider>,
    headers: axum::http::HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
    );
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(basic.as_str()) {
        return (StatusCode::UNAUTHORIZED, Json(json!({ "error": "invalid_client" }))).into_response();
    }
    let Some(pending) = p.codes.lock().unwrap().remove(&form["code"]) else {
        return (StatusCode::BAD_REQUEST, Json(json!({ "error": "invalid_grant" }))).into_response();
    };
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    if challenge != pending.challenge || form["redirect_uri"] != pending.redirect {
        *p.refused_verifiers.lock().unwrap() += 1;
        return (StatusCode::BAD_REQUEST, Json(json!({ "error": "invalid_grant" }))).into_response();
    }
    let misbehave = *p.misbehave.lock().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = json!({
        "iss": p.url, "sub": "icb-assurance-7", "aud": CLIENT_ID, "iat": now, "exp": now + 300,
        "nonce": if misbehave == Misbehave::WrongNonce { "another-nonce".to_string() } else { pending.nonce },
        "nhsid_nrbac_roles": match misbehave {
            Misbehave::UnknownRole => json!(["S0080:G0450:R5080"]),
            Misbehave::CaseLedgerName => json!(["admin", "icb"]),
            _ => json!(["S0080:G0450:R8000"]),
        },
    });
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("web-1".into());
    let id_token = jsonwebtoken::encode(&header, &claims, &p.key).unwrap();
    Json(json!({ "access_token": "opaque", "token_type": "Bearer", "expires_in": 300, "id_token": id_token }))
        .into_response()
}

struct World {
    service: String,
    provider: Provider,
    _runtime: tokio::runtime::Runtime,
    _db: caseledger_testsupport::TestDb,
}

fn world() -> World {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (key, jwk) = rsa_key();
    let (service, provider, db) = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let provider = Provider {
            url: url.clone(),
            key,
            jwk,
            codes: Arc::default(),
            misbehave: Arc::default(),
            refused_verifiers: Arc::default(),
            discoveries: Arc::default(),
        };
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .route(
                "/jwks",
                get(|State(p): State<Provider>| async move { Json(json!({ "keys": [p.jwk] })) }),
            )
            .with_state(provider.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

        let db = caseledger_testsupport::fresh_db().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let service = format!("http://{}", listener.local_addr().unwrap());
        let config = OidcConfig {
            issuer: url,
            audience: "caseledger".into(),
            role_claim: "nhsid_nrbac_roles".into(),
            role_map: HashMap::from([("S0080:G0450:R8000".to_string(), Role::Icb)]),
            refetch_interval: Duration::ZERO,
        };
        let oidc = WebOidc::new(
            &config,
            CLIENT_ID,
            Some(CLIENT_SECRET.into()),
            &service,
            &["nationalrbacaccess"],
        )
        .unwrap();
        let store = EventStore::new(db.pool.clone());
        let state = AppState::new(store);
        let schema = build_schema(state);
        let web = WebState::new(
            {
                let schema = schema.clone();
                caseledger_web::InProcess::new(move |actor, ids, request| {
                    caseledger_api::graphql::execute_as(&schema, actor, ids, request)
                })
            },
            db.pool.clone(),
            false,
            Some(oidc),
            Duration::from_secs(1800),
        );
        let app = router(HttpState {
            schema,
            auth: Authenticator::new(None).with_oidc(config),
            pool: db.pool.clone(),
            web: Some(caseledger_web::router(web)),
        });
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (service, provider, db)
    });
    World {
        service,
        provider,
        _runtime: runtime,
        _db: db,
    }
}

struct Answer {
    status: u16,
    location: String,
    cookies: Vec<String>,
    body: String,
}

fn fetch(url: &str, cookie: Option<&str>) -> Answer {
    let agent = ureq::AgentBuilder::new().redirects(0).build();
    let mut request = agent.get(url);
    if let Some(cookie) = cookie {
        request = request.set("Cookie", cookie);
    }
    let response = match request.call() {
        Ok(response) | Err(ureq::Error::Status(_, response)) => response,
        Err(error) => panic!("{url}: {error}"),
    };
    Answer {
        status: response.status(),
        location: response.header("location").unwrap_or("").to_string(),
        cookies: response.all("set-cookie").into_iter().map(str::to_string).collect(),
        body: response.into_string().unwrap(),
    }
}

/// The `name=value` of the cookie `name` that `answer` sets.
fn cookie_set(answer: &Answer, name: &str) -> Option<String> {
    answer
        .cookies
        .iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(|c| c.split(';').next().unwrap().to_string())
}

/// From the service's sign-in button to the provider and back, in one browser: the callback's
/// answer, the callback URL (to try it again) and the browser's login cookie.
fn sign_in(world: &World) -> (Answer, String, String) {
    let login = fetch(&format!("{}/auth/login", world.service), None);
    assert_eq!(login.status, 303, "{}", login.body);
    assert!(
        login
            .location
            .starts_with(&format!("{}/authorize?", world.provider.url)),
        "{}",
        login.location
    );
    for part in [
        "code_challenge=",
        "code_challenge_method=S256",
        "state=",
        "nonce=",
        "nationalrbacaccess",
    ] {
        assert!(login.location.contains(part), "{part} in {}", login.location);
    }
    let login_cookie = cookie_set(&login, "__Host-caseledger_login").expect("the login cookie");
    let back = fetch(&login.location, None);
    assert!(
        back.location.starts_with(&format!("{}/auth/callback?", world.service)),
        "{}",
        back.location
    );
    (fetch(&back.location, Some(&login_cookie)), back.location, login_cookie)
}

#[test]
fn the_code_flow_with_pkce_signs_a_person_in_with_the_role_from_their_token() {
    let world = world();
    let (answer, callback, login_cookie) = sign_in(&world);
    assert_eq!(
        (answer.status, answer.location.as_str()),
        (303, "/icb"),
        "{}",
        answer.body
    );
    let session = answer
        .cookies
        .iter()
        .find(|c| c.starts_with("__Host-caseledger_session="))
        .unwrap();
    assert!(
        session.contains("HttpOnly") && session.contains("Secure") && session.contains("SameSite=Lax"),
        "{session}"
    );
    let cookie = session.split(';').next().unwrap();
    let page = fetch(&format!("{}/icb", world.service), Some(cookie));
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Assurance dashboard") && page.body.contains("icb-assurance-7"));

    assert!(
        answer
            .cookies
            .iter()
            .any(|c| c.starts_with("__Host-caseledger_login=;")),
        "the login cookie is cleared once used: {:?}",
        answer.cookies
    );

    // A callback is good once.
    let again = fetch(&callback, Some(&login_cookie));
    assert_eq!(again.status, 400);
    assert!(again.body.contains("expired or was already used"));
    assert!(again.cookies.iter().all(|c| !c.contains("caseledger_session=")));

    // A state the service never issued.
    let forged = fetch(
        &format!("{}/auth/callback?code=code-0&state=forged", world.service),
        Some("__Host-caseledger_login=forged"),
    );
    assert_eq!(forged.status, 400);
}

#[test]
fn a_callback_link_from_someone_elses_sign_in_signs_nobody_in() {
    let world = world();
    // The attacker starts a sign-in in their own browser and stops at the callback link.
    let attacker = fetch(&format!("{}/auth/login", world.service), None);
    let link = fetch(&attacker.location, None).location;
    // The victim opens the link: their browser has no login cookie, or one of its own.
    let victim = fetch(&link, None);
    assert_eq!(victim.status, 400, "{}", victim.body);
    assert!(victim.body.contains("not started in this browser"), "{}", victim.body);
    assert!(victim.cookies.iter().all(|c| !c.contains("caseledger_session=")));
    let own = cookie_set(
        &fetch(&format!("{}/auth/login", world.service), None),
        "__Host-caseledger_login",
    )
    .unwrap();
    let victim = fetch(&link, Some(&own));
    assert_eq!(victim.status, 400);
    assert!(victim.cookies.iter().all(|c| !c.contains("caseledger_session=")));
    // The attacker's own browser still could: it is the cookie that tells them apart.
    let attackers_cookie = cookie_set(&attacker, "__Host-caseledger_login").unwrap();
    assert_eq!(fetch(&link, Some(&attackers_cookie)).status, 303);
}

#[test]
fn the_issuers_discovery_is_fetched_once_not_for_every_visitor() {
    let world = world();
    for _ in 0..5 {
        assert_eq!(fetch(&format!("{}/auth/login", world.service), None).status, 303);
    }
    assert_eq!(*world.provider.discoveries.lock().unwrap(), 1);
}

#[test]
fn a_wrong_verifier_nonce_or_role_signs_nobody_in() {
    let world = world();

    // The code taken to the token endpoint with another verifier: the provider refuses it.
    let login = fetch(&format!("{}/auth/login", world.service), None);
    let login_cookie = cookie_set(&login, "__Host-caseledger_login").unwrap();
    let back = fetch(&login.location, None);
    let code = back
        .location
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_string();
    let pending = world.provider.codes.lock().unwrap().get(&code).cloned().unwrap();
    world.provider.codes.lock().unwrap().insert(
        code.clone(),
        Pending {
            challenge: URL_SAFE_NO_PAD.encode(Sha256::digest(b"an attacker's verifier")),
            ..pending
        },
    );
    let answer = fetch(&back.location, Some(&login_cookie));
    assert_eq!(answer.status, 502, "{}", answer.body);
    assert_eq!(*world.provider.refused_verifiers.lock().unwrap(), 1);
    assert!(answer.cookies.iter().all(|c| !c.contains("caseledger_session=")));

    *world.provider.misbehave.lock().unwrap() = Misbehave::WrongNonce;
    let (answer, _, _) = sign_in(&world);
    assert_eq!(answer.status, 403, "{}", answer.body);
    assert!(answer.cookies.iter().all(|c| !c.contains("caseledger_session=")));

    for misbehave in [Misbehave::UnknownRole, Misbehave::CaseLedgerName] {
        *world.provider.misbehave.lock().unwrap() = misbehave;
        let (answer, _, _) = sign_in(&world);
        assert_eq!(answer.status, 403, "{misbehave:?}");
        assert!(answer.body.contains("no CaseLedger role"), "{misbehave:?}");
        assert!(answer.cookies.iter().all(|c| !c.contains("caseledger_session=")));
    }
}
