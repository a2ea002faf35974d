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

/// Hands the allocator's free pages back to the system. glibc keeps freed heap resident when it
/// is fragmented (its automatic trim only releases the top of the heap), so a node that once
/// read a large list (the first audit refresh of 100 000 items) would idle at several times its
/// working set. Called after such bursts; it walks the allocator's free lists (milliseconds).
#[allow(unsafe_code)]
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointer from us, only walks glibc's own free lists under its
    // arena locks, and is safe to call from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}
