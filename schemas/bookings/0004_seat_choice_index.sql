-- Choosing the best available seats reads every seat of a show in plan order with its status:
-- with the status in the index, that is a scan of the index alone, not a lookup of each seat's
-- row. The unique index on the plan position stays the rule; this one is only for reading.
CREATE INDEX show_seats_by_plan_and_status ON show_seats (show_id, section, row_index, position, status);
