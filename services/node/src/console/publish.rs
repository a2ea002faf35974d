//! The establishment office's 目录发布 page: the catalogue publications this node published
//! (文号, title, dates, tiers, number of changes, progress from `api::recon_board::board`, each
//! linked to its board), a form to publish
//! 取消/下放 changes typed one per line, and the upload of a change sheet (.xlsx/.xls/.csv) with
//! a progress bar.
//!
//! Reads publications from the store; both forms are sent by `console.js` to the JSON API
//! (`POST /api/v1/catalogue/publications/lines` and `/sheet`, see `api/catalogue_sheet.rs`),
//! which checks, signs and writes. Must not write, sign, parse sheets or decide a catalogue rule.

use axum::extract::State;
use chrono::NaiveDate;
use quanze_domain::Tier;
use quanze_store::PublicationRow;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::html::{Tone, badge, escape, filter_box, link_button, table, url_component};
use super::{PageResult, Section, page, require};
use crate::api::recon_board::{Board, board, ref_text};
use crate::auth::Principal;
use crate::state::Node;

pub fn routes() -> OpenApiRouter<Node> {
    OpenApiRouter::new().routes(routes!(publish_page))
}

/// The console path of a publication's board.
pub fn board_path(p: &PublicationRow) -> String {
    format!("/console/board?ref={}", url_component(&format!("{}#{}", p.pub_ref.origin, p.pub_ref.seq)))
}

/// Tiers as people write them: `县、乡镇`.
pub fn tiers_text(tiers: &[Tier]) -> String {
    tiers.iter().map(|t| t.label()).collect::<Vec<_>>().join("、")
}

/// What a publication requires of each tier: `县 3 项；乡镇 3 项`.
fn required_text(p: &PublicationRow) -> String {
    p.required_by_tier.iter().map(|(t, n)| format!("{} {n} 项", t.label())).collect::<Vec<_>>().join("；")
}

/// Progress of a publication's board at a glance: `已办结 2/3`, with the overdue in red.
fn progress_text(b: &Board) -> String {
    let count = |k: &str| b.counts.get(k).copied().unwrap_or(0);
    let closed = count("adopted") + count("deviated") + count("not_applicable");
    let mut out = escape(&format!("已办结 {closed}/{}", b.lines.len()));
    if count("overdue") > 0 {
        out.push(' ');
        out.push_str(&badge(&format!("逾期 {}", count("overdue")), Tone::Bad));
    }
    out
}

/// The document's header fields, shared by the typed form and the upload: 文号, title, dates,
/// the tiers that must reconcile (every tier below this node, checked) and the window.
fn header_fields(node_tier: Tier, today: NaiveDate) -> String {
    let tiers: String = Tier::ALL
        .into_iter()
        .filter(|t| *t > node_tier)
        .map(|t| {
            format!(
                "<label><input type=\"checkbox\" name=\"tiers\" value=\"{key}\" data-kind=\"list\" checked> {label}级</label>",
                key = t.key(),
                label = escape(t.label())
            )
        })
        .collect();
    format!(
        "<div class=\"columns\">\
         <label>文号 *<input name=\"doc_no\" required placeholder=\"例如 泸编发〔2026〕3号\"></label>\
         <label>标题 *<input name=\"title\" required placeholder=\"例如 关于调整市县两级权责清单事项的通知\"></label>\
         <label>公布日期（对标期限自次日起算）<input type=\"date\" name=\"published\" value=\"{today}\" required></label>\
         <label>施行日期<input type=\"date\" name=\"effective\" value=\"{today}\"></label>\
         </div>\
         <div class=\"inline\"><span>须对标的层级：</span>{tiers}\
         <label>对标期限<input type=\"number\" name=\"window_days\" value=\"20\" min=\"1\" max=\"365\" data-kind=\"number\" style=\"width:5em\"></label>\
         <label><select name=\"window_unit\"><option value=\"working\" selected>工作日</option>\
         <option value=\"calendar\">自然日</option></select></label></div>"
    )
}

#[utoipa::path(get, path = "/console/publish", tag = "console", responses((status = 200, description = "目录发布 / catalogue publications", content_type = "text/html", body = String), (status = 303, description = "Not signed in: to the sign-in page")))]
async fn publish_page(State(node): State<Node>, user: Principal) -> PageResult {
    require(&node, &user, Section::Publish)?;
    let me = node.division().clone();
    let mut mine: Vec<PublicationRow> =
        node.store().publications().await?.into_iter().filter(|p| p.pub_ref.origin == me).collect();
    mine.reverse();
    let today = node.today();
    let changes: u64 = mine.iter().map(|p| p.changes).sum();
    let mut body = format!(
        "<div class=\"summary\"><div>本级已发布<b>{}</b></div><div>调整事项合计<b>{changes}</b></div>\
         <div>最近公布日期<b>{}</b></div></div>",
        mine.len(),
        mine.first().map_or_else(|| "—".to_string(), |p| p.published.to_string()),
    );

    body.push_str("<h2>本级已发布的目录调整</h2>");
    body.push_str(&format!(
        "<div class=\"toolbar\">{}<span class=\"muted\">共 <span data-count-for=\"publications\">{}</span> 件</span></div>",
        filter_box("publications", "按文号、标题、层级筛选"),
        mine.len()
    ));
    let mut progress = Vec::with_capacity(mine.len());
    for p in &mine {
        // The board's own computation; a publication it cannot judge shows a dash.
        progress
            .push(board(&node, &ref_text(&p.pub_ref), None).await.map_or_else(|_| "—".into(), |b| progress_text(&b)));
    }
    let rows: Vec<Vec<String>> = mine
        .iter()
        .zip(progress)
        .map(|(p, progress)| {
            vec![
                format!("<a href=\"{}\">{}</a>", escape(&board_path(p)), escape(&p.doc_no)),
                escape(&p.title),
                escape(&p.published.to_string()),
                escape(&p.effective.to_string()),
                escape(&tiers_text(&p.tiers)),
                escape(&p.window.to_string()),
                p.changes.to_string(),
                escape(&required_text(p)),
                progress,
                link_button(&board_path(p), "对账看板"),
            ]
        })
        .collect();
    body.push_str(&table(
        "publications",
        &["文号", "标题", "公布日期", "施行日期", "对标层级", "期限", "调整事项", "各层级须对标", "对标进度", ""],
        &rows,
    ));

    let header = header_fields(node.tier(), today);
    body.push_str(&format!(
        "<h2>在线填写调整（取消、下放）</h2>\
         <form id=\"publish-lines\" class=\"card\" data-api=\"/api/v1/catalogue/publications/lines\" \
         data-then=\"/console/board?ref={{ref}}\" data-confirm=\"确认以本级名义签名发布？发布后不能撤回，下级节点将收到对标任务。\">\
         {header}\
         <label>调整事项（每行一项）<textarea name=\"lines\" rows=\"6\" required \
         placeholder=\"取消 | XK00035000 | 上位法已废止&#10;下放 | XK00036000 | 县、乡镇 | 便于就近办理\"></textarea></label>\
         <p class=\"muted\">格式：<span class=\"mono\">取消 | 事项编码 | 理由</span> 或 \
         <span class=\"mono\">下放 | 事项编码 | 下放到的层级 | 理由</span>；可用竖线、制表符（从 Excel 复制）或空格分隔。\
         新增、合并、拆分、调整要素需要完整的事项要素，请用下方“上传调整表”。</p>\
         <button type=\"submit\">签名发布</button><div class=\"error\" hidden></div></form>"
    ));

    body.push_str(&format!(
        "<h2>上传调整表（.xlsx / .xls / .csv）</h2>\
         <form id=\"publish-sheet\" class=\"card\" data-upload=\"/api/v1/catalogue/publications/sheet\" \
         data-then=\"/console/board?ref={{ref}}\">\
         {header}\
         <label>调整表文件<input type=\"file\" name=\"file\" accept=\".xlsx,.xls,.csv\" required></label>\
         <div class=\"progress\"><progress hidden value=\"0\" max=\"1\"></progress> <span class=\"progress-label muted\"></span></div>\
         <p class=\"muted\">表头：调整方式（新增/取消/下放/调整要素/合并/拆分）、事项编码、事项名称、职权类别、设定依据、实施主体、\
         行使层级、调整理由、关联编码，以及其他事项要素列。整表校验：任何一行有错，都不发布，并逐行列出错误。\
         命令行：<span class=\"mono\">quanze catalogue publish 调整表.xlsx --doc-no 文号 --title 标题</span></p>\
         <button type=\"submit\">上传并签名发布</button><div class=\"error\" hidden></div></form>"
    ));
    Ok(page(&node, &user, Section::Publish, "目录发布", &body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_fields_offer_only_the_tiers_below() {
        let day = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        let city = header_fields(Tier::City, day);
        assert!(city.contains("value=\"county\"") && city.contains("value=\"township\""), "{city}");
        assert!(!city.contains("value=\"city\"") && !city.contains("value=\"province\""));
        assert!(city.contains("value=\"2026-03-02\""));
        assert!(!header_fields(Tier::Province, day).contains("value=\"province\""));
        assert_eq!(tiers_text(&[Tier::County, Tier::Township]), "县、乡镇");
    }
}
