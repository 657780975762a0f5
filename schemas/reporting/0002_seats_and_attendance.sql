-- Which seats each booking holds (for the feed and its search), and how many tickets of each show
-- were admitted at the door.
ALTER TABLE feed ADD COLUMN seat_labels TEXT;
ALTER TABLE show_sales ADD COLUMN admitted INTEGER NOT NULL DEFAULT 0;
