//! The wallet: balance, deposits, and the ledger with its time-travel control; the admin's list of
//! payments.

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use askama::Template;
use kernel::{FieldErrors, PageSize};
use payments_api::{
    DepositRequest, LedgerEntryKind, LedgerPoint, MAX_BALANCE_CENTS, MAX_DEPOSIT_CENTS,
    MakeDeposit, PaymentFilter, PaymentsError,
};
use serde::Deserialize;
use users_api::{Actor, User};
use uuid::Uuid;

use super::{
    FormField, Layout, PageError, cursor_param, format,
    forms::attach_errors,
    guard::{AdminUser, SignedIn, UserForm},
    page_for, see_other,
};
use crate::{
    http::{ApiError, LedgerQuery, RequestContext, parse_query},
    state::AppState,
};

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/wallet").route(web::get().to(wallet_page)));
    cfg.service(web::resource("/wallet/deposits").route(web::post().to(deposit)));
    cfg.service(web::resource("/admin/payments").route(web::get().to(payments_page)));
}

struct Entry {
    version: i64,
    when: String,
    kind: &'static str,
    amount: String,
    negative: bool,
    balance: String,
    booking_id: Option<Uuid>,
}

#[derive(Template)]
#[template(path = "wallet.html")]
struct WalletPage {
    layout: Layout,
    balance: String,
    balance_then: String,
    latest_version: i64,
    version: i64,
    as_of: String,
    /// The zone the customer reads their times in.
    zone: String,
    travelling: bool,
    travel_error: Option<String>,
    entries: Vec<Entry>,
    fields: Vec<FormField>,
    form_error: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct DepositForm {
    csrf_token: String,
    amount: String,
}
super::guard::csrf_protected!(DepositForm);

async fn render(
    req: &HttpRequest,
    state: &AppState,
    user: User,
    amount: &str,
    errors: Option<FieldErrors>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let payments = state.modules.payments();
    let now = payments.ledger(user.id, LedgerPoint::Latest).await?;
    let mut raw: LedgerQuery = parse_query(req.query_string()).unwrap_or_default();
    let zone = format::zone_of(Some(&user));
    let (mut travel_error, mut ledger) = (None, now.clone());
    // The form's field sends the browser's `datetime-local` value (a time in the customer's own
    // zone, as its label says), or nothing when left empty.
    raw.as_of = match raw.as_of.filter(|t| !t.trim().is_empty()) {
        None => None,
        Some(t) => match format::from_datetime_local(t.trim(), &zone) {
            Ok(rfc3339) => Some(rfc3339),
            Err(why) => {
                travel_error = Some(format!("as_of {why}"));
                None
            }
        },
    };
    match LedgerPoint::try_from(&raw) {
        Ok(LedgerPoint::Latest) => {}
        Ok(point) => match payments.ledger(user.id, point).await {
            Ok(l) => ledger = l,
            Err(e) => travel_error = Some(ApiError::from(e).problem().detail),
        },
        Err(e) => travel_error = Some(e.problem().detail),
    }
    let travelling = ledger.version != now.version || ledger.as_of.is_some();
    let currency = ledger.currency.clone();
    let entries = ledger
        .entries
        .iter()
        .rev()
        .map(|e| Entry {
            version: e.version,
            when: format::instant(e.occurred_at, &zone),
            kind: match e.kind {
                LedgerEntryKind::Deposit => "deposit",
                LedgerEntryKind::Charge => "charge",
                LedgerEntryKind::Refund => "refund",
            },
            amount: format::money(e.amount_cents, &currency),
            negative: e.amount_cents < 0,
            balance: format::money(e.balance_after_cents, &currency),
            // The bookings module pays with its booking ids as references.
            booking_id: e.reference,
        })
        .collect();
    let mut fields = vec![
        FormField::new("amount", "Amount", "text")
            .value(amount)
            .attr("inputmode", "decimal")
            .attr("placeholder", "50.00")
            .help(format!(
                "In {}, up to {} per deposit; 20.50 and 20,50 both mean twenty and a half.",
                now.currency,
                format::money(MAX_DEPOSIT_CENTS, &now.currency)
            )),
    ];
    let form_error = errors
        .map(|e| attach_errors(&mut fields, &e))
        .and_then(|left| left.first().cloned());
    let (layout, page) = page_for(req, "wallet", Some(user));
    let view = WalletPage {
        layout,
        balance: format::money(now.balance_cents, &now.currency),
        balance_then: format::money(ledger.balance_cents, &currency),
        latest_version: now.latest_version,
        version: ledger.version,
        as_of: ledger
            .as_of
            .map(|t| format::datetime_local(t, &zone))
            .unwrap_or_default(),
        zone: zone.name().to_owned(),
        travelling,
        travel_error,
        entries,
        fields,
        form_error,
    };
    Ok(page.render(&view, status))
}

async fn wallet_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    SignedIn(user): SignedIn,
) -> Result<HttpResponse, PageError> {
    render(&req, &state, user, "", None, StatusCode::OK).await
}

async fn deposit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: RequestContext,
    UserForm(user, form): UserForm<DepositForm>,
) -> Result<HttpResponse, PageError> {
    // The limits in the wallet's currency, as the form states them (the module's own words
    // speak of cents, as its API does).
    let parsed = match format::parse_amount(&form.amount) {
        Ok(0) => Err("must be more than zero".to_owned()),
        Ok(c) if c > MAX_DEPOSIT_CENTS => Err(format!(
            "must be at most {} per deposit",
            wallet_money(&state, MAX_DEPOSIT_CENTS).await
        )),
        other => other,
    };
    let cents = match parsed {
        Ok(c) => c,
        Err(m) => {
            return render(
                &req,
                &state,
                user,
                &form.amount,
                Some(FieldErrors::single("amount", m)),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let deposited = match MakeDeposit::try_from(DepositRequest {
        amount_cents: Some(cents),
    }) {
        Ok(deposit) => {
            state
                .modules
                .payments()
                .deposit(ctx.trace(), user.id, deposit)
                .await
        }
        Err(errors) => Err(PaymentsError::Validation(errors)),
    };
    match deposited {
        Ok(_) => Ok(see_other("/wallet?done=deposited")),
        Err(e) => match ApiError::from(e) {
            e @ (ApiError::Validation(_) | ApiError::Conflict { .. }) => {
                let status = actix_web::ResponseError::status_code(&e);
                let mut errors = FieldErrors::new();
                for f in e
                    .field_errors()
                    .map(|f| f.iter().cloned().collect::<Vec<_>>())
                    .unwrap_or_default()
                {
                    if f.field == "amount_cents" {
                        let message = if matches!(e, ApiError::Conflict { .. }) {
                            format!(
                                "would take your balance over {}",
                                wallet_money(&state, MAX_BALANCE_CENTS).await
                            )
                        } else {
                            f.message
                        };
                        errors.add("amount", message);
                    } else {
                        errors.add(f.field, f.message);
                    }
                }
                render(&req, &state, user, &form.amount, Some(errors), status).await
            }
            other => Err(other.into()),
        },
    }
}

/// `cents` in the wallets' currency (bare when payments cannot say which it is).
async fn wallet_money(state: &AppState, cents: i64) -> String {
    match state.modules.payments().currency().await {
        Ok(currency) => format::money(cents, &currency),
        Err(_) => format::money(cents, ""),
    }
}

struct PaymentRow {
    when: String,
    booking_id: Uuid,
    booking_short: String,
    amount: String,
    method: String,
    status: &'static str,
    reason: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_payments.html")]
struct PaymentsPage {
    layout: Layout,
    rows: Vec<PaymentRow>,
    next_page: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct CursorQuery {
    cursor: Option<String>,
}

async fn payments_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<CursorQuery>,
    AdminUser(admin): AdminUser,
) -> Result<HttpResponse, PageError> {
    let page = state
        .modules
        .payments()
        .payments(
            &Actor::of(&admin),
            PaymentFilter {
                reference: None,
                limit: PageSize::clamped(100),
                cursor: cursor_param(q.cursor.as_deref())?,
            },
        )
        .await?;
    let zone = format::zone_of(Some(&admin));
    let rows = page
        .items
        .iter()
        .map(|p| PaymentRow {
            when: format::moment(p.created_at, &zone),
            booking_id: p.reference,
            booking_short: p.reference.to_string().chars().take(13).collect(),
            amount: format::money(p.amount_cents, &p.currency),
            method: match (&p.method.brand, &p.method.last4) {
                (Some(b), Some(l)) => format!("{b} •••• {l}"),
                _ => p.method.kind.clone(),
            },
            status: p.status.as_str(),
            reason: p
                .decline_reason
                .as_deref()
                .map(super::bookings::decline_text),
        })
        .collect();
    let next_page = page
        .next_cursor
        .map(|c| format!("/admin/payments?cursor={c}"));
    let (layout, page) = page_for(&req, "admin-payments", Some(admin));
    Ok(page.render(
        &PaymentsPage {
            layout,
            rows,
            next_page,
        },
        StatusCode::OK,
    ))
}
