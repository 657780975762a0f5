//! What the process costs: resident memory and CPU time, read from `/proc/self` (Linux). `/health`
//! reports them so `boxoffice bench` can read a server's footprint, embedded or remote.

use serde::{Deserialize, Serialize};

/// The process's footprint at one moment.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProcessStats {
    /// Resident set size now, in bytes.
    pub rss_bytes: u64,
    /// Highest resident set size since start, in bytes.
    pub peak_rss_bytes: u64,
    /// User plus system CPU time since start, in seconds.
    pub cpu_seconds: f64,
}

/// Kernel clock ticks per second for `/proc/<pid>/stat` (`USER_HZ`, 100 on every Linux ABI).
const USER_HZ: f64 = 100.0;

impl ProcessStats {
    /// This process's figures, or `None` where `/proc` does not exist.
    pub fn current() -> Option<ProcessStats> {
        Self::of("self")
    }

    /// The figures of process `pid` (`"self"` for this one).
    pub fn of(pid: &str) -> Option<ProcessStats> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        Some(ProcessStats {
            rss_bytes: status_kib(&status, "VmRSS:")? * 1024,
            peak_rss_bytes: status_kib(&status, "VmHWM:")? * 1024,
            cpu_seconds: cpu_ticks(&stat)? as f64 / USER_HZ,
        })
    }
}

/// Context switches of process `pid` so far, summed over its live threads (voluntary: a thread
/// waiting, for a lock, a channel or I/O; involuntary: preempted). Threads that already exited
/// are not counted.
pub(crate) fn context_switches(pid: &str) -> Option<u64> {
    let mut total = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))
        .ok()?
        .flatten()
    {
        let Ok(status) = std::fs::read_to_string(task.path().join("status")) else {
            continue;
        };
        total += status_count(&status, "voluntary_ctxt_switches:").unwrap_or(0)
            + status_count(&status, "nonvoluntary_ctxt_switches:").unwrap_or(0);
    }
    Some(total)
}

fn status_count(status: &str, key: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(key))?;
    line[key.len()..].trim().parse().ok()
}

fn status_kib(status: &str, key: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(key))?;
    line[key.len()..].split_whitespace().next()?.parse().ok()
}

/// utime + stime: fields 14 and 15, counted after the parenthesised command name (which may
/// itself contain spaces or parentheses).
fn cpu_ticks(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_command_name() {
        let stat = "42 (a (weird) name) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0";
        assert_eq!(cpu_ticks(stat), Some(300));
        let status = "Name:\tboxoffice\nVmHWM:\t   20480 kB\nVmRSS:\t   10240 kB\n";
        assert_eq!(status_kib(status, "VmRSS:"), Some(10240));
        assert_eq!(status_kib(status, "VmHWM:"), Some(20480));
        let status = "voluntary_ctxt_switches:\t12\nnonvoluntary_ctxt_switches:\t3\n";
        assert_eq!(status_count(status, "voluntary_ctxt_switches:"), Some(12));
        assert_eq!(status_count(status, "nonvoluntary_ctxt_switches:"), Some(3));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_has_a_footprint() {
        let s = ProcessStats::current().unwrap();
        assert!(s.rss_bytes > 0 && s.peak_rss_bytes >= s.rss_bytes);
        assert!(context_switches("self").is_some());
    }
}
