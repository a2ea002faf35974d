//! Fault injection with real processes. Each fault has its own file:
//!
//! * `kill9` — SIGKILL of a parent at seeded points while it ingests a child's large push, and
//!   of a node in the middle of a large import: nothing acknowledged is lost, every log
//!   verifies, projections equal a rebuild, and the federation converges.
//! * `partition` — a city cut off from the province by a fault-injecting TCP proxy for days of
//!   simulated time while both sides write; `quanze status` shows the unreachable parent; after
//!   healing every node holds the same heads.
//! * `rollback` — a parent restored from an older backup: its child refuses the shorter history
//!   and returns the parent's own lost entries; everything converges.
//! * `disk_full` — a parent whose files may not grow (RLIMIT_FSIZE): writes fail with 507
//!   `STORAGE_FULL`, the node keeps serving, nothing is half-written; after space is freed the
//!   child's retried push succeeds.
//! * `clock_skew` — nodes whose clocks differ by days keep syncing; the offset is shown.

mod clock_skew;
mod disk_full;
mod kill9;
mod partition;
mod rollback;

use std::time::Duration;

use quanze_tests::TestNode;
use quanze_tests::federation::item;
use serde_json::Value;

/// How long a fault test waits for the federation to converge after healing.
pub const HEAL: Duration = Duration::from_secs(90);

/// A valid item code of `letters` (two letters) numbered `n`.
pub fn code(letters: &str, n: u64) -> String {
    format!("{letters}{:05}{:03}", 100 + n / 1000, n % 1000)
}

/// Adds `count` licensing items numbered from `first` to `node`'s list, `parallel` requests at
/// a time; returns the entry head `(seq, hash)` of the highest seq written.
pub async fn write_items(node: &TestNode, body: &str, first: u64, count: u64, parallel: usize) -> (u64, String) {
    let mut best: Option<(u64, String)> = None;
    let numbers: Vec<u64> = (first..first + count).collect();
    for chunk in numbers.chunks(parallel) {
        let mut tasks = tokio::task::JoinSet::new();
        for n in chunk {
            let item = item(&code("XK", *n), &format!("行政许可事项（第{n}项）"), body);
            let request = node.authed(reqwest::Method::POST, "/api/v1/items").json(&item);
            tasks.spawn(async move {
                let res = request.send().await.expect("add item");
                let status = res.status().as_u16();
                let text = res.text().await.expect("answer");
                assert_eq!(status, 201, "add item: {text}");
                serde_json::from_str::<Value>(&text).expect("JSON")
            });
        }
        while let Some(written) = tasks.join_next().await {
            let written = written.expect("write task");
            let entry = &written["entry"];
            let head = (entry["seq"].as_u64().expect("seq"), entry["hash"].as_str().expect("hash").to_string());
            if best.as_ref().is_none_or(|b| b.0 < head.0) {
                best = Some(head);
            }
        }
    }
    best.expect("at least one item written")
}
