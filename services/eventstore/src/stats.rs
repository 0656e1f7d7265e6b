//! What the store can say about itself for operators and for waiting writers: the head of the
//! log, where each named subscriber is, how far behind it is, and how old the oldest open writer
//! is. Nothing outside the store reads `events` or `subscription_checkpoints` for these.

use chrono::{DateTime, Utc};

use crate::{EventStore, Position, StoreError};

/// A named subscriber's saved checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub subscriber: String,
    pub position: Position,
    pub updated_at: DateTime<Utc>,
}

/// How far a subscriber is behind the log.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lag {
    /// Events committed after its checkpoint (counted up to a limit).
    pub events: u64,
    /// The age of the oldest of them, in seconds (0 when none).
    pub seconds: f64,
}

fn position(tx_id: &str, position: i64) -> Result<Position, StoreError> {
    Ok(Position {
        tx_id: tx_id
            .parse()
            .map_err(|_| StoreError::Malformed(format!("tx_id {tx_id}")))?,
        position: u64::try_from(position).unwrap_or_default(),
    })
}

impl EventStore {
    /// The newest event committed, if any.
    pub async fn head(&self) -> Result<Option<Position>, StoreError> {
        let row = sqlx::query!(
            r#"select tx_id::text as "tx_id!", position from events order by tx_id desc, position desc limit 1"#
        )
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| position(&row.tx_id, row.position)).transpose()
    }

    /// The saved checkpoints of `subscribers` (those that have one), by name.
    pub async fn checkpoints(&self, subscribers: &[&str]) -> Result<Vec<Checkpoint>, StoreError> {
        let names: Vec<String> = subscribers.iter().map(|s| s.to_string()).collect();
        let rows = sqlx::query!(
            r#"select subscriber, tx_id::text as "tx_id!", position, updated_at
                 from subscription_checkpoints where subscriber = any($1) order by subscriber"#,
            &names
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|row| {
                Ok(Checkpoint {
                    subscriber: row.subscriber,
                    position: position(&row.tx_id, row.position)?,
                    updated_at: row.updated_at,
                })
            })
            .collect()
    }

    /// How far `subscriber` is behind the log, counting at most `limit` events.
    pub async fn lag(&self, subscriber: &str, limit: u64) -> Result<Lag, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let after = crate::load_checkpoint(&mut conn, subscriber)
            .await?
            .unwrap_or(Position::START);
        let row = sqlx::query!(
            r#"select count(*) as "events!", coalesce(extract(epoch from now() - min(recorded_at)), 0)::float8 as "seconds!"
                 from (select recorded_at from events
                        where (tx_id, position) > ($1::text::xid8, $2)
                        order by tx_id, position limit $3) pending"#,
            after.tx_id_text(),
            after.position_i64(),
            i64::try_from(limit).unwrap_or(i64::MAX),
        )
        .fetch_one(&mut *conn)
        .await?;
        Ok(Lag {
            events: u64::try_from(row.events).unwrap_or_default(),
            seconds: row.seconds.max(0.0),
        })
    }

    /// The age in seconds of the oldest open transaction that has an id (cluster-wide): it holds
    /// back what readers of `$all` may see. Reading other users' sessions needs `pg_monitor`.
    pub async fn oldest_writer_seconds(&self) -> Result<f64, StoreError> {
        let seconds = sqlx::query_scalar!(
            r#"select coalesce(extract(epoch from now() - min(xact_start)), 0)::float8 as "seconds!"
                 from pg_stat_activity where backend_xid is not null"#
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(seconds.max(0.0))
    }
}
