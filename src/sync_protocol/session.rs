//! One Agent Sync Protocol instance: builds sessions from the queue and drives them.
//!
//! A session is `Start` → `StartAck(session)` → numbered `DataValue`/`DataContext`/
//! `DataClean` messages (or one `ChecksumModule`) → `End` → `EndAck`, with `ReqRet` asking
//! for sequence ranges to be sent again. The sending side runs in the caller's thread
//! (the host's sync thread); the manager's replies arrive on another thread through
//! [`SyncProtocol::parse_response`], which verifies them and wakes the sender. Replies for
//! another session or phase are ignored; `Error`/`Offline` end the attempt, leaving the
//! queue as it was.
//!
//! On a beta host ([`Generation::Beta`], set with [`SyncProtocol::with_generation`]) the
//! instance speaks the betas' additions as beta4's agent does: the `DataValue`s of a session
//! (and those a `ReqRet` asks for again) travel in `DataBatch`es of at most
//! [`BATCH_PAYLOAD_LIMIT`](super::wire::BATCH_PAYLOAD_LIMIT) estimated bytes, the `Start`
//! carries the cluster name and node, and an `EndAck` of status `Processing` keeps the
//! instance waiting for the final one without sending `End` again (neither it nor the
//! timeout after it uses up a retry; a timeout after it sends `End` again, which the manager
//! answers with `Processing` while it is still indexing). An alpha0 instance sends none of
//! that; it too waits on a `Processing` it should receive, counting the timeouts as before.
//!
//! Every session answers with a typed result: [`Outcome`] or [`SyncError`] for the
//! sessions that deliver, [`Integrity`] (match, mismatch, or could not run) for the
//! integrity check. The caller decides what that means for its own callers (the FFI turns
//! them into the C booleans).

use crate::sync_protocol::queue::Snapshot;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use super::queue::{Item, ItemOperation, PersistentQueue, QueueError};
use super::wire::{self as wire, AgentMetadata, Message, Mode, Start, Status, SyncOption};
use crate::generation::Generation;
use crate::lifecycle::wait_until;
use crate::{LogLevel, Logger};

/// How messages leave the agent.
pub trait Transport: Send + Sync {
    /// Makes sure the channel is open; false when it cannot be.
    fn check(&self) -> bool;
    /// Sends one serialized message; false when it could not be sent.
    fn send(&self, message: &[u8]) -> bool;
}

/// Where the `Start` message's agent facts come from; `None` means not available yet (no
/// session is opened), and the source has logged why.
pub type MetadataSource = Arc<dyn Fn() -> Option<AgentMetadata> + Send + Sync>;

/// Timing and limits of an instance.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Module name sent in `Start` and used as the MQ location.
    pub module: String,
    /// How long to wait for each StartAck/EndAck.
    pub timeout: Duration,
    /// How many times to resend Start/End after a timeout.
    pub retries: u32,
    /// Messages per second at most (0: unlimited).
    pub max_eps: usize,
    /// Pause before `End`, so the last data messages arrive first.
    pub end_delay: Duration,
}

/// What a successful session did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// There was nothing to send, so no session was opened.
    NothingToSend,
    /// The manager acknowledged a session of `messages` numbered messages.
    Delivered { messages: usize },
}

/// Why a session did not complete. Whatever the reason, the persistent queue is left as it
/// was (everything sent is pending again).
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("invalid synchronization mode {0:?}")]
    InvalidMode(Mode),
    #[error("no indices given")]
    NoIndices,
    #[error("the message queue cannot be opened")]
    TransportUnavailable,
    #[error("the agent metadata is not available yet")]
    NoMetadata,
    #[error("persistent queue: {0}")]
    Queue(#[from] QueueError),
    #[error("the {0} message could not be sent")]
    SendFailed(&'static str),
    #[error("no answer to {0} after every retry")]
    Timeout(&'static str),
    #[error("the manager is offline")]
    ManagerOffline,
    #[error("the manager reported an error")]
    ManagerError,
    #[error("the manager's checksum differs")]
    ChecksumMismatch,
    #[error("malformed ReqRet: {0}")]
    BadReqRet(&'static str),
    #[error("stopped")]
    Stopped,
    #[error("documents kept for the full synchronization were lost")]
    Incomplete,
}

/// The answer of an integrity check of one index.
#[derive(Debug)]
pub enum Integrity {
    /// The manager holds the same documents.
    Match,
    /// The manager's checksum differs: a full resend is due.
    Mismatch,
    /// The check could not run (the manager is offline, did not answer, …).
    Unavailable(SyncError),
}

impl Integrity {
    /// True only for [`Integrity::Mismatch`].
    pub fn requires_full_sync(&self) -> bool {
        matches!(self, Integrity::Mismatch)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle,
    WaitingStartAck,
    WaitingEndAck,
}

#[derive(Debug)]
struct State {
    phase: Phase,
    session: u64,
    start_ack: bool,
    end_ack: bool,
    failed: bool,
    /// Why the manager refused the session, when `failed`.
    refusal: Option<SyncError>,
    req_ret: Option<Vec<(u64, u64)>>,
    /// An `EndAck` of status `Processing` arrived and was not acted on yet.
    processing: bool,
}

impl State {
    fn new() -> State {
        State {
            phase: Phase::Idle,
            session: 0,
            start_ack: false,
            end_ack: false,
            failed: false,
            refusal: None,
            req_ret: None,
            processing: false,
        }
    }
}

/// One message of a session, kept so that a `ReqRet` can be answered.
#[derive(Debug, Clone)]
enum Outgoing {
    Value(Item),
    Context(Item),
    Clean { seq: u64, index: String },
}

impl Outgoing {
    fn seq(&self) -> u64 {
        match self {
            Outgoing::Value(i) | Outgoing::Context(i) => i.seq,
            Outgoing::Clean { seq, .. } => *seq,
        }
    }

    /// The value this message carries in a `DataBatch` (DataValues only).
    fn batch_value(&self, session: u64) -> Option<wire::Value> {
        match self {
            Outgoing::Value(i) => Some(wire::Value {
                seq: i.seq,
                session,
                delete: i.operation == ItemOperation::Delete,
                id: i.id.clone(),
                index: i.index.clone(),
                version: i.version,
                data: i.data.as_bytes().to_vec(),
            }),
            _ => None,
        }
    }

    fn encode(&self, session: u64) -> Vec<u8> {
        match self {
            Outgoing::Value(i) => Message::DataValue {
                seq: i.seq,
                session,
                delete: i.operation == ItemOperation::Delete,
                id: i.id.clone(),
                index: i.index.clone(),
                version: i.version,
                data: i.data.as_bytes().to_vec(),
            },
            Outgoing::Context(i) => Message::DataContext {
                seq: i.seq,
                session,
                id: i.id.clone(),
                index: i.index.clone(),
                data: i.data.as_bytes().to_vec(),
            },
            Outgoing::Clean { seq, index } => Message::DataClean {
                seq: *seq,
                session,
                index: index.clone(),
            },
        }
        .encode()
    }
}

/// How many queued items a DELTA session reads from its snapshot at a time.
const PAGE: usize = 512;

/// The numbered messages of a session: in memory (FULL sessions, DataClean, which are
/// small or already in memory), or the queue's session snapshot read a page at a time
/// (DELTA sessions), so a session of any size costs a page of memory.
enum Messages<'a> {
    Memory(Vec<Outgoing>),
    Snapshot(&'a PersistentQueue),
}

impl Messages<'_> {
    /// Calls `f` with every message (DataValues first, then DataContexts, each in sequence
    /// order), or only those whose sequence number is in one of `ranges`; returns how many.
    fn each(
        &self,
        ranges: Option<&[(u64, u64)]>,
        f: &mut dyn FnMut(&Outgoing) -> Result<(), SyncError>,
    ) -> Result<usize, SyncError> {
        let wanted =
            |seq: u64| ranges.is_none_or(|r| r.iter().any(|&(b, e)| (b..=e).contains(&seq)));
        let mut n = 0;
        match self {
            Messages::Memory(all) => {
                for o in all.iter().filter(|o| wanted(o.seq())) {
                    f(o)?;
                    n += 1;
                }
            }
            Messages::Snapshot(queue) => {
                for contexts in [false, true] {
                    let mut after = None;
                    loop {
                        let page = queue.session_page(contexts, after, PAGE)?;
                        let Some(last) = page.last() else {
                            break;
                        };
                        after = Some(last.seq);
                        let full = page.len() == PAGE;
                        for item in page.into_iter().filter(|i| wanted(i.seq)) {
                            let o = if contexts {
                                Outgoing::Context(item)
                            } else {
                                Outgoing::Value(item)
                            };
                            f(&o)?;
                            n += 1;
                        }
                        if !full {
                            break;
                        }
                    }
                }
            }
        }
        Ok(n)
    }
}

/// Counts messages in one-second windows; the first window opens with the first message.
struct RateLimiter {
    window: Option<Instant>,
    sent: usize,
}

/// One sync protocol instance (the regular one or the vulnerability-detector one).
pub struct SyncProtocol {
    settings: Settings,
    queue: PersistentQueue,
    transport: Arc<dyn Transport>,
    metadata: MetadataSource,
    log: Logger,
    state: Mutex<State>,
    wake: Condvar,
    stop: AtomicBool,
    /// How many documents were kept for the next FULL session (in the queue's temporary
    /// storage, see [`PersistentQueue::keep_for_full`]), or `None` once one could not be.
    kept: Mutex<Option<usize>>,
    session_lock: Mutex<()>,
    limiter: Mutex<RateLimiter>,
    generation: Generation,
}

/// The `DataValue`s waiting to leave in one `DataBatch`, and their estimated size.
struct Batch {
    values: Vec<wire::Value>,
    size: usize,
}

impl Batch {
    fn new() -> Batch {
        Batch {
            values: Vec::new(),
            size: wire::BATCH_OVERHEAD,
        }
    }
}

impl SyncProtocol {
    /// An instance over `queue`, sending through `transport`.
    pub fn new(
        settings: Settings,
        queue: PersistentQueue,
        transport: Arc<dyn Transport>,
        metadata: MetadataSource,
        log: Logger,
    ) -> SyncProtocol {
        SyncProtocol {
            settings,
            queue,
            transport,
            metadata,
            log,
            state: Mutex::new(State::new()),
            wake: Condvar::new(),
            stop: AtomicBool::new(false),
            kept: Mutex::new(Some(0)),
            session_lock: Mutex::new(()),
            limiter: Mutex::new(RateLimiter {
                window: None,
                sent: 0,
            }),
            generation: Generation::Alpha0,
        }
    }

    /// The instance serving a host of `generation` (alpha0 unless told).
    pub fn with_generation(mut self, generation: Generation) -> SyncProtocol {
        self.generation = generation;
        self
    }

    /// The host generation this instance speaks to.
    pub fn generation(&self) -> Generation {
        self.generation
    }

    /// `level` on an alpha0 host; DEBUG on a beta one, where beta4's agent leaves the
    /// reporting of a failed session to the module and logs the protocol's details at DEBUG.
    fn detail(&self, level: LogLevel) -> LogLevel {
        if self.generation.is_beta() {
            LogLevel::Debug
        } else {
            level
        }
    }

    fn log(&self, level: LogLevel, msg: &str) {
        (self.log)(level, msg)
    }

    /// The instance's persistent queue.
    pub fn queue(&self) -> &PersistentQueue {
        &self.queue
    }

    /// The module name this instance announces.
    pub fn module(&self) -> &str {
        &self.settings.module
    }

    /// Queues one difference (or, with `is_data_context`, one context document).
    pub fn persist(&self, mut item: Item, is_data_context: bool) {
        item.is_data_context = is_data_context;
        if let Err(e) = self.queue.submit(item) {
            self.log(LogLevel::Error, &format!("Failed to persist item: {e}"));
        }
    }

    /// Keeps a document for the next FULL session (recovery), as the reference's
    /// `persistDifferenceInMemory` does; ours are kept in the queue's temporary storage,
    /// so that a recovery of any size costs no more memory than a page of it.
    pub fn persist_in_memory(&self, item: Item) {
        let mut kept = self.kept.lock();
        match self.queue.keep_for_full(&item) {
            Ok(()) => *kept = kept.map(|n| n + 1),
            Err(e) => {
                if kept.is_some() {
                    self.log(
                        LogLevel::Error,
                        &format!("Failed to keep an item for the full synchronization: {e}"),
                    );
                }
                *kept = None;
            }
        }
    }

    /// Drops the documents kept for the next FULL session.
    pub fn clear_in_memory(&self) {
        let mut kept = self.kept.lock();
        if let Err(e) = self.queue.clear_kept() {
            self.log(
                LogLevel::Debug,
                &format!("Cannot clear the items kept for a full synchronization: {e}"),
            );
        }
        *kept = Some(0);
    }

    /// The kept documents as the session snapshot, or why they cannot be sent: a FULL
    /// session sends every document or none (the manager replaces the index with it).
    fn snapshot_kept(&self) -> Result<Snapshot, SyncError> {
        let mut kept = self.kept.lock();
        let expected = kept.replace(0);
        let snapshot = self.queue.snapshot_kept()?;
        match expected {
            Some(n) if n == snapshot.total => Ok(snapshot),
            _ => {
                let _ = self.queue.drop_snapshot();
                Err(SyncError::Incomplete)
            }
        }
    }

    /// Makes waits and sends return at once until [`reset`](Self::reset).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        let _guard = self.state.lock();
        self.wake.notify_all();
    }

    /// Allows sessions again after [`stop`](Self::stop).
    pub fn reset(&self) {
        self.stop.store(false, Ordering::SeqCst);
    }

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Runs one FULL (in-memory documents) or DELTA (persistent queue) session.
    pub fn synchronize(&self, mode: Mode, option: SyncOption) -> Result<Outcome, SyncError> {
        if mode != Mode::ModuleFull && mode != Mode::ModuleDelta {
            self.log(
                LogLevel::Error,
                &format!("Invalid synchronization mode: {mode:?}"),
            );
            return Err(SyncError::InvalidMode(mode));
        }
        let _one_session = self.session_lock.lock();
        if !self.transport.check() {
            self.log(LogLevel::Error, "Failed to open the message queue");
            return Err(SyncError::TransportUnavailable);
        }
        self.reset_state();
        let snapshot = if mode == Mode::ModuleFull {
            self.snapshot_kept()
        } else {
            self.queue.snapshot_for_sync().map_err(SyncError::from)
        };
        // Both read the session snapshot a page at a time: DataValues first, then
        // DataContexts, each keeping its sequence number.
        let (messages, total, indices) = match snapshot {
            Ok(snapshot) => (
                Messages::Snapshot(&self.queue),
                snapshot.total,
                snapshot.indices,
            ),
            Err(e) => {
                self.log(
                    LogLevel::Error,
                    &format!("Failed to fetch items for sync: {e}"),
                );
                return Err(e);
            }
        };
        if total == 0 {
            self.log(
                LogLevel::Debug,
                &format!("No items to synchronize in {mode:?} mode"),
            );
            let _ = self.queue.drop_snapshot();
            return Ok(Outcome::NothingToSend);
        }

        let result = self
            .start_and_wait(mode, total as u64, indices, option)
            .and_then(|()| self.send_all(&messages, None))
            .and_then(|()| self.end_and_wait(&messages));
        let ok = result.is_ok();

        let _ = self.queue.drop_snapshot();
        let finalized = if mode == Mode::ModuleFull {
            Ok(())
        } else {
            if ok {
                self.queue.clear_synced()
            } else {
                self.queue.reset_syncing()
            }
        };
        if let Err(e) = finalized {
            self.log(
                LogLevel::Error,
                &format!("Failed to finalize sync state: {e}"),
            );
        }
        if ok {
            self.log(
                LogLevel::DebugVerbose,
                "Synchronization completed successfully.",
            );
        }
        self.reset_state();
        result.map(|()| Outcome::Delivered { messages: total })
    }

    /// Integrity check of one index: compares `checksum` with the manager's copy.
    pub fn check_integrity(&self, index: &str, checksum: &str) -> Integrity {
        let _one_session = self.session_lock.lock();
        if !self.transport.check() {
            return Integrity::Unavailable(SyncError::TransportUnavailable);
        }
        self.reset_state();
        if let Err(e) = self.start_and_wait(
            Mode::ModuleCheck,
            0,
            vec![index.to_string()],
            SyncOption::Sync,
        ) {
            self.reset_state();
            if matches!(e, SyncError::Stopped) {
                return self.integrity_stopped(index);
            }
            self.log(
                LogLevel::Error,
                "Failed to send Start message for integrity check",
            );
            return Integrity::Unavailable(e);
        }
        let session = self.state.lock().session;
        let msg = Message::ChecksumModule {
            session,
            index: index.to_string(),
            checksum: checksum.to_string(),
        };
        if let Err(e) = self.send(&msg.encode(), "ChecksumModule") {
            self.reset_state();
            if matches!(e, SyncError::Stopped) || self.stopping() {
                return self.integrity_stopped(index);
            }
            self.log(LogLevel::Error, "Failed to send ChecksumModule message");
            return Integrity::Unavailable(e);
        }
        let answer = self.end_and_wait(&Messages::Memory(Vec::new()));
        self.reset_state();
        match answer {
            Ok(()) => {
                self.log(
                    LogLevel::Debug,
                    &format!("Module integrity check completed successfully for index: {index}"),
                );
                Integrity::Match
            }
            Err(SyncError::Stopped) => self.integrity_stopped(index),
            Err(e) => {
                let mismatch = matches!(e, SyncError::ChecksumMismatch);
                self.log(
                    LogLevel::Warning,
                    &format!(
                        "Module integrity check failed for index: {index} - {}",
                        if mismatch {
                            "Checksum validation failed, full sync required"
                        } else {
                            "Manager is offline"
                        }
                    ),
                );
                if mismatch {
                    Integrity::Mismatch
                } else {
                    Integrity::Unavailable(e)
                }
            }
        }
    }

    /// The answer of an integrity check that a stop ended, at whatever step: the manager
    /// is not to blame (no "Manager is offline"), the module is stopping.
    fn integrity_stopped(&self, index: &str) -> Integrity {
        self.log(
            LogLevel::Info,
            &format!(
                "Module integrity check stopped for index: {index} - the module is stopping; it runs again after the next start"
            ),
        );
        Integrity::Unavailable(SyncError::Stopped)
    }

    /// Tells the manager that everything of `indices` is gone; on success drops their queued
    /// items.
    pub fn notify_data_clean(
        &self,
        indices: &[String],
        option: SyncOption,
    ) -> Result<Outcome, SyncError> {
        if indices.is_empty() {
            self.log(
                LogLevel::Error,
                "Cannot notify data clean with empty indices vector",
            );
            return Err(SyncError::NoIndices);
        }
        let _one_session = self.session_lock.lock();
        if !self.transport.check() {
            return Err(SyncError::TransportUnavailable);
        }
        self.reset_state();
        let outgoing: Vec<Outgoing> = indices
            .iter()
            .enumerate()
            .map(|(seq, index)| Outgoing::Clean {
                seq: seq as u64,
                index: index.clone(),
            })
            .collect();
        let count = outgoing.len();
        let messages = Messages::Memory(outgoing);
        let result = self
            .start_and_wait(Mode::ModuleDelta, count as u64, indices.to_vec(), option)
            .and_then(|()| self.send_all(&messages, None))
            .and_then(|()| self.end_and_wait(&messages));
        if result.is_ok() {
            self.log(
                LogLevel::Debug,
                "DataClean notification completed successfully. Clearing local database.",
            );
            for index in indices {
                if let Err(e) = self.queue.clear_index(index) {
                    self.log(
                        LogLevel::Error,
                        &format!("Failed to clear local database: {e}"),
                    );
                    self.reset_state();
                    return Err(e.into());
                }
            }
        } else {
            self.log(LogLevel::Warning, "DataClean notification failed.");
        }
        self.reset_state();
        result.map(|()| Outcome::Delivered { messages: count })
    }

    fn reset_state(&self) {
        *self.state.lock() = State::new();
    }

    /// Sends one message (`what` names it in the error), keeping to `max_eps`.
    fn send(&self, message: &[u8], what: &'static str) -> Result<(), SyncError> {
        if self.settings.max_eps > 0 {
            let mut l = self.limiter.lock();
            let now = Instant::now();
            let window = match l.window {
                Some(w) if now.duration_since(w) < Duration::from_secs(1) => w,
                _ => {
                    l.sent = 0;
                    now
                }
            };
            l.window = Some(window);
            if l.sent >= self.settings.max_eps {
                drop(l);
                self.sleep_until(window + Duration::from_secs(1));
                l = self.limiter.lock();
                l.window = Some(Instant::now());
                l.sent = 0;
            }
            l.sent += 1;
        }
        if self.transport.send(message) {
            Ok(())
        } else {
            Err(SyncError::SendFailed(what))
        }
    }

    /// Sleeps until `deadline` or a stop.
    fn sleep_until(&self, deadline: Instant) {
        let mut state = self.state.lock();
        wait_until(&self.wake, &mut state, deadline, |_| self.stopping());
    }

    fn start_and_wait(
        &self,
        mode: Mode,
        size: u64,
        indices: Vec<String>,
        option: SyncOption,
    ) -> Result<(), SyncError> {
        // The source logs why it has none (the reference's warnings).
        let Some(mut metadata) = (self.metadata)() else {
            return Err(SyncError::NoMetadata);
        };
        if self.generation.is_beta() {
            // beta4 always writes both, empty when the agent does not know its cluster.
            metadata.cluster_name.get_or_insert_with(String::new);
            metadata.cluster_node.get_or_insert_with(String::new);
        } else {
            metadata.cluster_name = None;
            metadata.cluster_node = None;
        }
        self.log(
            LogLevel::Debug,
            "Metadata available. Proceed with synchronization.",
        );
        let start = Message::Start(Box::new(Start {
            module: self.settings.module.clone(),
            mode,
            size,
            indices,
            option,
            metadata,
            global_version: 0,
        }))
        .encode();
        self.state.lock().phase = Phase::WaitingStartAck;
        let mut last_error = SyncError::Timeout("Start");
        for _attempt in 0..=self.settings.retries {
            if self.stopping() {
                return Err(SyncError::Stopped);
            }
            if let Err(e) = self.send(&start, "Start") {
                self.log(
                    self.detail(LogLevel::Warning),
                    "Failed to send Start message.",
                );
                last_error = e;
                continue;
            }
            let deadline = Instant::now() + self.settings.timeout;
            let mut st = self.state.lock();
            wait_until(&self.wake, &mut st, deadline, |st| {
                st.start_ack || st.failed || self.stopping()
            });
            if st.failed {
                self.log(
                    self.detail(LogLevel::Error),
                    "Synchronization failed due to manager error.",
                );
                return Err(st.refusal.take().unwrap_or(SyncError::ManagerError));
            }
            if st.start_ack {
                self.log(
                    LogLevel::Debug,
                    &format!("StartAck received. Session: {}", st.session),
                );
                return Ok(());
            }
            drop(st);
            if self.stopping() {
                return Err(SyncError::Stopped);
            }
            last_error = SyncError::Timeout("Start");
            self.log(
                self.detail(LogLevel::Warning),
                "Timed out waiting for StartAck. Retrying...",
            );
        }
        if self.generation.is_beta() {
            self.log(
                LogLevel::Debug,
                "Exceeded maximum retries for Start message.",
            );
        } else {
            self.log(
                LogLevel::Error,
                "Exceeded maximum retries for Start message. Exiting...",
            );
        }
        Err(last_error)
    }

    fn send_all(
        &self,
        messages: &Messages<'_>,
        ranges: Option<&[(u64, u64)]>,
    ) -> Result<(), SyncError> {
        let session = self.state.lock().session;
        let batching = self.generation.is_beta();
        let mut batch = Batch::new();
        messages.each(ranges, &mut |o| {
            if self.stopping() {
                self.log(
                    LogLevel::Info,
                    "Stop requested, aborting data message sending",
                );
                return Err(SyncError::Stopped);
            }
            if batching {
                if let Some(v) = o.batch_value(session) {
                    let cost = v.batch_estimate();
                    if !batch.values.is_empty() && batch.size + cost > wire::BATCH_PAYLOAD_LIMIT {
                        self.flush_batch(&mut batch)?;
                    }
                    batch.size += cost;
                    batch.values.push(v);
                    return Ok(());
                }
                // DataContext and DataClean travel alone, after the values before them.
                self.flush_batch(&mut batch)?;
            }
            if let Err(e) = self.send(&o.encode(session), "Data") {
                self.log(LogLevel::Error, "Failed to send Data message.");
                return Err(e);
            }
            Ok(())
        })?;
        self.flush_batch(&mut batch)
    }

    /// Sends the values gathered in `batch` as one `DataBatch` (nothing when empty).
    fn flush_batch(&self, batch: &mut Batch) -> Result<(), SyncError> {
        if batch.values.is_empty() {
            return Ok(());
        }
        let size = batch.size;
        let values = std::mem::take(&mut batch.values);
        *batch = Batch::new();
        self.log(
            LogLevel::DebugVerbose,
            &format!(
                "Sending DataBatch with {} DataValues (~{size} bytes).",
                values.len()
            ),
        );
        if let Err(e) = self.send(&Message::DataBatch(values).encode(), "DataBatch") {
            self.log(LogLevel::Debug, "Failed to send DataBatch message.");
            return Err(e);
        }
        Ok(())
    }

    fn end_and_wait(&self, messages: &Messages<'_>) -> Result<(), SyncError> {
        let session = {
            let mut st = self.state.lock();
            st.phase = Phase::WaitingEndAck;
            st.session
        };
        let end = Message::End { session }.encode();
        if !self.settings.end_delay.is_zero() {
            self.sleep_until(Instant::now() + self.settings.end_delay);
        }
        let beta = self.generation.is_beta();
        let mut send_end = true;
        let mut last_error = SyncError::Timeout("End");
        // alpha0: every turn of the loop uses up an attempt. beta (as beta4's agent): only
        // a failed send of End, or a timeout right after sending it, does.
        let mut attempt = 0;
        while attempt <= self.settings.retries {
            if self.stopping() {
                return Err(SyncError::Stopped);
            }
            if send_end {
                if let Err(e) = self.send(&end, "End") {
                    self.log(
                        self.detail(LogLevel::Warning),
                        "Failed to send End message.",
                    );
                    last_error = e;
                    attempt += 1;
                    continue;
                }
            }
            let sent_end = send_end;
            let deadline = Instant::now() + self.settings.timeout;
            let mut st = self.state.lock();
            wait_until(&self.wake, &mut st, deadline, |st| {
                st.end_ack || st.req_ret.is_some() || st.failed || st.processing || self.stopping()
            });
            if st.failed {
                let refusal = st.refusal.take().unwrap_or(SyncError::ManagerError);
                if !matches!(refusal, SyncError::ChecksumMismatch) {
                    self.log(
                        self.detail(LogLevel::Error),
                        "Synchronization failed: Manager reported an error status.",
                    );
                }
                return Err(refusal);
            }
            if st.end_ack {
                self.log(LogLevel::Debug, "EndAck received.");
                return Ok(());
            }
            if let Some(ranges) = st.req_ret.take() {
                drop(st);
                if ranges.is_empty() {
                    self.log(
                        self.detail(LogLevel::Error),
                        "Received ReqRet with empty ranges. Aborting current sync attempt.",
                    );
                    return Err(SyncError::BadReqRet("no ranges"));
                }
                if ranges.iter().any(|&(b, e)| e < b) {
                    self.log(
                        LogLevel::Error,
                        "Requested set of ranks malformed. Aborting.",
                    );
                    return Err(SyncError::BadReqRet("a range ends before it begins"));
                }
                let again = messages.each(Some(&ranges), &mut |_| Ok(()))?;
                if again == 0 {
                    self.log(
                        self.detail(LogLevel::Error),
                        "ReqRet asked for ranges that yield no data. Aborting.",
                    );
                    return Err(SyncError::BadReqRet("the ranges hold no message"));
                }
                self.log(
                    LogLevel::Debug,
                    &format!("Resending {again} messages for ReqRet"),
                );
                if let Err(e) = self.send_all(messages, Some(&ranges)) {
                    self.log(
                        self.detail(LogLevel::Error),
                        "Failed to resend data for ReqRet.",
                    );
                    return Err(e);
                }
                // The manager answers the resent data with EndAck (or another ReqRet).
                send_end = false;
                if !beta {
                    attempt += 1;
                }
                continue;
            }
            if st.processing {
                // The manager has everything and is indexing it: wait again, without End.
                st.processing = false;
                send_end = false;
                continue;
            }
            drop(st);
            if self.stopping() {
                return Err(SyncError::Stopped);
            }
            last_error = SyncError::Timeout("End");
            self.log(
                self.detail(LogLevel::Warning),
                "Timeout waiting for EndAck or ReqRet. Retrying...",
            );
            // The End itself (or the manager's answer) may have been lost: ask again.
            send_end = true;
            if sent_end || !beta {
                attempt += 1;
            }
        }
        if beta {
            self.log(LogLevel::Debug, "Exceeded maximum retries for End message.");
        } else {
            self.log(
                LogLevel::Error,
                "Exceeded maximum retries for End message. Exiting...",
            );
        }
        Err(last_error)
    }

    /// Handles one reply from the manager. False when the buffer is rejected or not a
    /// reply this side understands.
    pub fn parse_response(&self, buf: &[u8]) -> bool {
        let msg = match Message::decode(buf) {
            Ok(m) => m,
            Err(e) => {
                self.log(LogLevel::Error, &format!("Invalid FlatBuffer message: {e}"));
                return false;
            }
        };
        let mut st = self.state.lock();
        match msg {
            Message::StartAck { status, session } => {
                if st.phase != Phase::WaitingStartAck {
                    self.log(
                        LogLevel::Debug,
                        &format!(
                            "StartAck discarded: not waiting for it (phase {:?})",
                            st.phase
                        ),
                    );
                    return true;
                }
                if matches!(status, Status::Error | Status::Offline) {
                    self.log(
                        self.detail(LogLevel::Error),
                        "Received StartAck with error status. Aborting synchronization.",
                    );
                    st.failed = true;
                    st.refusal = Some(if status == Status::Offline {
                        SyncError::ManagerOffline
                    } else {
                        SyncError::ManagerError
                    });
                } else {
                    st.session = session;
                    st.start_ack = true;
                    self.log(
                        LogLevel::Debug,
                        &format!("Received and accepted for new session: {session}"),
                    );
                }
            }
            Message::EndAck { status, session } => {
                if st.phase != Phase::WaitingEndAck || st.session != session {
                    self.log(
                        LogLevel::Debug,
                        &format!(
                            "EndAck discarded: phase {:?}, session {session} (expected {})",
                            st.phase, st.session
                        ),
                    );
                    return true;
                }
                let failure = match status {
                    Status::Ok => None,
                    Status::Processing => {
                        self.log(
                            LogLevel::Debug,
                            &format!("Manager is processing session '{session}'. Waiting..."),
                        );
                        st.processing = true;
                        self.wake.notify_all();
                        return true;
                    }
                    Status::Offline => Some((
                        self.detail(LogLevel::Error),
                        "Received EndAck with Offline status. Aborting synchronization.",
                        SyncError::ManagerOffline,
                    )),
                    Status::ChecksumMismatch => Some((
                        LogLevel::Debug,
                        "Checksum mismatch detected by manager, full resync will be triggered.",
                        SyncError::ChecksumMismatch,
                    )),
                    Status::Error => Some((
                        self.detail(LogLevel::Error),
                        "Received EndAck with Error status. Aborting synchronization.",
                        SyncError::ManagerError,
                    )),
                };
                match failure {
                    None => {
                        st.refusal = None;
                        st.end_ack = true;
                    }
                    Some((level, msg, refusal)) => {
                        self.log(level, msg);
                        st.refusal = Some(refusal);
                        st.failed = true;
                    }
                }
            }
            Message::ReqRet { session, ranges } => {
                if st.phase != Phase::WaitingEndAck || st.session != session {
                    self.log(
                        LogLevel::Debug,
                        &format!("ReqRet discarded: phase {:?}, session {session}", st.phase),
                    );
                    return true;
                }
                self.log(
                    LogLevel::Debug,
                    &format!("ReqRet received '{}' ranges", ranges.len()),
                );
                st.req_ret = Some(ranges);
            }
            other => {
                self.log(
                    LogLevel::Debug,
                    &format!("Unexpected message type from manager: {}", other.kind()),
                );
                return false;
            }
        }
        self.wake.notify_all();
        true
    }
}
