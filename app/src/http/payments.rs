//! The payments part of the JSON API: the caller's wallet, deposits, its ledger with time travel,
//! and payments.

use actix_web::{HttpResponse, web};
use kernel::{FieldErrors, Timestamp};
use payments_api::{Ledger, Payment, Wallet};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    auth::Authenticated,
    context::RequestContext,
    extract::{Json, Query},
    problem::{ApiError, Problem},
};
use crate::startup::AppState;

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/wallet").route(web::get().to(wallet)))
        .service(web::resource("/api/wallet/deposits").route(web::post().to(deposit)))
        .service(web::resource("/api/wallet/ledger").route(web::get().to(ledger)))
        .service(web::resource("/api/payments").route(web::get().to(list)))
        .service(web::resource("/api/payments/{id}").route(web::get().to(get)));
}

/// A deposit request.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub(crate) struct DepositRequest {
    /// Positive, at most 100 000 000 cents.
    amount_cents: Option<i64>,
}

/// A deposit's result.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct DepositResponse {
    deposit_id: Uuid,
    wallet: Wallet,
}

/// Put money into your wallet.
#[utoipa::path(post, path = "/api/wallet/deposits", tag = "payments", request_body = DepositRequest,
    responses((status = 201, body = DepositResponse), (status = 401, body = Problem), (status = 409, description = "balance limit", body = Problem),
              (status = 422, body = Problem)))]
pub(crate) async fn deposit(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: Authenticated,
    Json(body): Json<DepositRequest>,
) -> Result<HttpResponse, ApiError> {
    let d = state
        .modules
        .payments()
        .deposit(ctx.trace(), user.0.id, body.amount_cents)
        .await?;
    Ok(HttpResponse::Created().json(DepositResponse {
        deposit_id: d.deposit_id,
        wallet: d.wallet,
    }))
}

/// Your wallet: the balance is the fold of its events; `version` counts them.
#[utoipa::path(get, path = "/api/wallet", tag = "payments", responses((status = 200, body = Wallet), (status = 401, body = Problem)))]
pub(crate) async fn wallet(
    state: web::Data<AppState>,
    user: Authenticated,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(state.modules.payments().wallet(user.0.id).await?))
}

/// Time travel over the ledger.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
pub(crate) struct LedgerQuery {
    /// Show the wallet as it was at this instant (RFC 3339).
    as_of: Option<String>,
    /// Show the wallet as it was after this many events.
    version: Option<i64>,
}

impl LedgerQuery {
    pub(crate) fn parse(&self) -> Result<(Option<Timestamp>, Option<i64>), ApiError> {
        let as_of = match self
            .as_of
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => None,
            Some(t) => Some(Timestamp::parse_rfc3339(t).map_err(|_| {
                ApiError::Validation(FieldErrors::single(
                    "as_of",
                    "must be an RFC 3339 date-time",
                ))
            })?),
        };
        Ok((as_of, self.version))
    }
}

/// Your wallet's entries with the running balance, now, as of an instant, or as of a version.
#[utoipa::path(get, path = "/api/wallet/ledger", tag = "payments", params(LedgerQuery),
    responses((status = 200, body = Ledger), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn ledger(
    state: web::Data<AppState>,
    user: Authenticated,
    Query(q): Query<LedgerQuery>,
) -> Result<HttpResponse, ApiError> {
    let (as_of, version) = q.parse()?;
    Ok(HttpResponse::Ok().json(
        state
            .modules
            .payments()
            .ledger(user.0.id, as_of, version)
            .await?,
    ))
}

/// Which payments.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
pub(crate) struct PaymentsQuery {
    /// Only this booking's.
    booking_id: Option<Uuid>,
    /// 1 to 200; default 50.
    limit: Option<u32>,
    /// From the previous page's `next_cursor`.
    cursor: Option<String>,
}

/// A page of payments.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct PaymentList {
    items: Vec<Payment>,
    next_cursor: Option<String>,
}

/// Payments, newest first: yours, or everyone's for admins.
#[utoipa::path(get, path = "/api/payments", tag = "payments", params(PaymentsQuery),
    responses((status = 200, body = PaymentList), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn list(
    state: web::Data<AppState>,
    user: Authenticated,
    Query(q): Query<PaymentsQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = state
        .modules
        .payments()
        .payments(
            &user.actor(),
            q.booking_id,
            q.limit.unwrap_or(50),
            q.cursor.as_deref(),
        )
        .await?;
    Ok(HttpResponse::Ok().json(PaymentList {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}

/// One payment with its audit trail.
#[utoipa::path(get, path = "/api/payments/{id}", tag = "payments", params(("id" = Uuid, Path)),
    responses((status = 200, body = Payment), (status = 404, body = Problem)))]
pub(crate) async fn get(
    state: web::Data<AppState>,
    user: Authenticated,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(state.modules.payments().payment(&user.actor(), *id).await?))
}
