//! Special seals (专用分章) for granted powers: the record a grantor department issues, its
//! lifecycle carved → delivered → activated → recalled → archived (封存) or replaced by another
//! issuer's seal, and the public question "is seal S valid for item C on day D".
//!
//! Pure: the store loads the seal, the batches of its scope and the granted items, and writes
//! back what these functions return. Must not know about storage, HTTP or the clock.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{GrantError, GrantHeader, GrantKind, GrantRef, GrantedItem, check_date};
use crate::division::DivisionCode;

/// A seal record as its grantor issues it (刻制登记).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seal {
    /// Identifier, unique among the grantor node's seals, e.g. `PJ-SCJ-SP-4`.
    pub id: String,
    /// Full name as carved, e.g. `盘锦市市场监督管理局行政审批专用章(4)`.
    pub name: String,
    pub kind: GrantKind,
    /// The serial carved in brackets: `(4)` is 4.
    pub serial: u32,
    /// The issuing department, e.g. `盘锦市市场监督管理局` or `盘锦市行政审批局`.
    pub issuer: String,
    /// The node whose department holds the seal.
    pub holder: DivisionCode,
    pub holder_dept: String,
    /// The grant batches the seal is valid for (专用分章仅适用于本批次向县赋权事项). A replacement
    /// may leave this empty: it then takes over the scope of the seals it replaces.
    #[serde(default)]
    pub scope: Vec<GrantRef>,
    pub carved: NaiveDate,
    /// Registration number with the public-security organ (备案号), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration: Option<String>,
    /// SHA-256 of the seal impression image (印模), lowercase hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_sha256: Option<String>,
}

/// Parses a serial as written on seals: `(4)`, `（4）`, `4`.
pub fn parse_serial(text: &str) -> Option<u32> {
    let t = text.trim().trim_start_matches(['(', '（']).trim_end_matches([')', '）']).trim();
    t.parse().ok().filter(|n| *n > 0)
}

/// Where a seal is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SealState {
    Carved,
    Delivered,
    Activated,
    Recalled,
    Archived,
}

impl SealState {
    pub fn key(self) -> &'static str {
        match self {
            SealState::Carved => "carved",
            SealState::Delivered => "delivered",
            SealState::Activated => "activated",
            SealState::Recalled => "recalled",
            SealState::Archived => "archived",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SealState::Carved => "已刻制",
            SealState::Delivered => "已送达",
            SealState::Activated => "已启用",
            SealState::Recalled => "已收回",
            SealState::Archived => "已封存",
        }
    }

    pub fn parse(text: &str) -> Option<SealState> {
        [SealState::Carved, SealState::Delivered, SealState::Activated, SealState::Recalled, SealState::Archived]
            .into_iter()
            .find(|s| s.key() == text.trim() || s.label() == text.trim())
    }
}

/// A lifecycle step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SealAction {
    Deliver,
    Activate,
    Recall,
    Archive,
    Replace,
}

impl SealAction {
    pub fn label(self) -> &'static str {
        match self {
            SealAction::Deliver => "送达",
            SealAction::Activate => "启用",
            SealAction::Recall => "收回",
            SealAction::Archive => "封存",
            SealAction::Replace => "替换",
        }
    }
}

/// Why a seal op cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("专用章缺少{0} / the seal has no {0}")]
    MissingField(&'static str),
    #[error("专用章编号必须是正整数 / the serial must be a positive number")]
    BadSerial,
    #[error("印模哈希应为 64 位小写十六进制 SHA-256 / image hash must be 64 lowercase hex digits")]
    BadImageHash,
    #[error("专用章适用范围未列出任何赋权批次 / the seal's scope names no grant batch")]
    EmptyScope,
    #[error("专用章适用范围中的赋权批次 {0} 不存在 / the scope names an unknown batch")]
    UnknownScope(String),
    #[error(
        "赋权批次 {batch} 不是本节点向 {holder} 的赋权 / the scope batch is not this grantor's grant to the holder"
    )]
    ScopeNotHolders { batch: String, holder: DivisionCode },
    #[error("赋权批次 {0} 已收回，不能再为其刻章 / the scope batch was revoked")]
    ScopeRevoked(String),
    #[error("适用范围内没有{dept}的{kind}类事项，该章无事可办 / the scope has no item this seal could handle")]
    NothingToSeal { dept: String, kind: &'static str },
    #[error("专用章编号 “{0}” 已存在 / duplicate seal id")]
    DuplicateId(String),
    #[error("{issuer}已有{kind}类专用章（{serial}）：{existing} / duplicate serial for this issuer and kind")]
    DuplicateSerial { issuer: String, kind: &'static str, serial: u32, existing: String },
    #[error("未知的专用章 “{0}” / unknown seal")]
    UnknownSeal(String),
    #[error("专用章 {seal} 由 {holder} 持有，{origin} 不能启用 / only the holder activates a seal")]
    NotHolder { seal: String, holder: DivisionCode, origin: DivisionCode },
    #[error("专用章 {seal} 当前{}，不能{}：{why} / illegal seal transition", .state.label(), .action.label())]
    Transition { seal: String, state: SealState, action: SealAction, why: &'static str },
    #[error("被替换的专用章 {old} 与新章的种类或持有方不同 / a replacement takes over seals of its kind and holder")]
    ReplaceMismatch { old: String },
    #[error("替换或收回专用章必须说明理由 / a recall needs a reason")]
    MissingReason,
}

impl SealError {
    pub fn code(&self) -> &'static str {
        match self {
            SealError::MissingField(_) | SealError::BadSerial | SealError::BadImageHash => "BAD_SEAL",
            SealError::EmptyScope | SealError::ScopeNotHolders { .. } | SealError::NothingToSeal { .. } => {
                "BAD_SEAL_SCOPE"
            }
            SealError::UnknownScope(_) => "UNKNOWN_GRANT",
            SealError::ScopeRevoked(_) => "GRANT_REVOKED",
            SealError::DuplicateId(_) => "DUPLICATE_SEAL",
            SealError::DuplicateSerial { .. } => "DUPLICATE_SERIAL",
            SealError::UnknownSeal(_) => "UNKNOWN_SEAL",
            SealError::NotHolder { .. } => "NOT_HOLDER",
            SealError::Transition { .. } => "ILLEGAL_TRANSITION",
            SealError::ReplaceMismatch { .. } => "BAD_REPLACEMENT",
            SealError::MissingReason => "MISSING_REASON",
        }
    }
}

/// A seal with its lifecycle as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealStatus {
    /// The node whose department issued the seal (its entries carve, deliver, recall it).
    pub grantor: DivisionCode,
    pub seal: Seal,
    pub state: SealState,
    /// Grantor departments whose granted items the seal handles: its issuer, or for a
    /// replacement the departments of the seals it replaced.
    pub covers: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_on: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activated_on: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recalled_on: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub recall_reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived_on: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaced_by: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replaces: Vec<String>,
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn transition(s: &SealStatus, action: SealAction, why: &'static str) -> GrantError {
    SealError::Transition { seal: s.seal.id.clone(), state: s.state, action, why }.into()
}

impl SealStatus {
    /// Checks a new seal record of `grantor` against the batches of its scope (`scope`, as
    /// resolved by the store, in the seal's order) and the (kind, grantor department) pairs of
    /// their items; `covers` is the issuer alone for a new seal, the replaced seals' departments
    /// for a replacement.
    pub fn carve(
        grantor: &DivisionCode,
        seal: Seal,
        covers: Vec<String>,
        scope: &[GrantHeader],
        scope_items: &BTreeSet<(GrantKind, String)>,
        today: NaiveDate,
    ) -> Result<SealStatus, GrantError> {
        for (text, field) in [
            (&seal.id, "编号（id）"),
            (&seal.name, "全称"),
            (&seal.issuer, "刻制部门"),
            (&seal.holder_dept, "持有部门"),
        ] {
            if text.trim().is_empty() {
                return Err(SealError::MissingField(field).into());
            }
        }
        if seal.serial == 0 {
            return Err(SealError::BadSerial.into());
        }
        if seal.image_sha256.as_deref().is_some_and(|h| !is_sha256_hex(h)) {
            return Err(SealError::BadImageHash.into());
        }
        if seal.carved > today {
            return Err(GrantError::DateInFuture { date: seal.carved, today });
        }
        if scope.is_empty() {
            return Err(SealError::EmptyScope.into());
        }
        for h in scope {
            if &h.grant_ref.origin != grantor || h.grantee != seal.holder {
                return Err(
                    SealError::ScopeNotHolders { batch: h.grant_ref.to_string(), holder: seal.holder.clone() }.into()
                );
            }
            if h.revoked_on.is_some() {
                return Err(SealError::ScopeRevoked(h.grant_ref.to_string()).into());
            }
        }
        if !covers.iter().any(|d| scope_items.contains(&(seal.kind, d.clone()))) {
            let dept = covers.join("、");
            return Err(SealError::NothingToSeal { dept, kind: seal.kind.label() }.into());
        }
        Ok(SealStatus {
            grantor: grantor.clone(),
            seal,
            state: SealState::Carved,
            covers,
            delivered_on: None,
            activated_on: None,
            recalled_on: None,
            recall_reason: String::new(),
            archived_on: None,
            replaced_by: None,
            replaces: Vec::new(),
        })
    }

    /// Where the seal is: the furthest step recorded. Derived from the dates, so the grantor's
    /// and the holder's entries give the same state in whatever order they arrive.
    pub fn derive_state(&self) -> SealState {
        if self.archived_on.is_some() {
            SealState::Archived
        } else if self.recalled_on.is_some() {
            SealState::Recalled
        } else if self.activated_on.is_some() {
            SealState::Activated
        } else if self.delivered_on.is_some() {
            SealState::Delivered
        } else {
            SealState::Carved
        }
    }

    fn set_state(&mut self) {
        self.state = self.derive_state();
    }

    /// The grantor's latest own step (carve, delivery, recall): the floor for its next date.
    fn grantor_last(&self) -> NaiveDate {
        [self.delivered_on, self.recalled_on]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(self.seal.carved)
            .max(self.seal.carved)
    }

    /// 送达: the grantor hands the carved seal to the holder.
    pub fn deliver(&mut self, date: NaiveDate, today: NaiveDate) -> Result<(), GrantError> {
        if self.recalled_on.is_some() {
            return Err(transition(self, SealAction::Deliver, "已收回的章不能再送达"));
        }
        if self.delivered_on.is_some() {
            return Err(transition(self, SealAction::Deliver, "已送达"));
        }
        check_date(date, today, self.grantor_last(), "刻制日期")?;
        self.delivered_on = Some(date);
        self.set_state();
        Ok(())
    }

    /// For a holder about to activate: refuses a seal it already knows to be recalled. Not part
    /// of applying an entry (a recall may cross the activation in the post).
    pub fn check_activatable(&self) -> Result<(), GrantError> {
        if self.recalled_on.is_some() {
            return Err(transition(self, SealAction::Activate, "已收回的章不能启用"));
        }
        Ok(())
    }

    /// 启用: the holder starts using a delivered seal, once a batch of its scope was accepted
    /// (`accepted_on`: the earliest acceptance among its scope batches, by the holder itself).
    pub fn activate(
        &mut self,
        origin: &DivisionCode,
        date: NaiveDate,
        today: NaiveDate,
        accepted_on: Option<NaiveDate>,
    ) -> Result<(), GrantError> {
        if origin != &self.seal.holder {
            return Err(SealError::NotHolder {
                seal: self.seal.id.clone(),
                holder: self.seal.holder.clone(),
                origin: origin.clone(),
            }
            .into());
        }
        if self.activated_on.is_some() {
            return Err(transition(self, SealAction::Activate, "已启用"));
        }
        let Some(delivered) = self.delivered_on else {
            return Err(transition(self, SealAction::Activate, "尚未送达"));
        };
        let Some(accepted) = accepted_on else {
            return Err(transition(self, SealAction::Activate, "适用范围内的赋权批次尚未承接"));
        };
        check_date(date, today, accepted.max(delivered), "承接或送达日期")?;
        self.activated_on = Some(date);
        self.set_state();
        Ok(())
    }

    /// 收回: the grantor takes the seal back, with the reason.
    pub fn recall(&mut self, date: NaiveDate, today: NaiveDate, reason: &str) -> Result<(), GrantError> {
        if reason.trim().is_empty() {
            return Err(SealError::MissingReason.into());
        }
        if self.recalled_on.is_some() {
            return Err(transition(self, SealAction::Recall, "已收回"));
        }
        check_date(date, today, self.grantor_last(), "刻制或送达日期")?;
        self.recalled_on = Some(date);
        self.recall_reason = reason.trim().to_string();
        self.set_state();
        Ok(())
    }

    /// 封存: a recalled seal is sealed away.
    pub fn archive(&mut self, date: NaiveDate, today: NaiveDate) -> Result<(), GrantError> {
        if self.archived_on.is_some() {
            return Err(transition(self, SealAction::Archive, "已封存"));
        }
        if self.recalled_on.is_none() {
            return Err(transition(self, SealAction::Archive, "须先收回"));
        }
        check_date(date, today, self.grantor_last(), "收回日期")?;
        self.archived_on = Some(date);
        self.set_state();
        Ok(())
    }

    /// Marks this seal as replaced by `new` (recalling it on `date` unless already recalled).
    pub fn replaced(&mut self, new: &Seal, date: NaiveDate, today: NaiveDate, reason: &str) -> Result<(), GrantError> {
        if self.replaced_by.is_some() {
            return Err(transition(self, SealAction::Replace, "已被替换"));
        }
        if self.seal.kind != new.kind || self.seal.holder != new.holder {
            return Err(SealError::ReplaceMismatch { old: self.seal.id.clone() }.into());
        }
        if self.recalled_on.is_none() {
            self.recall(date, today, reason)?;
        }
        self.replaced_by = Some(new.id.clone());
        Ok(())
    }
}

/// The answer to "is seal S valid for item C on day D".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VerdictCode {
    // Ordered from the earliest reason to the latest: of several candidate batches, the answer
    // reports the one that got furthest.
    NotDelivered,
    NotActivated,
    Recalled,
    NotInScope,
    KindMismatch,
    DepartmentNotCovered,
    BeforeIssue,
    BatchRevoked,
    ItemRevoked,
    NotHandedOver,
    Valid,
}

/// How a matter sealed with a valid seal is finished (seed: 专用分章的使用).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Route {
    /// True: finished in the city — the county's sealed decision closes the case.
    pub closes_locally: bool,
    /// For provincial matters: the city department the sealed file goes to, which forwards it
    /// upward without reviewing it again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward_via: Option<String>,
    pub text: String,
}

/// Valid or not, why, and the route when valid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub valid: bool,
    pub code: VerdictCode,
    pub reason: String,
    /// The batch the answer rests on, when the item is in the seal's scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<Route>,
}

fn no(code: VerdictCode, reason: String, batch: Option<String>) -> Verdict {
    Verdict { valid: false, code, reason, batch, route: None }
}

/// Answers whether `s` may seal item `code` on `day`. `candidates` are the granted items with
/// that code in the batches of the seal's scope, with their batch headers.
pub fn verdict(s: &SealStatus, code: &str, day: NaiveDate, candidates: &[(GrantHeader, GrantedItem)]) -> Verdict {
    let id = &s.seal.id;
    match (s.delivered_on, s.activated_on) {
        (None, _) => return no(VerdictCode::NotDelivered, format!("专用章 {id} 尚未送达"), None),
        (Some(d), _) if d > day => {
            return no(VerdictCode::NotDelivered, format!("专用章 {id} 于 {d} 送达，{day} 尚未送达"), None);
        }
        (_, None) => return no(VerdictCode::NotActivated, format!("专用章 {id} 尚未启用"), None),
        (_, Some(a)) if a > day => {
            return no(VerdictCode::NotActivated, format!("专用章 {id} 于 {a} 启用，{day} 尚未启用"), None);
        }
        _ => {}
    }
    if let Some(r) = s.recalled_on.filter(|r| *r <= day) {
        let by = s.replaced_by.as_ref().map(|n| format!("，由专用章 {n} 替代")).unwrap_or_default();
        return no(VerdictCode::Recalled, format!("专用章 {id} 已于 {r} 收回（{}）{by}", s.recall_reason), None);
    }
    let mut best: Option<Verdict> = None;
    for (h, g) in candidates {
        let v = one_candidate(s, h, g, day);
        if v.valid {
            return v;
        }
        if best.as_ref().is_none_or(|b| v.code > b.code) {
            best = Some(v);
        }
    }
    best.unwrap_or_else(|| {
        no(
            VerdictCode::NotInScope,
            format!("事项 “{code}” 不在专用章 {id} 适用的赋权批次中（专用分章仅适用于本批次赋权事项）"),
            None,
        )
    })
}

fn one_candidate(s: &SealStatus, h: &GrantHeader, g: &GrantedItem, day: NaiveDate) -> Verdict {
    let batch = Some(format!("{}（{}）", h.doc_no, h.grant_ref));
    let code = &g.code;
    if g.kind != s.seal.kind {
        let why = format!("事项 “{code}” 为{}类，专用章 {} 为{}类", g.kind.label(), s.seal.id, s.seal.kind.label());
        return no(VerdictCode::KindMismatch, why, batch);
    }
    if !s.covers.contains(&g.grantor_dept) {
        let why = format!("事项 “{code}” 由{}赋权，不在专用章 {} 办理的部门之内", g.grantor_dept, s.seal.id);
        return no(VerdictCode::DepartmentNotCovered, why, batch);
    }
    if day < h.issued {
        return no(VerdictCode::BeforeIssue, format!("{day} 早于赋权文件 {} 印发日期 {}", h.doc_no, h.issued), batch);
    }
    if let Some(r) = h.revoked_on.filter(|r| *r <= day) {
        return no(
            VerdictCode::BatchRevoked,
            format!("赋权批次 {} 已于 {r} 收回（{}）", h.doc_no, h.revoke_reason),
            batch,
        );
    }
    if let Some(r) = g.revoked_on.filter(|r| *r <= day) {
        return no(
            VerdictCode::ItemRevoked,
            format!("事项 “{code}” 的赋权已于 {r} 收回（{}）", g.revoke_reason),
            batch,
        );
    }
    match h.accepted_on {
        Some(a) if a <= day => {}
        Some(a) => {
            return no(
                VerdictCode::NotHandedOver,
                format!("赋权批次 {} 于 {a} 承接，{day} 尚未完成交接", h.doc_no),
                batch,
            );
        }
        None => return no(VerdictCode::NotHandedOver, format!("赋权批次 {} 尚未承接", h.doc_no), batch),
    }
    let route = if g.provincial {
        Route {
            closes_locally: false,
            forward_via: Some(g.grantor_dept.clone()),
            text: format!(
                "需报省及省级以上部门办结：将加盖专用分章的材料报{}，市直部门不再审查，直接按工作程序向上报批",
                g.grantor_dept
            ),
        }
    } else {
        Route {
            closes_locally: true,
            forward_via: None,
            text: format!("在本市办结：{}加盖专用分章即视为办结", s.seal.holder_dept),
        }
    };
    Verdict {
        valid: true,
        code: VerdictCode::Valid,
        reason: format!(
            "专用章 {} 于 {day} 有效：事项 “{code}” 属赋权批次 {}，已承接、已启用、未收回",
            s.seal.id, h.doc_no
        ),
        batch,
        route: Some(route),
    }
}
