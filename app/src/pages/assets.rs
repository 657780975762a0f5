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

#[cfg(test)]
mod tests {
    use super::CSS;

    /// The stylesheet's colour variables (`--name: #rrggbb`).
    fn colour(name: &str) -> [f64; 3] {
        let key = format!("--{name}:");
        let at = CSS
            .find(&key)
            .unwrap_or_else(|| panic!("no {key} in app.css"));
        let hex = CSS[at + key.len()..].trim_start();
        let hex = hex.strip_prefix('#').expect("a #rrggbb colour");
        let channel = |i: usize| f64::from(u8::from_str_radix(&hex[i..i + 2], 16).unwrap()) / 255.0;
        [channel(0), channel(2), channel(4)]
    }

    /// WCAG 2 contrast ratio of two colours.
    fn contrast(a: [f64; 3], b: [f64; 3]) -> f64 {
        let luminance = |c: [f64; 3]| {
            let linear = |v: f64| {
                if v <= 0.039_28 {
                    v / 12.92
                } else {
                    ((v + 0.055) / 1.055).powf(2.4)
                }
            };
            0.2126 * linear(c[0]) + 0.7152 * linear(c[1]) + 0.0722 * linear(c[2])
        };
        let (hi, lo) = {
            let (x, y) = (luminance(a), luminance(b));
            if x > y { (x, y) } else { (y, x) }
        };
        (hi + 0.05) / (lo + 0.05)
    }

    #[test]
    fn every_text_colour_reads_at_wcag_aa_contrast_on_the_backgrounds_it_is_used_on() {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for text in [
            "ink", "ink-soft", "muted", "brand", "ok", "warn", "bad", "info",
        ] {
            pairs.push((text.into(), "bg".into()));
            pairs.push((text.into(), "surface".into()));
        }
        // Badges and callouts: each status colour on its own soft background.
        for status in ["brand", "ok", "warn", "bad", "info"] {
            pairs.push((status.into(), format!("{status}-soft")));
        }
        pairs.push(("brand-ink".into(), "brand".into()));
        let failing: Vec<String> = pairs
            .iter()
            .map(|(text, background)| {
                (text, background, contrast(colour(text), colour(background)))
            })
            .filter(|(.., ratio)| *ratio < 4.5)
            .map(|(text, background, ratio)| format!("--{text} on --{background}: {ratio:.2}:1"))
            .collect();
        assert!(failing.is_empty(), "below 4.5:1: {failing:?}");
        // The check itself: the old grey failed it.
        assert!(
            contrast(
                [
                    0x7b as f64 / 255.0,
                    0x81 as f64 / 255.0,
                    0x99 as f64 / 255.0
                ],
                colour("bg")
            ) < 4.5
        );
    }
}
