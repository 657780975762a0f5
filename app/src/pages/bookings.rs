//! Bookings: the customer's list and each booking's page (status, saga timeline, the composed
//! view), both updating live; the admin's list of all bookings.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use askama::Template;
use bookings_api::{Booking, BookingFilter, BookingStatus, CancelReason, Show, ShowFilter};
use serde::Deserialize;
use users_api::{Actor, User};
use uuid::Uuid;

use super::{
    Layout, PageError, cursor_param, format,
    guard::{AdminUser, CsrfOnly, SignedIn, UserForm},
    page_for, see_other,
};
use crate::{
    http::{ApiError, RequestContext, compose_around},
    state::AppState,
};

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/bookings").route(web::get().to(my_bookings)));
    cfg.service(web::resource("/bookings/rows").route(web::get().to(my_rows)));
    cfg.service(web::resource("/bookings/{id}").route(web::get().to(booking_page)));
    cfg.service(web::resource("/bookings/{id}/live").route(web::get().to(booking_live)));
    cfg.service(web::resource("/bookings/{id}/cancel").route(web::post().to(cancel)));
    cfg.service(web::resource("/admin/bookings").route(web::get().to(all_bookings)));
    cfg.service(web::resource("/admin/bookings/rows").route(web::get().to(all_rows)));
}

/// Why a booking was cancelled, to its customer (`own`) or to anyone else (an admin).
pub(crate) fn reason_text(reason: CancelReason, own: bool) -> &'static str {
    match reason {
        CancelReason::PaymentDeclined => "payment declined",
        CancelReason::PaymentTimeout => "payment timed out",
        CancelReason::CustomerCancelled if own => "cancelled by you",
        CancelReason::CustomerCancelled => "cancelled by the customer",
        CancelReason::AdminCancelled => "cancelled by the box office",
        CancelReason::ShowCancelled => "show cancelled",
    }
}

/// A payment's decline reason in plain words, when it is one.
fn decline_words(reason: &str) -> Option<&'static str> {
    Some(match reason {
        "card_declined" => "the card was declined",
        "insufficient_funds" => "there was not enough money",
        "expired" => "the card has expired",
        "currency_mismatch" => "the wallet holds another currency than the price",
        _ => return None,
    })
}

/// A payment's decline reason in plain words (an unknown one with its underscores as spaces).
pub(crate) fn decline_text(reason: &str) -> String {
    decline_words(reason).map_or_else(|| reason.replace('_', " "), str::to_owned)
}

/// Where a booking stands, in one sentence its customer reads first.
fn outcome_text(b: &Booking, decline: Option<&str>, deadline: &str) -> String {
    match (b.status, b.cancel_reason) {
        (BookingStatus::Pending, _) => format!(
            "Your seats are held while the payment settles (until {deadline}); this page follows it."
        ),
        (BookingStatus::Confirmed, _) => "Confirmed: the seats are yours.".into(),
        (BookingStatus::Cancelled, Some(CancelReason::PaymentDeclined)) => format!(
            "Not booked: the payment was declined{}. No money was taken and the seats were released.",
            decline.map(|d| format!(" ({})", decline_text(d))).unwrap_or_default()
        ),
        (BookingStatus::Cancelled, Some(CancelReason::PaymentTimeout)) => {
            "Not booked: the payment did not arrive in time, so the seats were released. Anything charged late is refunded.".into()
        }
        (BookingStatus::Cancelled, Some(CancelReason::ShowCancelled)) => {
            "The show was cancelled: this booking is cancelled, and anything paid is refunded.".into()
        }
        (BookingStatus::Cancelled, _) => {
            "Cancelled: the seats were released, and anything paid is refunded.".into()
        }
    }
}

/// A booking's seats in a few words: `Stalls C11, C12` (grouped by section), or nothing for
/// general admission.
pub(crate) fn seat_summary(b: &Booking) -> String {
    let mut sections: Vec<(String, Vec<String>)> = Vec::new();
    for s in &b.booked_seats {
        let (Some(section), Some(row), Some(number)) = (&s.section, &s.row, &s.number) else {
            continue;
        };
        let seat = format!("{row}{number}");
        match sections.iter_mut().find(|(name, _)| name == section) {
            Some((_, seats)) => seats.push(seat),
            None => sections.push((section.clone(), vec![seat])),
        }
    }
    sections
        .into_iter()
        .map(|(name, seats)| format!("{name} {}", seats.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

pub(crate) fn payment_text(b: &Booking) -> String {
    match (&b.card_brand, &b.card_last4) {
        (Some(brand), Some(last4)) => format!("{brand} •••• {last4}"),
        _ => "wallet".into(),
    }
}

struct Row {
    id: Uuid,
    show_title: String,
    show_when: String,
    /// Which seats, briefly: `Stalls C11–C12`, or nothing for general admission.
    seat_labels: String,
    email: String,
    seats: i64,
    amount: String,
    payment: String,
    status: &'static str,
    reason: Option<&'static str>,
    placed: String,
}

#[derive(Template)]
#[template(path = "bookings.html")]
struct ListPage {
    layout: Layout,
    heading: &'static str,
    admin_view: bool,
    live_url: String,
    live_source: &'static str,
    status_options: Vec<(&'static str, &'static str)>,
    show_options: Vec<(String, String)>,
    filter_status: String,
    filter_show: String,
    rows: Vec<Row>,
    next_page: Option<String>,
}

#[derive(Template)]
#[template(path = "_booking_rows.html")]
struct RowsFragment {
    admin_view: bool,
    rows: Vec<Row>,
    next_page: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct ListQuery {
    status: String,
    show_id: String,
    cursor: String,
}

async fn rows(
    state: &AppState,
    user: &User,
    q: &ListQuery,
    base: &str,
) -> Result<(Vec<Row>, Option<String>), PageError> {
    let actor = &Actor::of(user);
    let zone = format::zone_of(Some(user));
    let filter = BookingFilter {
        status: BookingStatus::parse(&q.status),
        show_id: Uuid::parse_str(&q.show_id).ok(),
        cursor: cursor_param(Some(&q.cursor))?,
        ..BookingFilter::default()
    };
    let page = state.modules.bookings().bookings(actor, filter).await?;
    let ids: Vec<Uuid> = page.items.iter().map(|b| b.show_id).collect();
    let shows: HashMap<Uuid, Show> = state
        .modules
        .bookings()
        .shows_by_ids(&ids)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let rows = page
        .items
        .iter()
        .map(|b| {
            let show = shows.get(&b.show_id);
            Row {
                id: b.id,
                show_title: show.map_or_else(|| "—".into(), |s| s.title.clone()),
                show_when: show.map_or_else(String::new, format::show_time),
                seat_labels: seat_summary(b),
                email: b.user_email.clone(),
                seats: b.seats,
                amount: format::money(b.amount_cents, &b.currency),
                payment: payment_text(b),
                status: b.status.as_str(),
                reason: b
                    .cancel_reason
                    .map(|r| reason_text(r, b.user_id == actor.user_id)),
                placed: format::moment(b.created_at, &zone),
            }
        })
        .collect();
    let next_page = page.next_cursor.map(|c| {
        let params = [
            ("status", q.status.as_str()),
            ("show_id", q.show_id.as_str()),
            ("cursor", c.as_str()),
        ];
        let kept: Vec<_> = params.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        format!(
            "{base}?{}",
            serde_urlencoded::to_string(kept).unwrap_or_default()
        )
    });
    Ok((rows, next_page))
}

async fn list_page(
    req: &HttpRequest,
    state: &AppState,
    user: User,
    admin_view: bool,
    q: ListQuery,
) -> Result<HttpResponse, PageError> {
    let base = if admin_view {
        "/admin/bookings"
    } else {
        "/bookings"
    };
    let (rows, next_page) = rows(state, &user, &q, base).await?;
    let show_options = if admin_view {
        let shows = state
            .modules
            .bookings()
            .shows(ShowFilter::every_show())
            .await?;
        shows
            .items
            .iter()
            .rev()
            .map(|s| {
                (
                    s.id.to_string(),
                    format!(
                        "{} ({})",
                        s.title,
                        format::date(s.starts_at, &format::show_zone(s))
                    ),
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    let (layout, page) = page_for(
        req,
        if admin_view {
            "admin-bookings"
        } else {
            "bookings"
        },
        Some(user),
    );
    let view = ListPage {
        layout,
        heading: if admin_view {
            "All bookings"
        } else {
            "My bookings"
        },
        admin_view,
        live_url: format!("{base}/rows?{}", req.query_string()),
        live_source: if admin_view {
            "/api/events/live"
        } else {
            "/api/me/live"
        },
        status_options: vec![
            ("", "any status"),
            ("pending", "pending"),
            ("confirmed", "confirmed"),
            ("cancelled", "cancelled"),
        ],
        show_options,
        filter_status: q.status,
        filter_show: q.show_id,
        rows,
        next_page,
    };
    Ok(page.render(&view, StatusCode::OK))
}

async fn my_bookings(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<ListQuery>,
    SignedIn(user): SignedIn,
) -> Result<HttpResponse, PageError> {
    list_page(&req, &state, user, false, q.into_inner()).await
}

async fn all_bookings(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<ListQuery>,
    AdminUser(admin): AdminUser,
) -> Result<HttpResponse, PageError> {
    list_page(&req, &state, admin, true, q.into_inner()).await
}

async fn my_rows(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<ListQuery>,
    SignedIn(user): SignedIn,
) -> Result<HttpResponse, PageError> {
    let (rows, next_page) = rows(&state, &user, &q, "/bookings").await?;
    let (_, page) = page_for(&req, "", None);
    Ok(page.render(
        &RowsFragment {
            admin_view: false,
            rows,
            next_page,
        },
        StatusCode::OK,
    ))
}

async fn all_rows(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<ListQuery>,
    AdminUser(admin): AdminUser,
) -> Result<HttpResponse, PageError> {
    let (rows, next_page) = rows(&state, &admin, &q, "/admin/bookings").await?;
    let (_, page) = page_for(&req, "", None);
    Ok(page.render(
        &RowsFragment {
            admin_view: true,
            rows,
            next_page,
        },
        StatusCode::OK,
    ))
}

struct Step {
    action: String,
    detail: Option<String>,
    at: String,
    event_type: Option<String>,
    outcome: String,
}

struct PaymentView {
    status: &'static str,
    reason: Option<String>,
    method: String,
    history: Vec<(String, String, String)>,
}

/// Everything the booking page shows; rendered whole, or alone as the live fragment.
struct Body {
    id: Uuid,
    csrf: String,
    show_title: String,
    show_when: String,
    show_venue: String,
    status: &'static str,
    reason: Option<&'static str>,
    /// Where it stands, in a sentence.
    outcome: String,
    /// Where to book again after a failed payment.
    retry: Option<String>,
    /// An admin sees the architecture's explanations open; a customer, behind a disclosure.
    admin: bool,
    seats: i64,
    /// Each seat, as a person reads it.
    seat_list: Vec<String>,
    /// The tickets' page, once the booking is confirmed.
    tickets: Option<String>,
    amount: String,
    payment_method: String,
    booking_email: String,
    placed: String,
    can_cancel: bool,
    /// A ticket of it has been through the door.
    admitted: bool,
    saga_state: &'static str,
    deadline: String,
    steps: Vec<Step>,
    trace_link: Option<String>,
    partial: bool,
    customer: Option<(String, String)>,
    user_error: String,
    payment: Option<PaymentView>,
    payment_missing: bool,
    payment_error: String,
}

/// The customer's totals from the read model, and whether it had caught up.
struct Totals {
    /// The consistency tokens waited for, which the live region starts from.
    after: String,
    fresh: bool,
    bookings: i64,
    confirmed: i64,
    spent: String,
    refunds: String,
}

#[derive(Template)]
#[template(path = "booking.html")]
struct BookingPage {
    layout: Layout,
    id: Uuid,
    live_source: &'static str,
    b: Body,
    totals: Option<Totals>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct AfterQuery {
    after: Option<String>,
}

/// The owner's totals, after waiting (bounded) for the read model to include every consistency
/// token in `after` (a comma-separated list, one per stream: the page's live region sends the
/// last event it heard from each).
async fn totals(req: &HttpRequest, state: &AppState, owner: &User) -> Option<Totals> {
    let q: AfterQuery = crate::http::parse_query(req.query_string()).unwrap_or_default();
    let after = q.after.unwrap_or_default();
    let waits = after
        .split(',')
        .filter(|t| !t.is_empty())
        .map(|t| crate::http::read_your_writes(req, state, Some(t)));
    let fresh = futures_util::future::join_all(waits)
        .await
        .into_iter()
        .all(|caught_up| caught_up.unwrap_or(false));
    let s = state
        .modules
        .reporting()
        .customer(&Actor::of(owner), owner.id)
        .await
        .ok()?;
    let currency = state.modules.payments().currency().await.ok()?;
    Some(Totals {
        after,
        fresh,
        bookings: s.bookings,
        confirmed: s.confirmed,
        spent: format::money(s.spent_cents, &currency),
        refunds: format::money(s.refunds_cents, &currency),
    })
}

#[derive(Template)]
#[template(path = "_booking_body.html")]
struct BookingFragment {
    b: Body,
    totals: Option<Totals>,
}

async fn body(state: &AppState, user: &User, id: Uuid, csrf: String) -> Result<Body, PageError> {
    let actor = Actor::of(user);
    let zone = format::zone_of(Some(user));
    // The booking as its saga read it, in one snapshot: its status, the outcome and the saga's
    // badge agree; the customer and the payment are composed around that same booking.
    let saga = state.modules.bookings().saga(&actor, id).await?;
    let details = compose_around(state, saga.booking.clone()).await;
    let show = state
        .modules
        .bookings()
        .show(details.booking.show_id)
        .await?;
    let b = &details.booking;
    let started = show.starts_at <= state.modules.now();
    // Someone already came in on one of its tickets: the booking stands (the server refuses to
    // cancel it), so no button offers to.
    let admitted = b.status == BookingStatus::Confirmed
        && state
            .modules
            .bookings()
            .tickets(&actor, id)
            .await
            .is_ok_and(|t| t.iter().any(|t| t.admitted_at.is_some()));
    let payment = details.payment.as_ref().map(|p| PaymentView {
        status: p.status.as_str(),
        reason: p.decline_reason.as_deref().map(decline_text),
        method: match (&p.method.brand, &p.method.last4) {
            (Some(brand), Some(last4)) => format!("{brand} •••• {last4}"),
            _ => p.method.kind.clone(),
        },
        history: p
            .history
            .iter()
            .map(|h| {
                let detail = match (h.event.as_str(), h.amount_cents) {
                    ("requested", Some(c)) => {
                        format!("{} by {}", format::money(c, &p.currency), p.method.kind)
                    }
                    ("refunded", Some(c)) => format::money(c, &p.currency),
                    ("declined", _) => h.detail.as_deref().map(decline_text).unwrap_or_default(),
                    _ => h.detail.clone().unwrap_or_default(),
                };
                (
                    h.event.replace('_', " "),
                    detail,
                    format::instant(h.occurred_at, &zone),
                )
            })
            .collect(),
    });
    Ok(Body {
        id,
        csrf,
        show_title: show.title.clone(),
        show_when: format::show_time(&show),
        show_venue: show.venue.clone(),
        status: b.status.as_str(),
        reason: b
            .cancel_reason
            .map(|r| reason_text(r, b.user_id == actor.user_id)),
        outcome: outcome_text(
            b,
            details
                .payment
                .as_ref()
                .and_then(|p| p.decline_reason.as_deref()),
            &format::time_of_day(saga.deadline_at, &zone),
        ),
        retry: (b.status == BookingStatus::Cancelled
            && matches!(
                b.cancel_reason,
                Some(CancelReason::PaymentDeclined | CancelReason::PaymentTimeout)
            )
            && !started)
            .then(|| format!("/shows/{}", b.show_id)),
        admin: actor.is_admin(),
        seats: b.seats,
        amount: format::money(b.amount_cents, &b.currency),
        payment_method: payment_text(b),
        booking_email: b.user_email.clone(),
        placed: format::moment(b.created_at, &zone),
        seat_list: b
            .booked_seats
            .iter()
            .map(bookings_api::BookedSeat::label)
            .collect(),
        tickets: (b.status == BookingStatus::Confirmed).then(|| format!("/bookings/{id}/tickets")),
        can_cancel: b.status != BookingStatus::Cancelled
            && !admitted
            && (!started || actor.is_admin()),
        admitted,
        saga_state: saga.state.as_str(),
        deadline: format::moment(saga.deadline_at, &zone),
        steps: saga
            .steps
            .into_iter()
            .map(|s| Step {
                action: s.action,
                // A decline reason in words; other details (amounts, references) as they are.
                detail: s.detail.map(|d| decline_words(&d).map_or(d, str::to_owned)),
                at: format::instant(s.at, &zone),
                event_type: s.event_type,
                outcome: s.outcome,
            })
            .collect(),
        trace_link: None,
        partial: details.partial,
        customer: details
            .user
            .as_ref()
            .map(|u| (u.full_name.clone(), u.email.clone())),
        user_error: details.errors.get("user").cloned().unwrap_or_default(),
        payment,
        payment_missing: details.missing.contains(&"payment"),
        payment_error: details.errors.get("payment").cloned().unwrap_or_default(),
    })
}

async fn booking_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    SignedIn(user): SignedIn,
) -> Result<HttpResponse, PageError> {
    let is_admin = user.role == users_api::Role::Admin;
    let (layout, page) = page_for(
        &req,
        if is_admin {
            "admin-bookings"
        } else {
            "bookings"
        },
        Some(user.clone()),
    );
    let mut b = body(&state, &user, *id, layout.csrf.clone()).await?;
    if is_admin {
        // The booking's first event carries the correlation id of the request that placed it.
        let filter = crate::events::LogFilter {
            stream: Some(bookings_api::STREAM.into()),
            event_type: Some("BookingPlaced".into()),
            aggregate_id: Some(id.to_string()),
            ..Default::default()
        };
        if let Ok(first) = crate::events::page(&state.modules, &filter, None, 1).await {
            b.trace_link = first
                .items
                .first()
                .map(|e| format!("/admin/events/trace/{}", e.correlation_id));
        }
    }
    let live_source = if is_admin {
        "/api/events/live"
    } else {
        "/api/me/live"
    };
    let totals = if is_admin {
        None
    } else {
        totals(&req, &state, &user).await
    };
    Ok(page.render(
        &BookingPage {
            layout,
            id: *id,
            live_source,
            b,
            totals,
        },
        StatusCode::OK,
    ))
}

async fn booking_live(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    SignedIn(user): SignedIn,
) -> Result<HttpResponse, PageError> {
    let (layout, page) = page_for(&req, "", Some(user.clone()));
    let b = body(&state, &user, *id, layout.csrf.clone()).await?;
    let totals = if b.admin {
        None
    } else {
        totals(&req, &state, &user).await
    };
    Ok(page.render(&BookingFragment { b, totals }, StatusCode::OK))
}

async fn cancel(
    state: web::Data<AppState>,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    UserForm(user, _): UserForm<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    match state
        .modules
        .bookings()
        .cancel(ctx.trace(), &Actor::of(&user), *id)
        .await
    {
        Ok(_) => Ok(see_other(&format!("/bookings/{id}?done=booking-cancelled"))),
        Err(e) => Err(ApiError::from(e).into()),
    }
}
