//! Pure parsers shared by several collectors: text or bytes in, typed values out, no I/O
//! (as `procfs-core` splits parsing from `procfs`'s reading). Collectors read their files
//! through [`super::read`] and hand the text to these functions; parsers used by one
//! collector only stay in that collector's module.

pub mod accounts;
pub mod net;
