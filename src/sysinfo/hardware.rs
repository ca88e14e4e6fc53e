//! The `dbsync_hwinfo` row on Linux: board serial, CPU and memory.
//!
//! Everything is read below the provider's root: `sys/class/dmi/id/board_serial`,
//! `proc/cpuinfo`, `proc/meminfo` and, for CPUs that do not report a clock in cpuinfo
//! (most ARM kernels), `sys/devices/system/cpu/cpuN/cpufreq/cpuinfo_max_freq`. The
//! values follow the Wazuh agent: in cpuinfo the last occurrence of a key counts (so
//! the CPU name is the last processor's and the core count is the last processor
//! number plus one), the speed is the integer part of `cpu MHz` plus one, and memory is
//! reported in bytes with `MemAvailable` as the free memory when the kernel has it.
//! Numbers that do not parse are treated as absent rather than failing the row.

use std::collections::HashMap;

use serde_json::Value;

use super::{read, CollectError, LinuxSysInfo};
use crate::Row;

/// What the agent writes when a value is unknown.
const UNKNOWN_VALUE: &str = " ";

/// cpuinfo of a 1024-CPU machine is a few megabytes; stop reading well beyond that.
const READ_LIMIT: u64 = 64 << 20;

/// What the row needs from `/proc/cpuinfo`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CpuInfo {
    /// The last `model name` value.
    pub model_name: Option<String>,
    /// The last `processor` number plus one; 0 when there is none or it is not a number.
    pub cores: u64,
    /// The integer part of the last `cpu MHz` value plus one (the agent's rounding);
    /// None when there is no such value or it is not a number.
    pub mhz: Option<u64>,
}

/// What the row needs from `/proc/meminfo`, in KiB as the file states them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MemInfo {
    pub total_kib: Option<u64>,
    pub available_kib: Option<u64>,
    pub free_kib: Option<u64>,
}

/// Collects the `dbsync_hwinfo` row. Never fails: missing sources give the agent's
/// defaults (serial " ", CPU name " ", 0 cores, speed 0, 1 KiB of total memory).
pub fn collect(p: &LinuxSysInfo) -> Result<Row, CollectError> {
    let cpu = read_text(p, "/proc/cpuinfo")
        .map(|text| parse_cpuinfo(&text))
        .unwrap_or_default();
    let mem = read_text(p, "/proc/meminfo")
        .map(|text| parse_meminfo(&text))
        .unwrap_or_default();
    let mhz = cpu.mhz.unwrap_or_else(|| max_cpufreq_mhz(p));

    let mut row = Row::new();
    row.insert("serial_number".into(), Value::from(serial_number(p)));
    row.insert(
        "cpu_name".into(),
        Value::from(cpu.model_name.as_deref().unwrap_or(UNKNOWN_VALUE)),
    );
    row.insert("cpu_cores".into(), Value::from(cpu.cores));
    // Precision loss above 2^53 MHz is not a concern.
    row.insert("cpu_speed".into(), Value::from(mhz as f64));

    let total = match mem.total_kib {
        Some(0) | None => 1,
        Some(total) => total,
    };
    let free = mem.available_kib.or(mem.free_kib).unwrap_or(0);
    row.insert(
        "memory_total".into(),
        Value::from(total.saturating_mul(1024)),
    );
    row.insert("memory_free".into(), Value::from(free.saturating_mul(1024)));
    row.insert(
        "memory_used".into(),
        Value::from(total.saturating_sub(free).saturating_mul(1024)),
    );
    Ok(row)
}

/// Parses `/proc/cpuinfo` text.
pub fn parse_cpuinfo(text: &str) -> CpuInfo {
    let values = last_values(text);
    CpuInfo {
        model_name: values.get("model name").map(|name| name.to_string()),
        cores: values
            .get("processor")
            .and_then(|n| leading_number(n))
            .map_or(0, |n| n.saturating_add(1)),
        mhz: values
            .get("cpu MHz")
            .and_then(|n| leading_number(n))
            .map(|n| n.saturating_add(1)),
    }
}

/// Parses `/proc/meminfo` text.
pub fn parse_meminfo(text: &str) -> MemInfo {
    let values = last_values(text);
    let kib = |key: &str| values.get(key).and_then(|v| leading_number(v));
    MemInfo {
        total_kib: kib("MemTotal"),
        available_kib: kib("MemAvailable"),
        free_kib: kib("MemFree"),
    }
}

/// `key: value` lines; keys and values lose surrounding blanks and quotes, and a later
/// occurrence of a key replaces an earlier one.
fn last_values(text: &str) -> HashMap<&str, &str> {
    let blanks = [' ', '\t', '"'];
    text.lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(key, value)| {
            (
                key.trim_matches(|c| blanks.contains(&c)),
                value.trim_matches(|c| blanks.contains(&c)),
            )
        })
        .collect()
}

/// The unsigned integer a value starts with (`2599.998` → 2599, `1922136 kB` →
/// 1922136), after optional blanks and `+`; None when there are no digits or the
/// number does not fit.
fn leading_number(value: &str) -> Option<u64> {
    let value = value.trim_start();
    let value = value.strip_prefix('+').unwrap_or(value);
    let end = value.bytes().take_while(u8::is_ascii_digit).count();
    value[..end].parse().ok()
}

/// The first whitespace-separated word of the board serial; " " when the file cannot be
/// opened (no DMI, or not readable by this user), "" when it is empty.
fn serial_number(p: &LinuxSysInfo) -> String {
    let path = p.path("/sys/class/dmi/id/board_serial");
    let file = match read::open(&path) {
        Ok(file) => file,
        // As an open that succeeds and a read that fails (a directory).
        Err(e) if read::is_not_regular(&e) => {
            p.debug(&format!("cannot read {}: {e}", path.display()));
            return String::new();
        }
        Err(e) => {
            if e.kind() != std::io::ErrorKind::NotFound {
                p.debug(&format!("cannot open {}: {e}", path.display()));
            }
            return UNKNOWN_VALUE.to_string();
        }
    };
    let bytes = match read::bytes_of(file, READ_LIMIT) {
        Ok(bytes) => bytes,
        Err(e) => {
            p.debug(&format!("cannot read {}: {e}", path.display()));
            return String::new();
        }
    };
    String::from_utf8_lossy(&bytes)
        .split(|c: char| c.is_ascii_whitespace() || c == '\x0b')
        .find(|word| !word.is_empty())
        .unwrap_or_default()
        .to_string()
}

/// The highest `cpuinfo_max_freq` (kHz) of the `cpuN` directories, in MHz; 0 when none
/// is readable.
fn max_cpufreq_mhz(p: &LinuxSysInfo) -> u64 {
    let dir = p.path("/sys/devices/system/cpu");
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) => {
            if e.kind() != std::io::ErrorKind::NotFound {
                p.debug(&format!("cannot list {}: {e}", dir.display()));
            }
            return 0;
        }
    };
    let mut max_khz = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let is_cpu = name
            .to_str()
            .and_then(|n| n.strip_prefix("cpu"))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if !is_cpu {
            continue;
        }
        let file = format!(
            "/sys/devices/system/cpu/{}/cpufreq/cpuinfo_max_freq",
            name.to_string_lossy()
        );
        if let Some(khz) =
            read_text(p, &file).and_then(|text| text.lines().next().and_then(leading_number))
        {
            max_khz = max_khz.max(khz);
        }
    }
    max_khz / 1000
}

fn read_text(p: &LinuxSysInfo, file: &str) -> Option<String> {
    p.read_text(file, READ_LIMIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpuinfo_of_this_x86_machine() {
        let cpu = parse_cpuinfo(include_str!("../../tests/fixtures/debian12/proc/cpuinfo"));
        assert_eq!(cpu.model_name.as_deref(), Some("AMD EPYC"));
        assert_eq!(cpu.cores, 2);
        // Last processor's "cpu MHz : 2596.150" → 2596 + 1.
        assert_eq!(cpu.mhz, Some(2597));
    }

    #[test]
    fn cpuinfo_of_an_arm64_board() {
        let cpu = parse_cpuinfo(include_str!("../../tests/fixtures/ubuntu2204/proc/cpuinfo"));
        assert_eq!(cpu.model_name, None);
        assert_eq!(cpu.cores, 8);
        assert_eq!(cpu.mhz, None);
    }

    #[test]
    fn cpuinfo_last_key_wins_and_bad_numbers() {
        let text = "processor\t: 0\nmodel name\t: First\ncpu MHz\t\t: 1000.9\n\n\
                    processor\t: 1\nmodel name\t: \"Second\" \ncpu MHz\t\t: fast\n";
        let cpu = parse_cpuinfo(text);
        assert_eq!(cpu.model_name.as_deref(), Some("Second"));
        assert_eq!(cpu.cores, 2);
        assert_eq!(cpu.mhz, None);
        let cpu = parse_cpuinfo("processor : -1\nprocessor : 99999999999999999999999\n");
        assert_eq!(cpu.cores, 0);
        assert_eq!(parse_cpuinfo(""), CpuInfo::default());
    }

    #[test]
    fn meminfo_of_this_machine_and_an_old_kernel() {
        let mem = parse_meminfo(include_str!("../../tests/fixtures/debian12/proc/meminfo"));
        assert_eq!(mem.total_kib, Some(24684084));
        assert_eq!(mem.free_kib, Some(24455136));
        assert_eq!(mem.available_kib, Some(24408596));
        let mem = parse_meminfo(include_str!(
            "../../tests/fixtures/legacy-centos6/proc/meminfo"
        ));
        assert_eq!(mem.total_kib, Some(1922136));
        assert_eq!(mem.available_kib, None);
        assert_eq!(mem.free_kib, Some(215108));
    }

    #[test]
    fn leading_numbers() {
        assert_eq!(leading_number(" 2599.998"), Some(2599));
        assert_eq!(leading_number("+12 kB"), Some(12));
        assert_eq!(leading_number("kB"), None);
        assert_eq!(leading_number("-3"), None);
        assert_eq!(leading_number(""), None);
    }
}
