//! The payments part of the JSON API: the caller's wallet, deposits, its ledger with time travel,
//! and payments.
//!
//! The payments module names what a payment is for by an opaque `reference`; to this API's
//! clients, every reference is the booking it pays for, so the views below call it `booking_id`.

use actix_web::{HttpResponse, web};
use kernel::{FieldErrors, PageRequest, Timestamp};
use payments_api::{
    Deposit, DepositRequest, Ledger, LedgerEntry, LedgerEntryKind, LedgerPoint, MakeDeposit,
    Payment, PaymentFilter, PaymentHistoryEntry, PaymentMethod, PaymentStatus, Wallet,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    auth::Authenticated,
    context::RequestContext,
    extract::{Json, Query},
    problem::{ApiError, Problem},
};
use crate::state::AppState;

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/wallet").route(web::get().to(wallet)))
        .service(web::resource("/api/wallet/deposits").route(web::post().to(deposit)))
        .service(web::resource("/api/wallet/ledger").route(web::get().to(ledger)))
        .service(web::resource("/api/payments").route(web::get().to(list)))
        .service(web::resource("/api/payments/{id}").route(web::get().to(get)));
}

/// A payment of a booking.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Payment)]
pub(crate) struct PaymentView {
    /// Its id.
    pub(crate) id: Uuid,
    /// The booking paid for.
    pub(crate) booking_id: Uuid,
    /// The payer.
    pub(crate) user_id: Uuid,
    /// Amount in cents.
    pub(crate) amount_cents: i64,
    /// ISO 4217 currency code.
    pub(crate) currency: String,
    /// How it is paid.
    pub(crate) method: PaymentMethod,
    /// Where it stands.
    pub(crate) status: PaymentStatus,
    /// Why it was declined.
    pub(crate) decline_reason: Option<String>,
    /// Created.
    pub(crate) created_at: Timestamp,
    /// Last changed.
    pub(crate) updated_at: Timestamp,
    /// Its audit trail, oldest first (on single-payment views; absent in lists).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) history: Vec<PaymentHistoryEntry>,
}

impl From<Payment> for PaymentView {
    fn from(p: Payment) -> Self {
        PaymentView {
            id: p.id,
            booking_id: p.reference,
            user_id: p.user_id,
            amount_cents: p.amount_cents,
            currency: p.currency,
            method: p.method,
            status: p.status,
            decline_reason: p.decline_reason,
            created_at: p.created_at,
            updated_at: p.updated_at,
            history: p.history,
        }
    }
}

/// One event of a wallet's stream, with the balance after it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[schema(as = LedgerEntry)]
pub(crate) struct LedgerEntryView {
    /// Position in the wallet's stream (1 is the first event).
    pub(crate) version: i64,
    /// When it happened.
    pub(crate) occurred_at: Timestamp,
    /// What happened.
    pub(crate) kind: LedgerEntryKind,
    /// Signed amount in cents (charges are negative).
    pub(crate) amount_cents: i64,
    /// The running balance after this entry.
    pub(crate) balance_after_cents: i64,
    /// The booking paid or refunded.
    pub(crate) booking_id: Option<Uuid>,
    /// The payment charged or refunded.
    pub(crate) payment_id: Option<Uuid>,
}

/// A wallet's history up to a point in time or a version ("time travel").
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Ledger)]
pub(crate) struct LedgerView {
    /// The owner.
    pub(crate) user_id: Uuid,
    /// ISO 4217 currency code.
    pub(crate) currency: String,
    /// The instant asked for, if any.
    pub(crate) as_of: Option<Timestamp>,
    /// The version the ledger stops at.
    pub(crate) version: i64,
    /// The newest version of the wallet.
    pub(crate) latest_version: i64,
    /// Balance at that point.
    pub(crate) balance_cents: i64,
    /// Entries up to that point, oldest first.
    pub(crate) entries: Vec<LedgerEntryView>,
}

impl From<LedgerEntry> for LedgerEntryView {
    fn from(e: LedgerEntry) -> Self {
        LedgerEntryView {
            version: e.version,
            occurred_at: e.occurred_at,
            kind: e.kind,
            amount_cents: e.amount_cents,
            balance_after_cents: e.balance_after_cents,
            booking_id: e.reference,
            payment_id: e.payment_id,
        }
    }
}

impl From<Ledger> for LedgerView {
    fn from(l: Ledger) -> Self {
        LedgerView {
            user_id: l.user_id,
            currency: l.currency,
            as_of: l.as_of,
            version: l.version,
            latest_version: l.latest_version,
            balance_cents: l.balance_cents,
            entries: l.entries.into_iter().map(LedgerEntryView::from).collect(),
        }
    }
}

/// Put money into your wallet.
#[utoipa::path(post, path = "/api/wallet/deposits", tag = "payments", request_body = DepositRequest,
    responses((status = 201, body = Deposit), (status = 401, body = Problem), (status = 409, description = "balance limit", body = Problem),
              (status = 422, body = Problem)))]
pub(crate) async fn deposit(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: Authenticated,
    Json(body): Json<DepositRequest>,
) -> Result<HttpResponse, ApiError> {
    let deposit = MakeDeposit::try_from(body).map_err(ApiError::Validation)?;
    let d = state
        .modules
        .payments()
        .deposit(ctx.trace(), user.0.id, deposit)
        .await?;
    Ok(HttpResponse::Created().json(d))
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
#[into_params(parameter_in = Query)]
#[serde(default)]
pub(crate) struct LedgerQuery {
    /// Show the wallet as it was at this instant (RFC 3339).
    #[param(format = DateTime)]
    pub(crate) as_of: Option<String>,
    /// Show the wallet as it was after this many events.
    #[param(minimum = 0)]
    pub(crate) version: Option<i64>,
}

impl TryFrom<&LedgerQuery> for LedgerPoint {
    type Error = ApiError;

    fn try_from(q: &LedgerQuery) -> Result<Self, ApiError> {
        LedgerPoint::parse(q.as_of.as_deref(), q.version).map_err(ApiError::Validation)
    }
}

/// Your wallet's entries with the running balance, now, as of an instant, or as of a version.
#[utoipa::path(get, path = "/api/wallet/ledger", tag = "payments", params(LedgerQuery),
    responses((status = 200, body = LedgerView), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn ledger(
    state: web::Data<AppState>,
    user: Authenticated,
    Query(q): Query<LedgerQuery>,
) -> Result<HttpResponse, ApiError> {
    let point = LedgerPoint::try_from(&q)?;
    let ledger = state.modules.payments().ledger(user.0.id, point).await?;
    Ok(HttpResponse::Ok().json(LedgerView::from(ledger)))
}

/// Which payments.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub(crate) struct PaymentsQuery {
    /// Only this booking's.
    booking_id: Option<Uuid>,
    /// 1 to 200; default 50.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// From the previous page's `next_cursor`.
    cursor: Option<String>,
}

impl TryFrom<PaymentsQuery> for PaymentFilter {
    type Error = ApiError;

    fn try_from(q: PaymentsQuery) -> Result<Self, ApiError> {
        let mut e = FieldErrors::new();
        let page = PageRequest::parse(q.limit, q.cursor.as_deref(), &mut e);
        e.into_result().map_err(ApiError::Validation)?;
        Ok(PaymentFilter {
            reference: q.booking_id,
            limit: page.limit,
            cursor: page.cursor,
        })
    }
}

/// A page of payments.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct PaymentList {
    items: Vec<PaymentView>,
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
        .payments(&user.actor(), PaymentFilter::try_from(q)?)
        .await?;
    Ok(HttpResponse::Ok().json(PaymentList {
        items: page.items.into_iter().map(PaymentView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One payment with its audit trail.
#[utoipa::path(get, path = "/api/payments/{id}", tag = "payments", params(("id" = Uuid, Path)),
    responses((status = 200, body = PaymentView), (status = 404, body = Problem)))]
pub(crate) async fn get(
    state: web::Data<AppState>,
    user: Authenticated,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let payment = state.modules.payments().payment(&user.actor(), *id).await?;
    Ok(HttpResponse::Ok().json(PaymentView::from(payment)))
}
