//! The console's style sheet and script, compiled into the binary (no build step, nothing
//! fetched from elsewhere), served with a version in their cache key.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::state::Node;

const CSS: &str = include_str!("static/console.css");
const JS: &str = include_str!("static/console.js");

pub fn routes() -> Router<Node> {
    Router::new()
        .route("/console/assets/console.css", get(|| async { asset("text/css; charset=utf-8", CSS) }))
        .route("/console/assets/console.js", get(|| async { asset("text/javascript; charset=utf-8", JS) }))
}

fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-cache")], body)
}
