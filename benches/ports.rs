//! How long the ports collector takes on a busy host, and that its cost grows linearly
//! with the number of sockets: a `/proc` tree generated in a temporary directory with
//! 1,000, 5,000 and 10,000 sockets (tcp, tcp6, udp, udp6) held by 25, 125 and 250
//! processes (40 sockets and a few other descriptors each), read through the whole
//! collector (socket tables, then every `fd` link of every process).
//!
//! Run with `cargo bench --bench ports`; the time per socket (criterion's throughput)
//! stays the same across the three sizes when the cost is linear.

use std::fmt::Write as _;
use std::path::Path;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use syscollector::null_logger;
use syscollector::sysinfo::{LinuxSysInfo, SysInfo};

const SOCKETS_PER_PROCESS: usize = 40;
const FIRST_PID: usize = 1000;
const FIRST_INODE: usize = 500_000;

fn table_header(v6: bool) -> &'static str {
    if v6 {
        "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    } else {
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    }
}

/// Writes a `/proc` with `sockets` sockets below `root`.
fn build(root: &Path, sockets: usize) {
    let net = root.join("proc/net");
    std::fs::create_dir_all(&net).unwrap();
    let mut tables = [
        ("tcp", false, String::from(table_header(false))),
        ("tcp6", true, String::from(table_header(true))),
        ("udp", false, String::from(table_header(false))),
        ("udp6", true, String::from(table_header(true))),
    ];
    for i in 0..sockets {
        let (_, v6, text) = &mut tables[i % 4];
        let inode = FIRST_INODE + i;
        let port = 1024 + i % 60000;
        let state = if i % 8 == 0 { 0x0A } else { 0x01 };
        let (local, remote) = if *v6 {
            (
                format!("0000000000000000FFFF0000{:08X}", 0x0100_007F_u32),
                "00000000000000000000000001000000".to_string(),
            )
        } else {
            (
                format!("{:08X}", 0x0100_007F_u32),
                format!("{:08X}", 0x0200_007F_u32),
            )
        };
        writeln!(
            text,
            "{:4}: {local}:{port:04X} {remote}:{:04X} {state:02X} 00000000:00000000 00:00000000 00000000  1000        0 {inode} 1 0000000000000000 20 4 30 10 -1",
            i / 4,
            (i * 7) % 65536,
        )
        .unwrap();
    }
    for (name, _, text) in &tables {
        std::fs::write(net.join(name), text).unwrap();
    }

    let processes = sockets.div_ceil(SOCKETS_PER_PROCESS);
    for p in 0..processes {
        let pid = FIRST_PID + p;
        let dir = root.join(format!("proc/{pid}"));
        let fd = dir.join("fd");
        std::fs::create_dir_all(&fd).unwrap();
        std::fs::write(
            dir.join("stat"),
            format!("{pid} (server-{p}) S 1 {pid} {pid} 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 100 0 0\n"),
        )
        .unwrap();
        for (n, target) in ["/dev/null", "pipe:[42]", "anon_inode:[eventfd]"]
            .iter()
            .enumerate()
        {
            std::os::unix::fs::symlink(target, fd.join(n.to_string())).unwrap();
        }
        let first = p * SOCKETS_PER_PROCESS;
        for (n, i) in (first..sockets.min(first + SOCKETS_PER_PROCESS)).enumerate() {
            let target = format!("socket:[{}]", FIRST_INODE + i);
            std::os::unix::fs::symlink(target, fd.join((n + 3).to_string())).unwrap();
        }
    }
}

fn ports(c: &mut Criterion) {
    let mut group = c.benchmark_group("ports");
    group.sample_size(20);
    for sockets in [1_000usize, 5_000, 10_000] {
        let dir = tempfile::tempdir().unwrap();
        build(dir.path(), sockets);
        let provider = LinuxSysInfo::with_root(dir.path(), null_logger());
        let rows = provider.ports().unwrap();
        assert_eq!(rows.len(), sockets);
        assert!(rows.iter().all(|r| r["process_pid"].as_u64() != Some(0)));
        group.throughput(Throughput::Elements(sockets as u64));
        group.bench_with_input(
            BenchmarkId::from_parameter(sockets),
            &provider,
            |b, provider| b.iter(|| provider.ports().unwrap().len()),
        );
    }
    group.finish();
}

criterion_group!(benches, ports);
criterion_main!(benches);
