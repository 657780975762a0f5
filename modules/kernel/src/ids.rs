//! Identifiers: UUID v7, so ids sort by creation time and index well.

use uuid::Uuid;

/// A new, time-ordered identifier.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}
