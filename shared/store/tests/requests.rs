//! Conformance of the adjustment-request projections on every backend: a county's request
//! filed, returned, re-filed and published through 编办 → 法制 → 政府; steps that break a rule
//! are refused and change nothing; the publishing entry must carry exactly the request's item
//! ops; the trace, the filing row the lateness rules read and the item history agree; a rebuild
//! reproduces it all.

mod common;

use common::data::*;
use common::ingest::deliver;
use common::on_each_backend;
use quanze_domain::calendar::Calendar;
use quanze_domain::{Actor, Change, Decision, ItemStatus, Op, Proposal, RequestKind, Role, Stage, Status, Trigger};
use quanze_store::Store;

on_each_backend! {
    a_request_is_returned_refiled_and_published
        => sqlite_a_request_is_returned_refiled_and_published, postgres_a_request_is_returned_refiled_and_published;
}

const DEPT: &str = "泸县市场监督管理局";

fn actor(id: &str, role: Role) -> Actor {
    Actor {
        id: id.into(),
        name: format!("{}{id}", role.label()),
        role,
        department: (role == Role::Clerk).then(|| DEPT.to_string()),
    }
}

fn proposal(reason: &str) -> Proposal {
    Proposal {
        kind: RequestKind::Cancel,
        trigger: Trigger::GovernmentDecision,
        trigger_date: "2025-02-20".parse().unwrap(),
        department: DEPT.into(),
        title: "关于取消食品经营许可的申请".into(),
        reason: reason.into(),
        changes: vec![Change::Cancel { code: food_licence().code, reason: "上级政府决定取消".into() }],
        attachments: vec![],
    }
}

fn step(id: u64, stage: Stage, decision: Decision, comment: &str, who: &Actor) -> Op {
    Op::RequestStep { request: id, stage, decision, comment: comment.into(), actor: who.clone() }
}

async fn a_request_is_returned_refiled_and_published(store: Store) {
    let mut fed = Federation::new();
    store.set_trust_root(&division(SICHUAN), &fed.province.public()).await.unwrap();
    let mut first = fed.chain();
    let years: Vec<Op> = Calendar::builtin_years()
        .into_iter()
        .filter(|y| y.year == 2025)
        .map(|year| Op::CalendarYear { year })
        .collect();
    first.push(fed.province.sign(years));
    let out = deliver(&store, &first).await;
    assert!(out.iter().all(|d| d.starts_with("applied")), "{out:?}");

    let (clerk, est, legal, gov) = (
        actor("u1", Role::Clerk),
        actor("u2", Role::Establishment),
        actor("u3", Role::Legal),
        actor("u4", Role::Government),
    );
    let filed = fed.county.sign_on(
        "2025-03-24",
        vec![Op::RequestSubmit { request: None, proposal: proposal("上级政府决定"), actor: clerk.clone() }],
    );
    let id = filed.seq();
    assert!(deliver(&store, &[filed]).await[0].starts_with("applied"));
    let county = division(LUXIAN);
    let (row, _) = store.request(&county, id).await.unwrap().unwrap();
    assert_eq!((row.status, row.stage, row.route.len()), (Status::Reviewing, Stage::EstablishmentReview, 3));
    let filings = store.filings(&county).await.unwrap();
    assert_eq!(filings.len(), 1, "the request is also a filing for the lateness rules");

    // Refused, nothing written: the legal office acting at 编办's stage; the filer reviewing;
    // a last approval without the item ops.
    let before = store.snapshot().await.unwrap();
    for (ops, expect) in [
        (vec![step(id, Stage::EstablishmentReview, Decision::Approve, "", &legal)], "须由"),
        (
            vec![step(
                id,
                Stage::EstablishmentReview,
                Decision::Approve,
                "",
                &Actor { role: Role::Establishment, ..clerk.clone() },
            )],
            "审核自己",
        ),
        (vec![step(id, Stage::LegalReview, Decision::Approve, "", &legal)], "环节"),
        (vec![step(99, Stage::EstablishmentReview, Decision::Approve, "", &est)], "不存在"),
    ] {
        let out = deliver(&store, &[fed.county.next(ops)]).await;
        assert!(!out[0].starts_with("applied") && out[0].contains(expect), "{out:?}");
    }
    assert_eq!(store.snapshot().await.unwrap(), before);

    let ok = |e: &Vec<String>| e.iter().all(|d| d.starts_with("applied"));
    let e1 =
        fed.county.sign_on("2025-03-25", vec![step(id, Stage::EstablishmentReview, Decision::Approve, "同意", &est)]);
    let e2 = fed
        .county
        .sign_on("2025-03-26", vec![step(id, Stage::LegalReview, Decision::Return, "请补充依据文号", &legal)]);
    let e3 = fed.county.sign_on(
        "2025-03-27",
        vec![Op::RequestSubmit {
            request: Some(id), proposal: proposal("川府发〔2025〕3号"), actor: clerk.clone()
        }],
    );
    let e4 = fed.county.sign_on("2025-03-28", vec![step(id, Stage::EstablishmentReview, Decision::Approve, "", &est)]);
    let e5 = fed.county.sign_on("2025-03-31", vec![step(id, Stage::LegalReview, Decision::Approve, "合法", &legal)]);
    assert!(ok(&deliver(&store, &[e1, e2, e3, e4, e5]).await));
    let (row, _) = store.request(&county, id).await.unwrap().unwrap();
    assert_eq!((row.revision, row.stage), (2, Stage::GovernmentApproval));

    // The government's approval without the item ops, or with other ops, is refused.
    let bare = fed.county.next(vec![step(id, Stage::GovernmentApproval, Decision::Approve, "", &gov)]);
    let other = fed.county.next(vec![
        step(id, Stage::GovernmentApproval, Decision::Approve, "", &gov),
        cancel(&food_licence().code, "别的理由"),
    ]);
    for e in [bare, other] {
        let out = deliver(&store, &[e]).await;
        assert!(out[0].contains("发布条目"), "{out:?}");
    }
    let mut ops = vec![step(id, Stage::GovernmentApproval, Decision::Approve, "", &gov)];
    ops.extend(proposal("川府发〔2025〕3号").ops());
    let published = fed.county.sign_on("2025-04-01", ops);
    let published_seq = published.seq();
    assert!(ok(&deliver(&store, &[published]).await));

    let (row, steps) = store.request(&county, id).await.unwrap().unwrap();
    assert_eq!((row.status, row.published_seq), (Status::Published, Some(published_seq)));
    let actions: Vec<&str> = steps.iter().map(|s| s.action.as_str()).collect();
    assert_eq!(actions, ["submit", "approve", "return", "resubmit", "approve", "approve", "approve"]);
    assert_eq!(steps[2].comment, "请补充依据文号");
    let item = store.item(&county, &food_licence().code).await.unwrap().unwrap();
    assert_eq!(item.item.status, ItemStatus::Cancelled);
    let history = store.item_history(&county, &food_licence().code).await.unwrap();
    let last = history.last().unwrap();
    assert_eq!((last.request, last.status.as_str()), (Some(id), "cancelled"));
    assert!(history.len() >= 2 && history[..history.len() - 1].iter().all(|h| h.request.is_none()), "{history:?}");

    // A closed request takes no more steps.
    let late = fed.county.next(vec![step(id, Stage::GovernmentApproval, Decision::Reject, "晚了", &gov)]);
    assert!(deliver(&store, &[late]).await[0].contains("不能再办理"));

    let state = store.snapshot().await.unwrap();
    let keys = keys_of(&fed.writers());
    store.rebuild(&keys).await.unwrap();
    assert_eq!(store.snapshot().await.unwrap(), state, "a rebuild reproduces the workflow projections");
}
