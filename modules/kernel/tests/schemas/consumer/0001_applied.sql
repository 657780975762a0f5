-- A toy consumer for the backbone tests: how many times each note's event took effect.
CREATE TABLE applied (n INTEGER PRIMARY KEY, times INTEGER NOT NULL) STRICT;
