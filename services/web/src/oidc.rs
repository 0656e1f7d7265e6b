//! Production sign-in: the OpenID Connect authorisation code flow with PKCE (the `openidconnect`
//! crate), against the issuer the bearer tokens come from (NHS CIS2 in the NHS). The pending
//! sign-in (state, nonce, PKCE verifier) waits in PostgreSQL, so any instance can finish it, and
//! its `state` is also set in a short-lived HttpOnly cookie that the callback must bring back: a
//! callback link made by someone else (login CSRF) finds no such cookie in the victim's browser
//! and signs nobody in. The ID token is verified (signature by the issuer's published keys,
//! issuer, audience, expiry, nonce) and the role read from the configured claim, through the role
//! map only. The issuer's discovery document and keys are cached, not fetched for every visitor.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use caseledger_cases::values::ShortText;
use caseledger_cases::{Actor, Role};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl,
    Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{WebState, problem, session, start_session};
use caseledger_cases::cis2::{Cis2Refusal, Cis2Rules};
use caseledger_cases::role::{OidcConfig, RoleNames, role_from_claims};

/// How the web pages sign people in with the issuer.
#[derive(Debug, Clone)]
pub struct WebOidc {
    /// The client made from the issuer's discovery document, and when it was fetched.
    discovered: std::sync::Arc<tokio::sync::Mutex<Option<(std::time::Instant, DiscoveredClient)>>>,
    issuer: IssuerUrl,
    client_id: ClientId,
    client_secret: Option<ClientSecret>,
    redirect: RedirectUrl,
    scopes: Vec<String>,
    role_claim: String,
    role_map: HashMap<String, Role>,
    /// NHS CIS2: the role comes from the selected role in userinfo, by these rules.
    cis2: Option<Cis2Rules>,
}

/// A client made from the discovery document: authorisation endpoint set, token endpoint maybe.
type DiscoveredClient =
    CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

/// A pending sign-in older than this is refused.
const LOGIN_TIMEOUT_MINUTES: i32 = 10;
/// The discovery document (and the keys it names) is fetched again after this long, or at once
/// when an ID token does not verify with the cached keys.
const DISCOVERY_TTL: std::time::Duration = std::time::Duration::from_secs(10 * 60);

impl WebOidc {
    /// Sign-in with `config`'s issuer as client `client_id`; people reach the service at
    /// `public_url`; `scopes` are asked for beside `openid` and `profile`.
    pub fn new(
        config: &OidcConfig,
        client_id: &str,
        client_secret: Option<String>,
        public_url: &str,
        scopes: &[&str],
    ) -> Result<Self, String> {
        let redirect = RedirectUrl::new(format!("{}/auth/callback", public_url.trim_end_matches('/')))
            .map_err(|e| format!("CASELEDGER_PUBLIC_URL: {e}"))?;
        let issuer = IssuerUrl::new(config.issuer.clone()).map_err(|e| format!("CASELEDGER_OIDC_ISSUER: {e}"))?;
        let mut all_scopes = vec!["profile".to_string()];
        all_scopes.extend(scopes.iter().map(|s| s.to_string()));
        Ok(Self {
            discovered: std::sync::Arc::default(),
            issuer,
            client_id: ClientId::new(client_id.to_string()),
            client_secret: client_secret.map(ClientSecret::new),
            redirect,
            scopes: all_scopes,
            role_claim: config.role_claim.clone(),
            role_map: config.role_map.clone(),
            cis2: None,
        })
    }

    /// Signs people in as NHS CIS2 issues them: the role they selected at sign-in, read from
    /// userinfo and mapped by `rules` (no rule, no access), at the assurance level they require.
    pub fn with_cis2(mut self, rules: Cis2Rules) -> Self {
        for scope in ["nationalrbacaccess", "associatedorgs", "selectedrole", "nhsperson"] {
            if !self.scopes.iter().any(|s| s == scope) {
                self.scopes.push(scope.to_string());
            }
        }
        self.cis2 = Some(rules);
        self
    }

    /// The client from the cached discovery document, fetched when older than the TTL or when
    /// `fresh` asks for it (after an ID token failed to verify: the keys may have rotated).
    async fn client(&self, fresh: bool) -> Result<DiscoveredClient, String> {
        let mut cached = self.discovered.lock().await;
        if let Some((at, client)) = cached.as_ref()
            && !fresh
            && at.elapsed() < DISCOVERY_TTL
        {
            return Ok(client.clone());
        }
        let client = self.discover().await?;
        *cached = Some((std::time::Instant::now(), client.clone()));
        Ok(client)
    }

    /// Discovery and the key set, off the async threads.
    async fn discover(&self) -> Result<DiscoveredClient, String> {
        let issuer = self.issuer.clone();
        let metadata = tokio::task::spawn_blocking(move || CoreProviderMetadata::discover(&issuer, &http_call))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("discovery at {}: {e}", self.issuer.as_str()))?;
        Ok(
            CoreClient::from_provider_metadata(metadata, self.client_id.clone(), self.client_secret.clone())
                .set_redirect_uri(self.redirect.clone()),
        )
    }
}

/// The OIDC library's HTTP client: the blocking `ureq` the service already uses.
fn http_call(request: openidconnect::HttpRequest) -> Result<openidconnect::HttpResponse, HttpError> {
    use std::io::Read;
    let (parts, body) = request.into_parts();
    let agent = ureq::AgentBuilder::new()
        .timeout(std::time::Duration::from_secs(10))
        .redirects(0)
        .build();
    let mut call = agent.request(parts.method.as_str(), &parts.uri.to_string());
    for (name, value) in &parts.headers {
        call = call.set(name.as_str(), value.to_str().map_err(|e| HttpError(e.to_string()))?);
    }
    let response = match call.send_bytes(&body) {
        Ok(response) | Err(ureq::Error::Status(_, response)) => response,
        Err(error) => return Err(HttpError(error.to_string())),
    };
    let mut builder = http::Response::builder().status(response.status());
    for name in response.headers_names() {
        if let Some(value) = response.header(&name) {
            builder = builder.header(name.as_str(), value);
        }
    }
    let mut bytes = Vec::new();
    response
        .into_reader()
        .take(1024 * 1024)
        .read_to_end(&mut bytes)
        .map_err(|e| HttpError(e.to_string()))?;
    builder.body(bytes).map_err(|e| HttpError(e.to_string()))
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(String);

fn unavailable(error: &str) -> Response {
    tracing::error!(%error, "web sign-in failed");
    problem(
        StatusCode::BAD_GATEWAY,
        None,
        "Sign-in is not available right now",
        "The identity service could not be reached or did not answer as expected. Try again shortly.",
    )
}

fn not_configured() -> Response {
    problem(
        StatusCode::NOT_FOUND,
        None,
        "Page not found",
        "Sign-in with an identity provider is not configured.",
    )
}

/// `GET /auth/login`: to the issuer's sign-in page, with state, nonce and a PKCE challenge; the
/// state also goes into this browser's login cookie.
pub async fn login(
    State(state): State<WebState>,
    axum::extract::Query(next): axum::extract::Query<super::Next>,
) -> Response {
    let Some(oidc) = &state.0.oidc else {
        return not_configured();
    };
    let client = match oidc.client(false).await {
        Ok(client) => client,
        Err(error) => return unavailable(&error),
    };
    let (csrf, nonce, verifier) = (
        session::random_token(),
        session::random_token(),
        session::random_token(),
    );
    let pool = &state.0.sessions.pool;
    // Sign-ins never finished go when new ones start.
    let swept = sqlx::query("delete from web_logins where created_at < now() - make_interval(mins => $1)")
        .bind(LOGIN_TIMEOUT_MINUTES)
        .execute(pool)
        .await;
    let stored = match swept {
        Ok(_) => sqlx::query("insert into web_logins (state, nonce, pkce_verifier, return_to) values ($1, $2, $3, $4)")
            .bind(&csrf)
            .bind(&nonce)
            .bind(&verifier)
            .bind(next.page().unwrap_or("/"))
            .execute(pool)
            .await
            .map(drop),
        Err(error) => Err(error),
    };
    if let Err(error) = stored {
        return super::internal(None, error);
    }
    let cookie = state.cookies().set(
        session::LOGIN_COOKIE,
        &csrf,
        Some(std::time::Duration::from_secs(
            60 * u64::try_from(LOGIN_TIMEOUT_MINUTES).unwrap_or(10),
        )),
    );
    let challenge = PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(verifier));
    let mut request = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            move || CsrfToken::new(csrf),
            move || Nonce::new(nonce),
        )
        .set_pkce_challenge(challenge);
    for scope in &oidc.scopes {
        request = request.add_scope(Scope::new(scope.clone()));
    }
    let (url, _, _) = request.url();
    super::redirect_with_cookie(url.as_str(), cookie)
}

#[derive(Debug, Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /auth/callback`: the state checked against this browser's login cookie, the code for
/// tokens (with the PKCE verifier), the ID token checked, a session started.
pub async fn callback(
    State(state): State<WebState>,
    headers: axum::http::HeaderMap,
    Query(callback): Query<Callback>,
) -> Response {
    let Some(oidc) = &state.0.oidc else {
        return not_configured();
    };
    if let Some(error) = callback.error {
        let detail = callback.error_description.unwrap_or_default();
        tracing::warn!(%error, %detail, "the identity provider refused the sign-in");
        return problem(
            StatusCode::FORBIDDEN,
            None,
            "You could not be signed in",
            "The identity service did not sign you in. Try again.",
        );
    }
    let (Some(code), Some(csrf)) = (callback.code, callback.state) else {
        return problem(
            StatusCode::BAD_REQUEST,
            None,
            "You could not be signed in",
            "The sign-in link was incomplete. Start again.",
        );
    };
    // Only the browser that started this sign-in may finish it.
    let started_here = state
        .cookies()
        .get(&headers, session::LOGIN_COOKIE)
        .is_some_and(|cookie| session::same_token(&cookie, &csrf));
    if !started_here {
        tracing::warn!("a sign-in callback came without this browser's login cookie");
        return problem(
            StatusCode::BAD_REQUEST,
            None,
            "You could not be signed in",
            "This sign-in was not started in this browser. Start again from the sign-in page.",
        );
    }
    // The pending sign-in is used once: taken out as it is read.
    let pending: Result<Option<(String, String, String)>, sqlx::Error> = sqlx::query_as(
        "delete from web_logins where state = $1
         returning nonce, pkce_verifier, return_to, created_at > now() - make_interval(mins => $2) as fresh",
    )
    .bind(&csrf)
    .bind(LOGIN_TIMEOUT_MINUTES)
    .fetch_optional(&state.0.sessions.pool)
    .await
    .map(|row: Option<(String, String, String, bool)>| {
        row.filter(|(_, _, _, fresh)| *fresh).map(|(n, v, to, _)| (n, v, to))
    });
    let (nonce, verifier, return_to) = match pending {
        Ok(Some(pending)) => pending,
        Ok(None) => {
            return problem(
                StatusCode::BAD_REQUEST,
                None,
                "You could not be signed in",
                "This sign-in has expired or was already used. Start again.",
            );
        }
        Err(error) => return super::internal(None, error),
    };
    let client = match oidc.client(false).await {
        Ok(client) => client,
        Err(error) => return unavailable(&error),
    };
    let exchanged = tokio::task::spawn_blocking(move || {
        let tokens = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| e.to_string())?
            .set_pkce_verifier(PkceCodeVerifier::new(verifier))
            .request(&http_call)
            .map_err(|e| format!("token exchange: {e}"))?;
        Ok::<_, String>((client, tokens))
    })
    .await;
    let (client, tokens) = match exchanged {
        Ok(Ok(exchanged)) => exchanged,
        Ok(Err(error)) => return unavailable(&error),
        Err(error) => return unavailable(&error.to_string()),
    };
    let Some(id_token) = tokens.id_token() else {
        return unavailable("the token response has no ID token");
    };
    let nonce = Nonce::new(nonce);
    let mut verified = id_token.claims(&client.id_token_verifier(), &nonce).cloned();
    if verified.is_err() {
        // The cached keys may be old: look once more with the issuer's current ones.
        match oidc.client(true).await {
            Ok(fresh) => verified = id_token.claims(&fresh.id_token_verifier(), &nonce).cloned(),
            Err(error) => return unavailable(&error),
        }
    }
    let claims = match verified {
        Ok(claims) => claims,
        Err(error) => {
            tracing::warn!(%error, "ID token refused");
            return problem(
                StatusCode::FORBIDDEN,
                None,
                "You could not be signed in",
                "The identity service's answer could not be verified.",
            );
        }
    };
    // The signature is verified: read the role claim from the same token's payload.
    let payload: Option<Map<String, Value>> = id_token
        .to_string()
        .split('.')
        .nth(1)
        .and_then(|part| URL_SAFE_NO_PAD.decode(part).ok())
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    if let Some(rules) = &oidc.cis2 {
        let access_token = tokens.access_token().clone();
        let subject = claims.subject().clone();
        let asked = tokio::task::spawn_blocking(move || {
            client
                .user_info(access_token, Some(subject))
                .map_err(|e| format!("userinfo: {e}"))?
                .request::<Cis2Claims, openidconnect::core::CoreGenderClaim, _>(&http_call)
                .map_err(|e| format!("userinfo: {e}"))
        })
        .await;
        let userinfo = match asked {
            Ok(Ok(userinfo)) => userinfo.additional_claims().claims.clone(),
            Ok(Err(error)) => return unavailable(&error),
            Err(error) => return unavailable(&error.to_string()),
        };
        let person = match rules.decide(&payload.unwrap_or_default(), &userinfo) {
            Ok(person) => person,
            Err(refusal) => {
                tracing::warn!(subject = %claims.subject().as_str(), %refusal, "CIS2 sign-in gives no access");
                return no_access(&refusal);
            }
        };
        let actor = match ShortText::parse(claims.subject().as_str()) {
            Ok(id) => Actor::scoped(id, person.role, person.scope.clone()),
            Err(error) => return unavailable(&format!("sub: {error}")),
        };
        let visit = caseledger_commands::people::SignIn {
            visit: true,
            name: None,
            org_code: Some(&person.org_code),
            org_name: person.org_name.as_deref(),
            job_role: Some(&person.job_role.role_code),
        };
        return signed_in(&state, &actor, &visit, &return_to).await;
    }
    let payload = payload.unwrap_or_default();
    let role = role_from_claims(&payload, &oidc.role_claim, RoleNames::Mapped(&oidc.role_map));
    let Some(role) = role else {
        return problem(
            StatusCode::FORBIDDEN,
            None,
            "You do not have access to CaseLedger",
            "Your account has no CaseLedger role. Ask your organisation's registration authority.",
        );
    };
    // A scoped role names its organisation in `org`, as CaseLedger's own tokens do.
    let org = payload
        .get("org")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default();
    let scope = match caseledger_cases::role::Scope::for_role(role, org) {
        Ok(scope) => scope,
        Err(error) => {
            return problem(
                StatusCode::FORBIDDEN,
                None,
                "Your role has no access to CaseLedger",
                &format!("The {role} role works for one organisation, named in the \"org\" claim: {error}."),
            );
        }
    };
    let actor = match ShortText::parse(claims.subject().as_str()) {
        Ok(id) => Actor::scoped(id, role, scope),
        Err(error) => return unavailable(&format!("sub: {error}")),
    };
    let visit = caseledger_commands::people::SignIn {
        visit: true,
        ..Default::default()
    };
    signed_in(&state, &actor, &visit, &return_to).await
}

/// A session for `actor`, to the page they asked for (else their start page), the login cookie
/// cleared.
async fn signed_in(
    state: &WebState,
    actor: &Actor,
    visit: &caseledger_commands::people::SignIn<'_>,
    return_to: &str,
) -> Response {
    let to = super::own_page(return_to)
        .filter(|to| *to != "/")
        .unwrap_or(super::home_of(actor.role).0);
    let mut response = start_session(state, actor, visit, to).await;
    if let Ok(clear) = axum::http::HeaderValue::from_str(&state.cookies().clear(session::LOGIN_COOKIE)) {
        response.headers_mut().append(axum::http::header::SET_COOKIE, clear);
    }
    response
}

/// Userinfo's claims beyond the standard ones: CIS2's `nhsid_*` and `idassurancelevel`.
#[derive(Debug, Clone, serde::Serialize, Deserialize)]
struct Cis2Claims {
    #[serde(flatten)]
    claims: Map<String, Value>,
}

impl openidconnect::AdditionalClaims for Cis2Claims {}

/// A CIS2 sign-in that gives no access: why, in words a person can act on; never a default role.
fn no_access(refusal: &Cis2Refusal) -> Response {
    let detail = match refusal {
        Cis2Refusal::AssuranceTooLow { .. } => {
            "CaseLedger needs a stronger sign-in than the one you used: sign in with your smartcard or another \
             method at the assurance level your organisation's registration authority gave you."
                .to_string()
        }
        Cis2Refusal::NoSelectedRole | Cis2Refusal::SelectedRoleUnknown => {
            "No role was selected when you signed in. Sign in again and choose the role you work in.".to_string()
        }
        Cis2Refusal::OrganisationDoesNotFit { org_code, .. } => format!(
            "The role you chose is at {org_code}, which is not a GP practice or a PCN this role works for. \
             Sign in again and choose the role you hold at your practice or PCN."
        ),
        Cis2Refusal::NoAccess { role_name, org_code } => format!(
            "Your role {role_name} at {org_code} has no access to CaseLedger. If you need it, ask your \
             organisation's registration authority, or sign in again with another role."
        ),
    };
    problem(
        StatusCode::FORBIDDEN,
        None,
        "Your role has no access to CaseLedger",
        &detail,
    )
}
