//! The admin's schedule: every show, scheduling one at a venue (its start typed in the venue's
//! own time), changing one (for a seated show, each section's price), watching its seat map,
//! and calling it off.

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use askama::Template;
use bookings_api::{
    BookingsError, ChangeShow, NewShow, ScheduleShow, SeatingKind, SectionPrice, Show, ShowFilter,
    ShowPatch, Venue,
};
use kernel::{FieldErrors, PageRequest, PageSize, Zone};
use serde::Deserialize;
use users_api::{Actor, User};
use uuid::Uuid;

use super::{
    FormField, Layout, PageError, format,
    forms::{attach_errors, refusal},
    guard::{AdminForm, AdminUser, CsrfOnly},
    page_for,
    seatmap::{self, MapSection},
    see_other,
    shows::{ShowView, show_view},
};
use crate::{
    http::{ApiError, RequestContext},
    state::AppState,
};

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
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

#[derive(Template)]
#[template(path = "admin_shows.html")]
struct AdminShows {
    layout: Layout,
    shows: Vec<ShowView>,
    fields: Vec<FormField>,
    form_error: Option<String>,
    no_venues: bool,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct ShowForm {
    csrf_token: String,
    title: String,
    venue_id: String,
    starts_at: String,
    capacity: String,
    price: String,
    currency: String,
    /// A seated show's prices, one field per section: `section_0`, `section_1`, …
    #[serde(flatten)]
    sections: std::collections::HashMap<String, String>,
}
super::guard::csrf_protected!(ShowForm);

#[derive(Default, Deserialize)]
#[serde(default)]
struct ScheduleQuery {
    venue_id: String,
}

async fn all_venues(state: &AppState) -> Result<Vec<Venue>, PageError> {
    Ok(state
        .modules
        .bookings()
        .venues(PageRequest {
            limit: PageSize::clamped(PageSize::MAX),
            cursor: None,
        })
        .await?
        .items)
}

fn new_show_fields(f: &ShowForm, venues: &[Venue]) -> Vec<FormField> {
    let mut venue = FormField::new("venue_id", "Venue", "select").value(&f.venue_id);
    venue.options = venues
        .iter()
        .map(|v| {
            let seating = match v.seating {
                SeatingKind::GeneralAdmission => format!("general admission, {}", v.capacity),
                SeatingKind::Reserved => format!("{} numbered seats", v.capacity),
            };
            (
                v.id.to_string(),
                format!("{} — {}, {seating}", v.name, v.time_zone),
            )
        })
        .collect();
    let mut capacity = FormField::new("capacity", "Capacity (general admission)", "number")
        .value(&f.capacity)
        .attr("min", "1")
        .help("Leave empty for the venue's own; a seated venue's plan sets it.");
    capacity.required = false;
    let mut price = FormField::new("price", "Price per seat", "text")
        .value(&f.price)
        .attr("placeholder", "25.00")
        .attr("inputmode", "decimal")
        .help("Required for general admission. At a seated venue, leave empty for its section prices (change each on the show's page), or give one price for every seat.");
    price.required = false;
    vec![
        FormField::new("title", "Title", "text")
            .value(&f.title)
            .attr("maxlength", "120"),
        venue,
        FormField::new(
            "starts_at",
            "Starts at (local time at the venue)",
            "datetime-local",
        )
        .value(&f.starts_at),
        capacity,
        price,
        FormField::new("currency", "Currency", "text")
            .value(if f.currency.is_empty() {
                "EUR"
            } else {
                &f.currency
            })
            .attr("maxlength", "3"),
    ]
}

/// A whole number typed in a form, or its error.
fn whole(raw: &str, field: &'static str, errors: &mut FieldErrors) -> Option<i64> {
    match raw.trim() {
        "" => None,
        t => t
            .parse::<i64>()
            .map_err(|_| errors.add(field, "must be a whole number"))
            .ok(),
    }
}

/// An amount typed in a form, as cents, or its error.
fn amount(raw: &str, field: &'static str, errors: &mut FieldErrors) -> Option<i64> {
    match raw.trim() {
        "" => None,
        t => format::parse_amount(t)
            .map_err(|m| errors.add(field, m))
            .ok(),
    }
}

/// A start typed in the venue's local time, as RFC 3339 (or as typed, for the module to judge).
fn start_in(raw: &str, zone: &Zone, errors: &mut FieldErrors) -> String {
    match format::from_datetime_local(raw, zone) {
        Ok(t) => t,
        Err(why) => {
            errors.add("starts_at", why);
            String::new()
        }
    }
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

/// The module's field names as the form's.
fn renamed(errors: &FieldErrors) -> FieldErrors {
    let mut out = FieldErrors::new();
    for e in errors.iter() {
        let field = match e.field.as_str() {
            "price_cents" => "price".to_owned(),
            f if f.starts_with("sections[") => f
                .trim_start_matches("sections[")
                .split(']')
                .next()
                .map(|i| format!("section_{i}"))
                .unwrap_or_else(|| f.to_owned()),
            f => f.to_owned(),
        };
        out.add(field, e.message.clone());
    }
    out
}

async fn admin_shows(
    req: HttpRequest,
    state: web::Data<AppState>,
    AdminUser(admin): AdminUser,
) -> Result<HttpResponse, PageError> {
    let q: ScheduleQuery = crate::http::parse_query(req.query_string()).unwrap_or_default();
    let form = ShowForm {
        venue_id: q.venue_id,
        ..ShowForm::default()
    };
    render_admin_shows(&req, &state, admin, &form, None, StatusCode::OK).await
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
    let venues = all_venues(state).await?;
    let mut fields = new_show_fields(form, &venues);
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
            no_venues: venues.is_empty(),
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
    let venue = match Uuid::parse_str(form.venue_id.trim()) {
        Ok(id) => state.modules.bookings().venue(id).await.ok(),
        Err(_) => None,
    };
    if venue.is_none() {
        errors.add(
            "venue_id",
            "choose a venue (open one first on the Venues page)",
        );
    }
    let zone = venue
        .as_ref()
        .and_then(|v| Zone::parse(&v.time_zone).ok())
        .unwrap_or_else(Zone::utc);
    let starts_at = start_in(&form.starts_at, &zone, &mut errors);
    let capacity = whole(&form.capacity, "capacity", &mut errors);
    let price_cents = amount(&form.price, "price", &mut errors);
    // What could not be read stands in as a valid value, so that the module judges every other
    // field in the same answer (every error at once, not one after another).
    let input = NewShow {
        title: form.title.clone(),
        venue_id: Some(
            venue
                .as_ref()
                .map_or_else(|| Uuid::nil().to_string(), |v| v.id.to_string()),
        ),
        starts_at,
        capacity,
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
    map: Vec<MapSection>,
    interactive: bool,
    admitted: Option<i64>,
}

fn edit_fields(show: &Show, f: &ShowForm, sections: &[(String, i64)]) -> Vec<FormField> {
    let mut fields = vec![
        FormField::new("title", "Title", "text")
            .value(&f.title)
            .attr("maxlength", "120"),
        FormField::new(
            "starts_at",
            "Starts at (local time at the venue)",
            "datetime-local",
        )
        .value(&f.starts_at)
        .help(format!("In {}.", show.time_zone)),
    ];
    if show.seating == SeatingKind::Reserved {
        for (i, (name, _)) in sections.iter().enumerate() {
            let key = format!("section_{i}");
            let value = f.sections.get(&key).cloned().unwrap_or_default();
            fields.push(
                FormField::new(key, format!("Price: {name}"), "text")
                    .value(value)
                    .attr("inputmode", "decimal"),
            );
        }
    } else {
        fields.push(
            FormField::new("capacity", "Seats", "number")
                .value(&f.capacity)
                .attr("min", "1"),
        );
        fields.push(
            FormField::new("price", "Price per seat", "text")
                .value(&f.price)
                .attr("placeholder", "25.00")
                .attr("inputmode", "decimal"),
        );
    }
    fields
}

fn form_of(show: &Show, sections: &[(String, i64)]) -> ShowForm {
    let money = |cents: i64| format!("{}.{:02}", cents / 100, cents % 100);
    ShowForm {
        title: show.title.clone(),
        starts_at: format::datetime_local(show.starts_at, &format::show_zone(show)),
        capacity: show.capacity.to_string(),
        price: money(show.price_cents),
        currency: show.currency.clone(),
        sections: sections
            .iter()
            .enumerate()
            .map(|(i, (_, price))| (format!("section_{i}"), money(*price)))
            .collect(),
        ..ShowForm::default()
    }
}

/// A seated show's sections with its prices (none for general admission).
async fn sections_of(state: &AppState, show: &Show) -> Result<Vec<(String, i64)>, PageError> {
    if show.seating != SeatingKind::Reserved {
        return Ok(Vec::new());
    }
    let map = state.modules.bookings().seats(show.id).await?;
    Ok(map
        .sections
        .into_iter()
        .map(|s| (s.name, s.price_cents))
        .collect())
}

async fn render_admin_show(
    req: &HttpRequest,
    state: &AppState,
    admin: User,
    show: &Show,
    form: &ShowForm,
    errors: Option<FieldErrors>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let sections = sections_of(state, show).await?;
    let mut fields = edit_fields(show, form, &sections);
    let form_error = errors
        .map(|e| attach_errors(&mut fields, &renamed(&e)))
        .and_then(|left| left.first().cloned());
    let map = if show.seating == SeatingKind::Reserved {
        seatmap::of_show(state.modules.bookings().seats(show.id).await?, &[])
    } else {
        Vec::new()
    };
    // Attendance from the read model: it follows the door a moment behind.
    let admitted = state
        .modules
        .reporting()
        .show_sales(&Actor::of(&admin))
        .await
        .ok()
        .and_then(|all| all.into_iter().find(|s| s.show_id == show.id))
        .map(|s| s.admitted);
    let (layout, page) = page_for(req, "admin-shows", Some(admin));
    Ok(page.render(
        &AdminShow {
            layout,
            show: show_view(show, state.modules.now()),
            fields,
            form_error,
            map,
            interactive: false,
            admitted,
        },
        status,
    ))
}

async fn admin_show(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    AdminUser(admin): AdminUser,
) -> Result<HttpResponse, PageError> {
    let show = state.modules.bookings().show(*id).await?;
    let sections = sections_of(&state, &show).await?;
    render_admin_show(
        &req,
        &state,
        admin,
        &show,
        &form_of(&show, &sections),
        None,
        StatusCode::OK,
    )
    .await
}

async fn update_show(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    AdminForm(admin, form): AdminForm<ShowForm>,
) -> Result<HttpResponse, PageError> {
    let show = state.modules.bookings().show(*id).await?;
    let sections = sections_of(&state, &show).await?;
    let current = form_of(&show, &sections);
    let zone = format::show_zone(&show);
    let mut errors = FieldErrors::new();
    let seated = show.seating == SeatingKind::Reserved;
    // Unchanged values are not sent again, so that a show can be edited on its last day and a
    // price left alone stays as it is.
    let starts_at = (form.starts_at != current.starts_at)
        .then(|| start_in(&form.starts_at, &zone, &mut errors));
    let mut priced = Vec::new();
    if seated {
        for (i, (name, _)) in sections.iter().enumerate() {
            let key = format!("section_{i}");
            let typed = form.sections.get(&key).cloned().unwrap_or_default();
            if Some(&typed) == current.sections.get(&key) {
                continue;
            }
            match format::parse_amount(&typed) {
                Ok(cents) => priced.push(SectionPrice {
                    name: name.clone(),
                    price_cents: Some(cents),
                }),
                Err(m) => errors.add(key, m),
            }
        }
    }
    let patch = ShowPatch {
        title: Some(form.title.clone()),
        starts_at,
        capacity: if seated {
            None
        } else {
            whole(&form.capacity, "capacity", &mut errors)
        },
        price_cents: if seated {
            None
        } else {
            amount(&form.price, "price", &mut errors)
        },
        sections: (!priced.is_empty()).then_some(priced),
        ..ShowPatch::default()
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
        Err(e) => {
            let (errors, status) = refusal(e)?;
            render_admin_show(&req, &state, admin, &show, &form, Some(errors), status).await
        }
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
        let mut errors = FieldErrors::new();
        assert_eq!(whole("ten", "capacity", &mut errors), None);
        assert_eq!(amount("12,5x", "price", &mut errors), None);
        let named: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(named, ["capacity", "price"]);
    }

    #[test]
    fn the_modules_section_errors_land_on_the_sections_price_fields() {
        let module =
            FieldErrors::single("sections[1].price_cents", "must be between 0 and 1000000");
        assert_eq!(renamed(&module).iter().next().unwrap().field, "section_1");
    }
}
