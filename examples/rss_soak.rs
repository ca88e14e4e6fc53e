//! RSS over many scans in one process: scans a generated system tree (a dpkg status file of
//! N packages; every 10th scan it is rewritten with the packages whose number starts with 1
//! at another version, or back) into a database file,
//! SCANS times, and prints the resident set size every 50 scans and its growth from the
//! 100th scan to the last. The upstream module is reported to grow a few hundred KB a scan
//! (wazuh/wazuh#38364, #37656); this shows whether ours does.
//!
//! `cargo run --release --example rss_soak -- [SCANS=1000] [PACKAGES=1000]`

use std::sync::Arc;
use std::time::Instant;

use syscollector::inventory::{Collectors, Config, Inventory, Sink, Stateful};
use syscollector::null_logger;
use syscollector::sysinfo::LinuxSysInfo;

#[path = "../benches/synthetic.rs"]
mod synthetic;

/// Counts and drops the events, as a host that forwards them does.
struct Counting(std::sync::atomic::AtomicUsize);

impl Sink for Counting {
    fn stateless(&self, _event: &str) {}
    fn stateful(&self, _doc: &Stateful, _json: &str) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// The resident set size in KiB (`VmRSS` of /proc/self/status).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let scans: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let packages: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let dir = std::env::temp_dir().join(format!("rss_soak-{}", std::process::id()));
    let root = dir.join("root");
    let status = root.join("var/lib/dpkg/status");
    if let Err(e) = synthetic::dpkg_root(&root, packages) {
        eprintln!("cannot write the fixture: {e}");
        std::process::exit(1);
    }
    let base = synthetic::dpkg_status(packages);
    let cfg = Config {
        collectors: Collectors {
            packages: true,
            ..Collectors::default()
        },
        db_path: Some(dir.join("local.db")),
        ..Config::default()
    };
    let sink = Arc::new(Counting(Default::default()));
    let provider = Box::new(LinuxSysInfo::with_root(&root, null_logger()));
    let inv = match Inventory::new(cfg, provider, sink.clone(), null_logger()) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("cannot open the inventory: {e}");
            std::process::exit(1);
        }
    };
    let start = Instant::now();
    let mut at_100 = 0u64;
    let mut peak = 0u64;
    println!("scan  rss_kib  documents  elapsed_s");
    for scan in 1..=scans {
        if scan % 10 == 0 {
            // The packages whose number starts with 1 get another version, then back.
            let bump = (scan / 10) % 2 == 1;
            let text = if bump {
                base.replace(
                    "-1\nDescription: synthetic package 1",
                    "-2\nDescription: synthetic package 1",
                )
            } else {
                base.clone()
            };
            let _ = std::fs::write(&status, text);
        }
        inv.scan();
        let rss = rss_kib();
        peak = peak.max(rss);
        if scan == 100 {
            at_100 = rss;
        }
        if scan == 1 || scan % 50 == 0 {
            println!(
                "{scan:>4} {rss:>8} {:>10} {:>10.1}",
                sink.0.load(std::sync::atomic::Ordering::Relaxed),
                start.elapsed().as_secs_f64()
            );
        }
    }
    let last = rss_kib();
    if scans >= 100 {
        println!(
            "rss growth from scan 100 to {scans}: {} KiB ({:.2} KiB a scan), peak {peak} KiB",
            last as i64 - at_100 as i64,
            (last as f64 - at_100 as f64) / (scans - 100).max(1) as f64
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
