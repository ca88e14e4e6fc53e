//! The one way the collectors read a file: never blocking on anything but a regular file,
//! never reading more than a limit.
//!
//! `open(2)` of a FIFO waits for a writer, and a read of a character device or socket can
//! wait for ever; a user who can write below a path a collector reads (a home directory's
//! `~/.mozilla/firefox/profiles.ini`, a Python `METADATA` below `~/.local`) could stop the
//! host's inventory that way. Every file is therefore opened with `O_NONBLOCK` (an open
//! of a FIFO returns at once), `O_NOCTTY` (a terminal never becomes the process's
//! controlling terminal) and `O_CLOEXEC` (the descriptor does not leak into children),
//! and the opened descriptor is `fstat`ed: anything that is not a regular file is refused
//! with [`std::io::ErrorKind::InvalidInput`] before a byte is read. Files of procfs and
//! sysfs are regular files, so `/proc/<pid>/stat`, `/proc/net/*` and `/sys/class/*` read
//! as before. Symbolic links are followed, as a plain `open` follows them.
//!
//! Every read is at most a caller-given number of bytes, so a huge or endless file cannot
//! exhaust memory. Directory walks list directories with `read_dir` (which opens with
//! `O_DIRECTORY` and so fails at once on a FIFO) and read the entries through this module.
//!
//! [`recording`] lists the paths read while a closure runs on the calling thread, so a
//! test can put a FIFO at every path a scan reads.

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::os::unix::fs::{FileTypeExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

thread_local! {
    /// The paths asked for on this thread while [`recording`] runs.
    static RECORDED: RefCell<Option<Vec<PathBuf>>> = const { RefCell::new(None) };
}

/// Runs `f` and returns, with its result, every path this module was asked to open on
/// the calling thread meanwhile, in order (repeats included). Nested calls record into
/// the innermost one.
pub fn recording<T>(f: impl FnOnce() -> T) -> (T, Vec<PathBuf>) {
    let outer = RECORDED.with(|r| r.borrow_mut().replace(Vec::new()));
    let result = f();
    let paths = RECORDED.with(|r| std::mem::replace(&mut *r.borrow_mut(), outer));
    (result, paths.unwrap_or_default())
}

fn record(path: &Path) {
    RECORDED.with(|r| {
        if let Some(paths) = r.borrow_mut().as_mut() {
            paths.push(path.to_path_buf());
        }
    });
}

/// The name of a file type that is not a regular file, for the refusal message.
fn kind_name(kind: std::fs::FileType) -> &'static str {
    if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// The error of a file that is not read because it is not a regular file.
#[derive(Debug, thiserror::Error)]
#[error("not read: {0}")]
pub struct NotRegular(&'static str);

/// Whether `e` is the refusal of a file that is not a regular file (it exists and could
/// be opened, as opposed to a missing or forbidden file).
pub fn is_not_regular(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<NotRegular>())
}

/// Refuses `file` (just opened) unless it is a regular file.
fn regular(file: File) -> io::Result<File> {
    regular_sized(file).map(|(file, _)| file)
}

/// [`regular`], with the file's size as `fstat` gives it (0 for procfs and sysfs files).
fn regular_sized(file: File) -> io::Result<(File, u64)> {
    let meta = file.metadata()?;
    let kind = meta.file_type();
    if kind.is_file() {
        Ok((file, meta.len()))
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            NotRegular(kind_name(kind)),
        ))
    }
}

/// Opens `path` for reading without blocking, and only when it is a regular file
/// (symbolic links followed). The descriptor stays non-blocking, which changes nothing
/// for a regular file.
pub fn open(path: &Path) -> io::Result<File> {
    open_sized(path).map(|(file, _)| file)
}

/// [`open`], with the file's size when opened.
fn open_sized(path: &Path) -> io::Result<(File, u64)> {
    record(path);
    let file = std::fs::OpenOptions::new()
        .read(true)
        // O_CLOEXEC is set by the standard library on every open.
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)?;
    regular_sized(file)
}

/// Opens `name` relative to the directory `dir` as [`open`] does (`openat(2)`), so that
/// the file belongs to that very directory even if its path now names another one (a
/// `/proc/<pid>` whose pid was reused). `shown` is the path recorded for it.
pub fn open_at(dir: &File, name: &str, shown: &Path) -> io::Result<File> {
    record(shown);
    let name = std::ffi::CString::new(name)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "file name with a NUL"))?;
    openat(dir, &name)
}

/// [`open_at`] for a name known at compile time, with the recorded path made only while
/// [`recording`] runs: a walk over thousands of `/proc/<pid>` files builds no path per
/// file.
pub fn open_at_c(
    dir: &File,
    name: &std::ffi::CStr,
    shown: impl FnOnce() -> PathBuf,
) -> io::Result<File> {
    RECORDED.with(|r| {
        if let Some(paths) = r.borrow_mut().as_mut() {
            paths.push(shown());
        }
    });
    openat(dir, name)
}

fn openat(dir: &File, name: &std::ffi::CStr) -> io::Result<File> {
    use std::os::fd::{AsRawFd as _, FromRawFd as _};
    // SAFETY: `dir` is an open descriptor for the duration of the call and `name` a
    // NUL-terminated string; openat() only reads them.
    let fd = unsafe {
        libc::openat(
            dir.as_raw_fd(),
            name.as_ptr(),
            libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: openat() returned a new descriptor that nothing else owns.
    regular(unsafe { File::from_raw_fd(fd) })
}

/// Replaces the contents of `buf` with at most `limit` bytes of an opened file, reusing
/// its allocation (a loop over many small files allocates once).
pub fn bytes_into(file: File, limit: u64, buf: &mut Vec<u8>) -> io::Result<()> {
    buf.clear();
    file.take(limit).read_to_end(buf)?;
    Ok(())
}

/// Opens the directory `path` (to read its entries with [`open_at`]).
pub fn open_dir(path: &Path) -> io::Result<File> {
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_NOCTTY)
        .open(path)
}

/// Checks that `path` is a regular file by opening it as [`open`] does, for libraries
/// that open the file by name themselves (SQLite). The type can change between this
/// check and their open; the places this is used are writable by root only.
pub fn check_regular(path: &Path) -> io::Result<()> {
    open(path).map(drop)
}

/// At most `limit` bytes of an opened file.
pub fn bytes_of(file: File, limit: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    file.take(limit).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// At most `limit` bytes of `path` (see [`open`]).
pub fn bytes(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let (file, size) = open_sized(path)?;
    // Room for the whole file (as its size was at the open) and the read that finds its
    // end: one read instead of a series of growing ones. Files that say 0 (procfs) grow.
    let room = size.min(limit).saturating_add(1);
    let mut bytes = Vec::with_capacity(usize::try_from(room).unwrap_or(0).min(1 << 24));
    file.take(limit).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// At most `limit` bytes of `path` as text, invalid UTF-8 replaced (see [`open`]). This
/// is the reader for any file a module of the crate reads from a configurable path.
pub fn text(path: &Path, limit: u64) -> io::Result<String> {
    let bytes = bytes(path, limit)?;
    Ok(match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

/// Calls `each` with every line of `path` (line terminators removed, invalid UTF-8
/// replaced), reading at most `limit` bytes, without holding the whole file in memory.
pub fn lines(path: &Path, limit: u64, mut each: impl FnMut(&str)) -> io::Result<()> {
    let mut reader = BufReader::new(open(path)?.take(limit));
    let mut buf = Vec::new();
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf)? == 0 {
            return Ok(());
        }
        let line = String::from_utf8_lossy(&buf);
        each(line.trim_end_matches(['\n', '\r']));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fifo(path: &Path) {
        let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    }

    #[test]
    fn regular_files_read_and_others_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, "one\ntwo\r\nthree").unwrap();
        assert_eq!(text(&file, 1 << 20).unwrap(), "one\ntwo\r\nthree");
        assert_eq!(bytes(&file, 5).unwrap(), b"one\nt");
        let mut seen = Vec::new();
        lines(&file, 1 << 20, |l| seen.push(l.to_string())).unwrap();
        assert_eq!(seen, ["one", "two", "three"]);

        let pipe = dir.path().join("p");
        fifo(&pipe);
        let e = text(&pipe, 10).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert!(is_not_regular(&e));
        assert!(e.to_string().contains("FIFO"), "{e}");
        assert!(!is_not_regular(
            &text(&dir.path().join("none"), 1).unwrap_err()
        ));
        let link = dir.path().join("l");
        std::os::unix::fs::symlink(&pipe, &link).unwrap();
        assert_eq!(
            bytes(&link, 10).unwrap_err().kind(),
            io::ErrorKind::InvalidInput
        );
        assert!(text(dir.path(), 10)
            .unwrap_err()
            .to_string()
            .contains("directory"));
        assert!(text(Path::new("/dev/null"), 10).is_err());

        let d = open_dir(dir.path()).unwrap();
        assert_eq!(
            bytes_of(open_at(&d, "f", &file).unwrap(), 3).unwrap(),
            b"one"
        );
        assert!(open_at(&d, "p", &pipe).is_err());

        let ((), paths) = recording(|| {
            let _ = text(&file, 1);
            let _ = text(&pipe, 1);
        });
        assert_eq!(paths, [file, pipe]);
    }

    #[test]
    fn procfs_files_are_regular() {
        assert!(text(Path::new("/proc/self/stat"), 4096)
            .unwrap()
            .contains('('));
        assert!(!bytes(Path::new("/proc/self/cmdline"), 1 << 20)
            .unwrap()
            .is_empty());
        assert!(text(Path::new("/proc/net/dev"), 1 << 20)
            .unwrap()
            .contains('|'));
        let d = open_dir(Path::new("/proc/self")).unwrap();
        let f = open_at(&d, "stat", Path::new("/proc/self/stat")).unwrap();
        assert!(!bytes_of(f, 4096).unwrap().is_empty());
    }
}
