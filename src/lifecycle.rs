//! Waiting that a stop can cut short: the one "sleep until a deadline, a condition or a
//! stop" primitive of the crate.
//!
//! [`wait_until`] is the loop every waiter needs around a condition variable (spurious
//! wake-ups, a deadline, a condition checked under the lock). [`StopSignal`] is a stop
//! flag with its condition variable, for the threads that sleep between two pieces of work
//! and must wake at once when the module stops.

use std::time::Instant;

use parking_lot::{Condvar, Mutex, MutexGuard};

/// Waits on `wake` (with `guard` held between checks) until `ready` answers true or
/// `deadline` passes. Returns whether `ready` answered true; it is checked before the
/// first wait and after every wake-up, so a condition that already holds returns at once.
pub fn wait_until<T>(
    wake: &Condvar,
    guard: &mut MutexGuard<'_, T>,
    deadline: Instant,
    mut ready: impl FnMut(&mut T) -> bool,
) -> bool {
    loop {
        if ready(guard) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        wake.wait_until(guard, deadline);
    }
}

/// A stop flag that sleepers can wait on.
#[derive(Debug, Default)]
pub struct StopSignal {
    stopped: Mutex<bool>,
    wake: Condvar,
}

impl StopSignal {
    pub fn new() -> StopSignal {
        StopSignal::default()
    }

    /// Sets the flag and wakes every sleeper.
    pub fn stop(&self) {
        *self.stopped.lock() = true;
        self.wake.notify_all();
    }

    /// Clears the flag (the next run may sleep again).
    pub fn reset(&self) {
        *self.stopped.lock() = false;
    }

    /// True once [`stop`](Self::stop) was called (and not reset).
    pub fn is_stopped(&self) -> bool {
        *self.stopped.lock()
    }

    /// Wakes sleepers without stopping (they check the time and sleep on).
    pub fn notify(&self) {
        self.wake.notify_all();
    }

    /// Sleeps until `deadline` or a stop; true when stopped.
    pub fn sleep_until(&self, deadline: Instant) -> bool {
        let mut stopped = self.stopped.lock();
        wait_until(&self.wake, &mut stopped, deadline, |s| *s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn sleep_ends_at_the_deadline_without_a_stop() {
        let s = StopSignal::new();
        let start = Instant::now();
        assert!(!s.sleep_until(start + Duration::from_millis(30)));
        assert!(start.elapsed() >= Duration::from_millis(30));
    }

    #[test]
    fn stop_wakes_a_sleeper_and_later_sleeps_return_at_once() {
        let s = Arc::new(StopSignal::new());
        let sleeper = {
            let s = s.clone();
            std::thread::spawn(move || s.sleep_until(Instant::now() + Duration::from_secs(600)))
        };
        std::thread::sleep(Duration::from_millis(20));
        s.stop();
        assert!(sleeper.join().unwrap());
        assert!(s.sleep_until(Instant::now() + Duration::from_secs(600)));
        s.reset();
        assert!(!s.is_stopped());
    }

    #[test]
    fn a_condition_that_holds_returns_without_waiting() {
        let m = Mutex::new(3);
        let cv = Condvar::new();
        let mut g = m.lock();
        assert!(wait_until(
            &cv,
            &mut g,
            Instant::now() + Duration::from_secs(600),
            |v| *v == 3
        ));
        assert!(!wait_until(&cv, &mut g, Instant::now(), |v| *v == 4));
    }
}
