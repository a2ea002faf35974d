//! Catalogue publications (目录公布): an ancestor's change to the catalogue that lower tiers must
//! follow, and the pure rule that turns one publication into new catalogue states and into the
//! requirements every affected list must meet.
//!
//! Owns `Publication`, `CatalogueChange`, `CatalogueItem`, `Requirement` and `plan`. Knows
//! nothing of storage (the store looks up and writes catalogue rows) nor of reconciliation tasks
//! (`recon.rs` reads requirements against a list). No clock: dates are data.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::calendar::Window;
use crate::division::DivisionCode;
use crate::item::{FieldError, ItemPatch, ItemStatus, PowerItem};
use crate::tier::Tier;

/// A reference to a publication: the entry that carries it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PubRef {
    pub origin: DivisionCode,
    pub seq: u64,
    /// SHA-256 of the entry, lowercase hex.
    pub hash: String,
}

impl std::fmt::Display for PubRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}#{}", self.origin, self.seq)
    }
}

/// One catalogue change of a publication (动态调整).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum CatalogueChange {
    /// 新增: a new catalogue item, exercised by `tiers`.
    Add { item: PowerItem, tiers: Vec<Tier> },
    /// 取消.
    Cancel { code: String, reason: String },
    /// 下放: the item is now exercised by `tiers`, each lower than the highest tier that had it.
    Delegate { code: String, tiers: Vec<Tier>, reason: String },
    /// 调整要素.
    Adjust { code: String, patch: ItemPatch },
    /// 合并: `codes` end; `into` (a new code) takes their place, exercised where they were.
    Merge { codes: Vec<String>, into: PowerItem, reason: String },
    /// 拆分: `code` ends; each of `into` (new codes) is exercised where it was.
    Split { code: String, into: Vec<PowerItem>, reason: String },
}

impl CatalogueChange {
    pub fn kind(&self) -> &'static str {
        match self {
            CatalogueChange::Add { .. } => "add",
            CatalogueChange::Cancel { .. } => "cancel",
            CatalogueChange::Delegate { .. } => "delegate",
            CatalogueChange::Adjust { .. } => "adjust",
            CatalogueChange::Merge { .. } => "merge",
            CatalogueChange::Split { .. } => "split",
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            CatalogueChange::Add { .. } => "新增",
            CatalogueChange::Cancel { .. } => "取消",
            CatalogueChange::Delegate { .. } => "下放",
            CatalogueChange::Adjust { .. } => "调整要素",
            CatalogueChange::Merge { .. } => "合并",
            CatalogueChange::Split { .. } => "拆分",
        }
    }

    /// Codes of existing catalogue items the change acts on.
    fn existing_codes(&self) -> Vec<&str> {
        match self {
            CatalogueChange::Add { .. } => vec![],
            CatalogueChange::Cancel { code, .. }
            | CatalogueChange::Delegate { code, .. }
            | CatalogueChange::Adjust { code, .. }
            | CatalogueChange::Split { code, .. } => vec![code],
            CatalogueChange::Merge { codes, .. } => codes.iter().map(String::as_str).collect(),
        }
    }

    /// Codes of the new catalogue items the change brings.
    fn new_items(&self) -> Vec<&PowerItem> {
        match self {
            CatalogueChange::Add { item, .. } => vec![item],
            CatalogueChange::Merge { into, .. } => vec![into],
            CatalogueChange::Split { into, .. } => into.iter().collect(),
            _ => vec![],
        }
    }
}

/// A catalogue change published by an ancestor (one entry): the document, its dates, the tiers
/// that must reconcile and in what window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Publication {
    /// 文号, e.g. 川委办〔2015〕17号.
    pub doc_no: String,
    pub title: String,
    /// 公布日期: the reconciliation window starts here (the day itself is not counted).
    pub published: NaiveDate,
    /// 施行日期: the changes are in the effective catalogue from this day.
    pub effective: NaiveDate,
    /// Tiers whose nodes must reconcile (all strictly below the publisher).
    pub tiers: Vec<Tier>,
    #[serde(default)]
    pub window: Window,
    pub changes: Vec<CatalogueChange>,
}

impl Publication {
    /// The new catalogue items the publication brings (added, merged into, split into).
    pub fn new_items(&self) -> Vec<&PowerItem> {
        self.changes.iter().flat_map(CatalogueChange::new_items).collect()
    }
}

/// An item of a publisher's catalogue and the tiers that exercise it. A cancelled (merged,
/// split) item stays with status `cancelled` so that its code is never reused silently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogueItem {
    pub item: PowerItem,
    pub tiers: Vec<Tier>,
}

impl CatalogueItem {
    pub fn is_active(&self) -> bool {
        self.item.status == ItemStatus::Active
    }
}

/// What a list of one of `tiers` must show for `code` once it has reconciled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Requirement {
    /// Index of the change in the publication.
    pub change: usize,
    pub code: String,
    pub tiers: Vec<Tier>,
    pub expect: Expect,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "expect", rename_all = "lowercase")]
#[allow(clippy::large_enum_variant, reason = "held in vectors of requirements; boxing buys nothing")]
pub enum Expect {
    /// The item is in the list, active, with the catalogue's uniform elements (name, code,
    /// category, basis). `item` is the catalogue item: its other elements are defaults.
    Present { item: PowerItem },
    /// The item is not active in the list (never added, cancelled or delegated away);
    /// `delegated` when the publication delegates it to a lower level (the list keeps it as 已下放).
    Absent {
        reason: String,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        delegated: bool,
    },
}

/// What one publication does: the new state of every catalogue item it touches, and the
/// requirements on lower lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub catalogue: Vec<CatalogueItem>,
    pub requirements: Vec<Requirement>,
}

/// Why a publication cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueError {
    #[error("公布缺少{0} / the publication needs {0}")]
    Missing(&'static str),
    #[error("目录中没有在用事项 “{0}” / no active catalogue item with this code")]
    UnknownCode(String),
    #[error("目录中已有事项编码 “{0}” / the catalogue already has this code")]
    DuplicateCode(String),
    #[error("同一公布中事项 “{0}” 被调整多次 / one publication changes a code once")]
    ChangedTwice(String),
    #[error("事项 “{code}” 不符合要求：{} / invalid item", .errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("；"))]
    Invalid { code: String, errors: Vec<FieldError> },
    #[error("事项 “{0}” 必须说明理由 / the change needs a reason")]
    MissingReason(String),
    #[error("事项 “{0}” 未指定行使层级 / the item needs the tiers that exercise it")]
    NoTiers(String),
    #[error("事项 “{code}” 只能下放到更低层级（原为 {from:?}，现为 {to:?}）/ delegation goes down")]
    NotDownward { code: String, from: Vec<Tier>, to: Vec<Tier> },
    #[error("调整事项 “{0}” 未列出任何要素，或试图修改编码 / the adjustment changes nothing")]
    EmptyPatch(String),
    #[error("合并至少需要两个事项，拆分至少需要两个新事项（“{0}”）/ merge and split need two items")]
    TooFew(String),
    #[error("施行日期 {effective} 早于公布日期 {published} / effective before published")]
    EffectiveBeforePublished { published: NaiveDate, effective: NaiveDate },
}

impl CatalogueError {
    /// Stable code for API answers.
    pub fn code(&self) -> &'static str {
        match self {
            CatalogueError::UnknownCode(_) => "UNKNOWN_CATALOGUE_CODE",
            CatalogueError::DuplicateCode(_) | CatalogueError::ChangedTwice(_) => "DUPLICATE_CATALOGUE_CODE",
            _ => "BAD_PUBLICATION",
        }
    }
}

/// Applies `publication` to the publisher's catalogue (`lookup` gives an item by code, active
/// or not) and derives the requirements on lower lists. Refuses the whole publication on the
/// first bad change.
pub fn plan(publication: &Publication, lookup: impl Fn(&str) -> Option<CatalogueItem>) -> Result<Plan, CatalogueError> {
    check_header(publication)?;
    let mut touched: BTreeSet<&str> = BTreeSet::new();
    for change in &publication.changes {
        for code in change.existing_codes().into_iter().chain(change.new_items().into_iter().map(|i| i.code.as_str())) {
            if !touched.insert(code) {
                return Err(CatalogueError::ChangedTwice(code.to_string()));
            }
        }
    }
    let active = |code: &str| lookup(code).filter(CatalogueItem::is_active).ok_or_else(|| unknown(code));
    let fresh = |item: &PowerItem| -> Result<PowerItem, CatalogueError> {
        if lookup(&item.code).is_some() {
            return Err(CatalogueError::DuplicateCode(item.code.clone()));
        }
        valid(item)?;
        let mut item = item.clone();
        item.status = ItemStatus::Active;
        item.status_reason.clear();
        Ok(item)
    };
    let ended = |old: &CatalogueItem, reason: &str| {
        let mut item = old.item.clone();
        item.status = ItemStatus::Cancelled;
        item.status_reason = reason.trim().to_string();
        CatalogueItem { item, tiers: old.tiers.clone() }
    };
    let doc = &publication.doc_no;
    let mut out = Plan { catalogue: Vec::new(), requirements: Vec::new() };
    for (index, change) in publication.changes.iter().enumerate() {
        let mut require = |code: &str, tiers: &[Tier], expect: Expect| {
            out.requirements.push(Requirement { change: index, code: code.to_string(), tiers: tiers.to_vec(), expect });
        };
        let mut states = Vec::new();
        match change {
            CatalogueChange::Add { item, tiers } => {
                let item = fresh(item)?;
                let tiers = tier_set(&item.code, tiers)?;
                require(&item.code, &tiers, Expect::Present { item: item.clone() });
                states.push(CatalogueItem { item, tiers });
            }
            CatalogueChange::Cancel { code, reason } => {
                let old = active(code)?;
                let reason = reason_for(code, reason)?;
                require(
                    code,
                    &old.tiers,
                    Expect::Absent { reason: format!("依据{doc}取消：{reason}"), delegated: false },
                );
                states.push(ended(&old, reason));
            }
            CatalogueChange::Delegate { code, tiers, reason } => {
                let old = active(code)?;
                let reason = reason_for(code, reason)?;
                let to = tier_set(code, tiers)?;
                let top = old.tiers.iter().min().copied().unwrap_or(Tier::Province);
                if to == old.tiers || to.iter().any(|t| *t <= top) {
                    return Err(CatalogueError::NotDownward { code: code.clone(), from: old.tiers, to });
                }
                let left: Vec<Tier> = old.tiers.iter().copied().filter(|t| !to.contains(t)).collect();
                if !left.is_empty() {
                    require(
                        code,
                        &left,
                        Expect::Absent { reason: format!("依据{doc}下放：{reason}"), delegated: true },
                    );
                }
                require(code, &to, Expect::Present { item: old.item.clone() });
                states.push(CatalogueItem { item: old.item, tiers: to });
            }
            CatalogueChange::Adjust { code, patch } => {
                let old = active(code)?;
                if patch.is_empty() {
                    return Err(CatalogueError::EmptyPatch(code.clone()));
                }
                let item = patch.apply_to(&old.item);
                valid(&item)?;
                require(code, &old.tiers, Expect::Present { item: item.clone() });
                states.push(CatalogueItem { item, tiers: old.tiers });
            }
            CatalogueChange::Merge { codes, into, reason } => {
                if codes.len() < 2 {
                    return Err(CatalogueError::TooFew(into.code.clone()));
                }
                let reason = reason_for(&into.code, reason)?;
                let mut tiers = BTreeSet::new();
                for code in codes {
                    let old = active(code)?;
                    tiers.extend(old.tiers.iter().copied());
                    require(
                        code,
                        &old.tiers,
                        Expect::Absent {
                            reason: format!("依据{doc}并入 {}：{reason}", into.code), delegated: false
                        },
                    );
                    states.push(ended(&old, reason));
                }
                let item = fresh(into)?;
                let tiers: Vec<Tier> = tiers.into_iter().collect();
                require(&item.code, &tiers, Expect::Present { item: item.clone() });
                states.push(CatalogueItem { item, tiers });
            }
            CatalogueChange::Split { code, into, reason } => {
                if into.len() < 2 {
                    return Err(CatalogueError::TooFew(code.clone()));
                }
                let old = active(code)?;
                let reason = reason_for(code, reason)?;
                require(
                    code,
                    &old.tiers,
                    Expect::Absent { reason: format!("依据{doc}拆分：{reason}"), delegated: false },
                );
                for part in into {
                    let item = fresh(part)?;
                    require(&item.code, &old.tiers, Expect::Present { item: item.clone() });
                    states.push(CatalogueItem { item, tiers: old.tiers.clone() });
                }
                states.push(ended(&old, reason));
            }
        }
        out.catalogue.extend(states);
    }
    Ok(out)
}

fn check_header(p: &Publication) -> Result<(), CatalogueError> {
    if p.doc_no.trim().is_empty() {
        return Err(CatalogueError::Missing("文号 (doc_no)"));
    }
    if p.title.trim().is_empty() {
        return Err(CatalogueError::Missing("标题 (title)"));
    }
    if p.tiers.is_empty() {
        return Err(CatalogueError::Missing("须对标的层级 (tiers)"));
    }
    if p.changes.is_empty() {
        return Err(CatalogueError::Missing("调整内容 (changes)"));
    }
    if p.window.days == 0 {
        return Err(CatalogueError::Missing("对标期限天数 (window.days ≥ 1)"));
    }
    if p.effective < p.published {
        return Err(CatalogueError::EffectiveBeforePublished { published: p.published, effective: p.effective });
    }
    Ok(())
}

fn unknown(code: &str) -> CatalogueError {
    CatalogueError::UnknownCode(code.to_string())
}

fn valid(item: &PowerItem) -> Result<(), CatalogueError> {
    item.validate().map(|_| ()).map_err(|errors| CatalogueError::Invalid { code: item.code.clone(), errors })
}

fn reason_for<'a>(code: &str, reason: &'a str) -> Result<&'a str, CatalogueError> {
    let r = reason.trim();
    if r.is_empty() { Err(CatalogueError::MissingReason(code.to_string())) } else { Ok(r) }
}

fn tier_set(code: &str, tiers: &[Tier]) -> Result<Vec<Tier>, CatalogueError> {
    let set: BTreeSet<Tier> = tiers.iter().copied().collect();
    if set.is_empty() {
        return Err(CatalogueError::NoTiers(code.to_string()));
    }
    Ok(set.into_iter().collect())
}

#[cfg(test)]
#[path = "catalogue_tests.rs"]
mod tests;
