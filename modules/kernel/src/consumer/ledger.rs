//! The subscription's ledger in the consumer's own database: the checkpoint (the last sequence
//! number handled) and the inbox (the ids of events applied), each written in the transaction
//! that applies the effects, so an event takes effect once or not at all.

use crate::{
    db::ModuleDb,
    error::Error,
    events::Envelope,
    tx::{Savepoint, WriteTx},
};

/// Sequence numbers of inbox rows deleted per pruning transaction.
const PRUNE_SLICE: i64 = 2_000;

pub(super) struct Ledger {
    subscription: String,
    stream: String,
    db: ModuleDb,
}

impl Ledger {
    pub(super) fn new(db: &ModuleDb, subscription: &str, stream: &str) -> Ledger {
        Ledger {
            subscription: subscription.to_owned(),
            stream: stream.to_owned(),
            db: db.clone(),
        }
    }

    fn error(&self) -> impl FnOnce(sqlx::Error) -> Error {
        Error::db(self.db.module())
    }

    /// The last sequence number handled (0 before the first).
    pub(super) async fn checkpoint(&self) -> Result<i64, Error> {
        let seq: Option<i64> =
            sqlx::query_scalar("SELECT seq FROM consumer_checkpoints WHERE subscription = ?")
                .bind(&self.subscription)
                .fetch_optional(self.db.reader()?)
                .await
                .map_err(self.error())?;
        Ok(seq.unwrap_or(0))
    }

    /// Moves the checkpoint to `seq` (never back).
    pub(super) async fn save_checkpoint(&self, tx: &mut WriteTx, seq: i64) -> Result<(), Error> {
        sqlx::query(
            "INSERT INTO consumer_checkpoints (subscription, stream, seq, updated_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (subscription) DO UPDATE SET seq = MAX(seq, excluded.seq), updated_at = excluded.updated_at",
        )
        .bind(&self.subscription)
        .bind(&self.stream)
        .bind(seq)
        .bind(self.db.clock().now())
        .execute(tx.conn())
        .await
        .map_err(self.error())?;
        Ok(())
    }

    /// Claims `event` in the inbox behind a savepoint, in one round trip: the savepoint to roll
    /// the handler's effects (and the claim) back to, or `None` when the event was applied
    /// before (nothing claimed, nothing left open).
    ///
    /// A successful step's savepoint is never released: it stays on SQLite's savepoint stack
    /// until the batch commits, which saves a round trip per event.
    pub(super) async fn claim(
        &self,
        tx: &mut WriteTx,
        event: &Envelope,
    ) -> Result<Option<Savepoint>, Error> {
        let now = self.db.clock().now();
        let (savepoint, claimed) = tx
            .savepoint_with(
                "INSERT INTO consumer_inbox (subscription, event_id, seq, handled_at) VALUES (?, ?, ?, ?) \
                 ON CONFLICT (subscription, event_id) DO NOTHING RETURNING 1",
                |q| {
                    q.bind(self.subscription.as_str())
                        .bind(event.event_id)
                        .bind(event.seq)
                        .bind(now)
                },
            )
            .await?;
        if claimed {
            Ok(Some(savepoint))
        } else {
            tx.rollback_to(savepoint).await?;
            Ok(None)
        }
    }

    /// Forgets every claim and the checkpoint, inside `tx` (a replay starts from the first event).
    pub(super) async fn forget(&self, tx: &mut WriteTx) -> Result<(), Error> {
        sqlx::query(
            "DELETE FROM consumer_inbox WHERE subscription = ?1; \
             DELETE FROM consumer_checkpoints WHERE subscription = ?1",
        )
        .bind(&self.subscription)
        .execute(tx.conn())
        .await
        .map_err(self.error())?;
        Ok(())
    }

    /// Deletes inbox rows more than `retention` sequence numbers below `checkpoint`.
    pub(super) async fn prune(&self, checkpoint: i64, retention: i64) -> Result<(), Error> {
        let retention = retention.max(0);
        if checkpoint <= retention {
            return Ok(());
        }
        // In slices of a few thousand rows, one short transaction each: a single DELETE of a
        // large backlog held the module's only writer for seconds.
        loop {
            let mut tx = self.db.write(crate::events::Trace::new_root()).await?;
            let done = sqlx::query(
                "DELETE FROM consumer_inbox WHERE subscription = ? AND seq < MIN(?, \
                 (SELECT MIN(seq) FROM consumer_inbox WHERE subscription = ?) + ?)",
            )
            .bind(&self.subscription)
            .bind(checkpoint - retention)
            .bind(&self.subscription)
            .bind(PRUNE_SLICE)
            .execute(tx.conn())
            .await
            .map_err(self.error())?;
            tx.commit().await?;
            if done.rows_affected() == 0 {
                return Ok(());
            }
            tokio::task::yield_now().await;
        }
    }
}
