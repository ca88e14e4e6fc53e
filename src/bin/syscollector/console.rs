//! What the tool writes for a person: timestamped log and info lines, and a progress line
//! on stderr that is drawn only when stderr is a terminal (and erased before other lines).

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use parking_lot::Mutex;
use syscollector::{LogLevel, Logger};

/// The terminal's shared state: whether a progress line is on screen.
pub struct Console {
    tty: bool,
    drawn: Mutex<bool>,
}

/// `2025-06-01T12:00:00Z`, the time stamp of every line.
pub fn now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

impl Console {
    pub fn new() -> Arc<Console> {
        Arc::new(Console {
            tty: std::io::stderr().is_terminal(),
            drawn: Mutex::new(false),
        })
    }

    fn erase(&self, drawn: &mut bool) {
        if *drawn {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
            *drawn = false;
        }
    }

    /// A line on stderr (a log line).
    pub fn err_line(&self, line: &str) {
        let mut drawn = self.drawn.lock();
        self.erase(&mut drawn);
        let _ = writeln!(std::io::stderr(), "{line}");
    }

    /// A timestamped line on stdout (a report of `run`); false when stdout is closed.
    pub fn info(&self, line: &str) -> bool {
        let mut drawn = self.drawn.lock();
        self.erase(&mut drawn);
        let mut out = std::io::stdout().lock();
        writeln!(out, "{} {line}", now()).is_ok() && out.flush().is_ok()
    }

    /// Draws (or, with `None`, erases) the progress line; nothing when not a terminal.
    pub fn progress(&self, line: Option<&str>) {
        if !self.tty {
            return;
        }
        let mut drawn = self.drawn.lock();
        match line {
            Some(l) => {
                let _ = write!(std::io::stderr(), "\r\x1b[2K{l}");
                let _ = std::io::stderr().flush();
                *drawn = true;
            }
            None => self.erase(&mut drawn),
        }
    }

    /// Redraws the line `what` returns every 200 ms until the guard is dropped.
    pub fn ticker(
        self: &Arc<Self>,
        what: impl Fn() -> Option<String> + Send + 'static,
    ) -> Option<Ticker> {
        if !self.tty {
            return None;
        }
        let done = Arc::new(AtomicBool::new(false));
        let thread = {
            let done = done.clone();
            let console = self.clone();
            std::thread::spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    console.progress(what().as_deref());
                    std::thread::sleep(Duration::from_millis(200));
                }
                console.progress(None);
            })
        };
        Some(Ticker {
            done,
            thread: Some(thread),
        })
    }

    /// The library's logger: lines at `verbosity`'s level and above, with time stamps.
    pub fn logger(self: &Arc<Self>, tool: &'static str, verbosity: u8) -> Logger {
        let console = self.clone();
        Arc::new(move |level, msg| {
            let shown = match level {
                LogLevel::DebugVerbose => verbosity >= 3,
                LogLevel::Debug => verbosity >= 2,
                LogLevel::Info => verbosity >= 1,
                _ => true,
            };
            if shown {
                console.err_line(&format!("{} {tool}: {}: {msg}", now(), level.name()));
            }
        })
    }
}

/// Stops a progress line when dropped.
pub struct Ticker {
    done: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
