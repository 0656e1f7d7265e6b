//! A throwaway PKI for the fake provider and whoever talks to it (the demo, tests): a CA, a
//! server certificate for `localhost`/`127.0.0.1` and a client certificate, as PEM files. Not
//! for production: there, certificates come from the NHS PKI.

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose};

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("generating a certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("writing {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The PEM files of a generated PKI.
#[derive(Debug, Clone)]
pub struct PkiFiles {
    pub ca: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
}

/// A certificate authority that can issue leaf certificates.
pub struct Authority {
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authority").finish_non_exhaustive()
    }
}

impl Authority {
    pub fn new(name: &str) -> Result<Self, PkiError> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let cert = params.self_signed(&key)?;
        Ok(Self { cert, key })
    }

    pub fn pem(&self) -> String {
        self.cert.pem()
    }

    /// A certificate and key (PEM) for `names`, for a server or a client.
    pub fn issue(&self, names: &[&str], common_name: &str, server: bool) -> Result<(String, String), PkiError> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())?;
        params.distinguished_name.push(DnType::CommonName, common_name);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![if server {
            ExtendedKeyUsagePurpose::ServerAuth
        } else {
            ExtendedKeyUsagePurpose::ClientAuth
        }];
        let cert = params.signed_by(&key, &self.cert, &self.key)?;
        Ok((cert.pem(), key.serialize_pem()))
    }
}

/// Writes `content` to `dir/name`.
pub fn write(dir: &Path, name: &str, content: &str) -> Result<PathBuf, PkiError> {
    let path = dir.join(name);
    std::fs::write(&path, content).map_err(|source| PkiError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

/// A new CA, a server certificate for `localhost` and `127.0.0.1`, and a client certificate,
/// written into `dir` (which must exist).
pub fn generate(dir: &Path) -> Result<PkiFiles, PkiError> {
    let ca = Authority::new("CaseLedger GP Connect test CA")?;
    let (server_cert, server_key) = ca.issue(&["localhost", "127.0.0.1"], "gpconnect.localhost", true)?;
    let (client_cert, client_key) = ca.issue(&[], "NHS 111 provider (CaseLedger)", false)?;
    Ok(PkiFiles {
        ca: write(dir, "ca.pem", &ca.pem())?,
        server_cert: write(dir, "server.pem", &server_cert)?,
        server_key: write(dir, "server.key", &server_key)?,
        client_cert: write(dir, "client.pem", &client_cert)?,
        client_key: write(dir, "client.key", &client_key)?,
    })
}
