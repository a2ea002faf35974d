//! Rendering of an uniformity audit report (`quanze_domain::audit::AuditReport`, 四级四同、同级一致)
//! as a CSV file (one row per finding, UTF-8 with BOM for Excel; `finding_rows` are also the
//! rows of the .xlsx export) and as a self-contained Chinese HTML page (summary, node × rule heat
//! map, rule legend, findings by node). The heat bands (`HEAT`) are shared with the console.
//!
//! Pure functions from a report to a string: no I/O, no store, no HTTP, no clock. Callers (API
//! handlers, CLI commands) fetch the report and decide where the text goes. Every text taken from
//! the report comes from other governments' signed data and is treated as hostile: HTML-escaped
//! in the page, guarded against formula injection in the CSV.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use quanze_domain::audit::{AuditReport, Finding, NodeSummary, RuleId};
use quanze_domain::division::DivisionCode;

/// Findings shown on the HTML page at most; the CSV/JSON exports carry all of them.
pub const HTML_FINDINGS_LIMIT: usize = 2000;

const BOM: &str = "\u{feff}";
pub const CSV_HEADER: [&str; 9] =
    ["单位代码", "单位名称", "规则编号", "规则", "事项编码或对象", "起算日", "说明", "差异", "证据条目"];

/// Heat-map colours: (lowest count of the band, background, text colour, legend).
pub const HEAT: [(u64, &str, &str, &str); 5] = [
    (0, "#e8f5e9", "#1b5e20", "0：没有问题"),
    (1, "#fff59d", "#000", "1 项"),
    (2, "#ffcc80", "#000", "2–5 项"),
    (6, "#ff8a65", "#000", "6–20 项"),
    (21, "#c62828", "#fff", "20 项以上"),
];

/// The report as CSV: a BOM, the Chinese header, then one row per finding in report order.
pub fn render_csv(report: &AuditReport) -> String {
    let mut w = csv::Writer::from_writer(BOM.as_bytes().to_vec());
    w.write_record(CSV_HEADER).expect("writing to memory cannot fail");
    for row in finding_rows(report) {
        w.write_record(row).expect("writing to memory cannot fail");
    }
    let bytes = w.into_inner().expect("writing to memory cannot fail");
    String::from_utf8(bytes).expect("CSV of UTF-8 strings is UTF-8")
}

/// One row per finding in report order, the columns of `CSV_HEADER`, each cell guarded against
/// formula injection: what the CSV and the workbook both carry.
pub fn finding_rows(report: &AuditReport) -> Vec<[String; 9]> {
    let names = node_index(report);
    let mut out = Vec::with_capacity(report.findings.len());
    for f in &report.findings {
        let name = names.get(&f.node).map_or("", |n| n.name.as_str());
        let differences = f
            .differences
            .iter()
            .map(|d| format!("{}：{}“{}”/本级“{}”", d.element, reference_word(f.rule), d.expected, d.actual))
            .collect::<Vec<_>>()
            .join("；");
        let evidence = f
            .evidence
            .iter()
            .map(|e| {
                if e.hash.is_empty() {
                    format!("{}#{}", e.origin, e.seq)
                } else {
                    format!("{}#{}:{}", e.origin, e.seq, e.hash)
                }
            })
            .collect::<Vec<_>>()
            .join(" ");
        let row = [
            f.node.to_string(),
            name.to_string(),
            f.rule.id().to_string(),
            f.rule.label().to_string(),
            f.subject.clone(),
            f.from.to_string(),
            f.message.clone(),
            differences,
            evidence,
        ];
        out.push(row.map(quanze_domain::import::escape_formula));
    }
    out
}

/// The report as one HTML5 page in Chinese: inline CSS, no script, no external resource.
pub fn render_html(report: &AuditReport) -> String {
    let mut h = String::with_capacity(64 * 1024 + report.findings.len().min(HTML_FINDINGS_LIMIT) * 512);
    h.push_str("<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    h.push_str("<title>权责清单一致性审计（四级四同）</title>\n<style>\n");
    h.push_str(CSS);
    h.push_str("</style>\n</head>\n<body>\n<h1>权责清单一致性审计（四级四同）</h1>\n");
    writeln!(h, "<p class=\"meta\">审计范围：{}　截至：{}</p>", escape(&report.scope), report.as_of.format("%Y-%m-%d"))
        .unwrap();
    h.push_str(
        "<p class=\"how\">怎么看这一页：审计把范围内每个单位的权责清单与上级目录、同级单位、赋权和规定期限逐项对照。\
         下面的热力图每一行是一个单位，每一列是一条审计规则，格子里的数字是这个单位违反这条规则的问题条数，\
         绿色表示没有问题，颜色越深问题越多；“得分”是这个单位被检查的事项和任务中没有问题的比例，得分最低的单位排在最前。\
         “规则说明”用白话解释每条规则查什么；“问题明细”按单位列出每个问题：涉及的事项或对象、从哪一天起算、\
         与目录（或同级多数）不同的地方，以及可在审计日志中核验的证据条目。</p>\n",
    );

    let nodes = sorted_nodes(report);
    let average = if nodes.is_empty() {
        "—".to_string()
    } else {
        percent(nodes.iter().map(|n| n.score).sum::<f64>() / nodes.len() as f64)
    };
    writeln!(
        h,
        "<p class=\"summary\">共 <b>{}</b> 个单位，发现问题 <b>{}</b> 条，平均得分 <b>{}</b>。</p>",
        nodes.len(),
        report.findings.len(),
        average
    )
    .unwrap();

    heat_map(&mut h, report, &nodes);
    rule_legend(&mut h, report);
    findings(&mut h, report, &nodes);
    h.push_str("</body>\n</html>\n");
    h
}

const CSS: &str = "@page { size: A4 landscape; margin: 12mm; }
body { font-family: \"PingFang SC\", \"Microsoft YaHei\", \"Noto Sans CJK SC\", sans-serif; color: #212121;
  margin: 1.5em; line-height: 1.5; }
h1 { font-size: 1.6em; margin-bottom: .2em; } h2 { margin-top: 1.6em; border-bottom: 2px solid #90a4ae; }
h3 { margin: 1.2em 0 .4em; }
.meta { color: #455a64; margin-top: 0; } .how { max-width: 60em; } .summary { font-size: 1.1em; }
table { border-collapse: collapse; margin: .5em 0; font-size: .9em; }
th, td { border: 1px solid #b0bec5; padding: .25em .5em; vertical-align: top; text-align: left; }
th { background: #eceff1; position: sticky; top: 0; }
td.n, th.n { text-align: center; min-width: 3em; } td.s { text-align: right; white-space: nowrap; }
.swatch { display: inline-block; width: 1.4em; height: 1em; border: 1px solid #90a4ae; vertical-align: middle;
  margin: 0 .3em 0 1em; }
.ok { background: #e8f5e9; color: #1b5e20; border: 1px solid #a5d6a7; padding: .8em 1em; font-size: 1.2em; }
.omitted { background: #fff8e1; border: 1px solid #ffe082; padding: .5em 1em; }
ul.diff { margin: 0; padding-left: 1.2em; } .ev { font-family: monospace; white-space: nowrap; }
.code { color: #546e7a; }
@media print { body { margin: 0; } th { position: static; } thead { display: table-header-group; }
  tr { break-inside: avoid; } * { -webkit-print-color-adjust: exact; print-color-adjust: exact; } }
";

fn heat_map(h: &mut String, report: &AuditReport, nodes: &[&NodeSummary]) {
    h.push_str("<h2>热力图：各单位 × 各规则的问题数</h2>\n");
    if nodes.is_empty() {
        h.push_str("<p>审计范围内没有单位。</p>\n");
        return;
    }
    h.push_str("<table class=\"heat\">\n<thead><tr><th>单位</th><th>层级</th><th class=\"n\">得分</th>");
    for r in &report.rules {
        write!(h, "<th class=\"n\" title=\"{}\">{}<br>{}</th>", escape(&r.explain), escape(&r.id), escape(&r.label))
            .unwrap();
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for n in nodes {
        write!(
            h,
            "<tr><td>{} <span class=\"code\">{}</span></td><td>{}</td><td class=\"s\">{}</td>",
            escape(&n.name),
            escape(n.division.as_str()),
            n.tier.label(),
            percent(n.score)
        )
        .unwrap();
        for r in &report.rules {
            let count = n.counts.get(&r.id).copied().unwrap_or(0);
            let (_, bg, fg, _) = heat(count);
            write!(
                h,
                "<td class=\"n\" style=\"background:{bg};color:{fg}\" title=\"{} · {} {}：{count} 项\">{count}</td>",
                escape(&n.name),
                escape(&r.id),
                escape(&r.label)
            )
            .unwrap();
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table>\n<p class=\"legend\">颜色说明：");
    for (_, bg, _, label) in HEAT {
        write!(h, "<span class=\"swatch\" style=\"background:{bg}\"></span>{label}").unwrap();
    }
    h.push_str("。把鼠标停在格子上可看到单位和规则的全称。</p>\n");
}

fn rule_legend(h: &mut String, report: &AuditReport) {
    h.push_str("<h2>规则说明</h2>\n<table class=\"rules\">\n<thead><tr><th>编号</th><th>规则</th><th>查什么</th>");
    h.push_str("<th class=\"n\">问题数</th><th class=\"n\">涉及单位数</th></tr></thead>\n<tbody>\n");
    for r in &report.rules {
        writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            escape(&r.id),
            escape(&r.label),
            escape(&r.explain),
            r.findings,
            r.nodes
        )
        .unwrap();
    }
    h.push_str("</tbody>\n</table>\n");
}

fn findings(h: &mut String, report: &AuditReport, nodes: &[&NodeSummary]) {
    h.push_str("<h2>问题明细</h2>\n");
    if report.findings.is_empty() {
        h.push_str("<p class=\"ok\">✔ 未发现问题：审计范围内各单位的清单均符合全部规则。</p>\n");
        return;
    }
    let shown = &report.findings[..report.findings.len().min(HTML_FINDINGS_LIMIT)];
    let mut by_node: BTreeMap<&DivisionCode, Vec<&Finding>> = BTreeMap::new();
    for f in shown {
        by_node.entry(&f.node).or_default().push(f);
    }
    // Heat-map order first, then (defensively) findings of nodes with no summary.
    let mut groups: Vec<(&DivisionCode, &str, Vec<&Finding>)> = Vec::new();
    for n in nodes {
        if let Some(fs) = by_node.remove(&n.division) {
            groups.push((&n.division, &n.name, fs));
        }
    }
    groups.extend(by_node.into_iter().map(|(d, fs)| (d, "", fs)));
    for (division, name, fs) in groups {
        writeln!(
            h,
            "<h3>{} <span class=\"code\">{}</span>（{} 条）</h3>",
            escape(name),
            escape(division.as_str()),
            fs.len()
        )
        .unwrap();
        h.push_str("<table class=\"findings\">\n<thead><tr><th>规则</th><th>事项编码或对象</th><th>起算日</th>");
        h.push_str("<th>说明</th><th>差异</th><th>证据条目</th></tr></thead>\n<tbody>\n");
        for f in fs {
            finding_row(h, f);
        }
        h.push_str("</tbody>\n</table>\n");
    }
    let omitted = report.findings.len() - shown.len();
    if omitted > 0 {
        writeln!(
            h,
            "<p class=\"omitted\">另有 {omitted} 条问题未在此页列出（本页只显示前 {} 条）；CSV/JSON 导出包含全部 {} 条。</p>",
            shown.len(),
            report.findings.len()
        )
        .unwrap();
    }
}

fn finding_row(h: &mut String, f: &Finding) {
    write!(
        h,
        "<tr class=\"f\"><td>{} {}</td><td>{}</td><td class=\"s\">{}</td><td>{}</td><td>",
        f.rule.id(),
        f.rule.label(),
        escape(&f.subject),
        f.from.format("%Y-%m-%d"),
        escape(&f.message)
    )
    .unwrap();
    if !f.differences.is_empty() {
        h.push_str(&differences_html(f));
    }
    h.push_str("</td><td>");
    for (i, e) in f.evidence.iter().enumerate() {
        if i > 0 {
            h.push_str("<br>");
        }
        let short: String = e.hash.chars().take(12).collect();
        if short.is_empty() {
            write!(h, "<span class=\"ev\">{}#{}</span>", escape(&e.origin), e.seq).unwrap();
        } else {
            write!(
                h,
                "<span class=\"ev\" title=\"{}\">{}#{} · {}</span>",
                escape(&e.hash),
                escape(&e.origin),
                e.seq,
                escape(&short)
            )
            .unwrap();
        }
    }
    h.push_str("</td></tr>\n");
}

/// A finding's differences as an HTML list: element, the reference value, this node's value.
/// Shared by the report page and the console's drill-down.
pub fn differences_html(f: &Finding) -> String {
    let mut h = String::from("<ul class=\"diff\">");
    for d in &f.differences {
        write!(
            h,
            "<li><b>{}</b>：{} “{}” → 本级 “{}”</li>",
            escape(&d.element),
            reference_word(f.rule),
            escape(&d.expected),
            escape(&d.actual)
        )
        .expect("writing to a String cannot fail");
    }
    h.push_str("</ul>");
    h
}

/// What a difference's expected value is: the catalogue's, or the peers' majority form (A05).
pub fn reference_word(rule: RuleId) -> &'static str {
    if rule == RuleId::PeerDisagreement { "多数" } else { "目录" }
}

/// The heat-map band of a count: (lowest count, background, text colour, legend).
pub fn heat(count: u64) -> (u64, &'static str, &'static str, &'static str) {
    HEAT.into_iter().rev().find(|(min, ..)| count >= *min).unwrap_or(HEAT[0])
}

pub fn percent(score: f64) -> String {
    format!("{:.1}%", score * 100.0)
}

/// Nodes worst first: score ascending, then division code.
pub fn sorted_nodes(report: &AuditReport) -> Vec<&NodeSummary> {
    let mut nodes: Vec<&NodeSummary> = report.nodes.iter().collect();
    nodes.sort_by(|a, b| a.score.total_cmp(&b.score).then_with(|| a.division.cmp(&b.division)));
    nodes
}

fn node_index(report: &AuditReport) -> BTreeMap<&DivisionCode, &NodeSummary> {
    report.nodes.iter().map(|n| (&n.division, n)).collect()
}

/// HTML-escapes text for element content and quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use quanze_domain::audit::{Difference, EntryRef, RuleSummary};

    use super::*;

    const EVIL: &str = "<script>alert('x')</script>区";
    const HASH: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 3, d).unwrap()
    }

    fn finding(node: &str, rule: RuleId, subject: &str, message: &str) -> Finding {
        Finding {
            node: DivisionCode::parse(node).unwrap(),
            rule,
            subject: subject.into(),
            is_item: true,
            from: day(2),
            message: message.into(),
            differences: vec![],
            evidence: vec![EntryRef::new(node, 7)],
        }
    }

    fn report(nodes: &[(&str, &str, f64)], findings: Vec<Finding>) -> AuditReport {
        let nodes = nodes
            .iter()
            .map(|(code, name, score)| {
                let division = DivisionCode::parse(code).unwrap();
                let counts = RuleId::ALL
                    .iter()
                    .map(|r| {
                        let n = findings.iter().filter(|f| f.node == division && f.rule == *r).count() as u64;
                        (r.id().to_string(), n)
                    })
                    .collect();
                NodeSummary {
                    tier: division.tier(),
                    division,
                    name: name.to_string(),
                    units: 10,
                    failing: 0,
                    score: *score,
                    counts,
                }
            })
            .collect();
        let rules = RuleId::ALL
            .iter()
            .map(|r| RuleSummary {
                id: r.id().into(),
                key: r.key().into(),
                label: r.label().into(),
                explain: r.explain().into(),
                findings: findings.iter().filter(|f| f.rule == *r).count() as u64,
                nodes: 0,
            })
            .collect();
        AuditReport { scope: "510000".into(), as_of: day(31), nodes, rules, findings }
    }

    fn sample() -> AuditReport {
        let mut mismatch = finding("510500", RuleId::UniformMismatch, "XK-0001", "名称与目录不同");
        mismatch.differences =
            vec![Difference {
                element: "名称".into(), expected: "建设工程许可".into(), actual: "建设许可".into()
            }];
        mismatch.evidence = vec![EntryRef { origin: "510500".into(), seq: 42, hash: HASH.into() }];
        let mut findings = vec![mismatch];
        for i in 0..2 {
            findings.push(finding("510500", RuleId::UniformMismatch, &format!("XK-000{}", i + 2), "依据不同"));
        }
        findings.push(finding("510502", RuleId::Incomplete, "CF-0009", "=HYPERLINK(\"x\") 缺少追责情形"));
        report(&[("510000", "四川省", 1.0), ("510500", "泸州市", 0.7), ("510502", EVIL, 0.9)], findings)
    }

    #[test]
    fn csv_has_bom_header_one_row_per_finding_and_evidence() {
        let csv = render_csv(&sample());
        assert!(csv.starts_with('\u{feff}'));
        let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
        assert_eq!(lines[0], "单位代码,单位名称,规则编号,规则,事项编码或对象,起算日,说明,差异,证据条目");
        assert_eq!(lines.len(), 1 + 4);
        assert!(lines[1].starts_with("510500,泸州市,A01,统一要素与目录不一致,XK-0001,2025-03-02,名称与目录不同,"));
        assert!(lines[1].contains("名称：目录“建设工程许可”/本级“建设许可”"));
        assert!(lines[1].ends_with(&format!(",510500#42:{HASH}")));
        assert!(lines[2].ends_with(",510500#7"));
        // The hostile message is guarded so Excel does not evaluate it.
        assert!(lines[4].contains("\"'=HYPERLINK(\"\"x\"\") 缺少追责情形\""), "{}", lines[4]);
    }

    #[test]
    fn html_heat_map_has_titles_colours_and_worst_first() {
        let html = render_html(&sample());
        assert!(html.starts_with("<!DOCTYPE html>") && html.contains("<meta charset=\"utf-8\">"));
        assert!(html.contains("审计范围：510000　截至：2025-03-31"));
        assert!(html.contains("共 <b>3</b> 个单位，发现问题 <b>4</b> 条，平均得分 <b>86.7%</b>"));
        assert!(html.contains(
            "style=\"background:#ffcc80;color:#000\" title=\"泸州市 · A01 统一要素与目录不一致：3 项\">3</td>"
        ));
        assert!(html.contains(
            "style=\"background:#e8f5e9;color:#1b5e20\" title=\"泸州市 · A02 目录事项未列入清单：0 项\">0</td>"
        ));
        assert!(html.contains("style=\"background:#fff59d;color:#000\" title=\"&lt;script&gt;"));
        assert!(html.contains("<td class=\"s\">70.0%</td>"));
        let pos = |s: &str| html.find(s).unwrap();
        assert!(pos("泸州市 <span") < pos("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;区 <span"));
        assert!(pos("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;区 <span") < pos("四川省 <span"));
        assert!(html.contains("20 项以上") && html.contains("@page { size: A4 landscape"));
    }

    #[test]
    fn html_escapes_report_text_and_shows_findings_detail() {
        let html = render_html(&sample());
        assert!(!html.contains("<script"), "raw script tag leaked");
        assert!(
            html.contains(
                "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;区 <span class=\"code\">510502</span>（1 条）"
            )
        );
        assert!(html.contains("<li><b>名称</b>：目录 “建设工程许可” → 本级 “建设许可”</li>"));
        assert!(html.contains(&format!("<span class=\"ev\" title=\"{HASH}\">510500#42 · 0123456789ab</span>")));
        assert!(html.contains("=HYPERLINK(&quot;x&quot;) 缺少追责情形"));
        assert!(html.contains("<h3>泸州市 <span class=\"code\">510500</span>（3 条）</h3>"));
        assert!(!html.contains("未发现问题") && !html.contains("另有"));
    }

    #[test]
    fn html_caps_findings_and_says_how_many_are_omitted() {
        let findings = (0..HTML_FINDINGS_LIMIT + 1)
            .map(|i| finding("510500", RuleId::CatalogueMissing, &format!("XK-{i:05}"), "未列入"))
            .collect();
        let html = render_html(&report(&[("510500", "泸州市", 0.0)], findings));
        assert_eq!(html.matches("<tr class=\"f\">").count(), HTML_FINDINGS_LIMIT);
        assert!(html.contains("另有 1 条问题未在此页列出（本页只显示前 2000 条）；CSV/JSON 导出包含全部 2001 条。"));
        assert!(
            html.contains("style=\"background:#c62828;color:#fff\" title=\"泸州市 · A02 目录事项未列入清单：2001 项\"")
        );
        assert!(!html.contains("XK-02000") && html.contains("XK-01999"));
    }

    #[test]
    fn empty_report_says_no_problem() {
        let r = report(&[("510500", "泸州市", 1.0)], vec![]);
        let html = render_html(&r);
        assert!(html.contains("<p class=\"ok\">✔ 未发现问题"));
        assert!(!html.contains("<tr class=\"f\">"));
        assert!(html.contains("发现问题 <b>0</b> 条，平均得分 <b>100.0%</b>"));
        assert_eq!(render_csv(&r).lines().count(), 1);
    }

    #[test]
    fn peer_differences_name_the_majority_and_escape_covers_quotes() {
        let mut f = finding("510502", RuleId::PeerDisagreement, "XK-1", "与同级多数不同");
        f.differences =
            vec![Difference { element: "类别".into(), expected: "行政许可".into(), actual: "其他".into() }];
        let r = report(&[("510502", "江阳区", 0.5)], vec![f]);
        assert!(render_html(&r).contains("<li><b>类别</b>：多数 “行政许可” → 本级 “其他”</li>"));
        assert!(render_csv(&r).contains("类别：多数“行政许可”/本级“其他”"));
        assert_eq!(escape("a&b<c>\"d'"), "a&amp;b&lt;c&gt;&quot;d&#39;");
    }
}
