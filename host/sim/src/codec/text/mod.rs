//! The text codec of server version 178 (reference §5, §8): NUL-terminated fields, a textual
//! message id, sequential layouts. Also decodes the text payload a client may send under a
//! binary id at ≥ 213 (same fields without the textual id).

mod decode;
mod encode;

pub use decode::{decode_fields, decode_request};
pub use encode::encode_response;

use bytes::{BufMut, BytesMut};
use rust_decimal::Decimal;
use std::str::FromStr;

use super::DecodeError;
use crate::msg::ContractSpec;

/// Java's spelling of an unset double, as TWS sends it.
pub const UNSET_DOUBLE: &str = "1.7976931348623157E308";

/// Sequential reader over NUL-separated fields.
pub struct Fields<'a> {
    parts: Vec<&'a [u8]>,
    pos: usize,
}

impl<'a> Fields<'a> {
    /// Splits a body on NUL, dropping the empty piece after the final terminator.
    pub fn new(body: &'a [u8]) -> Self {
        let mut parts: Vec<&[u8]> = body.split(|b| *b == 0).collect();
        if body.last() == Some(&0) {
            parts.pop();
        }
        Fields { parts, pos: 0 }
    }

    fn raw(&mut self) -> Result<&'a str, DecodeError> {
        let p = self.parts.get(self.pos).ok_or(DecodeError::Truncated)?;
        self.pos += 1;
        std::str::from_utf8(p).map_err(|_| DecodeError::BadField("non-UTF-8 field".into()))
    }

    pub fn skip(&mut self, n: usize) -> Result<(), DecodeError> {
        for _ in 0..n {
            self.raw()?;
        }
        Ok(())
    }

    pub fn string(&mut self) -> Result<String, DecodeError> {
        self.raw().map(str::to_owned)
    }

    /// An int; empty and the unset sentinels read as 0.
    pub fn int(&mut self) -> Result<i64, DecodeError> {
        let s = self.raw()?;
        if is_unset(s) {
            return Ok(0);
        }
        s.parse::<i64>()
            .map_err(|_| DecodeError::BadField(format!("not an integer: {s:.32}")))
    }

    pub fn i32(&mut self) -> Result<i32, DecodeError> {
        let v = self.int()?;
        i32::try_from(v).map_err(|_| DecodeError::BadField(format!("out of range: {v}")))
    }

    pub fn bool(&mut self) -> Result<bool, DecodeError> {
        Ok(self.int()? != 0)
    }

    /// A double; empty and the unset sentinels read as `None`.
    pub fn opt_f64(&mut self) -> Result<Option<f64>, DecodeError> {
        let s = self.raw()?;
        if is_unset(s) {
            return Ok(None);
        }
        if s == "Infinity" {
            return Ok(Some(f64::INFINITY));
        }
        let v = s
            .parse::<f64>()
            .map_err(|_| DecodeError::BadField(format!("not a number: {s:.32}")))?;
        Ok(v.is_finite().then_some(v))
    }

    pub fn f64(&mut self) -> Result<f64, DecodeError> {
        Ok(self.opt_f64()?.unwrap_or(0.0))
    }

    pub fn decimal(&mut self) -> Result<Decimal, DecodeError> {
        let s = self.raw()?;
        if is_unset(s) {
            return Ok(Decimal::ZERO);
        }
        Decimal::from_str(s)
            .or_else(|_| Decimal::from_scientific(s))
            .map_err(|_| DecodeError::BadField(format!("not a decimal: {s:.32}")))
    }

    /// The 12-field contract of requests.
    fn contract12(&mut self) -> Result<ContractSpec, DecodeError> {
        Ok(ContractSpec {
            con_id: self.i32()?,
            symbol: self.string()?,
            sec_type: self.string()?,
            expiry: self.string()?,
            strike: self.f64()?,
            right: self.string()?,
            multiplier: self.string()?,
            exchange: self.string()?,
            primary_exchange: self.string()?,
            currency: self.string()?,
            local_symbol: self.string()?,
            trading_class: self.string()?,
        })
    }
}

fn is_unset(s: &str) -> bool {
    matches!(
        s,
        "" | "2147483647"
            | "9223372036854775807"
            | "-9223372036854775808"
            | "1.7976931348623157E308"
            | "1.7976931348623157e+308"
            | "1.7976931348623157e308"
    )
}

/// Appends NUL-terminated fields.
pub struct Writer<'a>(pub &'a mut BytesMut);

impl Writer<'_> {
    pub fn s(&mut self, v: &str) -> &mut Self {
        // Fields may not contain NUL; strip any so the framing stays intact.
        if v.as_bytes().contains(&0) {
            self.0.put_slice(v.replace('\0', "").as_bytes());
        } else {
            self.0.put_slice(v.as_bytes());
        }
        self.0.put_u8(0);
        self
    }
    pub fn i(&mut self, v: i64) -> &mut Self {
        self.s(&v.to_string())
    }
    pub fn b(&mut self, v: bool) -> &mut Self {
        self.s(if v { "1" } else { "0" })
    }
    pub fn f(&mut self, v: f64) -> &mut Self {
        self.s(&fmt_f64(v))
    }
    pub fn of(&mut self, v: Option<f64>) -> &mut Self {
        match v {
            Some(v) => self.f(v),
            None => self.s(""),
        }
    }
    pub fn d(&mut self, v: Decimal) -> &mut Self {
        self.s(&v.normalize().to_string())
    }
    pub fn blank(&mut self, n: usize) -> &mut Self {
        for _ in 0..n {
            self.0.put_u8(0);
        }
        self
    }
}

/// Doubles as TWS writes them: plain decimal notation, `Infinity` for +inf.
pub fn fmt_f64(v: f64) -> String {
    if v == f64::INFINITY {
        "Infinity".into()
    } else if !v.is_finite() {
        UNSET_DOUBLE.into()
    } else {
        format!("{v}")
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::{OrderView, Request, Response};

    fn count_fields(r: &Response) -> usize {
        let mut out = BytesMut::new();
        encode_response(r, &mut out);
        out.iter().filter(|b| **b == 0).count()
    }

    #[test]
    fn exact_counts_and_layout_sizes() {
        assert_eq!(count_fields(&Response::NextValidId(1000)), 3);
        assert_eq!(count_fields(&Response::PositionEnd), 2);
        assert_eq!(count_fields(&Response::OpenOrderEnd), 2);
        assert_eq!(
            count_fields(&Response::MarketDataType { req_id: 1, kind: 1 }),
            4
        );
        let o = OrderView {
            status: "Submitted".into(),
            ..OrderView::default()
        };
        assert_eq!(count_fields(&Response::OpenOrder(Box::new(o.clone()))), 127);
        assert_eq!(count_fields(&Response::CompletedOrder(Box::new(o))), 96);
        let mut out = BytesMut::new();
        encode_response(&Response::NextValidId(1000), &mut out);
        assert_eq!(&out[..], b"9\x001\x001000\x00");
    }

    #[test]
    fn python_snapshot_request_decodes() {
        let body = b"1\x0011\x0013\x000\x00AAPL\x00STK\x00\x00\x00\x00\x00SMART\x00\x00USD\x00\x00\x000\x00\x001\x000\x00\x00";
        match decode_request(body).unwrap() {
            Request::MktData {
                req_id,
                contract,
                snapshot,
                ..
            } => {
                assert_eq!(
                    (req_id, contract.symbol.as_str(), snapshot),
                    (13, "AAPL", true)
                );
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
