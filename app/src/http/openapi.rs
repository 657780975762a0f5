//! The OpenAPI document of the whole JSON API, generated from the handlers' annotations.

use actix_web::{HttpResponse, web};
use utoipa::OpenApi;

use super::{bookings, events, health, payments, problem, reporting, users};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Boxoffice API",
        description = "A ticket box office built as a modular monolith. Errors are \
            `application/problem+json`; money is integer cents with a currency code; ids are UUIDs; \
            times are RFC 3339 UTC; lists take `limit` and `cursor`. Authenticate with \
            `POST /api/session`, which sets the `bo_session` cookie.",
    ),
    paths(
        users::register, users::log_in, users::log_out, users::me, users::list, users::get, users::update,
        users::deactivate,
        bookings::create_show, bookings::list_shows, bookings::get_show, bookings::update_show, bookings::cancel_show,
        bookings::place, bookings::list, bookings::get, bookings::cancel, bookings::saga, bookings::details,
        bookings::my_live,
                payments::deposit, payments::wallet, payments::ledger, payments::list, payments::get,
        reporting::dashboard, reporting::feed, reporting::show_sales, reporting::my_summary, reporting::search_shows,
        reporting::rebuild, reporting::rebuild_status,
        events::list, events::chain, events::live, events::subscriptions, events::dead_letters, events::retry,
        events::discard,
        health::health, health::metrics, health::set_availability, health::advance_clock,
    ),
    components(schemas(problem::Problem, kernel::FieldError)),
    tags(
        (name = "users", description = "Accounts and sessions (the users module)"),
        (name = "bookings", description = "Shows, bookings and the booking saga (the bookings module)"),
        (name = "payments", description = "Wallets, ledgers and payments (the payments module)"),
                (name = "reporting", description = "The read model: dashboard, feed, sales, search (the reporting module)"),
        (name = "events", description = "The event log across modules, subscriptions and dead letters (admins)"),
        (name = "operations", description = "Health, metrics and fault injection"),
    ),
)]
struct ApiDoc;

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/openapi.json", web::get().to(document));
}

/// The document, as JSON.
pub(crate) fn document_json() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

async fn document() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(document_json())
}
