-- Each wallet's state as of its newest event, written in the same transaction as that event, so a
-- charge reads one row instead of replaying the wallet's whole history. The event store stays the
-- truth: a wallet without a snapshot (or with an older one) is completed from the events after it.
CREATE TABLE wallet_snapshots (
    user_id       BLOB    PRIMARY KEY,
    version       INTEGER NOT NULL CHECK (version > 0),
    balance_cents INTEGER NOT NULL
) STRICT;
