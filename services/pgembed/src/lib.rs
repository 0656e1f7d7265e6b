//! A private PostgreSQL cluster driven by the installed server binaries: `initdb` once, `pg_ctl`
//! to start and stop, listening only on a Unix socket in its own directory.
//!
//! PostgreSQL refuses to run as root, so when this process is root the cluster's directory is
//! given to the `postgres` user and every server command runs through `runuser -u postgres --`.

mod binaries;
mod cluster;
mod error;

pub use binaries::find_server_binaries;
pub use cluster::{Cluster, StopMode};
pub use error::PgEmbedError;
