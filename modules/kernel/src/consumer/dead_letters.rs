//! Dead letters: an event whose handler still fails after its retries is parked here, in the
//! consumer's database, with its error and attempts; an operator lists, retries (applied exactly
//! once) or discards it, and every resolution records who did it.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::{
    Subscription,
    run::{Applied, ApplyError},
};
use crate::{
    db::ModuleDb,
    error::Error,
    events::{Envelope, Trace},
    time::Timestamp,
    tx::WriteTx,
};

/// An event parked after its retries.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DeadLetter {
    /// Its id among the consumer module's dead letters.
    pub id: i64,
    /// The subscription that could not apply it.
    pub subscription: String,
    /// The event.
    pub envelope: Envelope,
    /// The last error.
    pub error: String,
    /// Attempts made.
    pub attempts: i64,
    /// When it was parked.
    pub parked_at: Timestamp,
    /// `parked`, `retried` or `discarded`.
    pub status: String,
    /// When an operator retried or discarded it.
    pub resolved_at: Option<Timestamp>,
    /// Who did.
    pub resolved_by: Option<String>,
}

/// What retrying a dead letter did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum DeadLetterOutcome {
    /// The handler applied it (or it had been applied already); it is resolved.
    Applied,
    /// The handler failed again; it stays parked with the new error.
    StillFailing {
        /// The error.
        error: String,
    },
    /// It was discarded by the operator.
    Discarded,
    /// No parked dead letter with that id in this subscription.
    NotFound,
}

/// The dead-letter rows of one subscription.
pub(super) struct DeadLetters {
    subscription: String,
    stream: String,
    db: ModuleDb,
}

impl DeadLetters {
    pub(super) fn new(db: &ModuleDb, subscription: &str, stream: &str) -> DeadLetters {
        DeadLetters {
            subscription: subscription.to_owned(),
            stream: stream.to_owned(),
            db: db.clone(),
        }
    }

    fn error(&self) -> impl FnOnce(sqlx::Error) -> Error {
        Error::db(self.db.module())
    }

    /// Parks `event` with its last error after `attempts` attempts, added to those of any
    /// earlier parking of it (a replay parks anew with `attempts` 0: it counts nothing more).
    pub(super) async fn park(
        &self,
        tx: &mut WriteTx,
        event: &Envelope,
        error: &str,
        attempts: u32,
    ) -> Result<(), Error> {
        sqlx::query(
            "INSERT INTO dead_letters (subscription, stream, seq, event_id, event_type, envelope, error, attempts, parked_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, MAX(?, 1), ?) ON CONFLICT (subscription, event_id) DO UPDATE SET \
             status = 'parked', error = excluded.error, attempts = dead_letters.attempts + ?8, \
             parked_at = excluded.parked_at, resolved_at = NULL, resolved_by = NULL",
        )
        .bind(&self.subscription)
        .bind(&self.stream)
        .bind(event.seq)
        .bind(event.event_id)
        .bind(&event.event_type)
        .bind(serde_json::to_string(event)?)
        .bind(error)
        .bind(i64::from(attempts))
        .bind(self.db.clock().now())
        .execute(tx.conn())
        .await
        .map_err(self.error())?;
        Ok(())
    }

    /// Parks a message that is not an event ([`Envelope::unreadable`]) unless it was parked
    /// before (by the live feed or an earlier catch-up), whatever became of it since: true when
    /// it is parked now for the first time.
    pub(super) async fn park_unreadable(
        &self,
        tx: &mut WriteTx,
        event: &Envelope,
    ) -> Result<bool, Error> {
        let parked = sqlx::query(
            "INSERT INTO dead_letters (subscription, stream, seq, event_id, event_type, envelope, error, attempts, parked_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?) ON CONFLICT (subscription, event_id) DO NOTHING",
        )
        .bind(&self.subscription)
        .bind(&self.stream)
        .bind(event.seq)
        .bind(event.event_id)
        .bind(&event.event_type)
        .bind(serde_json::to_string(event)?)
        .bind(format!(
            "a message on the {} stream that is not one of its events",
            event.stream
        ))
        .bind(self.db.clock().now())
        .execute(tx.conn())
        .await
        .map_err(self.error())?
        .rows_affected()
            == 1;
        Ok(parked)
    }

    /// Counts a parking in the metrics (after its transaction committed).
    pub(super) fn count_parked(&self) {
        self.db.metrics().event_dead_lettered(&self.subscription);
    }

    /// How many are parked now (-1 when the database cannot say).
    pub(super) async fn parked(&self) -> i64 {
        match self.db.reader() {
            Ok(pool) => sqlx::query_scalar(
                "SELECT COUNT(*) FROM dead_letters WHERE subscription = ? AND status = 'parked'",
            )
            .bind(&self.subscription)
            .fetch_one(pool)
            .await
            .unwrap_or(-1),
            Err(_) => -1,
        }
    }

    /// Newest first, at most 500: only the parked ones, or all with `all`.
    pub(super) async fn list(&self, all: bool) -> Result<Vec<DeadLetter>, Error> {
        let sql = if all {
            "SELECT * FROM dead_letters WHERE subscription = ? ORDER BY id DESC LIMIT 500"
        } else {
            "SELECT * FROM dead_letters WHERE subscription = ? AND status = 'parked' ORDER BY id DESC LIMIT 500"
        };
        let rows = sqlx::query(sql)
            .bind(&self.subscription)
            .fetch_all(self.db.reader()?)
            .await
            .map_err(self.error())?;
        rows.iter()
            .map(|row| from_row(row).map_err(self.error()))
            .collect()
    }

    /// The parked event with this id, read inside `tx`.
    async fn parked_envelope(&self, tx: &mut WriteTx, id: i64) -> Result<Option<Envelope>, Error> {
        let envelope: Option<String> = sqlx::query_scalar(
            "SELECT envelope FROM dead_letters WHERE id = ? AND subscription = ? AND status = 'parked'",
        )
        .bind(id)
        .bind(&self.subscription)
        .fetch_optional(tx.conn())
        .await
        .map_err(self.error())?;
        envelope
            .map(|e| serde_json::from_str(&e).map_err(Error::from))
            .transpose()
    }

    async fn resolve(
        &self,
        tx: &mut WriteTx,
        id: i64,
        status: &str,
        actor: &str,
    ) -> Result<(), Error> {
        sqlx::query(
            "UPDATE dead_letters SET status = ?, resolved_at = ?, resolved_by = ? WHERE id = ?",
        )
        .bind(status)
        .bind(self.db.clock().now())
        .bind(actor)
        .bind(id)
        .execute(tx.conn())
        .await
        .map_err(self.error())?;
        Ok(())
    }

    async fn failed_again(&self, tx: &mut WriteTx, id: i64, error: &str) -> Result<(), Error> {
        sqlx::query("UPDATE dead_letters SET error = ?, attempts = attempts + 1 WHERE id = ?")
            .bind(error)
            .bind(id)
            .execute(tx.conn())
            .await
            .map_err(self.error())?;
        Ok(())
    }

    /// Resolves every parked one as `retried` by `by` (a replay applies them all again).
    pub(super) async fn resolve_all(&self, tx: &mut WriteTx, by: &str) -> Result<(), Error> {
        sqlx::query(
            "UPDATE dead_letters SET status = 'retried', resolved_at = ?, resolved_by = ? \
             WHERE subscription = ? AND status = 'parked'",
        )
        .bind(self.db.clock().now())
        .bind(by)
        .bind(&self.subscription)
        .execute(tx.conn())
        .await
        .map_err(self.error())?;
        Ok(())
    }
}

fn from_row(row: &sqlx::sqlite::SqliteRow) -> Result<DeadLetter, sqlx::Error> {
    let envelope: String = row.try_get("envelope")?;
    Ok(DeadLetter {
        id: row.try_get("id")?,
        subscription: row.try_get("subscription")?,
        envelope: serde_json::from_str(&envelope).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        error: row.try_get("error")?,
        attempts: row.try_get("attempts")?,
        parked_at: row.try_get("parked_at")?,
        status: row.try_get("status")?,
        resolved_at: row.try_get("resolved_at")?,
        resolved_by: row.try_get("resolved_by")?,
    })
}

impl Subscription {
    /// Dead letters of this subscription, newest first (only parked ones unless `all`).
    pub async fn dead_letters(&self, all: bool) -> Result<Vec<DeadLetter>, Error> {
        self.inner.dead_letters.list(all).await
    }

    /// Tries a parked dead letter again; on success it is applied exactly once and resolved.
    pub async fn retry_dead_letter(
        &self,
        id: i64,
        actor: &str,
    ) -> Result<DeadLetterOutcome, Error> {
        let inner = &self.inner;
        let mut tx = inner.db.write(Trace::new_root()).await?;
        let Some(event) = inner.dead_letters.parked_envelope(&mut tx, id).await? else {
            return Ok(DeadLetterOutcome::NotFound);
        };
        if event.is_unreadable() {
            // Nothing can apply a message that is not an event; only discarding resolves it.
            let error = "not an event: it can only be discarded".to_owned();
            inner.dead_letters.failed_again(&mut tx, id, &error).await?;
            tx.commit().await?;
            return Ok(DeadLetterOutcome::StillFailing { error });
        }
        match inner.apply(&mut tx, &event).await {
            Ok(Applied::Ignored) => {
                // Not a type this subscription applies any more: resolving it would claim a
                // success that never happened.
                let error = format!(
                    "{} no longer handles {} events",
                    inner.name, event.event_type
                );
                inner.dead_letters.failed_again(&mut tx, id, &error).await?;
                tx.commit().await?;
                tracing::warn!(subscription = %inner.name, id, actor, error = %error, "dead letter retried: not handled");
                Ok(DeadLetterOutcome::StillFailing { error })
            }
            Ok(outcome) => {
                inner
                    .dead_letters
                    .resolve(&mut tx, id, "retried", actor)
                    .await?;
                tx.commit().await?;
                if matches!(outcome, Applied::Handled) {
                    inner.progress.count_handled(1);
                }
                tracing::info!(subscription = %inner.name, id, actor, event_id = %event.event_id, "dead letter retried and applied");
                Ok(DeadLetterOutcome::Applied)
            }
            Err(ApplyError::Handler(e)) => {
                let error = e.to_string();
                inner.dead_letters.failed_again(&mut tx, id, &error).await?;
                tx.commit().await?;
                tracing::warn!(subscription = %inner.name, id, actor, error = %error, "dead letter retried and failed again");
                Ok(DeadLetterOutcome::StillFailing { error })
            }
            Err(ApplyError::Storage(e)) => Err(e),
        }
    }

    /// Resolves a parked dead letter without applying it.
    pub async fn discard_dead_letter(
        &self,
        id: i64,
        actor: &str,
    ) -> Result<DeadLetterOutcome, Error> {
        let inner = &self.inner;
        let mut tx = inner.db.write(Trace::new_root()).await?;
        if inner
            .dead_letters
            .parked_envelope(&mut tx, id)
            .await?
            .is_none()
        {
            return Ok(DeadLetterOutcome::NotFound);
        }
        inner
            .dead_letters
            .resolve(&mut tx, id, "discarded", actor)
            .await?;
        tx.commit().await?;
        tracing::warn!(subscription = %inner.name, id, actor, "dead letter discarded by operator");
        Ok(DeadLetterOutcome::Discarded)
    }
}
