//! The `dbsync_ports` rows on Linux: every socket of `<root>/proc/net/{tcp,tcp6,udp,udp6}`
//! with the process that holds it.
//!
//! Each socket line gives the transport (the file name), the local and remote address
//! and port, the queues, the state and the inode. The owner is found by reading the
//! `socket:[inode]` links of `<root>/proc/<pid>/fd/`, in ascending pid order, the first
//! process holding a socket being its owner (as the agent, which keeps the first it
//! meets); its name is the command between the parentheses of `<root>/proc/<pid>/stat`.
//! Processes whose fd directory cannot be read (gone, or not ours to read) are skipped
//! quietly. All sockets are returned; [`crate::inventory::select_ports`] keeps the ones
//! the table wants.
//!
//! Values follow the Wazuh agent: addresses as `inet_ntop` writes them, ports and
//! queues as numbers, TCP states by name (`listening`, `established`, ...; "" for a code
//! it does not know), UDP sockets with state "", and `process_pid` 0 and
//! `process_name` " " for a socket no readable process holds (sockets in TIME_WAIT have
//! inode 0 and no owner). Malformed lines are skipped with a debug line; the agent
//! would report some of them with -1 values. Deviation: the agent cuts a process name
//! at its first `)`; here names containing `)` are kept whole.

use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;
use std::path::Path;

use serde_json::Value;

use super::parse::net::{ipv4_from_proc_hex, ipv6_text};
use super::{read, CollectError, LinuxSysInfo};
use crate::Row;

/// What the agent writes when a value is unknown.
const UNKNOWN_VALUE: &str = " ";

/// A socket table of a busy server runs to hundreds of megabytes; stop beyond that.
const PROC_NET_LIMIT: u64 = 512 << 20;

/// A `stat` line is well under a kilobyte; its command name comes first.
const STAT_LIMIT: u64 = 4096;

/// The four socket tables, with the `network_transport` of their sockets.
pub const TABLES: [(Transport, &str); 4] = [
    (Transport::Udp, "/proc/net/udp"),
    (Transport::Udp6, "/proc/net/udp6"),
    (Transport::Tcp, "/proc/net/tcp"),
    (Transport::Tcp6, "/proc/net/tcp6"),
];

/// The transport of a socket table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    Tcp,
    Tcp6,
    Udp,
    Udp6,
}

impl Transport {
    /// `network_transport` of the rows.
    pub fn name(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Tcp6 => "tcp6",
            Transport::Udp => "udp",
            Transport::Udp6 => "udp6",
        }
    }

    fn is_v6(self) -> bool {
        matches!(self, Transport::Tcp6 | Transport::Udp6)
    }

    fn is_tcp(self) -> bool {
        matches!(self, Transport::Tcp | Transport::Tcp6)
    }
}

/// One socket line of a `/proc/net` socket table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Socket {
    pub local_ip: String,
    pub local_port: u16,
    pub remote_ip: String,
    pub remote_port: u16,
    /// The state code (`st`, hex in the file).
    pub state: u8,
    pub tx_queue: u32,
    pub rx_queue: u32,
    pub inode: u64,
}

/// Returns the rows of every socket below the root. Fails only when none of the four
/// socket tables can be read.
pub fn collect(p: &LinuxSysInfo) -> Result<Vec<Row>, CollectError> {
    let mut sockets: Vec<(Transport, Socket)> = Vec::new();
    let mut first_error = None;
    let mut read_any = false;
    for (transport, file) in TABLES {
        let path = p.path(file);
        let mut skipped = 0usize;
        let mut lines = 0usize;
        let result = read::lines(&path, PROC_NET_LIMIT, |line| {
            lines += 1;
            // The first line is the column header.
            if lines == 1 {
                return;
            }
            match parse_socket_line(line, transport.is_v6()) {
                Some(socket) => sockets.push((transport, socket)),
                None => skipped += 1,
            }
        });
        match result {
            Ok(()) => read_any = true,
            Err(e) => {
                if e.kind() != std::io::ErrorKind::NotFound {
                    p.debug(&format!("cannot read {}: {e}", path.display()));
                }
                first_error.get_or_insert(CollectError::io(path.display(), e));
            }
        }
        if skipped > 0 {
            p.debug(&format!(
                "{}: skipped {skipped} malformed socket lines",
                path.display()
            ));
        }
    }
    if !read_any {
        return Err(first_error.unwrap_or_else(|| CollectError::Other("no socket table".into())));
    }

    let wanted: HashSet<u64> = sockets
        .iter()
        .map(|(_, s)| s.inode)
        .filter(|&inode| inode != 0)
        .collect();
    let owners = socket_owners(p, &wanted);

    Ok(sockets
        .into_iter()
        .map(|(transport, socket)| {
            let owner = owners.get(&socket.inode);
            socket_row(transport, &socket, owner)
        })
        .collect())
}

fn socket_row(transport: Transport, socket: &Socket, owner: Option<&(u32, String)>) -> Row {
    let state = if transport.is_tcp() {
        tcp_state_name(socket.state)
    } else {
        ""
    };
    let mut row = Row::new();
    row.insert("network_transport".into(), Value::from(transport.name()));
    row.insert("source_ip".into(), Value::from(socket.local_ip.as_str()));
    row.insert("source_port".into(), Value::from(socket.local_port));
    row.insert(
        "destination_ip".into(),
        Value::from(socket.remote_ip.as_str()),
    );
    row.insert("destination_port".into(), Value::from(socket.remote_port));
    row.insert(
        "host_network_egress_queue".into(),
        Value::from(socket.tx_queue),
    );
    row.insert(
        "host_network_ingress_queue".into(),
        Value::from(socket.rx_queue),
    );
    row.insert("file_inode".into(), Value::from(socket.inode));
    row.insert("interface_state".into(), Value::from(state));
    match owner {
        Some((pid, name)) => {
            row.insert("process_pid".into(), Value::from(*pid));
            row.insert("process_name".into(), Value::from(name.as_str()));
        }
        None => {
            row.insert("process_pid".into(), Value::from(0));
            row.insert("process_name".into(), Value::from(UNKNOWN_VALUE));
        }
    }
    row
}

/// Parses one socket line (not the header) of `/proc/net/{tcp,udp}` (`v6` false) or
/// `/proc/net/{tcp6,udp6}` (`v6` true); None when it is malformed.
pub fn parse_socket_line(line: &str, v6: bool) -> Option<Socket> {
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
    let mut fields = line.split_ascii_whitespace();
    let slot = fields.next()?;
    if !slot.ends_with(':') {
        return None;
    }
    let (local_ip, local_port) = parse_endpoint(fields.next()?, v6)?;
    let (remote_ip, remote_port) = parse_endpoint(fields.next()?, v6)?;
    let state = fields.next()?;
    if state.len() != 2 {
        return None;
    }
    let state = u8::try_from(hex(state)?).ok()?;
    let (tx, rx) = fields.next()?.split_once(':')?;
    let (tx_queue, rx_queue) = (hex(tx)?, hex(rx)?);
    let inode = fields.nth(4)?;
    if !inode.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(Socket {
        local_ip,
        local_port,
        remote_ip,
        remote_port,
        state,
        tx_queue,
        rx_queue,
        inode: inode.parse().ok()?,
    })
}

/// `ADDRESS:PORT` of a socket line, both in hex.
fn parse_endpoint(field: &str, v6: bool) -> Option<(String, u16)> {
    let (addr, port) = field.split_once(':')?;
    if port.len() != 4 {
        return None;
    }
    let port = u16::try_from(hex(port)?).ok()?;
    let ip = if v6 {
        ipv6_from_proc_words(addr)?
    } else {
        ipv4_from_proc_hex(addr)?.to_string()
    };
    Some((ip, port))
}

/// An IPv6 address of a socket table: four 32-bit words in host byte order, each as 8
/// hex digits; written as `inet_ntop` writes it.
pub fn ipv6_from_proc_words(hex: &str) -> Option<String> {
    if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut octets = [0u8; 16];
    for (i, chunk) in octets.chunks_exact_mut(4).enumerate() {
        let word = hex.get(i * 8..i * 8 + 8)?;
        chunk.copy_from_slice(&u32::from_str_radix(word, 16).ok()?.to_ne_bytes());
    }
    Some(ipv6_text(&std::net::Ipv6Addr::from(octets)))
}

/// A hex number of at most 8 digits (no sign, no prefix).
fn hex(text: &str) -> Option<u32> {
    if text.is_empty() || text.len() > 8 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(text, 16).ok()
}

/// The agent's name of a TCP state code; "" for codes it does not name.
pub fn tcp_state_name(code: u8) -> &'static str {
    match code {
        1 => "established",
        2 => "syn_sent",
        3 => "syn_recv",
        4 => "fin_wait1",
        5 => "fin_wait2",
        6 => "time_wait",
        7 => "close",
        8 => "close_wait",
        9 => "last_ack",
        10 => "listening",
        11 => "closing",
        _ => "",
    }
}

/// The inode of a `socket:[inode]` link target; None for any other target.
pub fn socket_link_inode(target: &[u8]) -> Option<u64> {
    let inner = target.strip_prefix(b"socket:[")?.strip_suffix(b"]")?;
    if inner.is_empty() || !inner.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(inner).ok()?.parse().ok()
}

/// The command name of a `/proc/<pid>/stat` line: between the first `(` and the last
/// `)`.
pub fn stat_comm(stat: &str) -> Option<&str> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    stat.get(open + 1..close)
}

/// Maps each socket inode of `wanted` to the first process (by pid) holding it.
fn socket_owners(p: &LinuxSysInfo, wanted: &HashSet<u64>) -> HashMap<u64, (u32, String)> {
    use std::os::unix::ffi::OsStrExt as _;

    let mut owners = HashMap::new();
    if wanted.is_empty() {
        return owners;
    }
    let proc_dir = p.path("/proc");
    let entries = match std::fs::read_dir(&proc_dir) {
        Ok(entries) => entries,
        Err(e) => {
            p.debug(&format!("cannot list {}: {e}", proc_dir.display()));
            return owners;
        }
    };
    let mut pids: Vec<u32> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name();
            let name = name.as_bytes();
            if name.is_empty() || !name.iter().all(u8::is_ascii_digit) {
                return None;
            }
            std::str::from_utf8(name).ok()?.parse().ok()
        })
        .collect();
    pids.sort_unstable();

    for pid in pids {
        if owners.len() == wanted.len() {
            break;
        }
        let pid_dir = proc_dir.join(pid.to_string());
        let Ok(fds) = std::fs::read_dir(pid_dir.join("fd")) else {
            continue;
        };
        let mut name: Option<String> = None;
        for fd in fds.filter_map(Result::ok) {
            if fd.file_name().as_bytes().starts_with(b".") {
                continue;
            }
            let Ok(target) = std::fs::read_link(fd.path()) else {
                continue;
            };
            let Some(inode) = socket_link_inode(target.as_os_str().as_bytes()) else {
                continue;
            };
            if !wanted.contains(&inode) || owners.contains_key(&inode) {
                continue;
            }
            let name = name.get_or_insert_with(|| process_name(p, &pid_dir));
            owners.insert(inode, (pid, name.clone()));
        }
    }
    owners
}

/// The command name of the process of `pid_dir`, " " when its stat cannot be read.
fn process_name(p: &LinuxSysInfo, pid_dir: &Path) -> String {
    let path = pid_dir.join("stat");
    match read::text(&path, STAT_LIMIT) {
        Ok(stat) => stat_comm(&stat).unwrap_or(UNKNOWN_VALUE).to_string(),
        Err(e) => {
            p.debug(&format!("cannot read {}: {e}", path.display()));
            UNKNOWN_VALUE.to_string()
        }
    }
}

/// An IPv4 address as the socket tables of this host write it (for tests and benches).
pub fn ipv4_proc_hex(ip: Ipv4Addr) -> String {
    format!("{:08X}", u32::from_ne_bytes(ip.octets()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_lines_captured_from_this_machine() {
        let line = "   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 \
                    00000000     0        0 1584 1 00000000cde01af3 100 0 0 10 0";
        let socket = parse_socket_line(line, false).unwrap();
        assert_eq!(
            socket,
            Socket {
                local_ip: "0.0.0.0".into(),
                local_port: 2024,
                remote_ip: "0.0.0.0".into(),
                remote_port: 0,
                state: 10,
                tx_queue: 0,
                rx_queue: 0,
                inode: 1584,
            }
        );
        let v6 = "  1: 00000000000000000000000001000000:1F90 \
                  0000000000000000FFFF00000100007F:A2B4 01 00000010:00000020 \
                  00:00000000 00000000     0        0 4242 1 0000000000000000 20 4 0 10 -1";
        let socket = parse_socket_line(v6, true).unwrap();
        if cfg!(target_endian = "little") {
            assert_eq!(socket.local_ip, "::1");
            assert_eq!(socket.remote_ip, "::ffff:127.0.0.1");
        }
        assert_eq!((socket.local_port, socket.remote_port), (8080, 41652));
        assert_eq!((socket.tx_queue, socket.rx_queue), (16, 32));
        assert_eq!(socket.inode, 4242);
    }

    #[test]
    fn bad_socket_lines() {
        let good =
            "0: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 7 1";
        assert!(parse_socket_line(good, false).is_some());
        for bad in [
            "",
            "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt",
            "0: 0100007F:0050 00000000:0000 0A",
            "0: 0100007F 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 7 1",
            "0: 0100007F:00050 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 7 1",
            "0: 0100007G:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 7 1",
            "0: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 -7 1",
            "0: 0100007F:0050 00000000:0000 0A 0000000000000 00:00000000 00000000 0 0 7 1",
            "0: 0100007F:0050 00000000:0000 AAA 00000000:00000000 00:00000000 00000000 0 0 7 1",
            "0 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 7 1",
            "0: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0",
        ] {
            assert_eq!(parse_socket_line(bad, false), None, "{bad}");
        }
        assert_eq!(parse_socket_line(good, true), None);
        // The fields after the inode are not needed.
        let short =
            "0: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 7";
        assert_eq!(parse_socket_line(short, false).map(|s| s.inode), Some(7));
    }

    #[test]
    fn states_links_and_names() {
        assert_eq!(tcp_state_name(10), "listening");
        assert_eq!(tcp_state_name(1), "established");
        assert_eq!(tcp_state_name(0), "");
        assert_eq!(tcp_state_name(12), "");
        assert_eq!(socket_link_inode(b"socket:[1584]"), Some(1584));
        assert_eq!(socket_link_inode(b"socket:[]"), None);
        assert_eq!(socket_link_inode(b"socket:[12a]"), None);
        assert_eq!(socket_link_inode(b"pipe:[1584]"), None);
        assert_eq!(socket_link_inode(b"/dev/null"), None);
        assert_eq!(socket_link_inode(b"socket:[99999999999999999999999]"), None);
        assert_eq!(stat_comm("12 (a (b) c) S 1 2"), Some("a (b) c"));
        assert_eq!(stat_comm("12 (sshd) S"), Some("sshd"));
        assert_eq!(stat_comm("12 )x( S"), None);
        assert_eq!(stat_comm(""), None);
    }

    #[test]
    fn loopback_in_proc_notation() {
        let hex = ipv4_proc_hex(Ipv4Addr::LOCALHOST);
        assert_eq!(ipv4_from_proc_hex(&hex), Some(Ipv4Addr::LOCALHOST));
    }
}
