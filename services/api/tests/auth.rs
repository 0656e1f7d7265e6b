//! Development tokens: what is accepted and everything that is refused.

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong

use caseledger_api::auth::{AUDIENCE, Authenticator, Caller, Claims, DEV_ISSUER, dev_token};
use caseledger_cases::Role;
use jsonwebtoken::{Algorithm, EncodingKey, Header};

const SECRET: &str = "test-secret-that-is-long-enough";

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn claims() -> Claims {
    Claims {
        sub: "dc-amira".into(),
        role: "champion".into(),
        org: None,
        name: None,
        iss: DEV_ISSUER.into(),
        aud: AUDIENCE.into(),
        exp: now() + 600,
        iat: now(),
    }
}

fn signed(claims: &Claims, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

async fn caller(token: &str) -> Caller {
    Authenticator::new(Some(SECRET))
        .caller(Some(&format!("Bearer {token}")))
        .await
}

fn rejected(caller: Caller) -> bool {
    matches!(caller, Caller::Rejected(_))
}

#[tokio::test]
async fn a_valid_development_token_names_the_actor_and_role() {
    let token = dev_token(SECRET, Role::Champion, "dc-amira", 600).unwrap();
    let Caller::Authenticated(actor) = caller(&token).await else {
        panic!("refused")
    };
    assert_eq!((actor.id.as_str(), actor.role), ("dc-amira", Role::Champion));
}

#[tokio::test]
async fn a_practice_or_pcn_token_names_its_organisation_or_is_refused() {
    use caseledger_cases::role::Scope;
    let token = caseledger_api::auth::dev_token_for(SECRET, Role::Practice, "pm-1", Some("c82001"), 600).unwrap();
    let Caller::Authenticated(actor) = caller(&token).await else {
        panic!("refused")
    };
    assert_eq!(actor.practice().map(|code| code.as_str()), Some("C82001"));
    let director = caseledger_api::auth::dev_token_for(SECRET, Role::PcnClinicalDirector, "cd-1", Some("U00001"), 600);
    let Caller::Authenticated(actor) = caller(&director.unwrap()).await else {
        panic!("refused")
    };
    assert!(matches!(&actor.scope, Some(Scope::Pcn(code)) if code.as_str() == "U00001"));
    // Without its organisation, or with a code of the wrong kind, a scoped role is refused: never
    // read as a role that sees every practice.
    for (role, org) in [
        ("practice", None),
        ("practice", Some("U00001")),
        ("practice", Some("C82001; drop")),
        ("pcn_clinical_director", Some("C82001")),
        ("pcn_clinical_director", None),
    ] {
        let claims = Claims {
            role: role.into(),
            org: org.map(str::to_string),
            ..claims()
        };
        assert!(rejected(caller(&signed(&claims, SECRET)).await), "{role} {org:?}");
    }
    // An unscoped role's `org` is not a scope.
    let icb = Claims {
        role: "icb".into(),
        org: Some("C82001".into()),
        ..claims()
    };
    let Caller::Authenticated(actor) = caller(&signed(&icb, SECRET)).await else {
        panic!("refused")
    };
    assert_eq!(actor.scope, None);
}

#[tokio::test]
async fn expired_wrong_issuer_wrong_audience_and_wrong_secret_are_refused() {
    let expired = Claims {
        exp: now() - 3600,
        ..claims()
    };
    assert!(rejected(caller(&signed(&expired, SECRET)).await));
    let issuer = Claims {
        iss: "someone-else".into(),
        ..claims()
    };
    assert!(rejected(caller(&signed(&issuer, SECRET)).await));
    let audience = Claims {
        aud: "another-service".into(),
        ..claims()
    };
    assert!(rejected(caller(&signed(&audience, SECRET)).await));
    assert!(rejected(caller(&signed(&claims(), "a-different-secret")).await));
}

#[tokio::test]
async fn alg_none_and_a_missing_or_unknown_role_are_refused() {
    use base64::Engine;
    let encode = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let header = encode(br#"{"alg":"none","typ":"JWT"}"#);
    let body = encode(serde_json::to_string(&claims()).unwrap().as_bytes());
    assert!(rejected(caller(&format!("{header}.{body}.")).await));

    let mut no_role = serde_json::to_value(claims()).unwrap();
    no_role.as_object_mut().unwrap().remove("role");
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &no_role,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    assert!(rejected(caller(&token).await));
    assert!(rejected(
        caller(&signed(
            &Claims {
                role: "superuser".into(),
                ..claims()
            },
            SECRET
        ))
        .await
    ));
}

#[tokio::test]
async fn without_development_mode_no_token_is_accepted_and_no_header_is_anonymous() {
    let token = dev_token(SECRET, Role::Icb, "icb-1", 600).unwrap();
    assert!(rejected(
        Authenticator::new(None).caller(Some(&format!("Bearer {token}"))).await
    ));
    assert!(matches!(
        Authenticator::new(Some(SECRET)).caller(None).await,
        Caller::Anonymous
    ));
    assert!(rejected(
        Authenticator::new(Some(SECRET)).caller(Some("Basic abc")).await
    ));
}

#[tokio::test]
async fn a_token_not_valid_yet_is_refused() {
    #[derive(serde::Serialize)]
    struct Early {
        #[serde(flatten)]
        claims: Claims,
        nbf: u64,
    }
    let early = Early {
        claims: claims(),
        nbf: now() + 3_600,
    };
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &early,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    match caller(&token).await {
        Caller::Rejected(reason) => assert!(reason.contains("ImmatureSignature"), "{reason}"),
        other => panic!("accepted a token valid only in an hour: {other:?}"),
    }
    let ready = Early {
        claims: claims(),
        nbf: now() - 60,
    };
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &ready,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    assert!(matches!(caller(&token).await, Caller::Authenticated(_)));
}
