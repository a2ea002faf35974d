//! Tests of `recon.rs`: proposals, adoption checks, task status and due dates.

use proptest::prelude::*;

use super::*;
use crate::calendar::DayUnit;
use crate::category::Category;
use crate::item::Citation;
use crate::item::tests::food_licence;
use crate::ops::{Op, apply_item_op};

fn present(item: PowerItem) -> Requirement {
    Requirement { change: 0, code: item.code.clone(), tiers: vec![Tier::County], expect: Expect::Present { item } }
}

fn absent(code: &str) -> Requirement {
    Requirement {
        change: 0,
        code: code.into(),
        tiers: vec![Tier::County],
        expect: Expect::Absent { reason: "依据文件取消".into(), delegated: false },
    }
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// Applies a proposal with the ops a node writes for it.
fn carry_out(action: &Action, code: &str, current: Option<&PowerItem>) -> Option<PowerItem> {
    let op = match action {
        Action::None | Action::Blocked { .. } => return current.cloned(),
        Action::Add { item } => Op::add(item.clone()),
        Action::Update { patch } => Op::update(code, patch.clone()),
        Action::Cancel { reason, delegated: false } => Op::cancel(code, reason.clone()),
        Action::Cancel { reason, delegated: true } => Op::delegate(code, reason.clone()),
    };
    Some(apply_item_op(current, &op).unwrap())
}

#[test]
fn a_proposal_keeps_local_elements_and_fixes_uniform_ones() {
    let cat = food_licence();
    let mut local = food_licence();
    local.name = "食品经营许可（旧名）".into();
    local.implementing_body = "泸县行政审批局".into();
    local.time_limit.promised_days = Some(5);
    let req = present(cat.clone());
    let Action::Update { patch } = propose(&req, Some(&local)) else { panic!("an update") };
    assert_eq!(patch.name.as_deref(), Some("食品经营许可"));
    assert!(patch.implementing_body.is_none() && patch.time_limit.is_none(), "local elements stay");
    let after = carry_out(&Action::Update { patch }, &cat.code, Some(&local)).unwrap();
    assert_eq!(after.implementing_body, "泸县行政审批局");
    assert_eq!(check(&req, Some(&after)), Ok(()));
    assert!(
        matches!(check(&req, Some(&local)), Err(ReconError::Mismatch { detail, .. }) if detail.contains("事项名称"))
    );
}

#[test]
fn with_local_takes_uniform_elements_from_the_catalogue() {
    let cat = food_licence();
    let mut local = food_licence();
    local.category = Category::Other;
    local.basis = vec![Citation { law: "某办法".into(), article: String::new() }];
    local.implementing_body = "泸县市场监督管理局城东分局".into();
    local.time_limit = TimeLimit { legal_days: Some(30), promised_days: Some(25) };
    let out = with_local(&cat, &local);
    assert_eq!((out.category, &out.basis), (cat.category, &cat.basis));
    assert_eq!(out.implementing_body, "泸县市场监督管理局城东分局");
    assert_eq!(out.time_limit, TimeLimit { legal_days: Some(20), promised_days: Some(20) }, "promised capped at legal");
    assert_eq!(check(&present(cat), Some(&out)), Ok(()));
}

#[test]
fn absent_requirements_cancel_active_items_only() {
    let item = food_licence();
    let req = absent(&item.code);
    assert!(matches!(propose(&req, Some(&item)), Action::Cancel { delegated: false, .. }));
    assert_eq!(propose(&req, None), Action::None);
    let down =
        Requirement { expect: Expect::Absent { reason: "依据文件下放".into(), delegated: true }, ..req.clone() };
    let delegated = carry_out(&propose(&down, Some(&item)), &item.code, Some(&item));
    assert_eq!(delegated.map(|i| i.status), Some(ItemStatus::Delegated), "a delegation adopted is 已下放");
    assert!(check(&req, Some(&item)).is_err());
    let cancelled = carry_out(&propose(&req, Some(&item)), &item.code, Some(&item)).unwrap();
    assert_eq!(check(&req, Some(&cancelled)), Ok(()));
    assert!(matches!(propose(&present(item.clone()), Some(&cancelled)), Action::Blocked { .. }));
}

#[test]
fn task_status_follows_resolutions() {
    let mut p = Progress { required: 2, ..Default::default() };
    assert_eq!(p.closed_status(), None);
    p.acted = true;
    p.resolved.insert("A".into(), Resolution::Adopted);
    assert_eq!(p.closed_status(), None);
    p.resolved.insert("B".into(), Resolution::Deviated);
    assert_eq!(p.closed_status(), Some(TaskStatus::Deviated));
    p.resolved.insert("B".into(), Resolution::Adopted);
    assert_eq!(p.closed_status(), Some(TaskStatus::Adopted));
    let nothing_required = Progress { required: 0, acted: true, ..Default::default() };
    assert_eq!(nothing_required.closed_status(), Some(TaskStatus::Adopted));
    let na = Progress { required: 3, not_applicable: true, ..Default::default() };
    assert_eq!(na.closed_status(), Some(TaskStatus::NotApplicable));
}

#[test]
fn assessments_count_working_days() {
    let cal = Calendar::builtin();
    let window = Window::default();
    // Published on the make-up Sunday 2025-09-28 (not counted): 09-29, 09-30, the 10-01..08 break,
    // then 10-09 … with the make-up Saturday 10-11: the 20th working day is 2025-10-31.
    let a = assess(&cal, day("2025-09-28"), window, None, day("2025-09-30")).unwrap();
    assert_eq!(a.due, day("2025-10-31"));
    assert_eq!((a.status, a.days_left), (TaskStatus::Open, Some(18)));
    let a = assess(&cal, day("2025-09-28"), window, None, day("2025-11-04")).unwrap();
    assert_eq!((a.status, a.days_overdue), (TaskStatus::Overdue, Some(2)));
    let late = Closing { status: TaskStatus::Adopted, on: day("2025-11-03") };
    let a = assess(&cal, day("2025-09-28"), window, Some(late), day("2025-12-01")).unwrap();
    assert_eq!((a.status, a.late_days), (TaskStatus::Adopted, Some(1)));
    let on_time = Closing { status: TaskStatus::Deviated, on: day("2025-10-10") };
    let a = assess(&cal, day("2025-09-28"), window, Some(on_time), day("2025-12-01")).unwrap();
    assert_eq!((a.status, a.late_days), (TaskStatus::Deviated, Some(0)));
    let seven = Window { days: 7, unit: DayUnit::Calendar };
    assert_eq!(assess(&cal, day("2025-09-24"), seven, None, day("2025-09-25")).unwrap().due, day("2025-10-09"));
    assert!(assess(&cal, day("2026-12-20"), window, None, day("2026-12-21")).is_err(), "runs into 2027");
}

#[test]
fn entry_timestamps_fall_on_china_days() {
    assert_eq!(china_day("2025-09-30T16:30:00.000Z"), Some(day("2025-10-01")));
    assert_eq!(china_day("2025-09-30T15:59:59.000Z"), Some(day("2025-09-30")));
    assert_eq!(china_day("yesterday"), None);
}

fn arb_item() -> impl Strategy<Value = Option<PowerItem>> {
    let names = prop::sample::select(vec!["食品经营许可", "食品经营许可（旧）", "餐饮服务许可"]);
    let cats = prop::sample::select(vec![Category::Licensing, Category::Other]);
    let bodies = prop::sample::select(vec!["泸县市场监督管理局", "泸县行政审批局"]);
    let limits = prop::sample::select(vec![(Some(20), Some(10)), (Some(30), Some(25)), (None, None), (Some(20), None)]);
    let status = prop::sample::select(vec![ItemStatus::Active, ItemStatus::Active, ItemStatus::Cancelled]);
    let basis = prop::bool::ANY;
    (prop::bool::weighted(0.8), names, cats, bodies, limits, status, basis).prop_map(
        |(exists, name, category, body, (legal, promised), status, same_basis)| {
            exists.then(|| {
                let mut item = food_licence();
                item.name = name.into();
                item.category = category;
                if category == Category::Other {
                    item.code = "XK00035000".into();
                }
                item.implementing_body = body.into();
                item.time_limit = TimeLimit { legal_days: legal, promised_days: promised };
                item.status = status;
                if !same_basis {
                    item.basis =
                        vec![Citation { law: "食品经营许可管理办法".into(), article: "第二条".into() }];
                }
                item
            })
        },
    )
}

proptest! {
    /// Carrying out a proposal always makes the list pass the check (unless it is blocked), and
    /// a list that needs nothing already passes.
    #[test]
    fn proposals_lead_to_lists_that_pass(current in arb_item(), want_present in prop::bool::ANY, cat in arb_item()) {
        let cat = cat.map(|mut c| { c.status = ItemStatus::Active; c.category = Category::Licensing; c })
            .unwrap_or_else(food_licence);
        let req = if want_present { present(cat.clone()) } else { absent(&cat.code) };
        let action = propose(&req, current.as_ref());
        if matches!(action, Action::Blocked { .. }) {
            prop_assert!(check(&req, current.as_ref()).is_err());
            return Ok(());
        }
        if action == Action::None {
            prop_assert_eq!(check(&req, current.as_ref()), Ok(()));
        }
        let after = carry_out(&action, &cat.code, current.as_ref());
        prop_assert_eq!(check(&req, after.as_ref()), Ok(()));
        if let (Some(before), Some(after), true) = (current.as_ref(), after.as_ref(), want_present) {
            prop_assert_eq!(&before.implementing_body, &after.implementing_body, "local elements stay");
        }
    }
}
