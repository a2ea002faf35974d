//! Operations carried by log entries, and the pure rule that applies one op to one item.
//!
//! Owns the op vocabulary (`Op`) and `apply_item_op`: given the item as it stands (or none), the
//! item after the op, or why the op is refused. Storage decides where items live; this module
//! decides what is allowed. Later op kinds (enrolment, catalogue, grants, seals) join `Op`.

use serde::{Deserialize, Serialize};

use crate::item::{FieldError, ItemPatch, ItemStatus, PowerItem};

/// One operation of an entry. An entry carries a batch of them, applied atomically.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Op {
    /// Adds an item to the origin's own list (新增).
    #[serde(rename = "item.add")]
    ItemAdd { item: PowerItem },
    /// Adjusts elements of an item of the origin's own list (调整要素).
    #[serde(rename = "item.update")]
    ItemUpdate { code: String, patch: ItemPatch },
    /// Cancels an item of the origin's own list (取消), with the reason.
    #[serde(rename = "item.cancel")]
    ItemCancel { code: String, reason: String },
}

impl Op {
    /// Stable name of the op kind, as in the `type` field.
    pub fn kind(&self) -> &'static str {
        match self {
            Op::ItemAdd { .. } => "item.add",
            Op::ItemUpdate { .. } => "item.update",
            Op::ItemCancel { .. } => "item.cancel",
        }
    }

    /// The item code the op is about.
    pub fn item_code(&self) -> &str {
        match self {
            Op::ItemAdd { item } => &item.code,
            Op::ItemUpdate { code, .. } | Op::ItemCancel { code, .. } => code,
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
}

/// Applies `op` to `current` (the item with the op's code, if the list has one) and returns the
/// item as it must be stored.
pub fn apply_item_op(current: Option<&PowerItem>, op: &Op) -> Result<PowerItem, RuleError> {
    match op {
        Op::ItemAdd { item } => {
            if current.is_some() {
                return Err(RuleError::DuplicateCode(item.code.clone()));
            }
            check(item)?;
            Ok(item.clone())
        }
        Op::ItemUpdate { code, patch } => {
            let cur = editable(current, code)?;
            if patch.is_empty() {
                return Err(RuleError::EmptyPatch(code.clone()));
            }
            let next = patch.apply_to(cur);
            check(&next)?;
            Ok(next)
        }
        Op::ItemCancel { code, reason } => {
            let cur = editable(current, code)?;
            if reason.trim().is_empty() {
                return Err(RuleError::MissingReason(code.clone()));
            }
            let mut next = cur.clone();
            next.status = ItemStatus::Cancelled;
            next.status_reason = reason.trim().to_string();
            Ok(next)
        }
    }
}

fn editable<'a>(current: Option<&'a PowerItem>, code: &str) -> Result<&'a PowerItem, RuleError> {
    let cur = current.ok_or_else(|| RuleError::NoSuchItem(code.to_string()))?;
    if cur.status == ItemStatus::Cancelled {
        return Err(RuleError::Cancelled(code.to_string()));
    }
    Ok(cur)
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
        let added = apply_item_op(None, &Op::ItemAdd { item: item.clone() }).unwrap();
        assert_eq!(added, item);
        assert_eq!(
            apply_item_op(Some(&added), &Op::ItemAdd { item: item.clone() }),
            Err(RuleError::DuplicateCode(item.code.clone()))
        );
        let patch = ItemPatch {
            name: Some("食品经营许可（含仅销售预包装食品备案）".into()), ..Default::default()
        };
        let updated = apply_item_op(Some(&added), &Op::ItemUpdate { code: item.code.clone(), patch }).unwrap();
        assert!(updated.name.starts_with("食品经营许可（"));
        let cancel = Op::ItemCancel { code: item.code.clone(), reason: "依据国发〔2024〕5号取消".into() };
        let cancelled = apply_item_op(Some(&updated), &cancel).unwrap();
        assert_eq!(cancelled.status, ItemStatus::Cancelled);
        assert_eq!(apply_item_op(Some(&cancelled), &cancel), Err(RuleError::Cancelled(item.code.clone())));
        assert_eq!(apply_item_op(None, &cancel), Err(RuleError::NoSuchItem(item.code)));
    }

    #[test]
    fn an_update_that_breaks_validation_is_refused() {
        let item = food_licence();
        let patch = ItemPatch { basis: Some(vec![]), ..Default::default() };
        let err = apply_item_op(Some(&item), &Op::ItemUpdate { code: item.code.clone(), patch }).unwrap_err();
        assert!(matches!(err, RuleError::Invalid { .. }));
        assert!(err.to_string().contains("设定依据"));
    }

    #[test]
    fn ops_serialise_with_a_type_tag() {
        let op = Op::ItemCancel { code: "XK00035000".into(), reason: "法律修改".into() };
        let json = serde_json::to_value(&op).unwrap();
        assert_eq!(json["type"], "item.cancel");
        let back: Op = serde_json::from_value(json).unwrap();
        assert_eq!(back, op);
    }
}
