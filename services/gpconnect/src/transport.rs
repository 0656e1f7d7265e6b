//! Blocking HTTPS with a client certificate (ureq 2 + rustls 0.23/ring), retries and a rate limit.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::{ConfigError, HttpSettings, TlsPaths};
use crate::request::SlotSearchRequest;

/// Longest backoff between retries.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

fn tls_err(path: &Path, reason: impl ToString) -> ConfigError {
    ConfigError::Tls {
        path: path.to_owned(),
        reason: reason.to_string(),
    }
}

/// Read every certificate from a PEM file.
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| tls_err(path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| tls_err(path, e))?;
    if certs.is_empty() {
        return Err(tls_err(path, "no CERTIFICATE in PEM file"));
    }
    Ok(certs)
}

/// Read a private key from a PEM file.
pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, ConfigError> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| tls_err(path, e))
}

/// The rustls ring provider (explicit, so the crate never depends on a process default).
pub fn crypto_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A rustls client configuration presenting the client certificate and trusting only the CA bundle.
pub fn client_tls_config(paths: &TlsPaths) -> Result<rustls::ClientConfig, ConfigError> {
    let mut roots = rustls::RootCertStore::empty();
    for ca in load_certs(&paths.ca_bundle_path)? {
        roots.add(ca).map_err(|e| tls_err(&paths.ca_bundle_path, e))?;
    }
    let chain = load_certs(&paths.client_cert_path)?;
    let key = load_key(&paths.client_key_path)?;
    rustls::ClientConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_err(&paths.client_cert_path, e))?
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .map_err(|e| {
            tls_err(
                &paths.client_key_path,
                format!("certificate and key do not fit together: {e}"),
            )
        })
}

/// A ureq agent using `tls` and the configured timeouts.
pub fn build_agent(tls: rustls::ClientConfig, settings: &HttpSettings) -> ureq::Agent {
    ureq::AgentBuilder::new()
        .tls_config(Arc::new(tls))
        // A whole request (connect, send, the answer read to its end) within connect + read time:
        // a reply that drips a byte at a time cannot hold a search for ever.
        .timeout(Duration::from_millis(
            settings.connect_timeout_ms.saturating_add(settings.read_timeout_ms),
        ))
        .timeout_connect(Duration::from_millis(settings.connect_timeout_ms))
        .timeout_read(Duration::from_millis(settings.read_timeout_ms))
        .timeout_write(Duration::from_millis(settings.read_timeout_ms))
        .redirects(0)
        .https_only(true)
        .build()
}

/// A response of any status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// HTTP status.
    pub status: u16,
    /// Body text.
    pub body: String,
    /// Attempts made (1 = no retry).
    pub attempts: u32,
}

/// No response could be obtained.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("transport error after {attempts} attempt(s): {message}")]
pub struct TransportError {
    /// Last error.
    pub message: String,
    /// Attempts made.
    pub attempts: u32,
}

/// Whether a status is worth retrying: 5xx except 501 Not Implemented.
pub fn retryable_status(status: u16) -> bool {
    (500..600).contains(&status) && status != 501
}

/// Backoff before retry number `retry` (1-based): `base * 2^(retry-1)`, capped.
pub fn backoff(base: Duration, retry: u32) -> Duration {
    let factor = 1u32.checked_shl(retry.saturating_sub(1)).unwrap_or(u32::MAX);
    base.checked_mul(factor).unwrap_or(MAX_BACKOFF).min(MAX_BACKOFF)
}

/// Enforces a minimum interval between request starts, across threads.
#[derive(Debug, Default)]
pub struct RateLimiter {
    interval: Duration,
    next: Mutex<Option<Instant>>,
}

impl RateLimiter {
    /// A limiter with this minimum interval (zero disables it).
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            next: Mutex::new(None),
        }
    }

    /// Block until this caller may start a request.
    pub fn wait_turn(&self) {
        let wait = {
            let mut next = self.next.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let now = Instant::now();
            let slot = next.map_or(now, |n| n.max(now));
            *next = Some(slot + self.interval);
            slot - now
        };
        if !wait.is_zero() {
            std::thread::sleep(wait);
        }
    }
}

/// The HTTP client: agent, settings and rate limiter.
#[derive(Debug)]
pub struct HttpClient {
    agent: ureq::Agent,
    settings: HttpSettings,
    limiter: RateLimiter,
}

impl HttpClient {
    /// A client from an agent and settings.
    pub fn new(agent: ureq::Agent, settings: HttpSettings) -> Self {
        Self {
            agent,
            settings,
            limiter: RateLimiter::new(Duration::from_millis(settings.min_request_interval_ms)),
        }
    }

    /// GET with retries. `build` is called for every attempt with the time since the first one,
    /// so each attempt carries a fresh trace id and JWT. Transport errors and 5xx (except 501)
    /// are retried; every other status is returned as is, never retried.
    pub fn get_with_retries<F>(&self, mut build: F) -> Result<HttpResponse, TransportError>
    where
        F: FnMut(Duration) -> SlotSearchRequest,
    {
        let started = Instant::now();
        let base = Duration::from_millis(self.settings.retry_base_delay_ms);
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            if attempt > 1 {
                std::thread::sleep(backoff(base, attempt - 1));
            }
            self.limiter.wait_turn();
            let request = build(started.elapsed());
            let last_attempt = attempt > self.settings.max_retries;
            match self.send(&request) {
                Ok((status, body)) => {
                    if retryable_status(status) && !last_attempt {
                        tracing::warn!(status, attempt, url = %request.url, "GP Connect server error; retrying");
                        continue;
                    }
                    return Ok(HttpResponse {
                        status,
                        body,
                        attempts: attempt,
                    });
                }
                Err(message) => {
                    if last_attempt {
                        return Err(TransportError {
                            message,
                            attempts: attempt,
                        });
                    }
                    tracing::warn!(%message, attempt, url = %request.url, "GP Connect transport error; retrying");
                }
            }
        }
    }

    fn send(&self, request: &SlotSearchRequest) -> Result<(u16, String), String> {
        let mut call = self.agent.get(&request.url);
        for (name, value) in &request.headers {
            call = call.set(name, value);
        }
        let response = match call.call() {
            Ok(response) => response,
            Err(ureq::Error::Status(_, response)) => response,
            Err(ureq::Error::Transport(t)) => return Err(t.to_string()),
        };
        let status = response.status();
        let body = response
            .into_string()
            .map_err(|e| format!("reading the response body: {e}"))?;
        Ok((status, body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_server_errors_are_retryable() {
        for s in [500, 502, 503, 504] {
            assert!(retryable_status(s), "{s}");
        }
        for s in [200, 400, 403, 404, 409, 422, 501] {
            assert!(!retryable_status(s), "{s}");
        }
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let base = Duration::from_millis(100);
        assert_eq!(backoff(base, 1), Duration::from_millis(100));
        assert_eq!(backoff(base, 2), Duration::from_millis(200));
        assert_eq!(backoff(base, 4), Duration::from_millis(800));
        assert_eq!(backoff(base, 40), MAX_BACKOFF);
    }

    #[test]
    fn rate_limiter_spaces_requests() {
        let limiter = RateLimiter::new(Duration::from_millis(40));
        let start = Instant::now();
        for _ in 0..4 {
            limiter.wait_turn();
        }
        assert!(start.elapsed() >= Duration::from_millis(120), "{:?}", start.elapsed());
        let off = RateLimiter::new(Duration::ZERO);
        let start = Instant::now();
        for _ in 0..100 {
            off.wait_turn();
        }
        assert!(start.elapsed() < Duration::from_millis(100));
    }

    #[test]
    fn missing_tls_files_are_config_errors() {
        let paths = TlsPaths {
            client_cert_path: "/nonexistent/c.pem".into(),
            client_key_path: "/nonexistent/k.pem".into(),
            ca_bundle_path: "/nonexistent/ca.pem".into(),
        };
        match client_tls_config(&paths) {
            Err(ConfigError::Tls { path, .. }) => assert_eq!(path, Path::new("/nonexistent/ca.pem")),
            other => panic!("unexpected {other:?}"),
        }
    }
}
