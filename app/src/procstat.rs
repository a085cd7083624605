//! Process CPU time and peak memory from Linux's `/proc` (for benchmarks and the demo's
//! memory report): no `unsafe`, no extra crates. Elsewhere the readings are `None`.

use std::time::Duration;

/// CPU time and peak resident set size of one process.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Usage {
    /// User plus system CPU time, in milliseconds.
    pub cpu_ms: u64,
    /// Peak resident set size (VmHWM), in KiB.
    pub peak_rss_kib: u64,
}

fn clock_ticks_per_sec() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(100)
}

/// Usage of process `pid` (`"self"` for this one).
pub fn usage(pid: &str) -> Option<Usage> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    let ticks = clock_ticks_per_sec();
    let cpu = Duration::from_millis((utime + stime) * 1000 / ticks);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let peak = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Some(Usage {
        cpu_ms: cpu.as_millis() as u64,
        peak_rss_kib: peak,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_own_usage_on_linux() {
        if cfg!(target_os = "linux") {
            let u = super::usage("self").expect("/proc/self readable");
            assert!(u.peak_rss_kib > 0);
        }
    }
}
