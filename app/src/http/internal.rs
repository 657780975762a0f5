//! The internal API: the calls other processes of a split deployment make to the modules this
//! process hosts (`POST /internal/<module>/<operation>`, the wire of [`crate::remote`]), and the
//! harness's clock. Every route needs the service token; without it, or with a wrong one, the
//! answer is 401 and nothing runs (a request too large or unreadable to route is refused before
//! the token is looked at).

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::{
    remote::{Fault, bookings, ops, payments, reporting, users},
    settings::ModuleName,
    state::AppState,
};

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/internal/clock", web::post().to(move_clock));
    cfg.service(
        web::resource("/internal/{module}/{operation}")
            .app_data(web::PayloadConfig::new(4 * 1024 * 1024))
            .route(web::post().to(serve))
            .route(web::to(HttpResponse::MethodNotAllowed)),
    );
}

/// True when the request carries this process's service token.
fn authorized(req: &HttpRequest, state: &AppState) -> bool {
    let Some(expected) = state.settings.deployment.service_token.as_deref() else {
        return false;
    };
    req.headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|given| bool::from(given.as_bytes().ct_eq(expected.as_bytes())))
}

/// Serves one call to a module hosted here.
async fn serve(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> HttpResponse {
    if !authorized(&req, &state) {
        tracing::warn!(peer = ?req.peer_addr(), path = %req.path(),
            "internal API call without the service token refused");
        return HttpResponse::Unauthorized()
            .content_type("text/plain")
            .body("the internal API needs the service token");
    }
    let (module, operation) = path.into_inner();
    let Some(module) = ModuleName::parse(&module) else {
        return HttpResponse::NotFound().body("no such module");
    };
    let modules = &state.modules;
    if !modules.hosts(module) {
        return HttpResponse::NotFound().body(format!("{module} is not hosted by this process"));
    }
    let result = match ops::serve(modules.ops(module), &operation, &body).await {
        Some(result) => result,
        None => match module {
            ModuleName::Users => users::serve(modules.users(), &operation, &body).await,
            ModuleName::Bookings => bookings::serve(modules.bookings(), &operation, &body).await,
            ModuleName::Payments => payments::serve(modules.payments(), &operation, &body).await,
            ModuleName::Reporting => reporting::serve(modules.reporting(), &operation, &body).await,
        },
    };
    match result {
        Ok(bytes) => HttpResponse::Ok()
            .content_type("application/json")
            .body(bytes),
        Err(Fault::Unknown(op)) => {
            HttpResponse::NotFound().body(format!("{module} has no operation {op}"))
        }
        Err(Fault::BadArguments(why)) => {
            HttpResponse::BadRequest().body(format!("{module}/{operation}: {why}"))
        }
        Err(Fault::Internal(why)) => {
            tracing::error!(%module, %operation, error = %why, "internal API answer failed");
            HttpResponse::InternalServerError().body(why)
        }
    }
}

/// How far the harness of a split deployment moves one process's clock.
#[derive(Deserialize)]
struct ClockMove {
    advance_seconds: f64,
}

/// Moves this process's adjustable clock (a test harness driving every process of a split
/// deployment at once), answering the time after the move; 404 on the real clock.
async fn move_clock(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<ClockMove>,
) -> HttpResponse {
    if !authorized(&req, &state) {
        return HttpResponse::Unauthorized().body("the internal API needs the service token");
    }
    let Some(control) = &state.clock else {
        return HttpResponse::NotFound().body("this process runs on the real clock");
    };
    let seconds = body.advance_seconds;
    if !(0.0..=365.0 * 86_400.0).contains(&seconds) {
        return HttpResponse::BadRequest().body("advance_seconds must be 0 to a year");
    }
    if seconds > 0.0 {
        control.advance(Duration::from_secs_f64(seconds));
    }
    HttpResponse::Ok().json(serde_json::json!({ "now": state.modules.now() }))
}
