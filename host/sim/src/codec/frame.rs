//! Length-prefixed framing shared by both codecs: the `API\0` handshake prefix, `be32(N)` frames
//! with N bounded, and helpers that write a frame in place. TCP keeps no boundaries, so every
//! parser here works on a growing buffer and returns `Ok(None)` until a whole unit is present.

use bytes::{Buf, BufMut, Bytes, BytesMut};

/// The protocol's own frame-size ceiling (`MAX_MSG_LEN` / `MAX_FRAME_LENGTH`).
pub const MAX_FRAME_LEN: usize = 0x00FF_FFFF;
/// The handshake's version string is tiny; anything longer is garbage.
const MAX_HANDSHAKE_LEN: usize = 1024;

/// Why a byte stream cannot be framed; the connection is closed with this reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("stream does not start with the API\\0 prefix")]
    BadPrefix,
    #[error("frame length {0} exceeds the limit of {1} bytes")]
    TooLarge(usize, usize),
    #[error("malformed handshake version string {0:?}")]
    BadVersion(String),
}

/// The client's advertised version range, e.g. `v100..226`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionRange {
    pub min: u32,
    pub max: u32,
}

/// Parses `API\0` + `be32(len)` + `"vMIN..MAX[ options]"` from the start of `buf`.
pub fn take_handshake(buf: &mut BytesMut) -> Result<Option<VersionRange>, FrameError> {
    const PREFIX: &[u8] = b"API\0";
    let have = buf.len().min(PREFIX.len());
    if buf[..have] != PREFIX[..have] {
        return Err(FrameError::BadPrefix);
    }
    if buf.len() < PREFIX.len() + 4 {
        return Ok(None);
    }
    let len = u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]) as usize;
    if len > MAX_HANDSHAKE_LEN {
        return Err(FrameError::TooLarge(len, MAX_HANDSHAKE_LEN));
    }
    if buf.len() < 8 + len {
        return Ok(None);
    }
    buf.advance(8);
    let body = buf.split_to(len);
    parse_version_range(&body).map(Some)
}

/// Parses `vMIN..MAX`, ignoring connect options after a space.
pub fn parse_version_range(body: &[u8]) -> Result<VersionRange, FrameError> {
    let text = String::from_utf8_lossy(body);
    let bad = || FrameError::BadVersion(text.chars().take(64).collect());
    let head = text.split(' ').next().unwrap_or("");
    let range = head.strip_prefix('v').ok_or_else(bad)?;
    let (min, max) = match range.split_once("..") {
        Some((a, b)) => (a, b),
        None => (range, range),
    };
    let min = min.parse::<u32>().map_err(|_| bad())?;
    let max = max.parse::<u32>().map_err(|_| bad())?;
    if min > max {
        return Err(bad());
    }
    Ok(VersionRange { min, max })
}

/// Takes one `be32(N)` + body frame off `buf`, rejecting N above `max_len`.
pub fn take_frame(buf: &mut BytesMut, max_len: usize) -> Result<Option<Bytes>, FrameError> {
    if buf.len() < 4 {
        return Ok(None);
    }
    let len = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
    if len > max_len {
        return Err(FrameError::TooLarge(len, max_len));
    }
    if buf.len() < 4 + len {
        buf.reserve(4 + len - buf.len());
        return Ok(None);
    }
    buf.advance(4);
    Ok(Some(buf.split_to(len).freeze()))
}

/// Writes one frame whose body is produced by `body`, patching the length prefix afterwards.
pub fn put_frame(out: &mut BytesMut, body: impl FnOnce(&mut BytesMut)) {
    let start = out.len();
    out.put_u32(0);
    body(out);
    let len = (out.len() - start - 4) as u32;
    out[start..start + 4].copy_from_slice(&len.to_be_bytes());
}

/// The handshake reply: `"<version>\0<time>\0"` in one frame, never with a binary id.
pub fn put_handshake_reply(out: &mut BytesMut, version: u32, time: &str) {
    put_frame(out, |b| {
        b.put_slice(version.to_string().as_bytes());
        b.put_u8(0);
        b.put_slice(time.as_bytes());
        b.put_u8(0);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_split_and_options() {
        let mut buf = BytesMut::from(&b"AP"[..]);
        assert_eq!(take_handshake(&mut buf), Ok(None));
        buf.extend_from_slice(b"I\0\0\0\0\x0fv100..226 +PACE");
        let r = take_handshake(&mut buf).unwrap().unwrap();
        assert_eq!((r.min, r.max), (100, 226));
        assert!(buf.is_empty());
        let mut bad = BytesMut::from(&b"GET / HTTP/1.1"[..]);
        assert_eq!(take_handshake(&mut bad), Err(FrameError::BadPrefix));
    }

    #[test]
    fn frames_coalesced_and_oversized() {
        let mut buf = BytesMut::new();
        put_frame(&mut buf, |b| b.put_slice(b"49\x001\x00"));
        put_frame(&mut buf, |b| b.put_slice(b"17\x001\x00"));
        buf.extend_from_slice(&[0, 0]);
        assert_eq!(
            &take_frame(&mut buf, MAX_FRAME_LEN).unwrap().unwrap()[..],
            b"49\x001\x00"
        );
        assert_eq!(
            &take_frame(&mut buf, MAX_FRAME_LEN).unwrap().unwrap()[..],
            b"17\x001\x00"
        );
        assert_eq!(take_frame(&mut buf, MAX_FRAME_LEN), Ok(None));
        let mut big = BytesMut::from(&[0x01u8, 0, 0, 0][..]);
        assert!(matches!(
            take_frame(&mut big, MAX_FRAME_LEN),
            Err(FrameError::TooLarge(..))
        ));
    }

    #[test]
    fn reference_byte_examples() {
        let mut out = BytesMut::new();
        put_frame(&mut out, |b| b.put_slice(b"9\x001\x001000\x00"));
        assert_eq!(&out[..], b"\x00\x00\x00\x099\x001\x001000\x00");
    }
}
