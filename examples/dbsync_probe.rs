//! Loads, rescans and churns N synthetic package rows in a real database file and prints
//! the time of each step; run under `/usr/bin/time -v` to read the peak memory:
//! `cargo run --release --example dbsync_probe -- 100000 /tmp/probe.db`

use std::time::Instant;

use syscollector::dbsync::{schema, DbSync};

#[path = "../benches/synthetic.rs"]
mod synthetic;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let path = args.next().unwrap_or_else(|| "/tmp/dbsync_probe.db".into());
    for s in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{path}{s}"));
    }
    let mut db = DbSync::open(path.as_ref(), &|l, m| eprintln!("{l:?}: {m}")).expect("open");
    // Rows are made as they are consumed, as a collector streams them, so the peak memory
    // is the engine's and not a pre-built list's. Their cost (JSON + SHA-1) is included.
    type Rows = Box<dyn Iterator<Item = syscollector::Row>>;
    let steps: [(&str, Rows); 3] = [
        (
            "first load",
            Box::new((0..n).map(|i| synthetic::package(i, 0))),
        ),
        (
            "rescan, no change",
            Box::new((0..n).map(|i| synthetic::package(i, 0))),
        ),
        ("rescan, 3% churn", Box::new(synthetic::churned_iter(n))),
    ];
    for (name, rows) in steps {
        let t = Instant::now();
        let mut changes = 0usize;
        let stats = db
            .sync_table(&schema::PACKAGES, rows, &mut |_| changes += 1)
            .expect("sync");
        let s = t.elapsed().as_secs_f64();
        println!(
            "{name:<20} {:>8} rows {:>7} changes {:>8.3} s {:>10.0} rows/s  {stats:?}",
            stats.rows,
            changes,
            s,
            stats.rows as f64 / s
        );
    }
}
