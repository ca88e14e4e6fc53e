//! The bounded-memory paths (issue 14) give the results the whole-in-memory ones gave: a
//! DELTA session read from the queue a page at a time (more than one page, resends across
//! pages), the diff engine's deletions a page at a time and a key pushed twice in a scan,
//! and the dpkg status file read in chunks (stanzas across chunk boundaries, a stanza
//! longer than a chunk).

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use syscollector::dbsync::{schema, Change, DbSync};
use syscollector::manager::loopback;
use syscollector::manager::Faults;
use syscollector::null_logger;
use syscollector::sync_protocol::{
    AgentMetadata, Item, ItemOperation, Mode, PersistentQueue, Settings, SyncOption,
};
use syscollector::sysinfo::packages::dpkg;
use syscollector::Row;

#[path = "../../benches/synthetic.rs"]
mod synthetic;

const INDEX: &str = "wazuh-states-inventory-processes";

/// A sync instance on a queue in `dir`, connected to the in-process manager through a link
/// that drops each message whose sequence number is in `dropped` once.
fn dropping_peer(
    dir: &std::path::Path,
    dropped: &[u64],
) -> (
    Arc<syscollector::sync_protocol::SyncProtocol>,
    loopback::Loopback,
) {
    let queue = PersistentQueue::open(&dir.join("sync.db"), &|_| {}).unwrap();
    loopback::connected(
        Settings {
            module: "syscollector".into(),
            timeout: Duration::from_secs(5),
            retries: 3,
            max_eps: 0,
            end_delay: Duration::ZERO,
        },
        queue,
        Faults {
            drop_seq_once: dropped.iter().copied().collect(),
            ..Faults::default()
        },
        Arc::new(|| Some(AgentMetadata::default())),
        null_logger(),
    )
}

#[test]
fn a_session_of_several_pages_arrives_whole_with_resends_across_pages() {
    let dir = tempfile::tempdir().unwrap();
    // Sequence numbers on both sides of the 512-item pages, the first and the last.
    let dropped = [0u64, 511, 512, 513, 1023, 1024, 1299];
    let (proto, peer) = dropping_peer(dir.path(), &dropped);
    let n = 1300;
    for i in 0..n {
        let data = json!({"process": {"pid": i.to_string()}}).to_string();
        proto.persist(
            Item::new(format!("id{i}"), ItemOperation::Create, INDEX, data, 1),
            false,
        );
    }
    assert!(proto
        .synchronize(Mode::ModuleDelta, SyncOption::Sync)
        .is_ok());
    // Start + every DataValue + End + the resent ones.
    assert_eq!(peer.sent(), n + 2 + dropped.len());
    let store = peer.with_manager(|m| m.store());
    let held = &store.indices[INDEX];
    assert_eq!(held.len(), n);
    assert!(proto.queue().is_empty().unwrap());
    // Nothing is left for a second session.
    assert!(proto
        .synchronize(Mode::ModuleDelta, SyncOption::Sync)
        .is_ok());
    assert_eq!(peer.sent(), n + 2 + dropped.len());
}

#[test]
fn a_full_session_of_several_pages_arrives_whole_from_the_queues_temporary_storage() {
    let dir = tempfile::tempdir().unwrap();
    let dropped = [0u64, 511, 512, 1023, 1299];
    let (proto, peer) = dropping_peer(dir.path(), &dropped);
    let n = 1300;
    // Some stale items first: clearing drops them.
    for i in 0..10 {
        proto.persist_in_memory(Item::new(
            format!("old{i}"),
            ItemOperation::Create,
            INDEX,
            "{}",
            1,
        ));
    }
    proto.clear_in_memory();
    for i in 0..n {
        let data = json!({"process": {"pid": i.to_string()}}).to_string();
        proto.persist_in_memory(Item::new(
            format!("id{i}"),
            ItemOperation::Create,
            INDEX,
            data,
            1,
        ));
    }
    // Kept apart from the persistent queue: nothing of it is pending there.
    assert!(proto.queue().is_empty().unwrap());
    assert!(proto
        .synchronize(Mode::ModuleFull, SyncOption::Sync)
        .is_ok());
    assert_eq!(peer.sent(), n + 2 + dropped.len());
    let store = peer.with_manager(|m| m.store());
    let held = &store.indices[INDEX];
    assert_eq!(held.len(), n);
    assert!(held.contains_key("id1299") && !held.contains_key("old0"));
    // A FULL session sends what was kept once: the next one has nothing.
    assert!(matches!(
        proto.synchronize(Mode::ModuleFull, SyncOption::Sync),
        Ok(syscollector::sync_protocol::Outcome::NothingToSend)
    ));
    assert_eq!(peer.sent(), n + 2 + dropped.len());
}

#[test]
fn the_session_snapshot_numbers_items_in_submission_order() {
    let dir = tempfile::tempdir().unwrap();
    let q = PersistentQueue::open(&dir.path().join("q.db"), &|_| {}).unwrap();
    for i in 0..5 {
        let mut item = Item::new(format!("v{i}"), ItemOperation::Create, INDEX, "{}", 1);
        item.is_data_context = i % 2 == 1;
        q.submit(item).unwrap();
    }
    let snap = q.snapshot_for_sync().unwrap();
    assert_eq!((snap.total, snap.values), (5, 3));
    assert_eq!(snap.indices, [INDEX]);
    let values = q.session_page(false, None, 2).unwrap();
    let seqs: Vec<(u64, &str)> = values.iter().map(|i| (i.seq, i.id.as_str())).collect();
    assert_eq!(seqs, [(0, "v0"), (2, "v2")]);
    let rest = q.session_page(false, Some(2), 2).unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!((rest[0].seq, rest[0].id.as_str()), (4, "v4"));
    let contexts = q.session_page(true, None, 10).unwrap();
    let seqs: Vec<u64> = contexts.iter().map(|i| i.seq).collect();
    assert_eq!(seqs, [1, 3]);
    // What is submitted during the session waits for the next one, and the snapshot keeps
    // the item as it was.
    q.submit(Item::new(
        "v0",
        ItemOperation::Modify,
        INDEX,
        "{\"new\":1}",
        2,
    ))
    .unwrap();
    assert_eq!(q.session_page(false, None, 1).unwrap()[0].data, "{}");
    q.clear_synced().unwrap();
    let left = q.fetch_pending(false).unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].data, "{\"new\":1}");
}

fn sync(db: &mut DbSync, rows: impl Iterator<Item = Row>) -> Vec<Change> {
    let mut changes = Vec::new();
    db.sync_table(&schema::PACKAGES, rows, &mut |c| changes.push(c))
        .unwrap();
    changes
}

#[test]
fn deletions_of_several_pages_are_all_reported_and_stored() {
    let mut db = DbSync::in_memory().unwrap();
    let n = 1000;
    sync(&mut db, (0..n).map(|i| synthetic::package(i, 0)));
    // Keep every third row: 666 deletions, across pages of 256.
    let changes = sync(
        &mut db,
        (0..n)
            .filter(|i| i % 3 == 0)
            .map(|i| synthetic::package(i, 0)),
    );
    let deleted: Vec<String> = changes
        .iter()
        .map(|c| match c {
            Change::Deleted(r) => r["name"].as_str().unwrap().to_string(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    let expected: Vec<String> = (0..n)
        .filter(|i| i % 3 != 0)
        .map(|i| format!("package-{i:06}"))
        .collect();
    assert_eq!(deleted, expected, "every deletion once, in key order");
    assert_eq!(db.count(&schema::PACKAGES).unwrap(), 334);
    // Nothing else changed.
    let again = sync(
        &mut db,
        (0..n)
            .filter(|i| i % 3 == 0)
            .map(|i| synthetic::package(i, 0)),
    );
    assert!(again.is_empty(), "{again:?}");
}

#[test]
fn a_key_pushed_twice_in_one_scan_is_inserted_then_modified() {
    let mut db = DbSync::in_memory().unwrap();
    let changes = sync(
        &mut db,
        [synthetic::package(7, 0), synthetic::package(7, 1)].into_iter(),
    );
    assert!(matches!(&changes[0], Change::Inserted(_)), "{changes:?}");
    match &changes[1] {
        Change::Modified { new, old } => {
            assert_eq!(new["version"], 2);
            assert_eq!(old["version"], 1);
            assert!(old.contains_key("description"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(changes.len(), 2);
    // The same twice is one insertion.
    let mut db = DbSync::in_memory().unwrap();
    let changes = sync(
        &mut db,
        [synthetic::package(7, 0), synthetic::package(7, 0)].into_iter(),
    );
    assert_eq!(changes.len(), 1);
    let rows = db.select_all(&schema::PACKAGES).unwrap();
    assert_eq!(rows.len(), 1);
}

/// Hands out the bytes in reads of varying small and large sizes.
struct Ragged<'a> {
    data: &'a [u8],
    turn: usize,
}

impl std::io::Read for Ragged<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.turn += 1;
        let want = [1, 7, 300_000, 13, 65_536][self.turn % 5];
        let n = want.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

#[test]
fn the_status_file_read_in_chunks_gives_the_rows_of_the_whole_file() {
    let mut text = synthetic::dpkg_status(4000);
    // A stanza longer than a read chunk (256 KiB), a stanza without Package, blank lines.
    text.push_str("Package: huge\nStatus: install ok installed\nDescription: big\n");
    for _ in 0..20_000 {
        text.push_str(" a continuation line of the description\n");
    }
    text.push_str("\n\n\nStatus: install ok installed\nVersion: 1\n\nPackage: last\nStatus: install ok installed");
    let mut whole = Vec::new();
    let mut whole_skips = Vec::new();
    dpkg::parse_status(text.as_bytes(), &mut |r| whole.push(r), &mut |m| {
        whole_skips.push(m)
    });
    let mut streamed = Vec::new();
    let mut streamed_skips = Vec::new();
    dpkg::parse_status_stream(
        Ragged {
            data: text.as_bytes(),
            turn: 0,
        },
        &mut |r| streamed.push(r),
        &mut |m| streamed_skips.push(m),
    )
    .unwrap();
    assert_eq!(whole.len(), 4002);
    assert_eq!(streamed, whole);
    assert_eq!(streamed_skips, whole_skips);
    assert_eq!(whole_skips.len(), 1);
}
