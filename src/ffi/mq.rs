//! The sync protocol's transport over the host's message queue (`MQ_Functions`).
//!
//! Each message goes out as `send_binary(queue, bytes, len, <module name>, 's')`, exactly as
//! the agent's other modules send theirs. A failed send reopens the queue through
//! `start(DEFAULTQUEUE, WRITE, 0)` and tries once more.

use std::ffi::CString;
use std::os::raw::{c_char, c_int, c_short};

use parking_lot::Mutex;

use super::boundary::to_cstring;
use super::types::MQ_Functions;
use crate::sync_protocol::Transport;
use crate::{LogLevel, Logger};

/// The agent's queue socket, relative to the agent's home.
const DEFAULT_QUEUE: &str = "queue/sockets/queue";
/// `WRITE` mode of the host's `StartMQ`.
const WRITE: c_short = 2;
/// Location byte of sync messages.
const SYNC_MQ: c_char = b's' as c_char;

/// Sends through the host's `MQ_Functions`.
pub struct MqTransport {
    funcs: MQ_Functions,
    module: CString,
    queue_path: CString,
    queue: Mutex<c_int>,
    log: Logger,
}

// SAFETY: MQ_Functions holds plain C function pointers that the host provides for use from
// any thread (the C daemon calls them from several threads itself).
unsafe impl Send for MqTransport {}
// SAFETY: as above; the queue descriptor is behind a mutex.
unsafe impl Sync for MqTransport {}

impl MqTransport {
    /// A transport for `module` over the host's functions.
    pub fn new(funcs: MQ_Functions, module: &str, log: Logger) -> MqTransport {
        MqTransport {
            funcs,
            module: to_cstring(module),
            queue_path: to_cstring(DEFAULT_QUEUE),
            queue: Mutex::new(-1),
            log,
        }
    }

    fn start(&self) -> c_int {
        match self.funcs.start {
            // SAFETY: host-provided function with this signature; the path outlives the call.
            Some(start) => unsafe { start(self.queue_path.as_ptr(), WRITE, 0) },
            None => -1,
        }
    }

    fn send_on(&self, queue: c_int, message: &[u8]) -> bool {
        match self.funcs.send_binary {
            // SAFETY: host-provided function; the buffer and strings outlive the call.
            Some(send) => unsafe {
                send(
                    queue,
                    message.as_ptr().cast(),
                    message.len(),
                    self.module.as_ptr(),
                    SYNC_MQ,
                ) >= 0
            },
            None => false,
        }
    }
}

impl Transport for MqTransport {
    fn check(&self) -> bool {
        let mut q = self.queue.lock();
        if *q < 0 {
            *q = self.start();
        }
        if *q < 0 {
            (self.log)(
                LogLevel::Error,
                &format!("Failed to open queue: {DEFAULT_QUEUE}"),
            );
            return false;
        }
        true
    }

    fn send(&self, message: &[u8]) -> bool {
        let mut q = self.queue.lock();
        if self.send_on(*q, message) {
            return true;
        }
        (self.log)(
            LogLevel::Debug,
            "Failed to send message, attempting to reinitialize queue...",
        );
        *q = self.start();
        if *q >= 0 && self.send_on(*q, message) {
            return true;
        }
        (self.log)(LogLevel::Debug, "Failed to send message after retry");
        false
    }
}
