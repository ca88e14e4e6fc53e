//! The module's lifecycle: stop, pause and resume, the host's scan lock, and the count of
//! running scans and syncs that a pause waits for.
//!
//! Nothing here knows what a scan or a sync does; [`Inventory`](super::Inventory) asks
//! this state whether it may run one, registers it while it runs, and sleeps on it between
//! two.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::lifecycle::{wait_until, StopSignal};

/// How often a pause re-checks for a stop while it waits for running work.
const PAUSE_POLL: Duration = Duration::from_millis(200);
/// How long a scan waits for the host's scan lock before it checks for a stop again.
const SCAN_LOCK_POLL: Duration = Duration::from_millis(100);

/// Stop, pause, scan lock and busy count.
#[derive(Default)]
pub struct Lifecycle {
    stop: StopSignal,
    paused: AtomicBool,
    scan_mutex: Mutex<()>,
    externally_locked: AtomicBool,
    /// Scans and syncs running now; a pause waits until it is 0.
    busy: Mutex<u32>,
    idle: Condvar,
}

/// Counts one running scan or sync and wakes pause waiters however it ends.
pub struct Busy<'a>(&'a Lifecycle);

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        let mut busy = self.0.busy.lock();
        *busy = busy.saturating_sub(1);
        drop(busy);
        self.0.idle.notify_all();
    }
}

/// Whether the host's unlock matched a lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unlock {
    Released,
    NotLocked,
}

impl Lifecycle {
    pub fn new() -> Lifecycle {
        Lifecycle::default()
    }

    /// True once [`stop`](Self::stop) was called.
    pub fn is_stopping(&self) -> bool {
        self.stop.is_stopped()
    }

    /// Wakes every sleeper and pause waiter for good.
    pub fn stop(&self) {
        self.stop.stop();
        self.idle.notify_all();
    }

    /// Sleeps until `deadline` or a stop; true when stopped.
    pub fn sleep_until(&self, deadline: Instant) -> bool {
        self.stop.sleep_until(deadline)
    }

    /// Sleeps `duration` or until a stop; true when stopped.
    pub fn sleep(&self, duration: Duration) -> bool {
        self.sleep_until(Instant::now() + duration)
    }

    /// Registers a running scan or sync until the returned guard drops.
    pub fn busy(&self) -> Busy<'_> {
        *self.busy.lock() += 1;
        Busy(self)
    }

    /// Stops new scans and waits until running work finishes; false when a stop
    /// interrupted the wait.
    pub fn pause(&self) -> bool {
        self.paused.store(true, Ordering::SeqCst);
        let mut busy = self.busy.lock();
        while !wait_until(&self.idle, &mut busy, Instant::now() + PAUSE_POLL, |b| {
            *b == 0 || self.is_stopping()
        }) {}
        drop(busy);
        !self.is_stopping()
    }

    /// Lets scans run again.
    pub fn resume(&self) {
        self.paused.store(false, Ordering::SeqCst);
        self.stop.notify();
    }

    /// True while paused.
    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::SeqCst)
    }

    /// Runs `f` holding the scan lock, waiting while the host holds it but not past a
    /// stop (`None` then).
    pub fn with_scan_lock<T>(&self, f: impl FnOnce() -> T) -> Option<T> {
        loop {
            if self.is_stopping() {
                return None;
            }
            if let Some(_guard) = self.scan_mutex.try_lock_for(SCAN_LOCK_POLL) {
                return Some(f());
            }
        }
    }

    /// The host's lock: blocks scans until [`unlock_scan`](Self::unlock_scan); waits for a
    /// running scan.
    pub fn lock_scan(&self) {
        let guard = self.scan_mutex.lock();
        std::mem::forget(guard);
        self.externally_locked.store(true, Ordering::SeqCst);
    }

    /// Releases the lock taken by [`lock_scan`](Self::lock_scan); does nothing otherwise.
    pub fn unlock_scan(&self) -> Unlock {
        if self.externally_locked.swap(false, Ordering::SeqCst) {
            // SAFETY: the flag was set by `lock_scan`, which forgot its guard, so the mutex
            // is locked and owned by the host's lock/unlock pair; we release it once.
            unsafe { self.scan_mutex.force_unlock() };
            Unlock::Released
        } else {
            Unlock::NotLocked
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn pause_waits_for_busy_work_and_a_stop_interrupts_it() {
        let l = Arc::new(Lifecycle::new());
        let busy = l.busy();
        let waiter = {
            let l = l.clone();
            std::thread::spawn(move || l.pause())
        };
        std::thread::sleep(Duration::from_millis(50));
        assert!(!waiter.is_finished());
        drop(busy);
        assert!(waiter.join().unwrap());
        assert!(l.is_paused());

        let _busy = l.busy();
        let waiter = {
            let l = l.clone();
            std::thread::spawn(move || l.pause())
        };
        std::thread::sleep(Duration::from_millis(50));
        l.stop();
        assert!(!waiter.join().unwrap());
    }

    #[test]
    fn the_host_lock_holds_scans_back_and_a_stop_ends_the_wait() {
        let l = Arc::new(Lifecycle::new());
        assert_eq!(l.unlock_scan(), Unlock::NotLocked);
        l.lock_scan();
        let scanner = {
            let l = l.clone();
            std::thread::spawn(move || l.with_scan_lock(|| 7))
        };
        std::thread::sleep(Duration::from_millis(150));
        assert!(!scanner.is_finished());
        assert_eq!(l.unlock_scan(), Unlock::Released);
        assert_eq!(scanner.join().unwrap(), Some(7));

        l.lock_scan();
        let scanner = {
            let l = l.clone();
            std::thread::spawn(move || l.with_scan_lock(|| 7))
        };
        l.stop();
        assert_eq!(scanner.join().unwrap(), None);
        assert_eq!(l.unlock_scan(), Unlock::Released);
    }
}
