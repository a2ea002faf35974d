//! Operations carried by log entries, and the pure rule that applies one op to one item.
//!
//! Owns the op vocabulary (`Op`) and `apply_item_op`: given the item as it stands (or none), the
//! item after the op, or why the op is refused. Storage decides where items live; this module
//! decides what is allowed. Who may write which op is `authority.rs`. Catalogue publications
//! are planned in `catalogue.rs`, reconciliation in `recon.rs`, filings in `requests.rs`.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::calendar::{CalendarError, HolidayYear, Window};
use crate::catalogue::{CatalogueError, PubRef, Publication};
use crate::division::DivisionCode;
use crate::grants::{Extension, GrantBatch, GrantError, GrantRef, Seal};
use crate::item::{FieldError, ItemPatch, ItemStatus, PowerItem};
use crate::recon::ReconError;
use crate::requests::roles::Actor;
use crate::requests::workflow::{Decision, Proposal, Stage, WorkflowError};
use crate::requests::{Filing, FilingError};
use crate::tier::Tier;

/// A node's enrolment in the federation: who it is and which key signs its log from which seq.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Enrolment {
    pub division: DivisionCode,
    pub tier: Tier,
    pub name: String,
    /// Ed25519 public key, 64 lowercase hex digits.
    pub key: String,
    /// First seq of the enrolled node's log signed by this key; earlier entries keep the keys
    /// valid when they were written.
    pub valid_from: u64,
}

impl Enrolment {
    /// True when `key` has the shape of a public key (the ledger checks it is a curve point).
    pub fn key_is_well_formed(&self) -> bool {
        self.key.len() == 64 && self.key.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    }
}

/// One operation of an entry. An entry carries a batch of them, applied atomically.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Op {
    /// Adds an item to a list (新增). `list` names the list; absent means the origin's own,
    /// which is the only list an origin may edit.
    #[serde(rename = "item.add")]
    ItemAdd {
        item: PowerItem,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        list: Option<DivisionCode>,
    },
    /// Adjusts elements of an item of a list (调整要素).
    #[serde(rename = "item.update")]
    ItemUpdate {
        code: String,
        patch: ItemPatch,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        list: Option<DivisionCode>,
    },
    /// Cancels an item of a list (取消), with the reason; with `delegated`, the list gives the
    /// item up to a lower level (下放: 已下放, not 已取消).
    #[serde(rename = "item.cancel")]
    ItemCancel {
        code: String,
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        list: Option<DivisionCode>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        delegated: bool,
    },
    /// Enrols a node (by its parent), or a new key for the origin itself (key rotation).
    #[serde(rename = "node.enroll")]
    Enroll { enrolment: Enrolment },
    /// Revokes a child's key: its entries after seq `after` are refused until it is enrolled
    /// again.
    #[serde(rename = "node.revoke")]
    Revoke { division: DivisionCode, after: u64, reason: String },
    /// Clears a fork of a descendant's log (re-enrolment): the branch already held is kept, the
    /// node continues under `enrolment` from its `valid_from`.
    #[serde(rename = "node.resolve")]
    Resolve { enrolment: Enrolment, fork_seq: u64, reason: String },
    /// The official holiday arrangement of one year (root only): every node counts working days
    /// with the years its root published.
    #[serde(rename = "calendar.year")]
    CalendarYear { year: HolidayYear },
    /// A catalogue change for lower tiers (目录公布), one document.
    #[serde(rename = "catalogue.publish")]
    Publish { publication: Publication },
    /// The origin's list now meets the publication for `codes` (the entry's item ops did it);
    /// no codes: every requirement of the origin's tier.
    #[serde(rename = "recon.adopt")]
    ReconAdopt {
        publication: PubRef,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        codes: Vec<String>,
    },
    /// The origin keeps its list different from the publication for `codes` (no codes: every
    /// unresolved one), with the reason and the legal basis.
    #[serde(rename = "recon.deviate")]
    ReconDeviate {
        publication: PubRef,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        codes: Vec<String>,
        reason: String,
        basis: String,
    },
    /// The publication does not apply to the origin, with the reason.
    #[serde(rename = "recon.not_applicable")]
    ReconNotApplicable { publication: PubRef, reason: String },
    /// The origin's policy: how soon after a trigger its departments must file adjustments.
    #[serde(rename = "node.policy")]
    Policy { request_window: Window },
    /// A department filed an adjustment request (调整申请) with the origin.
    #[serde(rename = "request.file")]
    RequestFile { filing: Filing },
    /// A department clerk files an adjustment request through the workflow (`request` absent:
    /// a new request, whose id is this entry's seq), or re-files a returned one (`request`: its
    /// id).
    #[serde(rename = "request.submit")]
    RequestSubmit {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request: Option<u64>,
        proposal: Proposal,
        actor: Actor,
    },
    /// A reviewer's decision on a request at a stage. The approval of the last stage is followed,
    /// in the same entry, by exactly the proposal's item ops.
    #[serde(rename = "request.step")]
    RequestStep { request: u64, stage: Stage, decision: Decision, comment: String, actor: Actor },
    /// A grant batch (赋权): the origin lets a node of its subtree exercise items of its list.
    #[serde(rename = "grant.issue")]
    GrantIssue { batch: GrantBatch },
    /// The grantee takes the batch over on `date`, naming its receiving departments; the items
    /// then enter its list as granted.
    #[serde(rename = "grant.accept")]
    GrantAccept { batch: GrantRef, departments: Vec<String>, date: NaiveDate },
    /// The grantor takes back the whole batch (no codes) or some of its items from `date` on.
    #[serde(rename = "grant.revoke")]
    GrantRevoke {
        batch: GrantRef,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        codes: Vec<String>,
        reason: String,
        date: NaiveDate,
    },
    /// The grantor extends the training period of a batch.
    #[serde(rename = "grant.extend")]
    GrantExtend { batch: GrantRef, extension: Extension },
    /// A special seal (专用分章) carved by a department of the origin for the holder.
    #[serde(rename = "seal.carve")]
    SealCarve { seal: Seal },
    /// The origin's seal `seal` reached its holder on `date`.
    #[serde(rename = "seal.deliver")]
    SealDeliver { seal: String, date: NaiveDate },
    /// The holder (the origin) starts using seal `seal` of `grantor` on `date`.
    #[serde(rename = "seal.activate")]
    SealActivate { grantor: DivisionCode, seal: String, date: NaiveDate },
    /// The origin takes its seal back on `date`, with the reason.
    #[serde(rename = "seal.recall")]
    SealRecall { seal: String, date: NaiveDate, reason: String },
    /// The origin seals a recalled seal away (封存).
    #[serde(rename = "seal.archive")]
    SealArchive { seal: String, date: NaiveDate },
    /// A new seal of the origin (e.g. the approval bureau's) takes over from `replaces`, which
    /// are recalled on `date` if they are not already.
    #[serde(rename = "seal.replace")]
    SealReplace { replaces: Vec<String>, seal: Seal, date: NaiveDate, reason: String },
}

impl Op {
    /// Adds `item` to the origin's own list.
    pub fn add(item: PowerItem) -> Op {
        Op::ItemAdd { item, list: None }
    }
    /// Adjusts item `code` of the origin's own list.
    pub fn update(code: impl Into<String>, patch: ItemPatch) -> Op {
        Op::ItemUpdate { code: code.into(), patch, list: None }
    }
    /// Cancels item `code` of the origin's own list.
    pub fn cancel(code: impl Into<String>, reason: impl Into<String>) -> Op {
        Op::ItemCancel { code: code.into(), reason: reason.into(), list: None, delegated: false }
    }

    /// `item.cancel` of an item delegated to a lower level (下放): the list keeps it as 已下放.
    pub fn delegate(code: impl Into<String>, reason: impl Into<String>) -> Op {
        Op::ItemCancel { code: code.into(), reason: reason.into(), list: None, delegated: true }
    }

    /// Stable name of the op kind, as in the `type` field.
    pub fn kind(&self) -> &'static str {
        match self {
            Op::ItemAdd { .. } => "item.add",
            Op::ItemUpdate { .. } => "item.update",
            Op::ItemCancel { .. } => "item.cancel",
            Op::Enroll { .. } => "node.enroll",
            Op::Revoke { .. } => "node.revoke",
            Op::Resolve { .. } => "node.resolve",
            Op::CalendarYear { .. } => "calendar.year",
            Op::Publish { .. } => "catalogue.publish",
            Op::ReconAdopt { .. } => "recon.adopt",
            Op::ReconDeviate { .. } => "recon.deviate",
            Op::ReconNotApplicable { .. } => "recon.not_applicable",
            Op::Policy { .. } => "node.policy",
            Op::RequestFile { .. } => "request.file",
            Op::RequestSubmit { .. } => "request.submit",
            Op::RequestStep { .. } => "request.step",
            Op::GrantIssue { .. } => "grant.issue",
            Op::GrantAccept { .. } => "grant.accept",
            Op::GrantRevoke { .. } => "grant.revoke",
            Op::GrantExtend { .. } => "grant.extend",
            Op::SealCarve { .. } => "seal.carve",
            Op::SealDeliver { .. } => "seal.deliver",
            Op::SealActivate { .. } => "seal.activate",
            Op::SealRecall { .. } => "seal.recall",
            Op::SealArchive { .. } => "seal.archive",
            Op::SealReplace { .. } => "seal.replace",
        }
    }

    /// The item code the op is about, for item ops.
    pub fn item_code(&self) -> Option<&str> {
        match self {
            Op::ItemAdd { item, .. } => Some(&item.code),
            Op::ItemUpdate { code, .. } | Op::ItemCancel { code, .. } => Some(code),
            _ => None,
        }
    }

    /// For item ops, the list they edit: `list`, or the origin's own.
    pub fn target_list<'a>(&'a self, origin: &'a DivisionCode) -> Option<&'a DivisionCode> {
        match self {
            Op::ItemAdd { list, .. } | Op::ItemUpdate { list, .. } | Op::ItemCancel { list, .. } => {
                Some(list.as_ref().unwrap_or(origin))
            }
            _ => None,
        }
    }
}

/// Why an op cannot be applied to the list as it stands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("事项编码 “{0}” 在清单中已存在 / duplicate item code")]
    DuplicateCode(String),
    #[error("清单中没有事项编码 “{0}” / no such item")]
    NoSuchItem(String),
    #[error("事项 “{0}” 已取消，不能再修改 / item is cancelled")]
    Cancelled(String),
    #[error("事项 “{code}” 不符合要求：{} / invalid item", .errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("；"))]
    Invalid { code: String, errors: Vec<FieldError> },
    #[error("调整事项 “{0}” 未列出任何要素 / update changes nothing")]
    EmptyPatch(String),
    #[error("取消事项 “{0}” 必须说明理由 / cancellation needs a reason")]
    MissingReason(String),
    #[error("操作 {0} 不是事项操作 / not an item op")]
    NotAnItemOp(&'static str),
    #[error(transparent)]
    Catalogue(#[from] CatalogueError),
    #[error(transparent)]
    Recon(#[from] ReconError),
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    #[error(transparent)]
    Filing(#[from] FilingError),
    #[error(transparent)]
    Grant(#[from] GrantError),
    #[error(transparent)]
    Workflow(#[from] WorkflowError),
    #[error("申请 {0} 不存在 / no such request")]
    NoSuchRequest(u64),
    #[error("一个条目只能提出一项申请 / one request per entry")]
    TwoRequestsInOneEntry,
    #[error(
        "申请 {0} 的发布条目应紧随同意之后载明且仅载明申请的事项变更 / the publishing entry must carry exactly the request's item ops"
    )]
    PublicationMismatch(u64),
    #[error("事项 “{0}” 由赋权取得，只能由赋权方调整或收回 / a granted item is changed by its grantor only")]
    GrantedItem(String),
}

/// Applies `op` to `current` (the item with the op's code, if the list has one) and returns the
/// item as it must be stored. Ops that are not item ops are refused (`NotAnItemOp`).
pub fn apply_item_op(current: Option<&PowerItem>, op: &Op) -> Result<PowerItem, RuleError> {
    match op {
        Op::ItemAdd { item, .. } => {
            if current.is_some() {
                return Err(RuleError::DuplicateCode(item.code.clone()));
            }
            check(item)?;
            Ok(item.clone())
        }
        Op::ItemUpdate { code, patch, .. } => {
            let cur = editable(current, code)?;
            if patch.is_empty() {
                return Err(RuleError::EmptyPatch(code.clone()));
            }
            let next = patch.apply_to(cur);
            check(&next)?;
            Ok(next)
        }
        Op::ItemCancel { code, reason, delegated, .. } => {
            let cur = editable(current, code)?;
            if reason.trim().is_empty() {
                return Err(RuleError::MissingReason(code.clone()));
            }
            let mut next = cur.clone();
            next.status = if *delegated { ItemStatus::Delegated } else { ItemStatus::Cancelled };
            next.status_reason = reason.trim().to_string();
            Ok(next)
        }
        other => Err(RuleError::NotAnItemOp(other.kind())),
    }
}

fn editable<'a>(current: Option<&'a PowerItem>, code: &str) -> Result<&'a PowerItem, RuleError> {
    let cur = current.ok_or_else(|| RuleError::NoSuchItem(code.to_string()))?;
    match cur.status {
        ItemStatus::Cancelled => Err(RuleError::Cancelled(code.to_string())),
        ItemStatus::Granted => Err(RuleError::GrantedItem(code.to_string())),
        _ => Ok(cur),
    }
}

fn check(item: &PowerItem) -> Result<(), RuleError> {
    item.validate().map(|_| ()).map_err(|errors| RuleError::Invalid { code: item.code.clone(), errors })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::tests::food_licence;

    #[test]
    fn add_update_cancel_follow_the_rules() {
        let item = food_licence();
        let added = apply_item_op(None, &Op::add(item.clone())).unwrap();
        assert_eq!(added, item);
        assert_eq!(
            apply_item_op(Some(&added), &Op::add(item.clone())),
            Err(RuleError::DuplicateCode(item.code.clone()))
        );
        let patch = ItemPatch {
            name: Some("食品经营许可（含仅销售预包装食品备案）".into()), ..Default::default()
        };
        let updated = apply_item_op(Some(&added), &Op::update(item.code.clone(), patch)).unwrap();
        assert!(updated.name.starts_with("食品经营许可（"));
        let cancel = Op::cancel(item.code.clone(), "依据国发〔2024〕5号取消");
        let cancelled = apply_item_op(Some(&updated), &cancel).unwrap();
        assert_eq!(cancelled.status, ItemStatus::Cancelled);
        assert_eq!(apply_item_op(Some(&cancelled), &cancel), Err(RuleError::Cancelled(item.code.clone())));
        assert_eq!(apply_item_op(None, &cancel), Err(RuleError::NoSuchItem(item.code)));
    }

    #[test]
    fn a_delegated_item_is_kept_as_delegated_and_old_cancels_keep_their_bytes() {
        let item = food_licence();
        let delegated =
            apply_item_op(Some(&item), &Op::delegate(item.code.clone(), "依据川府发〔2025〕3号下放至县级")).unwrap();
        assert_eq!(delegated.status, ItemStatus::Delegated);
        assert_eq!(delegated.status_reason, "依据川府发〔2025〕3号下放至县级");
        let plain = serde_json::to_string(&Op::cancel("XK00035000", "法律修改")).unwrap();
        assert!(!plain.contains("delegated"), "a plain cancel serialises as before: {plain}");
        let down = serde_json::to_value(Op::delegate("XK00035000", "下放")).unwrap();
        assert_eq!(down["delegated"], true);
        let back: Op = serde_json::from_str(&plain).unwrap();
        assert_eq!(back, Op::cancel("XK00035000", "法律修改"), "entries without the field read as cancels");
    }

    #[test]
    fn an_update_that_breaks_validation_is_refused() {
        let item = food_licence();
        let patch = ItemPatch { basis: Some(vec![]), ..Default::default() };
        let err = apply_item_op(Some(&item), &Op::update(item.code.clone(), patch)).unwrap_err();
        assert!(matches!(err, RuleError::Invalid { .. }));
        assert!(err.to_string().contains("设定依据"));
    }

    #[test]
    fn ops_serialise_with_a_type_tag() {
        let op = Op::cancel("XK00035000", "法律修改");
        let json = serde_json::to_value(&op).unwrap();
        assert_eq!(json["type"], "item.cancel");
        let back: Op = serde_json::from_value(json).unwrap();
        assert_eq!(back, op);
    }
}
