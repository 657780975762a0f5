//! Request extractors that turn unreadable input into problems naming the field at fault, instead
//! of actix's plain-text defaults.

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, dev::Payload, error::PayloadError, web};
use kernel::FieldErrors;
use serde::de::DeserializeOwned;

use super::problem::ApiError;

/// Largest JSON body accepted.
pub(crate) const MAX_BODY: usize = 64 * 1024;

/// Middleware: a request that announces a body over [`MAX_BODY`] is answered 413 at once,
/// whatever its content type or route (the internal API between processes, which carries larger
/// pages of events, has its own limit). A body without a length is limited by the extractor that
/// reads it.
pub(crate) async fn limit_body(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<
    actix_web::dev::ServiceResponse<actix_web::body::EitherBody<impl actix_web::body::MessageBody>>,
    actix_web::Error,
> {
    let announced = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
    if announced.is_some_and(|n| n > MAX_BODY as u64) && !req.path().starts_with("/internal/") {
        let response = actix_web::ResponseError::error_response(&ApiError::PayloadTooLarge);
        return Ok(req.into_response(response).map_into_right_body());
    }
    next.call(req).await.map(|r| r.map_into_left_body())
}

/// A JSON body, read with field-level errors.
pub(crate) struct Json<T>(pub(crate) T);

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = req
            .headers()
            .get(actix_web::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json"
                    || (mime.starts_with("application/") && mime.ends_with("+json"))
            })
            .unwrap_or(false);
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !is_json {
                return Err(ApiError::UnsupportedMediaType);
            }
            let bytes = body.await.map_err(|e| match e.as_error::<PayloadError>() {
                Some(PayloadError::Overflow) => ApiError::PayloadTooLarge,
                _ => ApiError::BadRequest(format!("the body could not be read: {e}")),
            })?;
            parse_json(&bytes).map(Json)
        })
    }
}

/// Parses JSON, naming the field at fault for type errors and missing fields.
pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        None => {
            return Err(ApiError::BadRequest(
                "the body is empty; send a JSON object".into(),
            ));
        }
        // Every request body of this API is an object; serde would otherwise read an array
        // positionally into a struct.
        Some(b'{') => {}
        Some(b'[' | b'"' | b'n' | b't' | b'f' | b'-' | b'0'..=b'9') => {
            return Err(ApiError::Validation(FieldErrors::single(
                "body",
                "must be a JSON object",
            )));
        }
        Some(_) => {
            return Err(ApiError::BadRequest(
                "malformed JSON: expected a JSON object".into(),
            ));
        }
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => field_error(&path, &inner.to_string()),
            _ => ApiError::BadRequest(format!("malformed JSON: {inner}")),
        }
    })?;
    de.end()
        .map_err(|e| ApiError::BadRequest(format!("malformed JSON: {e}")))?;
    Ok(value)
}

/// Query parameters, read with field-level errors.
pub(crate) struct Query<T>(pub(crate) T);

impl<T: DeserializeOwned + 'static> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).map(Query))
    }
}

/// Parses a query string, naming the parameter at fault. A parameter with an empty value is the
/// same as an absent one (what an empty field of a `GET` form sends), as the OpenAPI document
/// says of every optional query parameter.
pub(crate) fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let filled = form_urlencoded::parse(query.as_bytes()).filter(|(_, value)| !value.is_empty());
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(filled)
        .finish();
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        field_error(&path, &e.into_inner().to_string())
    })
}

/// Turns a serde message into a field error a person can read.
fn field_error(path: &str, message: &str) -> ApiError {
    let message = message.split(" at line ").next().unwrap_or(message).trim();
    if let Some(rest) = message.strip_prefix("missing field `") {
        let name = rest.trim_end_matches('`');
        let field = if path == "." || path.is_empty() {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        };
        return ApiError::Validation(FieldErrors::single(field, "is required"));
    }
    let field = if path == "." || path.is_empty() {
        "body".to_owned()
    } else {
        path.to_owned()
    };
    let message = message
        .replace("invalid type: ", "has the wrong type: ")
        .replace("invalid value: ", "has an invalid value: ")
        .replace("invalid digit found in string", "must be a whole number")
        .replace("number too large to fit in target type", "is too large")
        .replace("number too small to fit in target type", "is too small");
    ApiError::Validation(FieldErrors::single(field, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        seats: u32,
    }

    fn fields(e: ApiError) -> Vec<(String, String)> {
        match e {
            ApiError::Validation(f) => f
                .iter()
                .map(|e| (e.field.clone(), e.message.clone()))
                .collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn a_missing_field_is_named() {
        let e = parse_json::<Body>(br#"{"name":"x"}"#).unwrap_err();
        assert_eq!(fields(e), [("seats".to_owned(), "is required".to_owned())]);
    }

    #[test]
    fn a_wrong_type_names_its_field() {
        let e = parse_json::<Body>(br#"{"name":"x","seats":"two"}"#).unwrap_err();
        let f = fields(e);
        assert_eq!(f[0].0, "seats");
        assert!(f[0].1.starts_with("has the wrong type"), "{f:?}");
    }

    #[test]
    fn malformed_json_and_trailing_garbage_are_bad_requests() {
        assert!(matches!(
            parse_json::<Body>(br#"{"name":"#),
            Err(ApiError::BadRequest(_))
        ));
        assert!(matches!(
            parse_json::<Body>(br#"{"name":"x","seats":1} x"#),
            Err(ApiError::BadRequest(_))
        ));
        assert!(matches!(
            parse_json::<Body>(b"  "),
            Err(ApiError::BadRequest(_))
        ));
    }

    #[test]
    fn a_body_that_is_not_an_object_is_refused_even_when_serde_would_read_it() {
        let f = fields(parse_json::<Body>(br#"["x", 1]"#).unwrap_err());
        assert_eq!(f, [("body".to_owned(), "must be a JSON object".to_owned())]);
    }

    #[test]
    fn a_negative_number_for_an_unsigned_field_is_a_validation_error() {
        let f = fields(parse_json::<Body>(br#"{"name":"x","seats":-1}"#).unwrap_err());
        assert_eq!(f[0].0, "seats");
    }

    #[test]
    fn a_query_parameter_that_is_not_a_number_is_named() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Q {
            limit: Option<u32>,
        }
        let f = fields(parse_query::<Q>("limit=ten").unwrap_err());
        assert_eq!(
            f,
            [("limit".to_owned(), "must be a whole number".to_owned())]
        );
        assert!(parse_query::<Q>("").is_ok());
    }
}
