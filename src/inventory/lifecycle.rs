//! The module's lifecycle: stop (and its reset for a new start), pause and resume, the scan
//! lock shared by scans and the host (which refuses a second lock from the thread holding
//! it), and the count of running scans and syncs that a pause waits for.
//!
//! Nothing here knows what a scan or a sync does; [`Inventory`](super::Inventory) asks
//! this state whether it may run one, registers it while it runs, and sleeps on it between
//! two.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::lifecycle::{wait_until, StopSignal};

/// How often a pause re-checks for a stop while it waits for running work.
const PAUSE_POLL: Duration = Duration::from_millis(200);
/// How long a scan waits for the host's scan lock before it checks for a stop again.
const SCAN_LOCK_POLL: Duration = Duration::from_millis(100);

/// Who holds the scan lock: the thread running a scan, the thread that took the host's
/// lock. At most one of them at a time.
#[derive(Debug, Default)]
struct Holders {
    scan: Option<ThreadId>,
    host: Option<ThreadId>,
}

/// The lock between scans and the host's synchronisation (`syscollector_lock_scan_mutex`).
///
/// Unlike a plain mutex it knows which thread holds it, so a second lock from the thread
/// that already holds it (the host's own, or a scan's callback asking for it) is refused
/// instead of deadlocking, and it is shared between module instances: the C ABI gives
/// every `syscollector_init` the same one, so an unlock after a re-init still releases a
/// thread that waits in a lock taken before it.
#[derive(Debug, Default)]
pub struct ScanLock {
    holders: Mutex<Holders>,
    changed: Condvar,
}

/// What the host's lock did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostLock {
    /// The host holds the lock now.
    Locked,
    /// The calling thread already holds the host's lock; nothing changed.
    AlreadyHeld,
    /// The calling thread is running a scan (a callback of that scan asked); nothing
    /// changed.
    HeldByThisScan,
}

/// Whether the host's unlock matched a lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unlock {
    Released,
    NotLocked,
}

/// Holds the scan lock for one scan; releases it however the scan ends.
struct ScanHold<'a>(&'a ScanLock);

impl Drop for ScanHold<'_> {
    fn drop(&mut self) {
        self.0.holders.lock().scan = None;
        self.0.changed.notify_all();
    }
}

impl ScanLock {
    pub fn new() -> ScanLock {
        ScanLock::default()
    }

    /// The host's lock: waits for a running scan or another thread's host lock, then holds
    /// scans back until [`unlock_host`](Self::unlock_host). Never waits on the calling
    /// thread itself.
    pub fn lock_host(&self) -> HostLock {
        let me = std::thread::current().id();
        let mut h = self.holders.lock();
        loop {
            if h.host == Some(me) {
                return HostLock::AlreadyHeld;
            }
            if h.scan == Some(me) {
                return HostLock::HeldByThisScan;
            }
            if h.host.is_none() && h.scan.is_none() {
                h.host = Some(me);
                return HostLock::Locked;
            }
            self.changed.wait(&mut h);
        }
    }

    /// Releases the host's lock (whichever thread took it); does nothing when not held.
    pub fn unlock_host(&self) -> Unlock {
        let released = self.holders.lock().host.take().is_some();
        if released {
            self.changed.notify_all();
            Unlock::Released
        } else {
            Unlock::NotLocked
        }
    }

    /// True while the host holds the lock.
    pub fn is_host_locked(&self) -> bool {
        self.holders.lock().host.is_some()
    }

    /// Runs `f` holding the lock for a scan, waiting while anyone else holds it but not
    /// past `stopping` answering true (`None` then).
    fn with_scan<T>(&self, stopping: impl Fn() -> bool, f: impl FnOnce() -> T) -> Option<T> {
        let me = std::thread::current().id();
        {
            let mut h = self.holders.lock();
            loop {
                if stopping() {
                    return None;
                }
                if h.host.is_none() && h.scan.is_none() {
                    h.scan = Some(me);
                    break;
                }
                wait_until(
                    &self.changed,
                    &mut h,
                    Instant::now() + SCAN_LOCK_POLL,
                    |h| h.host.is_none() && h.scan.is_none(),
                );
            }
        }
        let _hold = ScanHold(self);
        Some(f())
    }

    /// Wakes scans waiting for the lock (they re-check for a stop).
    fn wake(&self) {
        self.changed.notify_all();
    }
}

/// Stop, pause, scan lock and busy count.
#[derive(Default)]
pub struct Lifecycle {
    stop: StopSignal,
    paused: AtomicBool,
    scan_lock: Arc<ScanLock>,
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

impl Lifecycle {
    pub fn new() -> Lifecycle {
        Lifecycle::default()
    }

    /// A lifecycle whose scan lock is `lock` (shared with other instances).
    pub fn with_scan_lock_shared(lock: Arc<ScanLock>) -> Lifecycle {
        Lifecycle {
            scan_lock: lock,
            ..Lifecycle::default()
        }
    }

    /// True once [`stop`](Self::stop) was called (and not [`reset_stop`](Self::reset_stop)).
    pub fn is_stopping(&self) -> bool {
        self.stop.is_stopped()
    }

    /// Wakes every sleeper and pause waiter; they stay awake until
    /// [`reset_stop`](Self::reset_stop).
    pub fn stop(&self) {
        self.stop.stop();
        self.idle.notify_all();
        self.scan_lock.wake();
    }

    /// Clears a stop so that the module can run again (the reference clears its stop flag
    /// when it starts).
    pub fn reset_stop(&self) {
        self.stop.reset();
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
        self.scan_lock.with_scan(|| self.is_stopping(), f)
    }

    /// The host's lock: blocks scans until [`unlock_scan`](Self::unlock_scan); waits for a
    /// running scan. Refused (see [`HostLock`]) when the calling thread already holds it.
    pub fn lock_scan(&self) -> HostLock {
        self.scan_lock.lock_host()
    }

    /// Releases the lock taken by [`lock_scan`](Self::lock_scan); does nothing otherwise.
    pub fn unlock_scan(&self) -> Unlock {
        self.scan_lock.unlock_host()
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

    #[test]
    fn a_second_lock_from_the_same_thread_is_refused_not_a_deadlock() {
        let l = Lifecycle::new();
        assert_eq!(l.lock_scan(), HostLock::Locked);
        assert_eq!(l.lock_scan(), HostLock::AlreadyHeld);
        assert_eq!(l.unlock_scan(), Unlock::Released);
        assert_eq!(l.unlock_scan(), Unlock::NotLocked);
        // A scan's own thread (a callback of the scan) asking for the host's lock.
        assert_eq!(
            l.with_scan_lock(|| l.lock_scan()),
            Some(HostLock::HeldByThisScan)
        );
        assert_eq!(l.unlock_scan(), Unlock::NotLocked);
    }

    #[test]
    fn a_lock_shared_by_two_lifecycles_is_released_through_either() {
        let shared = Arc::new(ScanLock::new());
        let old = Arc::new(Lifecycle::with_scan_lock_shared(shared.clone()));
        let new = Lifecycle::with_scan_lock_shared(shared);
        assert_eq!(old.lock_scan(), HostLock::Locked);
        let waiter = {
            let old = old.clone();
            std::thread::spawn(move || old.lock_scan())
        };
        std::thread::sleep(Duration::from_millis(100));
        assert!(!waiter.is_finished());
        assert_eq!(new.unlock_scan(), Unlock::Released);
        assert_eq!(waiter.join().unwrap(), HostLock::Locked);
        assert_eq!(new.unlock_scan(), Unlock::Released);
    }

    #[test]
    fn a_stop_is_cleared_by_reset_stop() {
        let l = Lifecycle::new();
        l.stop();
        assert!(l.is_stopping());
        assert_eq!(l.with_scan_lock(|| 1), None);
        l.reset_stop();
        assert!(!l.is_stopping());
        assert_eq!(l.with_scan_lock(|| 1), Some(1));
    }
}
