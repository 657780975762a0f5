-- A stand-in producer owns no tables: only the kernel's outbox, to publish real events.
SELECT 1;
