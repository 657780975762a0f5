-- The kernel's tables, created in every module's database (tracked in `_kernel_migrations`).
-- They belong to the module whose file they live in; no module ever reads another module's copy.

-- The module's event log and transactional outbox: appended in the same transaction as the state
-- change that caused it, never updated, retained (it is the replay source for read models).
CREATE TABLE outbox (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id       BLOB    NOT NULL UNIQUE,
    event_type     TEXT    NOT NULL,
    event_version  INTEGER NOT NULL,
    aggregate_id   TEXT    NOT NULL,
    payload        TEXT    NOT NULL,
    correlation_id BLOB    NOT NULL,
    causation_id   BLOB    NOT NULL,
    occurred_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX outbox_by_correlation ON outbox (correlation_id, seq);
CREATE INDEX outbox_by_type ON outbox (event_type, seq);
CREATE INDEX outbox_by_time ON outbox (occurred_at, seq);

-- How far each subscription of this module has read each producer's stream.
CREATE TABLE consumer_checkpoints (
    subscription TEXT    PRIMARY KEY,
    stream       TEXT    NOT NULL,
    seq          INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;

-- Event ids a subscription has applied, written in the handler's transaction: effect exactly once.
CREATE TABLE consumer_inbox (
    subscription TEXT    NOT NULL,
    event_id     BLOB    NOT NULL,
    seq          INTEGER NOT NULL,
    handled_at   INTEGER NOT NULL,
    PRIMARY KEY (subscription, event_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX consumer_inbox_by_seq ON consumer_inbox (subscription, seq);

-- Events a handler could not apply after its retries: parked, visible, retryable, never dropped.
CREATE TABLE dead_letters (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    subscription TEXT    NOT NULL,
    stream      TEXT    NOT NULL,
    seq         INTEGER NOT NULL,
    event_id    BLOB    NOT NULL,
    event_type  TEXT    NOT NULL,
    envelope    TEXT    NOT NULL,
    error       TEXT    NOT NULL,
    attempts    INTEGER NOT NULL,
    parked_at   INTEGER NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'parked' CHECK (status IN ('parked', 'retried', 'discarded')),
    resolved_at INTEGER,
    resolved_by TEXT,
    UNIQUE (subscription, event_id)
) STRICT;
CREATE INDEX dead_letters_by_status ON dead_letters (status, id);
