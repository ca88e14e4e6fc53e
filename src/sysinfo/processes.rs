//! The `dbsync_processes` rows on Linux: one per process in `<root>/proc`.
//!
//! Processes come and go while the directory is walked, so a process whose files
//! cannot be read or parsed (it exited, it is a half-written fixture) is skipped with a
//! debug line; only an unreadable `proc` directory fails the collection. Each process
//! directory is opened once (a directory handle, so `stat` and `cmdline` come from the
//! same process even if its pid is reused meanwhile) and its two files are read relative
//! to it through [`super::read::open_at`] (never blocking, bounded) and parsed here:
//! `procfs`'s own `Stat` parser may panic on malformed text, and its `cmdline()` drops
//! empty arguments (including an empty `argv[0]`) and rejects non-UTF-8 command lines,
//! where the Wazuh agent keeps them.
//!
//! Row values follow the agent: the pid is a string, `name` is the kernel's `comm`,
//! times are clock ticks, `command_line` is `argv[0]`, `args` the other non-empty
//! arguments joined by spaces, and `start` the start time as ISO 8601 UTC with whole
//! seconds (`btime` of `<root>/proc/stat` plus the start tick over the tick rate).

use std::ffi::CStr;
use std::fs::File;
use std::path::Path;
use std::time::{Duration, SystemTime};

use serde_json::Value;

use super::{read, CollectError, LinuxSysInfo};
use crate::Row;

/// A `cmdline` can reach the argument size limit (a few MiB); nothing real is bigger.
const READ_LIMIT: u64 = 16 << 20;

/// The fields of `/proc/<pid>/stat` the row uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcStat {
    pub pid: i32,
    /// The command name between the parentheses (may itself contain parentheses).
    pub comm: String,
    pub state: char,
    pub ppid: i32,
    /// User-mode time, in clock ticks.
    pub utime: u64,
    /// Kernel-mode time, in clock ticks.
    pub stime: u64,
    /// Start time after boot, in clock ticks.
    pub starttime: u64,
}

/// The command-line columns of a row.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommandLine {
    /// `argv[0]`, or "" when there is no command line (kernel threads, zombies).
    pub command_line: String,
    /// The non-empty arguments after `argv[0]`, joined by single spaces.
    pub args: String,
    /// How many arguments `args` holds.
    pub args_count: u64,
}

/// Calls `each` with the row of every readable process below `<root>/proc`.
pub fn collect(p: &LinuxSysInfo, each: &mut dyn FnMut(Row)) -> Result<(), CollectError> {
    let proc_dir = p.path("/proc");
    let entries =
        std::fs::read_dir(&proc_dir).map_err(|e| CollectError::io(proc_dir.display(), e))?;

    let stat_path = p.path("/proc/stat");
    let btime = match read::text(&stat_path, READ_LIMIT) {
        Ok(text) => parse_btime(&text),
        Err(e) => {
            p.debug(&format!("cannot read {}: {e}", stat_path.display()));
            None
        }
    };
    // The agent counts from the epoch when the boot time is unknown.
    let btime = btime.unwrap_or_else(|| {
        p.debug("no btime in /proc/stat; process start times count from the epoch");
        0
    });
    // SAFETY: sysconf() has no preconditions.
    let ticks = match u64::try_from(unsafe { libc::sysconf(libc::_SC_CLK_TCK) }) {
        Ok(0) | Err(_) => 100,
        Ok(ticks) => ticks,
    };

    // One buffer per file, reused for every process.
    let mut bufs = Buffers::default();
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                p.debug(&format!("skipping a process: {e}"));
                continue;
            }
        };
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<i32>().ok()) else {
            continue;
        };
        let dir = proc_dir.join(&name);
        let handle = match read::open_dir(&dir) {
            Ok(handle) => handle,
            Err(e) => {
                p.debug(&format!("skipping a process: {}: {e}", dir.display()));
                continue;
            }
        };
        match process_row(&handle, &dir, pid, btime, ticks, &mut bufs) {
            Ok(row) => each(row),
            Err(e) => p.debug(&format!("skipping process {pid}: {e}")),
        }
    }
    Ok(())
}

/// The read buffers of [`process_row`], kept across processes.
#[derive(Default)]
struct Buffers {
    stat: Vec<u8>,
    cmdline: Vec<u8>,
}

/// Parses one `/proc/<pid>/stat` line; None when it is not one. Works on the bytes: only
/// the command name is decoded (invalid UTF-8 replaced), as decoding the whole line first
/// would give it.
pub fn parse_stat(text: impl AsRef<[u8]>) -> Option<ProcStat> {
    let text = text.as_ref();
    let open = memchr::memchr(b'(', text)?;
    let close = memchr::memrchr(b')', text)?;
    if close < open {
        return None;
    }
    let pid = std::str::from_utf8(&text[..open])
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let comm = String::from_utf8_lossy(&text[open + 1..close]).into_owned();
    // Fields after the command name, numbered from 0 (= field 3, the state).
    let mut fields = text[close + 1..]
        .split(u8::is_ascii_whitespace)
        .filter(|f| !f.is_empty());
    // Exactly one character (a multi-byte one included).
    let state_field = String::from_utf8_lossy(fields.next()?);
    let mut chars = state_field.chars();
    let state = chars.next()?;
    if chars.next().is_some() {
        return None;
    }
    let ppid = number(fields.next()?)?;
    // Fields 2 to 10 skipped: utime is field 11.
    let utime = number(fields.nth(9)?)?;
    let stime = number(fields.next()?)?;
    let starttime = number(fields.nth(6)?)?;
    Some(ProcStat {
        pid,
        comm,
        state,
        ppid,
        utime,
        stime,
        starttime,
    })
}

fn number<T: std::str::FromStr>(field: &[u8]) -> Option<T> {
    std::str::from_utf8(field).ok()?.parse().ok()
}

/// Splits a raw `/proc/<pid>/cmdline` (NUL-separated, usually NUL-terminated); each part
/// is decoded on its own (invalid UTF-8 replaced), as decoding the whole first would.
pub fn parse_cmdline(raw: impl AsRef<[u8]>) -> CommandLine {
    let raw = raw.as_ref();
    if raw.is_empty() {
        return CommandLine::default();
    }
    let raw = raw.strip_suffix(b"\0").unwrap_or(raw);
    let mut parts = raw.split(|&b| b == 0);
    let command_line = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let mut args = String::new();
    let mut args_count = 0u64;
    for arg in parts.filter(|arg| !arg.is_empty()) {
        if args_count > 0 {
            args.push(' ');
        }
        args.push_str(&String::from_utf8_lossy(arg));
        args_count += 1;
    }
    CommandLine {
        command_line,
        args,
        args_count,
    }
}

/// The boot time (seconds since the epoch) from `/proc/stat` text.
pub fn parse_btime(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|line| line.strip_prefix("btime"))
        .and_then(|rest| rest.trim().parse().ok())
}

/// `secs` since the epoch as `YYYY-MM-DDTHH:MM:SS.000Z`; like the agent, the time is a
/// 32-bit count (here clamped, not wrapped).
fn iso8601(secs: u64) -> String {
    let secs = secs.min(u64::from(u32::MAX));
    let time = SystemTime::UNIX_EPOCH + Duration::from_secs(secs);
    humantime::format_rfc3339_millis(time).to_string()
}

fn process_row(
    dir: &File,
    path: &Path,
    pid: i32,
    btime: u64,
    ticks: u64,
    bufs: &mut Buffers,
) -> Result<Row, String> {
    let read = |name: &CStr, buf: &mut Vec<u8>| -> Result<(), String> {
        let shown = || path.join(name.to_string_lossy().as_ref());
        read::open_at_c(dir, name, shown)
            .and_then(|f| read::bytes_into(f, READ_LIMIT, buf))
            .map_err(|e| format!("{}: {e}", shown().display()))
    };
    read(c"stat", &mut bufs.stat)?;
    let stat = parse_stat(&bufs.stat).ok_or("stat: not a stat line")?;
    read(c"cmdline", &mut bufs.cmdline)?;
    let cmdline = parse_cmdline(&bufs.cmdline);

    let mut row = Row::new();
    row.insert("pid".into(), Value::from(pid.to_string()));
    row.insert("name".into(), Value::from(stat.comm));
    row.insert("state".into(), Value::from(stat.state.to_string()));
    row.insert("parent_pid".into(), Value::from(stat.ppid));
    row.insert("utime".into(), Value::from(stat.utime));
    row.insert("stime".into(), Value::from(stat.stime));
    row.insert("command_line".into(), Value::from(cmdline.command_line));
    row.insert("args".into(), Value::from(cmdline.args));
    row.insert("args_count".into(), Value::from(cmdline.args_count));
    let start = btime.saturating_add(stat.starttime / ticks);
    row.insert("start".into(), Value::from(iso8601(start)));
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_captured_from_this_machine() {
        let stat = parse_stat(include_str!("../../tests/fixtures/debian12/proc/26/stat"));
        assert_eq!(
            stat,
            Some(ProcStat {
                pid: 26,
                comm: "sleep".into(),
                state: 'S',
                ppid: 0,
                utime: 27,
                stime: 0,
                starttime: 43519,
            })
        );
        let kthread = parse_stat(include_str!("../../tests/fixtures/debian12/proc/2/stat"));
        let kthread = kthread.unwrap();
        assert_eq!((kthread.pid, kthread.comm.as_str()), (2, "kthreadd"));
        assert_eq!(kthread.starttime, 24);
        let odd = parse_stat(include_str!("../../tests/fixtures/debian12/proc/12/stat"));
        assert_eq!(odd.unwrap().comm, "a (b) c");
    }

    #[test]
    fn bad_stat_lines() {
        assert_eq!(parse_stat(""), None);
        assert_eq!(parse_stat("("), None);
        assert_eq!(parse_stat(")("), None);
        assert_eq!(parse_stat("1 (init)"), None);
        assert_eq!(parse_stat("1 (init) S 0 1 1 0 -1 4194560"), None);
        assert_eq!(
            parse_stat("x (init) S 0 1 1 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 5"),
            None
        );
        assert_eq!(
            parse_stat("1 (init) SS 0 1 1 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 5"),
            None
        );
        let ok = parse_stat("1 (init) S 0 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 5");
        assert_eq!(ok.map(|s| (s.utime, s.stime, s.starttime)), Some((1, 2, 5)));
    }

    #[test]
    fn command_lines() {
        let sh = parse_cmdline(include_str!(
            "../../tests/fixtures/debian12/proc/10/cmdline"
        ));
        assert_eq!(sh.command_line, "sh");
        assert_eq!(sh.args, "-c sleep 600; : sh last");
        assert_eq!(sh.args_count, 4);
        assert_eq!(parse_cmdline(""), CommandLine::default());
        let unterminated = parse_cmdline("a\0b");
        assert_eq!(
            (unterminated.args.as_str(), unterminated.args_count),
            ("b", 1)
        );
        let empty_argv0 = parse_cmdline("\0x\0\0");
        assert_eq!(empty_argv0.command_line, "");
        assert_eq!(
            (empty_argv0.args.as_str(), empty_argv0.args_count),
            ("x", 1)
        );
        // A rewritten command line without NULs is all argv[0].
        let rewritten = parse_cmdline("nginx: worker process");
        assert_eq!(rewritten.command_line, "nginx: worker process");
        assert_eq!(rewritten.args_count, 0);
    }

    /// The parsers before they worked on bytes: the whole file decoded first.
    fn old_parse_stat(text: &str) -> Option<ProcStat> {
        let open = text.find('(')?;
        let close = text.rfind(')')?;
        if close < open {
            return None;
        }
        let fields: Vec<&str> = text[close + 1..].split_ascii_whitespace().collect();
        let field = |i: usize| fields.get(i).copied();
        let mut state = field(0)?.chars();
        let (Some(first), None) = (state.next(), state.next()) else {
            return None;
        };
        Some(ProcStat {
            pid: text[..open].trim().parse().ok()?,
            comm: text[open + 1..close].to_string(),
            state: first,
            ppid: field(1)?.parse().ok()?,
            utime: field(11)?.parse().ok()?,
            stime: field(12)?.parse().ok()?,
            starttime: field(19)?.parse().ok()?,
        })
    }

    fn old_parse_cmdline(raw: &str) -> CommandLine {
        if raw.is_empty() {
            return CommandLine::default();
        }
        let raw = raw.strip_suffix('\0').unwrap_or(raw);
        let mut parts = raw.split('\0');
        let command_line = parts.next().unwrap_or_default().to_string();
        let args: Vec<&str> = parts.filter(|arg| !arg.is_empty()).collect();
        CommandLine {
            command_line,
            args: args.join(" "),
            args_count: args.len() as u64,
        }
    }

    #[test]
    fn byte_parsers_equal_the_whole_text_parsers() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut samples: Vec<Vec<u8>> = Vec::new();
        for tree in std::fs::read_dir(&dir).unwrap().flatten() {
            for pid in std::fs::read_dir(tree.path().join("proc"))
                .into_iter()
                .flatten()
            {
                let pid = pid.unwrap().path();
                for file in ["stat", "cmdline"] {
                    if let Ok(bytes) = std::fs::read(pid.join(file)) {
                        samples.push(bytes);
                    }
                }
            }
        }
        assert!(samples.len() > 10);
        // Every sample, and copies with one byte replaced by a troublesome one.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut cases = samples.clone();
        for sample in &samples {
            for _ in 0..40 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let mut c = sample.clone();
                if c.is_empty() {
                    continue;
                }
                let at = (seed % c.len() as u64) as usize;
                c[at] = [b'(', b')', b' ', b'\n', 0, 0xff, 0xc3, 0xe2, b'\t', b'9']
                    [(seed >> 40) as usize % 10];
                cases.push(c);
            }
        }
        cases.push("1 (é) é 0 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 5".into());
        cases.push(b"1 (\xff) \xff 0 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 5".to_vec());
        cases.push(b"\xe2\x82\0a\xf0\0\0b\xc3\0".to_vec());
        for case in &cases {
            let text = String::from_utf8_lossy(case);
            assert_eq!(parse_stat(case), old_parse_stat(&text), "{text:?}");
            assert_eq!(parse_cmdline(case), old_parse_cmdline(&text), "{text:?}");
        }
    }

    #[test]
    fn btime_and_start() {
        let text = include_str!("../../tests/fixtures/debian12/proc/stat");
        assert_eq!(parse_btime(text), Some(1795665725));
        assert_eq!(parse_btime("cpu 1 2 3\nbtime x\n"), None);
        assert_eq!(parse_btime(""), None);
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(1795666160), "2026-11-26T04:09:20.000Z");
        assert_eq!(iso8601(u64::MAX), "2106-02-07T06:28:15.000Z");
    }
}
