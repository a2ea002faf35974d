//! Console pages: grants (being written).

use axum::Router;

use crate::state::Node;

pub fn routes() -> Router<Node> {
    Router::new()
}
