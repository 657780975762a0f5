-- The users module's accounts and login sessions. Only the users module reads or writes these.

CREATE TABLE users (
    id            BLOB    PRIMARY KEY,
    email         TEXT    NOT NULL,
    full_name     TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('customer', 'admin')),
    active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    email_version INTEGER NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX users_by_email ON users (email COLLATE NOCASE);

-- A session is known by the SHA-256 of its token; the token itself lives only in the cookie.
CREATE TABLE sessions (
    token_hash BLOB    PRIMARY KEY,
    user_id    BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
