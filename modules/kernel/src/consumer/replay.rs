//! Replaying a producer's whole log into derived data, from its first event, inside one of the
//! consumer's write transactions: how a read model is rebuilt while readers keep the old one.

use super::{Subscription, run::ApplyError};
use crate::{error::Error, tx::WriteTx};

impl Subscription {
    /// Replays the producer's whole log inside `tx` (a write transaction on the consumer's own
    /// database): the subscription's checkpoint and inbox are cleared, every event is applied
    /// again, parked dead letters are resolved (`retried` by `rebuild`; an event that still fails
    /// is parked anew). Used to rebuild derived data from scratch; readers see the old data until
    /// `tx` commits. `progress` is called with the number of events read so far. Returns the
    /// last sequence number replayed; after the commit, call [`Subscription::replayed`].
    pub async fn replay(
        &self,
        tx: &mut WriteTx,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<i64, Error> {
        let inner = &self.inner;
        inner.ledger.forget(tx).await?;
        inner.dead_letters.resolve_all(tx, "rebuild").await?;
        let limit = u32::try_from(inner.config.batch_size.max(500)).unwrap_or(500);
        let mut last = 0;
        let mut read = 0u64;
        loop {
            let batch = inner.source.read(last, limit).await?;
            if batch.is_empty() {
                break;
            }
            for event in &batch {
                match inner.apply(tx, event).await {
                    Ok(_) => {}
                    // The same rule as live: park it, keep going.
                    Err(ApplyError::Handler(e)) => {
                        inner
                            .dead_letters
                            .park(tx, event, &e.to_string(), 1)
                            .await?;
                    }
                    Err(ApplyError::Storage(e)) => return Err(e),
                }
                last = event.seq;
            }
            read += batch.len() as u64;
            progress(read);
            inner.progress.note_head(last);
            if batch.len() < limit as usize {
                break;
            }
        }
        inner.ledger.save_checkpoint(tx, last).await?;
        Ok(last)
    }

    /// Tells waiters the replay committed up to `seq`.
    pub fn replayed(&self, seq: i64) {
        self.inner.progress.moved_to(seq);
    }
}
