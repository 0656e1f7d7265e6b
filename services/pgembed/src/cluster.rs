//! One cluster in one directory: `<dir>/data` for the data, `<dir>` itself for the Unix socket and
//! `<dir>/server.log` for the server's log.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use sqlx::postgres::PgConnectOptions;

use crate::{PgEmbedError, find_server_binaries};

/// The port only names the socket file (`.s.PGSQL.<port>`); nothing listens on TCP.
const SOCKET_PORT: u16 = 5432;
const SUPERUSER: &str = "postgres";

/// How `pg_ctl stop` ends the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopMode {
    /// Roll back open transactions and shut down cleanly.
    Fast,
    /// Quit at once, as a crash would; recovery runs at the next start.
    Immediate,
}

#[derive(Debug, Clone)]
pub struct Cluster {
    bin_dir: PathBuf,
    base_dir: PathBuf,
    /// Set when this process is root: the uid and gid of `postgres`, who owns and runs the cluster.
    run_as: Option<(u32, u32)>,
}

impl Cluster {
    /// A cluster in `base_dir`, created with `initdb` unless one is already there.
    /// `durable_init = false` skips syncing initdb's files (for throwaway clusters); the running
    /// server keeps `fsync = on` either way.
    pub fn open(base_dir: impl Into<PathBuf>, durable_init: bool) -> Result<Self, PgEmbedError> {
        let bin_dir = find_server_binaries()?;
        let base_dir = base_dir.into();
        let run_as = if current_uid()? == 0 {
            Some(postgres_ids()?)
        } else {
            None
        };
        create_private_dir(&base_dir, run_as)?;
        let base_dir = std::fs::canonicalize(&base_dir).map_err(|source| io_error(&base_dir, source))?;
        if base_dir.to_str().is_none() {
            let source = std::io::Error::new(std::io::ErrorKind::InvalidInput, "the path is not valid UTF-8");
            return Err(io_error(&base_dir, source));
        }
        let cluster = Self {
            bin_dir,
            base_dir,
            run_as,
        };
        if !cluster.data_dir().join("PG_VERSION").exists() {
            cluster.initdb(durable_init)?;
        }
        Ok(cluster)
    }

    /// A fresh cluster in a new directory under the system's temporary directory.
    pub fn temporary(label: &str) -> Result<Self, PgEmbedError> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let dir = std::env::temp_dir().join(format!("{label}-{}-{nanos:x}", std::process::id()));
        Self::open(dir, false)
    }

    /// A streaming standby of this running cluster, in a new directory under the system's
    /// temporary directory: a base backup (`pg_basebackup -R`, which writes `standby.signal` and
    /// the connection back to this cluster), listening on a socket of its own, started. It
    /// replays this cluster's changes and answers read-only queries (hot standby).
    pub fn start_standby(&self, label: &str) -> Result<Self, PgEmbedError> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let base_dir = std::env::temp_dir().join(format!("{label}-{}-{nanos:x}", std::process::id()));
        create_private_dir(&base_dir, self.run_as)?;
        let base_dir = std::fs::canonicalize(&base_dir).map_err(|source| io_error(&base_dir, source))?;
        if base_dir.to_str().is_none() {
            let source = std::io::Error::new(std::io::ErrorKind::InvalidInput, "the path is not valid UTF-8");
            return Err(io_error(&base_dir, source));
        }
        let standby = Self {
            bin_dir: self.bin_dir.clone(),
            base_dir,
            run_as: self.run_as,
        };
        let data = standby.data_dir();
        let port = SOCKET_PORT.to_string();
        let args = [
            "-D",
            path_str(&data),
            "-h",
            path_str(&self.base_dir),
            "-p",
            &port,
            "-U",
            SUPERUSER,
            "-X",
            "stream",
            "-R",
            "--no-sync",
            // A spread checkpoint would wait up to 90 % of checkpoint_timeout after a busy load.
            "--checkpoint=fast",
        ];
        check(standby.server_command("pg_basebackup", &args).output(), "pg_basebackup")?;
        // The copied settings name the primary's socket directory; the last setting wins.
        let socket_dir = standby.base_dir.display().to_string().replace('\'', "''");
        let conf = data.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf).map_err(|source| io_error(&conf, source))?;
        text.push_str(&format!(
            "\n# caseledger: a standby of {primary}\nunix_socket_directories = '{socket_dir}'\nhot_standby = on\n",
            primary = self.base_dir.display()
        ));
        std::fs::write(&conf, text).map_err(|source| io_error(&conf, source))?;
        standby.start()?;
        Ok(standby)
    }

    pub fn base_dir(&self) -> &Path {
        &self.base_dir
    }

    pub fn data_dir(&self) -> PathBuf {
        self.base_dir.join("data")
    }

    pub fn log_file(&self) -> PathBuf {
        self.base_dir.join("server.log")
    }

    /// Connection options for `database` over the cluster's Unix socket, as the superuser.
    pub fn connect_options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new()
            .socket(&self.base_dir)
            .port(SOCKET_PORT)
            .username(SUPERUSER)
            .database(database)
    }

    /// The URL form of [`Cluster::connect_options`], for `DATABASE_URL` and command-line tools.
    pub fn database_url(&self, database: &str) -> String {
        format!(
            "postgres://{SUPERUSER}@localhost:{SOCKET_PORT}/{database}?host={}",
            self.base_dir.display()
        )
    }

    pub fn is_running(&self) -> bool {
        let data = self.data_dir();
        self.server_command("pg_ctl", &["status", "-D", path_str(&data)])
            .output()
            .map(|out| out.status.success())
            .unwrap_or(false)
    }

    /// Starts the server and waits until it accepts connections.
    pub fn start(&self) -> Result<(), PgEmbedError> {
        if self.is_running() {
            return Ok(());
        }
        let (data, log) = (self.data_dir(), self.log_file());
        // An import locks each practice's stream in one transaction (all of it or nothing): room
        // for a national file's 20,000 practices and their new cases, twice over.
        let args = [
            "start",
            "-w",
            "-t",
            "120",
            "-D",
            path_str(&data),
            "-l",
            path_str(&log),
            "-o",
            "-c max_locks_per_transaction=512",
        ];
        tracing::info!(dir = %self.base_dir.display(), "starting PostgreSQL");
        check(self.server_command("pg_ctl", &args).output(), "pg_ctl start").map(drop)
    }

    pub fn stop(&self, mode: StopMode) -> Result<(), PgEmbedError> {
        if !self.is_running() {
            return Ok(());
        }
        let data = self.data_dir();
        let mode = match mode {
            StopMode::Fast => "fast",
            StopMode::Immediate => "immediate",
        };
        let args = ["stop", "-w", "-t", "120", "-m", mode, "-D", path_str(&data)];
        check(self.server_command("pg_ctl", &args).output(), "pg_ctl stop").map(drop)
    }

    /// Leaves behind a small watcher that stops the server and deletes its directory once process
    /// `pid` has exited, however it exits: a panic, a failed test run, or a kill.
    pub fn discard_when_process_exits(&self, pid: u32) -> Result<(), PgEmbedError> {
        let pg_ctl = self.shell_prefix("pg_ctl");
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 0.2; done; \
             {pg_ctl} stop -m immediate -D '{data}' >/dev/null 2>&1; rm -rf '{base}'",
            data = self.data_dir().display(),
            base = self.base_dir.display(),
        );
        Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .map(drop)
            .map_err(|e| PgEmbedError::CommandFailed {
                command: "sh (cluster watcher)".into(),
                detail: e.to_string(),
            })
    }

    fn initdb(&self, durable: bool) -> Result<(), PgEmbedError> {
        let data = self.data_dir();
        let mut args = vec![
            "-D",
            path_str(&data),
            "-U",
            SUPERUSER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-locale",
        ];
        if !durable {
            args.push("--no-sync");
        }
        check(self.server_command("initdb", &args).output(), "initdb")?;
        let socket_dir = self.base_dir.display().to_string().replace('\'', "''");
        let settings = format!(
            "\n# caseledger: a private server, reachable only through its Unix socket\n\
             listen_addresses = ''\n\
             unix_socket_directories = '{socket_dir}'\n\
             port = {SOCKET_PORT}\n\
             fsync = on\n\
             max_connections = 200\n"
        );
        let conf = data.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf).map_err(|source| io_error(&conf, source))?;
        text.push_str(&settings);
        std::fs::write(&conf, text).map_err(|source| io_error(&conf, source))
    }

    fn server_command(&self, program: &str, args: &[&str]) -> Command {
        let binary = self.bin_dir.join(program);
        let mut command = if self.run_as.is_some() {
            let mut command = Command::new("runuser");
            command.args(["-u", SUPERUSER, "--"]).arg(binary);
            command
        } else {
            Command::new(binary)
        };
        command.args(args).stdin(Stdio::null()).current_dir(&self.base_dir);
        command
    }

    fn shell_prefix(&self, program: &str) -> String {
        let binary = self.bin_dir.join(program);
        match self.run_as {
            Some(_) => format!("runuser -u {SUPERUSER} -- '{}'", binary.display()),
            None => format!("'{}'", binary.display()),
        }
    }
}

fn check(output: std::io::Result<Output>, command: &str) -> Result<Output, PgEmbedError> {
    let output = output.map_err(|e| PgEmbedError::CommandFailed {
        command: command.into(),
        detail: e.to_string(),
    })?;
    if output.status.success() {
        Ok(output)
    } else {
        let mut detail = String::from_utf8_lossy(&output.stderr).trim().to_string();
        if detail.is_empty() {
            detail = String::from_utf8_lossy(&output.stdout).trim().to_string();
        }
        Err(PgEmbedError::CommandFailed {
            command: command.into(),
            detail,
        })
    }
}

fn create_private_dir(dir: &Path, owner: Option<(u32, u32)>) -> Result<(), PgEmbedError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir).map_err(|source| io_error(dir, source))?;
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(dir, Some(uid), Some(gid)).map_err(|source| io_error(dir, source))?;
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(|source| io_error(dir, source))
}

fn current_uid() -> Result<u32, PgEmbedError> {
    id(&["-u"])
}

fn postgres_ids() -> Result<(u32, u32), PgEmbedError> {
    let uid = id(&["-u", SUPERUSER]).map_err(|e| PgEmbedError::NoPostgresUser(e.to_string()))?;
    let gid = id(&["-g", SUPERUSER]).map_err(|e| PgEmbedError::NoPostgresUser(e.to_string()))?;
    Ok((uid, gid))
}

fn id(args: &[&str]) -> Result<u32, PgEmbedError> {
    let output = check(Command::new("id").args(args).output(), "id")?;
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .map_err(|_| PgEmbedError::CommandFailed {
            command: "id".into(),
            detail: "not a number".into(),
        })
}

/// Every path here lies under `base_dir`, which [`Cluster::open`] checked is UTF-8.
fn path_str(path: &Path) -> &str {
    path.to_str().unwrap_or_default()
}

fn io_error(path: &Path, source: std::io::Error) -> PgEmbedError {
    PgEmbedError::Io {
        path: path.to_path_buf(),
        source,
    }
}
