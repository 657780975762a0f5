//! Who may see a page and which forms may change anything, as extractors: a handler names what it
//! needs in its signature (`SignedIn`, `AdminUser`, a `CheckedForm<T>`, or a form of a signed-in
//! user or admin, `UserForm<T>` and `AdminForm<T>`) and never repeats the checks.
//!
//! actix-web polls a handler's extractors together and answers with the first that fails, so a
//! guard and a form given as two arguments decide in no fixed order. `UserForm` and `AdminForm`
//! settle who is asking first and only then check the form: someone whose session ended is sent
//! to log in again rather than told the form expired.

use std::{future::Future, pin::Pin};

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use serde::{Deserialize, de::DeserializeOwned};
use users_api::{Role, User};

use super::PageError;
use crate::http::{self, ApiError};

/// The signed-in user of a page; anyone else is sent to the login page, and back afterwards.
pub(crate) struct SignedIn(pub(crate) User);

/// The signed-in administrator of a page; others go to the login page, or get a 403.
pub(crate) struct AdminUser(pub(crate) User);

/// The signed-in door attendant (or administrator) of a page; others go to the login page, or
/// get a 403.
pub(crate) struct DoorUser(pub(crate) User);

/// A door attendant's (or an administrator's) submitted form, CSRF-checked once they are known.
pub(crate) struct DoorForm<T>(pub(crate) User, pub(crate) T);

/// A submitted form whose CSRF token matches the browser's cookie: `T` is the whole form.
pub(crate) struct CheckedForm<T>(pub(crate) T);

/// A signed-in user's submitted form, CSRF-checked once the user is known.
pub(crate) struct UserForm<T>(pub(crate) User, pub(crate) T);

/// An administrator's submitted form, CSRF-checked once the administrator is known.
pub(crate) struct AdminForm<T>(pub(crate) User, pub(crate) T);

/// A form that carries the CSRF token it was rendered with.
pub(crate) trait CsrfProtected {
    /// The token the form sent back.
    fn csrf_token(&self) -> &str;
}

/// A form with nothing but its CSRF token (a button that changes something).
#[derive(Default, Deserialize)]
#[serde(default)]
pub(crate) struct CsrfOnly {
    pub(crate) csrf_token: String,
}

/// Implements [`CsrfProtected`] for forms with a `csrf_token` field.
macro_rules! csrf_protected {
    ($($form:ty),+ $(,)?) => {
        $(impl $crate::pages::guard::CsrfProtected for $form {
            fn csrf_token(&self) -> &str {
                &self.csrf_token
            }
        })+
    };
}
pub(crate) use csrf_protected;

csrf_protected!(CsrfOnly);

type Guarded<T> = Pin<Box<dyn Future<Output = Result<T, PageError>>>>;

fn not_an_admin() -> PageError {
    PageError::Api(ApiError::Forbidden(
        "this page is for administrators".into(),
    ))
}

fn not_at_the_door() -> PageError {
    PageError::Api(ApiError::Forbidden(
        "this page is for door staff and administrators".into(),
    ))
}

async fn at_the_door(req: &HttpRequest) -> Result<User, PageError> {
    let user = signed_in(req).await?;
    if users_api::Actor::of(&user).works_the_door() {
        Ok(user)
    } else {
        Err(not_at_the_door())
    }
}

fn expired_form() -> PageError {
    PageError::Api(ApiError::Forbidden(
        "this form expired or came from another site; reload the page and try again".into(),
    ))
}

async fn signed_in(req: &HttpRequest) -> Result<User, PageError> {
    match http::current_user(req).await? {
        Some(user) => Ok(user),
        None => Err(PageError::Login(
            req.uri()
                .path_and_query()
                .map_or("/".into(), |p| p.to_string()),
        )),
    }
}

impl FromRequest for SignedIn {
    type Error = PageError;
    type Future = Guarded<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { signed_in(&req).await.map(SignedIn) })
    }
}

impl FromRequest for AdminUser {
    type Error = PageError;
    type Future = Guarded<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let user = signed_in(&req).await?;
            if user.role == Role::Admin {
                Ok(AdminUser(user))
            } else {
                Err(not_an_admin())
            }
        })
    }
}

impl FromRequest for DoorUser {
    type Error = PageError;
    type Future = Guarded<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { at_the_door(&req).await.map(DoorUser) })
    }
}

impl<T: DeserializeOwned + CsrfProtected + 'static> FromRequest for DoorForm<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let form = web::Form::<T>::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let user = at_the_door(&req).await?;
            Ok(DoorForm(user, checked(&req, form).await?))
        })
    }
}

impl<T: DeserializeOwned + CsrfProtected + 'static> FromRequest for CheckedForm<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let form = web::Form::<T>::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move { checked(&req, form).await.map(CheckedForm) })
    }
}

/// The form, once read, if its CSRF token is the browser's.
async fn checked<T: DeserializeOwned + CsrfProtected + 'static>(
    req: &HttpRequest,
    form: <web::Form<T> as FromRequest>::Future,
) -> Result<T, actix_web::Error> {
    let web::Form(form) = form.await?;
    if http::verify_csrf(req, form.csrf_token()) {
        Ok(form)
    } else {
        Err(expired_form().into())
    }
}

impl<T: DeserializeOwned + CsrfProtected + 'static> FromRequest for UserForm<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let form = web::Form::<T>::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let user = signed_in(&req).await?;
            Ok(UserForm(user, checked(&req, form).await?))
        })
    }
}

impl<T: DeserializeOwned + CsrfProtected + 'static> FromRequest for AdminForm<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let form = web::Form::<T>::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let user = signed_in(&req).await?;
            if user.role != Role::Admin {
                return Err(not_an_admin().into());
            }
            Ok(AdminForm(user, checked(&req, form).await?))
        })
    }
}
