//! The `dbsync_processes` rows on Linux: one per process in `<root>/proc`.
//!
//! Processes come and go while the directory is walked, so a process whose files
//! cannot be read or parsed (it exited, it is a half-written fixture) is skipped with a
//! debug line; only an unreadable `proc` directory fails the collection. Each process
//! is opened once through `procfs` (a directory handle, so `stat` and `cmdline` come
//! from the same process even if its pid is reused meanwhile) and its two files are
//! parsed here: `procfs`'s own `Stat` parser may panic on malformed text, and its
//! `cmdline()` drops empty arguments (including an empty `argv[0]`) and rejects
//! non-UTF-8 command lines, where the Wazuh agent keeps them.
//!
//! Row values follow the agent: the pid is a string, `name` is the kernel's `comm`,
//! times are clock ticks, `command_line` is `argv[0]`, `args` the other non-empty
//! arguments joined by spaces, and `start` the start time as ISO 8601 UTC with whole
//! seconds (`btime` of `<root>/proc/stat` plus the start tick over the tick rate).

use std::io::Read;
use std::time::{Duration, SystemTime};

use serde_json::Value;

use super::{CollectError, LinuxSysInfo};
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
    let processes = procfs::process::all_processes_with_root(&proc_dir)
        .map_err(|e| proc_error(&proc_dir, e))?;

    let stat_path = p.path("/proc/stat");
    let btime = match read_file(&stat_path) {
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
    let ticks = match procfs::ticks_per_second() {
        0 => 100,
        ticks => ticks,
    };

    for process in processes {
        let process = match process {
            Ok(process) => process,
            Err(e) => {
                p.debug(&format!("skipping a process: {e}"));
                continue;
            }
        };
        match process_row(&process, btime, ticks) {
            Ok(row) => each(row),
            Err(e) => p.debug(&format!("skipping process {}: {e}", process.pid())),
        }
    }
    Ok(())
}

/// Parses one `/proc/<pid>/stat` line; None when it is not one.
pub fn parse_stat(text: &str) -> Option<ProcStat> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    if close < open {
        return None;
    }
    let pid = text[..open].trim().parse().ok()?;
    let comm = text[open + 1..close].to_string();
    // Fields after the command name, numbered from 0 (= field 3, the state).
    let fields: Vec<&str> = text[close + 1..].split_ascii_whitespace().collect();
    let field = |i: usize| fields.get(i).copied();
    let mut state_chars = field(0)?.chars();
    let state = state_chars.next()?;
    if state_chars.next().is_some() {
        return None;
    }
    Some(ProcStat {
        pid,
        comm,
        state,
        ppid: field(1)?.parse().ok()?,
        utime: field(11)?.parse().ok()?,
        stime: field(12)?.parse().ok()?,
        starttime: field(19)?.parse().ok()?,
    })
}

/// Splits a raw `/proc/<pid>/cmdline` (NUL-separated, usually NUL-terminated).
pub fn parse_cmdline(raw: &str) -> CommandLine {
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

fn process_row(process: &procfs::process::Process, btime: u64, ticks: u64) -> Result<Row, String> {
    let stat_text = process
        .read::<_, RawText>("stat")
        .map_err(|e| format!("stat: {e}"))?;
    let stat = parse_stat(&stat_text.0).ok_or("stat: not a stat line")?;
    let cmdline = process
        .read::<_, RawText>("cmdline")
        .map_err(|e| format!("cmdline: {e}"))?;
    let cmdline = parse_cmdline(&cmdline.0);

    let mut row = Row::new();
    row.insert("pid".into(), Value::from(process.pid().to_string()));
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

/// A whole file as text (invalid UTF-8 replaced), read through `procfs`'s handle.
struct RawText(String);

impl procfs::FromRead for RawText {
    fn from_read<R: Read>(r: R) -> procfs::ProcResult<Self> {
        let mut bytes = Vec::new();
        r.take(READ_LIMIT).read_to_end(&mut bytes)?;
        Ok(RawText(String::from_utf8_lossy(&bytes).into_owned()))
    }
}

fn read_file(path: &std::path::Path) -> std::io::Result<String> {
    super::read_limited(path, READ_LIMIT)
}

fn proc_error(path: &std::path::Path, e: procfs::ProcError) -> CollectError {
    use std::io::ErrorKind;
    let io = match e {
        procfs::ProcError::Io(io, _) => io,
        procfs::ProcError::NotFound(_) => ErrorKind::NotFound.into(),
        procfs::ProcError::PermissionDenied(_) => ErrorKind::PermissionDenied.into(),
        other => return CollectError::Other(format!("{}: {other}", path.display())),
    };
    CollectError::io(path.display(), io)
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
