//! Another crate cannot reach the bookings module's storage: not its pool, not its repository, not
//! the rows of its tables.

fn pool(facade: &bookings::Bookings) {
    let _ = &facade.db;
}

fn main() {
    let _ = bookings::store::show;
    let _: Option<bookings::store::BookingRow> = None;
    let _: Option<bookings::BookingRow> = None;
}
