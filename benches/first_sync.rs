//! The whole system's first synchronisation, from scan to the reference manager's store:
//! this machine's inventory, and a fixture system with 100,000 dpkg packages. The agent and
//! the manager talk over a real Unix socket (the manager runs in a thread of this process).

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use syscollector::inventory::Collectors;
use syscollector::manager::agent::{self as standalone, Options};
use syscollector::manager::server::{self, ServerConfig};
use syscollector::manager::Faults as NetFaults;
use syscollector::null_logger;

#[path = "synthetic.rs"]
mod synthetic;

fn fixture(root: &Path, n: usize) {
    synthetic::dpkg_root(root, n).expect("fixture");
}

/// One first synchronisation into fresh databases; returns the documents delivered.
fn first_sync(work: &Path, root: &Path, collectors: Collectors) -> usize {
    let _ = std::fs::remove_dir_all(work);
    std::fs::create_dir_all(work).expect("work dir");
    let socket = work.join("m.sock");
    let stop = Arc::new(AtomicBool::new(false));
    let server = {
        let cfg = ServerConfig {
            socket: socket.clone(),
            db: Some(work.join("store.db")),
            events: None,
            faults: NetFaults::default(),
        };
        let stop = stop.clone();
        std::thread::spawn(move || server::serve(cfg, stop, &|_| {}))
    };
    while !socket.exists() {
        std::thread::sleep(Duration::from_millis(5));
    }
    let report = standalone::run(
        Options {
            dir: work.join("agent"),
            root: root.to_path_buf(),
            collectors,
            interval: 3600,
            sync_interval: Duration::from_secs(1),
            integrity_interval: 86400,
            manager: socket,
            once: true,
            metadata: Default::default(),
        },
        Arc::new(AtomicBool::new(false)),
        null_logger(),
    )
    .expect("run");
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let _ = server.join();
    assert!(report.delivered);
    report.documents
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut g = c.benchmark_group("first_sync");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    g.bench_function("this_host_all_collectors", |b| {
        b.iter_batched(
            || (),
            |()| first_sync(&dir.path().join("host"), Path::new("/"), Collectors::all()),
            BatchSize::PerIteration,
        )
    });
    let root = dir.path().join("root100k");
    fixture(&root, 100_000);
    let packages = Collectors {
        packages: true,
        ..Collectors::default()
    };
    g.measurement_time(Duration::from_secs(120));
    g.bench_function("fixture_100k_packages", |b| {
        b.iter_batched(
            || (),
            |()| {
                assert_eq!(
                    first_sync(&dir.path().join("pkgs"), &root, packages),
                    100_000
                )
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
