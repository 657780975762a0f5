//! Shows: the home page's list, a show's page with the booking form, and the admin's schedule.

use actix_web::{HttpRequest, HttpResponse, ResponseError, http::StatusCode, web};
use askama::Template;
use bookings_api::{
    BookingsError, ChangeShow, NewShow, ScheduleShow, Show, ShowFilter, ShowPatch, ShowStatus,
    WalletShortfall,
};
use kernel::{FieldErrors, Timestamp};
use payments_api::CardDetails;
use serde::Deserialize;
use users_api::{Actor, User};
use uuid::Uuid;

use super::{
    FormField, Layout, PageError, format,
    forms::attach_errors,
    guard::{AdminForm, AdminUser, CsrfOnly, UserForm},
    page, page_for, see_other,
};
use crate::{
    http::{ApiError, BookingRequest, PaymentRequest, RequestContext, ShowsQuery, parse_query},
    state::AppState,
};

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/").route(web::get().to(home)));
    cfg.service(web::resource("/shows/{id}").route(web::get().to(show_page)));
    cfg.service(web::resource("/shows/{id}/book").route(web::post().to(book)));
    cfg.service(
        web::resource("/admin/shows")
            .route(web::get().to(admin_shows))
            .route(web::post().to(create_show)),
    );
    cfg.service(
        web::resource("/admin/shows/{id}")
            .route(web::get().to(admin_show))
            .route(web::post().to(update_show)),
    );
    cfg.service(web::resource("/admin/shows/{id}/cancel").route(web::post().to(cancel_show)));
}

/// A show as pages display it.
pub(crate) struct ShowView {
    pub(crate) id: Uuid,
    pub(crate) title: String,
    pub(crate) venue: String,
    pub(crate) when: String,
    pub(crate) price: String,
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
    ShowView {
        id: s.id,
        title: s.title.clone(),
        venue: s.venue.clone(),
        when: format::show_time(s.starts_at),
        price: format::money(s.price_cents, &s.currency),
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
}

/// The home page's search fields, filled from the query and carrying its errors.
fn search_fields(q: &ShowsQuery, errors: Option<&FieldErrors>) -> (Vec<FormField>, Vec<String>) {
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
        optional(FormField::new("from", "From", "date").value(text(&q.from))),
        optional(FormField::new("until", "Until", "date").value(text(&q.until))),
        optional(FormField::new("venue", "Venue", "text").value(text(&q.venue))),
    ];
    let unclaimed = errors.map_or_else(Vec::new, |e| attach_errors(&mut fields, e));
    (fields, unclaimed)
}

/// The same query on its next page.
fn next_page_link(q: &ShowsQuery, cursor: &str) -> String {
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
    link.append_pair("cursor", cursor);
    format!("/?{}", link.finish())
}

async fn home(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let (layout, page) = page(&req, "shows").await;
    let mut query: ShowsQuery = parse_query(req.query_string()).unwrap_or_default();
    // The public list: upcoming shows on sale, a page at a time.
    query.all = false;
    query.limit = Some(60);
    let searching = query.narrows();
    let (list, errors) = match query.resolve(&state).await {
        Ok(filter) => (state.modules.bookings().shows(filter).await?, None),
        Err(ApiError::Validation(e)) => (bookings_api::ShowPage::default(), Some(e)),
        Err(e) => return Err(e.into()),
    };
    let (search, unclaimed) = search_fields(&query, errors.as_ref());
    let now = state.modules.now();
    let shows = list.items.iter().map(|s| show_view(s, now)).collect();
    let next_page = list.next_cursor.map(|c| next_page_link(&query, &c));
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
        },
        status,
    ))
}

#[derive(Template)]
#[template(path = "show.html")]
struct ShowPage {
    layout: Layout,
    show: ShowView,
    fields: Vec<FormField>,
    card_fields: Vec<FormField>,
    card_chosen: bool,
    wallet: WalletChoice,
    idempotency_key: String,
    form_error: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct BookForm {
    csrf_token: String,
    idempotency_key: String,
    seats: String,
    payment_type: String,
    number: String,
    exp_month: String,
    exp_year: String,
    cvc: String,
}
super::guard::csrf_protected!(BookForm);

fn book_fields(form: &BookForm, available: i64) -> (Vec<FormField>, Vec<FormField>) {
    let seats = if form.seats.is_empty() {
        "1".to_owned()
    } else {
        form.seats.clone()
    };
    let fields = vec![
        FormField::new("seats", "Seats", "number")
            .value(seats)
            .attr("min", "1")
            .attr("max", available.clamp(1, 20).to_string())
            .help("Up to 20 per booking."),
    ];
    let card = vec![
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
    ];
    (fields, card)
}

/// Whether the customer's wallet can pay for a seat of this show, and what the form says of it.
#[derive(Default)]
struct WalletChoice {
    usable: bool,
    note: String,
}

async fn wallet_choice(state: &AppState, user: Option<&User>, show: &Show) -> WalletChoice {
    let Some(user) = user else {
        return WalletChoice::default();
    };
    let refused = |note: String| WalletChoice {
        usable: false,
        note,
    };
    let Ok(w) = state.modules.payments().wallet(user.id).await else {
        return refused("your wallet cannot be reached right now".into());
    };
    // The bookings module's own rule, for one seat; the booking itself is checked again.
    let one_seat = WalletShortfall::of(
        w.balance_cents,
        &w.currency,
        1,
        show.price_cents,
        &show.currency,
    );
    if let Some(why) = one_seat {
        return refused(crate::http::wallet_shortfall(&why));
    }
    let seats = match show.price_cents {
        0 => 20,
        price => (w.balance_cents / price).min(20),
    };
    WalletChoice {
        usable: true,
        note: format!(
            "{}, enough for {seats} seat{}",
            format::money(w.balance_cents, &w.currency),
            if seats == 1 { "" } else { "s" }
        ),
    }
}

/// What the last attempt to book left to show: the values typed and what was wrong.
struct Attempt<'a> {
    form: &'a BookForm,
    errors: Option<&'a FieldErrors>,
    form_error: Option<String>,
    status: StatusCode,
}

impl<'a> Attempt<'a> {
    fn fresh(form: &'a BookForm) -> Attempt<'a> {
        Attempt {
            form,
            errors: None,
            form_error: None,
            status: StatusCode::OK,
        }
    }
}

async fn render_show(
    req: &HttpRequest,
    state: &AppState,
    show: &Show,
    user: Option<User>,
    attempt: Attempt<'_>,
) -> HttpResponse {
    let wallet = wallet_choice(state, user.as_ref(), show).await;
    let (layout, page) = page_for(req, "shows", user);
    let Attempt {
        form,
        errors,
        form_error,
        status,
    } = attempt;
    let (mut fields, mut card_fields) = book_fields(form, show.seats_available);
    let mut form_error = form_error;
    if let Some(errors) = errors {
        let mut renamed = FieldErrors::new();
        for e in errors.iter() {
            renamed.add(e.field.trim_start_matches("payment."), e.message.clone());
        }
        attach_errors(&mut fields, &renamed);
        attach_errors(&mut card_fields, &renamed);
        let unclaimed = renamed
            .iter()
            .find(|e| !fields.iter().chain(&card_fields).any(|f| f.name == e.field))
            .map(|e| format!("{} {}", e.field.replace('_', " "), e.message));
        form_error = form_error.or(unclaimed);
    }
    let view = ShowPage {
        layout,
        show: show_view(show, state.modules.now()),
        fields,
        card_fields,
        // A wallet that cannot pay is not offered: the card is the choice.
        card_chosen: form.payment_type == "card" || !wallet.usable,
        wallet,
        idempotency_key: kernel::new_id().to_string(),
        form_error,
    };
    page.render(&view, status)
}

async fn show_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, PageError> {
    let show = state.modules.bookings().show(*id).await?;
    let user = crate::http::current_user(&req).await.unwrap_or(None);
    let form = BookForm::default();
    Ok(render_show(&req, &state, &show, user, Attempt::fresh(&form)).await)
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
    let seats = match form.seats.trim() {
        "" => None,
        t => match int(t) {
            Some(n) => Some(n),
            None => {
                let errors = FieldErrors::single("seats", "must be a whole number");
                let attempt = Attempt {
                    form: &form,
                    errors: Some(&errors),
                    form_error: None,
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                };
                return Ok(render_show(&req, &state, &show, Some(user), attempt).await);
            }
        },
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
    let request = BookingRequest::new(id.to_string(), seats, payment);
    let result = match request.into_command(&state, key).await {
        Ok(command) => state
            .modules
            .bookings()
            .place(ctx.trace(), &Actor::of(&user), command)
            .await
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    match result {
        // The token lets the next page wait for the read model to include this booking.
        Ok(placed) => Ok(see_other(&match placed.token {
            Some(token) => format!("/bookings/{}?done=booked&after={token}", placed.booking.id),
            None => format!("/bookings/{}?done=booked", placed.booking.id),
        })),
        Err(
            e @ (ApiError::Validation(_)
            | ApiError::Conflict { .. }
            | ApiError::IdempotencyKeyReused),
        ) => {
            let status = e.status_code();
            let (errors, message) = match &e {
                ApiError::Validation(errors) => (Some(errors.clone()), None),
                other => (None, Some(other.problem().detail)),
            };
            let show = state.modules.bookings().show(*id).await?;
            let attempt = Attempt {
                form: &form,
                errors: errors.as_ref(),
                form_error: message,
                status,
            };
            Ok(render_show(&req, &state, &show, Some(user), attempt).await)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "admin_shows.html")]
struct AdminShows {
    layout: Layout,
    shows: Vec<ShowView>,
    fields: Vec<FormField>,
    form_error: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct ShowForm {
    csrf_token: String,
    title: String,
    venue: String,
    starts_at: String,
    capacity: String,
    price: String,
    currency: String,
}
super::guard::csrf_protected!(ShowForm);

fn show_fields(f: &ShowForm) -> Vec<FormField> {
    vec![
        FormField::new("title", "Title", "text")
            .value(&f.title)
            .attr("maxlength", "120"),
        FormField::new("venue", "Venue", "text")
            .value(&f.venue)
            .attr("maxlength", "120"),
        FormField::new("starts_at", "Starts at (UTC)", "datetime-local").value(&f.starts_at),
        FormField::new("capacity", "Seats", "number")
            .value(&f.capacity)
            .attr("min", "1"),
        FormField::new("price", "Price per seat", "text")
            .value(&f.price)
            .attr("placeholder", "25.00")
            .attr("inputmode", "decimal"),
        FormField::new("currency", "Currency", "text")
            .value(if f.currency.is_empty() {
                "EUR"
            } else {
                &f.currency
            })
            .attr("maxlength", "3"),
    ]
}

/// The form's values as the module's input, with the form's own parse errors.
fn parse_show_form(f: &ShowForm, errors: &mut FieldErrors) -> (Option<i64>, Option<i64>) {
    let capacity = match f.capacity.trim() {
        "" => None,
        t => t
            .parse::<i64>()
            .map_err(|_| errors.add("capacity", "must be a whole number"))
            .ok(),
    };
    let price = match f.price.trim() {
        "" => None,
        t => format::parse_amount(t)
            .map_err(|m| errors.add("price", m))
            .ok(),
    };
    (capacity, price)
}

/// The form's own errors (what could not be read) and the module's for every other field, in
/// one answer; the validated input when there are none.
fn all_errors<T>(form: FieldErrors, checked: Result<T, FieldErrors>) -> Result<T, FieldErrors> {
    match checked {
        Ok(input) if form.is_empty() => Ok(input),
        Ok(_) => Err(form),
        Err(module) => {
            let mut all = form;
            for e in renamed(&module).iter() {
                if all.message_for(&e.field).is_none() {
                    all.add(e.field.clone(), e.message.clone());
                }
            }
            Err(all)
        }
    }
}

fn renamed(errors: &FieldErrors) -> FieldErrors {
    let mut out = FieldErrors::new();
    for e in errors.iter() {
        out.add(
            if e.field == "price_cents" {
                "price"
            } else {
                e.field.as_str()
            },
            e.message.clone(),
        );
    }
    out
}

async fn admin_shows(
    req: HttpRequest,
    state: web::Data<AppState>,
    AdminUser(admin): AdminUser,
) -> Result<HttpResponse, PageError> {
    render_admin_shows(
        &req,
        &state,
        admin,
        &ShowForm::default(),
        None,
        StatusCode::OK,
    )
    .await
}

async fn render_admin_shows(
    req: &HttpRequest,
    state: &AppState,
    admin: User,
    form: &ShowForm,
    errors: Option<FieldErrors>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let list = state
        .modules
        .bookings()
        .shows(ShowFilter::every_show())
        .await?;
    let mut fields = show_fields(form);
    let form_error = errors
        .map(|e| attach_errors(&mut fields, &renamed(&e)))
        .and_then(|left| left.first().cloned());
    let (layout, page) = page_for(req, "admin-shows", Some(admin));
    let now = state.modules.now();
    let shows = list.items.iter().rev().map(|s| show_view(s, now)).collect();
    Ok(page.render(
        &AdminShows {
            layout,
            shows,
            fields,
            form_error,
        },
        status,
    ))
}

async fn create_show(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: RequestContext,
    AdminForm(admin, form): AdminForm<ShowForm>,
) -> Result<HttpResponse, PageError> {
    let mut errors = FieldErrors::new();
    let (capacity, price_cents) = parse_show_form(&form, &mut errors);
    // What could not be read stands in as a valid value, so that the module judges every other
    // field in the same answer (every error at once, not one after another).
    let input = NewShow {
        title: form.title.clone(),
        venue: form.venue.clone(),
        starts_at: format::from_datetime_local(&form.starts_at),
        capacity: capacity.or(errors.message_for("capacity").map(|_| 1)),
        price_cents: price_cents.or(errors.message_for("price").map(|_| 0)),
        currency: form.currency.clone(),
        ..NewShow::default()
    };
    let checked = all_errors(errors, ScheduleShow::try_from((input, state.modules.now())));
    let created = match checked {
        Ok(input) => {
            state
                .modules
                .bookings()
                .create_show(ctx.trace(), &Actor::of(&admin), input)
                .await
        }
        Err(errors) => Err(BookingsError::Validation(errors)),
    };
    match created {
        Ok(show) => Ok(see_other(&format!(
            "/admin/shows/{}?done=show-scheduled",
            show.id
        ))),
        Err(e) => match ApiError::from(e) {
            ApiError::Validation(errors) => {
                render_admin_shows(
                    &req,
                    &state,
                    admin,
                    &form,
                    Some(errors),
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
            other => Err(other.into()),
        },
    }
}

#[derive(Template)]
#[template(path = "admin_show.html")]
struct AdminShow {
    layout: Layout,
    show: ShowView,
    fields: Vec<FormField>,
    form_error: Option<String>,
}

fn form_of(show: &Show) -> ShowForm {
    ShowForm {
        csrf_token: String::new(),
        title: show.title.clone(),
        venue: show.venue.clone(),
        starts_at: format::datetime_local(show.starts_at),
        capacity: show.capacity.to_string(),
        price: format!("{}.{:02}", show.price_cents / 100, show.price_cents % 100),
        currency: show.currency.clone(),
    }
}

async fn render_admin_show(
    req: &HttpRequest,
    state: &AppState,
    admin: User,
    show: &Show,
    form: &ShowForm,
    errors: Option<FieldErrors>,
    status: StatusCode,
) -> HttpResponse {
    let mut fields = show_fields(form);
    // The currency is fixed once bookings may exist in it.
    fields.retain(|f| f.name != "currency");
    let form_error = errors
        .map(|e| attach_errors(&mut fields, &renamed(&e)))
        .and_then(|left| left.first().cloned());
    let (layout, page) = page_for(req, "admin-shows", Some(admin));
    page.render(
        &AdminShow {
            layout,
            show: show_view(show, state.modules.now()),
            fields,
            form_error,
        },
        status,
    )
}

async fn admin_show(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    AdminUser(admin): AdminUser,
) -> Result<HttpResponse, PageError> {
    let show = state.modules.bookings().show(*id).await?;
    Ok(render_admin_show(
        &req,
        &state,
        admin,
        &show,
        &form_of(&show),
        None,
        StatusCode::OK,
    )
    .await)
}

async fn update_show(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    AdminForm(admin, form): AdminForm<ShowForm>,
) -> Result<HttpResponse, PageError> {
    let show = state.modules.bookings().show(*id).await?;
    let mut errors = FieldErrors::new();
    let (capacity, price_cents) = parse_show_form(&form, &mut errors);
    let starts_at = format::from_datetime_local(&form.starts_at);
    let patch = ShowPatch {
        title: Some(form.title.clone()),
        venue: Some(form.venue.clone()),
        // Unchanged start times are not re-validated, so a show can be edited on its last day.
        starts_at: (form.starts_at != format::datetime_local(show.starts_at)).then_some(starts_at),
        capacity,
        price_cents,
    };
    let updated = match all_errors(errors, ChangeShow::try_from((patch, state.modules.now()))) {
        Ok(change) => {
            state
                .modules
                .bookings()
                .update_show(ctx.trace(), &Actor::of(&admin), *id, change)
                .await
        }
        Err(errors) => Err(BookingsError::Validation(errors)),
    };
    match updated {
        Ok(_) => Ok(see_other(&format!("/admin/shows/{id}?done=show-saved"))),
        Err(e) => match ApiError::from(e) {
            e @ (ApiError::Validation(_) | ApiError::Conflict { .. }) => {
                let status = e.status_code();
                let errors = e
                    .field_errors()
                    .cloned()
                    .unwrap_or_else(|| FieldErrors::single("form", e.problem().detail));
                Ok(
                    render_admin_show(&req, &state, admin, &show, &form, Some(errors), status)
                        .await,
                )
            }
            other => Err(other.into()),
        },
    }
}

async fn cancel_show(
    state: web::Data<AppState>,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    AdminForm(admin, _): AdminForm<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    state
        .modules
        .bookings()
        .cancel_show(ctx.trace(), &Actor::of(&admin), *id)
        .await?;
    Ok(see_other(&format!("/admin/shows/{id}?done=show-cancelled")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_show_form_reports_what_cannot_be_parsed() {
        let form = ShowForm {
            capacity: "ten".into(),
            price: "12,5x".into(),
            ..ShowForm::default()
        };
        let mut errors = FieldErrors::new();
        assert_eq!(parse_show_form(&form, &mut errors), (None, None));
        let named: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(named, ["capacity", "price"]);
    }
}
