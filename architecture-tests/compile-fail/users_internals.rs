//! Another crate cannot reach the users module's storage: not its pool, not its repository, not
//! the rows of its tables.

fn pool(facade: &users::Users) {
    let _ = &facade.db;
}

fn main() {
    let _ = users::store::find_by_id;
    let _: Option<users::store::UserRow> = None;
    let _: Option<users::UserRow> = None;
}
