//! The server-rendered web UI: askama templates from `templates/`, forms that post and redirect,
//! field errors shown inline, CSRF tokens on every form.

mod admin;
mod assets;
mod bookings;
mod charts;
mod dashboard;
mod errors;
mod events;
pub(crate) mod format;
mod forms;
mod guard;
mod plan_text;
mod problems;
mod schedule;
mod seatmap;
mod shows;
mod tickets;
mod users;
mod venues;
mod wallet;

use std::sync::LazyLock;

use actix_web::{
    HttpRequest, HttpResponse, ResponseError,
    http::{StatusCode, header},
    web,
};
use askama::Template;
use users_api::{Role, User};

use crate::http::{self, ApiError, Csrf};

pub(crate) use errors::{answer_405, page_errors};
pub(crate) use forms::FormField;

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    assets::configure(cfg);
    shows::configure(cfg);
    schedule::configure(cfg);
    venues::configure(cfg);
    tickets::configure(cfg);
    bookings::configure(cfg);
    wallet::configure(cfg);
    dashboard::configure(cfg);
    problems::configure(cfg);
    users::configure(cfg);
    admin::configure(cfg);
    events::configure(cfg);
}

/// One entry of the navigation bar.
pub(crate) struct NavLink {
    pub(crate) key: &'static str,
    pub(crate) href: &'static str,
    pub(crate) label: &'static str,
    pub(crate) separator: bool,
}

impl NavLink {
    const fn to(key: &'static str, href: &'static str, label: &'static str) -> NavLink {
        NavLink {
            key,
            href,
            label,
            separator: false,
        }
    }

    const fn separator() -> NavLink {
        NavLink {
            key: "",
            href: "",
            label: "",
            separator: true,
        }
    }
}

/// What the shared layout needs on every page.
pub(crate) struct Layout {
    pub(crate) user: Option<User>,
    pub(crate) is_admin: bool,
    pub(crate) csrf: String,
    pub(crate) nav: &'static str,
    /// The section of the top bar that is current (`admin` for every admin page).
    pub(crate) section: &'static str,
    pub(crate) links: Vec<NavLink>,
    pub(crate) admin_links: Vec<NavLink>,
    pub(crate) notice: Option<&'static str>,
    pub(crate) version: &'static str,
    pub(crate) asset_version: &'static str,
}

/// A page being rendered: carries the CSRF cookie to set if the token is new.
pub(crate) struct Page {
    csrf_cookie: Option<actix_web::cookie::Cookie<'static>>,
}

/// Confirmation messages for `?done=<code>` after a redirect; unknown codes show nothing, so no
/// text from the URL is ever reflected into the page.
fn notice(code: &str) -> Option<&'static str> {
    Some(match code {
        "welcome" => "Welcome to Boxoffice! Your account is ready.",
        "logged-in" => "You are logged in.",
        "logged-out" => "You are logged out. See you soon.",
        "saved" => "Your changes are saved.",
        "deactivated" => "The account is deactivated.",
        "module-changed" => "Module availability changed.",
        "booked" => "We received your booking request; where it stands is below.",
        "booking-cancelled" => {
            "The booking is cancelled and its seats released. Paid bookings are refunded."
        }
        "deposited" => "Money added to your wallet.",
        "rebuild-started" => {
            "Rebuilding the read model from every module's event log; the old view serves until it is done."
        }
        "show-scheduled" => "The show is on sale.",
        "show-saved" => "The show is updated.",
        "show-cancelled" => "The show is cancelled; its bookings are being refunded.",
        "venue-opened" => "The venue is open: schedule shows at it.",
        "venue-saved" => "The venue is updated; shows already scheduled keep their plan.",
        "role-changed" => "The role is changed.",
        "dead-letter-applied" => "The dead letter was applied, exactly once.",
        "dead-letter-failing" => {
            "The handler failed again; the event stays parked with the new error."
        }
        "dead-letter-discarded" => "The dead letter was discarded without being applied.",
        _ => return None,
    })
}

fn links(user: Option<&User>) -> Vec<NavLink> {
    let mut links = vec![NavLink::to("shows", "/", "Shows")];
    if user.is_some() {
        links.push(NavLink::to("bookings", "/bookings", "My bookings"));
        links.push(NavLink::to("wallet", "/wallet", "Wallet"));
    }
    if user.is_some_and(|u| matches!(u.role, Role::Admin | Role::Door)) {
        links.push(NavLink::separator());
        links.push(NavLink::to("door", "/door", "Door"));
    }
    if user.is_some_and(|u| u.role == Role::Admin) {
        links.push(NavLink::to("admin", "/admin", "Admin"));
    }
    links
}

/// The admin sections, shown as a second bar on admin pages.
fn admin_links() -> Vec<NavLink> {
    vec![
        NavLink::to("admin-dashboard", "/admin", "Dashboard"),
        NavLink::to("admin-feed", "/admin/feed", "Feed"),
        NavLink::to("admin-shows", "/admin/shows", "Shows"),
        NavLink::to("admin-venues", "/admin/venues", "Venues"),
        NavLink::to("admin-bookings", "/admin/bookings", "Bookings"),
        NavLink::to("admin-payments", "/admin/payments", "Payments"),
        NavLink::to("admin-users", "/admin/users", "Users"),
        NavLink::separator(),
        NavLink::to("admin-events", "/admin/events", "Event log"),
        NavLink::to("admin-consumers", "/admin/consumers", "Subscriptions"),
        NavLink::to("admin-health", "/admin/health", "Health"),
        NavLink::to("admin-architecture", "/admin/architecture", "Architecture"),
    ]
}

/// The layout and page for `req`, with `nav` marking the current section.
pub(crate) async fn page(req: &HttpRequest, nav: &'static str) -> (Layout, Page) {
    let user = http::current_user(req).await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "could not resolve the session for a page");
        None
    });
    page_for(req, nav, user)
}

/// The layout and page for `req` when the user is already known.
pub(crate) fn page_for(req: &HttpRequest, nav: &'static str, user: Option<User>) -> (Layout, Page) {
    let Csrf { token, new_cookie } = http::csrf(req);
    let done =
        web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
            .ok()
            .and_then(|q| q.get("done").and_then(|c| notice(c)));
    let layout = Layout::new(user, token, nav, done);
    (
        layout,
        Page {
            csrf_cookie: new_cookie,
        },
    )
}

impl Layout {
    fn new(
        user: Option<User>,
        csrf: String,
        nav: &'static str,
        notice: Option<&'static str>,
    ) -> Layout {
        let is_admin = user.as_ref().is_some_and(|u| u.role == Role::Admin);
        let on_admin_page = is_admin && nav.starts_with("admin");
        Layout {
            links: links(user.as_ref()),
            admin_links: if on_admin_page {
                admin_links()
            } else {
                Vec::new()
            },
            section: if on_admin_page { "admin" } else { nav },
            is_admin,
            user,
            csrf,
            nav,
            notice,
            version: env!("CARGO_PKG_VERSION"),
            asset_version: &ASSET_VERSION,
        }
    }
}

impl Page {
    /// Renders `template` with `status`, setting the CSRF cookie when it was just minted.
    pub(crate) fn render(self, template: &impl Template, status: StatusCode) -> HttpResponse {
        match template.render() {
            Ok(body) => {
                let mut response = HttpResponse::build(status);
                response
                    .content_type("text/html; charset=utf-8")
                    .insert_header((header::CACHE_CONTROL, "no-store"));
                if let Some(cookie) = self.csrf_cookie {
                    response.cookie(cookie);
                }
                response.body(body)
            }
            Err(e) => PageError::Api(ApiError::Internal(anyhow::anyhow!(
                "rendering a template: {e}"
            )))
            .error_response(),
        }
    }
}

/// Where a form goes after it succeeded (POST, then redirect, then GET).
pub(crate) fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// A local path to go back to after logging in; anything else becomes `/`.
pub(crate) fn safe_next(next: &str) -> &str {
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.contains("://");
    if local { next } else { "/" }
}

/// The `cursor` of a paged list as the page's link carries it: none when absent or empty, the
/// error page when it is not one this list handed out.
pub(crate) fn cursor_param(text: Option<&str>) -> Result<Option<kernel::Cursor>, PageError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => kernel::Cursor::parse(t)
            .map(Some)
            .map_err(|m| ApiError::Validation(kernel::FieldErrors::single("cursor", m)).into()),
    }
}

/// How a page fails: a redirect to the login page, or an error page.
#[derive(Debug)]
pub(crate) enum PageError {
    Login(String),
    Api(ApiError),
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PageError::Login(next) => write!(f, "login required for {next}"),
            PageError::Api(e) => e.fmt(f),
        }
    }
}

impl<E: Into<ApiError>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError::Api(e.into())
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    status: u16,
    title: &'static str,
    detail: String,
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::Login(_) => StatusCode::SEE_OTHER,
            PageError::Api(e) => e.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            PageError::Login(next) => {
                let query =
                    serde_urlencoded::to_string([("next", next.as_str())]).unwrap_or_default();
                see_other(&format!("/login?{query}"))
            }
            PageError::Api(e) => {
                if let ApiError::Internal(inner) = e {
                    tracing::error!(error = ?inner, "page failed");
                }
                let problem = e.problem();
                let page = ErrorPage {
                    layout: Layout::new(None, String::new(), "", None),
                    status: problem.status,
                    title: problem.title,
                    detail: if matches!(e, ApiError::Internal(_)) {
                        "Something went wrong on our side. It was logged; please try again.".into()
                    } else {
                        problem.detail
                    },
                };
                let body = page.render().unwrap_or_else(|_| problem.title.to_owned());
                let mut response = HttpResponse::build(self.status_code())
                    .content_type("text/html; charset=utf-8")
                    .body(body);
                // Rendered without knowing who asks; `page_errors` renders it again with the
                // site's header for the signed-in user.
                response.extensions_mut().insert(Shown {
                    title: page.title,
                    detail: page.detail,
                });
                response
            }
        }
    }
}

/// Changes whenever the embedded CSS or JS changes, so browsers fetch the new files.
static ASSET_VERSION: LazyLock<String> = LazyLock::new(assets::version);

/// Unknown paths: a problem document under `/api/`, a page elsewhere.
pub(crate) async fn not_found(req: HttpRequest) -> HttpResponse {
    if http::is_api(req.path()) {
        return http::api_not_found(&req);
    }
    let (layout, page) = page(&req, "").await;
    let body = ErrorPage {
        layout,
        status: 404,
        title: "Page not found",
        detail: "There is nothing at this address. The link may be old, or have a typo.".into(),
    };
    page.render(&body, StatusCode::NOT_FOUND)
}

/// What an error page said, kept on its response so that it can be rendered again with the
/// user's header.
#[derive(Clone)]
pub(crate) struct Shown {
    title: &'static str,
    detail: String,
}

/// The site's page for an error answered on a page's address: as a problem by an extractor (a
/// malformed id in the path, a query or a form that cannot be read, a body too large), or as
/// a page by a handler that could not know who asks (`shown`).
pub(crate) async fn error_status_page(
    req: &HttpRequest,
    status: StatusCode,
    shown: Option<Shown>,
) -> HttpResponse {
    if status == StatusCode::NOT_FOUND {
        return not_found(req.clone()).await;
    }
    if let Some(Shown { title, detail }) = shown {
        let (layout, page) = page(req, "").await;
        let body = ErrorPage {
            layout,
            status: status.as_u16(),
            title,
            detail,
        };
        return page.render(&body, status);
    }
    let (title, detail) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => (
            "Too much to send",
            "That form sent more than this site takes. Shorten what you typed and try again.",
        ),
        s if s.is_client_error() => (
            "That request could not be read",
            "Something in the address or the form is not what this page expects. Go back and try again.",
        ),
        _ => (
            "Something went wrong",
            "Something went wrong on our side. It was logged; please try again.",
        ),
    };
    let (layout, page) = page(req, "").await;
    let body = ErrorPage {
        layout,
        status: status.as_u16(),
        title,
        detail: detail.into(),
    };
    page.render(&body, status)
}

/// The site's page for a method a page's address does not take (a `TRACE`, a `DELETE`, a `GET`
/// of a form's target); the caller adds the `Allow` header.
pub(crate) async fn method_not_allowed(req: &HttpRequest) -> HttpResponse {
    let (layout, page) = page(req, "").await;
    let body = ErrorPage {
        layout,
        status: 405,
        title: "Not allowed here",
        detail:
            "This address does not take that kind of request. Follow a link or a button instead."
                .into(),
    };
    page.render(&body, StatusCode::METHOD_NOT_ALLOWED)
}
