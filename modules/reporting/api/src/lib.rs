//! The reporting module's public face: the read model — dashboard figures, the denormalized
//! booking feed, sales per show, customer summaries — and how far behind the event streams it
//! is. Plain data only: the module publishes no events and owns nothing but derived data.

mod api;
mod error;
mod model;

pub use api::ReportingApi;
pub use error::ReportingError;
pub use model::{
    BookingCounts, CurrencyTotals, CustomerSummary, Dashboard, FeedFilter, FeedItem, FeedPage,
    FeedQuery, RebuildStatus, ShowHit, ShowSales, StreamLag, TimeBucket,
};

/// The name of the module's database.
pub const STREAM: &str = "reporting";
