//! Sign-up, log-in, log-out, the profile page and the admin's user list.

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use askama::Template;
use serde::Deserialize;
use users_api::{
    Actor, Credentials, LogIn, NewUser, ProfileChange, Registration, User, UserFilter, UserPatch,
    UsersError,
};
use uuid::Uuid;

use super::{
    FormField, Layout, PageError,
    forms::attach_errors,
    guard::{AdminForm, AdminUser, CheckedForm, CsrfOnly, SignedIn, UserForm},
    page, page_for, safe_next, see_other,
};
use crate::{
    http::{self, ApiError, RequestContext},
    state::AppState,
};

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/signup")
            .route(web::get().to(signup_page))
            .route(web::post().to(signup)),
    );
    cfg.service(
        web::resource("/login")
            .route(web::get().to(login_page))
            .route(web::post().to(login)),
    );
    cfg.service(web::resource("/logout").route(web::post().to(logout)));
    cfg.service(
        web::resource("/account")
            .route(web::get().to(account_page))
            .route(web::post().to(update_account)),
    );
    cfg.service(web::resource("/account/deactivate").route(web::post().to(deactivate_self)));
    cfg.service(web::resource("/admin/users").route(web::get().to(users_page)));
    cfg.service(
        web::resource("/admin/users/{id}/deactivate").route(web::post().to(deactivate_user)),
    );
    cfg.service(web::resource("/admin/users/{id}/role").route(web::post().to(set_role)));
}

#[derive(Template)]
#[template(path = "signup.html")]
struct SignupPage {
    layout: Layout,
    fields: Vec<FormField>,
    form_error: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct SignupForm {
    csrf_token: String,
    email: String,
    full_name: String,
    password: String,
    /// The browser's own zone, which the page's script fills in (UTC without it).
    time_zone: String,
}
super::guard::csrf_protected!(SignupForm);

fn signup_fields(form: &SignupForm) -> Vec<FormField> {
    vec![
        FormField::new("full_name", "Full name", "text")
            .value(&form.full_name)
            .autocomplete("name"),
        FormField::new("email", "Email", "email")
            .value(&form.email)
            .autocomplete("email"),
        FormField::new("password", "Password", "password")
            .autocomplete("new-password")
            .help("At least 8 characters.")
            .attr("minlength", "8"),
    ]
}

async fn signup_page(req: HttpRequest) -> Result<HttpResponse, PageError> {
    let (layout, page) = page(&req, "signup").await;
    if layout.user.is_some() {
        return Ok(see_other("/"));
    }
    let fields = signup_fields(&SignupForm::default());
    Ok(page.render(
        &SignupPage {
            layout,
            fields,
            form_error: None,
        },
        StatusCode::OK,
    ))
}

async fn signup(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: RequestContext,
    CheckedForm(form): CheckedForm<SignupForm>,
) -> Result<HttpResponse, PageError> {
    let users = state.modules.users();
    let input = NewUser {
        email: form.email.clone(),
        full_name: form.full_name.clone(),
        password: form.password.clone(),
        // A zone the browser named that the database does not know is no reason to refuse a
        // sign-up: the account starts in UTC and the customer can change it.
        time_zone: kernel::Zone::parse(form.time_zone.trim())
            .ok()
            .map(|z| z.name().to_owned()),
    };
    let registered = match Registration::try_from(input) {
        Ok(registration) => users.register(ctx.trace(), registration).await,
        Err(errors) => Err(UsersError::Validation(errors)),
    };
    match registered {
        Ok(user) => {
            let session = users
                .log_in(LogIn {
                    email: user.email,
                    password: form.password.clone(),
                    client: http::client_address(&req),
                })
                .await?;
            http::end_previous_session(&req, users).await;
            let mut response = see_other("/?done=welcome");
            response
                .add_cookie(&http::session_cookie(&req, &session.token, 14 * 24 * 3600))
                .ok();
            Ok(response)
        }
        Err(e) => {
            let error = ApiError::from(e);
            let Some(errors) = error.field_errors().cloned() else {
                return Err(error.into());
            };
            let (layout, page) = page_for(&req, "signup", None);
            let mut fields = signup_fields(&SignupForm {
                password: String::new(),
                ..form
            });
            let unclaimed = attach_errors(&mut fields, &errors);
            let status = actix_web::ResponseError::status_code(&error);
            Ok(page.render(
                &SignupPage {
                    layout,
                    fields,
                    form_error: unclaimed.first().cloned(),
                },
                status,
            ))
        }
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    fields: Vec<FormField>,
    form_error: Option<String>,
    next: String,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct LoginForm {
    csrf_token: String,
    email: String,
    password: String,
    next: String,
}
super::guard::csrf_protected!(LoginForm);

fn login_fields(email: &str) -> Vec<FormField> {
    vec![
        FormField::new("email", "Email", "email")
            .value(email)
            .autocomplete("username"),
        FormField::new("password", "Password", "password").autocomplete("current-password"),
    ]
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn login_page(
    req: HttpRequest,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, PageError> {
    let (layout, page) = page(&req, "login").await;
    let next = safe_next(query.next.as_deref().unwrap_or("/")).to_owned();
    if layout.user.is_some() {
        return Ok(see_other(&next));
    }
    Ok(page.render(
        &LoginPage {
            layout,
            fields: login_fields(""),
            form_error: None,
            next,
        },
        StatusCode::OK,
    ))
}

async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    CheckedForm(form): CheckedForm<LoginForm>,
) -> Result<HttpResponse, PageError> {
    let next = safe_next(&form.next).to_owned();
    let attempt = LogIn::try_from(Credentials {
        email: form.email.clone(),
        password: form.password.clone(),
    });
    let logged_in = match attempt {
        Ok(attempt) => {
            let attempt = attempt.from_client(http::client_address(&req));
            state.modules.users().log_in(attempt).await
        }
        Err(errors) => Err(UsersError::Validation(errors)),
    };
    match logged_in {
        Ok(session) => {
            http::end_previous_session(&req, state.modules.users()).await;
            let mut response = see_other(&next);
            response
                .add_cookie(&http::session_cookie(&req, &session.token, 14 * 24 * 3600))
                .ok();
            Ok(response)
        }
        Err(
            e @ (UsersError::InvalidCredentials
            | UsersError::Deactivated
            | UsersError::Throttled { .. }
            | UsersError::Validation(_)),
        ) => {
            let (layout, page) = page_for(&req, "login", None);
            let mut fields = login_fields(&form.email);
            let (message, status) = match &e {
                UsersError::Validation(errors) => {
                    attach_errors(&mut fields, errors);
                    (None, StatusCode::UNPROCESSABLE_ENTITY)
                }
                UsersError::Deactivated => (
                    Some("This account is deactivated.".to_owned()),
                    StatusCode::FORBIDDEN,
                ),
                UsersError::Throttled {
                    retry_after_seconds,
                } => (
                    Some(format!(
                        "Too many failed logins. Try again in {}.",
                        wait_in_words(*retry_after_seconds)
                    )),
                    StatusCode::TOO_MANY_REQUESTS,
                ),
                _ => (
                    Some("Email or password is wrong.".to_owned()),
                    StatusCode::UNAUTHORIZED,
                ),
            };
            let mut response = page.render(
                &LoginPage {
                    layout,
                    fields,
                    form_error: message,
                    next,
                },
                status,
            );
            if let UsersError::Throttled {
                retry_after_seconds,
            } = e
                && let Ok(value) = retry_after_seconds.to_string().parse()
            {
                response
                    .headers_mut()
                    .insert(actix_web::http::header::RETRY_AFTER, value);
            }
            Ok(response)
        }
        Err(e) => Err(e.into()),
    }
}

async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    _: CheckedForm<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    http::end_session(&req, state.modules.users()).await?;
    let mut response = see_other("/?done=logged-out");
    response.add_cookie(&http::clear_session_cookie(&req)).ok();
    Ok(response)
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    layout: Layout,
    user: User,
    member_since: String,
    fields: Vec<FormField>,
    form_error: Option<String>,
    zones: Vec<String>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct AccountForm {
    csrf_token: String,
    email: String,
    full_name: String,
    time_zone: String,
}
super::guard::csrf_protected!(AccountForm);

fn account_fields(email: &str, full_name: &str, time_zone: &str) -> Vec<FormField> {
    vec![
        FormField::new("full_name", "Full name", "text")
            .value(full_name)
            .autocomplete("name"),
        FormField::new("email", "Email", "email")
            .value(email)
            .autocomplete("email"),
        FormField::new("time_zone", "Your time zone", "text")
            .value(time_zone)
            .attr("list", "time-zones")
            .attr("maxlength", "64")
            .help("Your bookings, payments and ledger are shown in it (a show's start is shown in its venue's). An IANA name, like Europe/Paris."),
    ]
}

fn member_since(user: &User) -> String {
    super::format::date(user.created_at, &super::format::zone_of(Some(user)))
}

async fn account_page(
    req: HttpRequest,
    SignedIn(user): SignedIn,
) -> Result<HttpResponse, PageError> {
    let (layout, page) = page_for(&req, "account", Some(user.clone()));
    let fields = account_fields(&user.email, &user.full_name, &user.time_zone);
    let member_since = member_since(&user);
    Ok(page.render(
        &AccountPage {
            layout,
            user,
            member_since,
            fields,
            form_error: None,
            zones: kernel::Zone::names(),
        },
        StatusCode::OK,
    ))
}

async fn update_account(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: RequestContext,
    UserForm(user, form): UserForm<AccountForm>,
) -> Result<HttpResponse, PageError> {
    let patch = UserPatch {
        email: Some(form.email.clone()),
        full_name: Some(form.full_name.clone()),
        time_zone: Some(form.time_zone.trim().to_owned()),
    };
    let updated = match ProfileChange::try_from(patch) {
        Ok(change) => {
            state
                .modules
                .users()
                .update(ctx.trace(), &Actor::of(&user), user.id, change)
                .await
        }
        Err(errors) => Err(UsersError::Validation(errors)),
    };
    match updated {
        Ok(_) => Ok(see_other("/account?done=saved")),
        Err(e) => {
            let error = ApiError::from(e);
            let Some(errors) = error.field_errors().cloned() else {
                return Err(error.into());
            };
            let (layout, page) = page_for(&req, "account", Some(user.clone()));
            let mut fields = account_fields(&form.email, &form.full_name, &form.time_zone);
            let unclaimed = attach_errors(&mut fields, &errors);
            let member_since = member_since(&user);
            let status = actix_web::ResponseError::status_code(&error);
            Ok(page.render(
                &AccountPage {
                    layout,
                    user,
                    member_since,
                    fields,
                    form_error: unclaimed.first().cloned(),
                    zones: kernel::Zone::names(),
                },
                status,
            ))
        }
    }
}

async fn deactivate_self(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: RequestContext,
    UserForm(user, _): UserForm<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    state
        .modules
        .users()
        .deactivate(ctx.trace(), &Actor::of(&user), user.id)
        .await?;
    let mut response = see_other("/?done=deactivated");
    response.add_cookie(&http::clear_session_cookie(&req)).ok();
    Ok(response)
}

struct UserRow {
    user: User,
    joined: String,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    layout: Layout,
    rows: Vec<UserRow>,
    next_cursor: Option<String>,
}

#[derive(Deserialize)]
struct CursorQuery {
    cursor: Option<String>,
}

async fn users_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<CursorQuery>,
    AdminUser(admin): AdminUser,
) -> Result<HttpResponse, PageError> {
    let list = state
        .modules
        .users()
        .list(
            &Actor::of(&admin),
            UserFilter::parse(None, query.cursor.as_deref()).map_err(ApiError::Validation)?,
        )
        .await?;
    let rows = list
        .items
        .into_iter()
        .map(|user| UserRow {
            joined: member_since(&user),
            user,
        })
        .collect();
    let (layout, page) = page_for(&req, "admin-users", Some(admin));
    Ok(page.render(
        &UsersPage {
            layout,
            rows,
            next_cursor: list.next_cursor,
        },
        StatusCode::OK,
    ))
}

async fn deactivate_user(
    state: web::Data<AppState>,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    AdminForm(admin, _): AdminForm<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    state
        .modules
        .users()
        .deactivate(ctx.trace(), &Actor::of(&admin), *id)
        .await?;
    Ok(see_other("/admin/users?done=deactivated"))
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct RoleForm {
    csrf_token: String,
    role: String,
}
super::guard::csrf_protected!(RoleForm);

async fn set_role(
    state: web::Data<AppState>,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    AdminForm(admin, form): AdminForm<RoleForm>,
) -> Result<HttpResponse, PageError> {
    let role = users_api::Role::parse(&form.role).ok_or_else(|| {
        ApiError::Validation(kernel::FieldErrors::single(
            "role",
            "must be customer, door or admin",
        ))
    })?;
    state
        .modules
        .users()
        .set_role(ctx.trace(), &Actor::of(&admin), *id, role)
        .await?;
    Ok(see_other("/admin/users?done=role-changed"))
}

/// "45 seconds", "3 minutes": how long to wait, as a person says it.
fn wait_in_words(seconds: u64) -> String {
    match seconds {
        0..=1 => "a second".to_owned(),
        2..=90 => format!("{seconds} seconds"),
        _ => format!("{} minutes", seconds.div_ceil(60)),
    }
}
