//! Shows as customers see them: the home page's list (searched, narrowed, a page at a time), a
//! show's page where seats are chosen on its map (or a number asked for: the best available, or
//! admissions), the checkout that shows exactly what will be paid before paying, and the booking
//! it places.

use actix_web::{HttpRequest, HttpResponse, ResponseError, http::StatusCode, web};
use askama::Template;
use bookings_api::{
    Quote, SeatIds, SeatRequest, SeatingKind, Seats, Show, ShowStatus, WalletShortfall,
};
use kernel::{FieldErrors, Timestamp};
use payments_api::CardDetails;
use serde::Deserialize;
use users_api::{Actor, User};
use uuid::Uuid;

use super::{
    FormField, Layout, PageError, format,
    forms::attach_errors,
    guard::{SignedIn, UserForm},
    page, page_for,
    seatmap::{self, MapSection},
    see_other,
};
use crate::{
    http::{ApiError, BookingRequest, PaymentRequest, RequestContext, ShowsQuery, parse_query},
    state::AppState,
};

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/").route(web::get().to(home)));
    cfg.service(web::resource("/shows/{id}").route(web::get().to(show_page)));
    cfg.service(web::resource("/shows/{id}/checkout").route(web::get().to(checkout)));
    cfg.service(web::resource("/shows/{id}/book").route(web::post().to(book)));
}

/// A show as pages display it.
pub(crate) struct ShowView {
    pub(crate) id: Uuid,
    pub(crate) title: String,
    pub(crate) venue: String,
    /// When it starts, in its venue's zone, the zone named.
    pub(crate) when: String,
    /// Its price: per seat, or from the cheapest section.
    pub(crate) price: String,
    pub(crate) seated: bool,
    pub(crate) capacity: i64,
    pub(crate) taken: i64,
    pub(crate) available: i64,
    pub(crate) low_mark: i64,
    pub(crate) high_mark: i64,
    pub(crate) on_sale: bool,
    pub(crate) cancelled: bool,
    pub(crate) started: bool,
}

pub(crate) fn show_view(s: &Show, now: Timestamp) -> ShowView {
    let cancelled = s.status == ShowStatus::Cancelled;
    let started = s.starts_at <= now;
    let seated = s.seating == SeatingKind::Reserved;
    let price = format::money(s.price_cents, &s.currency);
    ShowView {
        id: s.id,
        title: s.title.clone(),
        venue: s.venue.clone(),
        when: format::show_time(s),
        price: if seated {
            format!("from {price}")
        } else {
            price
        },
        seated,
        capacity: s.capacity,
        taken: s.seats_taken,
        available: s.seats_available,
        low_mark: s.capacity * 7 / 10,
        high_mark: s.capacity * 9 / 10,
        on_sale: !cancelled && !started && s.seats_available > 0,
        cancelled,
        started,
    }
}

#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    layout: Layout,
    shows: Vec<ShowView>,
    /// The search form: words, dates, venue.
    search: Vec<FormField>,
    /// True when the list is narrowed by the form.
    searching: bool,
    form_error: Option<String>,
    next_page: Option<String>,
    /// Back to the first page, from a later one.
    first_page: Option<String>,
}

/// The home page's search fields, filled from the query and carrying its errors.
fn search_fields(
    q: &ShowsQuery,
    zone: &kernel::Zone,
    errors: Option<&FieldErrors>,
) -> (Vec<FormField>, Vec<String>) {
    let text = |raw: &Option<String>| raw.clone().unwrap_or_default();
    let optional = |f: FormField| FormField {
        required: false,
        ..f
    };
    let mut fields = vec![
        optional(
            FormField::new("q", "Search", "search")
                .value(text(&q.q))
                .attr("placeholder", "title or venue"),
        ),
        optional(
            FormField::new("from", format!("From (day, {})", zone.name()), "date")
                .value(text(&q.from)),
        ),
        optional(
            FormField::new("until", format!("Until (day, {})", zone.name()), "date")
                .value(text(&q.until)),
        ),
        optional(FormField::new("venue", "Venue", "text").value(text(&q.venue))),
    ];
    let unclaimed = errors.map_or_else(Vec::new, |e| attach_errors(&mut fields, e));
    (fields, unclaimed)
}

/// The same query on the page after `cursor`, or on its first page.
fn page_link(q: &ShowsQuery, cursor: Option<&str>) -> String {
    let mut link = form_urlencoded::Serializer::new(String::new());
    for (name, value) in [
        ("q", &q.q),
        ("from", &q.from),
        ("until", &q.until),
        ("venue", &q.venue),
    ] {
        if let Some(v) = value.as_deref().filter(|v| !v.trim().is_empty()) {
            link.append_pair(name, v);
        }
    }
    if let Some(cursor) = cursor {
        link.append_pair("cursor", cursor);
    }
    format!("/?{}", link.finish())
}

async fn home(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let (layout, page) = page(&req, "shows").await;
    let mut query: ShowsQuery = parse_query(req.query_string()).unwrap_or_default();
    // The public list: upcoming shows on sale, a page at a time.
    query.all = false;
    query.limit = Some(60);
    let searching = query.narrows();
    // Days are the visitor's own: their zone when signed in, UTC otherwise.
    let zone = format::zone_of(layout.user.as_ref());
    let (list, errors) = match query.resolve_in(&state, &zone).await {
        Ok(filter) => (state.modules.bookings().shows(filter).await?, None),
        Err(ApiError::Validation(e)) => (bookings_api::ShowPage::default(), Some(e)),
        Err(e) => return Err(e.into()),
    };
    let (search, unclaimed) = search_fields(&query, &zone, errors.as_ref());
    let now = state.modules.now();
    let shows = list.items.iter().map(|s| show_view(s, now)).collect();
    let next_page = list.next_cursor.map(|c| page_link(&query, Some(&c)));
    // A later page leads back to the first, and counts only its own shows.
    let first_page = query
        .cursor
        .as_deref()
        .is_some_and(|c| !c.is_empty())
        .then(|| page_link(&query, None));
    let status = if errors.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(page.render(
        &Home {
            layout,
            shows,
            search,
            searching,
            form_error: (!unclaimed.is_empty()).then(|| unclaimed.join("; ")),
            next_page,
            first_page,
        },
        status,
    ))
}

#[derive(Template)]
#[template(path = "show.html")]
struct ShowPage {
    layout: Layout,
    show: ShowView,
    /// The seat map to choose from (empty for general admission).
    map: Vec<MapSection>,
    interactive: bool,
    currency: String,
    /// The price of one admission (general admission), for the running total.
    price_cents: i64,
    /// The number asked for: best available, or admissions.
    count: String,
    form_error: Option<String>,
}

/// What a show page was asked to show: seats already chosen (coming back to change them, or
/// after some were taken), and why the last attempt failed.
#[derive(Default)]
struct Choice {
    seats: Vec<Uuid>,
    count: Option<i64>,
    error: Option<String>,
    status: Option<StatusCode>,
}

/// The `seat`, `best` and `seats` parameters of a show page's or checkout's address.
fn choice_of(query: &str) -> (Vec<String>, Option<String>, Option<String>) {
    let mut seats = Vec::new();
    let (mut best, mut count) = (None, None);
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        let value = value.trim().to_owned();
        if value.is_empty() {
            continue;
        }
        match name.as_ref() {
            "seat" => seats.push(value),
            "best" => best = Some(value),
            "seats" => count = Some(value),
            _ => {}
        }
    }
    (seats, best, count)
}

async fn render_show(
    req: &HttpRequest,
    state: &AppState,
    show: &Show,
    user: Option<User>,
    choice: Choice,
) -> Result<HttpResponse, PageError> {
    let (layout, page) = page_for(req, "shows", user);
    let map = if show.seating == SeatingKind::Reserved {
        let seats = state.modules.bookings().seats(show.id).await?;
        seatmap::of_show(seats, &choice.seats)
    } else {
        Vec::new()
    };
    let view = ShowPage {
        layout,
        show: show_view(show, state.modules.now()),
        interactive: true,
        map,
        currency: show.currency.clone(),
        price_cents: show.price_cents,
        // Two to start with, or what is left when less.
        count: choice
            .count
            .unwrap_or_else(|| show.seats_available.clamp(1, 2))
            .to_string(),
        form_error: choice.error,
    };
    Ok(page.render(&view, choice.status.unwrap_or(StatusCode::OK)))
}

async fn show_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, PageError> {
    let show = state.modules.bookings().show(*id).await?;
    let user = crate::http::current_user(&req).await.unwrap_or(None);
    // Seats chosen before (back from the checkout to change them) are ticked again.
    let (seats, _, _) = choice_of(req.query_string());
    let choice = Choice {
        seats: seats
            .iter()
            .filter_map(|s| Uuid::parse_str(s).ok())
            .collect(),
        ..Choice::default()
    };
    render_show(&req, &state, &show, user, choice).await
}

/// Whether the customer's wallet can pay a total, and what the form says of it.
#[derive(Default)]
struct WalletChoice {
    usable: bool,
    note: String,
}

async fn wallet_choice(state: &AppState, user: &User, quote: &Quote) -> WalletChoice {
    let refused = |note: String| WalletChoice {
        usable: false,
        note,
    };
    let Ok(w) = state.modules.payments().wallet(user.id).await else {
        return refused("your wallet cannot be reached right now".into());
    };
    // The bookings module's own rule; the booking itself is checked again.
    match WalletShortfall::of(
        w.balance_cents,
        &w.currency,
        quote.seats.len() as i64,
        quote.total_cents,
        &quote.currency,
    ) {
        Some(why) => refused(crate::http::wallet_shortfall(&why)),
        None => WalletChoice {
            usable: true,
            note: format!("{} in it", format::money(w.balance_cents, &w.currency)),
        },
    }
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct BookForm {
    csrf_token: String,
    idempotency_key: String,
    /// The seats quoted, comma-separated (numbered seats).
    seat_ids: String,
    /// The number of admissions (general admission).
    seats: String,
    /// The number asked for when the seats were the best available: taken meanwhile, the best
    /// available are found again.
    best: String,
    payment_type: String,
    number: String,
    exp_month: String,
    exp_year: String,
    cvc: String,
}
super::guard::csrf_protected!(BookForm);

fn card_fields(form: &BookForm) -> Vec<FormField> {
    vec![
        FormField::new("number", "Card number", "text")
            .value(&form.number)
            .autocomplete("cc-number")
            .attr("inputmode", "numeric")
            .attr("placeholder", "4242 4242 4242 4242"),
        FormField::new("exp_month", "Expiry month", "number")
            .value(&form.exp_month)
            .autocomplete("cc-exp-month")
            .attr("min", "1")
            .attr("max", "12"),
        FormField::new("exp_year", "Expiry year", "number")
            .value(&form.exp_year)
            .autocomplete("cc-exp-year")
            .attr("placeholder", "2030"),
        FormField::new("cvc", "Security code", "text")
            .autocomplete("cc-csc")
            .attr("inputmode", "numeric")
            .attr("maxlength", "4"),
    ]
}

/// One line of the order: a seat (or an admission) and its price.
struct Line {
    what: String,
    price: String,
}

#[derive(Template)]
#[template(path = "checkout.html")]
struct CheckoutPage {
    layout: Layout,
    show: ShowView,
    lines: Vec<Line>,
    total: String,
    /// The quoted seats, as the form sends them back.
    seat_ids: String,
    /// The number of admissions (general admission).
    count: String,
    /// The number asked for, when the seats are the best available.
    best: String,
    /// Back to the map with these seats ticked.
    change_link: String,
    wallet: WalletChoice,
    card_fields: Vec<FormField>,
    card_chosen: bool,
    idempotency_key: String,
    deadline: String,
    notice: Option<String>,
    form_error: Option<String>,
}

/// What the checkout shows, and how it came to show it.
struct Order<'a> {
    quote: Quote,
    best: Option<i64>,
    form: &'a BookForm,
    errors: Option<&'a FieldErrors>,
    notice: Option<String>,
    form_error: Option<String>,
    status: StatusCode,
}

async fn render_checkout(
    req: &HttpRequest,
    state: &AppState,
    show: &Show,
    user: User,
    order: Order<'_>,
) -> HttpResponse {
    let Order {
        quote,
        best,
        form,
        errors,
        notice,
        form_error,
        status,
    } = order;
    let wallet = wallet_choice(state, &user, &quote).await;
    let (layout, page) = page_for(req, "shows", Some(user));
    let mut card = card_fields(form);
    let mut form_error = form_error;
    if let Some(errors) = errors {
        let mut renamed = FieldErrors::new();
        for e in errors.iter() {
            renamed.add(e.field.trim_start_matches("payment."), e.message.clone());
        }
        let unclaimed = attach_errors(&mut card, &renamed);
        form_error = form_error.or(unclaimed.into_iter().next());
    }
    let seated = show.seating == SeatingKind::Reserved;
    let ids: Vec<String> = quote
        .seats
        .iter()
        .filter_map(|s| s.seat_id.map(|id| id.to_string()))
        .collect();
    let change_link = if seated {
        let mut link = form_urlencoded::Serializer::new(String::new());
        for id in &ids {
            link.append_pair("seat", id);
        }
        format!("/shows/{}?{}", show.id, link.finish())
    } else {
        format!("/shows/{}", show.id)
    };
    let lines = if seated {
        quote
            .seats
            .iter()
            .map(|s| Line {
                what: s.label(),
                price: format::money(s.price_cents, &quote.currency),
            })
            .collect()
    } else {
        vec![Line {
            what: format!(
                "{} × general admission at {}",
                quote.seats.len(),
                format::money(show.price_cents, &quote.currency)
            ),
            price: format::money(quote.total_cents, &quote.currency),
        }]
    };
    let timeout = state.settings.bookings.payment_timeout_secs;
    let view = CheckoutPage {
        layout,
        show: show_view(show, state.modules.now()),
        lines,
        total: format::money(quote.total_cents, &quote.currency),
        seat_ids: ids.join(","),
        count: if seated {
            String::new()
        } else {
            quote.seats.len().to_string()
        },
        best: best.map(|n| n.to_string()).unwrap_or_default(),
        change_link,
        card_chosen: form.payment_type == "card" || !wallet.usable,
        wallet,
        card_fields: card,
        idempotency_key: kernel::new_id().to_string(),
        deadline: if timeout >= 120.0 {
            format!("{} minutes", (timeout / 60.0).round())
        } else {
            format!("{} seconds", timeout.round())
        },
        notice,
        form_error,
    };
    page.render(&view, status)
}

/// The seats a checkout's query asks for, or what to say on the show page instead.
fn requested(show: &Show, query: &str) -> Result<(SeatRequest, Option<i64>), String> {
    let (seats, best, count) = choice_of(query);
    let number = |raw: &str| -> Result<Seats, String> {
        raw.parse::<i64>()
            .map_err(|_| "must be a whole number".to_owned())
            .and_then(Seats::new)
            .map_err(|why| format!("The number of seats {why}."))
    };
    if !seats.is_empty() {
        return SeatIds::parse(&seats)
            .map(|seats| (SeatRequest::Chosen { seats }, None))
            .map_err(|why| format!("Those seats cannot be booked: the choice {why}."));
    }
    match (best.or(count), show.seating) {
        (Some(n), _) => {
            let seats = number(&n)?;
            let best = (show.seating == SeatingKind::Reserved).then_some(seats.get());
            Ok((SeatRequest::Count { seats }, best))
        }
        (None, SeatingKind::Reserved) => {
            Err("Choose your seats on the map, or ask for the best available.".into())
        }
        (None, SeatingKind::GeneralAdmission) => Err("Say how many seats you want.".into()),
    }
}

/// Why seats cannot be had, in the show page's words; `None` for errors that are no one's fault.
fn refusal_text(e: &ApiError) -> Option<String> {
    match e {
        ApiError::Validation(errors) => Some(
            errors
                .iter()
                .map(|f| f.message.clone())
                .collect::<Vec<_>>()
                .join("; "),
        ),
        ApiError::Conflict { .. } => Some(e.problem().detail),
        // A full line at an on-sale: the same form again, the choice kept, to send once more.
        ApiError::Busy(why) => Some(why.clone()),
        _ => None,
    }
}

async fn checkout(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    SignedIn(user): SignedIn,
) -> Result<HttpResponse, PageError> {
    let show = state.modules.bookings().show(*id).await?;
    let (seats, _, _) = choice_of(req.query_string());
    let chosen: Vec<Uuid> = seats
        .iter()
        .filter_map(|s| Uuid::parse_str(s).ok())
        .collect();
    let back = |error: String, status: StatusCode| Choice {
        seats: chosen.clone(),
        error: Some(error),
        status: Some(status),
        ..Choice::default()
    };
    let (request, best) = match requested(&show, req.query_string()) {
        Ok(r) => r,
        Err(why) => {
            let choice = back(why, StatusCode::UNPROCESSABLE_ENTITY);
            return render_show(&req, &state, &show, Some(user), choice).await;
        }
    };
    match state.modules.bookings().quote(show.id, request).await {
        Ok(quote) => {
            let form = BookForm::default();
            let order = Order {
                quote,
                best,
                form: &form,
                errors: None,
                notice: None,
                form_error: None,
                status: StatusCode::OK,
            };
            Ok(render_checkout(&req, &state, &show, user, order).await)
        }
        Err(e) => {
            let e = ApiError::from(e);
            match refusal_text(&e) {
                Some(why) => {
                    let taken = taken_seats(&e);
                    let mut choice = back(why, e.status_code());
                    choice.seats.retain(|s| !taken.contains(s));
                    render_show(&req, &state, &show, Some(user), choice).await
                }
                None => Err(e.into()),
            }
        }
    }
}

/// The seat ids a `seats-taken` problem names.
fn taken_seats(e: &ApiError) -> Vec<Uuid> {
    e.field_errors()
        .map(|errors| {
            errors
                .iter()
                .filter(|f| f.field == "seat_ids")
                .filter_map(|f| {
                    f.message
                        .split(' ')
                        .next()
                        .and_then(|id| Uuid::parse_str(id).ok())
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn book(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    UserForm(user, form): UserForm<BookForm>,
) -> Result<HttpResponse, PageError> {
    let show = state.modules.bookings().show(*id).await?;
    let int = |text: &str| text.trim().parse::<i64>().ok();
    let seat_ids: Option<Vec<String>> = (!form.seat_ids.trim().is_empty()).then(|| {
        form.seat_ids
            .split(',')
            .map(|s| s.trim().to_owned())
            .collect()
    });
    let count = if seat_ids.is_some() {
        None
    } else {
        int(&form.seats)
    };
    let payment = match form.payment_type.as_str() {
        "card" => Some(PaymentRequest::Card(CardDetails {
            number: form.number.clone(),
            exp_month: int(&form.exp_month),
            exp_year: int(&form.exp_year),
            cvc: form.cvc.clone(),
        })),
        "wallet" => Some(PaymentRequest::Wallet),
        _ => None,
    };
    let key = Some(form.idempotency_key.clone()).filter(|k| !k.is_empty());
    let request = BookingRequest::new(id.to_string(), count, seat_ids.clone(), payment);
    let result = match request.into_command(&state, key).await {
        Ok(command) => state
            .modules
            .bookings()
            .place(ctx.trace(), &Actor::of(&user), command)
            .await
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    let e = match result {
        // The token lets the next page wait for the read model to include this booking.
        Ok(placed) => {
            return Ok(see_other(&match placed.token {
                Some(token) => {
                    format!("/bookings/{}?done=booked&after={token}", placed.booking.id)
                }
                None => format!("/bookings/{}?done=booked", placed.booking.id),
            }));
        }
        Err(e) => e,
    };
    let Some(why) = refusal_text(&e)
        .or_else(|| matches!(e, ApiError::IdempotencyKeyReused).then(|| e.problem().detail))
    else {
        return Err(e.into());
    };
    let status = e.status_code();
    let best = int(&form.best);
    let taken = taken_seats(&e);
    // The best available taken meanwhile: the best available now, with what happened said.
    let again = match (&e, best) {
        (
            ApiError::Conflict {
                slug: "seats-taken",
                ..
            },
            Some(n),
        ) => Seats::new(n)
            .ok()
            .map(|seats| (SeatRequest::Count { seats }, true)),
        (
            ApiError::Conflict {
                slug: "seats-taken",
                ..
            },
            None,
        ) => None,
        _ => match (&seat_ids, count) {
            (Some(ids), _) => SeatIds::parse(ids)
                .ok()
                .map(|seats| (SeatRequest::Chosen { seats }, false)),
            (None, Some(n)) => Seats::new(n)
                .ok()
                .map(|seats| (SeatRequest::Count { seats }, false)),
            (None, None) => None,
        },
    };
    let found_again = again.as_ref().is_some_and(|(_, found)| *found);
    let quote = match again {
        Some((request, _)) => state.modules.bookings().quote(show.id, request).await.ok(),
        None => None,
    };
    match quote {
        Some(quote) => {
            let errors = e.field_errors().cloned();
            let order = Order {
                quote,
                best,
                form: &form,
                errors: if found_again { None } else { errors.as_ref() },
                notice: found_again.then(|| {
                    "The seats we found were just taken by someone else: these are the best available now.".to_owned()
                }),
                form_error: if found_again || errors.is_some() {
                    None
                } else {
                    Some(why)
                },
                status: if found_again { StatusCode::CONFLICT } else { status },
            };
            Ok(render_checkout(&req, &state, &show, user, order).await)
        }
        // Chosen seats taken (or nothing left to quote): back to the map, the rest still ticked.
        None => {
            let seats = seat_ids
                .unwrap_or_default()
                .iter()
                .filter_map(|s| Uuid::parse_str(s).ok())
                .filter(|s| !taken.contains(s))
                .collect();
            let choice = Choice {
                seats,
                count,
                error: Some(why),
                status: Some(status),
            };
            render_show(&req, &state, &show, Some(user), choice).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkout_address_names_seats_a_best_number_or_admissions() {
        let (seats, best, count) = choice_of("seat=a&seat=b&best=&seats=3&x=1");
        assert_eq!(seats, ["a", "b"]);
        assert_eq!((best, count), (None, Some("3".to_owned())));
    }
}
