//! The special seals (专用分章) on the grants pages: the seal table with each seal's lifecycle
//! (carved, delivered, activated, recalled, archived) and the step controls that belong to this
//! node's side — the grantor delivers, recalls and archives, the holder activates.
//!
//! Strings in, strings out: the state is `SealStatus`'s (derived by the domain from the dates);
//! every step is a `fetch` of `POST /api/v1/seals/{id}/...` by the console script, which the API
//! and the store check again. Must not decide whether a step is legal beyond hiding the buttons
//! that cannot apply, read the store, or write.

use quanze_domain::{DivisionCode, SealState, SealStatus};

use super::super::html::{Tone, action_button, badge, escape, table, url_component};
use crate::api::grants::ref_text;

/// A lifecycle step a node may take on a seal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Deliver,
    Activate,
    Recall,
    Archive,
}

/// The steps still open to this node (`me`) for seal `s`: the grantor's deliver, recall and
/// archive; the holder's activate (once delivered, and only once).
pub fn steps(s: &SealStatus, me: &DivisionCode) -> Vec<Step> {
    let mut out = Vec::new();
    let recalled = s.recalled_on.is_some();
    if &s.seal.holder == me && s.delivered_on.is_some() && s.activated_on.is_none() && !recalled {
        out.push(Step::Activate);
    }
    if &s.grantor == me {
        if s.delivered_on.is_none() && !recalled {
            out.push(Step::Deliver);
        }
        if !recalled {
            out.push(Step::Recall);
        }
        if recalled && s.archived_on.is_none() {
            out.push(Step::Archive);
        }
    }
    out
}

/// `刻制 2016-09-20 → 送达 2016-09-28 → …`: the dates recorded so far.
pub fn lifecycle(s: &SealStatus) -> String {
    let mut parts = vec![format!("刻制 {}", s.seal.carved)];
    for (label, day) in
        [("送达", s.delivered_on), ("启用", s.activated_on), ("收回", s.recalled_on), ("封存", s.archived_on)]
    {
        if let Some(d) = day {
            parts.push(format!("{label} {d}"));
        }
    }
    parts.join(" → ")
}

pub fn state_badge(state: SealState) -> String {
    let tone = match state {
        SealState::Activated => Tone::Good,
        SealState::Carved | SealState::Delivered => Tone::Warn,
        SealState::Recalled => Tone::Bad,
        SealState::Archived => Tone::Neutral,
    };
    badge(state.label(), tone)
}

fn step_control(s: &SealStatus, step: Step) -> String {
    let api = format!("/api/v1/seals/{}", url_component(&s.seal.id));
    let name = &s.seal.name;
    match step {
        Step::Deliver => action_button(
            &format!("{api}/deliver"),
            Some("{}"),
            "reload",
            "送达",
            Some(&format!("确认已将“{name}”送达持有方？")),
        ),
        Step::Activate => {
            let body = serde_json::json!({ "grantor": s.grantor }).to_string();
            action_button(
                &format!("{api}/activate"),
                Some(&body),
                "reload",
                "启用",
                Some(&format!("确认自今日起启用“{name}”？")),
            )
        }
        Step::Archive => {
            action_button(&format!("{api}/archive"), Some("{}"), "reload", "封存", Some(&format!("确认封存“{name}”？")))
        }
        Step::Recall => format!(
            "<form class=\"inline\" data-api=\"{}/recall\" data-then=\"reload\" data-confirm=\"{}\">\
             <input name=\"reason\" required placeholder=\"收回理由\" size=\"10\"> <button type=\"submit\" class=\"secondary\">收回</button>\
             <div class=\"error\" hidden></div></form>",
            escape(&api),
            escape(&format!("确认收回“{name}”？收回后该章不再有效。")),
        ),
    }
}

/// The seal table: `can_write` shows this node's step controls.
pub fn seal_table(id: &str, seals: &[SealStatus], me: &DivisionCode, can_write: bool) -> String {
    let rows: Vec<Vec<String>> = seals
        .iter()
        .map(|s| {
            let mut state = state_badge(s.state);
            if let Some(by) = &s.replaced_by {
                state.push_str(&format!("<br><small>已由 {} 替代</small>", escape(by)));
            }
            if !s.recall_reason.is_empty() {
                state.push_str(&format!("<br><small>{}</small>", escape(&s.recall_reason)));
            }
            let controls: Vec<String> = if can_write {
                steps(s, me).into_iter().map(|step| step_control(s, step)).collect()
            } else {
                Vec::new()
            };
            let actions = if controls.is_empty() {
                "<span class=\"muted\">—</span>".to_string()
            } else {
                format!("<div data-scope>{}<div class=\"error\" hidden></div></div>", controls.join(" "))
            };
            vec![
                format!("<span class=\"mono\">{}</span>", escape(&s.seal.id)),
                escape(&s.seal.name),
                format!("{}（{}）", escape(s.seal.kind.label()), s.seal.serial),
                escape(&format!("{}（{}）", s.seal.issuer, s.grantor)),
                escape(&format!("{}（{}）", s.seal.holder_dept, s.seal.holder)),
                escape(&s.seal.scope.iter().map(ref_text).collect::<Vec<_>>().join(" ")),
                escape(&lifecycle(s)),
                state,
                actions,
            ]
        })
        .collect();
    table(
        id,
        &[
            "编号",
            "全称",
            "类别（序号）",
            "刻制部门（刻制方）",
            "持有部门（持有方）",
            "适用批次",
            "生命周期",
            "状态",
            "操作",
        ],
        &rows,
    )
}

#[cfg(test)]
mod tests {
    use quanze_domain::grants::{GrantKind, Seal};

    use super::*;

    fn status(grantor: &str, holder: &str) -> SealStatus {
        SealStatus {
            grantor: DivisionCode::parse(grantor).unwrap(),
            seal: Seal {
                id: "LZ-SCJ-SP-4".into(),
                name: "泸州市市场监督管理局行政审批专用章(4)".into(),
                kind: GrantKind::Approval,
                serial: 4,
                issuer: "泸州市市场监督管理局".into(),
                holder: DivisionCode::parse(holder).unwrap(),
                holder_dept: "泸县市场监督管理局".into(),
                scope: Vec::new(),
                carved: "2016-09-20".parse().unwrap(),
                registration: None,
                image_sha256: None,
            },
            state: SealState::Carved,
            covers: Vec::new(),
            delivered_on: None,
            activated_on: None,
            recalled_on: None,
            recall_reason: String::new(),
            archived_on: None,
            replaced_by: None,
            replaces: Vec::new(),
        }
    }

    #[test]
    fn each_side_gets_its_own_steps_in_order() {
        let (city, county) = (DivisionCode::parse("510500").unwrap(), DivisionCode::parse("510521").unwrap());
        let mut s = status("510500", "510521");
        assert_eq!(steps(&s, &city), [Step::Deliver, Step::Recall]);
        assert!(steps(&s, &county).is_empty(), "not delivered yet");
        s.delivered_on = "2016-09-28".parse().ok();
        assert_eq!(steps(&s, &city), [Step::Recall]);
        assert_eq!(steps(&s, &county), [Step::Activate]);
        s.activated_on = "2016-09-30".parse().ok();
        assert!(steps(&s, &county).is_empty());
        s.recalled_on = "2017-03-01".parse().ok();
        assert_eq!(steps(&s, &city), [Step::Archive]);
        s.archived_on = "2017-03-01".parse().ok();
        assert!(steps(&s, &city).is_empty());
        assert_eq!(
            lifecycle(&s),
            "刻制 2016-09-20 → 送达 2016-09-28 → 启用 2016-09-30 → 收回 2017-03-01 → 封存 2017-03-01"
        );
    }

    #[test]
    fn a_reader_sees_no_controls_and_everything_is_escaped() {
        let mut s = status("510500", "510521");
        s.seal.name = "<script>".into();
        let county = DivisionCode::parse("510500").unwrap();
        let t = seal_table("seals", std::slice::from_ref(&s), &county, false);
        assert!(t.contains("&lt;script&gt;") && !t.contains("<script>"));
        assert!(!t.contains("data-api"));
        let t = seal_table("seals", &[s], &county, true);
        assert!(t.contains("/api/v1/seals/LZ-SCJ-SP-4/deliver"));
    }
}
