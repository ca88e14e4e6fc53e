//! How agent-queue messages travel over a stream socket to the reference manager.
//!
//! One frame per message: a 4-byte big-endian length of what follows, the queue's
//! location byte (`'s'` sync FlatBuffer, `'d'` stateless inventory event), one byte with the
//! length of the location string, the location string (the module name, e.g.
//! `syscollector` or `syscollector_vd`), then the payload. Replies from the manager use the
//! same frame, with the module name of the instance the reply is for.

use std::io::{self, Read, Write};

/// Largest frame accepted (a stateful document is far smaller).
pub const MAX_FRAME: usize = 64 << 20;
/// Location byte of sync protocol messages.
pub const LOC_SYNC: u8 = b's';
/// Location byte of stateless inventory events.
pub const LOC_EVENT: u8 = b'd';

/// One message on the socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub loc: u8,
    pub location: String,
    pub payload: Vec<u8>,
}

impl Frame {
    /// Serializes the frame.
    pub fn encode(&self) -> Vec<u8> {
        let location = self.location.as_bytes();
        let location = &location[..location.len().min(255)];
        let body = 2 + location.len() + self.payload.len();
        let mut out = Vec::with_capacity(4 + body);
        out.extend_from_slice(&(body as u32).to_be_bytes());
        out.push(self.loc);
        out.push(location.len() as u8);
        out.extend_from_slice(location);
        out.extend_from_slice(&self.payload);
        out
    }

    /// Writes the frame.
    pub fn write_to(&self, w: &mut impl Write) -> io::Result<()> {
        w.write_all(&self.encode())?;
        w.flush()
    }

    /// Reads one frame; `Ok(None)` at a clean end of stream.
    pub fn read_from(r: &mut impl Read) -> io::Result<Option<Frame>> {
        let mut len = [0u8; 4];
        match r.read_exact(&mut len) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e),
        }
        let len = u32::from_be_bytes(len) as usize;
        if !(2..=MAX_FRAME).contains(&len) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("frame length {len} out of range"),
            ));
        }
        let mut body = vec![0u8; len];
        r.read_exact(&mut body)?;
        let loc = body[0];
        let llen = body[1] as usize;
        if 2 + llen > len {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "location longer than the frame",
            ));
        }
        let location = String::from_utf8_lossy(&body[2..2 + llen]).into_owned();
        let payload = body[2 + llen..].to_vec();
        Ok(Some(Frame {
            loc,
            location,
            payload,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_bad_lengths() {
        let f = Frame {
            loc: LOC_SYNC,
            location: "syscollector_vd".into(),
            payload: vec![1, 2, 3],
        };
        let mut buf = Vec::new();
        f.write_to(&mut buf).unwrap();
        f.write_to(&mut buf).unwrap();
        let mut r = &buf[..];
        assert_eq!(Frame::read_from(&mut r).unwrap(), Some(f.clone()));
        assert_eq!(Frame::read_from(&mut r).unwrap(), Some(f));
        assert_eq!(Frame::read_from(&mut r).unwrap(), None);
        let mut huge = &[0xffu8, 0xff, 0xff, 0xff, 0][..];
        assert!(Frame::read_from(&mut huge).is_err());
        let mut lying = &[0u8, 0, 0, 3, b's', 200, b'x'][..];
        assert!(Frame::read_from(&mut lying).is_err());
    }
}
