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

// ---- The betas' wire (issue 12 point 5): Processing, DataBatch, cluster fields ----

use syscollector::generation::Generation;
use syscollector::manager::Manager;
use syscollector::sync_protocol::wire::{self, Message};

/// A rig whose agent instance serves `generation` and whose peer is `manager`; the
/// agent's messages are recorded.
fn rig_of(
    manager: Manager,
    generation: Generation,
    timeout_ms: u64,
    retries: u32,
    faults: Faults,
    meta: Option<AgentMetadata>,
) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let queue = PersistentQueue::open(&dir.path().join("sync.db"), &|_| {}).unwrap();
    let (proto, peer) = loopback::connected_to(
        manager,
        generation,
        Settings {
            module: "syscollector".into(),
            timeout: Duration::from_millis(timeout_ms),
            retries,
            max_eps: 0,
            end_delay: Duration::ZERO,
        },
        queue,
        faults,
        Arc::new(move || meta.clone()),
        null_logger(),
    );
    peer.record();
    Rig {
        _dir: dir,
        proto,
        peer,
    }
}

/// What the agent sent, decoded (through the verifier), with when.
fn sent_messages(r: &Rig) -> Vec<(Instant, Vec<u8>, Message)> {
    r.peer
        .recorded()
        .into_iter()
        .map(|(at, bytes)| {
            let m = Message::decode(&bytes).expect("the agent sends only valid messages");
            (at, bytes, m)
        })
        .collect()
}

fn kinds(r: &Rig) -> Vec<&'static str> {
    sent_messages(r).iter().map(|(_, _, m)| m.kind()).collect()
}

fn count(r: &Rig, kind: &str) -> usize {
    kinds(r).iter().filter(|k| **k == kind).count()
}

fn fill_sized(p: &SyncProtocol, n: usize, bytes: usize) {
    for i in 0..n {
        let pad = "x".repeat(bytes);
        p.persist(
            Item::new(
                format!("id{i}"),
                ItemOperation::Create,
                "wazuh-states-inventory-processes",
                json!({"process": {"pid": i.to_string(), "pad": pad},
                       "checksum": {"hash": {"sha1": format!("{i:040}")}}})
                .to_string(),
                1,
            ),
            false,
        );
    }
}

#[test]
fn beta_processing_keeps_the_agent_waiting_without_resending_end() {
    // The manager indexes for 1.2 s after the End; the agent's timeout is 300 ms and it
    // may retry once: only Processing (which neither uses up a retry nor is answered with
    // another End until a whole timeout passed) lets the session complete.
    let timeout = Duration::from_millis(300);
    let r = rig_of(
        Manager::beta4(Duration::from_millis(1200)),
        Generation::Beta,
        300,
        1,
        Faults::default(),
        metadata(),
    );
    fill(&r.proto, 5);
    let t = Instant::now();
    let got = r.proto.synchronize(Mode::ModuleDelta, SyncOption::Sync);
    assert!(
        matches!(got, Ok(Outcome::Delivered { messages: 5 })),
        "{got:?}"
    );
    assert!(
        t.elapsed() >= Duration::from_millis(1200),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(held(&r), 5);
    assert!(r.proto.queue().is_empty().unwrap());
    // Every End after the first waited a whole timeout after the Processing before it.
    let ends: Vec<Instant> = sent_messages(&r)
        .into_iter()
        .filter(|(_, _, m)| matches!(m, Message::End { .. }))
        .map(|(at, _, _)| at)
        .collect();
    assert!(ends.len() >= 2, "{} Ends", ends.len());
    assert!(
        ends.len() <= 5,
        "{} Ends in 1.2 s at a 300 ms timeout",
        ends.len()
    );
    for w in ends.windows(2) {
        let gap = w[1] - w[0];
        assert!(gap >= timeout, "an End only {gap:?} after the previous one");
    }
    // Each End was answered with Processing and the session with one final EndAck.
    let seen = r.peer.with_manager(|m| m.seen.clone());
    assert_eq!(seen.get("End").copied(), Some(ends.len()));

    // The same manager answering at once: Processing then Ok, one End.
    let r = rig_of(
        Manager::beta4(Duration::ZERO),
        Generation::Beta,
        2000,
        1,
        Faults::default(),
        metadata(),
    );
    fill(&r.proto, 3);
    let t = Instant::now();
    assert!(r
        .proto
        .synchronize(Mode::ModuleDelta, SyncOption::Sync)
        .is_ok());
    assert!(t.elapsed() < Duration::from_millis(1500));
    assert_eq!(count(&r, "End"), 1);
    assert_eq!(held(&r), 3);
}

#[test]
fn alpha0_counts_every_timeout_even_after_processing() {
    // An alpha0 instance facing the same slow beta4 manager: it waits on Processing too,
    // but each timeout uses up a retry, as every timeout always did on alpha0.
    let r = rig_of(
        Manager::beta4(Duration::from_millis(3000)),
        Generation::Alpha0,
        200,
        1,
        Faults::default(),
        metadata(),
    );
    fill(&r.proto, 2);
    let got = r.proto.synchronize(Mode::ModuleDelta, SyncOption::Sync);
    assert!(matches!(got, Err(SyncError::Timeout("End"))), "{got:?}");
    assert_eq!(count(&r, "End"), 2);
    // Nothing of the betas' wire left the alpha0 instance.
    assert_eq!(count(&r, "DataBatch"), 0);
}

#[test]
fn beta_integrity_check_waits_through_processing() {
    let r = rig_of(
        Manager::beta4(Duration::from_millis(700)),
        Generation::Beta,
        250,
        0,
        Faults::default(),
        metadata(),
    );
    fill(&r.proto, 3);
    assert!(r
        .proto
        .synchronize(Mode::ModuleDelta, SyncOption::Sync)
        .is_ok());
    let index = "wazuh-states-inventory-processes";
    let good = store(&r).checksum(index);
    assert!(matches!(
        r.proto.check_integrity(index, &good),
        Integrity::Match
    ));
    assert!(r.proto.check_integrity(index, "0000").requires_full_sync());
}

#[test]
fn beta_data_values_travel_in_batches_within_the_size_limit() {
    let r = rig_of(
        Manager::beta4(Duration::ZERO),
        Generation::Beta,
        3000,
        2,
        Faults::default(),
        metadata(),
    );
    // 300 documents of about 1 KiB: several batches; then one larger than a batch may be.
    fill_sized(&r.proto, 300, 1000);
    r.proto.persist(
        Item::new(
            "huge",
            ItemOperation::Create,
            "wazuh-states-inventory-processes",
            json!({"process": {"pad": "y".repeat(70_000)}}).to_string(),
            1,
        ),
        false,
    );
    // A context document travels as a DataContext, after the batches.
    r.proto.persist(
        Item::new(
            "ctx",
            ItemOperation::Create,
            "wazuh-states-inventory-system",
            json!({"host": {"os": {"name": "Debian"}}}).to_string(),
            1,
        ),
        true,
    );
    assert!(matches!(
        r.proto.synchronize(Mode::ModuleDelta, SyncOption::Sync),
        Ok(Outcome::Delivered { messages: 302 })
    ));
    assert_eq!(held(&r), 301);
    let sent = sent_messages(&r);
    let mut values = 0;
    let mut batches = 0;
    let mut alone = 0;
    let mut after_context = false;
    for (_, bytes, m) in &sent {
        match m {
            Message::DataBatch(vs) => {
                assert!(!after_context, "a batch after the DataContext");
                batches += 1;
                values += vs.len();
                let estimate: usize = wire::BATCH_OVERHEAD
                    + vs.iter().map(wire::Value::batch_estimate).sum::<usize>();
                if vs.len() == 1 && estimate > wire::BATCH_PAYLOAD_LIMIT {
                    alone += 1;
                    assert_eq!(vs[0].id, "huge");
                } else {
                    assert!(
                        estimate <= wire::BATCH_PAYLOAD_LIMIT,
                        "a batch of {} values estimated at {estimate}",
                        vs.len()
                    );
                    // The estimate covers what FlatBuffers writes: within the agent
                    // queue's 64 KiB message.
                    assert!(bytes.len() <= 65_536, "{} bytes", bytes.len());
                }
            }
            Message::DataValue { .. } => panic!("a DataValue outside a batch on beta"),
            Message::DataContext { .. } => after_context = true,
            _ => {}
        }
    }
    assert_eq!(values, 301);
    assert_eq!(alone, 1);
    // 300 values of ~1.1 KiB each: at least 5 batches of at most 60 KiB, and no tiny ones.
    assert!((6..=9).contains(&batches), "{batches} batches");
    assert!(after_context);
    // Start + batches + DataContext + End.
    assert_eq!(sent.len(), batches + 3);
}

#[test]
fn beta_req_ret_is_answered_with_batches() {
    let faults = Faults {
        drop_seq_once: [0u64].into_iter().collect(),
        ..Faults::default()
    };
    let r = rig_of(
        Manager::beta4(Duration::from_millis(100)),
        Generation::Beta,
        2000,
        2,
        faults,
        metadata(),
    );
    // Sequence number 0 is lost once from the first batch: it alone is asked for again,
    // and comes back in a batch of its own.
    fill(&r.proto, 40);
    assert!(r
        .proto
        .synchronize(Mode::ModuleDelta, SyncOption::Sync)
        .is_ok());
    assert_eq!(held(&r), 40);
    let k = kinds(&r);
    assert_eq!(k, ["Start", "DataBatch", "End", "DataBatch"], "{k:?}");
    match sent_messages(&r).last() {
        Some((_, _, Message::DataBatch(vs))) => {
            assert_eq!(vs.iter().map(|v| v.seq).collect::<Vec<_>>(), [0]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn beta_start_carries_the_cluster_fields_and_alpha0_never_does() {
    let with_cluster = AgentMetadata {
        cluster_name: Some("wazuh-cluster".into()),
        cluster_node: Some("node01".into()),
        ..metadata().unwrap()
    };
    let starts = |generation, meta: AgentMetadata| {
        let r = rig_of(
            Manager::beta4(Duration::ZERO),
            generation,
            2000,
            1,
            Faults::default(),
            Some(meta),
        );
        fill(&r.proto, 1);
        assert!(r
            .proto
            .synchronize(Mode::ModuleDelta, SyncOption::Sync)
            .is_ok());
        r.peer.with_manager(|m| m.starts.clone())
    };
    let s = starts(Generation::Beta, with_cluster.clone());
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].metadata.cluster_name.as_deref(), Some("wazuh-cluster"));
    assert_eq!(s[0].metadata.cluster_node.as_deref(), Some("node01"));
    assert_eq!(s[0].metadata.agent_id, "001");
    // A beta agent that does not know its cluster still writes both, empty (as beta4).
    let s = starts(Generation::Beta, metadata().unwrap());
    assert_eq!(s[0].metadata.cluster_name.as_deref(), Some(""));
    assert_eq!(s[0].metadata.cluster_node.as_deref(), Some(""));
    // alpha0: never, whatever the provider knows.
    let s = starts(Generation::Alpha0, with_cluster);
    assert_eq!(s[0].metadata.cluster_name, None);
    assert_eq!(s[0].metadata.cluster_node, None);
}

#[test]
fn alpha0_sessions_send_exactly_the_alpha0_messages() {
    let with_cluster = AgentMetadata {
        cluster_name: Some("c".into()),
        cluster_node: Some("n".into()),
        ..metadata().unwrap()
    };
    let r = rig_of(
        Manager::new(),
        Generation::Alpha0,
        2000,
        3,
        Faults::default(),
        Some(with_cluster),
    );
    fill(&r.proto, 50);
    assert!(r
        .proto
        .synchronize(Mode::ModuleDelta, SyncOption::Sync)
        .is_ok());
    assert_eq!(held(&r), 50);
    let sent = sent_messages(&r);
    // Start + 50 DataValue + End, as before the betas' wire existed.
    assert_eq!(sent.len(), 52);
    assert_eq!(count(&r, "DataValue"), 50);
    assert_eq!(count(&r, "DataBatch"), 0);
    for (_, bytes, m) in &sent {
        // Each message is the alpha0 encoding of what it says (the golden fixtures pin
        // that encoding), and a Start has no cluster field in its bytes.
        assert_eq!(&m.encode(), bytes, "{}", m.kind());
        if let Message::Start(s) = m {
            assert_eq!(s.metadata.cluster_name, None);
            let plain = Message::Start(Box::new(wire::Start {
                metadata: AgentMetadata {
                    cluster_name: None,
                    cluster_node: None,
                    ..s.metadata.clone()
                },
                ..(**s).clone()
            }))
            .encode();
            assert_eq!(&plain, bytes);
        }
    }
    // The alpha0 manager never saw a beta message kind either.
    let seen = r.peer.with_manager(|m| m.seen.clone());
    assert_eq!(seen.get("DataBatch"), None);
}

#[test]
fn an_alpha0_manager_ignores_a_data_batch_and_a_beta4_one_stores_it() {
    for (manager, stored) in [
        (Manager::new(), 0usize),
        (Manager::beta4(Duration::ZERO), 2),
    ] {
        let mut m = manager;
        let replies = m.handle(Message::Start(Box::new(wire::Start {
            module: "syscollector".into(),
            mode: Mode::ModuleDelta,
            size: 2,
            indices: vec!["wazuh-states-inventory-processes".into()],
            option: SyncOption::Sync,
            metadata: metadata().unwrap(),
            global_version: 0,
        })));
        let Some(Message::StartAck { session, .. }) = replies.into_iter().next() else {
            panic!("no StartAck");
        };
        let value = |seq: u64| wire::Value {
            seq,
            session,
            delete: false,
            id: format!("id{seq}"),
            index: "wazuh-states-inventory-processes".into(),
            version: 1,
            data: doc(seq as usize).into_bytes(),
        };
        let batch = Message::DataBatch(vec![value(0), value(1)]);
        // Through the wire and the verifier, as a manager receives it.
        let batch = Message::decode(&batch.encode()).unwrap();
        assert!(m.handle(batch).is_empty());
        let end = m.handle(Message::End { session });
        let docs = m
            .store
            .indices
            .get("wazuh-states-inventory-processes")
            .map(|d| d.len())
            .unwrap_or(0);
        assert_eq!(docs, stored);
        assert_eq!(m.seen.get("DataBatch"), Some(&1));
        if stored == 0 {
            // alpha0 asks for everything again: the batch did not count.
            assert!(matches!(&end[..], [Message::ReqRet { .. }]), "{end:?}");
        } else {
            assert!(
                matches!(
                    &end[..],
                    [Message::EndAck {
                        status: Status::Processing,
                        ..
                    }]
                ),
                "{end:?}"
            );
        }
    }
}

#[test]
fn every_beta_message_goes_through_the_verifier() {
    let r = rig(Faults::default(), 2000, 3, 0);
    let batch = Message::DataBatch(vec![wire::Value {
        seq: 0,
        session: 9,
        delete: false,
        id: "abcdefgh".into(),
        index: "wazuh-states-inventory-processes".into(),
        version: 1,
        data: b"{}".to_vec(),
    }]);
    let good = batch.encode();
    assert_eq!(Message::decode(&good).unwrap(), batch);
    // Every cut of it is either rejected or (trailing padding only) the same message.
    for cut in 0..good.len() {
        if let Ok(m) = Message::decode(&good[..cut]) {
            assert_eq!(m, batch, "cut at {cut}");
        }
    }
    // A string that is not UTF-8 inside a batched value: the verifier rejects the buffer.
    let mut bad = good.clone();
    let at = bad.windows(8).position(|w| w == b"abcdefgh").unwrap();
    bad[at] = 0xff;
    assert!(Message::decode(&bad).is_err());
    // An offset pointing outside the buffer: rejected, never read.
    for i in 0..good.len().saturating_sub(4) {
        let mut b = good.clone();
        b[i..i + 4].copy_from_slice(&0x7fff_fff0u32.to_le_bytes());
        if let Ok(m) = Message::decode(&b) {
            // Only a scalar was hit: the message still verifies as some DataBatch.
            assert_eq!(m.kind(), "DataBatch", "corrupted at {i}");
        }
    }
    // The agent side: a DataBatch or a Start is not a reply; a Processing nobody waits for
    // is ignored; a malformed Processing EndAck is rejected.
    assert!(!r.proto.parse_response(&good));
    let processing = Message::EndAck {
        status: Status::Processing,
        session: 77,
    }
    .encode();
    assert!(r.proto.parse_response(&processing));
    assert!(!r.proto.parse_response(&processing[..processing.len() / 2]));
    let start = Message::Start(Box::new(wire::Start {
        module: "syscollector".into(),
        mode: Mode::ModuleDelta,
        size: 1,
        indices: Vec::new(),
        option: SyncOption::Sync,
        metadata: AgentMetadata {
            cluster_name: Some("c".into()),
            cluster_node: Some("n".into()),
            ..AgentMetadata::default()
        },
        global_version: 0,
    }));
    let bytes = start.encode();
    assert_eq!(Message::decode(&bytes).unwrap(), start);
    assert!(!r.proto.parse_response(&bytes));
    for cut in 0..bytes.len() {
        if let Ok(m) = Message::decode(&bytes[..cut]) {
            assert_eq!(m, start, "cut at {cut}");
        }
    }
    // After all that, a session still works.
    fill(&r.proto, 2);
    assert!(r
        .proto
        .synchronize(Mode::ModuleDelta, SyncOption::Sync)
        .is_ok());
}
