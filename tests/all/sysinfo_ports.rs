//! The ports collector (`dbsync_ports`) on a `/proc` tree captured from a network
//! namespace with sockets of every kind (with the `ss -atunp` output taken at the same
//! moment), on broken socket tables and process directories, and live: against `ss`,
//! and with listening sockets this test opens.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{TcpListener, UdpSocket};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::Command;

use crate::helpers::{capture_logger, fixture};
use serde_json::{json, Value};
use syscollector::inventory::select_ports;
use syscollector::sysinfo::ports::{ipv4_proc_hex, socket_link_inode};
use syscollector::sysinfo::{CollectError, LinuxSysInfo, SysInfo};
use syscollector::{null_logger, Row};

fn collect_root(root: &Path) -> Vec<Row> {
    LinuxSysInfo::with_root(root, null_logger())
        .ports()
        .unwrap()
}

/// Copies a fixture tree (keeping symbolic links as links) into a temporary root.
fn copy_fixture(name: &str) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    copy_tree(&fixture(name), root.path());
    root
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        let kind = entry.file_type().unwrap();
        if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path()).unwrap(), target).unwrap();
        } else if kind.is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn write(root: &Path, file: &str, content: impl AsRef<[u8]>) {
    let path = root.join(file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

fn row(value: Value) -> Row {
    value.as_object().unwrap().clone()
}

/// A port row from its columns, in the schema's order.
fn port(
    transport: &str,
    source: (&str, u16),
    destination: (&str, u16),
    queues: (u32, u32),
    inode: u64,
    state: &str,
    (pid, name): (u32, &str),
) -> Row {
    row(json!({
        "network_transport": transport,
        "source_ip": source.0,
        "source_port": source.1,
        "destination_ip": destination.0,
        "destination_port": destination.1,
        "host_network_egress_queue": queues.0,
        "host_network_ingress_queue": queues.1,
        "file_inode": inode,
        "interface_state": state,
        "process_pid": pid,
        "process_name": name,
    }))
}

fn sorted(mut rows: Vec<Row>) -> Vec<Row> {
    rows.sort_by_key(|r| serde_json::to_string(r).unwrap());
    rows
}

#[test]
fn captured_namespace_tree() {
    let rows = collect_root(&fixture("ports-netns"));
    let web = "web) srv";
    let expected = vec![
        port(
            "udp",
            ("127.0.0.1", 50414),
            ("127.0.0.1", 5353),
            (0, 0),
            77968,
            "",
            (24079, "client"),
        ),
        port(
            "udp",
            ("0.0.0.0", 5353),
            ("0.0.0.0", 0),
            (0, 0),
            77854,
            "",
            (24063, "dns"),
        ),
        port(
            "udp6",
            ("::1", 5300),
            ("::", 0),
            (0, 0),
            77855,
            "",
            (24063, "dns"),
        ),
        // Shared with the forked child 24068: the lower pid is the owner.
        port(
            "tcp",
            ("127.0.0.1", 8080),
            ("0.0.0.0", 0),
            (0, 0),
            77852,
            "listening",
            (24062, web),
        ),
        port(
            "tcp",
            ("127.0.0.1", 8080),
            ("127.0.0.1", 38622),
            (0, 0),
            77856,
            "established",
            (24062, web),
        ),
        port(
            "tcp",
            ("127.0.0.1", 8080),
            ("127.0.0.1", 38628),
            (0, 1),
            77969,
            "close_wait",
            (24062, web),
        ),
        port(
            "tcp",
            ("127.0.0.1", 38622),
            ("127.0.0.1", 8080),
            (0, 0),
            77965,
            "established",
            (24079, "client"),
        ),
        // Orphaned by its process: inode 0, no owner.
        port(
            "tcp",
            ("127.0.0.1", 38628),
            ("127.0.0.1", 8080),
            (0, 0),
            0,
            "fin_wait2",
            (0, " "),
        ),
        port(
            "tcp6",
            ("::", 8443),
            ("::", 0),
            (0, 1),
            77853,
            "listening",
            (24062, web),
        ),
        // Not accepted yet: inode 0.
        port(
            "tcp6",
            ("::ffff:127.0.0.1", 8443),
            ("::ffff:127.0.0.1", 33996),
            (0, 0),
            0,
            "established",
            (0, " "),
        ),
        port(
            "tcp6",
            ("::ffff:127.0.0.1", 33996),
            ("::ffff:127.0.0.1", 8443),
            (0, 0),
            77966,
            "established",
            (24079, "client"),
        ),
    ];
    assert_eq!(sorted(rows.clone()), sorted(expected));

    let listening = select_ports(rows.clone(), false);
    let summary: BTreeSet<(String, u64)> = listening
        .iter()
        .map(|r| {
            (
                r["network_transport"].as_str().unwrap().to_string(),
                r["source_port"].as_u64().unwrap(),
            )
        })
        .collect();
    let expected: BTreeSet<(String, u64)> = [
        ("tcp", 8080),
        ("tcp6", 8443),
        ("udp", 5353),
        ("udp", 50414),
        ("udp6", 5300),
    ]
    .into_iter()
    .map(|(t, p)| (t.to_string(), p))
    .collect();
    assert_eq!(summary, expected);
    assert_eq!(select_ports(rows, true).len(), 11);
}

/// One socket of `ss` output: `(tcp|udp, local address, local port)`, wildcards as "*".
type SocketKey = (String, String, u16);

/// What `ss -H` prints for one socket.
#[derive(Debug, Clone)]
struct SsLine {
    key: SocketKey,
    state: String,
    pids: BTreeSet<u32>,
}

fn normalize_ip(ip: &str) -> String {
    match ip {
        "0.0.0.0" | "::" | "*" => "*".into(),
        other => other.to_string(),
    }
}

/// `(tcp|udp, address, port)` of a row, as `ss` names it.
fn row_key(r: &Row) -> SocketKey {
    let transport = r["network_transport"].as_str().unwrap();
    (
        transport.trim_end_matches('6').to_string(),
        normalize_ip(r["source_ip"].as_str().unwrap()),
        r["source_port"].as_u64().unwrap() as u16,
    )
}

/// Parses `ss -H` lines with a Netid column (`tcp`/`udp`) and optional users.
fn parse_ss(text: &str) -> Vec<SsLine> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let (addr, port) = f[4].rsplit_once(':').unwrap();
            let addr = addr.split('%').next().unwrap();
            let addr = addr.trim_start_matches('[').trim_end_matches(']');
            let pids = line
                .split("pid=")
                .skip(1)
                .map(|rest| {
                    rest.split(|c: char| !c.is_ascii_digit())
                        .next()
                        .unwrap()
                        .parse()
                        .unwrap()
                })
                .collect();
            SsLine {
                key: (f[0].to_string(), normalize_ip(addr), port.parse().unwrap()),
                state: f[1].to_string(),
                pids,
            }
        })
        .collect()
}

#[test]
fn captured_tree_agrees_with_ss() {
    let root = fixture("ports-netns");
    let rows = collect_root(&root);
    let ss = parse_ss(&std::fs::read_to_string(root.join("ss-atunp.txt")).unwrap());
    let ours: BTreeSet<SocketKey> = rows.iter().map(row_key).collect();
    let theirs: BTreeSet<SocketKey> = ss.iter().map(|l| l.key.clone()).collect();
    assert_eq!(ours, theirs);
    // Every socket ss attributes to processes is ours attributed to one of them.
    for line in ss.iter().filter(|l| !l.pids.is_empty()) {
        let owners: BTreeSet<u32> = rows
            .iter()
            .filter(|r| row_key(r) == line.key)
            .map(|r| r["process_pid"].as_u64().unwrap() as u32)
            .collect();
        assert!(!owners.is_disjoint(&line.pids), "{line:?} {owners:?}");
    }
}

#[test]
fn broken_socket_tables_are_skipped() {
    let root = copy_fixture("ports-netns");
    let r = root.path();
    let tcp = std::fs::read_to_string(r.join("proc/net/tcp")).unwrap();
    let mut lines: Vec<String> = tcp.lines().map(str::to_string).collect();
    // Truncated, garbage and binary lines among the real ones.
    lines.insert(2, "   9: 0100007F:1F90 00000000:00".into());
    lines.insert(
        3,
        "  10: zzzzzzzz:1F90 00000000:0000 0A 00000000:00000000".into(),
    );
    lines.insert(
        4,
        String::from_utf8_lossy(&[0xff, 0xfe, 0, 1, 2, b':', 9]).into_owned(),
    );
    let mut text = lines.join("\n").into_bytes();
    // A last line cut in the middle, without newline.
    text.extend_from_slice(b"\n   7: 0100007F:1F90 0100");
    write(r, "proc/net/tcp", text);
    // No IPv6 tables (kernels without IPv6).
    std::fs::remove_file(r.join("proc/net/tcp6")).unwrap();
    std::fs::remove_file(r.join("proc/net/udp6")).unwrap();
    // A garbage udp table: header only, then noise.
    let udp = std::fs::read_to_string(r.join("proc/net/udp")).unwrap();
    let header = udp.lines().next().unwrap();
    write(r, "proc/net/udp", format!("{header}\n\0\0\0\n:::\n"));

    let (log, logged) = capture_logger();
    let rows = LinuxSysInfo::with_root(r, log).ports().unwrap();
    let transports: BTreeMap<String, usize> = rows.iter().fold(BTreeMap::new(), |mut m, r| {
        *m.entry(r["network_transport"].as_str().unwrap().to_string())
            .or_default() += 1;
        m
    });
    assert_eq!(transports, BTreeMap::from([("tcp".to_string(), 5)]));
    let logged = logged.lock().unwrap();
    assert!(
        logged.iter().any(|l| l.contains("skipped 4 malformed")),
        "{logged:?}"
    );
    assert!(
        logged.iter().any(|l| l.contains("skipped 2 malformed")),
        "{logged:?}"
    );
}

#[test]
fn broken_process_directories() {
    let root = copy_fixture("ports-netns");
    let r = root.path();
    // 24062 (owner of the listeners) loses its fd directory: its child 24068 becomes
    // the owner of the shared listeners; its other sockets have no owner.
    std::fs::remove_dir_all(r.join("proc/24062/fd")).unwrap();
    // The client's fd directory is a file; dns has no stat.
    std::fs::remove_dir_all(r.join("proc/24079/fd")).unwrap();
    write(r, "proc/24079/fd", "not a directory");
    std::fs::remove_file(r.join("proc/24063/stat")).unwrap();
    // Entries that are not processes, fds that are not links, links that are not
    // sockets, a hidden fd entry.
    write(r, "proc/self/fd/3", "");
    write(r, "proc/net/stat/x", "");
    write(r, "proc/24068/fd/99", "a regular file");
    std::os::unix::fs::symlink("socket:[77968", r.join("proc/24068/fd/98")).unwrap();
    std::os::unix::fs::symlink("socket:[77968]", r.join("proc/24068/fd/.97")).unwrap();
    std::os::unix::fs::symlink("anon_inode:[eventfd]", r.join("proc/24068/fd/96")).unwrap();

    let rows = collect_root(r);
    assert_eq!(rows.len(), 11);
    let owner = |inode: u64| -> (u64, String) {
        let r = rows.iter().find(|r| r["file_inode"] == inode).unwrap();
        (
            r["process_pid"].as_u64().unwrap(),
            r["process_name"].as_str().unwrap().to_string(),
        )
    };
    assert_eq!(owner(77852), (24068, "web) srv".into()));
    assert_eq!(owner(77853), (24068, "web) srv".into()));
    assert_eq!(owner(77856), (0, " ".into()));
    assert_eq!(owner(77968), (0, " ".into()));
    assert_eq!(owner(77854), (24063, " ".into()));
}

#[test]
fn missing_socket_tables() {
    let empty = tempfile::tempdir().unwrap();
    let result = LinuxSysInfo::with_root(empty.path(), null_logger()).ports();
    assert!(matches!(result, Err(CollectError::Io { .. })), "{result:?}");
    // Tables without sockets and no /proc/<pid> at all.
    let root = tempfile::tempdir().unwrap();
    write(
        root.path(),
        "proc/net/tcp",
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n",
    );
    assert!(collect_root(root.path()).is_empty());
    // A socket nobody holds.
    let line = format!(
        "   0: {}:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0 100 0 0 10 0\n",
        ipv4_proc_hex(std::net::Ipv4Addr::LOCALHOST)
    );
    write(
        root.path(),
        "proc/net/tcp",
        format!("  sl  local_address rem_address\n{line}"),
    );
    let rows = collect_root(root.path());
    assert_eq!(
        rows,
        [port(
            "tcp",
            ("127.0.0.1", 22),
            ("0.0.0.0", 0),
            (0, 0),
            4242,
            "listening",
            (0, " ")
        )]
    );
}

// ---- live ----

fn ss(args: &str) -> Vec<SsLine> {
    let out = Command::new("ss")
        .args(args.split(' '))
        .output()
        .expect("iproute2's ss");
    assert!(out.status.success(), "ss {args}");
    parse_ss(&String::from_utf8(out.stdout).unwrap())
}

fn keys(lines: &[SsLine], keep: impl Fn(&SsLine) -> bool) -> BTreeSet<SocketKey> {
    lines
        .iter()
        .filter(|l| keep(l))
        .map(|l| l.key.clone())
        .collect()
}

/// Sockets of a snapshot taken between two `ss` snapshots: every socket in both is
/// ours, and ours are all in one of them; Err tells what differed.
fn agrees(
    ours: &BTreeSet<SocketKey>,
    before: &BTreeSet<SocketKey>,
    after: &BTreeSet<SocketKey>,
) -> Result<(), String> {
    let stable: BTreeSet<_> = before.intersection(after).cloned().collect();
    let seen: BTreeSet<_> = before.union(after).cloned().collect();
    let missing: Vec<_> = stable.difference(ours).collect();
    let extra: Vec<_> = ours.difference(&seen).collect();
    if missing.is_empty() && extra.is_empty() {
        Ok(())
    } else {
        Err(format!("missing {missing:?} extra {extra:?}"))
    }
}

/// ss's listening view (`-ltnu`) and its owners (`-ltnup`) against ours, for the
/// sockets that were already there in `stable`.
fn ss_views_agree(
    rows: &[Row],
    selected: &BTreeSet<SocketKey>,
    stable: &BTreeSet<SocketKey>,
) -> Result<(), String> {
    for line in ss("-H -ltnu") {
        if stable.contains(&line.key) && !selected.contains(&line.key) {
            return Err(format!("ss -ltnu has {line:?}, ours not"));
        }
    }
    let mut owners_by_ss: BTreeMap<SocketKey, BTreeSet<u32>> = BTreeMap::new();
    for line in ss("-H -ltnup") {
        owners_by_ss.entry(line.key).or_default().extend(line.pids);
    }
    for (key, pids) in owners_by_ss {
        if pids.is_empty() || !stable.contains(&key) {
            continue;
        }
        let ours: BTreeSet<u32> = rows
            .iter()
            .filter(|r| row_key(r) == key)
            .map(|r| r["process_pid"].as_u64().unwrap() as u32)
            .collect();
        if ours.is_disjoint(&pids) {
            return Err(format!("{key:?}: ss owners {pids:?}, ours {ours:?}"));
        }
    }
    Ok(())
}

fn socket_inode(fd: &impl AsRawFd) -> u64 {
    let link = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).unwrap();
    socket_link_inode(link.as_os_str().as_bytes()).unwrap()
}

#[test]
fn this_machine_agrees_with_ss_and_finds_our_sockets() {
    let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let tcp6 = TcpListener::bind("[::1]:0").unwrap();
    let me = std::process::id();
    let comm = std::fs::read_to_string("/proc/self/comm").unwrap();
    let comm = comm.trim_end_matches('\n');

    let provider = LinuxSysInfo::default();
    let mut last_error = String::new();
    for _attempt in 0..5 {
        let before = ss("-H -atnu");
        let rows = provider.ports().unwrap();
        let after = ss("-H -atnu");

        // Our own sockets, with this process as owner.
        let find = |transport: &str, port: u16| -> Row {
            rows.iter()
                .find(|r| r["network_transport"] == transport && r["source_port"] == port)
                .unwrap_or_else(|| panic!("{transport} {port} not found"))
                .clone()
        };
        let listener = find("tcp", tcp.local_addr().unwrap().port());
        assert_eq!(listener["source_ip"], "127.0.0.1");
        assert_eq!(listener["interface_state"], "listening");
        assert_eq!(listener["destination_ip"], "0.0.0.0");
        assert_eq!(listener["destination_port"], 0);
        assert_eq!(listener["file_inode"], socket_inode(&tcp));
        assert_eq!(listener["process_pid"], me);
        assert_eq!(listener["process_name"], comm);
        let datagram = find("udp", udp.local_addr().unwrap().port());
        assert_eq!(datagram["source_ip"], "127.0.0.1");
        assert_eq!(datagram["interface_state"], "");
        assert_eq!(datagram["file_inode"], socket_inode(&udp));
        assert_eq!(datagram["process_pid"], me);
        assert_eq!(datagram["process_name"], comm);
        let listener6 = find("tcp6", tcp6.local_addr().unwrap().port());
        assert_eq!(listener6["source_ip"], "::1");
        assert_eq!(listener6["interface_state"], "listening");
        assert_eq!(listener6["process_pid"], me);
        for r in &rows {
            assert_eq!(r.len(), 11, "{r:?}");
        }

        // The table's selection against ss: listening TCP and all UDP, then all.
        let listening = |l: &SsLine| l.key.0 == "udp" || l.state == "LISTEN";
        let selected: BTreeSet<_> = select_ports(rows.clone(), false)
            .iter()
            .map(row_key)
            .collect();
        let all: BTreeSet<_> = select_ports(rows.clone(), true)
            .iter()
            .map(row_key)
            .collect();
        let result = agrees(
            &selected,
            &keys(&before, listening),
            &keys(&after, listening),
        )
        .and_then(|()| agrees(&all, &keys(&before, |_| true), &keys(&after, |_| true)))
        .and_then(|()| ss_views_agree(&rows, &selected, &keys(&before, |_| true)));
        match result {
            Ok(()) => {
                let own = (
                    "tcp".to_string(),
                    "127.0.0.1".to_string(),
                    tcp.local_addr().unwrap().port(),
                );
                assert!(ss("-H -ltnup")
                    .iter()
                    .any(|l| l.key == own && l.pids.contains(&me)));
                return;
            }
            Err(e) => last_error = e,
        }
    }
    panic!("ours and ss never agreed: {last_error}");
}
