//! Another crate cannot reach the reporting module's storage: not its pool, not its repository, not
//! the rows of its tables.

fn pool(facade: &reporting::Reporting) {
    let _ = &facade.db;
}

fn main() {
    let _ = reporting::store::customer_details;
    let _: Option<reporting::store::FeedFilter> = None;
    let _: Option<reporting::FeedFilter> = None;
}
