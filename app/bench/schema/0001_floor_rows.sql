-- The bench's floor: one table of one-row inserts, in a floor.db that no module owns.
CREATE TABLE floor_rows (
    id         INTEGER PRIMARY KEY,
    created_at INTEGER NOT NULL,
    body       TEXT    NOT NULL
) STRICT;
