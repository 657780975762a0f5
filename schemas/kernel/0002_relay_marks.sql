-- How far a network transport has relayed this module's outbox: the last sequence number the
-- broker acknowledged. Written only after the acknowledgement; the broker's own stream is read
-- again on start, so a mark that fell behind (a crash between the two) repeats nothing.
CREATE TABLE relay_marks (
    transport  TEXT    PRIMARY KEY,
    seq        INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
