//! Calendar, policy and filing routes.

use axum::Router;

use crate::state::Node;

pub fn routes() -> Router<Node> {
    Router::new()
}
