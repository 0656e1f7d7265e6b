//! Personal data: the key-encryption key from configuration, the vault that seals and opens each
//! case's personal fields (which fields, the lens declares), and the retention period that erases
//! a closed case's (and a dismissed report's) personal data by itself: a [`Job`](crate::Job).

use std::path::Path;
use std::time::Duration;

use caseledger_cases::Actor;
use caseledger_cases::values::{FreeText, ShortText};
use caseledger_commands::{CommandContext, Commands};
use caseledger_eventstore::{Kek, KeyError, Vault};
use futures_util::future::BoxFuture;
use sqlx::PgPool;

/// The retention period's job: its lease lets one instance apply it at a time.
pub const RETENTION: &str = "personal-data-retention";

/// Why the service cannot start with the personal data it holds.
#[derive(Debug, thiserror::Error)]
pub enum KekError {
    #[error(
        "CASELEDGER_KEK is not set. Personal data (contact names, notes) is stored sealed under a key-encryption \
         key: set CASELEDGER_KEK to 32 random bytes, base64-encoded (`openssl rand -base64 32`), or to the path of \
         a file holding them, and keep it safe: without it that data cannot be read"
    )]
    Missing,
    #[error("CASELEDGER_KEK: {0}")]
    Key(#[from] KeyError),
    #[error("the local key-encryption key {path}: {source}")]
    Local {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("checking the key-encryption key against the database: {0}")]
    Check(#[from] caseledger_eventstore::StoreError),
}

/// The KEK: `configured` (CASELEDGER_KEK) when given; otherwise, for a database on this machine
/// (the embedded default or the demo), the one kept beside it in `local_dir`, made on first use.
/// Anywhere else a missing KEK is an error: nothing personal is ever written in plaintext.
pub fn key_encryption_key(configured: Option<&str>, local_dir: Option<&Path>) -> Result<Kek, KekError> {
    if let Some(value) = configured {
        return Ok(Kek::load(value)?);
    }
    let Some(dir) = local_dir else {
        return Err(KekError::Missing);
    };
    let path = dir.join("kek");
    let local = |source| KekError::Local {
        path: path.display().to_string(),
        source,
    };
    if path.is_file() {
        return Ok(Kek::parse(&std::fs::read_to_string(&path).map_err(local)?)?);
    }
    std::fs::create_dir_all(dir).map_err(local)?;
    let (kek, text) = Kek::generate()?;
    write_private(&path, &text).map_err(local)?;
    tracing::info!(path = %path.display(), "made a key-encryption key for this machine's database");
    Ok(kek)
}

/// Writes `text` to a new file only its owner can read.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(text.as_bytes())
}

/// The vault for `kek`, checked against the database: a KEK that is not the one its personal data
/// was sealed with is refused here, at startup. The first time the database meets a KEK, the
/// personal data written before it (by an earlier version) is sealed, so that it can be erased.
pub async fn vault(pool: &PgPool, kek: Kek) -> Result<Vault, KekError> {
    let vault = Vault::new(kek, caseledger_projections::lens::personal_fields);
    if vault.check(pool).await? {
        let types: Vec<String> = caseledger_projections::lens::RULES
            .iter()
            .filter(|rule| !rule.personal.is_empty())
            .map(|rule| rule.event_type.to_string())
            .collect();
        let sealed = vault.seal_existing(pool, &types, case_scope).await?;
        if sealed > 0 {
            tracing::info!(
                sealed,
                "sealed the personal data of events written before the key-encryption key"
            );
        }
    }
    Ok(vault)
}

/// The data key scope of an event's personal fields: its case (a case's own stream and its
/// contract review's share one key), or for a DHU report on a practice, the report's own.
pub fn case_scope(stream_id: &str, data: &serde_json::Value) -> Option<String> {
    match caseledger_cases::case::StreamName::parse(stream_id)? {
        caseledger_cases::case::StreamName::Practice(_) => data["report_id"]
            .as_str()
            .and_then(|id| id.parse().ok())
            .map(caseledger_commands::report_scope),
        name => name.case_id().map(caseledger_commands::case_scope),
    }
}

/// The retention period, applied every hour.
#[derive(Debug, Clone)]
pub struct Retention {
    pub commands: Commands,
    /// How long after a case closes (or a report is dismissed) its personal data goes.
    pub after: Duration,
}

impl crate::Job for Retention {
    fn name(&self) -> &'static str {
        RETENTION
    }

    fn every(&self) -> Duration {
        Duration::from_secs(3600)
    }

    fn round(&self) -> BoxFuture<'_, Result<usize, crate::JobError>> {
        Box::pin(async move { Ok(erase_expired(&self.commands, self.after).await?) })
    }
}

/// One round of the retention period: erases the personal data of every case
/// that closed more than `after` ago and still has some, and of every DHU report dismissed (or
/// filed and never triaged) more than `after` ago. How many were erased.
pub async fn erase_expired(commands: &Commands, after: Duration) -> Result<usize, caseledger_commands::CommandError> {
    let pool = commands.store().pool();
    let days = after.as_secs() / 86_400;
    let Some(cutoff) = chrono::Duration::from_std(after)
        .ok()
        .and_then(|after| caseledger_clock::now().checked_sub_signed(after))
    else {
        // A period longer than the calendar: nothing is ever due.
        return Ok(0);
    };
    let (Some(id), Some(reason)) = (
        ShortText::lossy("retention"),
        FreeText::parse(&format!("retention period ended: closed more than {days} days ago")).ok(),
    ) else {
        return Ok(0);
    };
    let context = CommandContext::new(Actor::new(id, caseledger_cases::Role::Admin));
    // Each due case once a round, a case that fails not holding up the ones behind it.
    let mut erased = 0;
    let due = caseledger_projections::case_view::closed_with_personal_data(pool, cutoff, 10_000).await?;
    for case_id in due {
        match commands
            .erase_personal_data(case_id, &context, reason.clone(), caseledger_clock::now())
            .await
        {
            Ok(outcome) if !outcome.duplicate => erased += 1,
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, %case_id, "retention: personal data not erased"),
        }
    }
    // Reports nobody opened a case from, once their retention period has passed since they were
    // dismissed (or filed, if nobody triaged them): the DHU's detail and the ICB's reason go.
    let dismissed = caseledger_projections::dhu_report_view::expired_with_personal_data(pool, cutoff, 10_000).await?;
    let reason = FreeText::parse(&format!("retention period ended: more than {days} days ago")).ok();
    for (report_id, ods_code) in dismissed {
        let (Some(reason), Ok(ods)) = (reason.clone(), caseledger_cases::values::OdsCode::parse(&ods_code)) else {
            continue;
        };
        match commands
            .erase_report_personal_data(&context, &ods, report_id, reason, caseledger_clock::now())
            .await
        {
            Ok(outcome) if !outcome.duplicate => erased += 1,
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, %report_id, "retention: a report's personal data not erased"),
        }
    }
    // The words about diversions ended, diversion reviews closed, and Directory of Services gaps
    // closed or dismissed, more than the retention period ago.
    for (diversion_id, ods_code) in caseledger_projections::diversion_view::words_expired(pool, cutoff, 10_000).await? {
        let Ok(ods) = caseledger_cases::values::OdsCode::parse(&ods_code) else {
            continue;
        };
        match commands
            .erase_diversion_words(&context, &ods, diversion_id, caseledger_clock::now())
            .await
        {
            Ok(outcome) if !outcome.duplicate => erased += 1,
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, %diversion_id, "retention: a diversion's words not erased"),
        }
    }
    // A PCN's review notes recorded more than the retention period ago.
    for (note_id, pcn) in caseledger_projections::telephony_view::notes_expired(pool, cutoff, 10_000).await? {
        let Ok(pcn_code) = caseledger_cases::values::PcnCode::parse(&pcn) else {
            continue;
        };
        match commands
            .erase_pcn_review_note(&context, &pcn_code, note_id, caseledger_clock::now())
            .await
        {
            Ok(outcome) if !outcome.duplicate => erased += 1,
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, %note_id, "retention: a PCN's note not erased"),
        }
    }
    for (gap_id, service) in caseledger_projections::dos_view::words_expired(pool, cutoff, 10_000).await? {
        let Ok(service_id) = caseledger_cases::values::DosServiceId::parse(&service) else {
            continue;
        };
        match commands
            .erase_dos_gap_words(&context, &service_id, gap_id, caseledger_clock::now())
            .await
        {
            Ok(outcome) if !outcome.duplicate => erased += 1,
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, %gap_id, "retention: a gap's words not erased"),
        }
    }
    Ok(erased)
}
