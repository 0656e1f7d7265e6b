//! Finding the server binaries: `initdb` on PATH first, then Debian's versioned directories.

use std::path::{Path, PathBuf};

use crate::PgEmbedError;

/// The directory holding `initdb`, `pg_ctl` and `postgres`, preferring PATH, then the newest
/// `/usr/lib/postgresql/<version>/bin`.
pub fn find_server_binaries() -> Result<PathBuf, PgEmbedError> {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .find(|dir| has_server(dir));
    if let Some(dir) = on_path {
        // Debian links initdb into /usr/local/bin: the real directory also holds `postgres`.
        let real = std::fs::canonicalize(dir.join("initdb")).ok();
        return Ok(real
            .and_then(|initdb| initdb.parent().map(Path::to_path_buf))
            .unwrap_or(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            has_server(&bin).then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).ok_or(PgEmbedError::BinariesNotFound)
}

fn has_server(dir: &Path) -> bool {
    dir.join("initdb").is_file() && dir.join("pg_ctl").is_file()
}
