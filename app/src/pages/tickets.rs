//! Tickets and the door: a confirmed booking's tickets, each with its QR code (printable, and
//! readable on a phone), and the door page where staff scan or type a code and see at once
//! whether it admits, to which seat, or why not.

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use askama::Template;
use bookings_api::{
    BookingStatus, BookingsError, CheckIn, CheckInRequest, Show, ShowFilter, ShowStatus,
};
use kernel::Zone;
use qrcode::{EcLevel, QrCode, render::svg};
use serde::Deserialize;
use users_api::{Actor, User};
use uuid::Uuid;

use super::{
    Layout, PageError, format,
    guard::{DoorForm, DoorUser, SignedIn},
    page_for,
};
use crate::{
    http::{ApiError, RequestContext},
    state::AppState,
};

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/bookings/{id}/tickets").route(web::get().to(tickets_page)));
    cfg.service(
        web::resource("/door")
            .route(web::get().to(door_page))
            .route(web::post().to(admit)),
    );
}

/// A QR code of `text` as inline SVG, sized by the stylesheet and named for screen readers.
fn qr_svg(text: &str, label: &str) -> String {
    let Ok(code) = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M) else {
        return String::new();
    };
    let svg = code
        .render::<svg::Color>()
        .quiet_zone(true)
        .min_dimensions(200, 200)
        .build();
    // Inline in HTML: no XML prolog, and the size is the stylesheet's.
    let start = svg.find("<svg").unwrap_or(0);
    let body = &svg[start..];
    let label = label.replace(['&', '<', '>', '"'], "");
    match body.find(" version=") {
        Some(at) => {
            let end = body[at..].find(" viewBox=").map_or(at, |v| at + v);
            format!(
                "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"qr\" role=\"img\" aria-label=\"{label}\"{}",
                &body[end..]
            )
        }
        None => body.to_owned(),
    }
}

struct TicketView {
    seat: String,
    code: String,
    grouped: String,
    qr: String,
    admitted: Option<String>,
}

#[derive(Template)]
#[template(path = "tickets.html")]
struct TicketsPage {
    layout: Layout,
    booking_id: Uuid,
    show_title: String,
    show_when: String,
    venue: String,
    holder: String,
    tickets: Vec<TicketView>,
    /// Why there are none, when there are none.
    none: Option<&'static str>,
}

async fn tickets_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    SignedIn(user): SignedIn,
) -> Result<HttpResponse, PageError> {
    let actor = Actor::of(&user);
    let booking = state.modules.bookings().booking(&actor, *id).await?;
    let show = state.modules.bookings().show(booking.show_id).await?;
    let zone = format::show_zone(&show);
    let (tickets, none) = match state.modules.bookings().tickets(&actor, *id).await {
        Ok(t) => (t, None),
        Err(BookingsError::TicketsNotIssued) => (
            Vec::new(),
            Some("The tickets appear here as soon as the payment is confirmed."),
        ),
        Err(BookingsError::TicketCancelled) => (
            Vec::new(),
            Some("This booking was cancelled: it has no tickets."),
        ),
        Err(e) => return Err(e.into()),
    };
    let tickets = tickets
        .into_iter()
        .map(|t| TicketView {
            qr: qr_svg(
                &t.code,
                &format!("QR code of the ticket for {}", t.seat.label()),
            ),
            seat: t.seat.label(),
            code: t.code,
            grouped: t.code_grouped,
            admitted: t.admitted_at.map(|at| format::moment(at, &zone)),
        })
        .collect();
    let holder = booking.user_email.clone();
    let nav = if actor.is_admin() {
        "admin-bookings"
    } else {
        "bookings"
    };
    let (layout, page) = page_for(&req, nav, Some(user));
    Ok(page.render(
        &TicketsPage {
            layout,
            booking_id: booking.id,
            show_title: show.title.clone(),
            show_when: format::show_time(&show),
            venue: show.venue.clone(),
            holder,
            tickets,
            none: if booking.status == BookingStatus::Confirmed {
                none
            } else {
                none.or(Some("This booking has no tickets."))
            },
        },
        StatusCode::OK,
    ))
}

/// What the door said of the last code.
struct Verdict {
    admitted: bool,
    headline: String,
    detail: String,
}

struct AdmissionRow {
    seat: String,
    at: String,
}

#[derive(Template)]
#[template(path = "door.html")]
struct DoorPage {
    layout: Layout,
    shows: Vec<(String, String)>,
    show_id: String,
    show_title: String,
    verdict: Option<Verdict>,
    recent: Vec<AdmissionRow>,
    attendance: Option<(i64, i64)>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct DoorQuery {
    show_id: String,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct DoorFormData {
    csrf_token: String,
    show_id: String,
    code: String,
}
super::guard::csrf_protected!(DoorFormData);

/// The shows a door may be working: on sale, or started in the last twelve hours.
async fn door_shows(state: &AppState) -> Result<Vec<Show>, PageError> {
    let since = state.modules.now().as_micros() - 12 * 3_600_000_000;
    let all = state
        .modules
        .bookings()
        .shows(ShowFilter {
            from: Some(kernel::Timestamp::from_micros(since)),
            ..ShowFilter::every_show()
        })
        .await?;
    Ok(all
        .items
        .into_iter()
        .filter(|s| s.status == ShowStatus::Scheduled)
        .collect())
}

async fn render_door(
    req: &HttpRequest,
    state: &AppState,
    user: User,
    show_id: &str,
    verdict: Option<Verdict>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let shows = door_shows(state).await?;
    let chosen = shows
        .iter()
        .find(|s| s.id.to_string() == show_id)
        .or(shows.first());
    let actor = Actor::of(&user);
    let zone = chosen.map_or_else(Zone::utc, format::show_zone);
    let recent = match chosen {
        Some(show) => state
            .modules
            .bookings()
            .admissions(&actor, show.id, 10)
            .await?
            .into_iter()
            .map(|a| AdmissionRow {
                seat: a.seat.label(),
                at: format::time_of_day(a.admitted_at, &zone),
            })
            .collect(),
        None => Vec::new(),
    };
    // Attendance from the read model (admins): a moment behind the door.
    let attendance = match (chosen, actor.is_admin()) {
        (Some(show), true) => state
            .modules
            .reporting()
            .show_sales(&actor)
            .await
            .ok()
            .and_then(|all| all.into_iter().find(|s| s.show_id == show.id))
            .map(|s| (s.admitted, s.seats_sold)),
        _ => None,
    };
    let (layout, page) = page_for(req, "door", Some(user));
    Ok(page.render(
        &DoorPage {
            layout,
            shows: shows
                .iter()
                .map(|s| {
                    (
                        s.id.to_string(),
                        format!("{} — {}", s.title, format::show_time(s)),
                    )
                })
                .collect(),
            show_id: chosen.map(|s| s.id.to_string()).unwrap_or_default(),
            show_title: chosen.map(|s| s.title.clone()).unwrap_or_default(),
            verdict,
            recent,
            attendance,
        },
        status,
    ))
}

async fn door_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<DoorQuery>,
    DoorUser(user): DoorUser,
) -> Result<HttpResponse, PageError> {
    render_door(&req, &state, user, &q.show_id, None, StatusCode::OK).await
}

async fn admit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: RequestContext,
    DoorForm(user, form): DoorForm<DoorFormData>,
) -> Result<HttpResponse, PageError> {
    let input = CheckIn::try_from(CheckInRequest {
        code: form.code.clone(),
        show_id: Some(form.show_id.clone()).filter(|s| !s.trim().is_empty()),
    });
    let zone = match Uuid::parse_str(&form.show_id) {
        Ok(id) => state
            .modules
            .bookings()
            .show(id)
            .await
            .map_or_else(|_| Zone::utc(), |s| format::show_zone(&s)),
        Err(_) => Zone::utc(),
    };
    let refused = |headline: &str, detail: String| Verdict {
        admitted: false,
        headline: headline.to_owned(),
        detail,
    };
    let (verdict, status) = match input {
        Err(errors) => (
            refused(
                "Not a ticket",
                errors
                    .iter()
                    .map(|e| format!("The {} {}.", e.field.replace('_', " "), e.message))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Ok(check_in) => match state
            .modules
            .bookings()
            .check_in(ctx.trace(), &Actor::of(&user), check_in)
            .await
        {
            Ok(a) => (
                Verdict {
                    admitted: true,
                    headline: "Admitted".into(),
                    detail: a.seat.label(),
                },
                StatusCode::OK,
            ),
            Err(BookingsError::TicketAlreadyAdmitted { at, seat }) => (
                refused(
                    "Already admitted",
                    format!(
                        "{seat}: this ticket came in at {}.",
                        format::time_of_day(at, &zone)
                    ),
                ),
                StatusCode::CONFLICT,
            ),
            Err(e) => {
                let e = ApiError::from(e);
                let headline = match &e {
                    ApiError::Conflict { slug, .. } => match *slug {
                        "ticket-invalid" => "Not a valid ticket",
                        "ticket-wrong-show" => "Another show's ticket",
                        "ticket-cancelled" => "Cancelled booking",
                        "ticket-not-paid" => "Not paid yet",
                        _ => "Refused",
                    },
                    _ => return Err(e.into()),
                };
                let status = actix_web::ResponseError::status_code(&e);
                (refused(headline, capitalized(&e.problem().detail)), status)
            }
        },
    };
    render_door(&req, &state, user, &form.show_id, Some(verdict), status).await
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect::<String>() + "."
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_qr_code_is_inline_svg_named_for_screen_readers() {
        let svg = qr_svg("BO1ABC", "QR code of the ticket for Stalls, row A, seat 1");
        assert!(svg.starts_with("<svg xmlns"), "{svg}");
        assert!(
            svg.contains("role=\"img\"") && svg.contains("viewBox="),
            "{svg}"
        );
        let opening = &svg[..svg.find('>').unwrap()];
        assert!(
            !svg.contains("<?xml") && !opening.contains("width="),
            "{opening}"
        );
    }
}
