-- One-time upgrade steps that need code, not SQL, and must run exactly once per data folder:
-- each records its name here in the transaction that did the work.
CREATE TABLE upgrades (
    name    TEXT    PRIMARY KEY,
    done_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
