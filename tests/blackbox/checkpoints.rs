//! Cosigned checkpoints across real processes: 四川省 510000 → 泸州市 510500 → 泸县 510521.
//!
//! * The county's checkpoint of its log is cosigned by the city and relayed to the province;
//!   the province lists it with the root the county's own node shows and its public page shows.
//! * An inclusion proof served by the province verifies with the ledger against that root.
//! * A cosign request from a size that is not the last cosigned one gets 409 `CHECKPOINT_STALE`
//!   with `current_size`; a checkpoint signed by the right key whose root differs from the
//!   city's copy is refused (`CHECKPOINT_INCONSISTENT`) and shows in the city's status.

use std::time::Duration;

use quanze_domain::DivisionCode;
use quanze_ledger::merkle;
use quanze_ledger::{Checkpoint, CheckpointWire, CosignedCheckpoint, Hash, SignedCheckpoint};
use quanze_tests::federation::{CITY, COUNTY, Federation, eventually, fed_heads, item};
use quanze_tests::{TestNode, describe};
use serde_json::{Value, json};

const COSIGNED: Duration = Duration::from_secs(40);

/// The latest cosigned checkpoint of `origin` that `node` lists, once it covers `size`.
async fn cosigned_at_least(node: &TestNode, origin: &str, size: u64) -> Value {
    eventually(&format!("{} lists {origin}'s checkpoint of size ≥ {size}", node.division), COSIGNED, async || {
        let v = node.get("/api/v1/public/checkpoints").await.expect(200);
        let found = v["checkpoints"].as_array().into_iter().flatten().find(|c| c["origin"] == origin).cloned();
        match found {
            Some(c) if c["size"].as_u64().unwrap_or(0) >= size => Ok(c),
            other => Err(format!("{other:?}")),
        }
    })
    .await
}

fn wire_of(row: &Value) -> CheckpointWire {
    serde_json::from_value(json!({
        "checkpoint": { "origin": row["origin"], "size": row["size"], "root": row["root"], "at": row["at"] },
        "signature": row["signature"],
        "cosigner": row["cosigner"],
        "cosignature": row["cosignature"],
    }))
    .expect("a checkpoint row")
}

#[tokio::test]
async fn a_county_checkpoint_is_cosigned_by_its_city_and_held_by_the_province() {
    let fed = Federation::start(3).await;
    let (province, city, county) = (fed.province(), fed.city(), fed.county());
    county.add_item(&item("XK00072000", "食品经营许可", "泸县市场监督管理局")).await;
    county.add_item(&item("XK00072001", "药品零售许可", "泸县市场监督管理局")).await;
    let size = fed_heads(county).await.get(COUNTY).expect("the county's head").0;

    // Cosigned by the city, stored by the county, relayed up to the province: the same root.
    let at_county = cosigned_at_least(county, COUNTY, size).await;
    assert_eq!(at_county["cosigner"], CITY, "{at_county}");
    let at_city = cosigned_at_least(city, COUNTY, size).await;
    let at_province = cosigned_at_least(province, COUNTY, size).await;
    for other in [&at_city, &at_province] {
        assert_eq!((&other["size"], &other["root"]), (&at_county["size"], &at_county["root"]), "{other}");
    }
    let size = at_province["size"].as_u64().expect("size");
    let root: Hash = at_province["root"].as_str().expect("root").parse().expect("root hex");

    // Both signatures verify with the nodes' keys; the root is that of the county's log.
    let cosigned = CosignedCheckpoint::verify(wire_of(&at_province), &county.key().public(), &city.key().public())
        .expect("the province's copy verifies");
    assert_eq!(cosigned.checkpoint().root, root);
    let mut leaves = Vec::new();
    for seq in 1..=size {
        let page = county.get(&format!("/api/v1/log?origin={COUNTY}&after={}&limit=1", seq - 1)).await.expect(200);
        let hash: Hash = page["entries"][0]["hash"].as_str().expect("hash").parse().expect("hex");
        leaves.push(merkle::entry_leaf(&hash));
    }
    let tree = merkle::extend(&std::collections::HashMap::new(), 0, &leaves).expect("tree");
    let tree: std::collections::HashMap<_, _> = tree.into_iter().collect();
    assert_eq!(merkle::root(&tree, size).expect("root"), root, "the root is the RFC 9162 root of the county's entries");

    // The county's public page shows its cosigned checkpoint.
    let page = county.get("/public").await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains(&root.to_hex()), "the public page shows the root");

    // An inclusion proof from the province verifies against the cosigned root.
    for seq in [1, size] {
        let proof = province
            .get(&format!("/api/v1/public/proof/inclusion?origin={COUNTY}&seq={seq}&size={size}"))
            .await
            .expect(200);
        let path: Vec<Hash> = serde_json::from_value(proof["proof"].clone()).expect("proof hashes");
        let leaf: Hash = proof["leaf_hash"].as_str().expect("leaf").parse().expect("hex");
        assert_eq!(leaf, leaves[(seq - 1) as usize]);
        merkle::verify_inclusion(&leaf, seq - 1, size, &path, &root).expect("the inclusion proof verifies");
        let mut bad = path.clone();
        if let Some(first) = bad.first_mut() {
            first.0[0] ^= 1;
            assert!(merkle::verify_inclusion(&leaf, seq - 1, size, &bad, &root).is_err());
        }
    }
    province
        .get(&format!("/api/v1/public/proof/inclusion?origin={COUNTY}&seq={}&size={size}", size + 1))
        .await
        .expect_error(400, "PROOF_INDEX_RANGE");
    let consistency =
        province.get(&format!("/api/v1/public/proof/consistency?origin={COUNTY}&from=1&to={size}")).await.expect(200);
    let path: Vec<Hash> = serde_json::from_value(consistency["proof"].clone()).expect("proof hashes");
    let from_root: Hash = consistency["from_root"].as_str().expect("root").parse().expect("hex");
    merkle::verify_consistency(1, size, &from_root, &root, &path).expect("the consistency proof verifies");

    // A request from a stale size: 409 with the city's current size, nothing cosigned.
    let key = county.key();
    let sign = |size: u64, root: Hash| {
        let body = Checkpoint {
            origin: DivisionCode::parse(COUNTY).expect("code"),
            size,
            root,
            at: "2026-12-03T08:00:00.000Z".into(),
        };
        SignedCheckpoint::sign(&key, body).expect("signed")
    };
    let request = |signed: &SignedCheckpoint, old_size: u64| json!({ "checkpoint": signed.checkpoint(), "signature": signed.signature(), "old_size": old_size, "proof": [] });
    let stale = city.post_json("/api/v1/fed/checkpoints", &request(&sign(size, root), 0)).await;
    let body = stale.expect_error(409, "CHECKPOINT_STALE");
    assert_eq!(body["current_size"], size, "{body}");

    // The right key, a root that is not the city's copy: refused and recorded.
    let forged = Hash::of(b"another history");
    let refused = city.post_json("/api/v1/fed/checkpoints", &request(&sign(size, forged), size)).await;
    refused.expect_error(422, "CHECKPOINT_INCONSISTENT");
    let status = city.fed_status().await;
    let refusals = status["recent_refusals"].as_array().cloned().unwrap_or_default();
    assert!(
        refusals.iter().any(|r| r["code"] == "CHECKPOINT_INCONSISTENT" && r["origin"] == COUNTY),
        "the city's status shows the refusal: {status}"
    );
    let cli = city.cli(["status"]).await;
    assert!(String::from_utf8_lossy(&cli.stdout).contains("CHECKPOINT_INCONSISTENT"), "{}", describe(&cli));
    // A checkpoint signed by another key is refused too.
    let other = SignedCheckpoint::sign(&city.key(), sign(size, root).checkpoint().clone()).expect("signed");
    city.post_json("/api/v1/fed/checkpoints", &request(&other, size))
        .await
        .expect_error(422, "CHECKPOINT_BAD_SIGNATURE");
    // Nothing of that changed what the city cosigned.
    let after = cosigned_at_least(city, COUNTY, size).await;
    assert_eq!(after["root"], at_city["root"]);

    // The county's status shows its cosigned checkpoint.
    let county_status = county.fed_status().await;
    assert_eq!(county_status["own_checkpoint"]["cosigner"], CITY, "{county_status}");
}
