//! Per-request context: a request id, a correlation id (continued from `X-Correlation-Id` or
//! started here), a tracing span carrying both, security headers, and request metrics.

use std::time::Instant;

use actix_web::{
    Error, FromRequest, HttpMessage, HttpRequest, ResponseError,
    body::{EitherBody, MessageBody},
    dev::{Payload, ServiceRequest, ServiceResponse},
    http::{
        Method, StatusCode,
        header::{self, HeaderName, HeaderValue},
    },
    middleware::Next,
    web,
};
use kernel::{Trace, new_id};
use tracing::Instrument;
use uuid::Uuid;

use super::{metrics::HttpMetrics, problem::ApiError};

/// Who asked and in which causal chain.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RequestContext {
    pub(crate) request_id: Uuid,
    pub(crate) correlation_id: Uuid,
}

impl RequestContext {
    /// The trace module commands run under: caused by this request, in its correlation.
    pub(crate) fn trace(&self) -> Trace {
        Trace::from_request(self.correlation_id, self.request_id)
    }
}

impl FromRequest for RequestContext {
    type Error = Error;
    type Future = std::future::Ready<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let ctx = req
            .extensions()
            .get::<RequestContext>()
            .copied()
            .unwrap_or_else(|| {
                let id = new_id();
                RequestContext {
                    request_id: id,
                    correlation_id: id,
                }
            });
        std::future::ready(Ok(ctx))
    }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const CORRELATION_ID: HeaderName = HeaderName::from_static("x-correlation-id");

/// The middleware.
pub(crate) async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let request_id = new_id();
    let correlation_id = req
        .headers()
        .get(&CORRELATION_ID)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| Uuid::parse_str(v.trim()).ok())
        .unwrap_or(request_id);
    req.extensions_mut().insert(RequestContext {
        request_id,
        correlation_id,
    });
    let method = req.method().clone();
    let span = tracing::info_span!(
        "http",
        method = %method,
        path = %req.path(),
        %request_id,
        %correlation_id,
    );
    let started = Instant::now();
    let metrics = req.app_data::<web::Data<HttpMetrics>>().cloned();

    let response = if is_cross_site_write(&req) {
        let problem = ApiError::Forbidden("cross-site requests may not change anything".into());
        req.into_response(problem.error_response())
            .map_into_right_body()
    } else {
        next.call(req)
            .instrument(span.clone())
            .await?
            .map_into_left_body()
    };

    let mut response = response;
    let headers = response.headers_mut();
    headers.insert(
        REQUEST_ID,
        HeaderValue::from_str(&request_id.to_string()).expect("uuid is a valid header"),
    );
    headers.insert(
        CORRELATION_ID,
        HeaderValue::from_str(&correlation_id.to_string()).expect("uuid is a valid header"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
            ),
        );
    }

    let status = response.status();
    let elapsed = started.elapsed();
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".into());
    if let Some(m) = metrics {
        m.observe(method.as_str(), &route, status.as_u16(), elapsed);
    }
    span.in_scope(|| {
        // A 503 `busy` (a full line, with its `Retry-After`) is the application declining for a
        // moment, counted in /metrics: thousands in an on-sale are not thousands of errors. A
        // module down or timing out is still an error.
        if status == StatusCode::SERVICE_UNAVAILABLE
            && response.headers().contains_key(header::RETRY_AFTER)
        {
            tracing::warn!(
                status = status.as_u16(),
                elapsed_ms = elapsed.as_secs_f64() * 1e3,
                "request declined"
            );
        } else if status.is_server_error() {
            tracing::error!(
                status = status.as_u16(),
                elapsed_ms = elapsed.as_secs_f64() * 1e3,
                "request failed"
            );
        } else {
            tracing::info!(
                status = status.as_u16(),
                elapsed_ms = elapsed.as_secs_f64() * 1e3,
                "request"
            );
        }
    });
    Ok(response)
}

/// A state-changing request whose `Origin` is another site: refused, whatever cookies it carries.
/// (Session cookies are `SameSite=Lax` too; this is the second lock.)
fn is_cross_site_write(req: &ServiceRequest) -> bool {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return false;
    }
    let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some(host) = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
    else {
        return true;
    };
    let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    !origin_host.eq_ignore_ascii_case(host)
}
