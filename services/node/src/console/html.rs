//! Small HTML building blocks shared by the console pages: escaping, URL components, tables,
//! status badges and the attributes the console script acts on. Strings in, strings out; no I/O.

pub use crate::audit_report::escape;

/// `s` percent-encoded for one URL component (path segment or query value).
pub fn url_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// An RFC 3339 instant as China time for people: `2026-12-03 20:16:41`; text that is not an
/// instant is shown as it is.
pub fn local_time(rfc3339: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(rfc3339) {
        Ok(t) => {
            let east8 = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
            t.with_timezone(&east8).format("%Y-%m-%d %H:%M:%S").to_string()
        }
        Err(_) => rfc3339.to_string(),
    }
}

/// The tone of a status badge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Good,
    Warn,
    Bad,
    Neutral,
}

/// `<span class="badge good">text</span>`.
pub fn badge(text: &str, tone: Tone) -> String {
    let class = match tone {
        Tone::Good => "good",
        Tone::Warn => "warn",
        Tone::Bad => "bad",
        Tone::Neutral => "neutral",
    };
    format!("<span class=\"badge {class}\">{}</span>", escape(text))
}

/// A table: escaped header cells, then rows of cells that are already HTML. `id` lets a
/// `data-filter` box filter it.
pub fn table(id: &str, headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = format!("<table id=\"{}\" class=\"grid\"><thead><tr>", escape(id));
    for h in headers {
        out.push_str(&format!("<th>{}</th>", escape(h)));
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            out.push_str(&format!("<td>{cell}</td>"));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    if rows.is_empty() {
        out.push_str("<p class=\"muted empty\">暂无记录。</p>");
    }
    out
}

/// A text box that filters the rows of table `table_id` as one types.
pub fn filter_box(table_id: &str, placeholder: &str) -> String {
    format!(
        "<input type=\"search\" class=\"filter\" data-filter=\"{}\" placeholder=\"{}\">",
        escape(table_id),
        escape(placeholder)
    )
}

/// A link styled as a button (downloads, navigation).
pub fn link_button(href: &str, text: &str) -> String {
    format!("<a class=\"button\" href=\"{}\">{}</a>", escape(href), escape(text))
}

/// A button that POSTs `body` (JSON text, may be empty) to `api` and then does `then`
/// (`reload`, or a console path). `confirm` asks first.
pub fn action_button(api: &str, body: Option<&str>, then: &str, text: &str, confirm: Option<&str>) -> String {
    let mut attrs = format!("data-api=\"{}\" data-then=\"{}\"", escape(api), escape(then));
    if let Some(b) = body {
        attrs.push_str(&format!(" data-body=\"{}\"", escape(b)));
    }
    if let Some(c) = confirm {
        attrs.push_str(&format!(" data-confirm=\"{}\"", escape(c)));
    }
    format!("<button type=\"button\" {attrs}>{}</button>", escape(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_components_are_percent_encoded() {
        assert_eq!(url_component("/console/board?x=1&y=二"), "%2Fconsole%2Fboard%3Fx%3D1%26y%3D%E4%BA%8C");
        assert_eq!(url_component("XK-2026_1.a~"), "XK-2026_1.a~");
    }

    #[test]
    fn instants_are_shown_in_china_time() {
        assert_eq!(local_time("2026-12-03T12:16:41.635Z"), "2026-12-03 20:16:41");
        assert_eq!(local_time("2026-12-03T09:00:00+08:00"), "2026-12-03 09:00:00");
        assert_eq!(local_time("昨天"), "昨天");
    }

    #[test]
    fn tables_escape_headers_and_say_when_empty() {
        let t = table("t", &["<名称>"], &[]);
        assert!(t.contains("&lt;名称&gt;"));
        assert!(t.contains("暂无记录"));
        let t = table("t", &["a"], &[vec!["<b>x</b>".into()]]);
        assert!(t.contains("<td><b>x</b></td>"));
    }

    #[test]
    fn action_buttons_escape_their_body() {
        let b = action_button("/api/v1/x", Some("{\"a\":\"<\"}"), "reload", "执行", Some("确定？"));
        assert!(b.contains("data-body=\"{&quot;a&quot;:&quot;&lt;&quot;}\""));
        assert!(b.contains("data-confirm=\"确定？\""));
    }
}
