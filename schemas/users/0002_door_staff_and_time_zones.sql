-- no-transaction
-- Door staff (a role that checks tickets in and nothing else) and each user's own time zone.
-- SQLite cannot change a CHECK constraint in place, so the table is rebuilt the way SQLite
-- documents it, outside the migrator's transaction so that foreign keys can be off while the
-- sessions' parent table is replaced (with them on, dropping it would delete every session).
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;
CREATE TABLE users_rebuilt (
    id            BLOB    PRIMARY KEY,
    email         TEXT    NOT NULL,
    full_name     TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('customer', 'door', 'admin')),
    active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    email_version INTEGER NOT NULL DEFAULT 1,
    -- The IANA zone the user reads their own times in (booked at, the ledger).
    time_zone     TEXT    NOT NULL DEFAULT 'UTC',
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;
INSERT INTO users_rebuilt (id, email, full_name, password_hash, role, active, email_version, created_at, updated_at)
    SELECT id, email, full_name, password_hash, role, active, email_version, created_at, updated_at FROM users;
DROP TABLE users;
ALTER TABLE users_rebuilt RENAME TO users;
CREATE UNIQUE INDEX users_by_email ON users (email COLLATE NOCASE);
COMMIT;
PRAGMA foreign_keys = ON;
