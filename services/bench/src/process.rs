//! The service as its own process (`caseledger serve`, beside this binary), so that what it
//! costs (its peak memory, its start) is its own, not the benchmark's.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

/// The development secret the benchmarks sign their tokens with.
pub const SECRET: &str = "bench-secret-that-is-at-least-32-bytes-long";

/// A running `caseledger serve`, killed when dropped.
pub struct ServiceProcess {
    child: Child,
    pub base: String,
    /// Its `/metrics` listener (the operators' port).
    pub metrics_base: String,
}

fn binary() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let binary = exe
        .parent()
        .map(|dir| dir.join("caseledger"))
        .filter(|path| path.is_file())
        .context("no `caseledger` beside this binary: cargo build --release -p caseledger -p caseledger-bench")?;
    Ok(binary)
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl ServiceProcess {
    /// Starts it on `database_url` (development mode, on the loopback interface); returns once
    /// it has been spawned, not once it is ready.
    pub fn spawn(database_url: &str, port: Option<u16>) -> anyhow::Result<Self> {
        let port = match port {
            Some(port) => port,
            None => free_port()?,
        };
        let metrics_port = free_port()?;
        let child = Command::new(binary()?)
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("CASELEDGER_LISTEN", format!("127.0.0.1:{port}"))
            .env("CASELEDGER_DEV_JWT_SECRET", SECRET)
            .env("CASELEDGER_KEK", kek()?)
            .env("RUST_LOG", "warn")
            .env("CASELEDGER_METRICS_LISTEN", format!("127.0.0.1:{metrics_port}"))
            .stdout(Stdio::null())
            .spawn()?;
        Ok(Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            metrics_base: format!("http://127.0.0.1:{metrics_port}"),
        })
    }

    pub fn port(&self) -> Option<u16> {
        self.base.rsplit(':').next().and_then(|p| p.parse().ok())
    }

    /// Waits until it answers `/readyz`.
    pub fn wait_ready(&mut self, within: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + within;
        while ureq::get(&format!("{}/readyz", self.base)).call().is_err() {
            if let Some(status) = self.child.try_wait()? {
                anyhow::bail!("the service exited before it was ready: {status}");
            }
            anyhow::ensure!(Instant::now() < deadline, "the service was not ready within {within:?}");
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(())
    }

    /// The most memory it has held at once (VmHWM), in MB.
    pub fn peak_rss_mb(&self) -> anyhow::Result<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let kb: f64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .context("no VmHWM in /proc/<pid>/status")?;
        Ok(kb / 1024.0)
    }

    /// SIGTERM, and waits for it to finish.
    pub fn stop(mut self) -> anyhow::Result<()> {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.child.try_wait()?.is_none() {
            anyhow::ensure!(Instant::now() < deadline, "the service did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A key-encryption key for the service under test: the bench's own `CASELEDGER_KEK` when set
/// (so a database kept with `DATABASE_URL` can be served again by hand), else one made per run.
fn kek() -> anyhow::Result<&'static str> {
    static KEK: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    if let Some(kek) = KEK.get() {
        return Ok(kek);
    }
    let text = match std::env::var("CASELEDGER_KEK") {
        Ok(text) if !text.is_empty() => text,
        _ => caseledger_eventstore::Kek::generate()?.1,
    };
    Ok(KEK.get_or_init(|| text))
}
