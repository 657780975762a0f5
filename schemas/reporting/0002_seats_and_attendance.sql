-- Which seats each booking holds (for the feed and its search), how many tickets of each show
-- were admitted at the door, and the zone each show's times are read in.
ALTER TABLE feed ADD COLUMN seat_labels TEXT;
ALTER TABLE show_sales ADD COLUMN admitted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE show_sales ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE feed ADD COLUMN show_time_zone TEXT;
