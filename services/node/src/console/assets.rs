//! The console's style sheet and script, compiled into the binary (no build step, nothing
//! fetched from elsewhere), served with a version in their cache key.

use axum::http::header;
use axum::response::IntoResponse;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::Node;

const CSS: &str = include_str!("static/console.css");
const JS: &str = include_str!("static/console.js");

pub fn routes() -> OpenApiRouter<Node> {
    OpenApiRouter::new().routes(routes!(console_css)).routes(routes!(console_js))
}

/// The console's style sheet.
#[utoipa::path(get, path = "/console/assets/console.css", tag = "console", security(()), responses((status = 200, description = "The style sheet", content_type = "text/css", body = String)))]
async fn console_css() -> impl IntoResponse {
    asset("text/css; charset=utf-8", CSS)
}

/// The console's script.
#[utoipa::path(get, path = "/console/assets/console.js", tag = "console", security(()), responses((status = 200, description = "The script", content_type = "text/javascript", body = String)))]
async fn console_js() -> impl IntoResponse {
    asset("text/javascript; charset=utf-8", JS)
}

fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-cache")], body)
}
