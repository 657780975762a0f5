//! The admin's venues: open one (general admission, or a seating plan typed as text), change it,
//! and see its plan drawn as the seat map customers will choose from.

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use askama::Template;
use bookings_api::{
    BookingsError, ChangeVenue, NewVenue, OpenVenue, SeatingKind, Venue, VenuePatch,
};
use kernel::{FieldErrors, PageRequest, PageSize, Zone};
use serde::Deserialize;
use users_api::{Actor, User};
use uuid::Uuid;

use super::{
    FormField, Layout, PageError,
    forms::{attach_errors, refusal},
    guard::{AdminForm, AdminUser},
    page_for, plan_text,
    seatmap::{self, MapSection},
    see_other,
};
use crate::{http::RequestContext, state::AppState};

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/admin/venues")
            .route(web::get().to(venues_page))
            .route(web::post().to(open_venue)),
    );
    cfg.service(
        web::resource("/admin/venues/{id}")
            .route(web::get().to(venue_page))
            .route(web::post().to(change_venue)),
    );
}

/// A venue as its list shows it.
struct VenueRow {
    id: Uuid,
    name: String,
    time_zone: String,
    seating: String,
}

fn seating_text(v: &Venue) -> String {
    match v.seating {
        SeatingKind::GeneralAdmission => format!("general admission, {}", v.capacity),
        SeatingKind::Reserved => format!(
            "{} numbered seats in {} section{}",
            v.capacity,
            v.sections.len(),
            if v.sections.len() == 1 { "" } else { "s" }
        ),
    }
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct VenueForm {
    csrf_token: String,
    name: String,
    time_zone: String,
    seating: String,
    capacity: String,
    plan: String,
}
super::guard::csrf_protected!(VenueForm);

const PLAN_HELP: &str = "One line per section, [Name] and its price, then one line per row, front \
     first: its label, a colon and its seats left to right (ranges like 1-12 or 12-1, single \
     labels like 12A), then 'unavailable' and the seats not sold. Example: [Stalls] 45.00, then \
     A: 1-12, then B: 1-14 unavailable 7 8.";

fn fields(f: &VenueForm) -> Vec<FormField> {
    let mut zone = FormField::new("time_zone", "Time zone", "text")
        .value(if f.time_zone.is_empty() {
            "Europe/London"
        } else {
            &f.time_zone
        })
        .attr("list", "time-zones")
        .attr("maxlength", "64")
        .help("Its IANA name, like Europe/Paris or America/New_York: every show there is shown in it.");
    zone.autocomplete = "off";
    let mut seating =
        FormField::new("seating", "Seating", "select").value(if f.seating.is_empty() {
            "reserved"
        } else {
            &f.seating
        });
    seating.options = vec![
        ("reserved".into(), "Numbered seats (a plan)".into()),
        ("general".into(), "General admission (a capacity)".into()),
    ];
    let mut capacity = FormField::new("capacity", "Capacity (general admission)", "number")
        .value(&f.capacity)
        .attr("min", "1")
        .help("How many people, for general admission.");
    capacity.required = false;
    let mut plan = FormField::new("plan", "Seating plan (numbered seats)", "textarea")
        .value(&f.plan)
        .attr("rows", "10")
        .attr("spellcheck", "false")
        .help(PLAN_HELP);
    plan.required = false;
    vec![
        FormField::new("name", "Name", "text")
            .value(&f.name)
            .attr("maxlength", "120"),
        zone,
        seating,
        capacity,
        plan,
    ]
}

/// What the form asks for, as the API's input, or the form's own errors (each plan line said).
fn read(f: &VenueForm) -> Result<NewVenue, FieldErrors> {
    let mut e = FieldErrors::new();
    let mut venue = NewVenue {
        name: f.name.clone(),
        time_zone: f.time_zone.trim().to_owned(),
        ..NewVenue::default()
    };
    if f.seating == "general" {
        match f.capacity.trim().parse::<i64>() {
            Ok(c) => venue.capacity = Some(c),
            Err(_) if f.capacity.trim().is_empty() => e.add("capacity", "is required"),
            Err(_) => e.add("capacity", "must be a whole number"),
        }
    } else {
        match plan_text::parse(&f.plan) {
            Ok(parsed) => venue.sections = Some(parsed.sections),
            // Every line's mistake under the one field, in one answer.
            Err(lines) => e.add("plan", lines.join("; ")),
        }
    }
    if !e.is_empty() {
        // The name and zone are judged now too, so that one answer says everything wrong.
        let named = NewVenue {
            capacity: Some(1),
            ..venue.clone()
        };
        if let Err(more) = OpenVenue::try_from(named) {
            for m in more
                .iter()
                .filter(|m| m.field == "name" || m.field == "time_zone")
            {
                e.add(m.field.clone(), m.message.clone());
            }
        }
    }
    e.into_result().map(|()| venue)
}

/// The module's errors on the form's fields: a plan's by line.
fn on_fields(f: &VenueForm, errors: &FieldErrors) -> FieldErrors {
    let mut out = FieldErrors::new();
    let plan_errors: Vec<_> = errors
        .iter()
        .filter(|e| e.field.starts_with("sections"))
        .cloned()
        .collect();
    if !plan_errors.is_empty() {
        let mut only = FieldErrors::new();
        for p in &plan_errors {
            only.add(p.field.clone(), p.message.clone());
        }
        let lines = plan_text::parse(&f.plan)
            .map(|p| p.by_line(&only))
            .unwrap_or_default();
        out.add("plan", lines.join("; "));
    }
    for e in errors.iter().filter(|e| !e.field.starts_with("sections")) {
        out.add(e.field.clone(), e.message.clone());
    }
    out
}

#[derive(Template)]
#[template(path = "admin_venues.html")]
struct VenuesPage {
    layout: Layout,
    venues: Vec<VenueRow>,
    next_page: Option<String>,
    fields: Vec<FormField>,
    form_error: Option<String>,
    zones: Vec<String>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct CursorQuery {
    cursor: Option<String>,
}

async fn render_venues(
    req: &HttpRequest,
    state: &AppState,
    admin: User,
    form: &VenueForm,
    errors: Option<FieldErrors>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let q: CursorQuery = crate::http::parse_query(req.query_string()).unwrap_or_default();
    let page = state
        .modules
        .bookings()
        .venues(PageRequest {
            limit: PageSize::clamped(100),
            cursor: super::cursor_param(q.cursor.as_deref())?,
        })
        .await?;
    let mut fields = fields(form);
    let form_error = errors
        .map(|e| attach_errors(&mut fields, &on_fields(form, &e)))
        .and_then(|left| left.first().cloned());
    let (layout, page_out) = page_for(req, "admin-venues", Some(admin));
    Ok(page_out.render(
        &VenuesPage {
            layout,
            venues: page
                .items
                .iter()
                .map(|v| VenueRow {
                    id: v.id,
                    name: v.name.clone(),
                    time_zone: v.time_zone.clone(),
                    seating: seating_text(v),
                })
                .collect(),
            next_page: page
                .next_cursor
                .map(|c| format!("/admin/venues?cursor={c}")),
            fields,
            form_error,
            zones: Zone::names(),
        },
        status,
    ))
}

async fn venues_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    AdminUser(admin): AdminUser,
) -> Result<HttpResponse, PageError> {
    render_venues(
        &req,
        &state,
        admin,
        &VenueForm::default(),
        None,
        StatusCode::OK,
    )
    .await
}

async fn open_venue(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: RequestContext,
    AdminForm(admin, form): AdminForm<VenueForm>,
) -> Result<HttpResponse, PageError> {
    let opened = match read(&form).and_then(OpenVenue::try_from) {
        Ok(input) => {
            state
                .modules
                .bookings()
                .open_venue(ctx.trace(), &Actor::of(&admin), input)
                .await
        }
        Err(errors) => Err(BookingsError::Validation(errors)),
    };
    match opened {
        Ok(venue) => Ok(see_other(&format!(
            "/admin/venues/{}?done=venue-opened",
            venue.id
        ))),
        Err(e) => {
            let (errors, status) = refusal(e)?;
            render_venues(&req, &state, admin, &form, Some(errors), status).await
        }
    }
}

#[derive(Template)]
#[template(path = "admin_venue.html")]
struct VenuePage {
    layout: Layout,
    venue: VenueRow,
    fields: Vec<FormField>,
    form_error: Option<String>,
    zones: Vec<String>,
    map: Vec<MapSection>,
}

fn form_of(v: &Venue) -> VenueForm {
    VenueForm {
        csrf_token: String::new(),
        name: v.name.clone(),
        time_zone: v.time_zone.clone(),
        seating: match v.seating {
            SeatingKind::GeneralAdmission => "general".into(),
            SeatingKind::Reserved => "reserved".into(),
        },
        capacity: match v.seating {
            SeatingKind::GeneralAdmission => v.capacity.to_string(),
            SeatingKind::Reserved => String::new(),
        },
        plan: plan_text::text_of(&v.sections),
    }
}

async fn render_venue(
    req: &HttpRequest,
    admin: User,
    venue: &Venue,
    form: &VenueForm,
    errors: Option<FieldErrors>,
    status: StatusCode,
) -> HttpResponse {
    let mut fields = fields(form);
    let form_error = errors
        .map(|e| attach_errors(&mut fields, &on_fields(form, &e)))
        .and_then(|left| left.first().cloned());
    let (layout, page) = page_for(req, "admin-venues", Some(admin));
    page.render(
        &VenuePage {
            layout,
            venue: VenueRow {
                id: venue.id,
                name: venue.name.clone(),
                time_zone: venue.time_zone.clone(),
                seating: seating_text(venue),
            },
            fields,
            form_error,
            zones: Zone::names(),
            map: seatmap::of_venue(venue),
        },
        status,
    )
}

async fn venue_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    AdminUser(admin): AdminUser,
) -> Result<HttpResponse, PageError> {
    let venue = state.modules.bookings().venue(*id).await?;
    Ok(render_venue(&req, admin, &venue, &form_of(&venue), None, StatusCode::OK).await)
}

async fn change_venue(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    AdminForm(admin, form): AdminForm<VenueForm>,
) -> Result<HttpResponse, PageError> {
    let venue = state.modules.bookings().venue(*id).await?;
    let change = read(&form).and_then(|v| {
        ChangeVenue::try_from(VenuePatch {
            name: Some(v.name),
            time_zone: Some(v.time_zone),
            capacity: v.capacity,
            sections: v.sections,
        })
    });
    let changed = match change {
        Ok(change) => {
            state
                .modules
                .bookings()
                .change_venue(ctx.trace(), &Actor::of(&admin), *id, change)
                .await
        }
        Err(errors) => Err(BookingsError::Validation(errors)),
    };
    match changed {
        Ok(_) => Ok(see_other(&format!("/admin/venues/{id}?done=venue-saved"))),
        Err(e) => {
            let (errors, status) = refusal(e)?;
            Ok(render_venue(&req, admin, &venue, &form, Some(errors), status).await)
        }
    }
}
