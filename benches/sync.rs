//! Sync protocol throughput: persisting 100,000 differences one transaction each versus in
//! batches (with the same crash guarantees, see tests/all/sync_crash.rs), and one DELTA session
//! of 100,000 DataValues to the in-process manager.

use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use syscollector::manager::loopback;
use syscollector::manager::Faults;
use syscollector::null_logger;
use syscollector::sync_protocol::{
    AgentMetadata, Item, ItemOperation, Mode, PersistentQueue, Settings, SyncOption,
};

const N: usize = 100_000;

fn item(i: usize) -> Item {
    Item::new(
        format!("{i:040x}"),
        ItemOperation::Create,
        "wazuh-states-inventory-packages",
        format!(
            "{{\"package\":{{\"name\":\"package-{i}\",\"version\":\"1.{i}\",\"architecture\":\"amd64\"}},\"checksum\":{{\"hash\":{{\"sha1\":\"{i:040x}\"}}}}}}"
        ),
        1,
    )
}

fn fresh_queue(dir: &std::path::Path, name: &str) -> PersistentQueue {
    let p = dir.join(name);
    for s in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{s}", p.display()));
    }
    PersistentQueue::open(&p, &|_| {}).expect("queue")
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let items: Vec<Item> = (0..N).map(item).collect();

    let mut g = c.benchmark_group("sync_100k");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(30));
    g.throughput(Throughput::Elements(N as u64));

    g.bench_function("persist_one_transaction_each", |b| {
        b.iter_batched(
            || (fresh_queue(dir.path(), "each.db"), items.clone()),
            |(q, items)| {
                for it in items {
                    q.submit(it).expect("submit");
                }
            },
            BatchSize::PerIteration,
        )
    });

    g.bench_function("persist_batched", |b| {
        b.iter_batched(
            || (fresh_queue(dir.path(), "batch.db"), items.clone()),
            |(q, items)| {
                q.begin_batch();
                for it in items {
                    q.submit(it).expect("submit");
                }
                q.flush().expect("flush");
            },
            BatchSize::PerIteration,
        )
    });

    g.bench_function("delta_session_100k_datavalues", |b| {
        b.iter_batched(
            || {
                let q = fresh_queue(dir.path(), "session.db");
                q.submit_all(items.clone()).expect("fill");
                loopback::connected(
                    Settings {
                        module: "syscollector_vd".into(),
                        timeout: Duration::from_secs(30),
                        retries: 1,
                        max_eps: 0,
                        end_delay: Duration::ZERO,
                    },
                    q,
                    Faults::default(),
                    Arc::new(|| Some(AgentMetadata::default())),
                    null_logger(),
                )
            },
            |(p, peer)| {
                assert!(p.synchronize(Mode::ModuleDelta, SyncOption::Sync).is_ok());
                assert_eq!(peer.sent(), N + 2);
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
