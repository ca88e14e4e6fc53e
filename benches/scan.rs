//! A full scan of this machine: every collector of the data provider through the module
//! (collect, checksum, diff, events), first into an empty database and then a rescan; and
//! the no-change rescan as `syscollector scan --db` runs it (a new module on an existing
//! database file, no package cache), on this host and on a fixture root.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use syscollector::inventory::{Collectors, Config, Inventory, Sink, Stateful};
use syscollector::null_logger;
use syscollector::sysinfo::LinuxSysInfo;

struct Discard;

impl Sink for Discard {
    fn stateless(&self, _: &str) {}
    fn stateful(&self, _: &Stateful, _: &str) {}
}

fn module(collectors: Collectors) -> Inventory {
    Inventory::new(
        Config {
            collectors,
            notify_on_first_scan: true,
            ..Config::default()
        },
        Box::new(LinuxSysInfo::new(null_logger())),
        Arc::new(Discard),
        null_logger(),
    )
    .expect("in-memory module")
}

/// A module as one `syscollector scan --db <db> [--root <root>]` makes it.
fn one_shot(root: &Path, db: &Path) -> Inventory {
    Inventory::new(
        Config {
            collectors: Collectors::all(),
            notify_on_first_scan: false,
            db_path: Some(db.to_path_buf()),
            ..Config::default()
        },
        Box::new(LinuxSysInfo::with_root(root, null_logger()).without_package_cache()),
        Arc::new(Discard),
        null_logger(),
    )
    .expect("module on a database file")
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("scan_this_host");
    g.sample_size(20);
    g.measurement_time(Duration::from_secs(10));
    // The collectors of issue 3 (network, ports, users, groups, services, browsers), then all.
    let issue3 = Collectors {
        network: true,
        ports: true,
        users: true,
        groups: true,
        services: true,
        browser_extensions: true,
        ..Collectors::default()
    };
    for (name, collectors) in [
        ("issue3_collectors", issue3),
        ("all_collectors", Collectors::all()),
    ] {
        g.bench_function(format!("{name}_first"), |b| {
            b.iter_batched(|| module(collectors), |m| m.scan(), BatchSize::PerIteration)
        });
        let m = module(collectors);
        m.scan();
        g.bench_function(format!("{name}_rescan"), |b| b.iter(|| m.scan()));
    }
    g.finish();

    // Issue 14: the no-change rescan of `syscollector scan --db` (open, scan, close).
    let mut g = c.benchmark_group("rescan_existing_db");
    g.sample_size(20);
    g.measurement_time(Duration::from_secs(10));
    let dir = tempfile::tempdir().expect("temporary directory");
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/debian12");
    for (name, root) in [
        ("this_host", PathBuf::from("/")),
        ("fixture_debian12", fixture),
    ] {
        let db = dir.path().join(format!("{name}.db"));
        one_shot(&root, &db).scan();
        g.bench_function(name, |b| b.iter(|| one_shot(&root, &db).scan()));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
