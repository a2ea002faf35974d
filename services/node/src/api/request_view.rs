//! The JSON shape of an adjustment request: what `GET /requests`, `GET /requests/{id}` and the
//! answers of filing, re-filing and deciding send, and what the console's request pages read.
//! One struct built from the store's row by `request_view`, described in `/openapi.json` from
//! the same type, so what is sent and what is documented cannot drift.
//!
//! Owns the shape and its labels only: who may see a request and what a step may do are
//! `api/requests.rs` and the domain's. Must not read the store, and must not rename a field or
//! turn a `null` into an absent one: the console and the tests read these names.

use chrono::NaiveDate;
use quanze_domain::calendar::{Calendar, Window};
use quanze_domain::requests::filing_deadline;
use quanze_domain::requests::workflow::{Attachment, Change};
use quanze_domain::{Decision, DivisionCode, Stage, Status};
use quanze_store::{RequestRow, RequestStepRow};
use serde::Serialize;
use utoipa::ToSchema;

/// A request with its deadline and, when shown alone, its whole trace.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestView {
    /// The node whose log holds it.
    pub node: String,
    /// The seq of the entry that first filed it.
    pub id: u64,
    pub revision: u32,
    /// reviewing, returned, rejected or published.
    pub status: &'static str,
    pub status_label: &'static str,
    /// The stage waiting for a decision, else the one that acted last.
    pub stage: &'static str,
    pub stage_label: &'static str,
    /// The role whose decision is awaited; `null` unless under review.
    #[schema(required = true)]
    pub waiting_for: Option<WaitingFor>,
    /// The stages the request passes through, in order.
    pub route: Vec<RouteStage>,
    pub kind: &'static str,
    pub kind_label: &'static str,
    pub trigger: &'static str,
    pub trigger_label: &'static str,
    pub trigger_date: NaiveDate,
    pub department: String,
    pub title: String,
    pub reason: String,
    pub changes: Vec<Change>,
    pub attachments: Vec<Attachment>,
    pub filer: Filer,
    pub filed_on: NaiveDate,
    /// The node's filing window when it was first filed.
    pub window: Window,
    /// The entry that published its changes; `null` until published.
    #[schema(required = true)]
    pub published_seq: Option<u64>,
    pub last_seq: u64,
    /// The last day to file in time; absent when it cannot be counted (see `calendar_error`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due: Option<NaiveDate>,
    /// Working days filed after `due` (0 in time); absent with `due`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub late_days: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub late: Option<bool>,
    /// Why the deadline cannot be counted (a year not published); absent when it can.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calendar_error: Option<String>,
    /// Every action on it, oldest first; only when one request is shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<StepView>>,
}

/// The role a request waits for.
#[derive(Debug, Serialize, ToSchema)]
pub struct WaitingFor {
    pub role: &'static str,
    pub label: &'static str,
}

/// One stage of a request's route.
#[derive(Debug, Serialize, ToSchema)]
pub struct RouteStage {
    pub stage: &'static str,
    pub label: &'static str,
    /// The role that decides at it.
    pub role: &'static str,
}

/// Who filed a request.
#[derive(Debug, Serialize, ToSchema)]
pub struct Filer {
    pub name: String,
    pub role: &'static str,
}

/// One action of a request's trace (全程留痕).
#[derive(Debug, Serialize, ToSchema)]
pub struct StepView {
    /// The entry that recorded it.
    pub seq: u64,
    pub revision: u32,
    /// submit, resubmit, approve, return or reject.
    pub action: String,
    pub action_label: &'static str,
    /// `null` for a filing.
    #[schema(required = true)]
    pub stage: Option<&'static str>,
    #[schema(required = true)]
    pub stage_label: Option<&'static str>,
    pub actor: StepActor,
    pub comment: String,
    pub at: String,
}

/// Who took a step, in which role.
#[derive(Debug, Serialize, ToSchema)]
pub struct StepActor {
    pub name: String,
    pub role: &'static str,
    pub role_label: &'static str,
}

/// `GET /requests`: one node's requests, newest first (no traces).
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestList {
    pub node: DivisionCode,
    pub requests: Vec<RequestView>,
}

/// The request of `row` with its deadline counted with `calendar`, and its trace when `steps`
/// are given.
pub fn request_view(calendar: &Calendar, row: &RequestRow, steps: Option<&[RequestStepRow]>) -> RequestView {
    let p = &row.proposal;
    let (due, late_days, late, calendar_error) =
        match filing_deadline(calendar, row.window, p.trigger_date, row.filed_on) {
            Ok((due, late)) => (Some(due), Some(late), Some(late > 0), None),
            Err(e) => (None, None, None, Some(e.to_string())),
        };
    RequestView {
        node: row.node.clone(),
        id: row.id,
        revision: row.revision,
        status: row.status.key(),
        status_label: row.status.label(),
        stage: row.stage.key(),
        stage_label: row.stage.label(),
        waiting_for: (row.status == Status::Reviewing)
            .then(|| WaitingFor { role: row.stage.role().key(), label: row.stage.role().label() }),
        route: row
            .route
            .iter()
            .map(|s| RouteStage { stage: s.key(), label: s.label(), role: s.role().key() })
            .collect(),
        kind: p.kind.key(),
        kind_label: p.kind.label(),
        trigger: p.trigger.key(),
        trigger_label: p.trigger.label(),
        trigger_date: p.trigger_date,
        department: p.department.clone(),
        title: p.title.clone(),
        reason: p.reason.clone(),
        changes: p.changes.clone(),
        attachments: p.attachments.clone(),
        filer: Filer { name: row.filer.name.clone(), role: row.filer.role.key() },
        filed_on: row.filed_on,
        window: row.window,
        published_seq: row.published_seq,
        last_seq: row.last_seq,
        due,
        late_days,
        late,
        calendar_error,
        steps: steps.map(|steps| steps.iter().map(step_view).collect()),
    }
}

fn step_view(s: &RequestStepRow) -> StepView {
    StepView {
        seq: s.seq,
        revision: s.revision,
        action: s.action.clone(),
        action_label: action_label(&s.action),
        stage: s.stage.map(Stage::key),
        stage_label: s.stage.map(Stage::label),
        actor: StepActor { name: s.actor.name.clone(), role: s.actor.role.key(), role_label: s.actor.role.label() },
        comment: s.comment.clone(),
        at: s.at.clone(),
    }
}

fn action_label(action: &str) -> &'static str {
    match action {
        "submit" => "提交申请",
        "resubmit" => "修改后重新提交",
        "approve" => Decision::Approve.label(),
        "return" => Decision::Return.label(),
        "reject" => Decision::Reject.label(),
        _ => "",
    }
}
