//! Wire codecs. A connection picks one at the handshake: [`Codec::Text`] at 178 or
//! [`Codec::Proto`] at 213..226. Both decode into [`Request`] and encode from [`Response`].

pub mod frame;
pub mod proto;
pub mod text;

use bytes::BytesMut;

use crate::msg::{Request, Response};

/// Why a frame body could not be decoded; the connection is closed with this reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("truncated message")]
    Truncated,
    #[error("malformed field: {0}")]
    BadField(String),
}

/// The encoding negotiated for one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// Server version 178: textual ids and fields.
    Text,
    /// Server versions 213..226: binary ids, protobuf payloads.
    Proto(u32),
}

impl Codec {
    /// Decodes one frame body (without its length prefix).
    pub fn decode(self, body: &[u8]) -> Result<Request, DecodeError> {
        match self {
            Codec::Text => text::decode_request(body),
            Codec::Proto(_) => proto::decode_request(body),
        }
    }

    /// Appends the framed encoding of `r` to `out`.
    pub fn encode(self, r: &Response, out: &mut BytesMut) {
        match self {
            Codec::Text => frame::put_frame(out, |b| text::encode_response(r, b)),
            Codec::Proto(_) => proto::encode_response(r, out),
        }
    }

    /// The negotiated server version.
    pub fn version(self) -> u32 {
        match self {
            Codec::Text => crate::handshake::TEXT_VERSION,
            Codec::Proto(v) => v,
        }
    }
}
