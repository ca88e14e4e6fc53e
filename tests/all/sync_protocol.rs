//! The sync protocol against the in-process manager: sessions, retransmission, faults,
//! integrity checks and data clean, with the real persistent queue on disk.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use syscollector::manager::loopback::{self, Loopback};
use syscollector::manager::{Faults, Store};
use syscollector::null_logger;
use syscollector::sync_protocol::{
    AgentMetadata, Integrity, Item, ItemOperation, Mode, Outcome, PersistentQueue, Settings,
    Status, SyncError, SyncOption, SyncProtocol,
};

struct Rig {
    _dir: tempfile::TempDir,
    proto: Arc<SyncProtocol>,
    peer: Loopback,
}

fn metadata() -> Option<AgentMetadata> {
    Some(AgentMetadata {
        architecture: "x86_64".into(),
        hostname: "test".into(),
        agent_id: "001".into(),
        groups: vec!["default".into()],
        ..AgentMetadata::default()
    })
}

fn rig(faults: Faults, timeout_ms: u64, retries: u32, max_eps: usize) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let queue = PersistentQueue::open(&dir.path().join("sync.db"), &|_| {}).unwrap();
    let (proto, peer) = loopback::connected(
        Settings {
            module: "syscollector".into(),
            timeout: Duration::from_millis(timeout_ms),
            retries,
            max_eps,
            end_delay: Duration::ZERO,
        },
        queue,
        faults,
        Arc::new(metadata),
        null_logger(),
    );
    Rig {
        _dir: dir,
        proto,
        peer,
    }
}

fn doc(i: usize) -> String {
    json!({"process": {"pid": i.to_string()}, "checksum": {"hash": {"sha1": format!("{i:040}")}}})
        .to_string()
}

fn fill(p: &SyncProtocol, n: usize) {
    for i in 0..n {
        p.persist(
            Item::new(
                format!("id{i}"),
                ItemOperation::Create,
                "wazuh-states-inventory-processes",
                doc(i),
                1,
            ),
            false,
        );
    }
}

fn store(r: &Rig) -> Store {
    r.peer.with_manager(|m| m.store())
}

fn held(r: &Rig) -> usize {
    store(r)
        .indices
        .get("wazuh-states-inventory-processes")
        .map(|d| d.len())
        .unwrap_or(0)
}

#[test]
fn delta_session_delivers_everything_once() {
    let r = rig(Faults::default(), 2000, 3, 0);
    fill(&r.proto, 50);
    assert!(r
        .proto
        .synchronize(Mode::ModuleDelta, SyncOption::Sync)
        .is_ok());
    assert_eq!(held(&r), 50);
    assert!(r.proto.queue().is_empty().unwrap());
    // Start + 50 DataValue + End.
    assert_eq!(r.peer.sent(), 52);
    // Nothing left: the next session sends nothing.
    assert!(r
        .proto
        .synchronize(Mode::ModuleDelta, SyncOption::Sync)
        .is_ok());
    assert_eq!(r.peer.sent(), 52);
    // A delete reaches the manager.
    r.proto.persist(
        Item::new(
            "id3",
            ItemOperation::Delete,
            "wazuh-states-inventory-processes",
            doc(3),
            2,
        ),
        false,
    );
    assert!(r
        .proto
        .synchronize(Mode::ModuleDelta, SyncOption::Sync)
        .is_ok());
    assert_eq!(held(&r), 49);
}

#[test]
fn missing_sequence_numbers_are_requested_and_resent() {
    let faults = Faults {
        drop_seq_once: [0u64, 1, 2, 17, 49].into_iter().collect(),
        ..Faults::default()
    };
    let r = rig(faults, 2000, 3, 0);
    fill(&r.proto, 50);
    assert!(r
        .proto
        .synchronize(Mode::ModuleDelta, SyncOption::Sync)
        .is_ok());
    assert_eq!(held(&r), 50);
    // Start + 50 + End + the 5 resent.
    assert_eq!(r.peer.sent(), 57);
}

#[test]
fn offline_and_error_leave_everything_pending() {
    let r = rig(Faults::default(), 2000, 1, 0);
    fill(&r.proto, 10);
    r.peer.force_status(Some(Status::Offline));
    assert!(r
        .proto
        .synchronize(Mode::ModuleDelta, SyncOption::Sync)
        .is_err());
    assert_eq!(r.proto.queue().fetch_pending(false).unwrap().len(), 10);
    r.peer.force_status(Some(Status::Error));
    assert!(r
        .proto
        .synchronize(Mode::ModuleDelta, SyncOption::Sync)
        .is_err());
    assert_eq!(r.proto.queue().fetch_pending(false).unwrap().len(), 10);
    assert_eq!(held(&r), 0);
    r.peer.force_status(None);
    assert!(r
        .proto
        .synchronize(Mode::ModuleDelta, SyncOption::Sync)
        .is_ok());
    assert_eq!(held(&r), 10);
}

#[test]
fn duplicate_and_stale_replies_are_harmless() {
    let faults = Faults {
        seed: 7,
        duplicate_out: 1.0,
        stale_replies: true,
        ..Faults::default()
    };
    let r = rig(faults, 2000, 3, 0);
    for round in 0..3 {
        fill(&r.proto, 5 + round);
        assert!(r
            .proto
            .synchronize(Mode::ModuleDelta, SyncOption::Sync)
            .is_ok());
    }
    assert_eq!(held(&r), 7);
    assert!(r.proto.queue().is_empty().unwrap());
}

#[test]
fn lossy_link_converges_within_retries() {
    let faults = Faults {
        seed: 42,
        drop_in: 0.10,
        drop_out: 0.10,
        duplicate_out: 0.05,
        ..Faults::default()
    };
    let r = rig(faults, 300, 8, 0);
    fill(&r.proto, 200);
    let mut sessions = 0;
    while !r.proto.queue().is_empty().unwrap() {
        sessions += 1;
        assert!(sessions <= 10, "did not converge");
        let _ = r.proto.synchronize(Mode::ModuleDelta, SyncOption::Sync);
    }
    assert_eq!(held(&r), 200);
}

#[test]
fn silent_manager_times_out_after_the_retries() {
    let faults = Faults {
        drop_out: 1.0,
        ..Faults::default()
    };
    let r = rig(faults, 200, 2, 0);
    fill(&r.proto, 3);
    let t = Instant::now();
    assert!(r
        .proto
        .synchronize(Mode::ModuleDelta, SyncOption::Sync)
        .is_err());
    let took = t.elapsed();
    // Three Start attempts of 200 ms each.
    assert!(
        took >= Duration::from_millis(550) && took < Duration::from_secs(3),
        "{took:?}"
    );
    assert_eq!(r.proto.queue().fetch_pending(false).unwrap().len(), 3);
}

#[test]
fn unavailable_queue_fails_fast() {
    let r = rig(Faults::default(), 2000, 3, 0);
    fill(&r.proto, 3);
    r.peer.set_available(false);
    assert!(r
        .proto
        .synchronize(Mode::ModuleDelta, SyncOption::Sync)
        .is_err());
    assert_eq!(r.peer.sent(), 0);
    r.peer.set_available(true);
    assert!(r
        .proto
        .synchronize(Mode::ModuleDelta, SyncOption::Sync)
        .is_ok());
}

#[test]
fn differences_arriving_during_a_session_wait_for_the_next() {
    let r = rig(Faults::default(), 2000, 3, 20);
    fill(&r.proto, 40);
    let writer = {
        let p = r.proto.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            // A change to an item in flight and a new item.
            p.persist(
                Item::new(
                    "id0",
                    ItemOperation::Modify,
                    "wazuh-states-inventory-processes",
                    doc(1000),
                    2,
                ),
                false,
            );
            p.persist(
                Item::new(
                    "new",
                    ItemOperation::Create,
                    "wazuh-states-inventory-processes",
                    doc(1001),
                    1,
                ),
                false,
            );
        })
    };
    assert!(r
        .proto
        .synchronize(Mode::ModuleDelta, SyncOption::Sync)
        .is_ok());
    writer.join().unwrap();
    let pending = r.proto.queue().fetch_pending(false).unwrap();
    let mut ids: Vec<_> = pending.iter().map(|i| i.id.as_str()).collect();
    ids.sort();
    assert_eq!(ids, ["id0", "new"]);
    assert!(r
        .proto
        .synchronize(Mode::ModuleDelta, SyncOption::Sync)
        .is_ok());
    let s = store(&r);
    let docs = &s.indices["wazuh-states-inventory-processes"];
    assert_eq!(docs.len(), 41);
    assert_eq!(docs["id0"].0, 2);
}

#[test]
fn max_eps_caps_the_message_rate() {
    let r = rig(Faults::default(), 2000, 3, 10);
    fill(&r.proto, 28);
    let t = Instant::now();
    assert!(r
        .proto
        .synchronize(Mode::ModuleDelta, SyncOption::Sync)
        .is_ok());
    // 30 messages at 10 per second: at least two full seconds.
    assert!(t.elapsed() >= Duration::from_secs(2), "{:?}", t.elapsed());
}

#[test]
fn integrity_check_compares_with_the_manager() {
    let r = rig(Faults::default(), 2000, 3, 0);
    fill(&r.proto, 5);
    assert!(r
        .proto
        .synchronize(Mode::ModuleDelta, SyncOption::Sync)
        .is_ok());
    let good = store(&r).checksum("wazuh-states-inventory-processes");
    assert!(matches!(
        r.proto
            .check_integrity("wazuh-states-inventory-processes", &good),
        Integrity::Match
    ));
    assert!(matches!(
        r.proto
            .check_integrity("wazuh-states-inventory-processes", "0000"),
        Integrity::Mismatch
    ));
    // A FULL session replaces the index with the in-memory documents.
    for i in 0..3 {
        r.proto.persist_in_memory(Item::new(
            format!("id{i}"),
            ItemOperation::Create,
            "wazuh-states-inventory-processes",
            doc(i),
            2,
        ));
    }
    assert!(r
        .proto
        .synchronize(Mode::ModuleFull, SyncOption::Sync)
        .is_ok());
    assert_eq!(held(&r), 3);
}

#[test]
fn data_clean_empties_the_index_on_both_sides() {
    let r = rig(Faults::default(), 2000, 3, 0);
    fill(&r.proto, 5);
    assert!(r
        .proto
        .synchronize(Mode::ModuleDelta, SyncOption::Sync)
        .is_ok());
    fill(&r.proto, 2);
    assert!(r
        .proto
        .notify_data_clean(
            &["wazuh-states-inventory-processes".to_string()],
            SyncOption::Sync
        )
        .is_ok());
    assert_eq!(held(&r), 0);
    assert!(r.proto.queue().is_empty().unwrap());
}

#[test]
fn malformed_replies_are_rejected() {
    let r = rig(Faults::default(), 2000, 3, 0);
    assert!(!r.proto.parse_response(&[]));
    assert!(!r.proto.parse_response(&[0xff; 3]));
    let mut x = 1u32;
    for len in [4usize, 16, 100, 1000, 100_000] {
        let buf: Vec<u8> = (0..len)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (x >> 16) as u8
            })
            .collect();
        let _ = r.proto.parse_response(&buf);
    }
    // An EndAck nobody waits for is ignored.
    let stray = syscollector::sync_protocol::wire::Message::EndAck {
        status: Status::Ok,
        session: 5,
    }
    .encode();
    assert!(r.proto.parse_response(&stray));
    fill(&r.proto, 2);
    assert!(r
        .proto
        .synchronize(Mode::ModuleDelta, SyncOption::Sync)
        .is_ok());
}

#[test]
fn no_metadata_no_session() {
    let dir = tempfile::tempdir().unwrap();
    let queue = PersistentQueue::open(&dir.path().join("sync.db"), &|_| {}).unwrap();
    let peer = Loopback::new(Faults::default());
    let proto = SyncProtocol::new(
        Settings {
            module: "syscollector".into(),
            timeout: Duration::from_millis(200),
            retries: 1,
            max_eps: 0,
            end_delay: Duration::ZERO,
        },
        queue,
        Arc::new(peer.clone()),
        Arc::new(|| None),
        null_logger(),
    );
    fill(&proto, 1);
    assert!(proto
        .synchronize(Mode::ModuleDelta, SyncOption::Sync)
        .is_err());
    assert_eq!(peer.sent(), 0);
    assert_eq!(proto.queue().fetch_pending(false).unwrap().len(), 1);
}

#[test]
fn results_say_what_happened_and_why() {
    let r = rig(Faults::default(), 300, 1, 0);
    assert!(matches!(
        r.proto.synchronize(Mode::ModuleDelta, SyncOption::Sync),
        Ok(Outcome::NothingToSend)
    ));
    assert!(matches!(
        r.proto.synchronize(Mode::ModuleCheck, SyncOption::Sync),
        Err(SyncError::InvalidMode(Mode::ModuleCheck))
    ));
    assert!(matches!(
        r.proto.notify_data_clean(&[], SyncOption::Sync),
        Err(SyncError::NoIndices)
    ));
    fill(&r.proto, 4);
    r.peer.force_status(Some(Status::Offline));
    assert!(matches!(
        r.proto.synchronize(Mode::ModuleDelta, SyncOption::Sync),
        Err(SyncError::ManagerOffline)
    ));
    r.peer.force_status(Some(Status::Error));
    assert!(matches!(
        r.proto.synchronize(Mode::ModuleDelta, SyncOption::Sync),
        Err(SyncError::ManagerError)
    ));
    r.peer.force_status(None);
    r.peer.set_available(false);
    assert!(matches!(
        r.proto.synchronize(Mode::ModuleDelta, SyncOption::Sync),
        Err(SyncError::TransportUnavailable)
    ));
    r.peer.set_available(true);
    r.peer.set_faults(Faults {
        drop_out: 1.0,
        ..Faults::default()
    });
    assert!(matches!(
        r.proto.synchronize(Mode::ModuleDelta, SyncOption::Sync),
        Err(SyncError::Timeout("Start"))
    ));
    r.peer.set_faults(Faults::default());
    assert!(matches!(
        r.proto.synchronize(Mode::ModuleDelta, SyncOption::Sync),
        Ok(Outcome::Delivered { messages: 4 })
    ));
    assert_eq!(r.proto.queue().fetch_pending(false).unwrap().len(), 0);
}

#[test]
fn integrity_check_that_cannot_run_is_neither_match_nor_mismatch() {
    let r = rig(Faults::default(), 300, 1, 0);
    fill(&r.proto, 3);
    assert!(r
        .proto
        .synchronize(Mode::ModuleDelta, SyncOption::Sync)
        .is_ok());
    let index = "wazuh-states-inventory-processes";
    let good = store(&r).checksum(index);
    r.peer.force_status(Some(Status::Offline));
    let offline = r.proto.check_integrity(index, "0000");
    assert!(
        matches!(offline, Integrity::Unavailable(SyncError::ManagerOffline)),
        "{offline:?}"
    );
    assert!(!offline.requires_full_sync());
    r.peer.force_status(None);
    r.peer.set_available(false);
    assert!(matches!(
        r.proto.check_integrity(index, &good),
        Integrity::Unavailable(SyncError::TransportUnavailable)
    ));
    r.peer.set_available(true);
    assert!(matches!(
        r.proto.check_integrity(index, &good),
        Integrity::Match
    ));
    assert!(r.proto.check_integrity(index, "0000").requires_full_sync());
}

#[test]
fn the_shared_fault_model_applies_on_the_loopback() {
    // Reordering both ways, duplicated requests, delayed replies and an offline period:
    // the faults the socket server has, now also in-process.
    let faults = Faults {
        seed: 11,
        reorder_in: 0.3,
        reorder_out: 0.3,
        duplicate_in: 0.2,
        delay: Duration::from_millis(2),
        delay_fraction: Some(0.5),
        offline_for: Duration::from_millis(400),
        ..Faults::default()
    };
    let r = rig(faults, 300, 8, 0);
    fill(&r.proto, 60);
    assert!(matches!(
        r.proto.synchronize(Mode::ModuleDelta, SyncOption::Sync),
        Err(SyncError::ManagerOffline)
    ));
    std::thread::sleep(Duration::from_millis(450));
    let mut sessions = 0;
    while !r.proto.queue().is_empty().unwrap() {
        sessions += 1;
        assert!(sessions <= 10, "did not converge");
        let _ = r.proto.synchronize(Mode::ModuleDelta, SyncOption::Sync);
    }
    assert_eq!(held(&r), 60);
}

#[test]
fn inventory_operations_map_to_the_same_queue_values() {
    use syscollector::inventory::Operation;
    for (op, item) in [
        (Operation::Create, ItemOperation::Create),
        (Operation::Modify, ItemOperation::Modify),
        (Operation::Delete, ItemOperation::Delete),
        (Operation::NoOp, ItemOperation::NoOp),
    ] {
        assert_eq!(ItemOperation::from(op), item);
        assert_eq!(op as i32, item as i32, "{op:?}");
    }
}
