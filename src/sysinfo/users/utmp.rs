//! `utmp`: the login records glibc keeps in `/run/utmp` (`/var/run/utmp`).
//!
//! The file is an array of glibc's `struct utmp`, 384 bytes each on every 64-bit and
//! 32-bit Linux target glibc supports (times are 32-bit there for compatibility):
//!
//! | offset | field | |
//! | --- | --- | --- |
//! | 0 | `ut_type` | i16, then 2 bytes of padding |
//! | 4 | `ut_pid` | i32 |
//! | 8 | `ut_line` | 32 bytes, the terminal (`pts/0`) |
//! | 40 | `ut_id` | 4 bytes |
//! | 44 | `ut_user` | 32 bytes |
//! | 76 | `ut_host` | 256 bytes |
//! | 332 | `ut_exit` | two i16 |
//! | 336 | `ut_session` | i32 |
//! | 340 | `ut_tv` | i32 seconds, i32 microseconds |
//! | 348 | `ut_addr_v6` | four 32-bit words, network byte order |
//! | 364 | unused | 20 bytes |
//!
//! Integers are in the host's byte order (little-endian on the targets the agent runs
//! on). The file is parsed here rather than through `getutxent`, which only reads the
//! live host's file and shares global state between threads. A short trailing record is
//! ignored, as glibc does.

use std::net::{Ipv4Addr, Ipv6Addr};

/// Size of one record.
pub const RECORD_SIZE: usize = 384;

/// One utmp record, with the fields the users collector uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UtmpRecord {
    pub kind: i16,
    pub pid: i32,
    /// `ut_line`: the terminal, without its trailing NULs.
    pub line: String,
    pub user: String,
    pub host: String,
    /// `ut_tv.tv_sec`: when the record was written, in seconds since the epoch.
    pub time: i32,
    /// `ut_addr_v6`, in network byte order.
    pub addr: [u8; 16],
}

impl UtmpRecord {
    /// The record type as the agent names it (`user`, `login`, `dead`, `boot_time`, …;
    /// `unknown` for types it has no name for, such as run-level records).
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            0 => "empty",
            2 => "boot_time",
            3 => "new_time",
            4 => "old_time",
            5 => "init",
            6 => "login",
            7 => "user",
            8 => "dead",
            _ => "unknown",
        }
    }

    /// The remote address as text, as the agent formats it: IPv4 when the last three
    /// words are zero (so `0.0.0.0` for a local login), IPv6 otherwise.
    pub fn address(&self) -> String {
        let [a, b, c, d, rest @ ..] = self.addr;
        if rest.iter().all(|&x| x == 0) {
            Ipv4Addr::new(a, b, c, d).to_string()
        } else {
            Ipv6Addr::from(self.addr).to_string()
        }
    }
}

/// A NUL-padded character field (not necessarily NUL-terminated when full).
fn text(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(bytes.get(..end).unwrap_or_default()).into_owned()
}

fn array<const N: usize>(record: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(src) = record.get(at..at + N) {
        out.copy_from_slice(src);
    }
    out
}

/// Parses one 384-byte record; `None` when `record` is shorter.
pub fn parse_record(record: &[u8]) -> Option<UtmpRecord> {
    if record.len() < RECORD_SIZE {
        return None;
    }
    Some(UtmpRecord {
        kind: i16::from_ne_bytes(array(record, 0)),
        pid: i32::from_ne_bytes(array(record, 4)),
        line: text(record.get(8..40)?),
        user: text(record.get(44..76)?),
        host: text(record.get(76..332)?),
        time: i32::from_ne_bytes(array(record, 340)),
        addr: array(record, 348),
    })
}

/// Every whole record of a utmp file.
pub fn parse_utmp(bytes: &[u8]) -> Vec<UtmpRecord> {
    bytes
        .chunks_exact(RECORD_SIZE)
        .filter_map(parse_record)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(kind: i16, pid: i32, line: &str, user: &str, time: i32, addr: [u8; 16]) -> Vec<u8> {
        let mut r = vec![0u8; RECORD_SIZE];
        r[0..2].copy_from_slice(&kind.to_ne_bytes());
        r[4..8].copy_from_slice(&pid.to_ne_bytes());
        r[8..8 + line.len()].copy_from_slice(line.as_bytes());
        r[44..44 + user.len()].copy_from_slice(user.as_bytes());
        r[340..344].copy_from_slice(&time.to_ne_bytes());
        r[348..364].copy_from_slice(&addr);
        r
    }

    #[test]
    fn records_and_short_tail() {
        let mut bytes = record(7, 4242, "pts/0", "alice", 1_700_000_000, [0; 16]);
        let mut v6 = [0u8; 16];
        v6[0] = 0x20;
        v6[1] = 0x01;
        v6[2] = 0x0d;
        v6[3] = 0xb8;
        v6[15] = 1;
        bytes.extend(record(8, 17, "pts/1", "bob", 5, v6));
        bytes.extend([1u8; 100]);
        let records = parse_utmp(&bytes);
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].user, "alice");
        assert_eq!(records[0].line, "pts/0");
        assert_eq!(records[0].pid, 4242);
        assert_eq!(records[0].time, 1_700_000_000);
        assert_eq!(records[0].type_name(), "user");
        assert_eq!(records[0].address(), "0.0.0.0");
        assert_eq!(records[1].type_name(), "dead");
        assert_eq!(records[1].address(), "2001:db8::1");
    }

    #[test]
    fn full_width_fields_and_unknown_types() {
        let long = "u".repeat(32);
        let r = record(
            1,
            0,
            &"l".repeat(32),
            &long,
            0,
            [10, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        );
        let rec = parse_record(&r).unwrap();
        assert_eq!(rec.user, long);
        assert_eq!(rec.line.len(), 32);
        assert_eq!(rec.type_name(), "unknown");
        assert_eq!(rec.address(), "10.0.0.5");
        assert!(parse_record(&r[..383]).is_none());
    }
}
