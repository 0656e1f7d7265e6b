//! The figures' rows held in memory. A summary at any (asOf, knownAt) is an aggregate over every
//! case and practice, which PostgreSQL does in about 100 ms at national size however it is
//! indexed; held here, the same rows are counted in a few milliseconds. Before it answers, the
//! holder asks which cases and practices the `figures` projection rewrote since it last looked
//! (`figures_changes`, one row each per commit, one writer at a time) and reads again the rows of
//! those alone, in one repeatable-read transaction, so an answer counts whole commits and shows
//! every commit made before it was asked (read-your-writes holds as it does for the tables).
//! A holder that finds the table rebuilt (a new table: a new oid) or too far behind loads every
//! row again.
//!
//! The rule is the queries' (`queries::snapshot`): a row counts at (asOf, knownAt) when its
//! business stretch `[valid_from, valid_to)` holds asOf and its system stretch
//! `[recorded_from, recorded_to)` holds knownAt; the present is the last interval of the present
//! knowledge; "as known now" is the present knowledge's rows alone.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, PoisonError, RwLock};

use caseledger_cases::CaseStatus;
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::Summary;
use super::queries::{CaseCount, PracticeCount, Snapshot};

/// How many changes `figures_changes` keeps.
const KEEP: i64 = 100_000;
/// Past this many changed cases and practices, loading everything is the cheaper read.
const RELOAD_PAST: usize = 20_000;

/// Notes, in the projection's transaction, the cases and practices whose rows it rewrote, and
/// forgets the oldest changes past [`KEEP`].
pub(crate) async fn record_changes(
    tx: &mut PgConnection,
    cases: &[Uuid],
    practices: &[String],
) -> Result<(), sqlx::Error> {
    if cases.is_empty() && practices.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "insert into figures_changes (case_id, ods_code)
         select c, null from unnest($1::uuid[]) c union all select null, o from unnest($2::text[]) o",
    )
    .bind(cases)
    .bind(practices)
    .execute(&mut *tx)
    .await?;
    sqlx::query("delete from figures_changes where seq <= (select max(seq) from figures_changes) - $1")
        .bind(KEEP)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Where a holder's rows stand: the changes table it read (its oid) and the last change in them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Mark {
    table: i64,
    seq: i64,
}

/// The point a snapshot is of, in microseconds since the epoch.
#[derive(Debug, Clone, Copy)]
enum At {
    /// The last interval of the present knowledge.
    Present,
    /// Business time `asOf`, as known now.
    KnownNow(i64),
    /// Business time `as_of`, as known at `known_at`.
    Known { as_of: i64, known_at: i64 },
}

impl At {
    fn of(as_of: Option<DateTime<Utc>>, known_at: Option<DateTime<Utc>>) -> At {
        match (as_of, known_at) {
            (None, None) => At::Present,
            (Some(as_of), None) => At::KnownNow(as_of.timestamp_micros()),
            (as_of, Some(known_at)) => At::Known {
                as_of: as_of.unwrap_or_else(caseledger_clock::now).timestamp_micros(),
                known_at: known_at.timestamp_micros(),
            },
        }
    }
}

/// A row's two stretches, half-open, in microseconds; `i64::MAX` for 'infinity'.
#[derive(Debug, Clone, Copy)]
struct Stretches {
    valid_from: i64,
    valid_to: i64,
    recorded_from: i64,
    recorded_to: i64,
}

impl Stretches {
    fn of(valid: (DateTime<Utc>, Option<DateTime<Utc>>), recorded: (DateTime<Utc>, Option<DateTime<Utc>>)) -> Self {
        let micros = |at: Option<DateTime<Utc>>| at.map_or(i64::MAX, |at| at.timestamp_micros());
        Stretches {
            valid_from: valid.0.timestamp_micros(),
            valid_to: micros(valid.1),
            recorded_from: recorded.0.timestamp_micros(),
            recorded_to: micros(recorded.1),
        }
    }

    fn hold(&self, at: At) -> bool {
        let valid = |t: i64| self.valid_from <= t && t < self.valid_to;
        match at {
            At::Present => self.valid_to == i64::MAX && self.recorded_to == i64::MAX,
            At::KnownNow(as_of) => self.recorded_to == i64::MAX && valid(as_of),
            At::Known { as_of, known_at } => {
                valid(as_of) && self.recorded_from <= known_at && known_at < self.recorded_to
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct CaseSpan {
    group: u32,
    /// openedAt → compliantAt in milliseconds, as the queries round it.
    duration_ms: Option<i64>,
    stretches: Stretches,
}

#[derive(Debug, Clone, Copy)]
struct PracticeSpan {
    group: u32,
    compliant: bool,
    stretches: Stretches,
}

/// Keys seen once, each given a small number.
#[derive(Debug)]
struct Groups<K> {
    keys: Vec<K>,
    ids: HashMap<K, u32>,
}

impl<K> Default for Groups<K> {
    fn default() -> Self {
        Groups {
            keys: Vec::new(),
            ids: HashMap::new(),
        }
    }
}

impl<K: Hash + Eq + Clone> Groups<K> {
    fn id(&mut self, key: K) -> u32 {
        if let Some(id) = self.ids.get(&key) {
            return *id;
        }
        let id = u32::try_from(self.keys.len()).unwrap_or(u32::MAX);
        self.keys.push(key.clone());
        self.ids.insert(key, id);
        id
    }
}

/// Each case's or practice's rows, side by side in one vector (a snapshot reads them all in
/// order), with where each owner's rows are, to replace them.
#[derive(Debug)]
struct Spans<K, S> {
    spans: Vec<S>,
    owners: Vec<K>,
    at: HashMap<K, Vec<usize>>,
}

impl<K, S> Default for Spans<K, S> {
    fn default() -> Self {
        Spans {
            spans: Vec::new(),
            owners: Vec::new(),
            at: HashMap::new(),
        }
    }
}

impl<K: Hash + Eq + Clone, S> Spans<K, S> {
    fn push(&mut self, owner: K, span: S) {
        self.at.entry(owner.clone()).or_default().push(self.spans.len());
        self.spans.push(span);
        self.owners.push(owner);
    }

    /// Takes out every row of `owner`, moving the last rows into their places.
    fn remove(&mut self, owner: &K) {
        let Some(mut places) = self.at.remove(owner) else {
            return;
        };
        // From the back: a row moved into a place is never one still to be taken out.
        places.sort_unstable_by(|a, b| b.cmp(a));
        for place in places {
            self.spans.swap_remove(place);
            self.owners.swap_remove(place);
            if let Some(moved) = self.owners.get(place)
                && let Some(moved_at) = self.at.get_mut(moved)
                && let Some(old) = moved_at.iter_mut().find(|at| **at == self.spans.len())
            {
                *old = place;
            }
        }
    }
}

#[derive(Debug, Default)]
struct Rows {
    mark: Option<Mark>,
    /// (place, PCN code, status).
    case_groups: Groups<(String, String, CaseStatus)>,
    /// (place, PCN code).
    practice_groups: Groups<(String, String)>,
    cases: Spans<Uuid, CaseSpan>,
    practices: Spans<String, PracticeSpan>,
}

impl Rows {
    fn snapshot(&self, at: At) -> Snapshot {
        let mut counts: Vec<i64> = vec![0; self.case_groups.keys.len()];
        // (group, time to compliance) of every compliant case: one sort puts each group's in order.
        let mut durations: Vec<(u32, i64)> = Vec::new();
        for span in self.cases.spans.iter().filter(|span| span.stretches.hold(at)) {
            if let Some(count) = counts.get_mut(span.group as usize) {
                *count += 1;
                if let Some(ms) = span.duration_ms {
                    durations.push((span.group, ms));
                }
            }
        }
        durations.sort_unstable();
        let mut practices: Vec<(i64, i64)> = vec![(0, 0); self.practice_groups.keys.len()];
        for span in self.practices.spans.iter().filter(|span| span.stretches.hold(at)) {
            if let Some((count, non_compliant)) = practices.get_mut(span.group as usize) {
                *count += 1;
                *non_compliant += i64::from(!span.compliant);
            }
        }
        let mut durations = durations.as_slice();
        let mut cases = Vec::new();
        for (group, ((place, pcn_code, status), count)) in self.case_groups.keys.iter().zip(counts).enumerate() {
            let ours = durations.partition_point(|(g, _)| *g as usize == group);
            let (taken, rest) = durations.split_at(ours);
            durations = rest;
            if count > 0 {
                cases.push(CaseCount {
                    place: place.clone(),
                    pcn_code: pcn_code.clone(),
                    status: *status,
                    cases: count,
                    durations_ms: taken.iter().map(|(_, ms)| *ms).collect(),
                });
            }
        }
        Snapshot {
            cases,
            practices: self
                .practice_groups
                .keys
                .iter()
                .zip(practices)
                .filter(|(_, (count, _))| *count > 0)
                .map(|((place, pcn_code), (practices, non_compliant))| PracticeCount {
                    place: place.clone(),
                    pcn_code: pcn_code.clone(),
                    practices,
                    non_compliant,
                })
                .collect(),
        }
    }

    /// Puts `read`'s rows in place of those of the cases and practices it was read for.
    fn apply(&mut self, read: Read) {
        for case_id in &read.case_ids {
            self.cases.remove(case_id);
        }
        for ods_code in &read.ods_codes {
            self.practices.remove(ods_code);
        }
        for row in read.cases {
            let Some(status) = CaseStatus::parse(&row.status) else {
                continue;
            };
            let span = CaseSpan {
                group: self.case_groups.id((row.place, row.pcn_code, status)),
                duration_ms: row.duration_ms,
                stretches: Stretches::of((row.valid_from, row.valid_to), (row.recorded_from, row.recorded_to)),
            };
            self.cases.push(row.case_id, span);
        }
        for row in read.practices {
            let span = PracticeSpan {
                group: self.practice_groups.id((row.place, row.pcn_code)),
                compliant: row.compliant,
                stretches: Stretches::of((row.valid_from, row.valid_to), (row.recorded_from, row.recorded_to)),
            };
            self.practices.push(row.ods_code, span);
        }
        self.mark = Some(read.mark);
    }
}

#[derive(sqlx::FromRow)]
struct CaseRow {
    case_id: Uuid,
    place: String,
    pcn_code: String,
    status: String,
    duration_ms: Option<i64>,
    valid_from: DateTime<Utc>,
    valid_to: Option<DateTime<Utc>>,
    recorded_from: DateTime<Utc>,
    recorded_to: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct PracticeRow {
    ods_code: String,
    place: String,
    pcn_code: String,
    compliant: bool,
    valid_from: DateTime<Utc>,
    valid_to: Option<DateTime<Utc>>,
    recorded_from: DateTime<Utc>,
    recorded_to: Option<DateTime<Utc>>,
}

const CASE_ROWS: &str = r#"select case_id, place, pcn_code, status,
       (extract(epoch from compliant_at - opened_at) * 1000)::bigint as duration_ms,
       valid_from, nullif(valid_to, 'infinity') as valid_to,
       recorded_from, nullif(recorded_to, 'infinity') as recorded_to
  from case_timeline"#;

const PRACTICE_ROWS: &str = r#"select ods_code, place, pcn_code, compliant,
       valid_from, nullif(valid_to, 'infinity') as valid_to,
       recorded_from, nullif(recorded_to, 'infinity') as recorded_to
  from practice_timeline"#;

/// What one refresh read: the rows of `case_ids` and `ods_codes` (of every case and practice when
/// `everything`), as they stood at `mark`.
struct Read {
    mark: Mark,
    everything: bool,
    case_ids: Vec<Uuid>,
    ods_codes: Vec<String>,
    cases: Vec<CaseRow>,
    practices: Vec<PracticeRow>,
}

/// The figures' rows, held in memory and brought up to date before each answer; the present
/// summary is kept until the rows change.
#[derive(Debug, Default)]
pub struct HeldFigures {
    rows: RwLock<Rows>,
    /// One refresh at a time; the others wait for it and use what it read.
    refreshing: tokio::sync::Mutex<()>,
    present: tokio::sync::Mutex<Option<(Mark, Arc<Summary>)>>,
}

impl HeldFigures {
    /// The summary at `as_of` (business time) as known at `known_at` (system time): the present
    /// when both are `None`, as known now when only `as_of` is given.
    pub async fn summary(
        &self,
        pool: &PgPool,
        as_of: Option<DateTime<Utc>>,
        known_at: Option<DateTime<Utc>>,
    ) -> Result<Arc<Summary>, sqlx::Error> {
        self.refresh(pool).await?;
        let at = At::of(as_of, known_at);
        if !matches!(at, At::Present) {
            return Ok(Arc::new(super::summarise(&self.read().snapshot(at))));
        }
        // After a change one request works the present out again; the others wait for it without
        // holding a thread, and share it. It is kept with the mark of the rows it was counted from.
        let mut present = self.present.lock().await;
        let rows = self.read();
        if let Some((held, summary)) = present.as_ref()
            && Some(*held) == rows.mark
        {
            return Ok(summary.clone());
        }
        let summary = Arc::new(super::summarise(&rows.snapshot(at)));
        if let Some(mark) = rows.mark {
            *present = Some((mark, summary.clone()));
        }
        Ok(summary)
    }

    /// The counts `summary` is made from.
    pub async fn snapshot(
        &self,
        pool: &PgPool,
        as_of: Option<DateTime<Utc>>,
        known_at: Option<DateTime<Utc>>,
    ) -> Result<Snapshot, sqlx::Error> {
        self.refresh(pool).await?;
        Ok(self.read().snapshot(At::of(as_of, known_at)))
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Rows> {
        self.rows.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn mark(&self) -> Option<Mark> {
        self.read().mark
    }

    /// Brings the rows up to every commit made before it was called.
    async fn refresh(&self, pool: &PgPool) -> Result<(), sqlx::Error> {
        let (table, seq): (i64, i64) = sqlx::query_as(
            "select 'figures_changes'::regclass::oid::bigint, coalesce((select max(seq) from figures_changes), 0)",
        )
        .fetch_one(pool)
        .await?;
        let latest = Mark { table, seq };
        if self.mark() == Some(latest) {
            return Ok(());
        }
        let _one = self.refreshing.lock().await;
        // Another request may have read at least as far meanwhile.
        if let Some(held) = self.mark()
            && held.table == latest.table
            && held.seq >= latest.seq
        {
            return Ok(());
        }
        let read = read_since(pool, self.mark()).await?;
        if read.everything {
            let mut rows = Rows::default();
            rows.apply(read);
            *self.rows.write().unwrap_or_else(PoisonError::into_inner) = rows;
        } else {
            self.rows.write().unwrap_or_else(PoisonError::into_inner).apply(read);
        }
        Ok(())
    }
}

/// Reads, in one snapshot of the database, the rows of what changed after `held` (of everything
/// when there is no `held`, the table was rebuilt, or the changes after it are gone or many).
async fn read_since(pool: &PgPool, held: Option<Mark>) -> Result<Read, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("set transaction isolation level repeatable read, read only")
        .execute(&mut *tx)
        .await?;
    // Before the snapshot, and in the order a rebuild's swap locks them (the projection's
    // TABLES): a swap waits for this read or this read for the swap, never both for each other,
    // and the oid and the rows are of one generation of the tables.
    sqlx::query("lock table case_timeline, practice_timeline, figures_changes in access share mode")
        .execute(&mut *tx)
        .await?;
    let (table, first, last): (i64, Option<i64>, Option<i64>) = sqlx::query_as(
        "select 'figures_changes'::regclass::oid::bigint, (select min(seq) from figures_changes),
                (select max(seq) from figures_changes)",
    )
    .fetch_one(&mut *tx)
    .await?;
    let mark = Mark {
        table,
        seq: last.unwrap_or_default(),
    };
    let mut changed = None;
    if let Some(held) = held
        && held.table == table
        && first.is_none_or(|first| first <= held.seq + 1)
    {
        let (case_ids, ods_codes): (Vec<Option<Uuid>>, Vec<Option<String>>) =
            sqlx::query_as::<_, (Option<Uuid>, Option<String>)>(
                "select distinct case_id, ods_code from figures_changes where seq > $1",
            )
            .bind(held.seq)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .unzip();
        let case_ids: Vec<Uuid> = case_ids.into_iter().flatten().collect();
        let ods_codes: Vec<String> = ods_codes.into_iter().flatten().collect();
        if case_ids.len() + ods_codes.len() <= RELOAD_PAST {
            changed = Some((case_ids, ods_codes));
        }
    }
    let everything = changed.is_none();
    let (case_ids, ods_codes) = changed.unwrap_or_default();
    // Without a filter for everything, so that the changed few are found by index.
    let cases: Vec<CaseRow> = if everything {
        sqlx::query_as(CASE_ROWS).fetch_all(&mut *tx).await?
    } else {
        sqlx::query_as(&format!("{CASE_ROWS} where case_id = any($1)"))
            .bind(&case_ids)
            .fetch_all(&mut *tx)
            .await?
    };
    let practices: Vec<PracticeRow> = if everything {
        sqlx::query_as(PRACTICE_ROWS).fetch_all(&mut *tx).await?
    } else {
        sqlx::query_as(&format!("{PRACTICE_ROWS} where ods_code = any($1)"))
            .bind(&ods_codes)
            .fetch_all(&mut *tx)
            .await?
    };
    tx.commit().await?;
    Ok(Read {
        mark,
        everything,
        case_ids,
        ods_codes,
        cases,
        practices,
    })
}

#[cfg(test)]
mod tests {
    use super::Spans;
    use std::collections::HashMap;

    /// The refresh locks case_timeline, practice_timeline and figures_changes in that order: a
    /// rebuild's swap must lock them in the same order, or the two can wait on each other.
    #[test]
    fn a_refresh_locks_the_tables_in_the_order_a_rebuild_does() {
        use crate::declared::Registered;
        let tables = <super::super::FiguresProjection as Registered>::TABLES;
        let at = |name: &str| tables.iter().position(|t| *t == name);
        let order = [at("case_timeline"), at("practice_timeline"), at("figures_changes")];
        assert!(order.iter().all(Option::is_some), "{tables:?}");
        assert!(order.is_sorted(), "{tables:?}");
    }

    /// Rows pushed and owners taken out in any order leave each owner exactly its own rows.
    #[test]
    fn owners_keep_their_own_rows_through_removals() {
        let mut spans: Spans<u8, (u8, u32)> = Spans::default();
        let mut expected: HashMap<u8, Vec<(u8, u32)>> = HashMap::new();
        // A small deterministic generator: pushes, and removals of owners with several rows.
        let mut state: u32 = 7;
        for step in 0..5_000u32 {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let owner = ((state >> 16) % 23) as u8;
            if (state >> 8).is_multiple_of(4) {
                spans.remove(&owner);
                expected.remove(&owner);
            } else {
                spans.push(owner, (owner, step));
                expected.entry(owner).or_default().push((owner, step));
            }
            if step.is_multiple_of(97) {
                let mut held: HashMap<u8, Vec<(u8, u32)>> = HashMap::new();
                for (place, span) in spans.spans.iter().enumerate() {
                    assert_eq!(spans.owners[place], span.0, "row {place} is its owner's");
                    held.entry(span.0).or_default().push(*span);
                }
                for rows in held.values_mut() {
                    rows.sort_unstable();
                }
                assert_eq!(held, expected, "after step {step}");
                for (owner, places) in &spans.at {
                    let mut rows: Vec<(u8, u32)> = places.iter().map(|p| spans.spans[*p]).collect();
                    rows.sort_unstable();
                    assert_eq!(Some(&rows), expected.get(owner), "where {owner}'s rows are");
                }
            }
        }
    }
}
