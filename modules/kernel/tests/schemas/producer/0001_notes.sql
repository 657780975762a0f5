-- A toy producer for the backbone tests: a note per event.
CREATE TABLE notes (n INTEGER PRIMARY KEY) STRICT;
