//! What can go wrong while preparing, starting or stopping a private cluster.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum PgEmbedError {
    #[error(
        "PostgreSQL server binaries (initdb, pg_ctl) were not found on PATH or under /usr/lib/postgresql/*/bin; \
         install them, e.g. `sudo apt-get install postgresql`, or set DATABASE_URL to use an existing server"
    )]
    BinariesNotFound,
    #[error("running as root, but there is no `postgres` user to run the cluster as: {0}")]
    NoPostgresUser(String),
    #[error("`{command}` failed: {detail}")]
    CommandFailed { command: String, detail: String },
    #[error("could not prepare {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}
