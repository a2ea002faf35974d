//! `quanze backup` and `quanze restore` on real processes: a county is backed up while it serves
//! and writes, writes more and pushes it to its city, loses its data directory and is restored
//! from the archive; on start it fetches its own newer entries back from the city before it
//! signs again, and goes on syncing with no fork and no refusal. The same archive restores into
//! PostgreSQL; a corrupted or truncated archive and a non-empty target are refused with nothing
//! written.

use std::time::Duration;

use quanze_tests::federation::{Federation, eventually, fed_heads, item};
use quanze_tests::{TestNode, describe, quanze};
use serde_json::Value;

const COUNTY: &str = "510521";

/// The county's item `n` (codes XK00100000 + n).
fn county_item(n: u32) -> Value {
    item(&format!("XK{:05}000", 100 + n), &format!("测试许可事项{n}"), "泸县市场监督管理局")
}

/// Waits until the city holds the county's log up to the county's own head.
async fn city_holds_county(fed: &Federation) -> u64 {
    let seq = fed.county().head_seq().await;
    eventually("the city holds the county's log", Duration::from_secs(30), async || {
        match fed_heads(fed.city()).await.get(COUNTY) {
            Some((s, _)) if *s == seq => Ok(()),
            other => Err(format!("city holds {other:?}, county is at {seq}")),
        }
    })
    .await;
    seq
}

#[tokio::test]
async fn a_restored_county_recovers_its_newer_entries_and_keeps_syncing() {
    let mut fed = Federation::start(3).await;
    let county = fed.county();
    for n in 0..3 {
        county.add_item(&county_item(n)).await;
    }
    // The backup runs while the county goes on writing.
    let archive = county.scratch("county.qzbackup");
    let before_backup = county.head_seq().await;
    let (out, ()) = tokio::join!(county.cli(["backup", "--to", path(&archive)]), async {
        for n in 3..8 {
            county.add_item(&county_item(n)).await;
        }
    });
    assert!(out.status.success(), "quanze backup failed: {}", describe(&out));
    let after_backup = county.head_seq().await;
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("私钥") && said.contains("private key"), "the backup warns it holds the key: {said}");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&archive).unwrap().permissions().mode() & 0o777, 0o600);

    // After the backup: more entries, which reach the city.
    for n in 8..11 {
        county.add_item(&county_item(n)).await;
    }
    let head = city_holds_county(&fed).await;
    let list = county.items().await;

    // The disk is lost; restore into the same place and start.
    let county = fed.node_mut(COUNTY);
    county.stop().await;
    std::fs::remove_dir_all(&county.data_dir).unwrap();
    let out = quanze(["restore", "--from", path(&archive), "--data-dir", path(&county.data_dir)]).await;
    assert!(out.status.success(), "quanze restore failed: {}", describe(&out));
    county.restart().await;

    let county = fed.county();
    eventually("the restored county caught up with its own log", Duration::from_secs(60), async || {
        let seq = county.head_seq().await;
        if seq == head { Ok(()) } else { Err(format!("county at #{seq}, want #{head}")) }
    })
    .await;
    assert_eq!(county.items().await, list, "the list is what it was before the disk was lost");
    // The archive ends at #after_backup at the latest: every entry beyond it came back from the city.
    assert!(after_backup < head, "entries were written after the backup: #{after_backup} < #{head}");
    // Writes resume once the own log is confirmed, continuing the log, and reach the city.
    let written = eventually("the restored county accepts writes", Duration::from_secs(30), async || {
        let reply = county.post_json("/api/v1/items", &county_item(11)).await;
        if reply.status == 201 { Ok(reply.json()) } else { Err(reply.json().to_string()) }
    })
    .await;
    assert_eq!(written["entry"]["seq"], head + 1);
    fed.wait_converged(Duration::from_secs(30)).await;
    for node in [fed.city(), fed.county()] {
        let status = node.fed_status().await;
        assert_eq!(status["quarantined"], serde_json::json!([]), "no fork at {}: {status}", node.division);
        assert_eq!(status["recent_refusals"], serde_json::json!([]), "no refusal at {}: {status}", node.division);
    }
    let out = fed.county().cli(["log", "verify"]).await;
    assert!(out.status.success(), "log verify on the restored county: {}", describe(&out));

    restore_into_postgres(fed.county(), &archive, before_backup..=after_backup).await;
    bad_archives_change_nothing(fed.county(), &archive).await;
}

fn path(p: &std::path::Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

/// The SQLite node's archive restored into an empty PostgreSQL database: same list, log intact.
async fn restore_into_postgres(
    county: &TestNode,
    archive: &std::path::Path,
    snapshot_seq: std::ops::RangeInclusive<u64>,
) {
    let Some(pg) = quanze_tests::postgres::FreshDatabase::create("restore").await else { return };
    let dir = county.scratch("restored-pg");
    let out = quanze(["restore", "--from", path(archive), "--data-dir", path(&dir), "--database-url", &pg.url]).await;
    assert!(out.status.success(), "restore into PostgreSQL failed: {}", describe(&out));
    let config = std::fs::read_to_string(dir.join("quanze.toml")).unwrap();
    assert!(config.contains("postgres://"), "the restored config names the database: {config}");
    let out = quanze(["log", "verify", "--offline", "--data-dir", path(&dir)]).await;
    assert!(out.status.success(), "log verify on the PostgreSQL restore: {}", describe(&out));
    let out = quanze(["log", "heads", "--json", "--data-dir", path(&dir)]).await;
    let heads: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", describe(&out)));
    let own = heads.as_array().unwrap().iter().find(|h| h["origin"] == COUNTY).cloned().unwrap();
    let seq = own["seq"].as_u64().unwrap();
    assert!(snapshot_seq.contains(&seq), "one snapshot taken while the backup ran: #{seq} in {snapshot_seq:?}");
    pg.drop().await;
}

async fn bad_archives_change_nothing(county: &TestNode, archive: &std::path::Path) {
    let bytes = std::fs::read(archive).unwrap();
    let restore = async |from: &std::path::Path, to: &std::path::Path| {
        quanze(["restore", "--from", path(from), "--data-dir", path(to)]).await
    };
    // One byte changed in the middle: the hash of its part no longer matches.
    let mut flipped = bytes.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x55;
    let corrupted = county.scratch("corrupted.qzbackup");
    std::fs::write(&corrupted, &flipped).unwrap();
    let target = county.scratch("never-written");
    let out = restore(&corrupted, &target).await;
    assert!(!out.status.success(), "a corrupted archive is refused");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("SHA-256") || err.contains("manifest"), "{err}");
    assert!(!target.exists(), "nothing written for a corrupted archive");

    let truncated = county.scratch("truncated.qzbackup");
    std::fs::write(&truncated, &bytes[..bytes.len() - 100]).unwrap();
    let out = restore(&truncated, &target).await;
    assert!(!out.status.success(), "a truncated archive is refused");
    assert!(String::from_utf8_lossy(&out.stderr).contains("truncated"), "{}", describe(&out));
    assert!(!target.exists(), "nothing written for a truncated archive");

    // A target that holds anything is refused, and left as it was.
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("notes.txt"), "keep me").unwrap();
    let out = restore(archive, &target).await;
    assert!(!out.status.success(), "a non-empty target is refused");
    assert!(String::from_utf8_lossy(&out.stderr).contains("not empty"), "{}", describe(&out));
    assert_eq!(std::fs::read_dir(&target).unwrap().count(), 1);
}
