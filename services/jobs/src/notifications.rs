//! Email notifications through an SMTP relay (lettre, the `email` feature). Each round (a
//! [`Job`](crate::Job): one instance at a time) works out what each person should hear about from
//! the views, records each once in the outbox (`notifications`, keyed by what it is about, so a
//! restart or another instance sends nothing twice), then sends what is unsent, retrying a failed
//! send later. Each person's address and the kinds they turned off are kept here too.
//!
//! - A champion: their case reopened; the DHU reported a problem or a shortfall on it; its stage
//!   is due today or overdue; its practice answered them.
//! - The DHU: a case waits for its check.
//! - The ICB: a weekly digest after each dashboard extract (new cases, reopened, newly compliant,
//!   overdue).
//!
//! Each person sets their address and turns kinds off (`setNotifications`). Nothing personal goes
//! in an email: practices, statuses, dates and a link.

#[cfg(feature = "email")]
pub use sending::{Mailer, MailerError, Notifications};

use caseledger_cases::Role;
use sqlx::PgPool;

/// The notifications' job: its lease lets one instance send at a time.
pub const NOTIFICATIONS: &str = "notifications";

/// Where notifications may go unless a deployment says otherwise: NHS mail.
pub const DEFAULT_MAIL_DOMAINS: [&str; 2] = ["nhs.net", "nhs.uk"];

/// What a person may hear about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationKind {
    /// A champion's case was reopened.
    CaseReopened,
    /// The DHU reported a problem, or saw fewer slots than required, on a champion's case.
    DhuProblem,
    /// A champion's case is due today or overdue.
    Deadline,
    /// A case waits for the DHU's check.
    AwaitingCheck,
    /// The ICB's digest after each dashboard extract.
    WeeklyDigest,
    /// A practice's diversion to NHS 111 waits for the ICB's acknowledgement.
    DiversionNotice,
    /// A Directory of Services gap waits for the ICB's triage, or the 111 provider's confirmation.
    DosGap,
    /// A practice answered the champion on a case they hold.
    PracticeAnswer,
}

impl NotificationKind {
    pub const ALL: [NotificationKind; 8] = [
        NotificationKind::CaseReopened,
        NotificationKind::DhuProblem,
        NotificationKind::Deadline,
        NotificationKind::AwaitingCheck,
        NotificationKind::WeeklyDigest,
        NotificationKind::DiversionNotice,
        NotificationKind::DosGap,
        NotificationKind::PracticeAnswer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::CaseReopened => "case_reopened",
            NotificationKind::DhuProblem => "dhu_problem",
            NotificationKind::Deadline => "deadline",
            NotificationKind::AwaitingCheck => "awaiting_check",
            NotificationKind::WeeklyDigest => "weekly_digest",
            NotificationKind::DiversionNotice => "diversion_notice",
            NotificationKind::DosGap => "dos_gap",
            NotificationKind::PracticeAnswer => "practice_answer",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// Whether `text` is an address an email can go to, at one of `domains` (the deployment's own:
/// `CASELEDGER_MAIL_DOMAINS`) or a subdomain of one, so case news never leaves the NHS's mail:
/// one `@`, a local part of printable characters without spaces, a domain of letters, digits,
/// hyphens and dots.
pub fn allowed_address(text: &str, domains: &[String]) -> bool {
    let Some((local, domain)) = text.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local.chars().all(|c| {
            c.is_ascii_graphic()
                && !matches!(
                    c,
                    '@' | '<' | '>' | '(' | ')' | ',' | ';' | ':' | '"' | '[' | ']' | '\\'
                )
        });
    let domain = domain.to_ascii_lowercase();
    let domain_ok = !domain.is_empty()
        && domain.len() <= 253
        && domain
            .split('.')
            .all(|label| !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    local_ok
        && domain_ok
        && domains
            .iter()
            .any(|allowed| domain == *allowed || domain.ends_with(&format!(".{allowed}")))
}

/// The caller's notification settings: their address and the kinds they turned off.
pub async fn settings(pool: &PgPool, person_id: &str) -> Result<(Option<String>, Vec<String>), sqlx::Error> {
    let row = sqlx::query!("select email, muted from people where person_id = $1", person_id)
        .fetch_optional(pool)
        .await?;
    Ok(row.map_or((None, Vec::new()), |row| (row.email, row.muted)))
}

/// Sets the caller's address (none: no emails) and the kinds they turn off.
pub async fn set(
    pool: &PgPool,
    person_id: &str,
    role: Role,
    email: Option<&str>,
    muted: &[NotificationKind],
) -> Result<(), sqlx::Error> {
    let muted: Vec<&str> = muted.iter().map(|kind| kind.as_str()).collect();
    sqlx::query!(
        "insert into people (person_id, role, email, muted) values ($1, $2, $3, $4)
         on conflict (person_id) do update set role = excluded.role, email = excluded.email,
             muted = excluded.muted, updated_at = now()",
        person_id,
        role.as_str(),
        email,
        &muted as &[&str]
    )
    .execute(pool)
    .await?;
    Ok(())
}

#[cfg(feature = "email")]
mod sending {
    use std::time::Duration;

    use caseledger_cases::Role;
    use caseledger_cases::deadlines::{Deadlines, Stage};
    use caseledger_cases::dos::DosGapStatus;
    use caseledger_clock::today;
    use caseledger_projections::case_view::{self, CaseFilter, CaseRow};
    use chrono::{DateTime, NaiveDate, Utc};
    use futures_util::future::BoxFuture;
    use lettre::message::{Mailbox, header::ContentType};
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
    use sqlx::PgPool;

    use super::{NOTIFICATIONS, NotificationKind};

    /// Sends after which a notification is given up on (its error stays recorded).
    const MAX_ATTEMPTS: i32 = 8;

    /// Where notifications go from, and how.
    #[derive(Clone)]
    pub struct Mailer {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
        /// Where people reach the service, for links (`CASELEDGER_PUBLIC_URL`).
        public_url: Option<String>,
    }

    impl std::fmt::Debug for Mailer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("Mailer")
                .field("from", &self.from)
                .finish_non_exhaustive()
        }
    }

    #[derive(Debug, thiserror::Error)]
    pub enum MailerError {
        #[error("CASELEDGER_SMTP_URL: {0}")]
        Url(#[from] lettre::transport::smtp::Error),
        #[error("CASELEDGER_MAIL_FROM: {0}")]
        From(#[from] lettre::address::AddressError),
    }

    impl Mailer {
        /// `url`: `smtp://host:port` (plain, or `?tls=required` for STARTTLS) or
        /// `smtps://user:password@host:465`; `from`: `CaseLedger <caseledger@example.nhs.uk>`.
        pub fn new(url: &str, from: &str, public_url: Option<String>) -> Result<Self, MailerError> {
            Ok(Self {
                transport: AsyncSmtpTransport::<Tokio1Executor>::from_url(url)?
                    .timeout(Some(Duration::from_secs(20)))
                    .build(),
                from: from.parse()?,
                public_url,
            })
        }

        fn link(&self, path: &str) -> String {
            match &self.public_url {
                Some(base) => format!("{}{path}", base.trim_end_matches('/')),
                None => path.to_string(),
            }
        }
    }

    /// A person who wants notifications.
    #[derive(Debug, Clone)]
    struct Person {
        id: String,
        role: Role,
        email: String,
        muted: Vec<String>,
    }

    impl Person {
        fn wants(&self, kind: NotificationKind) -> bool {
            !self.muted.iter().any(|muted| muted == kind.as_str())
        }
    }

    /// One notification to record.
    #[derive(Debug)]
    struct Outgoing {
        key: String,
        kind: NotificationKind,
        subject: String,
        body: String,
    }

    /// The notifications job: every `every`, what is new recorded, and what is unsent sent.
    #[derive(Debug, Clone)]
    pub struct Notifications {
        pub pool: PgPool,
        pub deadlines: Deadlines,
        pub mailer: Mailer,
        pub every: Duration,
    }

    impl crate::Job for Notifications {
        fn name(&self) -> &'static str {
            NOTIFICATIONS
        }

        fn every(&self) -> Duration {
            self.every
        }

        fn round(&self) -> BoxFuture<'_, Result<usize, crate::JobError>> {
            Box::pin(async move {
                let recorded = record(self).await?;
                let sent = send(&self.pool, &self.mailer).await?;
                Ok(recorded + sent)
            })
        }
    }

    /// Works out what each person should hear about and records what is new.
    async fn record(state: &Notifications) -> Result<usize, sqlx::Error> {
        let pool = &state.pool;
        let people =
            sqlx::query!(r#"select person_id, role, email as "email!", muted from people where email is not null"#)
                .fetch_all(pool)
                .await?;
        let today = today();
        let mut recorded = 0;
        // What every DHU person and every ICB person hears is the same: worked out once a round.
        let (mut for_dhu, mut for_icb) = (None, None);
        for row in people {
            let Some(role) = Role::parse(&row.role) else { continue };
            let person = Person {
                id: row.person_id,
                role,
                email: row.email,
                muted: row.muted,
            };
            let mine;
            let outgoing: &[Outgoing] = match person.role {
                Role::Champion => {
                    mine = champion(state, &person, today).await?;
                    &mine
                }
                Role::Dhu => {
                    if for_dhu.is_none() {
                        let mut dhu = dhu(state).await?;
                        dhu.extend(dos_gaps(state, DosGapStatus::AwaitingConfirmation).await?);
                        for_dhu = Some(dhu);
                    }
                    for_dhu.as_deref().unwrap_or_default()
                }
                Role::Icb => {
                    if for_icb.is_none() {
                        let mut icb = digest(state).await?;
                        icb.extend(diversion_notices(state).await?);
                        icb.extend(dos_gaps(state, DosGapStatus::Reported).await?);
                        for_icb = Some(icb);
                    }
                    for_icb.as_deref().unwrap_or_default()
                }
                Role::Lmc | Role::Admin | Role::Practice | Role::PcnClinicalDirector => &[],
            };
            for note in outgoing.iter().filter(|note| person.wants(note.kind)) {
                let inserted = sqlx::query!(
                    "insert into notifications (key, person_id, kind, email, subject, body)
                     values ($1, $2, $3, $4, $5, $6) on conflict (key) do nothing",
                    format!("{}:{}", note.key, person.id),
                    person.id,
                    note.kind.as_str(),
                    person.email,
                    note.subject,
                    note.body
                )
                .execute(pool)
                .await?;
                recorded += usize::try_from(inserted.rows_affected()).unwrap_or(0);
            }
        }
        Ok(recorded)
    }

    fn practice(case: &CaseRow) -> String {
        format!("{} ({})", case.practice_name, case.ods_code)
    }

    fn day(date: NaiveDate) -> String {
        date.format("%-d %b %Y").to_string()
    }

    fn moment(at: DateTime<Utc>) -> String {
        at.to_rfc3339()
    }

    /// A champion's: reopened, a DHU problem, a stage due today or late, the practice's answer, on
    /// each open case of theirs.
    async fn champion(state: &Notifications, person: &Person, today: NaiveDate) -> Result<Vec<Outgoing>, sqlx::Error> {
        let mailer = &state.mailer;
        let filter = CaseFilter {
            open: Some(true),
            assigned_to: Some(person.id.clone()),
            ..CaseFilter::default()
        };
        let cases = case_view::list(&state.pool, &filter, 500).await?;
        let ids: Vec<uuid::Uuid> = cases.iter().map(|case| case.case_id).collect();
        let answers = caseledger_projections::answer_view::of_cases(&state.pool, &ids, 1).await?;
        let mut out = Vec::new();
        for case in &cases {
            let link = mailer.link(&format!("/cases/{}", case.case_id));
            // The practice's latest answer: once each, never its words.
            if let Some(answer) = answers.iter().find(|answer| answer.case_id == case.case_id) {
                out.push(Outgoing {
                    key: format!("answered:{}", answer.answer_id),
                    kind: NotificationKind::PracticeAnswer,
                    subject: format!("The practice answered: {}", practice(case)),
                    body: format!(
                        "{} answered you on {}: read it on the case.\n\n{link}\n",
                        practice(case),
                        day(answer.answered_at.date_naive())
                    ),
                });
            }
            if case.reopen_cause.is_some() {
                out.push(Outgoing {
                    key: format!("reopened:{}:{}", case.case_id, moment(case.opened_at)),
                    kind: NotificationKind::CaseReopened,
                    subject: format!("Reopened: {}", practice(case)),
                    body: format!(
                        "Your case for {} was reopened on {}: it needs you again.\n\n{link}\n",
                        practice(case),
                        day(case.opened_at.date_naive())
                    ),
                });
            }
            let shortfall = case.shortfall();
            if case.open_dhu_issue || shortfall.is_some() {
                let what = match shortfall {
                    Some(check) => format!(
                        "the DHU sees {} of the {} slots a day required",
                        check.visible, check.required
                    ),
                    None => "the DHU reported a visibility issue".to_string(),
                };
                out.push(Outgoing {
                    key: format!("dhu:{}:{}", case.case_id, moment(case.last_activity_dhu)),
                    kind: NotificationKind::DhuProblem,
                    subject: format!("DHU problem: {}", practice(case)),
                    body: format!("On your case for {}, {what}.\n\n{link}\n", practice(case)),
                });
            }
            // The champion's own stages only (contact, remap): a late DHU check or ICB decision is not
            // theirs to act on. Due today and overdue are one reminder each.
            if let Some(due) = state.deadlines.of(&case.stage_dates())
                && state.deadlines.working_days_left(&due, today) <= 0
                && matches!(due.stage, Stage::Contact | Stage::Remap)
            {
                let late = due.overdue(today);
                out.push(Outgoing {
                    key: format!(
                        "deadline:{}:{:?}:{}:{}",
                        case.case_id,
                        due.stage,
                        due.due_on,
                        if late { "overdue" } else { "due-today" }
                    ),
                    kind: NotificationKind::Deadline,
                    subject: format!(
                        "{}: {} for {}",
                        if late { "Overdue" } else { "Due today" },
                        due.stage.label(),
                        practice(case)
                    ),
                    body: format!(
                        "{} for {} {} {}.\n\n{link}\n",
                        due.stage.label(),
                        practice(case),
                        if late { "was due on" } else { "is due today," },
                        day(due.due_on)
                    ),
                });
            }
        }
        Ok(out)
    }

    /// The DHU's: each case waiting for its check, once per remap.
    async fn dhu(state: &Notifications) -> Result<Vec<Outgoing>, sqlx::Error> {
        let mailer = &state.mailer;
        let cases = case_view::awaiting_dhu(&state.pool, 500).await?;
        Ok(cases
            .iter()
            .filter_map(|case| {
                let remapped = case.last_remap_at?;
                Some(Outgoing {
                    key: format!("awaiting:{}:{}", case.case_id, moment(remapped)),
                    kind: NotificationKind::AwaitingCheck,
                    subject: format!("Check needed: {}", practice(case)),
                    body: format!(
                        "{} was remapped on {} and waits for your check of what the 111 service can see \
                         ({} slots a day required).\n\n{}\n",
                        practice(case),
                        day(remapped.date_naive()),
                        case.required_slots,
                        mailer.link(&format!("/cases/{}", case.case_id))
                    ),
                })
            })
            .collect())
    }

    /// The ICB's digest, once per dashboard extract: the week's changes and what is late. Worked out
    /// only while someone in the ICB with an address has not had this extract's.
    async fn digest(state: &Notifications) -> Result<Vec<Outgoing>, sqlx::Error> {
        let (pool, mailer) = (&state.pool, &state.mailer);
        let Some(extract) = caseledger_projections::practice_view::latest_extract_date(pool).await? else {
            return Ok(Vec::new());
        };
        let waiting = sqlx::query_scalar!(
            r#"select exists (select 1 from people p
                 where p.role = 'icb' and p.email is not null
                   and not exists (select 1 from notifications n where n.key = 'digest:' || $1 || ':' || p.person_id))
               as "waiting!""#,
            extract.to_string()
        )
        .fetch_one(pool)
        .await?;
        if !waiting {
            return Ok(Vec::new());
        }
        // Read once from the tables for the two (the service's own are held by its API state).
        let figures = caseledger_projections::figures::HeldFigures::default();
        let now = figures.summary(pool, None, None).await?;
        let week_ago = figures
            .summary(pool, Some(caseledger_clock::now() - chrono::Duration::days(7)), None)
            .await?;
        let open = case_view::list(
            pool,
            &CaseFilter {
                open: Some(true),
                ..CaseFilter::default()
            },
            20_000,
        )
        .await?;
        let reopened = open
            .iter()
            .filter(|case| {
                case.reopen_cause.is_some() && case.opened_at > caseledger_clock::now() - chrono::Duration::days(7)
            })
            .count();
        let today = today();
        let overdue = open
            .iter()
            .filter(|case| {
                state
                    .deadlines
                    .of(&case.stage_dates())
                    .is_some_and(|due| due.overdue(today))
            })
            .count();
        let (all, before) = (&now.all, &week_ago.all);
        let body = format!(
            "CaseLedger: the week to the dashboard extract of {}.\n\n\
             New cases: {}\nReopened: {reopened}\nNewly compliant: {}\nOpen cases: {}\nOverdue now: {overdue}\n\n{}\n",
            day(extract),
            all.cases_opened - before.cases_opened,
            all.compliant_cases - before.compliant_cases,
            all.open_cases,
            mailer.link("/icb")
        );
        Ok(vec![Outgoing {
            key: format!("digest:{extract}"),
            kind: NotificationKind::WeeklyDigest,
            subject: format!("Weekly digest: dashboard extract of {}", day(extract)),
            body,
        }])
    }

    /// The diversions to NHS 111 the ICB has still to acknowledge, told in the last week: one
    /// email an hour at most, listing them (when, how long, why as a kind, told late or not; never
    /// the practice's words), so that a stream of notices cannot flood anyone's mail.
    async fn diversion_notices(state: &Notifications) -> Result<Vec<Outgoing>, sqlx::Error> {
        use caseledger_projections::diversion_view::{self, Among, DiversionFilter};
        let now = caseledger_clock::now();
        let filter = DiversionFilter {
            among: Among::All,
            practice: None,
            since: Some(now - chrono::Duration::days(7)),
            unacknowledged_only: true,
            limit: 50,
        };
        let waiting = diversion_view::list(&state.pool, &filter).await?;
        if waiting.is_empty() {
            return Ok(Vec::new());
        }
        let time = |at: chrono::DateTime<chrono::Utc>| {
            caseledger_cases::ukclock::to_uk(at)
                .format("%-d %b %Y, %H:%M")
                .to_string()
        };
        let lines: Vec<String> = waiting
            .iter()
            .map(|diversion| {
                let practice = match &diversion.practice_name {
                    Some(name) => format!("{name} ({})", diversion.ods_code),
                    None => diversion.ods_code.clone(),
                };
                let reason = caseledger_projections::case_view::name_of(&diversion.reason).replace('_', " ");
                let late = if diversion.late() { ", told late" } else { "" };
                format!(
                    "- {practice}: from {} (expected until {}), {reason}{late}",
                    time(diversion.from_at),
                    time(diversion.expected_until)
                )
            })
            .collect();
        let hour = caseledger_cases::ukclock::to_uk(now).format("%Y-%m-%dT%H");
        Ok(vec![Outgoing {
            key: format!("diversions:{hour}"),
            kind: NotificationKind::DiversionNotice,
            subject: format!("Diversions to NHS 111 waiting for acknowledgement: {}", waiting.len()),
            body: format!(
                "CaseLedger: practices that divert their phones to NHS 111, not yet acknowledged:\n\n{}\n\n\
                 Acknowledge them: {}\n",
                lines.join("\n"),
                state.mailer.link("/diversions")
            ),
        }])
    }

    /// The Directory of Services gaps waiting at `status` (the ICB's triage, or the 111
    /// provider's confirmation): one email an hour at most, listing each service, the kind and
    /// when it bit, never the words about it.
    async fn dos_gaps(state: &Notifications, status: DosGapStatus) -> Result<Vec<Outgoing>, sqlx::Error> {
        let since = caseledger_clock::now() - chrono::Duration::days(90);
        let waiting: Vec<_> = caseledger_projections::dos_view::gaps(&state.pool, None, since, true, 200)
            .await?
            .into_iter()
            .filter(|gap| gap.status == status.as_str())
            .collect();
        if waiting.is_empty() {
            return Ok(Vec::new());
        }
        let lines: Vec<String> = waiting
            .iter()
            .map(|gap| {
                format!(
                    "- {} (DoS {}): {}, bit {}",
                    gap.service_name,
                    gap.service_id,
                    gap.kind.replace('_', " "),
                    caseledger_cases::ukclock::to_uk(gap.bit_at).format("%-d %b %Y, %H:%M")
                )
            })
            .collect();
        let (what, ask) = match status {
            DosGapStatus::Reported => ("waiting for triage", "Triage them"),
            _ => ("updated, waiting for your confirmation", "Confirm them"),
        };
        let hour = caseledger_cases::ukclock::to_uk(caseledger_clock::now()).format("%Y-%m-%dT%H");
        Ok(vec![Outgoing {
            key: format!("dos:{}:{hour}", status.as_str()),
            kind: NotificationKind::DosGap,
            subject: format!("Directory of Services gaps {what}: {}", waiting.len()),
            body: format!(
                "CaseLedger: gaps in the Directory of Services {what}:\n\n{}\n\n{ask}: {}\n",
                lines.join("\n"),
                state.mailer.link("/dos")
            ),
        }])
    }

    /// Sends what is unsent and due: how many went.
    async fn send(pool: &PgPool, mailer: &Mailer) -> Result<usize, sqlx::Error> {
        let due = sqlx::query!(
            "select key, email, subject, body, attempts from notifications
              where sent_at is null and attempts < $1 and next_attempt_at <= now()
              order by created_at limit 100",
            MAX_ATTEMPTS
        )
        .fetch_all(pool)
        .await?;
        let mut sent = 0;
        for note in due {
            let message = note.email.parse::<Mailbox>().map_err(|e| e.to_string()).and_then(|to| {
                Message::builder()
                    .from(mailer.from.clone())
                    .to(to)
                    .subject(note.subject.clone())
                    .header(ContentType::TEXT_PLAIN)
                    .body(note.body.clone())
                    .map_err(|e| e.to_string())
            });
            let result = match message {
                Ok(message) => mailer
                    .transport
                    .send(message)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
                Err(error) => Err(error),
            };
            match result {
                Ok(()) => {
                    sqlx::query!(
                        "update notifications set sent_at = now(), attempts = attempts + 1, last_error = null where key = $1",
                        note.key
                    )
                    .execute(pool)
                    .await?;
                    sent += 1;
                }
                Err(error) => {
                    // Retried later: a minute, then twice as long each time (at most six hours).
                    let wait = 60_i64 << note.attempts.clamp(0, 9);
                    tracing::warn!(key = %note.key, %error, attempts = note.attempts + 1, "notification not sent");
                    sqlx::query!(
                        "update notifications set attempts = attempts + 1, last_error = $2,
                                next_attempt_at = now() + make_interval(secs => $3)
                          where key = $1",
                        note.key,
                        error,
                        f64::from(i32::try_from(wait.min(6 * 3600)).unwrap_or(21_600))
                    )
                    .execute(pool)
                    .await?;
                }
            }
        }
        Ok(sent)
    }
}
