//! Operations endpoints: `/health` (every module's status and schema version) and `/metrics`
//! (Prometheus text, loopback only).

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::{
    auth::Admin,
    extract::Json,
    problem::{ApiError, Problem},
};
use bench::ProcessStats;

use crate::{
    modules::{DeploymentHealth, ModuleHealth},
    state::AppState,
};

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/health", web::get().to(health))
        .route("/metrics", web::get().to(metrics))
        .route(
            "/api/admin/modules/{module}/availability",
            web::put().to(set_availability),
        )
        .route("/api/admin/clock", web::post().to(advance_clock));
}

/// How far to move the clock.
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct ClockMove {
    /// Seconds to move forward: more than 0, at most a year.
    #[schema(exclusive_minimum = 0, maximum = 31_536_000)]
    advance_seconds: f64,
}

/// The server's time after a move.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ClockReading {
    now: kernel::Timestamp,
}

/// Move the server's clock forward (admins; only on a server started with
/// `--adjustable-clock`, for tests of the real binary: deadlines and timers then come at once).
#[utoipa::path(post, path = "/api/admin/clock", tag = "operations", request_body = ClockMove,
    responses((status = 200, body = ClockReading), (status = 403, body = Problem),
              (status = 404, description = "the server runs on the real clock", body = Problem),
              (status = 422, body = Problem)))]
pub(crate) async fn advance_clock(
    state: web::Data<AppState>,
    admin: Admin,
    Json(body): Json<ClockMove>,
) -> Result<HttpResponse, ApiError> {
    let Some(control) = &state.clock else {
        return Err(ApiError::NotFound("adjustable clock"));
    };
    let seconds = body.advance_seconds;
    if !(seconds > 0.0 && seconds <= 365.0 * 86_400.0) {
        return Err(ApiError::Validation(kernel::FieldErrors::single(
            "advance_seconds",
            "must be more than 0 and at most a year",
        )));
    }
    control.advance(std::time::Duration::from_secs_f64(seconds));
    tracing::warn!(seconds, admin = %admin.0.email, "clock moved forward");
    Ok(HttpResponse::Ok().json(ClockReading {
        now: state.modules.now(),
    }))
}

/// The application's health.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct HealthReport {
    /// `ok` when every module is up, `degraded` otherwise (the rest keeps serving).
    status: &'static str,
    /// The build's version.
    version: &'static str,
    /// Seconds since start.
    uptime_seconds: u64,
    /// Each module, hosted here or served by another process.
    modules: Vec<ModuleHealth>,
    /// What this process hosts and the transport between processes.
    deployment: DeploymentHealth,
    /// The server process's memory and CPU time (null where `/proc` does not exist).
    process: Option<ProcessStats>,
}

/// Overall and per-module status with schema versions.
#[utoipa::path(get, path = "/health", tag = "operations", responses((status = 200, body = HealthReport)))]
pub(crate) async fn health(state: web::Data<AppState>) -> HttpResponse {
    let modules = state.modules.health().await;
    let deployment = state.modules.deployment();
    let status = if modules.iter().all(|m| m.status == "up") && deployment.transport_ok() {
        "ok"
    } else {
        "degraded"
    };
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(HealthReport {
            status,
            version: env!("CARGO_PKG_VERSION"),
            uptime_seconds: state.started_at.elapsed().as_secs(),
            modules,
            deployment,
            process: ProcessStats::current(),
        })
}

/// Prometheus (OpenMetrics) text; only for clients on the loopback interface.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "OpenMetrics text", content_type = "application/openmetrics-text"),
              (status = 403, body = Problem)))]
pub(crate) async fn metrics(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let loopback = req.peer_addr().is_some_and(|a| a.ip().is_loopback());
    if !loopback {
        return Err(ApiError::Forbidden(
            "metrics are served on the loopback interface only".into(),
        ));
    }
    Ok(HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(state.modules.metrics().encode()))
}

/// Whether a module should serve.
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct Availability {
    /// False takes the module offline.
    online: bool,
    /// How long it stays offline (1 to 600 s, default 60); it comes back by itself.
    offline_seconds: Option<u64>,
}

/// Take a module offline or back online (admins; fault injection, to watch failures stay isolated).
#[utoipa::path(put, path = "/api/admin/modules/{module}/availability", tag = "operations",
    params(("module" = String, Path)), request_body = Availability,
    responses((status = 200, body = HealthReport), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(crate) async fn set_availability(
    state: web::Data<AppState>,
    admin: Admin,
    module: web::Path<String>,
    Json(body): Json<Availability>,
) -> Result<HttpResponse, ApiError> {
    if !state.settings.server.allow_fault_injection {
        return Err(ApiError::Forbidden(
            "fault injection is disabled (server.allow_fault_injection)".into(),
        ));
    }
    let duration = if body.online {
        None
    } else {
        let secs = body.offline_seconds.unwrap_or(60);
        if !(1..=600).contains(&secs) {
            return Err(ApiError::Validation(kernel::FieldErrors::single(
                "offline_seconds",
                "must be between 1 and 600",
            )));
        }
        Some(std::time::Duration::from_secs(secs))
    };
    if !state.modules.set_offline_for(&module, duration).await? {
        return Err(ApiError::NotFound("module"));
    }
    tracing::warn!(module = %module, online = body.online, admin = %admin.0.email, "module availability changed");
    Ok(health(state).await)
}
