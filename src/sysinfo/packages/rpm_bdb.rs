//! The legacy rpm database, `<root>/var/lib/rpm/Packages`: a Berkeley DB hash file
//! (rpm < 4.16: CentOS/RHEL 5–8, SLES 12/15, old Fedora), read here page by page.
//!
//! No Berkeley DB library is needed: the file is a metadata page followed by fixed-size
//! pages; every hash page (`P_HASH`, `P_HASH_UNSORTED`) holds key/data item pairs, and a
//! data item is either on the page (`H_KEYDATA`) or, when large (every real rpm header),
//! a reference to a chain of overflow pages (`H_OFFPAGE`). Walking all hash pages in
//! order visits every record once, the same set a cursor walk returns. The byte order is
//! the creating host's (told by the magic number); the rpm headers inside are big-endian
//! regardless. Every offset, length and page number is checked against the file, and
//! an overflow chain can visit each page at most once. The record with key 0 is rpm's
//! instance counter, not a header; records whose data is not a header are skipped
//! (the agent's reader stops at the first one).

use std::fs::File;
use std::os::unix::fs::FileExt as _;
use std::path::Path;

const HASH_MAGIC: u32 = 0x0006_1561;
const PAGE_HEADER: usize = 26;
const P_HASH_UNSORTED: u8 = 2;
const P_OVERFLOW: u8 = 7;
const P_HASHMETA: u8 = 8;
const P_HASH: u8 = 13;
const H_KEYDATA: u8 = 1;
const H_OFFPAGE: u8 = 3;
const DBMETA_CHKSUM: u8 = 0x01;

/// Why a Berkeley DB file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum BdbError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("not a Berkeley DB hash file: {0}")]
    Format(String),
}

/// An open Berkeley DB hash file.
pub struct HashDb {
    file: File,
    big_endian: bool,
    page_size: usize,
    last_pgno: u32,
    /// Bytes before the item index of a page (larger when pages carry checksums).
    overhead: usize,
}

impl HashDb {
    /// Opens `path` and checks its metadata page.
    pub fn open(path: &Path) -> Result<HashDb, BdbError> {
        let file = crate::sysinfo::read::open(path)?;
        let mut meta = [0u8; 512];
        file.read_exact_at(&mut meta, 0)
            .map_err(|_| BdbError::Format("shorter than a metadata page".into()))?;
        let magic_le = u32::from_le_bytes([meta[12], meta[13], meta[14], meta[15]]);
        let magic_be = u32::from_be_bytes([meta[12], meta[13], meta[14], meta[15]]);
        let big_endian = match (magic_le == HASH_MAGIC, magic_be == HASH_MAGIC) {
            (true, _) => false,
            (_, true) => true,
            _ => return Err(BdbError::Format(format!("magic {magic_le:#x}"))),
        };
        let u32_at = |at: usize| {
            let b = [meta[at], meta[at + 1], meta[at + 2], meta[at + 3]];
            if big_endian {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        };
        let version = u32_at(16);
        if !(7..=10).contains(&version) {
            return Err(BdbError::Format(format!("hash version {version}")));
        }
        let page_size = u32_at(20) as usize;
        if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
            return Err(BdbError::Format(format!("page size {page_size}")));
        }
        if meta[24] != 0 {
            return Err(BdbError::Format("encrypted database".into()));
        }
        if meta[25] != P_HASHMETA {
            return Err(BdbError::Format(format!("metadata page type {}", meta[25])));
        }
        // Pages with checksums keep 2 alignment bytes and a 4-byte checksum after the header.
        let overhead = if meta[26] & DBMETA_CHKSUM != 0 {
            PAGE_HEADER + 6
        } else {
            PAGE_HEADER
        };
        let last_pgno = u32_at(32);
        let len = file.metadata()?.len();
        let max_pages = (len / page_size as u64).saturating_sub(1);
        Ok(HashDb {
            file,
            big_endian,
            page_size,
            last_pgno: (last_pgno as u64).min(max_pages) as u32,
            overhead,
        })
    }

    fn u16_at(&self, b: &[u8], at: usize) -> Option<u16> {
        let s = b.get(at..at + 2)?;
        Some(if self.big_endian {
            u16::from_be_bytes([s[0], s[1]])
        } else {
            u16::from_le_bytes([s[0], s[1]])
        })
    }

    fn u32_at(&self, b: &[u8], at: usize) -> Option<u32> {
        let s = b.get(at..at + 4)?;
        let a = [s[0], s[1], s[2], s[3]];
        Some(if self.big_endian {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        })
    }

    fn read_page(&self, pgno: u32, buf: &mut [u8]) -> std::io::Result<()> {
        self.file
            .read_exact_at(buf, u64::from(pgno) * self.page_size as u64)
    }

    /// Calls `each(key, data)` for every record; `skip` gets a reason for each record
    /// that cannot be read (its chain is broken). Fails only on I/O errors.
    pub fn for_each(
        &self,
        each: &mut dyn FnMut(&[u8], &[u8]),
        skip: &mut dyn FnMut(String),
    ) -> Result<(), BdbError> {
        let mut page = vec![0u8; self.page_size];
        for pgno in 1..=self.last_pgno {
            self.read_page(pgno, &mut page)?;
            let ty = page[25];
            if ty != P_HASH && ty != P_HASH_UNSORTED {
                continue;
            }
            let entries = self.u16_at(&page, 20).unwrap_or(0) as usize;
            let index = |i: usize| self.u16_at(&page, self.overhead + 2 * i).map(usize::from);
            // An item runs from its offset to the previous item's (the first to the end).
            let item = |i: usize| -> Option<&[u8]> {
                let start = index(i)?;
                let end = if i == 0 {
                    self.page_size
                } else {
                    index(i - 1)?
                };
                if start < self.overhead + 2 * entries || start >= end {
                    return None;
                }
                page.get(start..end)
            };
            for pair in 0..entries / 2 {
                let (Some(key), Some(data)) = (item(2 * pair), item(2 * pair + 1)) else {
                    skip(format!("page {pgno}: item {pair} outside the page"));
                    continue;
                };
                let key = match key[0] {
                    H_KEYDATA => &key[1..],
                    _ => &[][..],
                };
                match data[0] {
                    H_KEYDATA => each(key, &data[1..]),
                    H_OFFPAGE => match self.overflow(data) {
                        Ok(value) => each(key, &value),
                        Err(e) => skip(format!("page {pgno}: item {pair}: {e}")),
                    },
                    other => skip(format!("page {pgno}: item {pair} of type {other}")),
                }
            }
        }
        Ok(())
    }

    /// The value of an off-page item: its overflow chain, concatenated.
    fn overflow(&self, item: &[u8]) -> Result<Vec<u8>, String> {
        let mut pgno = self.u32_at(item, 4).ok_or("short off-page item")?;
        let total = self.u32_at(item, 8).ok_or("short off-page item")? as usize;
        if total > (self.last_pgno as usize + 1) * self.page_size {
            return Err(format!("value of {total} bytes is larger than the file"));
        }
        let mut value = Vec::with_capacity(total);
        let mut page = vec![0u8; self.page_size];
        let mut visited = 0u32;
        while value.len() < total {
            if pgno == 0 || pgno > self.last_pgno || visited > self.last_pgno {
                return Err(format!("broken overflow chain at page {pgno}"));
            }
            visited += 1;
            self.read_page(pgno, &mut page)
                .map_err(|e| format!("page {pgno}: {e}"))?;
            if page[25] != P_OVERFLOW {
                return Err(format!("page {pgno} is not an overflow page"));
            }
            let len = self.u16_at(&page, 22).unwrap_or(0) as usize;
            let chunk = page
                .get(self.overhead..self.overhead + len)
                .ok_or_else(|| format!("page {pgno}: {len} bytes do not fit"))?;
            let want = (total - value.len()).min(chunk.len());
            value.extend_from_slice(&chunk[..want]);
            if len == 0 {
                return Err(format!("page {pgno}: empty overflow page"));
            }
            pgno = self.u32_at(&page, 16).unwrap_or(0);
        }
        Ok(value)
    }
}

/// Calls `each` with the header blob of every package record of the rpm Berkeley
/// database at `path` (the instance counter record left out), and `skip` with the reason
/// for every record that cannot be read.
pub fn for_each_header(
    path: &Path,
    each: &mut dyn FnMut(&[u8]),
    skip: &mut dyn FnMut(String),
) -> Result<(), BdbError> {
    let db = HashDb::open(path)?;
    db.for_each(
        &mut |key, data| {
            if key != [0, 0, 0, 0] {
                each(data);
            }
        },
        skip,
    )
}
