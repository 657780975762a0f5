//! Another crate cannot reach the payments module's storage: not its pool, not its repository, not
//! the rows of its tables.

fn pool(facade: &payments::Payments) {
    let _ = &facade.db;
}

fn main() {
    let _ = payments::store::wallet_state;
    let _: Option<payments::store::DueCallback> = None;
    let _: Option<payments::DueCallback> = None;
}
