//! Package collector throughput: the dpkg parser and collector on a synthetic status file
//! of 50,000 packages (the stanzas of the Debian fixture, renamed), the rpm collector on
//! the fixture rpmdb.sqlite grown to 3,000 headers, each as a first scan and as a rescan
//! of unchanged databases through the `PackageCache`; and the whole packages scan
//! (collector, diff engine, database file) of a tree of 100,000 dpkg packages, first scan
//! into a new database, unchanged rescan (the table skipped: no source changed) and rescan
//! after the status file was touched (every row read and compared). Throughput is in
//! packages.

use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::sync::Arc;

use criterion::BatchSize;
use syscollector::inventory::{Collectors, Config, Inventory, Sink, Stateful};
use syscollector::null_logger;
use syscollector::sysinfo::packages::{self, dpkg, PackageCache};
use syscollector::sysinfo::LinuxSysInfo;

#[path = "synthetic.rs"]
mod synthetic;

const DPKG_PACKAGES: usize = 50_000;
const BIG: usize = 100_000;

/// Drops the events.
struct Discard;

impl Sink for Discard {
    fn stateless(&self, _event: &str) {}
    fn stateful(&self, _doc: &Stateful, _json: &str) {}
}

/// The packages-only module on the tree at `root`, with its database at `db`.
fn inventory(root: &Path, db: &Path) -> Inventory {
    for s in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{s}", db.display()));
    }
    let cfg = Config {
        collectors: Collectors {
            packages: true,
            ..Collectors::default()
        },
        db_path: Some(db.to_path_buf()),
        ..Config::default()
    };
    let provider = Box::new(LinuxSysInfo::with_root(root, null_logger()));
    Inventory::new(cfg, provider, Arc::new(Discard), null_logger()).unwrap()
}

fn scanned(inv: &Inventory) -> usize {
    let report = inv.scan();
    report.tables.iter().map(|t| t.stats.rows).sum()
}
const RPM_HEADERS: usize = 3_000;

fn fixture(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path)
}

/// A status file of `n` installed packages made of the fixture's real stanzas.
fn synthetic_status(n: usize) -> Vec<u8> {
    let real = std::fs::read_to_string(fixture("pkg-debian/var/lib/dpkg/status")).unwrap();
    let stanzas: Vec<&str> = real
        .split("\n\n")
        .filter(|s| s.contains("ok installed"))
        .collect();
    let mut out = String::with_capacity(n * 900);
    for i in 0..n {
        let s = stanzas[i % stanzas.len()];
        let renamed = s.replacen('\n', &format!("-{i}\n"), 1);
        out.push_str(&renamed);
        out.push_str("\n\n");
    }
    out.into_bytes()
}

fn count(p: &LinuxSysInfo, cache: Option<&PackageCache>) -> usize {
    let mut n = 0;
    match cache {
        Some(c) => packages::collect_cached(p, c, &mut |_| n += 1),
        None => packages::collect(p, &mut |_| n += 1),
    }
    .unwrap();
    n
}

fn bench(c: &mut Criterion) {
    // dpkg
    let status = synthetic_status(DPKG_PACKAGES);
    let dir = tempfile::tempdir().unwrap();
    let admin = dir.path().join("var/lib/dpkg");
    std::fs::create_dir_all(&admin).unwrap();
    std::fs::write(admin.join("status"), &status).unwrap();
    // rpm
    let rpm_dir = tempfile::tempdir().unwrap();
    let rpm_db = rpm_dir.path().join("var/lib/rpm");
    std::fs::create_dir_all(&rpm_db).unwrap();
    std::fs::copy(
        fixture("pkg-rpm-sqlite/var/lib/rpm/rpmdb.sqlite"),
        rpm_db.join("rpmdb.sqlite"),
    )
    .unwrap();
    {
        let conn = rusqlite::Connection::open(rpm_db.join("rpmdb.sqlite")).unwrap();
        let have: usize = conn
            .query_row("SELECT count(*) FROM Packages", [], |r| r.get(0))
            .unwrap();
        for _ in have..RPM_HEADERS {
            conn.execute(
                "INSERT INTO Packages(blob) SELECT blob FROM Packages WHERE hnum = 1",
                [],
            )
            .unwrap();
        }
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
            .unwrap();
    }
    // Files changed in the last 2 s are not cached.
    std::thread::sleep(Duration::from_millis(2100));

    let mut g = c.benchmark_group("dpkg_50k");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(10));
    g.throughput(Throughput::Elements(DPKG_PACKAGES as u64));
    g.bench_function("parse_status", |b| {
        b.iter(|| {
            let mut n = 0usize;
            dpkg::parse_status(&status, &mut |_| n += 1, &mut |_| {});
            assert_eq!(n, DPKG_PACKAGES);
        })
    });
    let p = LinuxSysInfo::with_root(dir.path(), null_logger());
    g.bench_function("first_scan", |b| {
        b.iter(|| assert_eq!(count(&p, None), DPKG_PACKAGES))
    });
    let cache = PackageCache::new();
    count(&p, Some(&cache));
    g.bench_function("unchanged_rescan", |b| {
        b.iter(|| assert_eq!(count(&p, Some(&cache)), DPKG_PACKAGES))
    });
    g.finish();

    let mut g = c.benchmark_group("rpm_sqlite_3k");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(10));
    // One of the fixture's headers (hnum 1, hello-wazuh) replicated; the gpg-pubkey
    // header is read but makes no row.
    let p = LinuxSysInfo::with_root(rpm_dir.path(), null_logger());
    let rows = count(&p, None);
    g.throughput(Throughput::Elements(rows as u64));
    g.bench_function("first_scan", |b| {
        b.iter(|| assert_eq!(count(&p, None), rows))
    });
    let cache = PackageCache::new();
    count(&p, Some(&cache));
    g.bench_function("unchanged_rescan", |b| {
        b.iter(|| assert_eq!(count(&p, Some(&cache)), rows))
    });
    g.finish();
}

fn bench_big(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    synthetic::dpkg_root(&root, BIG).unwrap();
    // Files changed in the last 2 s are not cached.
    std::thread::sleep(Duration::from_millis(2100));
    let db = dir.path().join("local.db");
    let mut g = c.benchmark_group("dpkg_100k_scan");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(30));
    g.throughput(Throughput::Elements(BIG as u64));
    g.bench_function("first_scan_with_db", |b| {
        b.iter_batched(
            || inventory(&root, &db),
            |inv| assert_eq!(scanned(&inv), BIG),
            BatchSize::PerIteration,
        )
    });
    let inv = inventory(&root, &db);
    scanned(&inv);
    g.bench_function("unchanged_rescan_same_process", |b| {
        b.iter(|| assert_eq!(scanned(&inv), BIG))
    });
    drop(inv);
    g.bench_function("unchanged_rescan_new_process", |b| {
        // A new module on the existing database: the package cache is empty.
        b.iter_batched(
            || {
                let cfg = Config {
                    collectors: Collectors {
                        packages: true,
                        ..Collectors::default()
                    },
                    db_path: Some(db.clone()),
                    ..Config::default()
                };
                let provider = Box::new(LinuxSysInfo::with_root(&root, null_logger()));
                Inventory::new(cfg, provider, Arc::new(Discard), null_logger()).unwrap()
            },
            |inv| assert_eq!(scanned(&inv), BIG),
            BatchSize::PerIteration,
        )
    });
    // The status file touched (same rows, new times): the table's sources changed, so the
    // scan reads and compares every row, as after any package change.
    let inv = inventory(&root, &db);
    scanned(&inv);
    let status = root.join("var/lib/dpkg/status");
    g.bench_function("rescan_after_status_touched", |b| {
        b.iter_batched(
            || {
                let f = std::fs::File::options().write(true).open(&status).unwrap();
                f.set_modified(std::time::SystemTime::now()).unwrap();
            },
            |()| assert_eq!(scanned(&inv), BIG),
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, bench, bench_big);
criterion_main!(benches);
