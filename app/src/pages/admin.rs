//! Operator pages: module health with fault injection, and the module canvas.

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use askama::Template;
use serde::Deserialize;

use super::{
    Layout, PageError,
    guard::{AdminForm, AdminUser},
    page_for, see_other,
};
use crate::{
    architecture::{Canvas, Line, Node, layout},
    http::ApiError,
    modules::{DeploymentHealth, ModuleHealth},
    state::AppState,
};

#[derive(Template)]
#[template(path = "admin_architecture.html")]
struct ArchitecturePage {
    layout: Layout,
    canvas: Canvas,
    nodes: Vec<Node>,
    lines: Vec<Line>,
    mermaid: String,
}

const GRAPH_W: i64 = 720;
const GRAPH_H: i64 = 420;

/// The module canvas: each module's database, tables, events and APIs, and the graph between them.
async fn architecture_page(
    req: HttpRequest,
    AdminUser(admin): AdminUser,
) -> Result<HttpResponse, PageError> {
    let (layout_, page) = page_for(&req, "admin-architecture", Some(admin));
    let canvas = Canvas::current();
    let (nodes, lines) = layout(&canvas, GRAPH_W, GRAPH_H);
    let mermaid = canvas.mermaid();
    Ok(page.render(
        &ArchitecturePage {
            layout: layout_,
            canvas,
            nodes,
            lines,
            mermaid,
        },
        StatusCode::OK,
    ))
}

async fn architecture_redirect() -> HttpResponse {
    see_other("/admin/architecture")
}

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/health").route(web::get().to(health_page)));
    cfg.service(web::resource("/admin/architecture").route(web::get().to(architecture_page)));
    cfg.service(web::resource("/architecture").route(web::get().to(architecture_redirect)));
    cfg.service(
        web::resource("/admin/modules/{module}/availability")
            .route(web::post().to(set_availability)),
    );
}

#[derive(Template)]
#[template(path = "admin_health.html")]
struct HealthPage {
    layout: Layout,
    overall: &'static str,
    modules: Vec<ModuleHealth>,
    deployment: DeploymentHealth,
    fault_injection: bool,
}

async fn health_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    AdminUser(admin): AdminUser,
) -> Result<HttpResponse, PageError> {
    let modules = state.modules.health().await;
    let deployment = state.modules.deployment();
    let overall = if modules.iter().all(|m| m.status == "up") && deployment.transport_ok() {
        "ok"
    } else {
        "degraded"
    };
    let (layout, page) = page_for(&req, "admin-health", Some(admin));
    let fault_injection = state.settings.server.allow_fault_injection;
    Ok(page.render(
        &HealthPage {
            layout,
            overall,
            modules,
            deployment,
            fault_injection,
        },
        StatusCode::OK,
    ))
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct AvailabilityForm {
    csrf_token: String,
    online: bool,
    offline_seconds: Option<u64>,
}
super::guard::csrf_protected!(AvailabilityForm);

async fn set_availability(
    state: web::Data<AppState>,
    module: web::Path<String>,
    AdminForm(_, form): AdminForm<AvailabilityForm>,
) -> Result<HttpResponse, PageError> {
    if !state.settings.server.allow_fault_injection {
        return Err(ApiError::Forbidden("fault injection is disabled".into()).into());
    }
    let duration = (!form.online)
        .then(|| std::time::Duration::from_secs(form.offline_seconds.unwrap_or(30).clamp(1, 600)));
    if !state
        .modules
        .set_offline_for(&module, duration)
        .await
        .map_err(ApiError::from)?
    {
        return Err(ApiError::NotFound("module").into());
    }
    Ok(see_other("/admin/health?done=module-changed"))
}
