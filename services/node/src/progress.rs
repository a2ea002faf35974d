//! Progress on the terminal for long CLI jobs (indicatif): spinners with the job's phases and
//! counters for loops over many entries.
//!
//! Owns how progress is drawn and when it is not: always on stderr, never on stdout (what a
//! command prints for scripts is unchanged), and hidden when stderr is not a terminal, when
//! `CI` is set, or with `QUANZE_PROGRESS=0`, so tests, pipes and CI logs stay clean. Must not
//! print results or decide anything about the job itself.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Whether progress is drawn, given whether stderr is a terminal and the `CI` and
/// `QUANZE_PROGRESS` variables.
pub fn enabled(stderr_is_terminal: bool, ci: Option<&str>, setting: Option<&str>) -> bool {
    let ci = ci.is_some_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"));
    let off = setting.is_some_and(|v| v == "0" || v.eq_ignore_ascii_case("false") || v.eq_ignore_ascii_case("off"));
    stderr_is_terminal && !ci && !off
}

fn target() -> ProgressDrawTarget {
    let ci = std::env::var("CI").ok();
    let setting = std::env::var("QUANZE_PROGRESS").ok();
    if enabled(std::io::stderr().is_terminal(), ci.as_deref(), setting.as_deref()) {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    }
}

/// A spinner showing `message` (change it with `set_message` as the job moves to its next
/// phase); `finish_and_clear` it before printing the result.
pub fn spinner(message: impl Into<String>) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, target());
    bar.set_style(
        ProgressStyle::with_template("{spinner:.green} {msg} [{elapsed}]")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message(message.into());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// A counter of items done (`inc`) with its rate, for loops whose total is not known ahead.
pub fn counter(message: impl Into<String>, unit: &'static str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, target());
    let template = format!("{{spinner:.green}} {{msg}} {{human_pos}} {unit}（{{per_sec}}）[{{elapsed}}]");
    bar.set_style(ProgressStyle::with_template(&template).unwrap_or_else(|_| ProgressStyle::default_spinner()));
    bar.set_message(message.into());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// A bar of `total` items.
pub fn bar(total: u64, message: impl Into<String>) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), target());
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40.green/white}] {human_pos}/{human_len}（{percent}%，剩余 {eta}）")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("█▉ "),
    );
    bar.set_message(message.into());
    bar
}

/// "N 行" for a phase message, or nothing when the count is unknown.
pub fn rows_text(rows: Option<usize>, unit: &str) -> String {
    rows.map_or_else(String::new, |n| format!(" {n} {unit}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_only_on_an_interactive_terminal() {
        assert!(enabled(true, None, None));
        assert!(!enabled(false, None, None), "a pipe or a test harness gets no progress");
        assert!(!enabled(true, Some("true"), None), "CI=true stays clean");
        assert!(enabled(true, Some("false"), None));
        assert!(!enabled(true, None, Some("0")));
    }

    #[test]
    fn hidden_bars_accept_every_call() {
        let b = ProgressBar::with_draw_target(Some(3), ProgressDrawTarget::hidden());
        b.inc(2);
        assert_eq!(b.position(), 2);
        b.finish_and_clear();
        assert!(b.is_finished());
        assert_eq!(rows_text(Some(12), "行"), " 12 行");
        assert_eq!(rows_text(None, "行"), "");
    }
}
