//! Decimals and strings across the boundary: [`TwDecimal`] is the 16 bytes of
//! `Decimal::serialize()`, [`TwStr`] a borrowed UTF-8 slice.

use rust_decimal::Decimal;

use crate::abi::{TW_ERR_BAD_ARG, TwDecimal, TwStatus, TwStr};

/// The ABI form of a decimal (exact: scale, sign and all 96 mantissa bits).
pub const fn decimal_to_tw(d: Decimal) -> TwDecimal {
    TwDecimal {
        bytes: d.serialize(),
    }
}

/// A decimal from its ABI form. Stray flag bits are masked and an out-of-range scale normalised
/// by `Decimal::deserialize`, so foreign bytes never make an invalid value.
pub fn decimal_from_tw(d: TwDecimal) -> Decimal {
    Decimal::deserialize(d.bytes)
}

impl From<Decimal> for TwDecimal {
    fn from(d: Decimal) -> Self {
        decimal_to_tw(d)
    }
}

impl From<TwDecimal> for Decimal {
    fn from(d: TwDecimal) -> Self {
        decimal_from_tw(d)
    }
}

/// Borrows `s` for a call (or, for a `&'static str`, for ever).
pub const fn str_to_tw(s: &str) -> TwStr {
    TwStr {
        ptr: s.as_ptr(),
        len: s.len(),
    }
}

/// The empty string (null pointer, zero length).
pub const EMPTY_TW_STR: TwStr = TwStr {
    ptr: core::ptr::null(),
    len: 0,
};

/// Reads a borrowed string: `TW_ERR_BAD_ARG` for a null pointer with a non-zero length or
/// invalid UTF-8.
///
/// # Safety
/// Unless `s.ptr` is null, it must point to `s.len` readable bytes that stay valid and
/// unchanged for `'a`.
pub unsafe fn str_from_tw<'a>(s: TwStr) -> Result<&'a str, TwStatus> {
    // SAFETY: forwarded to the caller.
    let bytes = unsafe { bytes_from_tw(s) }?;
    core::str::from_utf8(bytes).map_err(|_| TW_ERR_BAD_ARG)
}

/// The bytes of a borrowed string, not checked for UTF-8.
///
/// # Safety
/// As [`str_from_tw`].
pub unsafe fn bytes_from_tw<'a>(s: TwStr) -> Result<&'a [u8], TwStatus> {
    if s.len == 0 {
        return Ok(&[]);
    }
    if s.ptr.is_null() {
        return Err(TW_ERR_BAD_ARG);
    }
    // SAFETY: non-null, and the caller guarantees `len` readable bytes for `'a`.
    Ok(unsafe { core::slice::from_raw_parts(s.ptr, s.len) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn decimals_round_trip_exactly() {
        let sum = dec!(0.1) + dec!(0.2);
        let back = decimal_from_tw(decimal_to_tw(sum));
        assert_eq!(back, dec!(0.3));
        assert_eq!(back.to_string(), "0.3");
        for d in [
            Decimal::ZERO,
            dec!(-0.00),
            dec!(600.125),
            dec!(-1234567.000000001),
            Decimal::MAX,
            Decimal::MIN,
            Decimal::new(1, 28),
        ] {
            let back = Decimal::from(TwDecimal::from(d));
            assert_eq!(back, d);
            assert_eq!(back.scale(), d.scale(), "{d}");
            assert_eq!(back.is_sign_negative(), d.is_sign_negative(), "{d}");
        }
    }

    #[test]
    fn decimal_bytes_are_the_documented_layout() {
        // 1.5 = mantissa 15, scale 1: flags word has the scale in bits 16–23.
        let tw = decimal_to_tw(dec!(1.5));
        assert_eq!(&tw.bytes[0..4], &[0, 0, 1, 0]);
        assert_eq!(&tw.bytes[4..8], &15u32.to_le_bytes());
        let neg = decimal_to_tw(dec!(-1.5));
        assert_eq!(neg.bytes[3] & 0x80, 0x80);
    }

    #[test]
    fn foreign_bytes_with_stray_bits_still_give_a_valid_decimal() {
        let mut bytes = [0xffu8; 16];
        bytes[2] = 200; // scale far above 28
        let d = decimal_from_tw(TwDecimal { bytes });
        assert!(d.scale() <= 28);
    }

    #[test]
    fn strings_round_trip_and_bad_utf8_is_bad_arg() {
        let s = "SPY 20261218 C 600";
        // SAFETY: `s` outlives the borrow.
        assert_eq!(unsafe { str_from_tw(str_to_tw(s)) }, Ok(s));
        // SAFETY: empty string with a null pointer is allowed.
        assert_eq!(unsafe { str_from_tw(EMPTY_TW_STR) }, Ok(""));
        let bad = [0xffu8, 0xfe];
        let tw = TwStr {
            ptr: bad.as_ptr(),
            len: bad.len(),
        };
        // SAFETY: `bad` outlives the call.
        assert_eq!(unsafe { str_from_tw(tw) }, Err(TW_ERR_BAD_ARG));
        let dangling = TwStr {
            ptr: core::ptr::null(),
            len: 3,
        };
        // SAFETY: a null pointer is checked before any read.
        assert_eq!(unsafe { str_from_tw(dangling) }, Err(TW_ERR_BAD_ARG));
    }
}
