//! Static assets compiled into the binary, so the binary is the whole deployment.

use std::hash::{DefaultHasher, Hash, Hasher};

use actix_web::{HttpResponse, http::header, web};

const CSS: &str = include_str!("../../assets/app.css");
const JS: &str = include_str!("../../assets/app.js");
const FAVICON: &str = include_str!("../../assets/favicon.svg");

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/assets/app.css")
            .route(web::get().to(|| async { asset(CSS, "text/css; charset=utf-8") })),
    );
    cfg.service(
        web::resource("/assets/app.js")
            .route(web::get().to(|| async { asset(JS, "text/javascript; charset=utf-8") })),
    );
    cfg.service(
        web::resource("/assets/favicon.svg")
            .route(web::get().to(|| async { asset(FAVICON, "image/svg+xml") })),
    );
}

fn asset(body: &'static str, content_type: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        // URLs carry `?v=<hash>`, so a changed file gets a new URL.
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(body)
}

/// A short hash of every asset, appended to asset URLs.
pub(crate) fn version() -> String {
    let mut h = DefaultHasher::new();
    (CSS, JS, FAVICON).hash(&mut h);
    format!("{:x}", h.finish() & 0xffff_ffff)
}
