//! Errors as `application/problem+json` (RFC 9457), mapped from every module's error type in this
//! one place. A client mistake is a 4xx with a reason; only our own failures are 5xx.

use std::fmt;

use actix_web::{HttpResponse, ResponseError, http::StatusCode};
use bookings_api::BookingsError;
use kernel::{FieldError, FieldErrors};
use payments_api::PaymentsError;
use reporting_api::ReportingError;
use serde::Serialize;
use users_api::UsersError;

/// Everything an API handler can fail with.
#[derive(Debug)]
pub(crate) enum ApiError {
    /// 422: some fields are invalid.
    Validation(FieldErrors),
    /// 400: the request could not be read at all (malformed JSON, bad encoding).
    BadRequest(String),
    /// 401: no valid session.
    Unauthenticated,
    /// 401: a login failed.
    InvalidCredentials,
    /// 403: authenticated, but not allowed.
    Forbidden(String),
    /// 403: the account was deactivated.
    AccountDeactivated,
    /// 404: no such resource (or not visible to the caller).
    NotFound(&'static str),
    /// 409 (or the status its problem type names: 410, 422): the request conflicts with the
    /// current state.
    Conflict {
        slug: &'static str,
        detail: String,
        errors: FieldErrors,
    },
    /// 405: the path exists, the method does not.
    MethodNotAllowed,
    /// 413.
    /// 422: an `Idempotency-Key` came back with another request.
    IdempotencyKeyReused,
    /// 413.
    PayloadTooLarge,
    /// 415.
    UnsupportedMediaType,
    /// 429: too many failed logins for this account or from this address.
    TooManyLogins { retry_after_seconds: u64 },
    /// 503: a module is down; the rest of the application still serves.
    Unavailable(String),
    /// 503: overloaded for a moment (every password-hashing slot taken); retry in a second.
    Busy(String),
    /// 500: our own failure; details go to the log, not the client.
    Internal(anyhow::Error),
}

/// The problem document.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Problem {
    /// A URI naming the kind of problem; `GET` it for an explanation.
    #[serde(rename = "type")]
    pub(crate) kind: String,
    /// A short summary of the kind of problem.
    pub(crate) title: &'static str,
    /// The HTTP status.
    pub(crate) status: u16,
    /// What went wrong this time.
    pub(crate) detail: String,
    /// Rejected fields, for validation and conflict problems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) errors: Vec<FieldError>,
}

/// Every problem type: slug, status, title, and the explanation served at `/problems/<slug>`.
pub(crate) const PROBLEM_TYPES: &[(&str, u16, &str, &str)] = &[
    (
        "validation-error",
        422,
        "Your request has invalid fields",
        "One or more fields are missing, malformed or out of range. `errors` lists each field with a message; nothing was changed.",
    ),
    (
        "malformed-request",
        400,
        "The request could not be read",
        "The body is not valid JSON (or form data), or a query parameter cannot be decoded. Nothing was changed.",
    ),
    (
        "unauthenticated",
        401,
        "You are not logged in",
        "This resource needs a session: log in with `POST /api/session` and send the `bo_session` cookie back.",
    ),
    (
        "invalid-credentials",
        401,
        "Email or password is wrong",
        "The login failed. For safety the response does not say which of the two was wrong.",
    ),
    (
        "forbidden",
        403,
        "You may not do this",
        "You are logged in, but your role or ownership does not allow this action.",
    ),
    (
        "account-deactivated",
        403,
        "This account is deactivated",
        "A deactivated account can no longer log in or book.",
    ),
    (
        "not-found",
        404,
        "Not found",
        "No such resource exists, or it is not visible to you.",
    ),
    (
        "conflict",
        409,
        "The request conflicts with the current state",
        "The action cannot be done now; `detail` says why. Retrying the same request will fail the same way.",
    ),
    (
        "email-taken",
        409,
        "That email address is already registered",
        "Email addresses are unique regardless of letter case. Log in instead, or use another address.",
    ),
    (
        "last-admin",
        409,
        "The last admin must stay one",
        "At least one active administrator must remain: the last one can be neither deactivated nor given another role.",
    ),
    (
        "method-not-allowed",
        405,
        "Method not allowed",
        "The path exists but does not accept this HTTP method; see the OpenAPI document at `/api/openapi.json`.",
    ),
    (
        "not-enough-seats",
        409,
        "Not enough seats left",
        "Fewer seats are left than asked for; `detail` says how many remain. Nothing was held.",
    ),
    (
        "seats-taken",
        409,
        "Some of these seats are taken",
        "Another booking holds or bought some of the seats asked for (or they are not for sale): `detail` names them and `errors` lists each seat id. Nothing was held; choose other seats, or ask for a number of seats to get the best available.",
    ),
    (
        "venue-name-taken",
        409,
        "Another venue has this name",
        "Venue names are unique regardless of letter case.",
    ),
    (
        "tickets-not-issued",
        409,
        "The tickets are not issued yet",
        "A booking's tickets are issued once its payment is confirmed. Wait for the booking to be confirmed and ask again.",
    ),
    (
        "ticket-invalid",
        422,
        "This is not a valid ticket",
        "The code is not one this box office issued: it is mistyped, truncated, altered or forged. Nobody was admitted.",
    ),
    (
        "ticket-already-admitted",
        409,
        "This ticket was already admitted",
        "Each ticket admits once; `detail` says when it was. Nobody was admitted now.",
    ),
    (
        "ticket-wrong-show",
        409,
        "This ticket is for another show",
        "The door checks tickets for one show; `detail` names the show this ticket is for. Nobody was admitted.",
    ),
    (
        "ticket-not-paid",
        409,
        "This ticket's booking is not paid yet",
        "The booking is still waiting for its payment; its tickets admit nobody until it is confirmed.",
    ),
    (
        "ticket-cancelled",
        410,
        "This ticket's booking was cancelled",
        "A cancelled booking's tickets are void: its seats were released (and any money refunded). Nobody was admitted.",
    ),
    (
        "wallet-cannot-pay",
        409,
        "The wallet cannot pay for this",
        "A booking paid from the wallet was refused before any seat was held: the wallet holds another currency than the show's price, or less than the seats cost (`detail` and the `payment` field say which). Pay by card, or deposit and try again.",
    ),
    (
        "show-cancelled",
        409,
        "The show is cancelled",
        "A cancelled show takes no bookings and cannot be changed.",
    ),
    (
        "show-started",
        409,
        "The show has already started",
        "No bookings once a show starts, and customers can no longer cancel.",
    ),
    (
        "already-cancelled",
        409,
        "Already cancelled",
        "The booking was cancelled before; its seats are released and any refund is under way.",
    ),
    (
        "booking-admitted",
        409,
        "Its tickets were used",
        "Some of the booking's tickets were admitted at the door: it can no longer be cancelled or refunded, and its seats stay sold.",
    ),
    (
        "idempotency-key-reused",
        422,
        "Idempotency-Key reused for another request",
        "The same `Idempotency-Key` must come with the same request. Use a new key for a new booking.",
    ),
    (
        "balance-limit",
        409,
        "The wallet would hold too much",
        "A wallet holds at most 100 000 000 cents.",
    ),
    (
        "payload-too-large",
        413,
        "The request body is too large",
        "Request bodies are limited to 64 KiB.",
    ),
    (
        "unsupported-media-type",
        415,
        "Send JSON",
        "Request bodies must be `application/json`.",
    ),
    (
        "too-many-logins",
        429,
        "Too many failed logins",
        "After a few failed logins for one account, or from one address, logins are refused for a while, longer with every further failure: wait the `Retry-After` seconds. The right password is refused too until then.",
    ),
    (
        "busy",
        503,
        "Too busy for a moment",
        "Every password check is taken, or too many bookings are being placed at once (a hot show's on-sale) and this one waited its turn in line without getting it: retry after the `Retry-After` seconds. Nothing was changed and no seat was held.",
    ),
    (
        "module-unavailable",
        503,
        "A part of the box office is unavailable",
        "One module is down or overloaded; the others keep serving. Retry later.",
    ),
    (
        "internal-error",
        500,
        "Something went wrong on our side",
        "The error was logged with the request id (see the `X-Request-Id` header).",
    ),
];

impl ApiError {
    fn slug(&self) -> &'static str {
        match self {
            ApiError::Validation(_) => "validation-error",
            ApiError::BadRequest(_) => "malformed-request",
            ApiError::Unauthenticated => "unauthenticated",
            ApiError::InvalidCredentials => "invalid-credentials",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::AccountDeactivated => "account-deactivated",
            ApiError::NotFound(_) => "not-found",
            ApiError::Conflict { slug, .. } => slug,
            ApiError::MethodNotAllowed => "method-not-allowed",
            ApiError::IdempotencyKeyReused => "idempotency-key-reused",
            ApiError::PayloadTooLarge => "payload-too-large",
            ApiError::UnsupportedMediaType => "unsupported-media-type",
            ApiError::TooManyLogins { .. } => "too-many-logins",
            ApiError::Unavailable(_) => "module-unavailable",
            ApiError::Busy(_) => "busy",
            ApiError::Internal(_) => "internal-error",
        }
    }

    fn detail(&self) -> String {
        match self {
            ApiError::Validation(errors) => errors.to_string(),
            ApiError::BadRequest(d)
            | ApiError::Forbidden(d)
            | ApiError::Unavailable(d)
            | ApiError::Busy(d) => d.clone(),
            ApiError::TooManyLogins {
                retry_after_seconds,
            } => format!("too many failed logins: try again in {retry_after_seconds} s"),
            ApiError::Conflict { detail, .. } => detail.clone(),
            ApiError::Unauthenticated => "log in first".into(),
            ApiError::InvalidCredentials => "email or password is wrong".into(),
            ApiError::AccountDeactivated => "this account is deactivated".into(),
            ApiError::NotFound(what) => format!("{what} not found"),
            ApiError::MethodNotAllowed => "this path does not support that method".into(),
            ApiError::IdempotencyKeyReused => {
                "this Idempotency-Key was used for a different request".into()
            }
            ApiError::PayloadTooLarge => "the body is larger than 64 KiB".into(),
            ApiError::UnsupportedMediaType => "expected Content-Type: application/json".into(),
            ApiError::Internal(_) => "an internal error occurred".into(),
        }
    }

    /// The problem document for this error.
    pub(crate) fn problem(&self) -> Problem {
        let slug = self.slug();
        let (_, status, title, _) = PROBLEM_TYPES
            .iter()
            .find(|(s, ..)| *s == slug)
            .copied()
            .unwrap_or(PROBLEM_TYPES[PROBLEM_TYPES.len() - 1]);
        let errors = match self {
            ApiError::Validation(errors) | ApiError::Conflict { errors, .. } => {
                errors.iter().cloned().collect()
            }
            _ => Vec::new(),
        };
        Problem {
            kind: format!("/problems/{slug}"),
            title,
            status,
            detail: self.detail(),
            errors,
        }
    }

    /// The field errors, for forms that show them inline.
    pub(crate) fn field_errors(&self) -> Option<&FieldErrors> {
        match self {
            ApiError::Validation(errors) | ApiError::Conflict { errors, .. }
                if !errors.is_empty() =>
            {
                Some(errors)
            }
            _ => None,
        }
    }

    pub(crate) fn conflict(slug: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError::Conflict {
            slug,
            detail: detail.into(),
            errors: FieldErrors::new(),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.slug(), self.detail())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.problem().status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(e) = self {
            tracing::error!(error = ?e, "internal error");
        }
        let problem = self.problem();
        let mut response = HttpResponse::build(self.status_code());
        response.content_type("application/problem+json");
        match self {
            ApiError::TooManyLogins {
                retry_after_seconds,
            } => {
                response.insert_header(("Retry-After", retry_after_seconds.to_string()));
            }
            ApiError::Busy(_) => {
                response.insert_header(("Retry-After", "1"));
            }
            _ => {}
        }
        if matches!(self, ApiError::Unauthenticated) {
            response.insert_header((
                "WWW-Authenticate",
                "Cookie realm=\"boxoffice\", cookie-name=\"bo_session\"",
            ));
        }
        response.json(problem)
    }
}

impl From<kernel::Error> for ApiError {
    fn from(e: kernel::Error) -> Self {
        match e {
            kernel::Error::Unavailable(module) => {
                ApiError::Unavailable(format!("the {module} module is unavailable"))
            }
            kernel::Error::WriterTimeout(module) => {
                ApiError::Unavailable(format!("the {module} module is overloaded; retry shortly"))
            }
            // A module of another process that could not answer now: its own words say why.
            kernel::Error::Remote {
                unavailable: true,
                message,
                ..
            } => ApiError::Unavailable(message),
            other => ApiError::Internal(other.into()),
        }
    }
}

impl From<BookingsError> for ApiError {
    fn from(e: BookingsError) -> Self {
        match e {
            BookingsError::Validation(errors) => ApiError::Validation(errors),
            BookingsError::ShowNotFound => ApiError::NotFound("show"),
            BookingsError::BookingNotFound => ApiError::NotFound("booking"),
            BookingsError::VenueNotFound => ApiError::NotFound("venue"),
            e @ BookingsError::VenueNameTaken(_) => ApiError::Conflict {
                slug: "venue-name-taken",
                detail: e.to_string(),
                errors: FieldErrors::single("name", "is the name of another venue"),
            },
            BookingsError::SeatsTaken { seats, seat_ids } => {
                let mut errors = FieldErrors::new();
                for (id, seat) in seat_ids.iter().zip(&seats) {
                    errors.add("seat_ids", format!("{id} ({seat}) is taken"));
                }
                let detail = BookingsError::SeatsTaken {
                    seats,
                    seat_ids: Vec::new(),
                }
                .to_string();
                ApiError::Conflict {
                    slug: "seats-taken",
                    detail: capitalized(&detail),
                    errors,
                }
            }
            e @ BookingsError::TicketsNotIssued => {
                ApiError::conflict("tickets-not-issued", e.to_string())
            }
            e @ BookingsError::TicketInvalid => ApiError::Conflict {
                slug: "ticket-invalid",
                detail: e.to_string(),
                errors: FieldErrors::single("code", "is not a ticket of this box office"),
            },
            e @ BookingsError::TicketAlreadyAdmitted { .. } => {
                ApiError::conflict("ticket-already-admitted", e.to_string())
            }
            e @ BookingsError::TicketWrongShow(_) => {
                ApiError::conflict("ticket-wrong-show", e.to_string())
            }
            e @ BookingsError::TicketNotPaid => {
                ApiError::conflict("ticket-not-paid", e.to_string())
            }
            e @ BookingsError::TicketCancelled => {
                ApiError::conflict("ticket-cancelled", e.to_string())
            }
            BookingsError::Forbidden => ApiError::Forbidden("your role does not allow this".into()),
            BookingsError::AccountInactive => ApiError::AccountDeactivated,
            e @ BookingsError::NotEnoughSeats { .. } => {
                ApiError::conflict("not-enough-seats", e.to_string())
            }
            e @ BookingsError::ShowCancelled => ApiError::conflict("show-cancelled", e.to_string()),
            e @ BookingsError::ShowStarted => ApiError::conflict("show-started", e.to_string()),
            e @ BookingsError::AlreadyCancelled => {
                ApiError::conflict("already-cancelled", e.to_string())
            }
            e @ BookingsError::BookingAdmitted => {
                ApiError::conflict("booking-admitted", e.to_string())
            }
            e @ BookingsError::CapacityBelowTaken { .. } => ApiError::Conflict {
                slug: "conflict",
                detail: e.to_string(),
                errors: FieldErrors::single("capacity", format!("cannot be below the {e}")),
            },
            BookingsError::WalletCannotPay(why) => {
                let message = wallet_shortfall(&why);
                ApiError::Conflict {
                    slug: "wallet-cannot-pay",
                    detail: format!(
                        "{}: pay by card, or deposit and try again.",
                        capitalized(&message)
                    ),
                    errors: FieldErrors::single("payment", message),
                }
            }
            BookingsError::IdempotencyMismatch => ApiError::IdempotencyKeyReused,
            e @ BookingsError::Busy => ApiError::Busy(e.to_string()),
            BookingsError::DependencyUnavailable(why) => ApiError::Unavailable(why),
            BookingsError::Storage(e) => e.into(),
            other => ApiError::Internal(other.into()),
        }
    }
}

impl From<PaymentsError> for ApiError {
    fn from(e: PaymentsError) -> Self {
        match e {
            PaymentsError::Validation(errors) => ApiError::Validation(errors),
            PaymentsError::NotFound => ApiError::NotFound("payment"),
            PaymentsError::Forbidden => ApiError::Forbidden("not your wallet".into()),
            e @ PaymentsError::BalanceLimit => ApiError::Conflict {
                slug: "balance-limit",
                detail: e.to_string(),
                errors: FieldErrors::single(
                    "amount_cents",
                    "would take the balance over the limit",
                ),
            },
            PaymentsError::Contention => ApiError::Unavailable("the wallet is busy; retry".into()),
            PaymentsError::Storage(e) => e.into(),
            other => ApiError::Internal(other.into()),
        }
    }
}

impl From<UsersError> for ApiError {
    fn from(e: UsersError) -> Self {
        match e {
            UsersError::Validation(errors) => ApiError::Validation(errors),
            UsersError::EmailTaken => ApiError::Conflict {
                slug: "email-taken",
                detail: "that email address is already registered".into(),
                errors: FieldErrors::single("email", "is already registered"),
            },
            UsersError::InvalidCredentials => ApiError::InvalidCredentials,
            UsersError::Deactivated => ApiError::AccountDeactivated,
            UsersError::NotFound => ApiError::NotFound("user"),
            UsersError::Forbidden => {
                ApiError::Forbidden("you may only access your own account".into())
            }
            UsersError::LastAdmin => ApiError::conflict(
                "last-admin",
                "the last active admin must stay an active admin",
            ),
            UsersError::Throttled {
                retry_after_seconds,
            } => ApiError::TooManyLogins {
                retry_after_seconds,
            },
            UsersError::Busy => {
                ApiError::Busy("every password check is taken; retry in a second".into())
            }
            UsersError::Storage(e) => e.into(),
            other => ApiError::Internal(other.into()),
        }
    }
}

impl From<ReportingError> for ApiError {
    fn from(e: ReportingError) -> Self {
        match e {
            ReportingError::Validation(errors) => ApiError::Validation(errors),
            ReportingError::Forbidden => ApiError::Forbidden("this needs the admin role".into()),
            ReportingError::AlreadyRunning => {
                ApiError::conflict("conflict", "a rebuild is already running")
            }
            ReportingError::Storage(e) => e.into(),
            other => ApiError::Internal(other.into()),
        }
    }
}

/// Why a wallet cannot pay, in a customer's words, amounts as money.
pub(crate) fn wallet_shortfall(why: &bookings_api::WalletShortfall) -> String {
    use crate::money::money;
    match why {
        bookings_api::WalletShortfall::Currency { wallet, show } => {
            format!("your wallet holds {wallet}, and this show is priced in {show}")
        }
        bookings_api::WalletShortfall::Funds {
            balance_cents,
            seats,
            total_cents,
            currency,
        } => format!(
            "your wallet holds {}, and {} {}",
            money(*balance_cents, currency),
            if *seats == 1 {
                "a seat costs".to_owned()
            } else {
                format!("these {seats} seats cost")
            },
            money(*total_cents, currency)
        ),
    }
}

/// `text` with its first letter in upper case.
fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}
