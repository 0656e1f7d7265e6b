//! Production tokens: RS256 and ES256 from an issuer found by OIDC discovery, its keys served by
//! this test. Each way a token can be wrong is refused.

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use base64::Engine;
use caseledger_api::auth::{Authenticator, Caller, OidcConfig};
use caseledger_cases::Role;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A signing key and its public JWK.
struct Key {
    kid: String,
    alg: Algorithm,
    encoding: EncodingKey,
    jwk: Value,
    /// The public key's DER, for the algorithm-confusion attempt.
    public_der: Vec<u8>,
}

fn rsa_key(kid: &str) -> Key {
    use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};
    use rsa::traits::PublicKeyParts;
    let private = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).unwrap();
    let public = private.to_public_key();
    Key {
        kid: kid.into(),
        alg: Algorithm::RS256,
        encoding: EncodingKey::from_rsa_der(private.to_pkcs1_der().unwrap().as_bytes()),
        jwk: json!({ "kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
                     "n": b64(&public.n().to_bytes_be()), "e": b64(&public.e().to_bytes_be()) }),
        public_der: public.to_pkcs1_der().unwrap().as_bytes().to_vec(),
    }
}

fn ec_key(kid: &str) -> Key {
    use p256::pkcs8::EncodePrivateKey;
    let private = p256::ecdsa::SigningKey::random(&mut rand_core::OsRng);
    let point = private.verifying_key().to_encoded_point(false);
    Key {
        kid: kid.into(),
        alg: Algorithm::ES256,
        encoding: EncodingKey::from_ec_der(private.to_pkcs8_der().unwrap().as_bytes()),
        jwk: json!({ "kty": "EC", "kid": kid, "crv": "P-256", "use": "sig",
                     "x": b64(point.x().unwrap()), "y": b64(point.y().unwrap()) }),
        public_der: point.as_bytes().to_vec(),
    }
}

/// An issuer: discovery document and key set over HTTP, counting key fetches.
struct Issuer {
    url: String,
    keys: Arc<RwLock<Vec<Value>>>,
    fetches: Arc<AtomicUsize>,
}

#[derive(Clone)]
struct IssuerState {
    url: String,
    keys: Arc<RwLock<Vec<Value>>>,
    fetches: Arc<AtomicUsize>,
}

async fn issuer(initial: &[&Key]) -> Issuer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let keys = Arc::new(RwLock::new(initial.iter().map(|k| k.jwk.clone()).collect()));
    let fetches = Arc::new(AtomicUsize::new(0));
    let state = IssuerState {
        url: url.clone(),
        keys: keys.clone(),
        fetches: fetches.clone(),
    };
    let app = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(|State(s): State<IssuerState>| async move {
                axum::Json(json!({ "issuer": s.url, "jwks_uri": format!("{}/jwks", s.url) }))
            }),
        )
        .route(
            "/jwks",
            get(|State(s): State<IssuerState>| async move {
                s.fetches.fetch_add(1, Ordering::SeqCst);
                axum::Json(json!({ "keys": *s.keys.read().unwrap() }))
            }),
        )
        .with_state(state);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Issuer { url, keys, fetches }
}

fn authenticator(issuer: &Issuer, dev_secret: Option<&str>) -> Authenticator {
    let role_map = HashMap::from([("CIS2-ICB-ASSURANCE".to_string(), Role::Icb)]);
    Authenticator::new(dev_secret).with_oidc(OidcConfig {
        issuer: issuer.url.clone(),
        audience: "caseledger".into(),
        role_claim: "roles".into(),
        role_map,
        refetch_interval: Duration::ZERO,
    })
}

fn claims(issuer: &Issuer) -> Value {
    json!({ "sub": "icb-assurance-1", "roles": ["unrelated", "CIS2-ICB-ASSURANCE"], "iss": issuer.url,
            "aud": "caseledger", "exp": now() + 600, "iat": now() })
}

fn sign(key: &Key, claims: &Value) -> String {
    let mut header = Header::new(key.alg);
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(&header, claims, &key.encoding).unwrap()
}

async fn check(auth: &Authenticator, token: &str) -> Caller {
    auth.caller(Some(&format!("Bearer {token}"))).await
}

fn refused(caller: &Caller) -> bool {
    matches!(caller, Caller::Rejected(_))
}

#[tokio::test]
async fn rs256_and_es256_tokens_from_the_issuer_are_accepted_with_the_mapped_role() {
    let (rsa, ec) = (rsa_key("rsa-1"), ec_key("ec-1"));
    let issuer = issuer(&[&rsa, &ec]).await;
    let auth = authenticator(&issuer, None);
    for key in [&rsa, &ec] {
        let Caller::Authenticated(actor) = check(&auth, &sign(key, &claims(&issuer))).await else {
            panic!("{:?} refused", key.alg)
        };
        assert_eq!((actor.id.as_str(), actor.role), ("icb-assurance-1", Role::Icb));
    }
    assert_eq!(issuer.fetches.load(Ordering::SeqCst), 1, "keys are cached by kid");
}

#[tokio::test]
async fn expired_wrong_issuer_wrong_audience_and_no_role_are_refused() {
    let key = ec_key("ec-1");
    let issuer = issuer(&[&key]).await;
    let auth = authenticator(&issuer, None);
    let with = |field: &str, value: Value| {
        let mut c = claims(&issuer);
        c[field] = value;
        c
    };
    assert!(
        refused(&check(&auth, &sign(&key, &with("exp", json!(now() - 3600)))).await),
        "expired"
    );
    assert!(
        refused(&check(&auth, &sign(&key, &with("iss", json!("https://elsewhere.example")))).await),
        "issuer"
    );
    assert!(
        refused(&check(&auth, &sign(&key, &with("aud", json!("another-service")))).await),
        "audience"
    );
    assert!(
        refused(&check(&auth, &sign(&key, &with("roles", json!(["nothing-we-know"])))).await),
        "unknown role"
    );
    let mut no_role = claims(&issuer);
    no_role.as_object_mut().unwrap().remove("roles");
    assert!(refused(&check(&auth, &sign(&key, &no_role)).await), "missing role");
}

#[tokio::test]
async fn alg_none_and_hs256_signed_with_the_public_key_are_refused() {
    let rsa = rsa_key("rsa-1");
    let issuer = issuer(&[&rsa]).await;
    let header = b64(br#"{"alg":"none","typ":"JWT","kid":"rsa-1"}"#);
    let body = b64(claims(&issuer).to_string().as_bytes());
    for dev_secret in [None, Some("a-development-secret")] {
        let auth = authenticator(&issuer, dev_secret);
        assert!(refused(&check(&auth, &format!("{header}.{body}.")).await), "alg none");
        // Algorithm confusion: HMAC with the published public key as the secret.
        let mut hs = Header::new(Algorithm::HS256);
        hs.kid = Some("rsa-1".into());
        let forged = jsonwebtoken::encode(&hs, &claims(&issuer), &EncodingKey::from_secret(&rsa.public_der)).unwrap();
        assert!(
            refused(&check(&auth, &forged).await),
            "HS256 with the public key, dev mode {dev_secret:?}"
        );
    }
}

#[tokio::test]
async fn an_unknown_kid_fetches_the_keys_again_and_a_key_never_published_is_refused() {
    let (old, new) = (ec_key("2026-01"), ec_key("2026-02"));
    let issuer = issuer(&[&old]).await;
    let auth = authenticator(&issuer, None);
    assert!(matches!(
        check(&auth, &sign(&old, &claims(&issuer))).await,
        Caller::Authenticated(_)
    ));
    assert_eq!(issuer.fetches.load(Ordering::SeqCst), 1);

    issuer.keys.write().unwrap().push(new.jwk.clone()); // the issuer rotates
    assert!(matches!(
        check(&auth, &sign(&new, &claims(&issuer))).await,
        Caller::Authenticated(_)
    ));
    assert_eq!(
        issuer.fetches.load(Ordering::SeqCst),
        2,
        "fetched again for the new kid"
    );

    let rogue = ec_key("2026-02"); // same kid, a key the issuer never published
    assert!(refused(&check(&auth, &sign(&rogue, &claims(&issuer))).await));
    let unknown = ec_key("never-published");
    assert!(refused(&check(&auth, &sign(&unknown, &claims(&issuer))).await));
}

#[tokio::test]
async fn with_an_issuer_only_mapped_role_names_count_and_admin_is_never_implicit() {
    let key = ec_key("ec-1");
    let issuer = issuer(&[&key]).await;
    let auth = authenticator(&issuer, None);
    for names in [json!(["admin"]), json!("icb"), json!(["ICB", "champion"])] {
        let mut token = claims(&issuer);
        token["roles"] = names.clone();
        assert!(
            refused(&check(&auth, &sign(&key, &token)).await),
            "{names} is not in the role map"
        );
    }
}

#[tokio::test]
async fn a_token_not_yet_valid_is_refused() {
    let key = ec_key("ec-1");
    let issuer = issuer(&[&key]).await;
    let auth = authenticator(&issuer, None);
    let mut early = claims(&issuer);
    early["nbf"] = json!(now() + 3600);
    assert!(refused(&check(&auth, &sign(&key, &early)).await), "nbf in an hour");
    early["nbf"] = json!(now() - 10);
    assert!(matches!(
        check(&auth, &sign(&key, &early)).await,
        Caller::Authenticated(_)
    ));
}

#[tokio::test]
async fn keys_published_for_encryption_never_verify_a_token() {
    let (for_encryption, for_verifying) = (ec_key("enc-1"), ec_key("ops-1"));
    let mut enc = for_encryption.jwk.clone();
    enc["use"] = json!("enc");
    let mut wrap = for_verifying.jwk.clone();
    wrap.as_object_mut().unwrap().remove("use");
    wrap["key_ops"] = json!(["wrapKey"]);
    let issuer = issuer(&[]).await;
    issuer.keys.write().unwrap().extend([enc, wrap]);
    let auth = authenticator(&issuer, None);
    assert!(
        refused(&check(&auth, &sign(&for_encryption, &claims(&issuer))).await),
        "use: enc"
    );
    assert!(
        refused(&check(&auth, &sign(&for_verifying, &claims(&issuer))).await),
        "key_ops without verify"
    );

    let mut verify = for_verifying.jwk.clone();
    verify.as_object_mut().unwrap().remove("use");
    verify["key_ops"] = json!(["verify"]);
    issuer.keys.write().unwrap().push(verify);
    let authenticator_later = authenticator(&issuer, None);
    assert!(matches!(
        check(&authenticator_later, &sign(&for_verifying, &claims(&issuer))).await,
        Caller::Authenticated(_)
    ));
}
