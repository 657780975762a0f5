//! Who is calling: the session cookie (or a bearer token) resolved through the users module once
//! per request, role checks as extractors, session and CSRF cookies.

use std::{future::Future, pin::Pin};

use actix_web::{
    FromRequest, HttpMessage, HttpRequest,
    cookie::{Cookie, SameSite, time::Duration as CookieDuration},
    dev::Payload,
    web,
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use subtle::ConstantTimeEq;
use users_api::{Actor, User, UsersApi};

use super::problem::ApiError;
use crate::{settings::SecureCookies, state::AppState};

/// Name of the session cookie.
pub(crate) const SESSION_COOKIE: &str = "bo_session";

/// Where a request comes from, for counting failed logins: the TCP peer (behind a reverse
/// proxy that is the proxy, which then counts as one client; forwarded headers are not trusted,
/// since any client can send them).
pub(crate) fn client_address(req: &HttpRequest) -> Option<std::net::IpAddr> {
    req.peer_addr().map(|a| a.ip())
}

/// Ends the session the request's cookie names (a logout), in the users module and in this
/// process's memory of recent admins.
pub(crate) async fn end_session(
    req: &HttpRequest,
    users: &dyn UsersApi,
) -> Result<(), users_api::UsersError> {
    let Some(c) = req.cookie(SESSION_COOKIE) else {
        return Ok(());
    };
    if let Some(state) = req.app_data::<web::Data<AppState>>() {
        state.recent_admins.forget(c.value());
    }
    users.log_out(c.value()).await
}

/// Ends the session this browser held before a new login, so that logging in as someone else
/// leaves no earlier session valid.
pub(crate) async fn end_previous_session(req: &HttpRequest, users: &dyn UsersApi) {
    if let Err(e) = end_session(req, users).await {
        tracing::warn!(error = %e, "the previous session could not be ended");
    }
}
/// Name of the CSRF double-submit cookie.
pub(crate) const CSRF_COOKIE: &str = "bo_csrf";

/// The caller's session resolved to a user, cached for the rest of the request.
#[derive(Clone)]
struct Resolved(Option<User>);

fn session_token(req: &HttpRequest) -> Option<String> {
    if let Some(c) = req.cookie(SESSION_COOKIE) {
        return Some(c.value().to_owned());
    }
    req.headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned())
}

/// The user behind the request's session, if any.
pub(crate) async fn current_user(req: &HttpRequest) -> Result<Option<User>, ApiError> {
    if let Some(Resolved(user)) = req.extensions().get::<Resolved>() {
        return Ok(user.clone());
    }
    let user = match (session_token(req), req.app_data::<web::Data<AppState>>()) {
        (Some(token), Some(state)) => match state.modules.users().authenticate(&token).await {
            Ok(user) => {
                if let Some(user) = &user {
                    state.recent_admins.saw(&token, user);
                }
                user
            }
            Err(e) => match (ApiError::from(e), state.recent_admins.recall(&token)) {
                (ApiError::Unavailable(why), Some(admin)) => {
                    tracing::warn!(user_id = %admin.id, %why,
                        "users cannot answer: an administrator seen lately is recognized");
                    Some(admin)
                }
                (e, _) => return Err(e),
            },
        },
        _ => None,
    };
    req.extensions_mut().insert(Resolved(user.clone()));
    Ok(user)
}

/// Middleware: resolves the caller of an API request before its handler's extractors run, so
/// that a permission check (`Admin`, `Authenticated`) is decided from the start and answers
/// before the body or the query is validated: a customer posting a bad show to an admin route
/// gets 403, not the show's field errors. Requests without a session cost nothing here.
pub(crate) async fn resolve_caller(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let personal = req.path().starts_with("/api/") && session_token(req.request()).is_some();
    if personal {
        // A failure (users down) is not cached: the extractor that needs the user asks again
        // and answers it.
        let _ = current_user(req.request()).await;
    }
    let mut res = next.call(req).await?;
    // What a session's request answers is that person's: no shared cache may keep it.
    if personal {
        let headers = res.headers_mut();
        if !headers.contains_key(actix_web::http::header::CACHE_CONTROL) {
            headers.insert(
                actix_web::http::header::CACHE_CONTROL,
                actix_web::http::header::HeaderValue::from_static("no-store"),
            );
        }
        headers.append(
            actix_web::http::header::VARY,
            actix_web::http::header::HeaderValue::from_static("Cookie"),
        );
    }
    Ok(res)
}

/// A logged-in user; 401 otherwise.
pub(crate) struct Authenticated(pub(crate) User);

impl Authenticated {
    pub(crate) fn actor(&self) -> Actor {
        Actor::of(&self.0)
    }
}

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            current_user(&req)
                .await?
                .map(Authenticated)
                .ok_or(ApiError::Unauthenticated)
        })
    }
}

/// A logged-in admin; 401 or 403 otherwise.
pub(crate) struct Admin(pub(crate) User);

impl Admin {
    pub(crate) fn actor(&self) -> Actor {
        Actor::of(&self.0)
    }
}

impl FromRequest for Admin {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            permitted(&req, Actor::is_admin, "this needs the admin role")
                .await
                .map(Admin)
        })
    }
}

/// The caller, if signed in (401 otherwise) and `may` lets them in (403 with `refusal`
/// otherwise).
async fn permitted(
    req: &HttpRequest,
    may: fn(&Actor) -> bool,
    refusal: &'static str,
) -> Result<User, ApiError> {
    let user = current_user(req).await?.ok_or(ApiError::Unauthenticated)?;
    if may(&Actor::of(&user)) {
        Ok(user)
    } else {
        Err(ApiError::Forbidden(refusal.into()))
    }
}

/// A logged-in member of the door staff (or an admin); 401 or 403 otherwise.
pub(crate) struct DoorStaff(pub(crate) User);

impl DoorStaff {
    pub(crate) fn actor(&self) -> Actor {
        Actor::of(&self.0)
    }
}

impl FromRequest for DoorStaff {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            permitted(
                &req,
                Actor::works_the_door,
                "this needs the door or admin role",
            )
            .await
            .map(DoorStaff)
        })
    }
}

fn secure(req: &HttpRequest) -> bool {
    let policy = req
        .app_data::<web::Data<AppState>>()
        .map_or(SecureCookies::Auto, |s| s.settings.server.secure_cookies);
    match policy {
        SecureCookies::Always => true,
        SecureCookies::Never => false,
        SecureCookies::Auto => req.connection_info().scheme() == "https",
    }
}

/// The session cookie for `token`: HttpOnly, SameSite=Lax, Secure over TLS.
pub(crate) fn session_cookie(req: &HttpRequest, token: &str, max_age_secs: i64) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, token.to_owned())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure(req))
        .max_age(CookieDuration::seconds(max_age_secs))
        .finish()
}

/// A cookie that deletes the session cookie.
pub(crate) fn clear_session_cookie(req: &HttpRequest) -> Cookie<'static> {
    let mut c = Cookie::build(SESSION_COOKIE, "")
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure(req))
        .finish();
    c.make_removal();
    c
}

/// The CSRF token of this browser, and the cookie to set when it is new.
pub(crate) struct Csrf {
    pub(crate) token: String,
    pub(crate) new_cookie: Option<Cookie<'static>>,
}

/// The browser's CSRF token (double-submit cookie), minting one when absent.
pub(crate) fn csrf(req: &HttpRequest) -> Csrf {
    if let Some(c) = req.cookie(CSRF_COOKIE).filter(|c| c.value().len() == 43) {
        return Csrf {
            token: c.value().to_owned(),
            new_cookie: None,
        };
    }
    let mut bytes = [0u8; 32];
    if getrandom::fill(&mut bytes).is_err() {
        // No randomness: fail closed, every form will be refused.
        return Csrf {
            token: String::new(),
            new_cookie: None,
        };
    }
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let cookie = Cookie::build(CSRF_COOKIE, token.clone())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure(req))
        .finish();
    Csrf {
        token,
        new_cookie: Some(cookie),
    }
}

/// True when the form's token matches the browser's CSRF cookie.
pub(crate) fn verify_csrf(req: &HttpRequest, submitted: &str) -> bool {
    match req.cookie(CSRF_COOKIE) {
        Some(c) if !c.value().is_empty() => c.value().as_bytes().ct_eq(submitted.as_bytes()).into(),
        _ => false,
    }
}
