//! Conformance of the grant (赋权) and seal (专用分章) projections on every backend: the city
//! grants the county three items of its list, the county accepts and they enter its list as
//! granted; seals are carved, delivered, activated, recalled and replaced; bad ops are refused
//! and change nothing. The grantor's and the grantee's entries give the same state in either
//! delivery order, and a rebuild reproduces it.

mod common;

use chrono::NaiveDate;
use common::data::*;
use common::ingest::{deliver, no_fallback};
use common::on_each_backend;
use quanze_domain::calendar::Calendar;
use quanze_domain::grants::{GrantBatch, GrantItem, GrantKind, GrantRef, Seal, verdict};
use quanze_domain::{ItemStatus, Op, VerdictCode};
use quanze_ledger::VerifiedEntry;
use quanze_store::Store;

on_each_backend! {
    a_grant_is_accepted_sealed_and_revoked
        => sqlite_a_grant_is_accepted_sealed_and_revoked, postgres_a_grant_is_accepted_sealed_and_revoked;
    grantor_and_grantee_entries_commute
        => sqlite_grantor_and_grantee_entries_commute, postgres_grantor_and_grantee_entries_commute;
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

const SCJ: &str = "泸州市市场监督管理局";
const ZJJ: &str = "泸州市住房和城乡建设局";

fn item(code: &str, grantor_dept: &str, grantee_dept: &str) -> GrantItem {
    GrantItem {
        code: code.into(),
        grantor_dept: grantor_dept.into(),
        grantee_dept: grantee_dept.into(),
        kind: None,
        provincial: false,
    }
}

/// The city's batch for 泸县: a construction permit (approval), a food penalty and a food
/// inspection (non-approval).
fn batch(codes: &[(&str, &str, &str)]) -> GrantBatch {
    GrantBatch {
        doc_no: "泸市府发〔2025〕4号".into(),
        title: "泸州市赋予泸县市级同等行政职权的决定".into(),
        issued: day("2025-02-10"),
        grantee: division(LUXIAN),
        training_months: 3,
        items: codes.iter().map(|(c, g, r)| item(c, g, r)).collect(),
    }
}

fn three() -> Vec<(&'static str, &'static str, &'static str)> {
    vec![
        ("XK00007000", ZJJ, "泸县住房和城乡建设局"),
        ("CF00102000", SCJ, "泸县市场监督管理局"),
        ("JC00110000", SCJ, "泸县市场监督管理局"),
    ]
}

fn seal(id: &str, kind: GrantKind, issuer: &str, serial: u32, scope: &GrantRef) -> Seal {
    Seal {
        id: id.into(),
        name: format!(
            "{issuer}{}专用章({serial})",
            if kind == GrantKind::Approval { "行政审批" } else { "非审批类事项办理" }
        ),
        kind,
        serial,
        issuer: issuer.into(),
        holder: division(LUXIAN),
        holder_dept: "泸县市场监督管理局".into(),
        scope: vec![scope.clone()],
        carved: day("2025-02-12"),
        registration: Some("泸公备〔2025〕017号".into()),
        image_sha256: Some("3f".repeat(32)),
    }
}

/// Province chain, calendar years and the city's three items; returns the federation.
async fn set_up(store: &Store) -> Federation {
    let mut fed = Federation::new();
    store.set_trust_root(&division(SICHUAN), &fed.province.public()).await.unwrap();
    let mut first = fed.chain();
    let years: Vec<Op> = Calendar::builtin_years()
        .into_iter()
        .filter(|y| y.year >= 2024 && y.year <= 2025)
        .map(|year| Op::CalendarYear { year })
        .collect();
    first.push(fed.province.sign(years));
    let items = vec![
        add(catalogue_item(1, 7, "泸州市")),
        add(catalogue_item(2, 102, "泸州市")),
        add(catalogue_item(6, 110, "泸州市")),
    ];
    first.push(fed.city.sign(items));
    let out = deliver(store, &first).await;
    assert!(out.iter().all(|d| d.starts_with("applied")), "{out:?}");
    fed
}

fn grant_ref(e: &VerifiedEntry) -> GrantRef {
    GrantRef { origin: e.origin().clone(), seq: e.seq(), hash: e.hash().to_string() }
}

async fn a_grant_is_accepted_sealed_and_revoked(store: Store) {
    let mut fed = set_up(&store).await;
    // Refused, nothing written: a county granting to its city; an item not in the city's list;
    // the county's own XK00035000 clashing with a granted one on acceptance is checked below.
    let upward = GrantBatch { grantee: division(LUZHOU), ..batch(&three()) };
    let up = fed.county.next(vec![Op::GrantIssue { batch: upward }]);
    let mut unknown = three();
    unknown.push(("XK09999000", SCJ, "泸县市场监督管理局"));
    let not_listed = fed.city.next(vec![Op::GrantIssue { batch: batch(&unknown) }]);
    let long = GrantBatch { training_months: 5, ..batch(&three()) };
    let too_long = fed.city.next(vec![Op::GrantIssue { batch: long }]);
    for (e, expect) in [(up, "UNAUTHORISED"), (not_listed, "XK09999000"), (too_long, "1—3")] {
        let out = deliver(&store, &[e]).await;
        assert!(out[0].contains(expect) && !out[0].starts_with("applied"), "{out:?}");
    }
    assert!(store.grants().await.unwrap().is_empty());

    let issued = fed.city.sign(vec![Op::GrantIssue { batch: batch(&three()) }]);
    let r = grant_ref(&issued);
    let clash =
        fed.city.sign(vec![Op::GrantIssue { batch: batch(&[("XK00035000", SCJ, "泸县市场监督管理局")]) }]);
    assert!(deliver(&store, &[issued, clash.clone()]).await.iter().all(|d| d.starts_with("applied")));
    let row = store.grant(&division(LUZHOU), r.seq).await.unwrap().unwrap();
    assert_eq!(row.header.handover_due, day("2025-03-03"), "15 working days after 10 Feb 2025");
    assert_eq!(row.header.departments, vec!["泸县住房和城乡建设局", "泸县市场监督管理局"]);
    let kinds: Vec<GrantKind> =
        store.grant_items(&division(LUZHOU), r.seq).await.unwrap().iter().map(|g| g.kind).collect();
    assert_eq!(kinds, vec![GrantKind::NonApproval, GrantKind::NonApproval, GrantKind::Approval]);

    // The county already exercises XK00035000: accepting the second batch is refused.
    let deps = vec!["泸县市场监督管理局".to_string()];
    let refused =
        fed.county.next(vec![Op::GrantAccept { batch: grant_ref(&clash), departments: deps, date: day("2025-02-20") }]);
    let out = deliver(&store, &[refused]).await;
    assert!(out[0].contains("XK00035000") && out[0].starts_with("RULE"), "{out:?}");
    // Wrong departments: refused; the right ones: the items enter the county's list.
    let wrong = fed.county.next(vec![Op::GrantAccept {
        batch: r.clone(),
        departments: vec!["泸县教育局".into()],
        date: day("2025-02-20"),
    }]);
    assert!(deliver(&store, &[wrong]).await[0].contains("承接部门"));
    let departments = vec!["泸县住房和城乡建设局".into(), "泸县市场监督管理局".into()];
    let accept = fed.county.sign(vec![Op::GrantAccept { batch: r.clone(), departments, date: day("2025-02-20") }]);
    assert!(deliver(&store, &[accept]).await[0].starts_with("applied"));
    let granted = store.item(&division(LUXIAN), "XK00007000").await.unwrap().unwrap();
    assert_eq!(granted.item.status, ItemStatus::Granted);
    assert_eq!(granted.item.implementing_body, "泸县住房和城乡建设局");
    assert_eq!(granted.grant.as_deref(), Some(format!("{LUZHOU}#{}", r.seq).as_str()));
    // The county may not cancel a granted item itself.
    let own_cancel = fed.county.next(vec![cancel("XK00007000", "本级取消")]);
    assert!(deliver(&store, &[own_cancel]).await[0].contains("赋权"));

    // Seals: a duplicate serial for the same issuer and kind, a scope naming an unknown batch,
    // activation by the holder before delivery — each refused.
    let approval = seal("LZ-ZJJ-SP-4", GrantKind::Approval, ZJJ, 4, &r);
    let penalty = seal("LZ-SCJ-FSP-4", GrantKind::NonApproval, SCJ, 4, &r);
    let carve = fed.city.sign(vec![Op::SealCarve { seal: approval.clone() }, Op::SealCarve { seal: penalty }]);
    assert!(deliver(&store, &[carve]).await[0].starts_with("applied"));
    let dup = Seal { id: "LZ-ZJJ-SP-4B".into(), ..approval.clone() };
    let ghost = GrantRef { seq: 999, ..r.clone() };
    let unknown_scope = Seal { id: "LZ-X".into(), serial: 9, scope: vec![ghost], ..approval.clone() };
    let early = fed.county.next(vec![Op::SealActivate {
        grantor: division(LUZHOU),
        seal: approval.id.clone(),
        date: day("2025-02-25"),
    }]);
    for (e, expect) in [
        (fed.city.next(vec![Op::SealCarve { seal: dup }]), "duplicate serial"),
        (fed.city.next(vec![Op::SealCarve { seal: unknown_scope }]), "不存在"),
        (early, "尚未送达"),
    ] {
        let out = deliver(&store, &[e]).await;
        assert!(out[0].contains(expect), "{expect}: {out:?}");
        assert!(!out[0].starts_with("applied"));
    }
    let delivered = fed.city.sign(vec![
        Op::SealDeliver { seal: approval.id.clone(), date: day("2025-02-21") },
        Op::SealDeliver { seal: "LZ-SCJ-FSP-4".into(), date: day("2025-02-21") },
    ]);
    let activated = fed.county.sign(vec![Op::SealActivate {
        grantor: division(LUZHOU),
        seal: approval.id.clone(),
        date: day("2025-02-24"),
    }]);
    assert!(deliver(&store, &[delivered, activated]).await.iter().all(|d| d.starts_with("applied")));
    let s = store.seals_by_id(&approval.id).await.unwrap().remove(0);
    let cands = store.scope_candidates(&s.seal.scope, "XK00007000").await.unwrap();
    assert_eq!(verdict(&s, "XK00007000", day("2025-02-23"), &cands).code, VerdictCode::NotActivated);
    assert!(verdict(&s, "XK00007000", day("2025-02-24"), &cands).valid);
    let other = store.scope_candidates(&s.seal.scope, "CF00102000").await.unwrap();
    assert_eq!(verdict(&s, "CF00102000", day("2025-02-24"), &other).code, VerdictCode::KindMismatch);

    // Replacement by the approval bureau's seal; revocation of one item.
    let bureau = Seal {
        scope: vec![],
        carved: day("2025-02-26"),
        ..seal("LZ-SPJ-SP-4", GrantKind::Approval, "泸州市行政审批局", 4, &r)
    };
    let replace = fed.city.sign(vec![Op::SealReplace {
        replaces: vec![approval.id.clone()],
        seal: bureau,
        date: day("2025-02-26"),
        reason: "审批权划转市行政审批局".into(),
    }]);
    let revoke = fed.city.sign(vec![Op::GrantRevoke {
        batch: r.clone(),
        codes: vec!["CF00102000".into()],
        reason: "该事项改由市级统一行使".into(),
        date: day("2025-02-27"),
    }]);
    assert!(deliver(&store, &[replace, revoke]).await.iter().all(|d| d.starts_with("applied")));
    let old = store.seals_by_id(&approval.id).await.unwrap().remove(0);
    assert_eq!(old.replaced_by.as_deref(), Some("LZ-SPJ-SP-4"));
    assert_eq!(verdict(&old, "XK00007000", day("2025-02-26"), &cands).code, VerdictCode::Recalled);
    let new = store.seals_by_id("LZ-SPJ-SP-4").await.unwrap().remove(0);
    assert_eq!(new.covers, vec![ZJJ.to_string()]);
    assert_eq!(new.seal.scope, vec![r.clone()]);
    let revoked = store.item(&division(LUXIAN), "CF00102000").await.unwrap().unwrap();
    assert_eq!(revoked.item.status, ItemStatus::Cancelled);
    assert!(revoked.item.status_reason.contains("收回"));
    let events = store.grant_events(&format!("seal:{LUZHOU}/{}", approval.id)).await.unwrap();
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["seal.carve", "seal.deliver", "seal.activate", "seal.replace"]);

    let before = store.snapshot().await.unwrap();
    store.rebuild(&no_fallback).await.unwrap();
    assert_eq!(store.snapshot().await.unwrap(), before);
}

/// The grantor recalls and revokes while the grantee activates and accepts: delivered
/// interleaved or grantor first, the state is the same.
async fn grantor_and_grantee_entries_commute(store: Store) {
    let mut fed = set_up(&store).await;
    let setup_len = store.snapshot().await.unwrap().len();
    let issued = fed.city.sign(vec![Op::GrantIssue { batch: batch(&three()) }]);
    let r = grant_ref(&issued);
    let approval = seal("LZ-ZJJ-SP-4", GrantKind::Approval, ZJJ, 4, &r);
    let carve = fed.city.sign(vec![
        Op::SealCarve { seal: approval.clone() },
        Op::SealDeliver { seal: approval.id.clone(), date: day("2025-02-21") },
    ]);
    let departments = vec!["泸县住房和城乡建设局".into(), "泸县市场监督管理局".into()];
    let accept = fed.county.sign(vec![Op::GrantAccept { batch: r.clone(), departments, date: day("2025-02-20") }]);
    let activate = fed.county.sign(vec![Op::SealActivate {
        grantor: division(LUZHOU),
        seal: approval.id.clone(),
        date: day("2025-02-24"),
    }]);
    let recall = fed.city.sign(vec![Op::SealRecall {
        seal: approval.id.clone(),
        date: day("2025-02-23"),
        reason: "刻制有误，收回重刻".into(),
    }]);
    let revoke = fed.city.sign(vec![Op::GrantRevoke {
        batch: r,
        codes: vec![],
        reason: "市行政审批局成立，收回赋权".into(),
        date: day("2025-02-19"),
    }]);
    let interleaved = [issued.clone(), accept.clone(), carve.clone(), activate.clone(), recall.clone(), revoke.clone()];
    let out = deliver(&store, &interleaved).await;
    assert!(out.iter().all(|d| d.starts_with("applied")), "{out:?}");
    let first = store.snapshot().await.unwrap();
    assert!(first.len() > setup_len);
    let item = store.item(&division(LUXIAN), "XK00007000").await.unwrap().unwrap();
    assert_eq!(item.item.status, ItemStatus::Cancelled, "revoked before it was accepted: in the list, cancelled");

    // Another node receives the grantor's entries first.
    let other = common::db::TestDb::sqlite("grants_commute_other").await.unwrap();
    let store2 = other.open().await;
    let mut fed2 = set_up(&store2).await;
    let _ = &mut fed2;
    let out = deliver(&store2, &[issued, carve, recall, revoke, accept, activate]).await;
    assert!(out.iter().all(|d| d.starts_with("applied")), "{out:?}");
    assert_eq!(store2.snapshot().await.unwrap(), first);
    other.finish().await;
    store.rebuild(&no_fallback).await.unwrap();
    assert_eq!(store.snapshot().await.unwrap(), first);
}
