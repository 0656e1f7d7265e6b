//! Starting the real `caseledger` binary on a fresh database and speaking GraphQL to it over HTTP.

#![allow(clippy::unwrap_used, clippy::missing_panics_doc)] // test support: fail loudly

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// A running `caseledger serve`, stopped (SIGTERM) when dropped.
#[allow(missing_debug_implementations)]
pub struct Service {
    child: Child,
    pub url: String,
    secret: String,
    _db: caseledger_testsupport::TestDb,
    _runtime: tokio::runtime::Runtime,
}

/// The `caseledger` binary beside this test's own, built first if need be.
pub fn binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|deps| deps.parent()).unwrap().to_path_buf();
    let binary = dir.join("caseledger");
    if !binary.exists() {
        let status = Command::new("cargo")
            .args(["build", "-q", "-p", "caseledger-api", "--bin", "caseledger"])
            .status()
            .unwrap();
        assert!(status.success(), "could not build the caseledger binary");
    }
    binary
}

pub fn fixture(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(path)
}

impl Service {
    /// In development mode.
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
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let secret = format!("black-box-{}", std::process::id());
        let mut command = Command::new(binary());
        command
            .arg("serve")
            .env("DATABASE_URL", db.url())
            .env("CASELEDGER_LISTEN", format!("127.0.0.1:{port}"))
            .env("CASELEDGER_DEV_JWT_SECRET", &secret)
            .env("RUST_LOG", "warn")
            .envs(extra.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        for name in without {
            command.env_remove(name);
        }
        let child = command.spawn().unwrap();
        let service = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            secret,
            _db: db,
            _runtime: runtime,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while ureq::get(&format!("{}/readyz", service.url)).call().is_err() {
            assert!(Instant::now() < deadline, "the service did not become ready");
            std::thread::sleep(Duration::from_millis(100));
        }
        service
    }

    /// A development token, as `caseledger token` prints it.
    pub fn token(&self, role: &str, sub: &str) -> String {
        let out = Command::new(binary())
            .args(["token", "--role", role, "--sub", sub])
            .env("CASELEDGER_DEV_JWT_SECRET", &self.secret)
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
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
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
