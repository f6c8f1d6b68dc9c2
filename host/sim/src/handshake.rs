//! Per-connection version negotiation (reference §2): answer min(client max, simulator max),
//! protobuf at 213 and above, text at 178, never anything in 179..212.

use crate::codec::frame::VersionRange;

/// The three maxima a listener may be configured with.
pub const SUPPORTED_MAX_VERSIONS: [u32; 3] = [226, 213, 178];
/// The text codec's single version.
pub const TEXT_VERSION: u32 = 178;
/// The first version served by the protobuf codec.
pub const PROTO_MIN_VERSION: u32 = 213;

/// Outcome of negotiation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Negotiated {
    /// Answer this version and use the protobuf codec.
    Proto(u32),
    /// Answer 178 and use the text codec.
    Text,
    /// The client cannot speak 178 or later: close the socket.
    Reject,
}

impl Negotiated {
    /// The version written in the handshake reply.
    pub fn version(self) -> Option<u32> {
        match self {
            Negotiated::Proto(v) => Some(v),
            Negotiated::Text => Some(TEXT_VERSION),
            Negotiated::Reject => None,
        }
    }
}

/// Picks the version for a client range against the listener's maximum. The answer may be below
/// the client's minimum: the client then refuses it itself, with a clearer error than a close.
pub fn negotiate(client: VersionRange, sim_max: u32) -> Negotiated {
    let v = client.max.min(sim_max);
    if v >= PROTO_MIN_VERSION {
        Negotiated::Proto(v)
    } else if v >= TEXT_VERSION {
        Negotiated::Text
    } else {
        Negotiated::Reject
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(min: u32, max: u32) -> VersionRange {
        VersionRange { min, max }
    }

    #[test]
    fn never_answers_179_to_212() {
        assert_eq!(negotiate(r(213, 226), 226), Negotiated::Proto(226));
        assert_eq!(negotiate(r(213, 226), 213), Negotiated::Proto(213));
        assert_eq!(negotiate(r(100, 200), 226), Negotiated::Text);
        assert_eq!(negotiate(r(100, 212), 226), Negotiated::Text);
        assert_eq!(negotiate(r(213, 226), 178), Negotiated::Text);
        assert_eq!(negotiate(r(100, 177), 226), Negotiated::Reject);
        for max in 100..300 {
            if let Some(v) = negotiate(r(100, max), 226).version() {
                assert!(!(179..=212).contains(&v) && v <= 226);
            }
        }
    }
}
