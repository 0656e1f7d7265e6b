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
    /// As NHS CIS2: the role the person selects at sign-in (`selected_roleid`) and the identity
    /// assurance level, with their roles in userinfo.
    cis2: Arc<Mutex<Option<(&'static str, &'static str)>>>,
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
        "userinfo_endpoint": format!("{}/userinfo", p.url),
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
    let mut claims = claims;
    if let Some((selected, assurance)) = *p.cis2.lock().unwrap() {
        // CIS2's ID token names the selected role and the assurance level; the roles are in userinfo.
        claims["selected_roleid"] = json!(selected);
        claims["id_assurance_level"] = json!(assurance);
        claims["authentication_assurance_level"] = json!(assurance);
        claims["acr"] = json!("AAL3_ANY");
        claims["amr"] = json!(["N3_SMARTCARD"]);
        claims.as_object_mut().unwrap().remove("nhsid_nrbac_roles");
    }
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("web-1".into());
    let id_token = jsonwebtoken::encode(&header, &claims, &p.key).unwrap();
    Json(json!({ "access_token": "opaque", "token_type": "Bearer", "expires_in": 300, "id_token": id_token }))
        .into_response()
}

/// CIS2's userinfo: the person's national RBAC roles at their organisations (shaped as NHS
/// England's own test responses are), for the access token only.
async fn userinfo(headers: axum::http::HeaderMap) -> Response {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer opaque") {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    Json(json!({
        "sub": "icb-assurance-7",
        "nhsid_useruid": "656005750104",
        "name": "Test User",
        "idassurancelevel": "3",
        "nhsid_nrbac_roles": [
            { "person_orgid": "656008045105", "person_roleid": "656014452101", "org_code": "QWU",
              "role_name": "\"Admin & Clerical\":\"Management - A & C\":\"Commissioning Manager\"",
              "role_code": "S8001:G8002:R8008", "activities": [], "activity_codes": ["B0145"] },
            { "person_orgid": "656005753107", "person_roleid": "656005754108", "org_code": "RBA",
              "role_name": "\"Clinical\":\"Clinical Provision\":\"Nurse Access Role\"",
              "role_code": "S8000:G8000:R8001", "activity_codes": ["B0278"] }
        ],
        "nhsid_user_orgs": [
            { "org_name": "NHS COVENTRY AND WARWICKSHIRE INTEGRATED CARE BOARD", "org_code": "QWU" },
            { "org_name": "SOMERSET NHS FOUNDATION TRUST", "org_code": "RBA" }
        ]
    }))
    .into_response()
}

struct World {
    service: String,
    provider: Provider,
    _runtime: tokio::runtime::Runtime,
    _db: caseledger_testsupport::TestDb,
}

fn world() -> World {
    world_with(None)
}

/// As NHS CIS2 issues sign-ins, with these role rules.
fn world_with(cis2: Option<caseledger_cases::cis2::Cis2Rules>) -> World {
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
            cis2: Arc::new(Mutex::new(cis2.is_some().then_some(("656014452101", "3")))),
        };
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .route("/userinfo", get(userinfo))
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
        let mut oidc = WebOidc::new(
            &config,
            CLIENT_ID,
            Some(CLIENT_SECRET.into()),
            &service,
            &["nationalrbacaccess"],
        )
        .unwrap();
        if let Some(rules) = cis2 {
            oidc = oidc.with_cis2(rules);
        }
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

fn cis2_world(min_assurance: u8) -> World {
    let rules = caseledger_cases::cis2::Cis2Rules::parse(
        "caseledger_role,org_code,role_code,activity_code\nicb,QWU,R8008,\nlmc,LMC01,,\n",
        min_assurance,
    )
    .unwrap();
    world_with(Some(rules))
}

#[test]
fn cis2_signs_a_person_in_by_the_role_they_selected_and_keeps_their_organisation() {
    let world = cis2_world(3);
    let login = fetch(&format!("{}/auth/login", world.service), None);
    for scope in ["nationalrbacaccess", "associatedorgs", "selectedrole", "nhsperson"] {
        assert!(login.location.contains(scope), "{scope} in {}", login.location);
    }
    let (answer, _, _) = sign_in(&world);
    assert_eq!(
        (answer.status, answer.location.as_str()),
        (303, "/icb"),
        "{}",
        answer.body
    );
    let cookie = cookie_set(&answer, "__Host-caseledger_session").unwrap();
    assert_eq!(fetch(&format!("{}/icb", world.service), Some(&cookie)).status, 200);
    let (org_code, org_name, job_role, role): (String, String, String, String) = world
        ._runtime
        .block_on(
            sqlx::query_as("select org_code, org_name, job_role, role from people where person_id = 'icb-assurance-7'")
                .fetch_one(&world._db.pool),
        )
        .unwrap();
    assert_eq!(
        (org_code.as_str(), org_name.as_str(), job_role.as_str(), role.as_str()),
        (
            "QWU",
            "NHS COVENTRY AND WARWICKSHIRE INTEGRATED CARE BOARD",
            "S8001:G8002:R8008",
            "icb"
        )
    );
}

#[test]
fn cis2_gives_no_access_to_a_role_no_rule_grants_or_too_weak_a_sign_in() {
    let world = cis2_world(3);
    // The same person, having selected their nurse role at another organisation.
    *world.provider.cis2.lock().unwrap() = Some(("656005754108", "3"));
    let (answer, _, _) = sign_in(&world);
    assert_eq!(answer.status, 403, "{}", answer.body);
    assert!(
        answer.body.contains("Your role has no access to CaseLedger"),
        "{}",
        answer.body
    );
    assert!(
        answer.body.contains("Nurse Access Role") && answer.body.contains("RBA"),
        "{}",
        answer.body
    );
    assert!(answer.cookies.iter().all(|c| !c.contains("caseledger_session=")));

    // The ICB role, but signed in below the level the deployment requires.
    *world.provider.cis2.lock().unwrap() = Some(("656014452101", "2"));
    let (answer, _, _) = sign_in(&world);
    assert_eq!(answer.status, 403, "{}", answer.body);
    assert!(answer.body.contains("stronger sign-in"), "{}", answer.body);
    assert!(answer.cookies.iter().all(|c| !c.contains("caseledger_session=")));

    // A role nobody selected.
    *world.provider.cis2.lock().unwrap() = Some(("", "3"));
    let (answer, _, _) = sign_in(&world);
    assert_eq!(answer.status, 403, "{}", answer.body);
    assert!(answer.body.contains("No role was selected"), "{}", answer.body);

    // A deployment that accepts level 2 lets the same sign-in in.
    let world = cis2_world(2);
    *world.provider.cis2.lock().unwrap() = Some(("656014452101", "2"));
    let (answer, _, _) = sign_in(&world);
    assert_eq!(answer.status, 303, "{}", answer.body);
}
