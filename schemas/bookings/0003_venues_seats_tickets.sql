-- Venues and their seating plans, the seats of each show, the seats of each booking (its
-- tickets once paid) and the key ticket codes are signed with. Only the bookings module reads or
-- writes these.

-- Where shows happen, in which time zone, and how they are seated.
CREATE TABLE venues (
    id         BLOB    PRIMARY KEY,
    name       TEXT    NOT NULL,
    -- The name in lower case (Unicode, unlike SQLite's NOCASE): unique among venues.
    name_key   TEXT    NOT NULL,
    time_zone  TEXT    NOT NULL,
    -- Seats (or places) for sale.
    capacity   INTEGER NOT NULL CHECK (capacity > 0),
    -- The seating plan as JSON (sections best first, rows front first, seats left to right), or
    -- NULL for general admission. Shows copy it when they are scheduled.
    plan       TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX venues_by_name ON venues (name_key);
CREATE INDEX venues_by_time ON venues (created_at, id);

-- Shows from before venues keep a venue name only, in UTC, with general admission.
ALTER TABLE shows ADD COLUMN venue_id BLOB REFERENCES venues (id);
ALTER TABLE shows ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE shows ADD COLUMN seated INTEGER NOT NULL DEFAULT 0 CHECK (seated IN (0, 1));
CREATE INDEX shows_by_venue ON shows (venue_id, status) WHERE venue_id IS NOT NULL;

-- A seated show's sections with its own prices for them, best first.
CREATE TABLE show_sections (
    show_id     BLOB    NOT NULL REFERENCES shows (id),
    position    INTEGER NOT NULL,
    name        TEXT    NOT NULL,
    price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
    PRIMARY KEY (show_id, position)
) STRICT, WITHOUT ROWID;

-- Every seat of a seated show. A held or sold seat names the one live booking that has it.
CREATE TABLE show_seats (
    seat_id    BLOB    PRIMARY KEY,
    show_id    BLOB    NOT NULL REFERENCES shows (id),
    section    INTEGER NOT NULL,
    row_index  INTEGER NOT NULL,
    row_label  TEXT    NOT NULL,
    -- Left to right in its row: seats one apart are next to each other.
    position   INTEGER NOT NULL,
    label      TEXT    NOT NULL,
    status     TEXT    NOT NULL CHECK (status IN ('free', 'held', 'sold', 'unavailable')),
    booking_id BLOB,
    CHECK ((status IN ('held', 'sold')) = (booking_id IS NOT NULL))
) STRICT;
-- The plan's order, for drawing the map and choosing the best seats.
CREATE UNIQUE INDEX show_seats_in_plan ON show_seats (show_id, section, row_index, position);
CREATE INDEX show_seats_by_booking ON show_seats (booking_id) WHERE booking_id IS NOT NULL;

-- A booking's seats, one row per seat (or per admission to a general-admission show): its
-- tickets once the booking is paid.
CREATE TABLE booked_seats (
    ticket_id   BLOB    PRIMARY KEY,
    booking_id  BLOB    NOT NULL REFERENCES bookings (id),
    item        INTEGER NOT NULL,
    show_id     BLOB    NOT NULL REFERENCES shows (id),
    seat_id     BLOB    REFERENCES show_seats (seat_id),
    section     TEXT,
    row_label   TEXT,
    seat_label  TEXT,
    price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
    -- 1 once the booking is cancelled: the seat is for sale again and the ticket void.
    released    INTEGER NOT NULL DEFAULT 0 CHECK (released IN (0, 1)),
    admitted_at INTEGER,
    admitted_by BLOB,
    UNIQUE (booking_id, item)
) STRICT;
-- No seat is in two live bookings, whatever the code above does.
CREATE UNIQUE INDEX booked_seats_live ON booked_seats (seat_id) WHERE seat_id IS NOT NULL AND released = 0;
CREATE INDEX booked_seats_admitted ON booked_seats (show_id, admitted_at) WHERE admitted_at IS NOT NULL;

-- The secret ticket codes are signed with: made on the first start, never leaves this database.
CREATE TABLE ticket_keys (
    id         INTEGER PRIMARY KEY,
    secret     BLOB    NOT NULL CHECK (length(secret) = 32),
    created_at INTEGER NOT NULL
) STRICT;
