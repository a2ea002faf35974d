//! Unit and property tests of grant batches and special seals, on the 盘锦 → 盘山县 case.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use proptest::prelude::*;

use super::*;
use crate::category::Category;
use crate::item::tests::food_licence;

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn d(s: &str) -> DivisionCode {
    DivisionCode::parse(s).unwrap()
}

const CITY: &str = "211100";
const COUNTY: &str = "211122";
const SCJ: &str = "盘锦市市场监督管理局";
const XSCJ: &str = "盘山县市场监督管理局";

/// The city's list: a licence and a penalty of the market regulator, a public service.
fn city_list() -> BTreeMap<String, PowerItem> {
    let licence = PowerItem { implementing_body: SCJ.into(), ..food_licence() };
    let mut penalty = licence.clone();
    penalty.code = "CF00102000".into();
    penalty.name = "对未取得食品经营许可从事食品经营活动的处罚".into();
    penalty.category = Category::Penalty;
    let mut service = licence.clone();
    service.code = "GG00003000".into();
    service.name = "食品安全知识宣传".into();
    service.category = Category::PublicService;
    let mut cancelled = licence.clone();
    cancelled.code = "XK00099000".into();
    cancelled.status = ItemStatus::Cancelled;
    [licence, penalty, service, cancelled].into_iter().map(|i| (i.code.clone(), i)).collect()
}

fn grant_item(code: &str) -> GrantItem {
    GrantItem { code: code.into(), grantor_dept: SCJ.into(), grantee_dept: XSCJ.into(), kind: None, provincial: false }
}

fn batch() -> GrantBatch {
    GrantBatch {
        doc_no: "盘政发〔2016〕37号".into(),
        title: "盘锦市赋予区县经济区市级同等行政职权工作方案".into(),
        issued: day("2016-09-09"),
        grantee: d(COUNTY),
        training_months: 3,
        items: vec![grant_item("XK00035000"), grant_item("CF00102000")],
    }
}

fn plan(b: &GrantBatch) -> Result<(Vec<GrantedItem>, NaiveDate), GrantError> {
    let list = city_list();
    plan_issue(b, &Calendar::builtin(), |c| list.get(c).cloned())
}

fn header(b: &GrantBatch) -> (GrantHeader, BTreeMap<String, GrantedItem>) {
    let (items, due) = plan(b).unwrap();
    let h = GrantHeader {
        grant_ref: GrantRef { origin: d(CITY), seq: 7, hash: "ab".repeat(32) },
        doc_no: b.doc_no.clone(),
        title: b.title.clone(),
        issued: b.issued,
        grantee: b.grantee.clone(),
        training_months: b.training_months,
        extensions: vec![],
        handover_due: due,
        items: items.len() as u64,
        departments: b.departments(),
        accepted_on: None,
        revoked_on: None,
        revoke_reason: String::new(),
        items_revoked: 0,
    };
    (h, items.into_iter().map(|i| (i.code.clone(), i)).collect())
}

#[test]
fn handover_is_due_fifteen_working_days_after_issue() {
    // 2016: 中秋 15–17 Sep off, Sun 18 Sep worked; 国庆 1–7 Oct off, Sat 8 Oct worked.
    let (_, due) = plan(&batch()).unwrap();
    assert_eq!(due, day("2016-10-08"));
}

#[test]
fn a_batch_resolves_kinds_from_categories() {
    let (items, _) = plan(&batch()).unwrap();
    assert_eq!(items[0].kind, GrantKind::Approval);
    assert_eq!(items[1].kind, GrantKind::NonApproval);
    assert_eq!(items[0].name, "食品经营许可");
    let mut b = batch();
    b.items[1].kind = Some(GrantKind::Approval);
    assert_eq!(plan(&b).unwrap().0[1].kind, GrantKind::Approval, "a non-licensing approval may be declared");
}

#[test]
fn bad_batches_are_refused_with_the_reason() {
    type Change = Box<dyn Fn(&mut GrantBatch)>;
    let cases: Vec<(Change, &str)> = vec![
        (Box::new(|b| b.training_months = 4), "TRAINING_PERIOD"),
        (Box::new(|b| b.training_months = 0), "TRAINING_PERIOD"),
        (Box::new(|b| b.items.clear()), "BAD_GRANT"),
        (Box::new(|b| b.doc_no = " ".into()), "BAD_GRANT"),
        (Box::new(|b| b.items[1].grantee_dept.clear()), "BAD_GRANT"),
        (Box::new(|b| b.items.push(grant_item("XK00035000"))), "DUPLICATE_CODE"),
        (Box::new(|b| b.items.push(grant_item("XK09999000"))), "ITEM_NOT_IN_GRANTOR_LIST"),
        (Box::new(|b| b.items.push(grant_item("XK00099000"))), "ITEM_NOT_ACTIVE"),
        (Box::new(|b| b.items.push(grant_item("GG00003000"))), "GRANT_KIND"),
        (Box::new(|b| b.items[0].kind = Some(GrantKind::NonApproval)), "GRANT_KIND"),
    ];
    for (change, code) in cases {
        let mut b = batch();
        change(&mut b);
        let err = plan(&b).unwrap_err();
        assert_eq!(err.code(), code, "{err}");
        assert!(!err.to_string().is_empty());
    }
}

#[test]
fn acceptance_is_the_grantees_with_the_batchs_departments() {
    let (h, _) = header(&batch());
    let deps = vec![XSCJ.to_string()];
    let today = day("2016-10-20");
    assert!(check_accept(&h, &d(COUNTY), &deps, day("2016-09-30"), today).is_ok());
    let other_county = d("211121");
    assert_eq!(check_accept(&h, &other_county, &deps, today, today).unwrap_err().code(), "NOT_GRANTEE");
    let err = check_accept(&h, &d(COUNTY), &["盘山县教育局".into()], today, today).unwrap_err();
    assert_eq!(err.code(), "DEPARTMENTS_MISMATCH");
    assert!(err.to_string().contains(XSCJ) && err.to_string().contains("盘山县教育局"));
    assert_eq!(check_accept(&h, &d(COUNTY), &deps, day("2016-09-01"), today).unwrap_err().code(), "BAD_DATE");
    assert_eq!(check_accept(&h, &d(COUNTY), &deps, day("2016-10-21"), today).unwrap_err().code(), "BAD_DATE");
    let accepted = GrantHeader { accepted_on: Some(day("2016-09-30")), ..h.clone() };
    assert_eq!(check_accept(&accepted, &d(COUNTY), &deps, today, today).unwrap_err().code(), "ALREADY_ACCEPTED");
    // A revocation may cross the acceptance in the post: applying the acceptance ignores it,
    // a writer who knows of it is told.
    let revoked = GrantHeader { revoked_on: Some(day("2016-09-30")), ..h };
    assert!(check_accept(&revoked, &d(COUNTY), &deps, today, today).is_ok());
    assert_eq!(check_not_revoked(&revoked).unwrap_err().code(), "GRANT_REVOKED");
}

#[test]
fn status_follows_handover_training_and_revocation() {
    let (mut h, _) = header(&batch());
    assert_eq!(h.status_on(day("2016-10-08")), GrantStatus::AwaitingHandover);
    assert_eq!(h.status_on(day("2016-10-09")), GrantStatus::HandoverOverdue);
    assert!(h.handover_late(day("2016-10-09")));
    h.accepted_on = Some(day("2016-09-30"));
    assert!(!h.handover_late(day("2017-01-01")));
    assert_eq!(h.training_until(), day("2016-12-09"));
    assert_eq!(h.status_on(day("2016-12-09")), GrantStatus::InTraining);
    assert_eq!(h.status_on(day("2016-12-10")), GrantStatus::InForce);
    h.extensions.push(Extension { months: 2, reason: "不动产登记专业性强，延长指导".into() });
    assert_eq!(h.training_until(), day("2017-02-09"));
    assert_eq!(h.status_on(day("2016-12-10")), GrantStatus::InTraining);
    h.revoked_on = Some(day("2017-03-01"));
    assert_eq!(h.status_on(day("2017-02-28")), GrantStatus::InForce);
    assert_eq!(h.status_on(day("2017-03-01")), GrantStatus::Revoked);
}

#[test]
fn revocation_and_extension_are_the_grantors() {
    let (h, items) = header(&batch());
    let today = day("2016-11-01");
    let all = check_revoke(&h, &items, &d(CITY), &[], "市行政审批局成立", today, today).unwrap();
    assert_eq!(all.len(), 2);
    let one = check_revoke(&h, &items, &d(CITY), &["CF00102000".into()], "收回", today, today).unwrap();
    assert_eq!(one, vec!["CF00102000".to_string()]);
    assert_eq!(check_revoke(&h, &items, &d(COUNTY), &[], "x", today, today).unwrap_err().code(), "NOT_GRANTOR");
    assert_eq!(check_revoke(&h, &items, &d(CITY), &[], " ", today, today).unwrap_err().code(), "MISSING_REASON");
    let err = check_revoke(&h, &items, &d(CITY), &["XK01234000".into()], "x", today, today).unwrap_err();
    assert_eq!(err.code(), "NOT_IN_BATCH");
    let mut gone = items.clone();
    gone.get_mut("CF00102000").unwrap().revoked_on = Some(today);
    let err = check_revoke(&h, &gone, &d(CITY), &["CF00102000".into()], "x", today, today).unwrap_err();
    assert_eq!(err.code(), "ITEM_REVOKED");
    let ext = Extension { months: 2, reason: "延长".into() };
    assert!(check_extend(&h, &d(CITY), &ext).is_ok());
    assert_eq!(check_extend(&h, &d(COUNTY), &ext).unwrap_err().code(), "NOT_GRANTOR");
    let long = Extension { months: 7, reason: "延长".into() };
    assert_eq!(check_extend(&h, &d(CITY), &long).unwrap_err().code(), "TRAINING_PERIOD");
}

#[test]
fn granted_items_enter_the_grantees_list_with_provenance() {
    let (h, items) = header(&batch());
    let item = item_for_grantee(&h, &items["XK00035000"]);
    assert_eq!(item.status, ItemStatus::Granted);
    assert_eq!(item.implementing_body, XSCJ);
    assert!(item.status_reason.contains("盘政发〔2016〕37号") && item.status_reason.contains(SCJ));
    assert!(item.validate().is_ok());
    let err = crate::ops::apply_item_op(Some(&item), &crate::Op::cancel("XK00035000", "本级取消")).unwrap_err();
    assert_eq!(err, crate::RuleError::GrantedItem("XK00035000".into()));
}

fn seal(id: &str, kind: GrantKind, issuer: &str, serial: u32) -> Seal {
    Seal {
        id: id.into(),
        name: format!(
            "{issuer}{}专用章({serial})",
            if kind == GrantKind::Approval { "行政审批" } else { "非审批类事项办理" }
        ),
        kind,
        serial,
        issuer: issuer.into(),
        holder: d(COUNTY),
        holder_dept: XSCJ.into(),
        scope: vec![],
        carved: day("2016-09-20"),
        registration: None,
        image_sha256: None,
    }
}

fn pairs(items: &BTreeMap<String, GrantedItem>) -> BTreeSet<(GrantKind, String)> {
    items.values().map(|i| (i.kind, i.grantor_dept.clone())).collect()
}

fn carved(h: &GrantHeader, items: &BTreeMap<String, GrantedItem>, kind: GrantKind) -> SealStatus {
    let s = seal("SCJ-SP-4", kind, SCJ, 4);
    SealStatus::carve(&d(CITY), s, vec![SCJ.into()], std::slice::from_ref(h), &pairs(items), day("2016-09-20")).unwrap()
}

#[test]
fn carving_checks_fields_scope_and_coverage() {
    let (h, items) = header(&batch());
    let today = day("2016-09-20");
    let carve = |s: Seal, scope: &[GrantHeader]| {
        SealStatus::carve(&d(CITY), s.clone(), vec![s.issuer.clone()], scope, &pairs(&items), today)
    };
    let good = seal("SCJ-SP-4", GrantKind::Approval, SCJ, 4);
    assert!(carve(good.clone(), std::slice::from_ref(&h)).is_ok());
    assert_eq!(carve(good.clone(), &[]).unwrap_err().code(), "BAD_SEAL_SCOPE");
    assert_eq!(carve(Seal { serial: 0, ..good.clone() }, std::slice::from_ref(&h)).unwrap_err().code(), "BAD_SEAL");
    let bad_hash = Seal { image_sha256: Some("XYZ".into()), ..good.clone() };
    assert_eq!(carve(bad_hash, std::slice::from_ref(&h)).unwrap_err().code(), "BAD_SEAL");
    let elsewhere = Seal { holder: d("211121"), ..good.clone() };
    assert_eq!(carve(elsewhere, std::slice::from_ref(&h)).unwrap_err().code(), "BAD_SEAL_SCOPE");
    let idle = seal("JYJ-SP-4", GrantKind::Approval, "盘锦市教育局", 4);
    assert_eq!(carve(idle, std::slice::from_ref(&h)).unwrap_err().code(), "BAD_SEAL_SCOPE");
    let revoked = GrantHeader { revoked_on: Some(today), ..h.clone() };
    assert_eq!(carve(good.clone(), &[revoked]).unwrap_err().code(), "GRANT_REVOKED");
    let future = Seal { carved: day("2016-09-21"), ..good };
    assert_eq!(carve(future, &[h]).unwrap_err().code(), "BAD_DATE");
    assert_eq!(parse_serial("(4)"), Some(4));
    assert_eq!(parse_serial("（12）"), Some(12));
    assert_eq!(parse_serial("(0)"), None);
}

#[test]
fn the_lifecycle_refuses_illegal_steps_with_the_reason() {
    let (h, items) = header(&batch());
    let today = day("2016-12-31");
    let county = d(COUNTY);
    let mut s = carved(&h, &items, GrantKind::Approval);
    let err = s.clone().activate(&county, day("2016-09-25"), today, Some(day("2016-09-30"))).unwrap_err();
    assert_eq!(err.code(), "ILLEGAL_TRANSITION");
    assert!(err.to_string().contains("尚未送达"), "{err}");
    assert_eq!(s.clone().archive(today, today).unwrap_err().code(), "ILLEGAL_TRANSITION");
    s.deliver(day("2016-09-28"), today).unwrap();
    assert_eq!(s.clone().deliver(day("2016-09-29"), today).unwrap_err().code(), "ILLEGAL_TRANSITION");
    let not_accepted = s.clone().activate(&county, day("2016-09-29"), today, None).unwrap_err();
    assert!(not_accepted.to_string().contains("尚未承接"), "{not_accepted}");
    assert_eq!(
        s.clone().activate(&d(CITY), day("2016-10-10"), today, Some(day("2016-09-30"))).unwrap_err().code(),
        "NOT_HOLDER"
    );
    let early = s.clone().activate(&county, day("2016-09-29"), today, Some(day("2016-09-30"))).unwrap_err();
    assert_eq!(early.code(), "BAD_DATE");
    s.activate(&county, day("2016-10-10"), today, Some(day("2016-09-30"))).unwrap();
    assert_eq!(s.state, SealState::Activated);
    assert_eq!(s.clone().recall(day("2016-11-01"), today, "").unwrap_err().code(), "MISSING_REASON");
    s.recall(day("2016-11-01"), today, "审批权划转市行政审批局").unwrap();
    let again = s.check_activatable().unwrap_err();
    assert!(again.to_string().contains("已收回"), "{again}");
    assert_eq!(s.clone().recall(day("2016-11-02"), today, "x").unwrap_err().code(), "ILLEGAL_TRANSITION");
    s.archive(day("2016-11-03"), today).unwrap();
    assert_eq!(s.state, SealState::Archived);
}

#[test]
fn validity_before_and_after_activation_and_recall() {
    let (mut h, mut items) = header(&batch());
    h.accepted_on = Some(day("2016-09-30"));
    let today = day("2017-06-30");
    let mut s = carved(&h, &items, GrantKind::Approval);
    let ask = |s: &SealStatus, items: &BTreeMap<String, GrantedItem>, h: &GrantHeader, code: &str, on: &str| {
        let cands: Vec<_> = items.get(code).map(|g| (h.clone(), g.clone())).into_iter().collect();
        verdict(s, code, day(on), &cands)
    };
    assert_eq!(ask(&s, &items, &h, "XK00035000", "2016-10-20").code, VerdictCode::NotDelivered);
    s.deliver(day("2016-09-28"), today).unwrap();
    assert_eq!(ask(&s, &items, &h, "XK00035000", "2016-10-20").code, VerdictCode::NotActivated);
    s.activate(&d(COUNTY), day("2016-10-10"), today, h.accepted_on).unwrap();
    assert_eq!(ask(&s, &items, &h, "XK00035000", "2016-10-09").code, VerdictCode::NotActivated);
    let v = ask(&s, &items, &h, "XK00035000", "2016-10-20");
    assert!(v.valid, "{v:?}");
    let route = v.route.unwrap();
    assert!(route.closes_locally && route.text.contains("视为办结"));
    assert_eq!(ask(&s, &items, &h, "CF00102000", "2016-10-20").code, VerdictCode::KindMismatch);
    assert_eq!(ask(&s, &items, &h, "XK07777000", "2016-10-20").code, VerdictCode::NotInScope);
    items.get_mut("XK00035000").unwrap().provincial = true;
    let up = ask(&s, &items, &h, "XK00035000", "2016-10-20").route.unwrap();
    assert!(!up.closes_locally && up.forward_via.as_deref() == Some(SCJ) && up.text.contains("不再审查"));
    items.get_mut("XK00035000").unwrap().revoked_on = Some(day("2016-12-01"));
    assert!(ask(&s, &items, &h, "XK00035000", "2016-11-30").valid);
    assert_eq!(ask(&s, &items, &h, "XK00035000", "2016-12-01").code, VerdictCode::ItemRevoked);
    s.recall(day("2016-11-01"), today, "审批权划转市行政审批局").unwrap();
    let v = ask(&s, &items, &h, "XK00035000", "2016-11-01");
    assert_eq!(v.code, VerdictCode::Recalled);
    assert!(v.reason.contains("2016-11-01"), "{}", v.reason);
    h.revoked_on = Some(day("2016-10-15"));
    assert_eq!(ask(&s, &items, &h, "XK00035000", "2016-10-16").code, VerdictCode::BatchRevoked);
}

#[test]
fn a_bureau_seal_takes_over_the_departments_it_replaces() {
    let (mut h, items) = header(&batch());
    h.accepted_on = Some(day("2016-09-30"));
    let today = day("2017-06-30");
    let mut old = carved(&h, &items, GrantKind::Approval);
    old.deliver(day("2016-09-28"), today).unwrap();
    old.activate(&d(COUNTY), day("2016-10-10"), today, h.accepted_on).unwrap();
    let bureau =
        Seal { carved: day("2017-03-01"), ..seal("SPJ-SP-4", GrantKind::Approval, "盘锦市行政审批局", 4) };
    let mismatch = Seal { kind: GrantKind::NonApproval, ..bureau.clone() };
    assert_eq!(
        old.clone().replaced(&mismatch, day("2017-03-01"), today, "划转").unwrap_err().code(),
        "BAD_REPLACEMENT"
    );
    old.replaced(&bureau, day("2017-03-01"), today, "审批权划转市行政审批局").unwrap();
    assert_eq!(old.state, SealState::Recalled);
    assert_eq!(old.replaced_by.as_deref(), Some("SPJ-SP-4"));
    let mut new = SealStatus::carve(&d(CITY), bureau, old.covers.clone(), &[h.clone()], &pairs(&items), today).unwrap();
    new.deliver(day("2017-03-02"), today).unwrap();
    new.activate(&d(COUNTY), day("2017-03-03"), today, h.accepted_on).unwrap();
    let cands = vec![(h.clone(), items["XK00035000"].clone())];
    assert!(verdict(&new, "XK00035000", day("2017-03-03"), &cands).valid);
    let v = verdict(&old, "XK00035000", day("2017-03-03"), &cands);
    assert_eq!(v.code, VerdictCode::Recalled);
    assert!(v.reason.contains("SPJ-SP-4"), "{}", v.reason);
}

#[derive(Debug, Clone)]
enum Step {
    Deliver(u32),
    Activate(u32),
    Recall(u32),
    Archive(u32),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0u32..200).prop_map(Step::Deliver),
        (0u32..200).prop_map(Step::Activate),
        (0u32..200).prop_map(Step::Recall),
        (0u32..200).prop_map(Step::Archive),
    ]
}

proptest! {
    /// Whatever steps are tried, in any order and on any days: the state only moves forward,
    /// the recorded dates keep their order, and the seal is valid on exactly
    /// the days from activation (and acceptance) up to the day before recall.
    #[test]
    fn validity_is_the_window_between_activation_and_recall(steps in prop::collection::vec(step(), 0..12), accept in 0u32..60) {
        let (mut h, items) = header(&batch());
        let base = day("2016-09-20");
        let at = |n: u32| base + chrono::Days::new(u64::from(n));
        h.accepted_on = Some(at(accept));
        let today = at(400);
        let mut s = carved(&h, &items, GrantKind::Approval);
        let mut last_state = s.state;
        for st in steps {
            let _ = match st {
                Step::Deliver(n) => s.deliver(at(n), today),
                Step::Activate(n) => s.check_activatable().and_then(|_| s.activate(&d(COUNTY), at(n), today, h.accepted_on)),
                Step::Recall(n) => s.recall(at(n), today, "收回"),
                Step::Archive(n) => s.archive(at(n), today),
            };
            prop_assert!(s.state >= last_state);
            last_state = s.state;
        }
        // The grantor's dates follow each other; the holder's activation follows the delivery
        // (a recall may predate an activation the grantor did not know of: never valid then).
        let dates: Vec<_> = [Some(s.seal.carved), s.delivered_on, s.recalled_on, s.archived_on].into_iter().flatten().collect();
        prop_assert!(dates.windows(2).all(|w| w[0] <= w[1]), "{dates:?}");
        prop_assert!(s.activated_on.is_none() || s.delivered_on.is_some_and(|d| Some(d) <= s.activated_on));
        let cands = vec![(h.clone(), items["XK00035000"].clone())];
        for n in 0..300 {
            let on = at(n);
            let expected = s.activated_on.is_some_and(|a| a <= on)
                && h.accepted_on.is_some_and(|a| a <= on)
                && s.recalled_on.is_none_or(|r| on < r);
            prop_assert_eq!(verdict(&s, "XK00035000", on, &cands).valid, expected, "day {}", on);
        }
    }
}

proptest! {
    /// The grantor's steps (deliver, recall, archive) and the holder's activation may reach a
    /// node in any order once the delivery is there: every order gives the same record.
    #[test]
    fn grantor_and_holder_steps_commute(
        delivered in 0u32..30, activated in 0u32..60, recalled in 0u32..90, archived in 0u32..120,
        position in 0usize..3, accept in 0u32..40,
    ) {
        let (mut h, items) = header(&batch());
        let base = day("2016-09-20");
        let at = |n: u32| base + chrono::Days::new(u64::from(n));
        h.accepted_on = Some(at(accept));
        let today = at(400);
        let start = carved(&h, &items, GrantKind::Approval);
        let grantor = |s: &mut SealStatus, i: usize| -> Result<(), GrantError> {
            match i {
                0 => s.deliver(at(delivered), today),
                1 => s.recall(at(recalled), today, "审批权划转"),
                _ => s.archive(at(archived), today),
            }
        };
        let holder = |s: &mut SealStatus| s.activate(&d(COUNTY), at(activated), today, h.accepted_on);
        // Order A: delivery, activation, then the rest; order B: activation after `position`
        // more of the grantor's steps (it always follows the delivery it depends on).
        let mut a = start.clone();
        let mut b = start;
        let ra: Vec<bool> = {
            let mut out = vec![grantor(&mut a, 0).is_ok(), holder(&mut a).is_ok()];
            out.extend((1..3).map(|i| grantor(&mut a, i).is_ok()));
            out
        };
        let mut rb = vec![grantor(&mut b, 0).is_ok()];
        let mut act = None;
        for i in 1..3 {
            if i - 1 == position { act = Some(holder(&mut b).is_ok()); }
            rb.push(grantor(&mut b, i).is_ok());
        }
        let act = act.unwrap_or_else(|| holder(&mut b).is_ok());
        rb.insert(1, act);
        prop_assert_eq!(ra, rb);
        prop_assert_eq!(a, b);
    }
}
