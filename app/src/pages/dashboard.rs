//! The admin dashboard and the booking feed: the reporting module's read model, live.

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use askama::Template;
use kernel::Zone;
use reporting_api::{FeedItem, FeedPage, RebuildStatus};
use serde::Deserialize;
use users_api::{Actor, User};
use uuid::Uuid;

use super::{
    Layout, PageError, charts, format,
    guard::{AdminForm, AdminUser, CsrfOnly},
    page_for, see_other,
};
use crate::{
    http::{ApiError, FeedParams, parse_query},
    state::AppState,
};

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin").route(web::get().to(dashboard_page)));
    cfg.service(web::resource("/admin/dashboard/live").route(web::get().to(dashboard_live)));
    cfg.service(web::resource("/admin/projections/rebuild").route(web::post().to(rebuild)));
    cfg.service(web::resource("/admin/feed").route(web::get().to(feed_page)));
    cfg.service(web::resource("/admin/feed/rows").route(web::get().to(feed_rows)));
}

struct LagRow {
    stream: String,
    checkpoint: i64,
    head: i64,
    behind_events: i64,
    behind: String,
}

struct LatestRow {
    booking_id: Uuid,
    show: String,
    customer: String,
    amount: String,
    status: String,
}

/// A show's attendance: tickets admitted at the door against seats sold.
struct AttendanceRow {
    show_id: Uuid,
    title: String,
    when: String,
    sold: i64,
    admitted: i64,
    share: String,
}

struct Body {
    total: i64,
    pending: i64,
    confirmed: i64,
    cancelled: i64,
    seats_sold: i64,
    revenue: String,
    refunds: String,
    avg_confirm: String,
    sales: charts::SalesChart,
    timeline: charts::TimelineChart,
    timeline_bar_w: i64,
    lag: Vec<LagRow>,
    caught_up: bool,
    latest: Vec<LatestRow>,
    attendance: Vec<AttendanceRow>,
    rebuild: RebuildStatus,
    rebuild_done: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_dashboard.html")]
struct DashboardPage {
    layout: Layout,
    refresh_every: u32,
    d: Body,
}

#[derive(Template)]
#[template(path = "_dashboard_body.html")]
struct DashboardFragment {
    d: Body,
}

fn money_list(
    d: &reporting_api::Dashboard,
    pick: impl Fn(&reporting_api::CurrencyTotals) -> i64,
) -> String {
    if d.money.is_empty() {
        return format::money(0, "EUR");
    }
    d.money
        .iter()
        .map(|m| format::money(pick(m), &m.currency))
        .collect::<Vec<_>>()
        .join(" + ")
}

async fn body(state: &AppState, actor: &Actor, zone: &Zone) -> Result<Body, PageError> {
    let reporting = state.modules.reporting();
    let d = reporting.dashboard(actor).await?;
    let latest = reporting
        .feed(
            actor,
            reporting_api::FeedFilter {
                limit: kernel::PageSize::clamped(8),
                ..Default::default()
            },
        )
        .await?
        .items
        .into_iter()
        .map(|r| LatestRow {
            booking_id: r.booking_id,
            show: r.show_title.unwrap_or_else(|| "—".into()),
            customer: r.user_name.or(r.user_email).unwrap_or_default(),
            amount: format::money(r.amount_cents, r.currency.as_deref().unwrap_or("EUR")),
            status: r.status.unwrap_or_default(),
        })
        .collect();
    let rebuild = reporting.rebuild_status().await?;
    let rebuild_done = match (&rebuild.finished_at, &rebuild.error) {
        (Some(at), None) if !rebuild.running => Some(format!(
            "Last rebuild: {} events replayed, finished {}.",
            rebuild.processed,
            format::moment(*at, zone)
        )),
        (Some(_), Some(e)) => Some(format!("The last rebuild failed: {e}")),
        _ => None,
    };
    let timeline = charts::timeline(&d.timeline);
    // Every show of the last day and to come with seats sold or tickets admitted, soonest first.
    let since = state.modules.now().as_micros() - 24 * 3_600_000_000;
    let attendance: Vec<_> = reporting
        .show_sales(actor)
        .await?
        .into_iter()
        .filter(|s| s.starts_at.as_micros() >= since && (s.seats_sold > 0 || s.admitted > 0))
        .take(12)
        .collect();
    Ok(Body {
        total: d.bookings.total,
        pending: d.bookings.pending,
        confirmed: d.bookings.confirmed,
        cancelled: d.bookings.cancelled,
        seats_sold: d.seats_sold,
        revenue: money_list(&d, |m| m.revenue_cents),
        refunds: money_list(&d, |m| m.refunds_cents),
        avg_confirm: d
            .avg_confirm_ms
            .map_or_else(|| "—".into(), |ms| format::micros((ms * 1_000.0) as u64)),
        sales: charts::sales(&d.top_shows),
        attendance: attendance
            .iter()
            .map(|s| AttendanceRow {
                show_id: s.show_id,
                title: s.title.clone(),
                when: format::show_time_at(s.starts_at, &s.time_zone),
                sold: s.seats_sold,
                admitted: s.admitted,
                share: if s.seats_sold > 0 {
                    format!("{}%", s.admitted * 100 / s.seats_sold)
                } else {
                    "—".into()
                },
            })
            .collect(),
        timeline_bar_w: (timeline.bar_w - 2).max(2),
        timeline,
        caught_up: d.lag.iter().all(|l| l.behind_events == 0),
        lag: d
            .lag
            .iter()
            .map(|l| LagRow {
                stream: l.stream.clone(),
                checkpoint: l.checkpoint,
                head: l.head,
                behind_events: l.behind_events,
                behind: if l.behind_events == 0 {
                    "—".into()
                } else {
                    format::micros(u64::try_from(l.behind_ms).unwrap_or(0) * 1_000)
                },
            })
            .collect(),
        latest,
        rebuild,
        rebuild_done,
    })
}

async fn dashboard_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    AdminUser(admin): AdminUser,
) -> Result<HttpResponse, PageError> {
    let d = body(&state, &Actor::of(&admin), &format::zone_of(Some(&admin))).await?;
    let refresh_every = if d.rebuild.running { 1 } else { 0 };
    let (layout, page) = page_for(&req, "admin-dashboard", Some(admin));
    Ok(page.render(
        &DashboardPage {
            layout,
            refresh_every,
            d,
        },
        StatusCode::OK,
    ))
}

async fn dashboard_live(
    req: HttpRequest,
    state: web::Data<AppState>,
    AdminUser(admin): AdminUser,
) -> Result<HttpResponse, PageError> {
    let d = body(&state, &Actor::of(&admin), &format::zone_of(Some(&admin))).await?;
    let (_, page) = page_for(&req, "", None);
    Ok(page.render(&DashboardFragment { d }, StatusCode::OK))
}

async fn rebuild(
    state: web::Data<AppState>,
    AdminForm(admin, _): AdminForm<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    match state
        .modules
        .reporting()
        .start_rebuild(&Actor::of(&admin))
        .await
    {
        Ok(_) | Err(reporting_api::ReportingError::AlreadyRunning) => {
            Ok(see_other("/admin?done=rebuild-started"))
        }
        Err(e) => Err(ApiError::from(e).into()),
    }
}

struct FeedRowView {
    booking_id: Uuid,
    placed: String,
    show: String,
    show_when: String,
    customer: String,
    email: String,
    seats: i64,
    seat_labels: String,
    amount: String,
    status: String,
    reason: Option<String>,
    payment: Option<String>,
    method: String,
}

fn feed_row(r: FeedItem, zone: &Zone) -> FeedRowView {
    FeedRowView {
        booking_id: r.booking_id,
        placed: r
            .placed_at
            .map(|t| format::moment(t, zone))
            .unwrap_or_default(),
        show: r.show_title.unwrap_or_else(|| "—".into()),
        show_when: r
            .show_starts_at
            .map(|t| format::show_time_at(t, r.show_time_zone.as_deref().unwrap_or("UTC")))
            .unwrap_or_default(),
        seat_labels: r.seat_labels.unwrap_or_default(),
        customer: r.user_name.unwrap_or_else(|| "—".into()),
        email: r.user_email.unwrap_or_default(),
        seats: r.seats,
        amount: format::money(r.amount_cents, r.currency.as_deref().unwrap_or("EUR")),
        status: r.status.unwrap_or_default(),
        reason: r.cancel_reason.map(|c| c.replace('_', " ")),
        payment: r.payment_status,
        method: match (r.card_brand, r.card_last4) {
            (Some(b), Some(l)) => format!("{b} •••• {l}"),
            _ => r.payment_method.unwrap_or_default(),
        },
    }
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct FeedForm {
    q: String,
    status: String,
    payment_status: String,
}

struct FilterView {
    q: String,
    status: String,
    payment_status: String,
    any: bool,
}

#[derive(Template)]
#[template(path = "admin_feed.html")]
struct FeedPageView {
    layout: Layout,
    f: FilterView,
    status_options: Vec<String>,
    payment_options: Vec<String>,
    query: String,
    error: Option<String>,
    rows: Vec<FeedRowView>,
    next_page: Option<String>,
}

#[derive(Template)]
#[template(path = "_feed_rows.html")]
struct FeedRowsFragment {
    rows: Vec<FeedRowView>,
    next_page: Option<String>,
}

async fn feed_data(
    state: &AppState,
    admin: &User,
    req: &HttpRequest,
) -> Result<(Vec<FeedRowView>, Option<String>), ApiError> {
    let actor = &Actor::of(admin);
    let zone = format::zone_of(Some(admin));
    let params: FeedParams = parse_query(req.query_string())?;
    let page: FeedPage = state
        .modules
        .reporting()
        .feed(actor, params.filter()?)
        .await?;
    let next_page = page.next_cursor.map(|c| {
        let form: FeedForm = parse_query(req.query_string()).unwrap_or_default();
        let params = [
            ("q", form.q),
            ("status", form.status),
            ("payment_status", form.payment_status),
            ("cursor", c),
        ];
        let kept: Vec<_> = params.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        format!(
            "/admin/feed?{}",
            serde_urlencoded::to_string(kept).unwrap_or_default()
        )
    });
    Ok((
        page.items.into_iter().map(|r| feed_row(r, &zone)).collect(),
        next_page,
    ))
}

async fn feed_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    AdminUser(admin): AdminUser,
) -> Result<HttpResponse, PageError> {
    let form: FeedForm = parse_query(req.query_string()).unwrap_or_default();
    let (rows, next_page, error, status) = match feed_data(&state, &admin, &req).await {
        Ok((rows, next)) => (rows, next, None, StatusCode::OK),
        Err(ApiError::Validation(e)) => (
            Vec::new(),
            None,
            Some(e.to_string()),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => return Err(e.into()),
    };
    let any = !(form.q.is_empty() && form.status.is_empty() && form.payment_status.is_empty());
    let (layout, page) = page_for(&req, "admin-feed", Some(admin));
    let view = FeedPageView {
        layout,
        f: FilterView {
            q: form.q,
            status: form.status,
            payment_status: form.payment_status,
            any,
        },
        status_options: ["", "pending", "confirmed", "cancelled"]
            .map(String::from)
            .to_vec(),
        payment_options: ["", "captured", "declined", "refunded", "voided"]
            .map(String::from)
            .to_vec(),
        query: req.query_string().to_owned(),
        error,
        rows,
        next_page,
    };
    Ok(page.render(&view, status))
}

async fn feed_rows(
    req: HttpRequest,
    state: web::Data<AppState>,
    AdminUser(admin): AdminUser,
) -> Result<HttpResponse, PageError> {
    let (rows, next_page) = feed_data(&state, &admin, &req).await?;
    let (_, page) = page_for(&req, "", None);
    Ok(page.render(&FeedRowsFragment { rows, next_page }, StatusCode::OK))
}
