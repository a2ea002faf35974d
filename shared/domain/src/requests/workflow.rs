//! The adjustment-request workflow inside one node (调整申请办理流程): what a request proposes,
//! which offices it passes through, and what each step may do.
//!
//! A department clerk files a `Proposal` (kind, trigger, trigger date, the item changes,
//! attachments by SHA-256). `route` picks the stages from the kind and the trigger: additions,
//! cancellations, delegations, merges, splits and the (一)(二)(三) triggers go 编办 → 法制 →
//! 政府; element adjustments for (四)(五)(六) go 编办 → 法制 and 编办 decides. `RequestState`
//! moves by `step` (approve, return for changes, reject) and `resubmit`; the approval of the
//! last stage publishes the proposal's item ops in the same entry. Pure: the store applies these
//! rules to entries, the API checks them before signing. No clock, no storage.

use std::collections::HashSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::Trigger;
use super::roles::{Actor, Role};
use crate::item::{ItemPatch, PowerItem};
use crate::ops::{Op, apply_item_op};

/// What a request does to the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// 新增: new items.
    Add,
    /// 取消: items cancelled.
    Cancel,
    /// 下放: items handed to a lower level (cancelled here, with where they went).
    Delegate,
    /// 调整要素: elements of existing items change.
    Adjust,
    /// 合并: several items become one.
    Merge,
    /// 拆分: one item becomes several.
    Split,
}

impl RequestKind {
    pub const ALL: [RequestKind; 6] = [
        RequestKind::Add,
        RequestKind::Cancel,
        RequestKind::Delegate,
        RequestKind::Adjust,
        RequestKind::Merge,
        RequestKind::Split,
    ];

    pub fn key(self) -> &'static str {
        match self {
            RequestKind::Add => "add",
            RequestKind::Cancel => "cancel",
            RequestKind::Delegate => "delegate",
            RequestKind::Adjust => "adjust",
            RequestKind::Merge => "merge",
            RequestKind::Split => "split",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RequestKind::Add => "新增",
            RequestKind::Cancel => "取消",
            RequestKind::Delegate => "下放",
            RequestKind::Adjust => "调整要素",
            RequestKind::Merge => "合并",
            RequestKind::Split => "拆分",
        }
    }
}

impl std::str::FromStr for RequestKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        RequestKind::ALL.into_iter().find(|k| k.key() == s || k.label() == s).ok_or_else(|| {
            let keys: Vec<&str> = RequestKind::ALL.iter().map(|k| k.key()).collect();
            format!("未知的申请类型 “{s}”，应为 {} / unknown request kind", keys.join("、"))
        })
    }
}

/// One office's turn on a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// 编办审核: the establishment office reviews the application.
    EstablishmentReview,
    /// 法制审核: the legal office checks legality.
    LegalReview,
    /// 政府审定: the government approves.
    GovernmentApproval,
    /// 编办决定: the establishment office decides (element adjustments).
    EstablishmentDecision,
}

impl Stage {
    pub fn key(self) -> &'static str {
        match self {
            Stage::EstablishmentReview => "establishment_review",
            Stage::LegalReview => "legal_review",
            Stage::GovernmentApproval => "government_approval",
            Stage::EstablishmentDecision => "establishment_decision",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Stage::EstablishmentReview => "编办审核",
            Stage::LegalReview => "法制审核",
            Stage::GovernmentApproval => "政府审定",
            Stage::EstablishmentDecision => "编办决定",
        }
    }

    /// The role that acts at this stage.
    pub fn role(self) -> Role {
        match self {
            Stage::EstablishmentReview | Stage::EstablishmentDecision => Role::Establishment,
            Stage::LegalReview => Role::Legal,
            Stage::GovernmentApproval => Role::Government,
        }
    }
}

/// The stages a request passes through, in order.
pub fn route(kind: RequestKind, trigger: Trigger) -> Vec<Stage> {
    let government = !matches!(kind, RequestKind::Adjust)
        || matches!(trigger, Trigger::NewPower | Trigger::GovernmentDecision | Trigger::BasisChanged);
    let last = if government { Stage::GovernmentApproval } else { Stage::EstablishmentDecision };
    vec![Stage::EstablishmentReview, Stage::LegalReview, last]
}

/// One change a request proposes to the node's own list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Change {
    /// A new item.
    Add { item: PowerItem },
    /// New values for elements of an item.
    Update { code: String, patch: ItemPatch },
    /// An item cancelled (or delegated: the reason says to whom).
    Cancel { code: String, reason: String },
}

impl Change {
    /// The item code this change concerns.
    pub fn code(&self) -> &str {
        match self {
            Change::Add { item } => &item.code,
            Change::Update { code, .. } | Change::Cancel { code, .. } => code,
        }
    }

    /// The op that carries this change in the publishing entry of a request of `kind`: the
    /// cancellations of a 下放 request delegate the item (已下放).
    pub fn to_op(&self, kind: RequestKind) -> Op {
        match self {
            Change::Add { item } => Op::ItemAdd { item: item.clone(), list: None },
            Change::Update { code, patch } => Op::ItemUpdate { code: code.clone(), patch: patch.clone(), list: None },
            Change::Cancel { code, reason } => Op::ItemCancel {
                code: code.clone(),
                reason: reason.clone(),
                list: None,
                delegated: kind == RequestKind::Delegate,
            },
        }
    }
}

/// A document attached to a request, by its content hash (the bytes stay on the node).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Attachment {
    /// File name as uploaded, e.g. `关于调整行政许可事项的请示.pdf`.
    pub name: String,
    /// SHA-256 of the bytes, 64 lowercase hex digits.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

/// Largest attachment accepted, in bytes.
pub const MAX_ATTACHMENT_BYTES: u64 = 5 * 1024 * 1024;

/// What a department applies for (拟调整内容、调整依据、调整后事项要素).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Proposal {
    pub kind: RequestKind,
    pub trigger: Trigger,
    /// The day the change happened (变更之日); the filing window counts from it.
    pub trigger_date: NaiveDate,
    /// The applying department.
    pub department: String,
    /// A short title, e.g. `关于取消“农药经营许可”的申请`.
    pub title: String,
    /// 调整理由及依据.
    pub reason: String,
    pub changes: Vec<Change>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

/// One thing wrong with a proposal, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProposalProblem {
    /// The field, e.g. `changes[1].item.name` or `trigger_date`.
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for ProposalProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}：{}", self.field, self.message)
    }
}

impl Proposal {
    /// Every problem with this proposal filed on `filed`, checked against the node's list as it
    /// stands (`current` gives the item with a code, if any). Empty when it can be filed.
    pub fn problems(&self, filed: NaiveDate, current: impl Fn(&str) -> Option<PowerItem>) -> Vec<ProposalProblem> {
        let mut out = Vec::new();
        let mut problem = |field: String, message: String| out.push(ProposalProblem { field, message });
        if self.department.trim().is_empty() {
            problem("department".into(), "申请部门不能为空 / department is required".into());
        }
        if self.title.trim().is_empty() {
            problem("title".into(), "申请标题不能为空 / title is required".into());
        }
        if self.reason.trim().is_empty() {
            problem("reason".into(), "须说明调整理由及依据 / reason is required".into());
        }
        if self.trigger_date > filed {
            problem(
                "trigger_date".into(),
                format!("变更日期 {} 晚于申请日期 {filed} / trigger date after filing", self.trigger_date),
            );
        }
        if let Some(message) = self.shape_problem() {
            problem("changes".into(), message);
        }
        let mut seen = HashSet::new();
        for (i, change) in self.changes.iter().enumerate() {
            if !seen.insert(change.code().to_string()) {
                problem(format!("changes[{i}]"), format!("事项 “{}” 重复出现 / item appears twice", change.code()));
                continue;
            }
            if let Err(e) = apply_item_op(current(change.code()).as_ref(), &change.to_op(self.kind)) {
                problem(format!("changes[{i}]"), e.to_string());
            }
        }
        for (i, a) in self.attachments.iter().enumerate() {
            if a.name.trim().is_empty() {
                problem(format!("attachments[{i}].name"), "附件须有文件名 / attachment needs a name".into());
            }
            if a.sha256.len() != 64 || !a.sha256.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
                problem(
                    format!("attachments[{i}].sha256"),
                    "附件摘要应为 64 位小写十六进制 / sha256 must be 64 hex digits".into(),
                );
            }
            if a.size > MAX_ATTACHMENT_BYTES {
                problem(
                    format!("attachments[{i}].size"),
                    format!("附件超过 {} MB / attachment over the size limit", MAX_ATTACHMENT_BYTES / 1024 / 1024),
                );
            }
        }
        out
    }

    /// Whether the changes fit the kind: an addition only adds, a merge cancels several and adds
    /// one, and so on.
    fn shape_problem(&self) -> Option<String> {
        let adds = self.changes.iter().filter(|c| matches!(c, Change::Add { .. })).count();
        let updates = self.changes.iter().filter(|c| matches!(c, Change::Update { .. })).count();
        let cancels = self.changes.iter().filter(|c| matches!(c, Change::Cancel { .. })).count();
        let total = self.changes.len();
        let ok = match self.kind {
            RequestKind::Add => adds > 0 && adds == total,
            RequestKind::Cancel | RequestKind::Delegate => cancels > 0 && cancels == total,
            RequestKind::Adjust => updates > 0 && updates == total,
            RequestKind::Merge => cancels >= 2 && adds == 1 && updates == 0,
            RequestKind::Split => cancels == 1 && adds >= 2 && updates == 0,
        };
        (!ok).then(|| {
            let want = match self.kind {
                RequestKind::Add => "只含新增事项（op: add）",
                RequestKind::Cancel | RequestKind::Delegate => "只含取消事项（op: cancel）",
                RequestKind::Adjust => "只含要素调整（op: update）",
                RequestKind::Merge => "取消两项以上并新增一项",
                RequestKind::Split => "取消一项并新增两项以上",
            };
            format!(
                "“{}”申请应{want}，实际为新增 {adds}、调整 {updates}、取消 {cancels} / changes do not fit the kind {}",
                self.kind.label(),
                self.kind.key()
            )
        })
    }

    /// The item ops that publish this proposal, in order.
    pub fn ops(&self) -> Vec<Op> {
        self.changes.iter().map(|c| c.to_op(self.kind)).collect()
    }

    /// The item codes concerned.
    pub fn codes(&self) -> Vec<String> {
        self.changes.iter().map(|c| c.code().to_string()).collect()
    }
}

/// What a reviewer decides at a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// 同意: on to the next stage; at the last stage the list changes.
    Approve,
    /// 退回修改: back to the department, which may re-file.
    Return,
    /// 不予同意: closed.
    Reject,
}

impl Decision {
    pub fn key(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Return => "return",
            Decision::Reject => "reject",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Decision::Approve => "同意",
            Decision::Return => "退回修改",
            Decision::Reject => "不予同意",
        }
    }
}

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Waiting for the office of the current stage.
    Reviewing,
    /// Returned to the department for changes.
    Returned,
    /// Refused; closed.
    Rejected,
    /// Approved at the last stage and published in the list; closed.
    Published,
}

impl Status {
    pub fn key(self) -> &'static str {
        match self {
            Status::Reviewing => "reviewing",
            Status::Returned => "returned",
            Status::Rejected => "rejected",
            Status::Published => "published",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Reviewing => "审核中",
            Status::Returned => "已退回",
            Status::Rejected => "不予同意",
            Status::Published => "已发布",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        [Status::Reviewing, Status::Returned, Status::Rejected, Status::Published].into_iter().find(|x| x.key() == s)
    }

    pub fn is_closed(self) -> bool {
        matches!(self, Status::Rejected | Status::Published)
    }
}

/// A request's place in its route, as the log has made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestState {
    /// The seq of the entry that first filed it, in the node's log.
    pub id: u64,
    /// 1 for the first filing, +1 for each re-filing after a return.
    pub revision: u32,
    pub filer: Actor,
    pub proposal: Proposal,
    pub route: Vec<Stage>,
    /// Index into `route` of the stage waiting (or that returned/rejected it).
    pub at: usize,
    pub status: Status,
}

/// Why a workflow action is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkflowError {
    #[error("申请须由部门经办人提出（当前角色：{0}）/ only a department clerk files a request")]
    NotAClerk(&'static str),
    #[error("经办人属于“{actor}”，不能代“{department}”提出申请 / a clerk files for their own department only")]
    OtherDepartment { actor: String, department: String },
    #[error("申请不符合要求：{} / the request is invalid", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("；"))]
    Invalid(Vec<ProposalProblem>),
    #[error("申请 {id} 已{status}，不能再办理 / the request is closed")]
    Closed { id: u64, status: &'static str },
    #[error("申请 {id} 已退回申请部门，待重新提交 / the request waits for the department to re-file")]
    AwaitingResubmission { id: u64 },
    #[error("申请 {id} 未被退回，不能重新提交 / only a returned request can be re-filed")]
    NotReturned { id: u64 },
    #[error("申请 {id} 当前在“{current}”环节，不在“{given}”环节 / the request is at another stage")]
    WrongStage { id: u64, current: &'static str, given: &'static str },
    #[error("“{stage}”环节须由{needed}办理（当前角色：{given}）/ wrong role for this stage")]
    WrongRole { stage: &'static str, needed: &'static str, given: &'static str },
    #[error("申请人不能审核自己提出的申请 / the filer cannot review their own request")]
    OwnRequest,
    #[error("退回或不予同意须填写意见 / returning or rejecting needs a comment")]
    CommentRequired,
}

impl WorkflowError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            WorkflowError::NotAClerk(_) => "NOT_A_CLERK",
            WorkflowError::OtherDepartment { .. } => "OTHER_DEPARTMENT",
            WorkflowError::Invalid(_) => "BAD_REQUEST_CONTENT",
            WorkflowError::Closed { .. } => "REQUEST_CLOSED",
            WorkflowError::AwaitingResubmission { .. } => "REQUEST_RETURNED",
            WorkflowError::NotReturned { .. } => "NOT_RETURNED",
            WorkflowError::WrongStage { .. } => "WRONG_STAGE",
            WorkflowError::WrongRole { .. } => "WRONG_ROLE",
            WorkflowError::OwnRequest => "OWN_REQUEST",
            WorkflowError::CommentRequired => "COMMENT_REQUIRED",
        }
    }
}

/// What a step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// On to the next stage.
    Advanced,
    Returned,
    Rejected,
    /// The last stage approved: the entry must carry the proposal's item ops.
    Publish,
}

fn check_filer(actor: &Actor, proposal: &Proposal) -> Result<(), WorkflowError> {
    if actor.role != Role::Clerk {
        return Err(WorkflowError::NotAClerk(actor.role.label()));
    }
    let own = actor.department.as_deref().map(str::trim).unwrap_or("");
    if own != proposal.department.trim() {
        return Err(WorkflowError::OtherDepartment {
            actor: own.to_string(),
            department: proposal.department.trim().to_string(),
        });
    }
    Ok(())
}

impl RequestState {
    /// A request filed by `actor` in entry `id` (its seq) on day `filed`.
    pub fn open(
        id: u64,
        actor: &Actor,
        proposal: &Proposal,
        filed: NaiveDate,
        current: impl Fn(&str) -> Option<PowerItem>,
    ) -> Result<RequestState, WorkflowError> {
        check_filer(actor, proposal)?;
        let problems = proposal.problems(filed, current);
        if !problems.is_empty() {
            return Err(WorkflowError::Invalid(problems));
        }
        Ok(RequestState {
            id,
            revision: 1,
            filer: actor.clone(),
            proposal: proposal.clone(),
            route: route(proposal.kind, proposal.trigger),
            at: 0,
            status: Status::Reviewing,
        })
    }

    /// The department re-files a returned request with a revised proposal; it starts again at
    /// the first stage. The first filing's day stays the filing day.
    pub fn resubmit(
        &self,
        actor: &Actor,
        proposal: &Proposal,
        filed: NaiveDate,
        current: impl Fn(&str) -> Option<PowerItem>,
    ) -> Result<RequestState, WorkflowError> {
        if self.status.is_closed() {
            return Err(WorkflowError::Closed { id: self.id, status: self.status.label() });
        }
        if self.status != Status::Returned {
            return Err(WorkflowError::NotReturned { id: self.id });
        }
        check_filer(actor, proposal)?;
        if proposal.department.trim() != self.proposal.department.trim() {
            return Err(WorkflowError::OtherDepartment {
                actor: proposal.department.trim().to_string(),
                department: self.proposal.department.trim().to_string(),
            });
        }
        let problems = proposal.problems(filed, current);
        if !problems.is_empty() {
            return Err(WorkflowError::Invalid(problems));
        }
        Ok(RequestState {
            revision: self.revision + 1,
            proposal: proposal.clone(),
            route: route(proposal.kind, proposal.trigger),
            at: 0,
            status: Status::Reviewing,
            ..self.clone()
        })
    }

    /// The stage waiting for a decision, if the request is under review.
    pub fn current_stage(&self) -> Option<Stage> {
        (self.status == Status::Reviewing).then(|| self.route[self.at])
    }

    /// `actor` decides at `stage`.
    pub fn step(
        &self,
        stage: Stage,
        decision: Decision,
        comment: &str,
        actor: &Actor,
    ) -> Result<(RequestState, Outcome), WorkflowError> {
        match self.status {
            Status::Rejected | Status::Published => {
                return Err(WorkflowError::Closed { id: self.id, status: self.status.label() });
            }
            Status::Returned => return Err(WorkflowError::AwaitingResubmission { id: self.id }),
            Status::Reviewing => {}
        }
        let current = self.route[self.at];
        if stage != current {
            return Err(WorkflowError::WrongStage { id: self.id, current: current.label(), given: stage.label() });
        }
        if actor.role != current.role() {
            return Err(WorkflowError::WrongRole {
                stage: current.label(),
                needed: current.role().label(),
                given: actor.role.label(),
            });
        }
        if actor.id == self.filer.id {
            return Err(WorkflowError::OwnRequest);
        }
        if decision != Decision::Approve && comment.trim().is_empty() {
            return Err(WorkflowError::CommentRequired);
        }
        let mut next = self.clone();
        let outcome = match decision {
            Decision::Return => {
                next.status = Status::Returned;
                Outcome::Returned
            }
            Decision::Reject => {
                next.status = Status::Rejected;
                Outcome::Rejected
            }
            Decision::Approve if self.at + 1 == self.route.len() => {
                next.status = Status::Published;
                Outcome::Publish
            }
            Decision::Approve => {
                next.at += 1;
                Outcome::Advanced
            }
        };
        Ok((next, outcome))
    }
}
