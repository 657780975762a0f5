//! The users part of the JSON API: sign-up, sessions, profiles, the admin's user list.

use actix_web::{HttpRequest, HttpResponse, http::header::LOCATION, web};
use serde::Deserialize;
use users_api::{
    Credentials, LogIn, NewUser, ProfileChange, Registration, Role, User, UserFilter, UserPatch,
    UsersError,
};
use uuid::Uuid;

use super::{
    auth::{self, Admin, Authenticated},
    context::RequestContext,
    extract::{Json, Query},
    problem::{ApiError, Problem},
};
use crate::state::AppState;

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/api/users")
            .route(web::post().to(register))
            .route(web::get().to(list)),
    )
    .service(
        web::resource("/api/users/{id}")
            .route(web::get().to(get))
            .route(web::patch().to(update)),
    )
    .service(web::resource("/api/users/{id}/deactivate").route(web::post().to(deactivate)))
    .service(web::resource("/api/users/{id}/role").route(web::post().to(set_role)))
    .service(
        web::resource("/api/session")
            .route(web::post().to(log_in))
            .route(web::delete().to(log_out)),
    )
    .service(web::resource("/api/me").route(web::get().to(me)));
}

/// A page of users.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct UserList {
    items: Vec<User>,
    /// Pass as `cursor` for the next page; absent on the last page.
    next_cursor: Option<String>,
}

/// Paging parameters.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PageQuery {
    /// 1 to 200; default 50.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// From the previous page's `next_cursor`.
    cursor: Option<String>,
}

/// Register a customer account.
#[utoipa::path(post, path = "/api/users", tag = "users", request_body = NewUser,
    responses((status = 201, body = User), (status = 409, description = "email taken", body = Problem),
              (status = 422, body = Problem)))]
pub(crate) async fn register(
    state: web::Data<AppState>,
    ctx: RequestContext,
    Json(body): Json<NewUser>,
) -> Result<HttpResponse, ApiError> {
    let registration = Registration::try_from(body).map_err(ApiError::Validation)?;
    let user = state
        .modules
        .users()
        .register(ctx.trace(), registration)
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/api/users/{}", user.id)))
        .json(user))
}

/// Log in; sets the `bo_session` cookie.
#[utoipa::path(post, path = "/api/session", tag = "users", request_body = Credentials,
    responses((status = 204, description = "logged in (any session this client held before is ended); Set-Cookie: bo_session"), (status = 401, body = Problem),
              (status = 403, description = "account deactivated", body = Problem), (status = 422, body = Problem),
              (status = 429, description = "too many failed logins for this account or from this address; Retry-After says when to try again", body = Problem),
              (status = 503, description = "every password check is taken; Retry-After: 1", body = Problem)))]
pub(crate) async fn log_in(
    req: HttpRequest,
    state: web::Data<AppState>,
    Json(body): Json<Credentials>,
) -> Result<HttpResponse, ApiError> {
    let attempt = LogIn::try_from(body)
        .map_err(ApiError::Validation)?
        .from_client(auth::client_address(&req));
    let session = state.modules.users().log_in(attempt).await?;
    auth::end_previous_session(&req, state.modules.users()).await;
    let max_age = session
        .expires_at
        .as_micros()
        .saturating_sub(state.modules.now().as_micros())
        / 1_000_000;
    Ok(HttpResponse::NoContent()
        .cookie(auth::session_cookie(&req, &session.token, max_age))
        .finish())
}

/// Log out; ends the session and clears the cookie.
#[utoipa::path(delete, path = "/api/session", tag = "users",
    responses((status = 204, description = "logged out"), (status = 401, body = Problem)))]
pub(crate) async fn log_out(
    req: HttpRequest,
    state: web::Data<AppState>,
    _user: Authenticated,
) -> Result<HttpResponse, ApiError> {
    auth::end_session(&req, state.modules.users()).await?;
    Ok(HttpResponse::NoContent()
        .cookie(auth::clear_session_cookie(&req))
        .finish())
}

/// The caller.
#[utoipa::path(get, path = "/api/me", tag = "users", responses((status = 200, body = User), (status = 401, body = Problem)))]
pub(crate) async fn me(user: Authenticated) -> HttpResponse {
    HttpResponse::Ok().json(user.0)
}

/// All users (admins).
#[utoipa::path(get, path = "/api/users", tag = "users", params(PageQuery),
    responses((status = 200, body = UserList), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub(crate) async fn list(
    state: web::Data<AppState>,
    admin: Admin,
    Query(q): Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = UserFilter::parse(q.limit, q.cursor.as_deref()).map_err(ApiError::Validation)?;
    let page = state.modules.users().list(&admin.actor(), filter).await?;
    Ok(HttpResponse::Ok().json(UserList {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}

/// One user (themselves, or any for admins).
#[utoipa::path(get, path = "/api/users/{id}", tag = "users", params(("id" = Uuid, Path)),
    responses((status = 200, body = User), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(crate) async fn get(
    state: web::Data<AppState>,
    user: Authenticated,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(state.modules.users().get(&user.actor(), *id).await?))
}

/// Change email and/or name; an email change emits `UserEmailChanged`.
#[utoipa::path(patch, path = "/api/users/{id}", tag = "users", params(("id" = Uuid, Path)), request_body = UserPatch,
    responses((status = 200, body = User), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn update(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: Authenticated,
    id: web::Path<Uuid>,
    Json(patch): Json<UserPatch>,
) -> Result<HttpResponse, ApiError> {
    // Who may change this account is decided before what they sent is read: a stranger learns
    // nothing from field errors. (The module decides again; this only orders the answers.)
    if !user.actor().may_access(*id) {
        return Err(UsersError::Forbidden.into());
    }
    let change = ProfileChange::try_from(patch).map_err(ApiError::Validation)?;
    let updated = state
        .modules
        .users()
        .update(ctx.trace(), &user.actor(), *id, change)
        .await?;
    Ok(HttpResponse::Ok().json(updated))
}

/// Deactivate an account (themselves, or any for admins); it can no longer log in or book.
#[utoipa::path(post, path = "/api/users/{id}/deactivate", tag = "users", params(("id" = Uuid, Path)),
    responses((status = 200, body = User), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, description = "last admin", body = Problem)))]
pub(crate) async fn deactivate(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: Authenticated,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(
        state
            .modules
            .users()
            .deactivate(ctx.trace(), &user.actor(), *id)
            .await?,
    ))
}

/// A role to give.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub(crate) struct RoleChange {
    /// `customer`, `door` (checks tickets in at the door, nothing else) or `admin`.
    #[schema(required = true, pattern = "^(customer|door|admin)$")]
    role: String,
}

/// Give a user another role (admins): door staff check tickets in; the last active admin stays
/// one.
#[utoipa::path(post, path = "/api/users/{id}/role", tag = "users", params(("id" = Uuid, Path)), request_body = RoleChange,
    responses((status = 200, body = User), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, description = "the last active admin", body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn set_role(
    state: web::Data<AppState>,
    ctx: RequestContext,
    admin: Admin,
    id: web::Path<Uuid>,
    Json(body): Json<RoleChange>,
) -> Result<HttpResponse, ApiError> {
    let role = Role::parse(&body.role).ok_or_else(|| {
        ApiError::Validation(kernel::FieldErrors::single(
            "role",
            "must be customer, door or admin",
        ))
    })?;
    Ok(HttpResponse::Ok().json(
        state
            .modules
            .users()
            .set_role(ctx.trace(), &admin.actor(), *id, role)
            .await?,
    ))
}
