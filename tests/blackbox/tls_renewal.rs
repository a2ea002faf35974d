//! Certificate renewal without downtime: the province renews its certificate (`quanze tls
//! renew`, same key pair) while it serves; new connections get the new certificate within
//! seconds, a client pinned to the old certificate (as the city is, from its invite) accepts it,
//! and the city goes on pulling and pushing with neither node restarted.

use std::time::Duration;

use quanze_tests::federation::{Federation, eventually, item};
use quanze_tests::{describe, sha256_hex};

/// The SHA-256 of the certificate a new connection to `url` is served, trusting only `pem`.
async fn served_fingerprint(url: &str, pem: &[u8]) -> Result<String, String> {
    let client = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(pem).expect("PEM")])
        .tls_info(true)
        .build()
        .expect("client");
    let res = client.get(format!("{url}/healthz")).send().await.map_err(|e| e.to_string())?;
    let info = res.extensions().get::<reqwest::tls::TlsInfo>().ok_or("no TLS info")?;
    Ok(sha256_hex(info.peer_certificate().ok_or("no peer certificate")?))
}

#[tokio::test]
async fn a_child_keeps_syncing_across_its_parents_certificate_renewal() {
    let fed = Federation::start(2).await;
    let (province, city) = (fed.province(), fed.city());
    let old_pem = std::fs::read(province.data_dir.join("tls/cert.pem")).unwrap();
    let old = served_fingerprint(&province.url, &old_pem).await.unwrap();
    // A connection opened before the renewal (kept alive in the pool of the pinned client).
    province.info().await;

    let out = province.cli(["tls", "renew"]).await;
    assert!(out.status.success(), "quanze tls renew: {}", describe(&out));
    let said = String::from_utf8_lossy(&out.stdout);
    let new_pem = std::fs::read(province.data_dir.join("tls/cert.pem")).unwrap();
    assert_ne!(new_pem, old_pem, "a new certificate was written");
    let new = eventually("new connections get the new certificate", Duration::from_secs(20), async || {
        let served = served_fingerprint(&province.url, &old_pem).await?;
        if served != old { Ok(served) } else { Err("still the old certificate".into()) }
    })
    .await;
    assert!(said.contains(&new), "the CLI printed the fingerprint served: {said}");
    // The old pin accepts the new certificate; the client of before still talks to the node.
    province.info().await;

    // The city, which pinned the old certificate at its invite, pulls and pushes on.
    province.add_item(&item("XK00071000", "药品零售企业许可", "四川省药品监督管理局")).await;
    city.add_item(&item("XK00035000", "食品经营许可", "泸州市市场监督管理局")).await;
    fed.wait_converged(Duration::from_secs(60)).await;
    assert!(province.is_running() && city.is_running(), "no restart of either node");
    let status = city.fed_status().await;
    assert_eq!(status["recent_refusals"], serde_json::json!([]), "{status}");
}
