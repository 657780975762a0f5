//! `/problems/<slug>`: the explanation behind every problem document's `type`.

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use askama::Template;

use super::{Layout, page, see_other};
use crate::http::PROBLEM_TYPES;

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/problems").route(web::get().to(index)));
    cfg.service(web::resource("/problems/{slug}").route(web::get().to(one)));
}

#[derive(Template)]
#[template(path = "problems.html")]
struct ProblemsPage {
    layout: Layout,
    problems: &'static [(&'static str, u16, &'static str, &'static str)],
}

async fn index(req: HttpRequest) -> HttpResponse {
    let (layout, page) = page(&req, "").await;
    page.render(
        &ProblemsPage {
            layout,
            problems: PROBLEM_TYPES,
        },
        StatusCode::OK,
    )
}

async fn one(req: HttpRequest, slug: web::Path<String>) -> HttpResponse {
    if PROBLEM_TYPES.iter().any(|(s, ..)| *s == slug.as_str()) {
        see_other(&format!("/problems#{slug}"))
    } else {
        super::not_found(req).await
    }
}
