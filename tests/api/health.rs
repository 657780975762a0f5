//! Operations endpoints: health, metrics, OpenAPI, fault injection, and routing errors.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_problem, assert_status, client, eventually, spawn_app};

#[tokio::test]
async fn health_reports_every_module_with_its_schema_version() {
    let app = spawn_app().await;
    let health = assert_status(app.get(&client(), "/health").await, StatusCode::OK).await;
    assert_eq!(health["status"], "ok");
    let modules = health["modules"].as_array().unwrap();
    assert!(!modules.is_empty());
    for m in modules {
        assert_eq!(m["status"], "up", "{m}");
        assert!(m["schema_version"].as_i64().unwrap() >= 1, "{m}");
        assert!(m["kernel_schema_version"].as_i64().unwrap() >= 1, "{m}");
    }
}

#[tokio::test]
async fn health_reports_the_server_process_footprint() {
    let app = spawn_app().await;
    let health = assert_status(app.get(&client(), "/health").await, StatusCode::OK).await;
    let process = &health["process"];
    assert!(process["rss_bytes"].as_u64().unwrap() > 0, "{health}");
    assert!(
        process["peak_rss_bytes"].as_u64().unwrap() >= process["rss_bytes"].as_u64().unwrap(),
        "{health}"
    );
    assert!(process["cpu_seconds"].as_f64().unwrap() >= 0.0, "{health}");
}

#[tokio::test]
async fn the_architecture_page_shows_every_module_to_admins_only() {
    let app = spawn_app().await;
    let (customer, _) = app.customer().await;
    let refused = app.get(&customer, "/admin/architecture").await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let (admin, _) = app.admin().await;
    let short = app.get(&admin, "/architecture").await;
    assert_eq!(short.status(), StatusCode::SEE_OTHER);
    assert_eq!(short.headers()["location"], "/admin/architecture");
    let page = app.get(&admin, "/admin/architecture").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    for needle in [
        "users.db",
        "bookings.db",
        "payments.db",
        "reporting.db",
        "BookingPlaced",
        "UserDirectory",
        "<svg",
    ] {
        assert!(
            html.contains(needle),
            "{needle} missing from the architecture page"
        );
    }
}

#[tokio::test]
async fn a_module_taken_offline_shows_in_health_and_comes_back_by_itself() {
    let app = spawn_app().await;
    let (admin, _) = app.admin().await;
    let (customer, _) = app.customer().await;
    let response = client()
        .put(app.url("/api/admin/modules/users/availability"))
        .json(&json!({"online": false}))
        .send()
        .await
        .unwrap();
    assert_problem(response, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    let bad = admin
        .put(app.url("/api/admin/modules/users/availability"))
        .json(&json!({"online": false, "offline_seconds": 0}))
        .send()
        .await
        .unwrap();
    assert_problem(bad, StatusCode::UNPROCESSABLE_ENTITY, "validation-error").await;
    let unknown = admin
        .put(app.url("/api/admin/modules/nope/availability"))
        .json(&json!({"online": false}))
        .send()
        .await
        .unwrap();
    assert_problem(unknown, StatusCode::NOT_FOUND, "not-found").await;

    let report = admin
        .put(app.url("/api/admin/modules/users/availability"))
        .json(&json!({"online": false, "offline_seconds": 1}))
        .send()
        .await
        .unwrap();
    let report = assert_status(report, StatusCode::OK).await;
    assert_eq!(report["status"], "degraded");
    // While users is offline, requests that need it fail as 503, not 500.
    let me = app.get(&customer, "/api/me").await;
    assert_problem(me, StatusCode::SERVICE_UNAVAILABLE, "module-unavailable").await;

    eventually(
        "the users module to come back",
        Duration::from_secs(5),
        || async {
            let h = assert_status(app.get(&client(), "/health").await, StatusCode::OK).await;
            (h["status"] == "ok").then_some(())
        },
    )
    .await;
    app.get_json(&customer, "/api/me").await;
}

#[tokio::test]
async fn an_admin_can_bring_users_back_online_although_logins_need_users() {
    let app = spawn_app().await;
    let (admin, _) = app.admin().await;
    let (customer, _) = app.customer().await;
    // The admin has been using the site: every process (one in the monolith, four split, taken
    // in turn) has seen them lately.
    for _ in 0..4 {
        app.get_json(&admin, "/api/me").await;
    }
    let off = admin
        .put(app.url("/api/admin/modules/users/availability"))
        .json(&json!({"online": false, "offline_seconds": 600}))
        .send()
        .await
        .unwrap();
    assert_status(off, StatusCode::OK).await;
    // Customers are told users is down; the admin, seen a moment ago, still sees Health and
    // the Subscriptions page, and can undo the outage.
    assert_problem(
        app.get(&customer, "/api/me").await,
        StatusCode::SERVICE_UNAVAILABLE,
        "module-unavailable",
    )
    .await;
    assert_problem(
        app.log_in(&client(), "someone@example.com", "correct horse")
            .await,
        StatusCode::SERVICE_UNAVAILABLE,
        "module-unavailable",
    )
    .await;
    assert_eq!(
        app.get(&admin, "/admin/health").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.get(&admin, "/api/admin/subscriptions").await.status(),
        StatusCode::OK
    );
    let on = admin
        .put(app.url("/api/admin/modules/users/availability"))
        .json(&json!({"online": true}))
        .send()
        .await
        .unwrap();
    let report = assert_status(on, StatusCode::OK).await;
    assert_eq!(report["status"], "ok", "{report}");
    app.get_json(&customer, "/api/me").await;
}

#[tokio::test]
async fn with_bookings_or_payments_offline_the_admin_still_reads_health_and_subscriptions() {
    let app = spawn_app().await;
    let (admin, _) = app.admin().await;
    for module in ["bookings", "payments"] {
        let path = format!("/api/admin/modules/{module}/availability");
        let off = admin
            .put(app.url(&path))
            .json(&json!({"online": false, "offline_seconds": 600}))
            .send()
            .await
            .unwrap();
        assert_status(off, StatusCode::OK).await;
        if module == "bookings" {
            // The shows cannot be listed: the page says so, with the signed-in header and a way
            // forward that does not lead back to the same outage.
            let r = app.get(&admin, "/").await;
            assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
            let html = r.text().await.unwrap();
            assert!(
                html.contains("Log out")
                    && html.contains(r#"href="/wallet""#)
                    && html.contains("Try again"),
                "{html}"
            );
        }
        for page in ["/admin/health", "/admin/consumers"] {
            let r = app.get(&admin, page).await;
            assert_eq!(r.status(), StatusCode::OK, "{page} with {module} offline");
            let html = r.text().await.unwrap();
            if page == "/admin/consumers" {
                assert!(
                    html.contains(&format!("Not answering now: {module}.")),
                    "{html}"
                );
            }
        }
        let on = admin
            .put(app.url(&path))
            .json(&json!({"online": true}))
            .send()
            .await
            .unwrap();
        assert_status(on, StatusCode::OK).await;
    }
}

#[tokio::test]
async fn metrics_are_prometheus_text_with_the_backbone_counters() {
    let app = spawn_app().await;
    app.customer().await;
    // Metrics are per process: the one hosting users counted its event.
    let mut texts = Vec::new();
    for response in app.get_on_every_process("/metrics").await {
        assert_eq!(response.status(), StatusCode::OK);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/openmetrics-text")
        );
        let text = response.text().await.unwrap();
        assert!(text.contains("boxoffice_http_requests_total"), "{text}");
        texts.push(text);
    }
    assert!(
        texts
            .iter()
            .any(|t| t.contains(r#"boxoffice_events_appended_total{stream="users"} 1"#)),
        "{texts:?}"
    );
}

#[tokio::test]
async fn the_openapi_document_describes_the_users_contract() {
    let app = spawn_app().await;
    let doc = assert_status(
        app.get(&client(), "/api/openapi.json").await,
        StatusCode::OK,
    )
    .await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/users",
        "/api/users/{id}",
        "/api/session",
        "/api/me",
        "/health",
        "/metrics",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
}

#[tokio::test]
async fn unknown_paths_and_methods_are_problems_too() {
    let app = spawn_app().await;
    assert_problem(
        app.get(&client(), "/api/nothing-here").await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    let wrong_method = client().put(app.url("/api/me")).send().await.unwrap();
    assert_problem(
        wrong_method,
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
    )
    .await;
    let page = app.get(&client(), "/no-such-page").await;
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    assert!(page.text().await.unwrap().contains("Page not found"));
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_continues_a_given_correlation_id() {
    let app = spawn_app().await;
    let correlation = "01900000-0000-7000-8000-0000000000aa";
    let response = client()
        .get(app.url("/health"))
        .header("x-correlation-id", correlation)
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-correlation-id"], correlation);
    assert!(uuid::Uuid::parse_str(response.headers()["x-request-id"].to_str().unwrap()).is_ok());
}

#[tokio::test]
async fn every_operation_answers_only_what_the_document_says_and_its_parameters_match_its_path() {
    let app = spawn_app().await;
    let doc = assert_status(
        app.get(&client(), "/api/openapi.json").await,
        StatusCode::OK,
    )
    .await;
    let (customer, _) = app.customer().await;
    let (admin, _) = app.admin().await;
    let mut drift = Vec::new();
    for (template, item) in doc["paths"].as_object().unwrap() {
        let in_template: Vec<&str> = template
            .split('{')
            .skip(1)
            .filter_map(|s| s.split('}').next())
            .collect();
        for (method, op) in item.as_object().unwrap() {
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let declared: Vec<&str> = params
                .iter()
                .filter(|p| p["in"] == "path")
                .map(|p| p["name"].as_str().unwrap())
                .collect();
            let mut sorted = in_template.clone();
            sorted.sort_unstable();
            let mut declared_sorted = declared.clone();
            declared_sorted.sort_unstable();
            if sorted != declared_sorted {
                drift.push(format!(
                    "{method} {template}: path parameters {declared:?}, path has {in_template:?}"
                ));
            }
            let responses = op["responses"].as_object().unwrap();
            for (code, r) in responses {
                let text = r.to_string();
                if text.contains("#/components/schemas/Problem")
                    && r["content"].get("application/problem+json").is_none()
                {
                    drift.push(format!(
                        "{method} {template} {code}: a problem not as application/problem+json"
                    ));
                }
            }
            if template.ends_with("/live") {
                continue; // server-sent events: a stream, not an answer
            }
            // Anyone, a customer and an admin, with an unknown id and an empty body: whatever the
            // server answers must be in the document.
            let path = template
                .replace("{module}", "users")
                .replace("{id}", &uuid::Uuid::now_v7().to_string());
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            for (who, caller) in [
                ("anyone", client()),
                ("customer", customer.clone()),
                ("admin", admin.clone()),
            ] {
                if path == "/api/admin/modules/users/availability" && who == "admin" {
                    continue; // taking users offline would change what the rest answers
                }
                let mut request = caller.request(method.clone(), app.url(&path));
                if op.get("requestBody").is_some() {
                    request = request.json(&json!({}));
                }
                let status = request.send().await.unwrap().status();
                if !responses.contains_key(status.as_str()) {
                    drift.push(format!(
                        "{method} {template} as {who}: {status} is not documented ({:?})",
                        responses.keys().collect::<Vec<_>>()
                    ));
                }
            }
        }
    }
    assert!(drift.is_empty(), "{}", drift.join("\n"));
}

#[tokio::test]
async fn a_method_a_documented_path_does_not_declare_is_a_405_with_allow() {
    let app = spawn_app().await;
    for (method, path, allow) in [
        ("TRACE", "/api/shows", "GET, HEAD, POST"),
        ("OPTIONS", "/api/me", "GET, HEAD"),
        ("PUT", "/api/me", "GET, HEAD"),
        ("TRACE", "/health", "GET, HEAD"),
        (
            "DELETE",
            "/api/shows/01a2373f-55db-77d3-99d2-f1e050f17a66",
            "GET, HEAD, PATCH",
        ),
    ] {
        let r = client()
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                app.url(path),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        let mut got: Vec<String> = r.headers()["allow"]
            .to_str()
            .unwrap()
            .split(", ")
            .map(str::to_owned)
            .collect();
        got.sort();
        let mut want: Vec<&str> = allow.split(", ").collect();
        want.sort_unstable();
        assert_eq!(got, want, "{method} {path}");
        assert_problem(r, StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed").await;
    }
}

#[tokio::test]
async fn pages_answer_a_malformed_id_or_an_oversized_form_with_the_sites_page_never_json() {
    let app = spawn_app().await;
    let (admin, _) = app.admin().await;
    for path in [
        "/shows/not-an-id",
        "/bookings/not-an-id",
        "/bookings/12345/live",
        "/admin/shows/not-an-id",
        "/admin/events/trace/not-an-id",
        // Well-formed, but nothing has them: the same page, the same header.
        "/shows/01a2373f-55db-77d3-99d2-f1e050f17a66",
        "/bookings/01a2373f-55db-77d3-99d2-f1e050f17a66",
    ] {
        let r = app.get(&admin, path).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        let kind = r.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(kind.starts_with("text/html"), "{path}: {kind}");
        let html = r.text().await.unwrap();
        assert!(html.contains("Page not found"), "{path}: {html}");
        // The header knows who is signed in.
        assert!(html.contains("Log out"), "{path}: {html}");
    }
    let r = admin
        .post(app.url("/wallet/deposits"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("amount={}", "1".repeat(200_000)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let kind = r.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(kind.starts_with("text/html"), "{kind}");
    assert!(r.text().await.unwrap().contains("Too much to send"));
    // The API keeps its problem documents.
    let r = app.get(&admin, "/api/shows/not-an-id").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let kind = r.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(kind.starts_with("application/problem+json"), "{kind}");
}

#[tokio::test]
async fn a_page_answers_a_method_it_does_not_take_with_the_sites_405_page_and_head_as_get() {
    let app = spawn_app().await;
    for (method, path, allow) in [
        ("TRACE", "/", "GET, HEAD"),
        ("GET", "/logout", "POST"),
        ("DELETE", "/admin/shows", "GET, HEAD, POST"),
        (
            "PUT",
            "/shows/01a2373f-55db-77d3-99d2-f1e050f17a66",
            "GET, HEAD",
        ),
    ] {
        let r = client()
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                app.url(path),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        let mut got: Vec<String> = r.headers()["allow"]
            .to_str()
            .unwrap()
            .split(", ")
            .map(str::to_owned)
            .collect();
        got.sort();
        let mut want: Vec<&str> = allow.split(", ").collect();
        want.sort_unstable();
        assert_eq!(got, want, "{method} {path}");
        let html = r.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(html.starts_with("text/html"), "{method} {path}: {html}");
        assert!(r.text().await.unwrap().contains("Not allowed here"));
    }
    for path in ["/", "/api/shows", "/health", "/assets/app.css"] {
        let head = client().head(app.url(path)).send().await.unwrap();
        assert_eq!(head.status(), StatusCode::OK, "HEAD {path}");
        assert!(
            head.text().await.unwrap().is_empty(),
            "HEAD {path} sent a body"
        );
    }
}
