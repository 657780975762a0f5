-- Payments no longer know what they pay for: a requester (bookings, or any module that sells
-- something) names it with an opaque reference. Existing rows keep their values; the column
-- only changes its name.
ALTER TABLE payments RENAME COLUMN booking_id TO reference;
