//! Memory readings from /proc (Linux): current and peak resident set size of this process or
//! of another (the demo's and benchmarks' child nodes).

fn status_kib(pid: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Current resident set size in bytes (VmRSS).
pub fn current_rss_bytes() -> Option<u64> {
    status_kib("self", "VmRSS:").map(|k| k * 1024)
}

/// Peak resident set size in bytes (VmHWM).
pub fn peak_rss_bytes() -> Option<u64> {
    status_kib("self", "VmHWM:").map(|k| k * 1024)
}

/// Current resident set size of another process, in bytes.
pub fn rss_of_pid(pid: u32) -> Option<u64> {
    status_kib(&pid.to_string(), "VmRSS:").map(|k| k * 1024)
}

/// Peak resident set size of another process, in bytes.
pub fn peak_rss_of_pid(pid: u32) -> Option<u64> {
    status_kib(&pid.to_string(), "VmHWM:").map(|k| k * 1024)
}
