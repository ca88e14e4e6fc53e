//! Diff engine throughput on 100,000 synthetic package rows: the first load, a rescan
//! with no change, and a rescan with 1% modified, 1% deleted and 1% new rows. The database
//! is a real WAL file on disk, as on an agent.

use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use syscollector::dbsync::{schema, DbSync};
use syscollector::Row;

#[path = "synthetic.rs"]
mod synthetic;

const ROWS: usize = 100_000;

fn open(path: &Path) -> DbSync {
    DbSync::try_open(path).expect("open benchmark database")
}

fn load(db: &mut DbSync, rows: Vec<Row>) -> usize {
    let mut n = 0;
    db.sync_table(&schema::PACKAGES, rows, &mut |_| n += 1)
        .expect("sync");
    n
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let base = dir.path().join("base.db");
    load(&mut open(&base), synthetic::inventory(ROWS));
    let rows = synthetic::inventory(ROWS);
    let churned = synthetic::churned(ROWS);

    let mut g = c.benchmark_group("dbsync_100k_packages");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Elements(ROWS as u64));

    g.bench_function("first_load", |b| {
        b.iter_batched(
            || {
                let p = dir.path().join("first.db");
                for s in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{s}", p.display()));
                }
                (open(&p), rows.clone())
            },
            |(mut db, rows)| assert_eq!(load(&mut db, rows), ROWS),
            BatchSize::PerIteration,
        )
    });

    let mut db = open(&base);
    g.bench_function("rescan_no_change", |b| {
        b.iter_batched(
            || rows.clone(),
            |rows| assert_eq!(load(&mut db, rows), 0),
            BatchSize::PerIteration,
        )
    });
    drop(db);

    g.bench_function("rescan_3pct_churn", |b| {
        b.iter_batched(
            || {
                let p = dir.path().join("churn.db");
                for s in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{s}", p.display()));
                }
                std::fs::copy(&base, &p).expect("copy base");
                (open(&p), churned.clone())
            },
            |(mut db, rows)| assert_eq!(load(&mut db, rows), 3 * ROWS / 100),
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
