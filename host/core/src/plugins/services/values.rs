//! Reading what a plugin passes (strings, decimals) strictly: foreign bytes never become a
//! value the host did not mean.

use rust_decimal::Decimal;
use tickwork_plugin_api::abi::{TwDecimal, TwStr};

/// Bits of a serialised decimal's flags word that may be set: the scale and the sign.
const FLAG_BITS: u32 = 0x80FF_0000;

/// A decimal from its 16 ABI bytes; `None` when the flags word has stray bits or a scale
/// above 28 (a writer that did not use `Decimal::serialize`).
pub fn decimal_from_abi(value: &TwDecimal) -> Option<Decimal> {
    let flags = u32::from_le_bytes([
        value.bytes[0],
        value.bytes[1],
        value.bytes[2],
        value.bytes[3],
    ]);
    let scale = (flags >> 16) & 0xFF;
    if flags & !FLAG_BITS != 0 || scale > 28 {
        return None;
    }
    Some(Decimal::deserialize(value.bytes))
}

/// The 16 ABI bytes of a decimal.
pub fn decimal_to_abi(value: Decimal) -> TwDecimal {
    TwDecimal {
        bytes: value.serialize(),
    }
}

/// The string a [`TwStr`] points at; `None` when the pointer is null with a length, or the
/// bytes are not UTF-8.
///
/// # Safety
/// `s.ptr` must be null or point to `s.len` readable bytes for `'a`.
pub(super) unsafe fn read_str<'a>(s: TwStr) -> Option<&'a str> {
    if s.len == 0 {
        return Some("");
    }
    if s.ptr.is_null() {
        return None;
    }
    // SAFETY: non-null, and the caller guarantees `len` readable bytes.
    let bytes = unsafe { std::slice::from_raw_parts(s.ptr, s.len) };
    std::str::from_utf8(bytes).ok()
}

/// A borrowed [`TwStr`] of `s`, valid while `s` is.
pub(super) fn tw_str(s: &str) -> TwStr {
    TwStr {
        ptr: s.as_ptr(),
        len: s.len(),
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    #[test]
    fn decimals_round_trip_and_stray_bits_are_refused() {
        for d in [dec!(0), dec!(-1.5), dec!(600.25), dec!(0.0000001)] {
            assert_eq!(decimal_from_abi(&decimal_to_abi(d)), Some(d));
        }
        let mut bad = decimal_to_abi(dec!(1));
        bad.bytes[0] = 1;
        assert_eq!(decimal_from_abi(&bad), None);
        let mut scale = decimal_to_abi(dec!(1));
        scale.bytes[2] = 29;
        assert_eq!(decimal_from_abi(&scale), None);
    }

    #[test]
    fn strings_are_checked() {
        // SAFETY: each TwStr points at the bytes of a live slice (or is null with length 0).
        unsafe {
            assert_eq!(read_str(tw_str("SPY")), Some("SPY"));
            let null = TwStr {
                ptr: std::ptr::null(),
                len: 0,
            };
            assert_eq!(read_str(null), Some(""));
            let dangling = TwStr {
                ptr: std::ptr::null(),
                len: 3,
            };
            assert_eq!(read_str(dangling), None);
            let bytes = [0xffu8, 0xfe];
            let invalid = TwStr {
                ptr: bytes.as_ptr(),
                len: 2,
            };
            assert_eq!(read_str(invalid), None);
        }
    }
}
