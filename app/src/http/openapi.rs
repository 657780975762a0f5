//! The OpenAPI document of the whole JSON API, generated from the handlers' annotations.

use std::sync::LazyLock;

use actix_web::{HttpResponse, ResponseError, web};
use utoipa::OpenApi;

use super::{
    bookings, events, health, payments, problem, reporting, seats, tickets, users, venues,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Boxoffice API",
        description = "A ticket box office built as a modular monolith. Errors are \
            `application/problem+json`; money is integer cents with a currency code; ids are UUIDs; \
            times are RFC 3339 (UTC, and a show's also in its venue's time zone with the offset and \
            the zone's name); lists take `limit` and `cursor`. Authenticate with \
            `POST /api/session`, which sets the `bo_session` cookie.",
    ),
    paths(
        users::register, users::log_in, users::log_out, users::me, users::list, users::get, users::update,
        users::deactivate, users::set_role,
        venues::open_venue, venues::list_venues, venues::get_venue, venues::change_venue,
        bookings::create_show, bookings::list_shows, bookings::get_show, bookings::update_show, bookings::cancel_show,
        bookings::place, bookings::list, bookings::get, bookings::cancel, bookings::saga, bookings::details,
        bookings::my_live,
        seats::seats, seats::quote, seats::live,
        tickets::tickets, tickets::check_in, tickets::admissions,
                payments::deposit, payments::wallet, payments::ledger, payments::list, payments::get,
        reporting::dashboard, reporting::feed, reporting::show_sales, reporting::my_summary, reporting::search_shows,
        reporting::rebuild, reporting::rebuild_status,
        events::list, events::chain, events::live, events::subscriptions, events::dead_letters, events::retry,
        events::discard,
        health::health, health::metrics, health::set_availability, health::advance_clock,
    ),
    components(schemas(problem::Problem, kernel::FieldError)),
    tags(
        (name = "users", description = "Accounts and sessions (the users module)"),
        (name = "bookings", description = "Venues, shows and their seats, bookings, the booking saga, tickets and the door (the bookings module)"),
        (name = "payments", description = "Wallets, ledgers and payments (the payments module)"),
                (name = "reporting", description = "The read model: dashboard, feed, sales, search (the reporting module)"),
        (name = "events", description = "The event log across modules, subscriptions and dead letters (admins)"),
        (name = "operations", description = "Health, metrics and fault injection"),
    ),
)]
struct ApiDoc;

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/openapi.json", web::get().to(document));
}

/// The document, built and completed once: it is fixed at compile time.
static DOCUMENT: LazyLock<serde_json::Value> = LazyLock::new(|| {
    let mut doc = serde_json::to_value(ApiDoc::openapi())
        .unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }));
    complete(&mut doc);
    doc
});

/// The document as served.
static DOCUMENT_JSON: LazyLock<String> = LazyLock::new(|| {
    serde_json::to_string_pretty(&*DOCUMENT).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
});

/// The operations anyone may call without a session; every other one answers 401 without it.
const PUBLIC: &[(&str, &str)] = &[
    ("post", "/api/users"),
    ("post", "/api/session"),
    ("get", "/api/shows"),
    ("get", "/api/shows/{id}"),
    ("get", "/api/shows/{id}/seats"),
    ("get", "/api/shows/{id}/quote"),
    ("get", "/api/shows/{id}/live"),
    ("get", "/api/venues"),
    ("get", "/api/venues/{id}"),
    ("get", "/api/search/shows"),
    ("get", "/health"),
    ("get", "/metrics"),
];

/// What every operation answers without saying so in its annotation, written into the document
/// once here: problems are `application/problem+json`; a body that cannot be read is a 400, one
/// too large a 413, one of another type a 415; a query that cannot be read is a 400; and every
/// operation but the public ones refuses a caller without a session (401).
fn complete(doc: &mut serde_json::Value) {
    use serde_json::{Value, json};
    let problem = |description: &str| {
        json!({
            "description": description,
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        })
    };
    drop_required_defaults(doc);
    name_tagged_variants(doc);
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (template, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in item.iter_mut() {
            if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            let has_body = op.get("requestBody").is_some();
            state_cursor_shapes(template, op);
            state_empty_parameters(op);
            let has_query = op
                .get("parameters")
                .and_then(Value::as_array)
                .is_some_and(|ps| ps.iter().any(|p| p["in"] == "query"));
            let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
                continue;
            };
            for (code, response) in responses.iter_mut() {
                // OpenAPI requires a description; an annotation without one gets the status's
                // reason phrase.
                if response.get("description").is_none_or(|d| d == "")
                    && let Some(response) = response.as_object_mut()
                {
                    let reason = code
                        .parse::<u16>()
                        .ok()
                        .and_then(|c| actix_web::http::StatusCode::from_u16(c).ok())
                        .and_then(|c| c.canonical_reason())
                        .unwrap_or("response");
                    response.insert("description".into(), reason.into());
                }
                let Some(content) = response.get_mut("content").and_then(Value::as_object_mut)
                else {
                    continue;
                };
                let names_problem = content
                    .get("application/json")
                    .is_some_and(|c| c.to_string().contains("#/components/schemas/Problem"));
                if names_problem && let Some(c) = content.remove("application/json") {
                    content.insert("application/problem+json".into(), c);
                }
            }
            let mut add = |code: &str, description: &str| {
                responses
                    .entry(code.to_owned())
                    .or_insert_with(|| problem(description));
            };
            if has_body {
                add("400", "the body could not be read (malformed JSON)");
                add("413", "the body is larger than 64 KiB");
                add("415", "the body is not application/json");
            }
            if has_query {
                add("400", "the query string could not be read");
                add("422", "a query parameter is not valid");
            }
            if !PUBLIC.contains(&(method.as_str(), template.as_str())) {
                responses
                    .entry("401".to_owned())
                    .or_insert_with(|| problem("no valid session"));
            }
        }
    }
}

/// Every list's `cursor` parameter gets the shape its parser accepts (the event log's cursor has
/// its own), stated once in the kernel beside the parser, so that a client can tell a
/// well-formed cursor from the document alone.
fn state_cursor_shapes(template: &str, op: &mut serde_json::Value) {
    let pattern = match template {
        "/api/events" => kernel::EventCursor::PATTERN,
        // Users are listed by id: the cursor is the last one's.
        "/api/users" => UUID_PATTERN,
        _ => kernel::Cursor::PATTERN,
    };
    let Some(parameters) = op.get_mut("parameters").and_then(|p| p.as_array_mut()) else {
        return;
    };
    for parameter in parameters {
        if parameter["name"] == "cursor" && parameter["in"] == "query" {
            // Empty is the first page, as if absent.
            parameter["schema"]["pattern"] = format!("^$|{pattern}").into();
        }
    }
}

/// A required property has no default: `#[serde(default)]` on a request body is there so that a
/// missing field becomes a field error (422) rather than a parse error, not to offer one, and
/// utoipa's `""` or `null` would not even be valid values.
fn drop_required_defaults(doc: &mut serde_json::Value) {
    use serde_json::Value;
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for schema in schemas.values_mut() {
        let required: Vec<String> = schema["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r.as_str().map(str::to_owned))
            .collect();
        let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
            continue;
        };
        for name in &required {
            if let Some(p) = properties.get_mut(name).and_then(Value::as_object_mut) {
                p.remove("default");
            }
        }
    }
}

/// A tagged enum (`#[serde(tag = "type")]`) comes out of utoipa as a `oneOf` of inline objects,
/// a variant with fields as an `allOf` of its fields' schema and the tag. Client generators
/// model that poorly (openapi-python-client drops it), so each variant becomes a named schema of
/// its own, `<Enum><Tag>` with its fields and the tag flattened in, and the enum a `oneOf` of
/// those with a `discriminator` on the tag.
fn name_tagged_variants(doc: &mut serde_json::Value) {
    use serde_json::{Map, Value, json};
    let Some(schemas) = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .cloned()
    else {
        return;
    };
    let resolve = |part: &Value| -> Value {
        part["$ref"]
            .as_str()
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
            .and_then(|name| schemas.get(name))
            .cloned()
            .unwrap_or_else(|| part.clone())
    };
    // The variant as one object schema, and the tag's property name and value.
    let flatten = |variant: &Value| -> Option<(Value, String, String)> {
        let parts: Vec<Value> = match variant["allOf"].as_array() {
            Some(parts) => parts.iter().map(resolve).collect(),
            None => vec![variant.clone()],
        };
        let mut properties = Map::new();
        let mut required: Vec<Value> = Vec::new();
        let mut tag = None;
        for part in &parts {
            for (name, property) in part["properties"].as_object()? {
                if let Some([value]) = property["enum"].as_array().map(Vec::as_slice) {
                    tag = Some((name.clone(), value.as_str()?.to_owned()));
                }
                properties.insert(name.clone(), property.clone());
            }
            for r in part["required"].as_array().into_iter().flatten() {
                if !required.contains(r) {
                    required.push(r.clone());
                }
            }
        }
        let (tag_name, tag_value) = tag?;
        let mut flat = json!({"type": "object", "properties": properties, "required": required});
        if let Some(description) = variant.get("description") {
            flat["description"] = description.clone();
        }
        Some((flat, tag_name, tag_value))
    };
    let mut named = Vec::new();
    for (name, schema) in &schemas {
        let Some(variants) = schema["oneOf"].as_array() else {
            continue;
        };
        let Some(flat) = variants.iter().map(flatten).collect::<Option<Vec<_>>>() else {
            continue;
        };
        let Some((_, property, _)) = flat.first() else {
            continue;
        };
        if flat.iter().any(|(_, p, _)| p != property) {
            continue;
        }
        let mut one_of = Vec::new();
        let mut mapping = Map::new();
        for (variant, _, tag) in flat.iter() {
            let variant_name = format!("{name}{}", upper_camel(tag));
            let reference = format!("#/components/schemas/{variant_name}");
            one_of.push(json!({"$ref": reference}));
            mapping.insert(tag.clone(), reference.into());
            named.push((variant_name, variant.clone()));
        }
        let mut replaced = json!({
            "oneOf": one_of,
            "discriminator": {"propertyName": property, "mapping": mapping},
        });
        if let Some(description) = schema.get("description") {
            replaced["description"] = description.clone();
        }
        named.push((name.clone(), replaced));
    }
    if let Some(target) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for (name, schema) in named {
            target.insert(name, schema);
        }
    }
}

/// `card_token` → `CardToken`.
fn upper_camel(text: &str) -> String {
    text.split('_')
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// A hyphenated UUID, the only spelling the users list's cursor takes.
const UUID_PATTERN: &str =
    "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";

/// Every optional query parameter may be sent empty, which means absent (what an empty field of
/// a `GET` form sends; see `extract::parse_query`): its schema says so, and never `null`, which a
/// query string cannot carry.
fn state_empty_parameters(op: &mut serde_json::Value) {
    use serde_json::{Value, json};
    let Some(parameters) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
        return;
    };
    for parameter in parameters {
        if parameter["in"] != "query" || parameter["required"] == true {
            continue;
        }
        let Some(schema) = parameter.get_mut("schema").and_then(Value::as_object_mut) else {
            continue;
        };
        if let Some(types) = schema.get_mut("type").and_then(Value::as_array_mut) {
            types.retain(|t| t != "null");
            if types.len() == 1 {
                let only = types[0].clone();
                schema.insert("type".into(), only);
            }
        }
        if let Some(one_of) = schema.remove("oneOf") {
            // utoipa's `Option<Enum>`: the enum, or null.
            let mut kept: Vec<Value> = one_of
                .as_array()
                .into_iter()
                .flatten()
                .filter(|s| s["type"] != "null")
                .cloned()
                .collect();
            if kept.len() == 1 {
                for (k, v) in kept.remove(0).as_object().into_iter().flatten() {
                    schema.insert(k.clone(), v.clone());
                }
            } else {
                schema.insert("oneOf".into(), Value::Array(kept));
            }
        }
        let described = Value::Object(schema.clone());
        let empty = json!({"type": "string", "maxLength": 0});
        parameter["schema"] = json!({"anyOf": [described, empty]});
    }
}

async fn document() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(DOCUMENT_JSON.as_str())
}

/// One documented path: its segments (`None` for a `{parameter}`) and the methods it declares.
struct Route {
    segments: Vec<Option<String>>,
    allow: Vec<String>,
}

/// Every documented path, read once from the document itself, so that what the server refuses
/// as an undeclared method is exactly what the document leaves out.
static ROUTES: LazyLock<Vec<Route>> = LazyLock::new(|| {
    let Some(paths) = DOCUMENT["paths"].as_object() else {
        return Vec::new();
    };
    paths
        .iter()
        .map(|(template, item)| {
            let mut allow: Vec<String> = item
                .as_object()
                .map(|ops| ops.keys().map(|m| m.to_uppercase()).collect())
                .unwrap_or_default();
            if allow.iter().any(|m| m == "GET") {
                allow.push("HEAD".into());
            }
            let segments = template
                .trim_start_matches('/')
                .split('/')
                .map(|s| (!s.starts_with('{')).then(|| s.to_owned()))
                .collect();
            Route { segments, allow }
        })
        .collect()
});

/// The methods the document declares for `path` (the best-matching template: most literal
/// segments), if it documents the path at all.
fn allowed_methods(path: &str) -> Option<&'static [String]> {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    ROUTES
        .iter()
        .filter(|r| {
            r.segments.len() == parts.len()
                && r.segments
                    .iter()
                    .zip(&parts)
                    .all(|(s, p)| s.as_deref().is_none_or(|s| s == *p))
        })
        .max_by_key(|r| r.segments.iter().filter(|s| s.is_some()).count())
        .map(|r| r.allow.as_slice())
}

/// Middleware: a `HEAD` is served as the `GET` of the same address (HTTP/1's codec, which saw
/// the `HEAD`, still sends no body); a method the document does not declare for a documented
/// path (`TRACE`, `OPTIONS`, a `PUT` where only `GET` is) is a 405 problem with the `Allow`
/// header the document implies, before any route is looked for.
pub(crate) async fn undeclared_method(
    mut req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<
    actix_web::dev::ServiceResponse<actix_web::body::EitherBody<impl actix_web::body::MessageBody>>,
    actix_web::Error,
> {
    if req.method() == actix_web::http::Method::HEAD {
        req.head_mut().method = actix_web::http::Method::GET;
    }
    if let Some(allow) = allowed_methods(req.path())
        && !allow.iter().any(|m| m == req.method().as_str())
    {
        let mut response = super::ApiError::MethodNotAllowed.error_response();
        if let Ok(value) = allow.join(", ").parse() {
            response
                .headers_mut()
                .insert(actix_web::http::header::ALLOW, value);
        }
        return Ok(req.into_response(response).map_into_right_body());
    }
    next.call(req).await.map(|r| r.map_into_left_body())
}
