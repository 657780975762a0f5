-- The payments module is event-sourced. Wallets and payments are streams of domain events; their
-- current state is the fold of those events. The tables after the event store are projections
-- updated in the same transaction, for listing and lookups. Only the payments module reads or
-- writes these.

-- Every wallet's and every payment's events. (stream_id, version) is the optimistic-concurrency
-- guard: appending version n+1 twice fails on the primary key.
CREATE TABLE event_store (
    position    INTEGER PRIMARY KEY AUTOINCREMENT,
    stream_kind TEXT    NOT NULL CHECK (stream_kind IN ('wallet', 'payment')),
    stream_id   BLOB    NOT NULL,
    version     INTEGER NOT NULL CHECK (version > 0),
    event_type  TEXT    NOT NULL,
    data        TEXT    NOT NULL,
    occurred_at INTEGER NOT NULL,
    UNIQUE (stream_kind, stream_id, version)
) STRICT;
CREATE INDEX event_store_by_time ON event_store (stream_kind, stream_id, occurred_at);

-- Projection of payment streams, for lists and lookups by booking. The method is a flexible JSON
-- document (kind, brand, last4, gateway token), as a document store would keep it.
CREATE TABLE payments (
    id             BLOB    PRIMARY KEY,
    booking_id     BLOB    NOT NULL UNIQUE,
    user_id        BLOB    NOT NULL,
    amount_cents   INTEGER NOT NULL,
    currency       TEXT    NOT NULL,
    method         TEXT    NOT NULL CHECK (json_valid(method)),
    status         TEXT    NOT NULL CHECK (status IN ('pending', 'captured', 'declined', 'refunded', 'voided')),
    decline_reason TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    version        INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
) STRICT;
CREATE INDEX payments_by_user ON payments (user_id, created_at, id);
CREATE INDEX payments_by_time ON payments (created_at, id);

-- The simulated card gateway's late answers: a charge it did not answer in time settles later
-- (survives restarts, as an external gateway's would).
CREATE TABLE gateway_callbacks (
    payment_id     BLOB    PRIMARY KEY REFERENCES payments (id),
    due_at         INTEGER NOT NULL,
    outcome        TEXT    NOT NULL CHECK (outcome IN ('captured', 'declined')),
    -- The chain the late answer belongs to, so it shows in the booking's causation chain.
    correlation_id BLOB    NOT NULL,
    causation_id   BLOB    NOT NULL
) STRICT;
CREATE INDEX gateway_callbacks_by_due ON gateway_callbacks (due_at);
