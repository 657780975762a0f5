-- The bookings module's shows, bookings and booking sagas. Only the bookings module reads or
-- writes these. Nothing here points at another module's data: user ids are plain values, and the
-- user's email is a copy kept fresh by the users module's events.

CREATE TABLE shows (
    id          BLOB    PRIMARY KEY,
    title       TEXT    NOT NULL,
    venue       TEXT    NOT NULL,
    starts_at   INTEGER NOT NULL,
    capacity    INTEGER NOT NULL CHECK (capacity > 0),
    seats_taken INTEGER NOT NULL DEFAULT 0,
    price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
    currency    TEXT    NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'cancelled')),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    -- Never oversold, whatever the concurrency: the last line of defence behind the guarded UPDATE.
    CHECK (seats_taken >= 0 AND seats_taken <= capacity)
) STRICT;
CREATE INDEX shows_by_start ON shows (status, starts_at);

CREATE TABLE bookings (
    id                  BLOB    PRIMARY KEY,
    user_id             BLOB    NOT NULL,
    user_email          TEXT    NOT NULL,
    user_email_version  INTEGER NOT NULL,
    show_id             BLOB    NOT NULL REFERENCES shows (id),
    seats               INTEGER NOT NULL CHECK (seats > 0),
    amount_cents        INTEGER NOT NULL CHECK (amount_cents >= 0),
    currency            TEXT    NOT NULL,
    status              TEXT    NOT NULL CHECK (status IN ('pending', 'confirmed', 'cancelled')),
    cancel_reason       TEXT,
    payment_method      TEXT    NOT NULL CHECK (payment_method IN ('wallet', 'card')),
    card_brand          TEXT,
    card_last4          TEXT,
    payment_id          BLOB,
    idempotency_key     TEXT,
    request_fingerprint BLOB,
    -- The request that placed it: later saga steps (timeouts) join its causation chain.
    correlation_id      BLOB    NOT NULL,
    placed_event_id     BLOB    NOT NULL,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
) STRICT;
-- One index per list filter, each ending in the list's order (newest first, id as tie-breaker).
CREATE INDEX bookings_by_time ON bookings (created_at, id);
CREATE INDEX bookings_by_status ON bookings (status, created_at, id);
CREATE INDEX bookings_by_user ON bookings (user_id, created_at, id);
CREATE INDEX bookings_by_show ON bookings (show_id, status, created_at, id);
CREATE UNIQUE INDEX bookings_by_idempotency_key ON bookings (user_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

-- The newest email the users module told us about, per user (from UserEmailChanged), so a booking
-- placed with an older answer from the user directory still gets the fresh address.
CREATE TABLE user_email_copies (
    user_id       BLOB    PRIMARY KEY,
    email         TEXT    NOT NULL,
    email_version INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- The booking saga: one row per booking, its timeline in saga_steps.
CREATE TABLE sagas (
    booking_id  BLOB    PRIMARY KEY REFERENCES bookings (id),
    state       TEXT    NOT NULL CHECK (state IN ('awaiting_payment', 'confirmed', 'cancelled', 'refund_pending', 'refunded')),
    deadline_at INTEGER NOT NULL,
    payment_id  BLOB,
    updated_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX sagas_by_deadline ON sagas (state, deadline_at);

CREATE TABLE saga_steps (
    booking_id BLOB    NOT NULL REFERENCES sagas (booking_id),
    step       INTEGER NOT NULL,
    at         INTEGER NOT NULL,
    action     TEXT    NOT NULL,
    event_type TEXT,
    event_id   BLOB,
    outcome    TEXT    NOT NULL CHECK (outcome IN ('ok', 'compensating', 'failed')),
    detail     TEXT,
    PRIMARY KEY (booking_id, step)
) STRICT, WITHOUT ROWID;
