//! Tests of the adjustment-request workflow: routes, the shape of each kind, every refusal, and
//! a property that no sequence of actions publishes without every stage approving.

use chrono::NaiveDate;
use proptest::prelude::*;

use super::Trigger;
use super::roles::{Actor, Role};
use super::workflow::*;
use crate::item::tests::food_licence;
use crate::item::{ItemPatch, PowerItem};

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn actor(id: &str, role: Role, department: Option<&str>) -> Actor {
    Actor { id: id.into(), name: format!("用户{id}"), role, department: department.map(Into::into) }
}

fn clerk() -> Actor {
    actor("u1", Role::Clerk, Some("区市场监管局"))
}

fn listed() -> PowerItem {
    food_licence()
}

fn current(code: &str) -> Option<PowerItem> {
    (code == listed().code).then(listed)
}

fn proposal(kind: RequestKind, trigger: Trigger, changes: Vec<Change>) -> Proposal {
    Proposal {
        kind,
        trigger,
        trigger_date: day("2025-03-03"),
        department: "区市场监管局".into(),
        title: "关于调整食品经营许可事项的申请".into(),
        reason: "《食品经营许可和备案管理办法》修订".into(),
        changes,
        attachments: vec![],
    }
}

fn adjust() -> Proposal {
    let patch = ItemPatch { name: Some("食品经营许可（含备案）".into()), ..ItemPatch::default() };
    proposal(RequestKind::Adjust, Trigger::InformationChanged, vec![Change::Update { code: listed().code, patch }])
}

fn cancel() -> Proposal {
    proposal(
        RequestKind::Cancel,
        Trigger::GovernmentDecision,
        vec![Change::Cancel { code: listed().code, reason: "上级政府决定取消".into() }],
    )
}

fn open(p: &Proposal) -> RequestState {
    RequestState::open(7, &clerk(), p, day("2025-03-10"), current).unwrap()
}

#[test]
fn routes_follow_kind_and_trigger() {
    use Stage::*;
    assert_eq!(
        route(RequestKind::Adjust, Trigger::Restructuring),
        vec![EstablishmentReview, LegalReview, EstablishmentDecision]
    );
    assert_eq!(route(RequestKind::Adjust, Trigger::InformationChanged).last(), Some(&EstablishmentDecision));
    assert_eq!(route(RequestKind::Adjust, Trigger::BasisChanged).last(), Some(&GovernmentApproval));
    for kind in [RequestKind::Add, RequestKind::Cancel, RequestKind::Delegate, RequestKind::Merge, RequestKind::Split] {
        for trigger in Trigger::ALL {
            assert_eq!(
                route(kind, trigger),
                vec![EstablishmentReview, LegalReview, GovernmentApproval],
                "{kind:?} {trigger:?}"
            );
        }
    }
}

#[test]
fn the_element_path_is_decided_by_the_establishment_office() {
    let s = open(&adjust());
    let (s, o) =
        s.step(Stage::EstablishmentReview, Decision::Approve, "", &actor("u2", Role::Establishment, None)).unwrap();
    assert_eq!(o, Outcome::Advanced);
    let (s, o) = s.step(Stage::LegalReview, Decision::Approve, "合法", &actor("u3", Role::Legal, None)).unwrap();
    assert_eq!(o, Outcome::Advanced);
    assert_eq!(s.current_stage(), Some(Stage::EstablishmentDecision));
    let (s, o) =
        s.step(Stage::EstablishmentDecision, Decision::Approve, "", &actor("u2", Role::Establishment, None)).unwrap();
    assert_eq!((o, s.status), (Outcome::Publish, Status::Published));
    let err = s
        .step(Stage::EstablishmentDecision, Decision::Approve, "", &actor("u2", Role::Establishment, None))
        .unwrap_err();
    assert_eq!(err.code(), "REQUEST_CLOSED");
}

#[test]
fn wrong_role_wrong_stage_own_request_and_missing_comment_are_refused() {
    let s = open(&cancel());
    let legal = actor("u3", Role::Legal, None);
    assert_eq!(s.step(Stage::EstablishmentReview, Decision::Approve, "", &legal).unwrap_err().code(), "WRONG_ROLE");
    assert_eq!(s.step(Stage::LegalReview, Decision::Approve, "", &legal).unwrap_err().code(), "WRONG_STAGE");
    let filer_as_reviewer = Actor { role: Role::Establishment, department: None, ..clerk() };
    assert_eq!(
        s.step(Stage::EstablishmentReview, Decision::Approve, "", &filer_as_reviewer).unwrap_err(),
        WorkflowError::OwnRequest
    );
    let est = actor("u2", Role::Establishment, None);
    assert_eq!(s.step(Stage::EstablishmentReview, Decision::Return, " ", &est).unwrap_err().code(), "COMMENT_REQUIRED");
    assert_eq!(s.step(Stage::EstablishmentReview, Decision::Reject, "", &est).unwrap_err().code(), "COMMENT_REQUIRED");
}

#[test]
fn returned_requests_wait_for_the_department_and_start_again() {
    let s = open(&cancel());
    let (s, _) =
        s.step(Stage::EstablishmentReview, Decision::Approve, "", &actor("u2", Role::Establishment, None)).unwrap();
    let (s, o) = s.step(Stage::LegalReview, Decision::Return, "依据引用有误", &actor("u3", Role::Legal, None)).unwrap();
    assert_eq!((o, s.status), (Outcome::Returned, Status::Returned));
    let err = s.step(Stage::LegalReview, Decision::Approve, "", &actor("u3", Role::Legal, None)).unwrap_err();
    assert_eq!(err.code(), "REQUEST_RETURNED");
    let other = actor("u9", Role::Clerk, Some("区农业农村局"));
    assert_eq!(s.resubmit(&other, &cancel(), day("2025-03-12"), current).unwrap_err().code(), "OTHER_DEPARTMENT");
    let again = s.resubmit(&clerk(), &cancel(), day("2025-03-12"), current).unwrap();
    assert_eq!((again.revision, again.at, again.status), (2, 0, Status::Reviewing));
    assert_eq!(again.resubmit(&clerk(), &cancel(), day("2025-03-12"), current).unwrap_err().code(), "NOT_RETURNED");
}

#[test]
fn only_a_clerk_of_the_department_files() {
    let p = cancel();
    let est = actor("u2", Role::Establishment, None);
    assert_eq!(RequestState::open(1, &est, &p, day("2025-03-10"), current).unwrap_err().code(), "NOT_A_CLERK");
    let other = actor("u9", Role::Clerk, Some("区农业农村局"));
    assert_eq!(RequestState::open(1, &other, &p, day("2025-03-10"), current).unwrap_err().code(), "OTHER_DEPARTMENT");
}

#[test]
fn proposals_name_every_bad_field() {
    let mut p = cancel();
    p.title = " ".into();
    p.trigger_date = day("2025-04-01");
    p.changes.push(Change::Cancel { code: "XK9999".into(), reason: "无".into() });
    p.attachments.push(Attachment { name: "a.pdf".into(), sha256: "xyz".into(), size: MAX_ATTACHMENT_BYTES + 1 });
    let fields: Vec<String> = p.problems(day("2025-03-10"), current).into_iter().map(|x| x.field).collect();
    assert_eq!(fields, ["title", "trigger_date", "changes[1]", "attachments[0].sha256", "attachments[0].size"]);
    let err = RequestState::open(1, &clerk(), &p, day("2025-03-10"), current).unwrap_err();
    assert_eq!(err.code(), "BAD_REQUEST_CONTENT");
    assert!(err.to_string().contains("XK9999"), "{err}");
}

#[test]
fn changes_must_fit_the_kind() {
    let add = Change::Add { item: PowerItem { code: "XK0001".into(), ..listed() } };
    let cancel_change = Change::Cancel { code: listed().code, reason: "合并".into() };
    let mixed = proposal(RequestKind::Cancel, Trigger::Other, vec![cancel_change.clone(), add.clone()]);
    assert_eq!(mixed.problems(day("2025-03-10"), current)[0].field, "changes");
    let split = proposal(
        RequestKind::Split,
        Trigger::Restructuring,
        vec![cancel_change.clone(), add.clone(), Change::Add { item: PowerItem { code: "XK0002".into(), ..listed() } }],
    );
    assert!(split.problems(day("2025-03-10"), current).is_empty());
    let merge_one = proposal(RequestKind::Merge, Trigger::Restructuring, vec![cancel_change, add]);
    assert_eq!(merge_one.problems(day("2025-03-10"), current)[0].field, "changes");
    let empty = proposal(RequestKind::Add, Trigger::NewPower, vec![]);
    assert_eq!(empty.problems(day("2025-03-10"), current)[0].field, "changes");
}

#[test]
fn the_ops_of_a_proposal_follow_its_changes() {
    let p = cancel();
    assert_eq!(p.ops().len(), 1);
    assert_eq!(p.ops()[0].kind(), "item.cancel");
    assert_eq!(p.codes(), vec![listed().code]);
}

fn any_action() -> impl Strategy<Value = (usize, usize, usize, bool)> {
    // (stage index, decision index, role index, acts as the filer)
    (0..4usize, 0..3usize, 0..7usize, any::<bool>())
}

proptest! {
    /// Whatever is tried, a request is published only after each stage of its route approved in
    /// order, each by the stage's role and never by the filer; a closed request never moves.
    #[test]
    fn publication_needs_every_stage_in_order(
        adjust_path in any::<bool>(),
        actions in proptest::collection::vec(any_action(), 0..40),
    ) {
        let stages = [Stage::EstablishmentReview, Stage::LegalReview, Stage::GovernmentApproval, Stage::EstablishmentDecision];
        let decisions = [Decision::Approve, Decision::Return, Decision::Reject];
        let p = if adjust_path { adjust() } else { cancel() };
        let mut state = open(&p);
        let mut approvals: Vec<Stage> = Vec::new();
        for (s, d, r, as_filer) in actions {
            let role = Role::ALL[r];
            let who = if as_filer { Actor { role, ..clerk() } } else { actor("u5", role, None) };
            let before = state.clone();
            match state.step(stages[s], decisions[d], "意见", &who) {
                Ok((next, outcome)) => {
                    prop_assert!(!before.status.is_closed());
                    prop_assert_eq!(before.current_stage(), Some(stages[s]));
                    prop_assert_eq!(who.role, stages[s].role());
                    prop_assert!(!as_filer);
                    match outcome {
                        Outcome::Advanced | Outcome::Publish => approvals.push(stages[s]),
                        Outcome::Returned => {
                            approvals.clear();
                            state = next.resubmit(&clerk(), &p, day("2025-03-11"), current).unwrap();
                            continue;
                        }
                        Outcome::Rejected => {}
                    }
                    if outcome == Outcome::Publish {
                        prop_assert_eq!(&approvals, &next.route);
                    }
                    state = next;
                }
                Err(_) => prop_assert_eq!(&state, &before),
            }
        }
    }
}

#[test]
fn a_delegation_request_publishes_the_item_as_delegated() {
    let mut p = cancel();
    p.kind = RequestKind::Delegate;
    p.changes = vec![Change::Cancel { code: listed().code, reason: "下放至乡镇实施".into() }];
    let ops = p.ops();
    let out = crate::ops::apply_item_op(Some(&listed()), &ops[0]).unwrap();
    assert_eq!(out.status, crate::item::ItemStatus::Delegated, "已下放, not 已取消");
    let out = crate::ops::apply_item_op(Some(&listed()), &cancel().ops()[0]).unwrap();
    assert_eq!(out.status, crate::item::ItemStatus::Cancelled);
}
