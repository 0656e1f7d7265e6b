//! Starting the real `caseledger` binary on a fresh database and speaking GraphQL to it over HTTP.

#![allow(clippy::unwrap_used, clippy::missing_panics_doc)] // test support: fail loudly

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// A running `caseledger serve`, stopped (SIGTERM) when dropped.
#[allow(missing_debug_implementations)]
pub struct Service {
    child: Child,
    pub url: String,
    /// Where its `/metrics` listener is (`CASELEDGER_METRICS_LISTEN`).
    pub metrics_url: String,
    /// Where its standard error goes, when asked for ([`Launch::log_to`]).
    pub log: Option<PathBuf>,
    _db: Option<caseledger_testsupport::TestDb>,
    _runtime: Option<tokio::runtime::Runtime>,
}

/// The development secret of every service this test process starts, so that a token from one
/// instance is good at all of them (at least 32 bytes, as the service requires).
pub fn secret() -> String {
    format!("black-box-tests-of-process-{:012}", std::process::id())
}

/// A free port on the loopback interface, now.
pub fn free_port() -> u16 {
    // A port is free when asked, not when the service binds it: never hand the same one to two
    // services of this process (tests run in parallel), or one test talks to another's service.
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut given = GIVEN.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

/// How to start a service on a database the test already has.
/// The champions the tests give cases to: in the directory of people from the start.
pub const TEST_CHAMPIONS: &[&str] = &[
    "dc-amira",
    "dc-ben",
    "dc-bryn",
    "dc-chloe",
    "dc-ana",
    "dc-marker-champion-id",
];

#[derive(Debug, Default)]
pub struct Launch<'a> {
    pub env: &'a [(&'a str, &'a str)],
    pub without: &'a [&'a str],
    pub log_to: Option<PathBuf>,
}

/// The `caseledger` binary beside this test's own. Run by cargo, it is brought up to date once
/// per test process (`cargo test -p caseledger-tests` alone does not rebuild it, and a stale
/// binary would test yesterday's code); run directly, the one there is used (built if missing).
/// The first focused run (`cargo test -p caseledger-tests --test web`) builds every test of the
/// workspace with it, once.
pub fn binary() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let exe = std::env::current_exe().unwrap();
            let dir = exe.parent().and_then(|deps| deps.parent()).unwrap().to_path_buf();
            let binary = dir.join("caseledger");
            let cargo = std::env::var("CARGO").ok();
            if cargo.is_some() || !binary.exists() {
                let status = Command::new(cargo.unwrap_or_else(|| "cargo".into()))
                    // The deployment image's features too (traces, email): the tests try them. Built
                    // as the README's test command builds it, with the whole workspace's features:
                    // under that command this finds everything built; `-p caseledger` alone would
                    // resolve other features for shared crates and build most of them again.
                    .args(["test", "-q", "--workspace", "--all-features", "--no-run"])
                    .status()
                    .unwrap();
                assert!(status.success(), "could not build the caseledger binary");
            }
            binary
        })
        .clone()
}

/// The day every service a test starts lives on (`CASELEDGER_NOW`), whatever the real date.
pub use caseledger_testsupport::TEST_NOW;

pub fn fixture(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(path)
}

impl Service {
    /// In development mode, on a fresh database of its own.
    pub fn start() -> Self {
        Self::start_with(&[], &[])
    }

    /// With extra environment variables, and without some of the defaults.
    pub fn start_with(extra: &[(&str, &str)], without: &[&str]) -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let db = runtime.block_on(caseledger_testsupport::fresh_db());
        let mut service = Self::launch(
            &db.url(),
            Launch {
                env: extra,
                without,
                log_to: None,
            },
        );
        service._db = Some(db);
        service._runtime = Some(runtime);
        service
    }

    /// On `database_url`, which the caller keeps; waits until it answers `/readyz`.
    pub fn launch(database_url: &str, launch: Launch<'_>) -> Self {
        let port = free_port();
        let metrics_port = free_port();
        let mut command = Command::new(binary());
        command
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("CASELEDGER_LISTEN", format!("127.0.0.1:{port}"))
            .env("CASELEDGER_METRICS_LISTEN", format!("127.0.0.1:{metrics_port}"))
            .env("CASELEDGER_DEV_JWT_SECRET", secret())
            .env("CASELEDGER_KEK", caseledger_testsupport::kek())
            .env("CASELEDGER_NOW", TEST_NOW)
            .env("RUST_LOG", "warn")
            .envs(launch.env.iter().copied())
            .stdout(Stdio::null());
        match &launch.log_to {
            Some(path) => command.stderr(std::fs::File::create(path).unwrap()),
            None => command.stderr(Stdio::inherit()),
        };
        for name in launch.without {
            command.env_remove(name);
        }
        if launch.without.contains(&"CASELEDGER_DEV_JWT_SECRET") {
            // Production mode keeps the real clock (moving it is refused there); such tests look
            // at how the service answers, not at dates.
            command.env_remove("CASELEDGER_NOW");
        }
        let child = command.spawn().unwrap();
        let mut service = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            metrics_url: format!("http://127.0.0.1:{metrics_port}"),
            log: launch.log_to,
            _db: None,
            _runtime: None,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while ureq::get(&format!("{}/readyz", service.url)).call().is_err() {
            if let Ok(Some(status)) = service.child.try_wait() {
                panic!("the service exited before it was ready: {status}");
            }
            assert!(Instant::now() < deadline, "the service did not become ready");
            std::thread::sleep(Duration::from_millis(100));
        }
        if !launch.without.contains(&"CASELEDGER_DEV_JWT_SECRET") {
            service.add_champions(TEST_CHAMPIONS);
        }
        service
    }

    /// Adds champions to the directory of people, as an admin would ahead of their first
    /// sign-in (one already there is left as it is).
    pub fn add_champions(&self, ids: &[&str]) {
        let admin = self.token("admin", "ops-1");
        for id in ids {
            self.graphql(
                Some(&admin),
                "mutation($i: AddPersonInput!) { addPerson(input: $i) { id } }",
                json!({ "i": { "id": id, "name": format!("Champion {id}"), "role": "CHAMPION" } }),
            );
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `kill -9`: no chance to clean up.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, then waits for the exit (at most `within`); `None` if it did not exit in time.
    pub fn terminate(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// `/metrics`, as Prometheus scrapes it from the metrics listener.
    pub fn metrics(&self) -> String {
        ureq::get(&format!("{}/metrics", self.metrics_url))
            .call()
            .unwrap()
            .into_string()
            .unwrap()
    }

    /// The sum of every series of `name` whose labels include `labels`; `None` if there is none.
    pub fn metric(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        metric_in(&self.metrics(), name, labels)
    }

    /// A development token, as `caseledger token` prints it.
    pub fn token(&self, role: &str, sub: &str) -> String {
        self.token_for(role, sub, 2 * 60 * 60)
    }

    /// A development token valid for `seconds`.
    pub fn token_for(&self, role: &str, sub: &str, seconds: u64) -> String {
        let out = Command::new(binary())
            .args(["token", "--role", role, "--sub", sub, "--seconds", &seconds.to_string()])
            .env("CASELEDGER_DEV_JWT_SECRET", secret())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    /// A development token of a role scoped to organisation `org` (a practice's ODS code, a PCN's
    /// code), as `caseledger token --org` prints it.
    pub fn token_of(&self, role: &str, sub: &str, org: &str) -> String {
        let out = Command::new(binary())
            .args(["token", "--role", role, "--sub", sub, "--org", org])
            .env("CASELEDGER_DEV_JWT_SECRET", secret())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    /// POSTs a GraphQL request; the response body as JSON, whatever the status.
    pub fn graphql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut request = ureq::post(&format!("{}/graphql", self.url));
        if let Some(token) = token {
            request = request.set("Authorization", &format!("Bearer {token}"));
        }
        match request.send_json(json!({ "query": query, "variables": variables })) {
            Ok(response) => response.into_json().unwrap(),
            Err(ureq::Error::Status(_, response)) => response.into_json().unwrap_or(Value::Null),
            Err(error) => panic!("{error}"),
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        if self.terminate(Duration::from_secs(15)).is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The sum of every series of `name` in a Prometheus text exposition whose labels include
/// `labels`; `None` if there is none.
pub fn metric_in(exposition: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let mut total = None;
    for line in exposition
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let (series, value) = line.rsplit_once(' ').unwrap();
        let (series_name, series_labels) = series
            .split_once('{')
            .map_or((series, ""), |(n, rest)| (n, rest.trim_end_matches('}')));
        if series_name != name {
            continue;
        }
        let pairs: Vec<(&str, &str)> = series_labels
            .split(',')
            .filter(|p| !p.is_empty())
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (k, v.trim_matches('"')))
            .collect();
        if labels.iter().all(|wanted| pairs.contains(wanted)) {
            *total.get_or_insert(0.0) += value.parse::<f64>().unwrap();
        }
    }
    total
}

/// Polls `check` every 100 ms until it holds; false if it did not within `within`.
pub fn eventually(within: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if check() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The `extensions.code` of each error.
pub fn codes(response: &Value) -> Vec<String> {
    response["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["extensions"]["code"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// A graphql-transport-ws connection to the service at `service_url`, `connection_init` sent
/// (with the token, if any).
pub async fn connect_ws(service_url: &str, token: Option<String>) -> WebSocket {
    let mut request = (service_url.replace("http://", "ws://") + "/graphql")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let payload = token.map_or(json!({}), |t| json!({ "Authorization": format!("Bearer {t}") }));
    socket
        .send(Message::text(
            json!({ "type": "connection_init", "payload": payload }).to_string(),
        ))
        .await
        .unwrap();
    socket
}

pub type WebSocket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next text message as JSON (20 s at most), or `{"type": "closed" | "ended"}`.
pub async fn next_message(socket: &mut WebSocket) -> Value {
    loop {
        match tokio::time::timeout(Duration::from_secs(20), socket.next())
            .await
            .expect("a message in time")
        {
            Some(Ok(Message::Text(text))) => return serde_json::from_str(&text).unwrap(),
            Some(Ok(Message::Close(frame))) => {
                return json!({ "type": "closed", "frame": frame.map(|f| f.reason.to_string()) });
            }
            Some(Ok(_)) => continue,
            other => return json!({ "type": "ended", "detail": format!("{other:?}") }),
        }
    }
}

/// One person's browser, as far as HTTP goes: a cookie jar of one cookie each, no redirects.
#[allow(missing_debug_implementations)]
pub struct Web {
    agent: ureq::Agent,
    pub base: String,
    pub cookies: Vec<(String, String)>,
}

#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub set_cookies: Vec<String>,
    pub content_type: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Web {
    pub fn new(service: &Service) -> Self {
        Self {
            agent: ureq::AgentBuilder::new().redirects(0).build(),
            base: service.url.clone(),
            cookies: Vec::new(),
        }
    }

    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub fn keep(&mut self, page: &Page) {
        for cookie in &page.set_cookies {
            let pair = cookie.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            self.cookies.retain(|(k, _)| k != name);
            if !value.is_empty() {
                self.cookies.push((name.to_string(), value.to_string()));
            }
        }
    }

    pub fn read(&mut self, result: Result<ureq::Response, ureq::Error>) -> Page {
        let response = match result {
            Ok(response) | Err(ureq::Error::Status(_, response)) => response,
            Err(error) => panic!("{error}"),
        };
        let page = Page {
            status: response.status(),
            location: response.header("location").map(str::to_string),
            set_cookies: response.all("set-cookie").into_iter().map(str::to_string).collect(),
            content_type: response.header("content-type").unwrap_or("").to_string(),
            headers: response
                .headers_names()
                .into_iter()
                .map(|name| {
                    let value = response.header(&name).unwrap_or("").to_string();
                    (name, value)
                })
                .collect(),
            body: response.into_string().unwrap(),
        };
        self.keep(&page);
        page
    }

    pub fn get(&mut self, path: &str) -> Page {
        let request = self
            .agent
            .get(&format!("{}{path}", self.base))
            .set("Cookie", &self.cookie_header());
        self.read(request.call())
    }

    /// A download's bytes (a spreadsheet is not text).
    pub fn get_bytes(&mut self, path: &str) -> (u16, String, Vec<u8>) {
        let response = self
            .agent
            .get(&format!("{}{path}", self.base))
            .set("Cookie", &self.cookie_header())
            .call()
            .unwrap();
        let status = response.status();
        let content_type = response.header("content-type").unwrap_or("").to_string();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut response.into_reader(), &mut bytes).unwrap();
        (status, content_type, bytes)
    }

    pub fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let request = self
            .agent
            .post(&format!("{}{path}", self.base))
            .set("Cookie", &self.cookie_header());
        self.read(request.send_form(form))
    }

    pub fn post_file(&mut self, path: &str, csrf: &str, csv: &str) -> Page {
        let boundary = "----caseledger-test-boundary";
        let body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{csrf}\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"csv\"; filename=\"extract.csv\"\r\n\
             Content-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n"
        );
        let request = self
            .agent
            .post(&format!("{}{path}", self.base))
            .set("Cookie", &self.cookie_header())
            .set("Content-Type", &format!("multipart/form-data; boundary={boundary}"));
        self.read(request.send_string(&body))
    }

    /// Signs in as a demo user through the development sign-in page.
    pub fn sign_in(&mut self, user: &str) -> Page {
        let page = self.get("/sign-in");
        let token = hidden(&page.body, "_csrf");
        let signed_in = self.post("/sign-in", &[("_csrf", &token), ("user", user)]);
        assert_eq!(signed_in.status, 303, "{}", signed_in.body);
        signed_in
    }

    /// The CSRF token the pages of this session carry.
    pub fn csrf(&mut self, path: &str) -> String {
        hidden(&self.get(path).body, "_csrf")
    }
}

/// The value of the first hidden input called `name`.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no {name} in {html}")) + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

/// Returns once the service has taken in every message sent on `socket` before it: two
/// ping/pong round trips (the protocol answers a ping before it next looks at its operations,
/// so after the second pong every subscription sent before the first ping has started).
pub async fn settle(socket: &mut WebSocket) {
    for _ in 0..2 {
        socket
            .send(Message::text(json!({ "type": "ping" }).to_string()))
            .await
            .unwrap();
        loop {
            let message = next_message(socket).await;
            if message["type"] == "pong" {
                break;
            }
            assert_ne!(message["type"], "closed", "{message}");
        }
    }
}
