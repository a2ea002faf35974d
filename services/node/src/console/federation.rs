//! The operator's federation page: the parent and the last exchanges with it, children, how far
//! behind each log is (with a sync progress bar), the outbox, forks and the latest refusals.
//! Reads `federation::status::report`, the same report as `quanze status`; changes nothing.

use axum::extract::State;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::html::{Tone, badge, escape, local_time, table};
use super::{PageResult, Section, page, require};
use crate::auth::Principal;
use crate::federation::status::{OriginReport, report};
use crate::state::Node;

pub fn routes() -> OpenApiRouter<Node> {
    OpenApiRouter::new().routes(routes!(federation_page))
}

/// Seconds between reloads of the page, so lag and outbox move while one watches.
const REFRESH_SECS: u32 = 15;

/// A tier key (`county`) as the console says it (`县级`).
fn tier_text(key: &str) -> &str {
    match quanze_domain::Tier::ALL.into_iter().find(|t| t.key() == key) {
        Some(t) => super::tier_label(t),
        None => key,
    }
}

fn relation_label(relation: &str) -> &'static str {
    match relation {
        "own" => "本级",
        "ancestor" => "上级",
        _ => "下级",
    }
}

/// Behind (entries) and how much of it is done, for one log: ancestors against the parent's
/// heads, own and descendants against the parent's acknowledgements.
fn lag(o: &OriginReport) -> (u64, String) {
    let behind = o.behind_parent.or(o.unacknowledged).unwrap_or(0);
    let text = match (o.behind_parent, o.unacknowledged) {
        (Some(0), _) | (_, Some(0)) => badge("已同步", Tone::Good),
        (Some(n), _) => badge(&format!("落后上级 {n} 条"), Tone::Warn),
        (_, Some(n)) => badge(&format!("待上级确认 {n} 条"), Tone::Warn),
        _ => badge("无上级", Tone::Neutral),
    };
    (behind, text)
}

/// `<progress>` of `done` out of `done + behind`.
fn sync_bar(done: u64, behind: u64) -> String {
    if behind == 0 {
        return String::new();
    }
    let total = done + behind;
    format!(
        "<progress max=\"{total}\" value=\"{done}\" title=\"{done}/{total}\"></progress> <span class=\"muted\">{pct}%</span>",
        pct = done * 100 / total.max(1)
    )
}

#[utoipa::path(get, path = "/console/federation", tag = "console", responses((status = 200, description = "联邦状态 / federation status", content_type = "text/html", body = String), (status = 303, description = "Not signed in: to the sign-in page")))]
async fn federation_page(State(node): State<Node>, user: Principal) -> PageResult {
    require(&node, &user, Section::Federation)?;
    let r = report(&node).await?;
    let mut body = format!("<div data-refresh=\"{REFRESH_SECS}\" hidden></div>");
    let open_forks = r.forks.iter().filter(|f| f.resolved_by.is_none()).count();
    body.push_str(&format!(
        "<div class=\"summary\"><div>下级节点<b>{}</b></div><div>持有日志<b>{}</b></div>\
         <div>待推送（outbox）<b>{}</b></div><div>未解决分叉<b>{}</b></div><div>近期拒收<b>{}</b></div></div>",
        r.children.len(),
        r.origins.len(),
        r.outbox_depth,
        open_forks,
        r.recent_refusals.len()
    ));
    body.push_str("<h2>上级节点</h2>");
    match &r.parent {
        None => body.push_str("<p class=\"muted\">本节点没有上级（省级根节点，或尚未加入联邦）。</p>"),
        Some(p) => {
            let s = &p.sync;
            let when = |t: &Option<String>| {
                t.as_deref().map_or_else(|| badge("从未成功", Tone::Bad), |t| escape(&local_time(t)))
            };
            body.push_str(&format!(
                "<table class=\"grid\"><tbody><tr><th>上级</th><td>{div} · <span class=\"mono\">{url}</span></td></tr>\
                 <tr><th>最近一次拉取成功</th><td>{pull}</td></tr><tr><th>最近一次推送成功</th><td>{push}</td></tr>\
                 <tr><th>最近错误</th><td>{err}</td></tr><tr><th>回滚告警</th><td>{rollback}</td></tr>\
                 <tr><th>上级拒收的推送</th><td>{refused}</td></tr></tbody></table>",
                div = escape(&p.division),
                url = escape(&p.url),
                pull = when(&s.last_pull_ok),
                push = when(&s.last_push_ok),
                err = s.last_error.as_deref().map_or_else(|| badge("无", Tone::Good), |e| badge(e, Tone::Bad)),
                rollback = s.rollback.as_deref().map_or_else(|| badge("无", Tone::Good), |e| badge(e, Tone::Bad)),
                refused = if s.push_refusals.is_empty() {
                    badge("无", Tone::Good)
                } else {
                    s.push_refusals.iter().map(|e| escape(e)).collect::<Vec<_>>().join("<br>")
                },
            ));
        }
    }
    body.push_str("<h2>下级节点</h2>");
    let rows: Vec<Vec<String>> = r
        .children
        .iter()
        .map(|c| {
            vec![
                escape(&c.division),
                escape(&c.name),
                escape(tier_text(&c.tier)),
                c.held_seq.to_string(),
                if c.active { badge("在册", Tone::Good) } else { badge("已撤销", Tone::Bad) },
            ]
        })
        .collect();
    body.push_str(&table("children", &["区划代码", "名称", "层级", "本地持有序号", "状态"], &rows));
    body.push_str("<h2>各日志同步进度</h2>");
    let rows: Vec<Vec<String>> = r
        .origins
        .iter()
        .map(|o| {
            let (behind, state) = lag(o);
            vec![
                escape(&o.origin),
                relation_label(o.relation).to_string(),
                o.seq.to_string(),
                state,
                sync_bar(if o.behind_parent.is_some() { o.seq } else { o.seq - behind.min(o.seq) }, behind),
            ]
        })
        .collect();
    body.push_str(&table("origins", &["日志（区划代码）", "关系", "本地序号", "状态", "进度"], &rows));
    body.push_str("<h2>分叉</h2>");
    let rows: Vec<Vec<String>> = r
        .forks
        .iter()
        .map(|f| {
            vec![
                escape(&f.origin),
                f.seq.to_string(),
                format!("<span class=\"mono\">{}</span>", escape(&f.hash)),
                escape(&local_time(&f.detected_at)),
                f.resolved_by.as_deref().map_or_else(|| badge("未解决，已隔离", Tone::Bad), escape),
            ]
        })
        .collect();
    body.push_str(&table("forks", &["日志", "序号", "条目哈希", "发现时间", "解决"], &rows));
    body.push_str("<h2>近期拒收</h2>");
    let rows: Vec<Vec<String>> = r
        .recent_refusals
        .iter()
        .map(|x| {
            vec![
                escape(&local_time(&x.at)),
                escape(&x.peer),
                format!("{}#{}", escape(&x.origin), x.seq),
                escape(&x.code),
                escape(&x.message),
            ]
        })
        .collect();
    body.push_str(&table("refusals", &["时间", "来自", "条目", "代码", "原因"], &rows));
    body.push_str(&format!("<p class=\"muted\">每 {REFRESH_SECS} 秒自动刷新。命令行：quanze status。</p>"));
    Ok(page(&node, &user, Section::Federation, "联邦状态", &body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sync_bar_shows_what_is_done() {
        assert_eq!(sync_bar(10, 0), "");
        let bar = sync_bar(75, 25);
        assert!(bar.contains("max=\"100\" value=\"75\""), "{bar}");
        assert!(bar.contains("75%"));
    }
}
