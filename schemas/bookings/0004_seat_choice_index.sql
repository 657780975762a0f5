-- Choosing the best available seats reads a show's free seats in plan order, a slice at a time
-- from the front: an index of the free seats alone lets a busy plan's full front rows be skipped
-- instead of read. (The unique index on the plan position stays the rule; this one is for
-- reading.)
CREATE INDEX show_seats_free ON show_seats (show_id, section, row_index, position) WHERE status = 'free';
