//! The agent's side of a socket to the reference manager (the command line's `run`, the
//! first-sync benchmark).
//!
//! It plays the part the agent's message queue plays inside Wazuh: both sync instances
//! and the stateless events share one connection, each message a [`Frame`] naming its
//! module. A reader thread hands each reply to a sink with the module it is for (the
//! regular or the `_vd` instance). A failed send reconnects once, as the MQ transport does.

use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};

use super::framing::{Frame, LOC_SYNC};
use crate::sync_protocol::session::Transport;

/// Receives each reply: the module it is for, and the FlatBuffer.
pub type ReplySink = Arc<dyn Fn(&str, &[u8]) + Send + Sync>;

/// One connection to the manager, shared by every sender of the agent.
pub struct AgentLink {
    path: PathBuf,
    stream: Mutex<Option<UnixStream>>,
    sink: Arc<RwLock<Option<ReplySink>>>,
    /// Sync messages written to the socket.
    sent: Arc<AtomicUsize>,
}

impl AgentLink {
    /// A link to the manager listening at `path` (connected on first use).
    pub fn new(path: &Path) -> Arc<AgentLink> {
        Self::counting(path, Arc::default())
    }

    /// As [`new`](Self::new), adding one to `sent` for every sync message written.
    pub fn counting(path: &Path, sent: Arc<AtomicUsize>) -> Arc<AgentLink> {
        Arc::new(AgentLink {
            path: path.to_path_buf(),
            stream: Mutex::new(None),
            sink: Arc::new(RwLock::new(None)),
            sent,
        })
    }

    /// Where replies go.
    pub fn set_reply_sink(&self, sink: ReplySink) {
        *self.sink.write() = Some(sink);
    }

    fn connect(&self, slot: &mut Option<UnixStream>) -> bool {
        if let Some(old) = slot.take() {
            let _ = old.shutdown(std::net::Shutdown::Both);
        }
        let Ok(stream) = UnixStream::connect(&self.path) else {
            return false;
        };
        let Ok(mut reader) = stream.try_clone() else {
            return false;
        };
        let sink = self.sink.clone();
        std::thread::spawn(move || {
            while let Ok(Some(frame)) = Frame::read_from(&mut reader) {
                if frame.loc != LOC_SYNC {
                    continue;
                }
                let s = sink.read().clone();
                if let Some(s) = s {
                    s(&frame.location, &frame.payload);
                }
            }
        });
        *slot = Some(stream);
        true
    }

    /// Connects unless connected; false when the manager cannot be reached.
    pub fn ensure_connected(&self) -> bool {
        let mut slot = self.stream.lock();
        slot.is_some() || self.connect(&mut slot)
    }

    /// Sends one message, reconnecting once on failure.
    pub fn send(&self, loc: u8, location: &str, payload: &[u8]) -> bool {
        let frame = Frame {
            loc,
            location: location.to_string(),
            payload: payload.to_vec(),
        };
        let mut slot = self.stream.lock();
        for _ in 0..2 {
            if slot.is_none() && !self.connect(&mut slot) {
                return false;
            }
            if let Some(s) = slot.as_mut() {
                if frame.write_to(s).is_ok() {
                    if loc == LOC_SYNC {
                        self.sent.fetch_add(1, Ordering::Relaxed);
                    }
                    return true;
                }
            }
            if let Some(old) = slot.take() {
                let _ = old.shutdown(std::net::Shutdown::Both);
            }
        }
        false
    }

    /// A sync transport of `module` over this link.
    pub fn transport(self: &Arc<Self>, module: &str) -> Arc<dyn Transport> {
        Arc::new(LinkTransport {
            link: self.clone(),
            module: module.to_string(),
        })
    }
}

struct LinkTransport {
    link: Arc<AgentLink>,
    module: String,
}

impl Transport for LinkTransport {
    fn check(&self) -> bool {
        self.link.ensure_connected()
    }

    fn send(&self, message: &[u8]) -> bool {
        self.link.send(LOC_SYNC, &self.module, message)
    }
}
