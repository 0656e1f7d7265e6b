//! The web pages for the four parties, served by the same binary at `/`: server-rendered HTML in
//! the NHS.UK design system's markup, usable without JavaScript (a small script only refreshes
//! lists when new events arrive). Pages read and write through the GraphQL schema as the
//! signed-in actor ([`gql`]), so they see exactly what that role's GraphQL view contains.
//!
//! Sign-in: the OIDC authorisation code flow with PKCE in production; in development mode, a page
//! to pick a demo user of each party. Sessions live in PostgreSQL behind an HttpOnly, SameSite=Lax
//! cookie (Secure outside development); every form carries the session's CSRF token.

mod actions;
mod assurance;
mod case;
mod champion;
mod charts;
mod contract;
mod dhu;
mod diversions;
mod dos;
mod gpconnect;
mod gql;
mod icb;
mod layout;
mod lists;
mod live;
mod lmc;
mod model;
#[cfg(feature = "sign-in")]
pub mod oidc;
/// Without the `sign-in` feature (the demo's build): no issuer to sign in with, so the sign-in
/// page offers the demo users only and `/auth/*` is not found.
#[cfg(not(feature = "sign-in"))]
pub mod oidc {
    /// Sign-in with an issuer, which this build has not: no value of it can exist.
    #[derive(Debug, Clone)]
    pub enum WebOidc {}
}
mod operations;
mod own_cases;
mod people;
mod practices;
mod register;
mod reports;
mod session;
mod sheet;
mod telephony;

use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{Form, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use caseledger_cases::values::ShortText;
use caseledger_cases::{Actor, Role};
use maud::html;
use sqlx::PgPool;

use caseledger_commands::RequestIds;
pub use gql::InProcess;
pub use layout::home_of;
use session::Session;

/// What the pages need.
#[derive(Clone)]
pub struct WebState(Arc<Inner>);

struct Inner {
    schema: InProcess,
    sessions: session::Sessions,
    development: bool,
    oidc: Option<oidc::WebOidc>,
    /// GP Connect verification is configured: the case page offers it.
    gp_connect: bool,
    /// How much expensive work (exports, live streams) one person may start; the API's too.
    throttle: caseledger_commands::throttle::Throttle,
    /// The NHS.UK frontend's built files.
    assets: PathBuf,
    /// The ICB's name, for its reports (`CASELEDGER_ICB_NAME`).
    icb_name: Option<String>,
}

impl std::fmt::Debug for WebState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebState")
            .field("development", &self.0.development)
            .field("oidc", &self.0.oidc.is_some())
            .finish_non_exhaustive()
    }
}

impl WebState {
    /// The pages over `schema`, with sessions in `pool` that end after `session_idle` unused.
    pub fn new(
        schema: InProcess,
        pool: PgPool,
        development: bool,
        oidc: Option<oidc::WebOidc>,
        session_idle: std::time::Duration,
    ) -> Self {
        let sessions = session::Sessions {
            pool,
            cookies: session::Cookies { secure: !development },
            idle: session_idle,
        };
        Self(Arc::new(Inner {
            schema,
            sessions,
            development,
            oidc,
            gp_connect: false,
            throttle: caseledger_commands::throttle::Throttle::default(),
            assets: checkout_assets_dir(),
            icb_name: None,
        }))
    }

    /// The ICB's name, as its reports give it.
    pub fn with_icb_name(mut self, name: Option<String>) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.0) {
            inner.icb_name = name;
        }
        self
    }

    /// Sharing the service's throttle (the API's), so one person's work is counted once.
    pub fn with_throttle(mut self, throttle: caseledger_commands::throttle::Throttle) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.0) {
            inner.throttle = throttle;
        }
        self
    }

    /// With GP Connect verification offered on the case pages (when the service has it).
    /// The NHS.UK frontend's built files from `dir` (`CASELEDGER_WEB_ASSETS`).
    pub fn with_assets(mut self, dir: PathBuf) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.0) {
            inner.assets = dir;
        }
        self
    }

    pub fn with_gp_connect(mut self, on: bool) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.0) {
            inner.gp_connect = on;
        }
        self
    }

    fn gp_connect(&self) -> bool {
        self.0.gp_connect
    }

    fn cookies(&self) -> session::Cookies {
        self.0.sessions.cookies
    }
}

/// The demo users the development sign-in page offers.
pub const DEMO_USERS: [(Role, &str); 9] = [
    (Role::Icb, "icb-assurance-1"),
    (Role::Champion, "dc-amira"),
    (Role::Champion, "dc-ben"),
    (Role::Champion, "dc-chloe"),
    (Role::Dhu, "dhu-liaison-1"),
    (Role::Lmc, "lmc-officer-1"),
    (Role::Admin, "admin-1"),
    (Role::Practice, "pm-z00011"),
    (Role::PcnClinicalDirector, "cd-u10001"),
];

/// The organisation each scoped demo user works for: Arden Health Centre's practice manager, and
/// the clinical director of its PCN (Coventry South PCN 1).
pub const DEMO_SCOPES: [(&str, &str); 2] = [("pm-z00011", "Z00011"), ("cd-u10001", "U10001")];

/// A demo user as an actor: their role and, for a scoped role, their organisation.
pub fn demo_actor(role: Role, id: &str) -> Result<Actor, caseledger_cases::ValueError> {
    let code = DEMO_SCOPES.iter().find(|(demo, _)| *demo == id).map(|(_, code)| *code);
    let scope = match code {
        Some(code) => caseledger_cases::role::Scope::for_role(role, code)?,
        None => None,
    };
    Ok(Actor::scoped(ShortText::parse(id)?, role, scope))
}

/// The demo users' names, as the directory of people holds them.
pub const DEMO_NAMES: [(&str, &str); 9] = [
    ("icb-assurance-1", "Priya Shah"),
    ("dc-amira", "Amira Hussain"),
    ("dc-ben", "Ben Okafor"),
    ("dc-chloe", "Chloe Evans"),
    ("dhu-liaison-1", "Sam Patel"),
    ("lmc-officer-1", "Dr Helen Moss"),
    ("admin-1", "Alex Morgan"),
    ("pm-z00011", "Jo Whitfield"),
    ("cd-u10001", "Dr Nadia Rahman"),
];

/// Where the NHS.UK frontend's built files are unless the service is told: the npm install of
/// `services/web/assets` in this checkout.
pub fn checkout_assets_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/node_modules/nhsuk-frontend/dist/nhsuk")
}

pub fn router(state: WebState) -> Router {
    let assets = state.0.assets.clone();
    if !assets.join("nhsuk-frontend.min.css").exists() {
        tracing::warn!(
            dir = %assets.display(),
            "the NHS.UK frontend is not installed (npm ci --prefix services/web/assets, or set CASELEDGER_WEB_ASSETS); pages fall back to plain styles"
        );
    }
    Router::new()
        .route("/", get(root))
        .route("/sign-in", get(sign_in_page).post(sign_in))
        .route("/sign-out", post(sign_out))
        .route("/champion", get(champion::show))
        .route("/dhu", get(dhu::show))
        .route("/dhu/report", post(dhu::report))
        .route("/dhu/import", post(dhu::import))
        .route("/icb/reports/{id}/{decision}", post(icb::triage))
        .route("/diversions", get(diversions::show))
        .route("/diversions/notify", post(diversions::notify))
        .route("/diversions/calls", post(diversions::upload_calls))
        .route("/diversions/{id}/{action}", post(diversions::act))
        .route("/diversions/reviews/{id}/{action}", post(diversions::review))
        .route("/our-cases", get(own_cases::show))
        .route("/our-cases/{id}/answer", post(own_cases::answer))
        .route("/dos", get(dos::show))
        .route("/dos/report", post(dos::report))
        .route("/dos/{id}/{action}", post(dos::act))
        .route("/pcn-review", get(telephony::show))
        .route("/pcn-review/metrics", post(telephony::upload_metrics))
        .route("/pcn-review/notes", post(telephony::note))
        .route("/pcn-review/notes/{id}/erase", post(telephony::erase_note))
        .route("/icb", get(icb::dashboard))
        .route("/icb/cases", get(icb::cases))
        .route("/icb/import", post(icb::import))
        .route("/icb/register", get(register::show))
        .route("/icb/practices", get(icb::practices))
        .route("/icb/register/{file}", post(register::upload))
        .route("/icb/report.csv", get(assurance::csv))
        .route("/icb/report.xlsx", get(assurance::xlsx))
        .route("/lmc", get(lmc::show))
        .route("/lmc/{file}", get(assurance::lmc))
        .route("/admin/people", get(people::show).post(people::add))
        .route("/admin/people/{id}", get(people::edit).post(people::change))
        .route("/admin/people/{id}/active", post(people::set_active))
        .route("/gp-connect", get(gpconnect::show).post(gpconnect::start))
        .route("/gp-connect/slots.xlsx", get(gpconnect::slots))
        .route("/practices/{ods}", get(practices::show))
        .route("/practices/{ods}/flag", post(practices::flag))
        .route("/cases/{id}", get(case::show))
        .route("/cases/{id}/{action}", post(case::act))
        .route("/live", get(live::events))
        .route("/accessibility", get(accessibility))
        .route("/privacy", get(privacy))
        .route(
            "/static/app.css",
            get(|| static_file("text/css", include_str!("../assets/static/app.css"))),
        )
        .route(
            "/static/app.js",
            get(|| static_file("text/javascript", include_str!("../assets/static/app.js"))),
        )
        .nest_service("/assets/nhsuk", tower_http::services::ServeDir::new(&assets))
        .nest_service(
            "/assets/images",
            tower_http::services::ServeDir::new(assets.join("assets/images")),
        )
        .merge(sign_in_routes())
        .fallback(not_found)
        .layer(axum::middleware::from_fn(security_headers))
        .with_state(state)
}

/// The OpenID Connect sign-in's two pages, where this build has them.
#[cfg(feature = "sign-in")]
fn sign_in_routes() -> Router<WebState> {
    Router::new()
        .route("/auth/login", get(oidc::login))
        .route("/auth/callback", get(oidc::callback))
}

#[cfg(not(feature = "sign-in"))]
fn sign_in_routes() -> Router<WebState> {
    Router::new()
}

/// The signed-in person, if any (for pages anyone may open).
async fn maybe_signed_in(state: &WebState, headers: &HeaderMap) -> Option<Session> {
    state.0.sessions.load(headers).await.ok().flatten()
}

/// Any path the service does not have: a page saying so, in the service's own style.
async fn not_found(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let session = maybe_signed_in(&state, &headers).await;
    not_found_for(session.as_ref())
}

fn not_found_for(session: Option<&Session>) -> Response {
    problem(
        StatusCode::NOT_FOUND,
        session,
        "Page not found",
        "If you typed the web address, check it is correct. If you pasted the web address, check you copied \
         the entire address.",
    )
}

async fn accessibility(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let session = maybe_signed_in(&state, &headers).await;
    let body = html! {
        h1 { "Accessibility statement for CaseLedger" }
        p { "CaseLedger is used by NHS staff: Integrated Care Board assurance, the Local Medical Committee, the NHS 111 provider and Digital Champions. We want as many people as possible to be able to use it." }
        p { "You should be able to:" }
        ul {
            li { "change colours, contrast levels and fonts using your browser or device settings" }
            li { "zoom in up to 400% without the text spilling off the screen" }
            li { "use every page and form with a keyboard, and with JavaScript turned off" }
            li { "use every page with a screen reader: each chart has its numbers in a table beside it" }
            li { "use every page on a phone, 390 pixels wide" }
        }
        h2 { "How we test it" }
        p { "Every main page of each party is checked automatically with axe-core (WCAG 2.2 AA rules) in a real browser, at desktop and phone widths, on every change to the service." }
        h2 { "Reporting accessibility problems" }
        p { "If you find a problem, tell your organisation's CaseLedger administrator, who will pass it to the team that runs the service. We aim to reply within 5 working days." }
        h2 { "Enforcement procedure" }
        p { "The Equality and Human Rights Commission (EHRC) is responsible for enforcing the Public Sector Bodies (Websites and Mobile Applications) (No. 2) Accessibility Regulations 2018. If you are not happy with how we respond to your complaint, contact the Equality Advisory and Support Service (EASS)." }
    };
    layout::page("Accessibility statement", session.as_ref(), body).into_response()
}

async fn privacy(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let session = maybe_signed_in(&state, &headers).await;
    let body = html! {
        h1 { "Privacy notice" }
        p { "CaseLedger records how GP practices are supported to offer the NHS 111 appointment slots their contract requires. It holds no patient data." }
        h2 { "What we hold about people" }
        ul {
            li { "your NHS identity (who you are and your role), to sign you in and to record who did what" }
            li { "the names of practice staff contacted, and notes and other free text about a case, written by the people who work it" }
            li { "your email address and the notifications you want, if you give them" }
        }
        h2 { "Who sees it" }
        p { "Each party sees only what its role needs: contact names reach only Digital Champions; notes and free text never reach the LMC, and reach the NHS 111 provider only where it wrote them." }
        h2 { "How long we keep it, and erasure" }
        p { "Contact names and free text are stored encrypted with a key for each case. When someone asks to be forgotten, or when the retention period set for closed cases ends, the case's key is destroyed: that personal data can then never be read again, by anyone, while the record of what was done and when stays." }
        h2 { "Your rights" }
        p { "You can ask for the personal data held about you, and for it to be corrected or erased, through your organisation's data protection officer." }
    };
    layout::page("Privacy notice", session.as_ref(), body).into_response()
}

async fn static_file(content_type: &'static str, body: &'static str) -> Response {
    ([(CONTENT_TYPE, content_type), (CACHE_CONTROL, "max-age=300")], body).into_response()
}

/// Pages may load only this origin's scripts and styles, and may not be framed; a page that
/// shows case data is never kept by a browser or proxy cache (only the static files are).
async fn security_headers(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let cacheable = request.uri().path().starts_with("/static/") || request.uri().path().starts_with("/assets/");
    // A page opened while signed out (a link in an email) is where sign-in returns to.
    let wanted = (request.method() == axum::http::Method::GET)
        .then(|| request.uri().path_and_query().map(|p| p.as_str().to_string()))
        .flatten()
        .filter(|path| own_page(path).is_some() && path != "/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if let Some(wanted) = wanted
        && headers.get(LOCATION).is_some_and(|to| to == "/sign-in")
    {
        let to = format!("/sign-in?next={}", lists::urlencode(&wanted));
        if let Ok(to) = HeaderValue::from_str(&to) {
            headers.insert(LOCATION, to);
        }
    }
    if !cacheable {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    headers.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(
        HeaderName::from_static("x-content-type-options"),
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        HeaderName::from_static("referrer-policy"),
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// A redirect after a POST (303) or to a page (303 is right for both here).
fn redirect(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, to.to_string())]).into_response()
}

fn redirect_with_cookie(to: &str, cookie: String) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(LOCATION, to.to_string()), (SET_COOKIE, cookie)],
    )
        .into_response()
}

/// A page that says what went wrong, with its status.
fn problem(status: StatusCode, session: Option<&Session>, title: &str, detail: &str) -> Response {
    let body = html! {
        h1 { (title) }
        p { (detail) }
        @if let Some(session) = session {
            p { a href=(home_of(session.actor.role).0) { "Back to your start page" } }
        }
    };
    (status, layout::page(title, session, body)).into_response()
}

fn internal(session: Option<&Session>, error: impl std::fmt::Display) -> Response {
    tracing::error!(%error, "page failed");
    problem(
        StatusCode::INTERNAL_SERVER_ERROR,
        session,
        "Sorry, there is a problem with the service",
        "Try again later.",
    )
}

/// Starts expensive `work` for the signed-in person (by `key`: the person, or the session), or
/// answers 429 with when to try again.
// The refusal is the page itself, as every handler here answers one (`signed_in` too).
#[allow(clippy::result_large_err)]
fn throttled(
    state: &WebState,
    session: &Session,
    key: &str,
    work: caseledger_commands::throttle::Work,
) -> Result<caseledger_commands::throttle::Permit, Response> {
    state.0.throttle.start(key, work).map_err(|limited| {
        let mut response = problem(
            StatusCode::TOO_MANY_REQUESTS,
            Some(session),
            "Too many at once",
            &format!(
                "You have asked for too many {}s at once or in a short time. Try again in {} seconds.",
                limited.kind,
                limited.retry_after.as_secs().max(1)
            ),
        );
        response.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from(limited.retry_after.as_secs().max(1)),
        );
        response
    })
}

/// The signed-in person as a throttle knows them.
fn person(session: &Session) -> String {
    format!("{}:{}", session.actor.role, session.actor.id)
}

/// The signed-in person, or a redirect to the sign-in page.
async fn signed_in(state: &WebState, headers: &HeaderMap) -> Result<Session, Response> {
    match state.0.sessions.load(headers).await {
        Ok(Some(session)) => Ok(session),
        Ok(None) => Err(redirect("/sign-in")),
        Err(error) => Err(internal(None, error)),
    }
}

/// The signed-in person behind a form that carries their session's CSRF token.
async fn signed_in_form(state: &WebState, headers: &HeaderMap, form: &[(String, String)]) -> Result<Session, Response> {
    let session = signed_in(state, headers).await?;
    match csrf_refused(&session, form) {
        Some(refused) => Err(refused),
        None => Ok(session),
    }
}

/// The refusal when the form's `_csrf` does not match the session's.
fn csrf_refused(session: &Session, form: &[(String, String)]) -> Option<Response> {
    let given = form.iter().find(|(key, _)| key == "_csrf").map(|(_, v)| v.as_str());
    match given {
        Some(given) if session::same_token(given, &session.csrf) => None,
        _ => Some(problem(
            StatusCode::FORBIDDEN,
            Some(session),
            "This form has expired",
            "Go back, reload the page and try again.",
        )),
    }
}

/// A GraphQL error as the page's answer: its status and a sentence.
fn gql_problem(session: &Session, errors: &[gql::GqlError]) -> Response {
    let first = errors.first();
    match first.map(|e| &e.code) {
        Some(gql::ErrorCode::Forbidden) => problem(
            StatusCode::FORBIDDEN,
            Some(session),
            "You cannot see this page",
            "Your role does not give access to it.",
        ),
        Some(gql::ErrorCode::NotFound) => problem(
            StatusCode::NOT_FOUND,
            Some(session),
            "Page not found",
            "There is no such case, or you may not see it.",
        ),
        Some(gql::ErrorCode::NotConfigured) => problem(
            StatusCode::SERVICE_UNAVAILABLE,
            Some(session),
            "Not available on this service",
            first.map_or("This service has not been set up for it.", |e| e.message.as_str()),
        ),
        _ => internal(Some(session), first.map_or("unknown", |e| e.message.as_str())),
    }
}

/// Runs a page's typed operation as the session's actor: a GraphQL error becomes the page's
/// answer ([`gql_problem`]).
async fn fetch<Q, V>(
    state: &WebState,
    session: &Session,
    ids: Option<RequestIds>,
    operation: cynic::Operation<Q, V>,
) -> Result<Q, Response>
where
    Q: serde::de::DeserializeOwned,
    V: serde::Serialize,
{
    contract::run(&state.0.schema, &session.actor, ids, operation)
        .await
        .map_err(|errors| gql_problem(session, &errors))
}

/// What a party's page says first ([`lists::as_at_and_since`]); left out if it cannot be read.
async fn visit(state: &WebState, session: &Session, ids: Option<RequestIds>) -> Option<operations::visit::VisitQuery> {
    use cynic::QueryBuilder;
    contract::run(
        &state.0.schema,
        &session.actor,
        ids,
        operations::visit::VisitQuery::build(()),
    )
    .await
    .ok()
}

async fn root(State(state): State<WebState>, headers: HeaderMap) -> Response {
    match signed_in(&state, &headers).await {
        Ok(session) => redirect(home_of(session.actor.role).0),
        Err(response) => response,
    }
}

/// `?next=`: the page to go to after signing in.
#[derive(Debug, serde::Deserialize)]
pub struct Next {
    next: Option<String>,
}

impl Next {
    /// The page asked for, if it is one of this service's own.
    pub fn page(&self) -> Option<&str> {
        self.next.as_deref().and_then(own_page)
    }
}

async fn sign_in_page(
    State(state): State<WebState>,
    headers: HeaderMap,
    axum::extract::Query(next): axum::extract::Query<Next>,
) -> Response {
    let next = next.page();
    if let Ok(Some(session)) = state.0.sessions.load(&headers).await {
        return redirect(next.unwrap_or(home_of(session.actor.role).0));
    }
    let token = session::random_token();
    let login = match next {
        Some(next) => format!("/auth/login?next={}", lists::urlencode(next)),
        None => "/auth/login".to_string(),
    };
    let body = html! {
        h1 { "Sign in to CaseLedger" }
        @if next.is_some() {
            p id="sign-in-to-continue" { "Sign in to see the page you followed a link to." }
        }
        @if state.0.oidc.is_some() {
            p { "Sign in with your NHS smartcard or NHS login account." }
            a class="nhsuk-button" href=(login) draggable="false" role="button" { "Sign in with NHS CIS2" }
        }
        @if state.0.development {
            h2 class="nhsuk-heading-m" { "Development: pick a demo user" }
            p class="nhsuk-body-s" { "This appears only in development mode." }
            ul class="nhsuk-list cl-demo-users" {
                @for (role, id) in DEMO_USERS {
                    li {
                        form method="post" action="/sign-in" class="cl-inline" {
                            input type="hidden" name="_csrf" value=(token);
                            input type="hidden" name="user" value=(id);
                            @if let Some(next) = next { input type="hidden" name="next" value=(next); }
                            button class="nhsuk-button nhsuk-button--secondary" type="submit" id={"sign-in-" (id)} {
                                "Sign in as " (id) " (" (role.as_str().to_uppercase()) ")"
                            }
                        }
                    }
                }
            }
        }
        @if state.0.oidc.is_none() && !state.0.development {
            @if cfg!(feature = "sign-in") {
                p { "Sign-in is not configured: set CASELEDGER_OIDC_ISSUER and CASELEDGER_OIDC_CLIENT_ID." }
            } @else {
                p { "This build has no sign-in with NHS CIS2: build it with the sign-in feature (the deployment image has it), then set CASELEDGER_OIDC_ISSUER and CASELEDGER_OIDC_CLIENT_ID." }
            }
        }
    };
    let cookie = state.cookies().set(
        session::PRE_SESSION_COOKIE,
        &token,
        Some(std::time::Duration::from_secs(3600)),
    );
    ([(SET_COOKIE, cookie)], layout::page("Sign in", None, body)).into_response()
}

/// Development sign-in: the CSRF token of the sign-in page's cookie must come back in the form.
async fn sign_in(
    State(state): State<WebState>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let field = |name: &str| form.iter().find(|(key, _)| key == name).map(|(_, v)| v.as_str());
    if !state.0.development {
        return problem(StatusCode::NOT_FOUND, None, "Page not found", "Use the sign-in button.");
    }
    let expected = state.cookies().get(&headers, session::PRE_SESSION_COOKIE);
    match (expected, field("_csrf")) {
        (Some(expected), Some(given)) if session::same_token(&expected, given) => {}
        _ => {
            return problem(
                StatusCode::FORBIDDEN,
                None,
                "This form has expired",
                "Go back to the sign-in page, reload it and try again.",
            );
        }
    }
    let Some((role, id)) = DEMO_USERS.iter().find(|(_, id)| Some(*id) == field("user")).copied() else {
        return problem(
            StatusCode::BAD_REQUEST,
            None,
            "Unknown user",
            "Pick one of the demo users.",
        );
    };
    let actor = match demo_actor(role, id) {
        Ok(actor) => actor,
        Err(error) => return internal(None, error),
    };
    let to = field("next").and_then(own_page).unwrap_or(home_of(role).0);
    let name = DEMO_NAMES.iter().find(|(demo, _)| *demo == id).map(|(_, name)| *name);
    let visit = caseledger_commands::people::SignIn {
        visit: true,
        name,
        ..Default::default()
    };
    start_session(&state, &actor, &visit, to).await
}

/// Starts a session and sends the person on: the sign-in recorded in the directory of people
/// first (a deactivated person is refused).
async fn start_session(
    state: &WebState,
    actor: &Actor,
    visit: &caseledger_commands::people::SignIn<'_>,
    to: &str,
) -> Response {
    use caseledger_commands::people::{self, PeopleError};
    let now = caseledger_clock::now();
    match people::signed_in(&state.0.sessions.pool, actor.id.as_str(), actor.role, visit, now).await {
        Ok(_) => {}
        Err(PeopleError::Deactivated { .. }) => {
            tracing::warn!(actor = %actor.id.as_str(), "a deactivated person tried to sign in");
            return problem(
                StatusCode::FORBIDDEN,
                None,
                "Your access to CaseLedger has been turned off",
                "An administrator deactivated your account. If you still need CaseLedger, ask them to turn it back on.",
            );
        }
        Err(error) => return internal(None, error),
    }
    match state.0.sessions.start(actor).await {
        Ok(secret) => {
            tracing::info!(actor = %actor.id.as_str(), role = actor.role.as_str(), "signed in");
            let cookie = state
                .cookies()
                .set(session::SESSION_COOKIE, &secret, Some(session::SESSION_LIFETIME));
            redirect_with_cookie(to, cookie)
        }
        Err(error) => internal(None, error),
    }
}

async fn sign_out(
    State(state): State<WebState>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let session = match signed_in_form(&state, &headers, &form).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    if let Err(error) = state.0.sessions.end(&headers).await {
        return internal(Some(&session), error);
    }
    redirect_with_cookie("/sign-in", state.cookies().clear(session::SESSION_COOKIE))
}

/// The request's ids, when the monitoring middleware gave it some.
type Ids = Option<Extension<RequestIds>>;

fn ids(ids: Ids) -> Option<RequestIds> {
    ids.map(|Extension(ids)| ids)
}

/// `path` if it is one of this service's own pages (with a query string of plain characters),
/// so that a redirect built from a form field can never leave the site: `//host`, `/\host`,
/// tabs and line breaks (which browsers strip, turning `/\t/host` into `//host`) and unknown
/// paths are all refused.
pub fn own_page(path: &str) -> Option<&str> {
    let (before, fragment) = path.split_once('#').unwrap_or((path, ""));
    let (route, query) = before.split_once('?').unwrap_or((before, ""));
    let known = matches!(
        route,
        "/" | "/champion"
            | "/dhu"
            | "/icb"
            | "/icb/cases"
            | "/icb/register"
            | "/icb/practices"
            | "/lmc"
            | "/admin/people"
            | "/diversions"
            | "/pcn-review"
            | "/dos"
            | "/our-cases"
    ) || route
        .strip_prefix("/cases/")
        .is_some_and(|id| uuid::Uuid::parse_str(id).is_ok_and(|parsed| parsed.to_string() == id))
        || route
            .strip_prefix("/practices/")
            .is_some_and(|ods| caseledger_cases::values::OdsCode::parse(ods).is_ok_and(|code| code.as_str() == ods));
    let plain_query = query
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'=' | b'&' | b'%' | b'+' | b'-' | b'_' | b'.'));
    let plain_fragment = fragment.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    (known && plain_query && plain_fragment).then_some(path)
}

#[cfg(test)]
mod tests {
    use super::own_page;

    #[test]
    fn only_the_services_own_pages_are_places_to_return_to() {
        let case = "/cases/0194f3a2-7c1e-7d2a-9b3c-1a2b3c4d5e6f";
        for good in [
            "/champion",
            "/dhu",
            "/icb/cases?status=FLAGGED&place=Place+7",
            "/champion?assigned=0194f3a2-7c1e-7d2a-9b3c-1a2b3c4d5e6f#assigned",
            case,
            "/practices/Z00012",
            "/icb/practices?q=mill",
            "/admin/people",
        ] {
            assert_eq!(own_page(good), Some(good), "{good}");
        }
        for bad in [
            "//evil.example/x",
            "/\t/evil.example/x",
            "/\t/evil.example/x",
            "/\\evil.example",
            "https://evil.example/",
            "/icb/../../evil",
            "/cases/not-a-case",
            "/practices/z00012",
            "/practices/../admin",
            "/sign-out",
            "/icb/cases?next=//evil.example/<script>",
            "/champion\r\nLocation: //evil.example",
            "/champion#x\"><script>",
            "",
        ] {
            assert_eq!(own_page(bad), None, "{bad:?}");
        }
    }
}
