-- The reporting module's read model: derived data only, built from the users, bookings and
-- payments streams, and rebuilt from scratch by replaying them. Nothing here is a source of truth.

-- One row per booking, merged from all three streams (in whatever order they arrive).
CREATE TABLE feed (
    booking_id           BLOB    PRIMARY KEY,
    show_id              BLOB,
    show_title           TEXT,
    show_starts_at       INTEGER,
    user_id              BLOB,
    user_name            TEXT,
    user_email           TEXT,
    seats                INTEGER NOT NULL DEFAULT 0,
    amount_cents         INTEGER NOT NULL DEFAULT 0,
    currency             TEXT,
    status               TEXT,
    cancel_reason        TEXT,
    payment_status       TEXT,
    payment_method       TEXT,
    card_brand           TEXT,
    card_last4           TEXT,
    payment_amount_cents INTEGER NOT NULL DEFAULT 0,
    payment_currency     TEXT,
    placed_at            INTEGER,
    confirmed_at         INTEGER,
    updated_at           INTEGER NOT NULL
) STRICT;
-- Newest first, with each filter's own index ending in the order.
CREATE INDEX feed_by_time ON feed (placed_at, booking_id);
CREATE INDEX feed_by_status ON feed (status, placed_at, booking_id);
CREATE INDEX feed_by_payment ON feed (payment_status, placed_at, booking_id);
CREATE INDEX feed_by_show ON feed (show_id, placed_at, booking_id);
CREATE INDEX feed_by_user ON feed (user_id, placed_at, booking_id);

-- The search service of the seeds, as one more storage model: full text over the feed and shows.
CREATE VIRTUAL TABLE feed_search USING fts5 (booking_id UNINDEXED, body, tokenize = 'unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE show_search USING fts5 (show_id UNINDEXED, title, venue, tokenize = 'unicode61 remove_diacritics 2');

-- Sales per show: the show's details from its events, the figures as sums of its feed rows.
CREATE TABLE show_sales (
    show_id       BLOB    PRIMARY KEY,
    title         TEXT    NOT NULL,
    venue         TEXT    NOT NULL,
    starts_at     INTEGER NOT NULL,
    status        TEXT    NOT NULL,
    capacity      INTEGER NOT NULL,
    currency      TEXT    NOT NULL,
    seats_sold    INTEGER NOT NULL DEFAULT 0,
    seats_held    INTEGER NOT NULL DEFAULT 0,
    bookings      INTEGER NOT NULL DEFAULT 0,
    revenue_cents INTEGER NOT NULL DEFAULT 0,
    refunds_cents INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX show_sales_by_sold ON show_sales (seats_sold);

-- Per customer.
CREATE TABLE customers (
    user_id       BLOB    PRIMARY KEY,
    name          TEXT,
    email         TEXT,
    bookings      INTEGER NOT NULL DEFAULT 0,
    confirmed     INTEGER NOT NULL DEFAULT 0,
    cancelled     INTEGER NOT NULL DEFAULT 0,
    spent_cents   INTEGER NOT NULL DEFAULT 0,
    refunds_cents INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Whole-box-office counters, per currency where they are money ('' otherwise).
CREATE TABLE totals (
    name     TEXT    NOT NULL,
    currency TEXT    NOT NULL,
    value    INTEGER NOT NULL,
    PRIMARY KEY (name, currency)
) STRICT, WITHOUT ROWID;

-- Bookings by the hour they were placed.
CREATE TABLE timeline (
    bucket    INTEGER PRIMARY KEY,
    placed    INTEGER NOT NULL DEFAULT 0,
    confirmed INTEGER NOT NULL DEFAULT 0,
    cancelled INTEGER NOT NULL DEFAULT 0
) STRICT;
