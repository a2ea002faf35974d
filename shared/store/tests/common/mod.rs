//! Helpers shared by the store's integration tests: throw-away databases on each backend
//! (`db`) and realistic power-list data signed by test node keys (`data`).

// Each test crate uses only part of these helpers.
#![allow(dead_code)]

pub mod data;
pub mod db;
pub mod ingest;

/// `NAME => SQLITE_TEST, POSTGRES_TEST;` runs `NAME(store)` on a fresh store of each backend
/// (`sqlite_…` on a temporary file, `postgres_…` on a fresh database of
/// `QUANZE_TEST_DATABASE_URL`).
#[allow(unused_macros)]
macro_rules! on_each_backend {
    ($($name:ident => $sqlite:ident, $postgres:ident;)*) => {$(
        on_each_backend!(@one $name $sqlite sqlite);
        on_each_backend!(@one $name $postgres postgres);
    )*};
    (@one $name:ident $test:ident $backend:ident) => {
        #[tokio::test]
        async fn $test() {
            let Some(db) = crate::common::db::TestDb::$backend(stringify!($test)).await else { return };
            $name(db.open().await).await;
            db.finish().await;
        }
    };
}
#[allow(unused_imports)]
pub(crate) use on_each_backend;
