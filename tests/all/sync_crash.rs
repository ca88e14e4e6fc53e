//! Crash safety of the persistent queue: a child process persists and synchronises
//! without pause and is killed with SIGKILL at random moments, `SYSCOLLECTOR_CRASH_KILLS`
//! times (default 50; CI sets 200) over the same queue. After each kill the queue must hold every unacknowledged difference exactly once
//! (a batch and a session's clean-up are all-or-nothing), and the next session must deliver
//! exactly what it holds.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use syscollector::manager::loopback::{self, Loopback};
use syscollector::manager::{Faults, Rng};
use syscollector::null_logger;
use syscollector::sync_protocol::{
    AgentMetadata, Item, ItemOperation, Mode, PersistentQueue, Settings, SyncOption, SyncProtocol,
};

const BATCH: u64 = 20;
/// Kills when `SYSCOLLECTOR_CRASH_KILLS` is unset or not a positive number.
const DEFAULT_KILLS: u32 = 50;

/// The number of kills: `SYSCOLLECTOR_CRASH_KILLS`, or [`DEFAULT_KILLS`].
fn kills() -> u32 {
    std::env::var("SYSCOLLECTOR_CRASH_KILLS")
        .ok()
        .and_then(|v| v.trim().parse::<u32>().ok())
        .filter(|&n| n > 0)
        .unwrap_or(DEFAULT_KILLS)
}
const INDEX: &str = "wazuh-states-inventory-processes";

fn protocol(queue: &Path) -> (Arc<SyncProtocol>, Loopback) {
    let q = PersistentQueue::open(queue, &|_| {}).expect("queue");
    loopback::connected(
        Settings {
            module: "syscollector".into(),
            timeout: Duration::from_secs(2),
            retries: 2,
            max_eps: 0,
            end_delay: Duration::ZERO,
        },
        q,
        Faults::default(),
        Arc::new(|| Some(AgentMetadata::default())),
        null_logger(),
    )
}

fn id(n: u64) -> String {
    format!("id{n:08}")
}

/// The child: persists batches and synchronises until killed, printing its progress.
fn child(queue: &Path, start: u64) {
    let (p, _peer) = protocol(queue);
    let mut n = start;
    let mut round = 0u64;
    loop {
        p.queue().begin_batch();
        for i in n..n + BATCH {
            p.persist(
                Item::new(
                    id(i),
                    ItemOperation::Create,
                    INDEX,
                    format!("{{\"n\":{i}}}"),
                    1,
                ),
                false,
            );
        }
        p.queue().flush().expect("flush");
        n += BATCH;
        println!("persisted {n}");
        round += 1;
        if round.is_multiple_of(3) {
            println!("sync-start");
            if p.synchronize(Mode::ModuleDelta, SyncOption::Sync).is_ok() {
                println!("acked {n}");
            }
        }
    }
}

#[test]
fn child_process() {
    // Runs only when re-executed by `sigkill_at_random_moments_loses_nothing`.
    if let (Ok(q), Ok(start)) = (
        std::env::var("SYNC_CRASH_QUEUE"),
        std::env::var("SYNC_CRASH_START"),
    ) {
        child(Path::new(&q), start.parse().unwrap_or(0));
    }
}

fn expect_all_or_none(held: &BTreeSet<u64>, range: std::ops::Range<u64>, what: &str) {
    let present = range.clone().filter(|i| held.contains(i)).count() as u64;
    assert!(
        present == 0 || present == range.end - range.start,
        "{what}: {present} of {:?} present",
        range
    );
}

#[test]
fn sigkill_at_random_moments_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let queue = dir.path().join("sync.db");
    let exe = std::env::current_exe().unwrap();
    let mut rng = Rng::new(2026);
    let mut next_id = 0u64;
    let mut delivered_total = 0usize;
    let mut killed_in_session = 0;
    let kills = kills();
    for kill in 0..kills {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "sync_crash::child_process",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("SYNC_CRASH_QUEUE", &queue)
            .env("SYNC_CRASH_START", next_id.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .collect::<Vec<_>>()
        });
        // Let it get going (the first line), then kill it at a random moment.
        std::thread::sleep(Duration::from_millis(40 + (rng.unit() * 260.0) as u64));
        // SAFETY: plain kill(2) of our own child.
        unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
        let _ = child.wait();
        let lines = reader.join().unwrap();

        let mut persisted = next_id;
        let mut acked = next_id;
        let mut syncing = false;
        for l in &lines {
            if let Some(v) = l.strip_prefix("persisted ") {
                persisted = v.parse().unwrap();
                syncing = false;
            } else if l == "sync-start" {
                syncing = true;
            } else if let Some(v) = l.strip_prefix("acked ") {
                acked = v.parse().unwrap();
                syncing = false;
            }
        }

        let (p, peer) = protocol(&queue);
        let items = p.queue().fetch_pending(false).unwrap();
        let held: BTreeSet<u64> = items
            .iter()
            .map(|i| i.id[2..].parse::<u64>().unwrap())
            .collect();
        assert_eq!(
            held.len(),
            items.len(),
            "kill {kill}: an id is queued twice"
        );
        // Nothing acknowledged is left, nothing beyond the batch being written exists.
        assert!(
            held.iter().all(|&i| i >= acked && i < persisted + BATCH),
            "kill {kill}: stray ids"
        );
        // The batch being written when killed is all there or not at all.
        expect_all_or_none(&held, persisted..persisted + BATCH, "unprinted batch");
        if syncing {
            killed_in_session += 1;
            // Killed during a session: its clean-up is one transaction.
            expect_all_or_none(&held, acked..persisted, "session in flight");
        } else {
            for i in acked..persisted {
                assert!(held.contains(&i), "kill {kill}: unacknowledged {i} lost");
            }
        }

        // The next session delivers exactly what the queue holds.
        assert!(p.synchronize(Mode::ModuleDelta, SyncOption::Sync).is_ok());
        let got: BTreeSet<u64> = peer.with_manager(|m| {
            m.store()
                .indices
                .get(INDEX)
                .map(|d| d.keys().map(|k| k[2..].parse::<u64>().unwrap()).collect())
                .unwrap_or_default()
        });
        assert_eq!(got, held, "kill {kill}: delivered set");
        assert!(p.queue().is_empty().unwrap());
        delivered_total += got.len();
        next_id = persisted + BATCH;
    }
    eprintln!(
        "{kills} kills, {killed_in_session} during a session, {delivered_total} differences recovered and delivered"
    );
    assert!(delivered_total > 0);
    assert!(
        killed_in_session > 0,
        "no kill landed in a session; the test proves less"
    );
}
