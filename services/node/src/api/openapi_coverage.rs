//! Tests that the router and its OpenAPI document describe the same routes.
//!
//! Owns the enumeration of what the router really registers: every (method, path) of the
//! assembled router (`api::routes`, the one the node serves), read from the router itself, and
//! the comparison with the operations of `/openapi.json`. A route added with a plain
//! `.route(...)` instead of `routes!` is served but not described, and fails here. Must not
//! build a router of its own or keep a list of routes: both sides come from the code.

use std::collections::BTreeSet;

use serde_json::Value;

/// Methods as axum's `MethodRouter` lists them (its `Debug` field names).
const METHODS: [&str; 9] = ["get", "head", "delete", "options", "patch", "post", "put", "trace", "connect"];

/// Every (method, path) of a router, read from its `Debug` text: the route ids with their
/// method endpoints, and the path of each id. A route registered as a whole service (no
/// methods) is listed with the method `*`.
fn registered(router_debug: &str) -> BTreeSet<(String, String)> {
    // The fallback router has route ids of its own; only the path router's routes are served.
    let routes = router_debug.split(", fallback_router:").next().unwrap();
    let mut methods: std::collections::HashMap<u32, Vec<String>> = Default::default();
    let mut paths: std::collections::HashMap<u32, String> = Default::default();
    for part in routes.split("RouteId(").skip(1) {
        let Some((id, rest)) = part.split_once("): ") else { continue };
        let Ok(id) = id.parse::<u32>() else { continue };
        if let Some(path) = rest.strip_prefix('"') {
            paths.insert(id, path[..path.find('"').unwrap()].to_string());
        } else if let Some(fields) = rest.strip_prefix("MethodRouter(MethodRouter { ") {
            let fields = &fields[..fields.find("fallback:").expect("MethodRouter lists its fallback")];
            let found = fields
                .split(", ")
                .filter_map(|f| f.split_once(": "))
                .filter(|(name, value)| METHODS.contains(name) && *value != "None")
                .map(|(name, _)| name.to_string())
                .collect();
            methods.insert(id, found);
        } else {
            methods.insert(id, vec!["*".to_string()]);
        }
    }
    let mut out = BTreeSet::new();
    for (id, ms) in methods {
        let path = paths.get(&id).unwrap_or_else(|| panic!("route id {id} has no path"));
        for m in ms {
            out.insert((m, path.clone()));
        }
    }
    out
}

/// Every (method, path) operation of an OpenAPI document.
fn described(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if item.get(method).is_some() {
                out.insert((method.to_string(), path.clone()));
            }
        }
    }
    out
}

fn document() -> Value {
    serde_json::from_str(super::openapi::document_json()).expect("the document is JSON")
}

#[test]
fn every_route_is_described_and_every_description_is_routed() {
    let routes = registered(&format!("{:?}", super::routes()));
    // The enumeration itself works: it finds routes of each kind (a format change of axum's
    // `Debug` would otherwise make both sides empty and the test pass vacuously).
    for known in [
        ("get", "/healthz"),
        ("get", "/openapi.json"),
        ("get", "/api/v1/items/{code}"),
        ("patch", "/api/v1/items/{code}"),
        ("put", "/api/v1/policy"),
        ("get", "/console/requests/{id}"),
    ] {
        assert!(routes.contains(&(known.0.into(), known.1.into())), "{known:?} not found in the router's routes");
    }
    let doc = described(&document());
    let undescribed: Vec<_> = routes.difference(&doc).collect();
    let unrouted: Vec<_> = doc.difference(&routes).collect();
    assert!(
        undescribed.is_empty(),
        "routes served but not in /openapi.json (register them with `routes!` and a `#[utoipa::path]`, \
         see ARCHITECTURE.md, API description): {undescribed:?}"
    );
    assert!(unrouted.is_empty(), "operations in /openapi.json that the router does not serve: {unrouted:?}");
    assert!(routes.len() > 90, "only {} routes found", routes.len());
}

#[test]
fn every_operation_declares_its_path_parameters_errors_and_tag() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["components"]["schemas"]["Error"]["properties"]["code"].is_object());
    for (path, item) in doc["paths"].as_object().unwrap() {
        let wanted: BTreeSet<&str> =
            path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}'))).collect();
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let declared: BTreeSet<&str> = op["parameters"]
                .as_array()
                .map(|ps| ps.iter().filter(|p| p["in"] == "path").filter_map(|p| p["name"].as_str()).collect())
                .unwrap_or_default();
            assert_eq!(declared, wanted, "{method} {path}: path parameters");
            let responses = op["responses"].as_object().unwrap();
            assert!(responses.contains_key("4XX") && responses.contains_key("5XX"), "{method} {path}: error answers");
            assert!(
                responses.keys().any(|k| k.starts_with('2') || k.starts_with('3')),
                "{method} {path}: no success answer"
            );
            assert!(op["tags"].as_array().is_some_and(|t| !t.is_empty()), "{method} {path}: no tag");
        }
    }
}

#[test]
fn the_enumeration_reads_methods_and_paths() {
    use axum::routing::{get, post};
    let router: axum::Router = axum::Router::new()
        .route("/a", get(|| async {}).post(|| async {}))
        .nest("/n", axum::Router::new().route("/{x}", post(|| async {})).fallback(|| async {}));
    let found = registered(&format!("{router:?}"));
    let want: BTreeSet<(String, String)> = [("get", "/a"), ("post", "/a"), ("post", "/n/{x}")]
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(found, want);
}

/// A JSON body or answer described as a bare `Object` proves nothing to the API schema test:
/// what a route parses and what a read answers are named types (see ARCHITECTURE.md, "Typed API
/// answers"). Covers every request body and every successful `GET` answer whose only content is
/// JSON; a route answering several formats (an export, the audit) is left out, and so is
/// `/openapi.json` itself.
#[test]
fn json_bodies_and_json_reads_are_named_schemas() {
    let doc = document();
    // A named type, or an optional one (`oneOf` the type and `null`).
    let named = |schema: &Value| {
        schema.get("$ref").is_some()
            || schema["oneOf"]
                .as_array()
                .is_some_and(|all| all.iter().all(|s| s.get("$ref").is_some() || s["type"] == "null"))
    };
    let json_only = |content: &Value| -> Option<Value> {
        let content = content.as_object()?;
        (content.len() == 1).then(|| content.get("application/json").map(|c| c["schema"].clone())).flatten()
    };
    let mut loose = Vec::new();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            if let Some(schema) = op.get("requestBody").and_then(|b| json_only(&b["content"])) {
                checked += 1;
                if !named(&schema) {
                    loose.push(format!("{method} {path}: request body"));
                }
            }
            if method != "get" || path == "/openapi.json" {
                continue;
            }
            for (status, answer) in op["responses"].as_object().unwrap() {
                let Some(schema) = answer.get("content").and_then(json_only) else { continue };
                if status.starts_with('2') {
                    checked += 1;
                    if !named(&schema) {
                        loose.push(format!("{method} {path}: {status} answer"));
                    }
                }
            }
        }
    }
    assert!(checked > 50, "only {checked} JSON bodies and answers found");
    assert!(loose.is_empty(), "described as a bare object, not a named schema: {loose:#?}");
}
