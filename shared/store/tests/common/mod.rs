//! Helpers shared by the store's integration tests: throw-away databases on each backend
//! (`db`) and realistic power-list data signed by test node keys (`data`).

// Each test crate uses only part of these helpers.
#![allow(dead_code)]

pub mod data;
pub mod db;
