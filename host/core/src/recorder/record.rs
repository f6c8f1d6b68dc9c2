//! What the recorder records, and its journal encoding.
//!
//! A journal record's payload is one line of tab-separated UTF-8 text, in the spirit of
//! PostgreSQL's `COPY` text format: a one-letter kind, then the fields; `\N` is NULL; a
//! backslash, tab, newline or carriage return inside a string is escaped (`\\`, `\t`, `\n`,
//! `\r`). Text rather than a binary encoding so that a journal can be read with `strings` when
//! something went wrong, and so that decimals and timestamps round-trip exactly (`Decimal`'s own
//! string form; RFC 3339 with nanoseconds).
//!
//! ```text
//! T  instrument_id  ts  kind_code  price  size
//! B  instrument_id  bar_seconds  ts  open  high  low  close  volume
//! E  exec_id  order_ref  tws_order_id  tws_perm_id  account  instrument_id  side  quantity  price
//!    commission  commission_currency  realized_pnl  executed_at
//! C  exec_id  commission  currency  realized_pnl
//! A  account  taken_at  key  currency  value
//! ```

use std::borrow::Cow;
use std::fmt::Write as _;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use rust_decimal::Decimal;

use crate::domain::{Bar, ExecSide, Execution, Tick, TickKind};
use crate::store::account_values::AccountValue;

/// IB's commission report for one execution; it arrives after the execution itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommissionReport {
    pub exec_id: String,
    pub commission: Decimal,
    pub currency: String,
    pub realized_pnl: Option<Decimal>,
}

/// One thing to record. Large variants are boxed so a queue of ticks stays small.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    Tick(Tick),
    Bar(Box<Bar>),
    Execution(Box<Execution>),
    Commission(Box<CommissionReport>),
    AccountValue(Box<AccountValue>),
}

/// A borrowed record, so a batch can be written to the journal without cloning it.
#[derive(Debug, Clone, Copy)]
pub enum RecordRef<'a> {
    Tick(&'a Tick),
    Bar(&'a Bar),
    Execution(&'a Execution),
    Commission(&'a CommissionReport),
    AccountValue(&'a AccountValue),
}

impl Record {
    pub fn as_ref(&self) -> RecordRef<'_> {
        match self {
            Record::Tick(t) => RecordRef::Tick(t),
            Record::Bar(b) => RecordRef::Bar(b),
            Record::Execution(e) => RecordRef::Execution(e),
            Record::Commission(c) => RecordRef::Commission(c),
            Record::AccountValue(v) => RecordRef::AccountValue(v),
        }
    }
}

/// Appends the payload of `record` (one line, with its trailing newline) to `out`.
pub fn encode(record: RecordRef<'_>, out: &mut String) {
    match record {
        RecordRef::Tick(t) => {
            let _ = write!(
                out,
                "T\t{}\t{}\t{}\t{}\t{}",
                t.instrument_id,
                time(t.ts),
                t.kind.code(),
                opt(t.price),
                opt(t.size)
            );
        }
        RecordRef::Bar(b) => {
            let _ = write!(
                out,
                "B\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                b.instrument_id,
                b.bar_seconds,
                time(b.ts),
                b.open,
                b.high,
                b.low,
                b.close,
                b.volume
            );
        }
        RecordRef::Execution(e) => {
            let _ = write!(
                out,
                "E\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                esc(&e.exec_id),
                opt_str(e.order_ref.as_deref()),
                opt(e.tws_order_id),
                opt(e.tws_perm_id),
                esc(&e.account),
                e.instrument_id,
                e.side.as_str(),
                e.quantity,
                e.price,
                opt(e.commission),
                opt_str(e.commission_currency.as_deref()),
                opt(e.realized_pnl),
                time(e.executed_at)
            );
        }
        RecordRef::Commission(c) => {
            let _ = write!(
                out,
                "C\t{}\t{}\t{}\t{}",
                esc(&c.exec_id),
                c.commission,
                esc(&c.currency),
                opt(c.realized_pnl)
            );
        }
        RecordRef::AccountValue(v) => {
            let _ = write!(
                out,
                "A\t{}\t{}\t{}\t{}\t{}",
                esc(&v.account),
                time(v.taken_at),
                esc(&v.key),
                esc(&v.currency),
                esc(&v.value)
            );
        }
    }
    out.push('\n');
}

/// Parses one payload written by [`encode`]. The error says which field is wrong.
pub fn decode(payload: &str) -> Result<Record, String> {
    let line = payload
        .strip_suffix('\n')
        .ok_or("record does not end with a newline")?;
    let mut fields = Fields {
        parts: line.split('\t'),
        index: 0,
    };
    let kind = fields.raw()?;
    let record = match kind {
        "T" => Record::Tick(Tick {
            instrument_id: fields.parse()?,
            ts: fields.time()?,
            kind: {
                let code: i16 = fields.parse()?;
                TickKind::from_code(code).ok_or(format!("unknown tick kind {code}"))?
            },
            price: fields.opt_parse()?,
            size: fields.opt_parse()?,
        }),
        "B" => Record::Bar(Box::new(Bar {
            instrument_id: fields.parse()?,
            bar_seconds: fields.parse()?,
            ts: fields.time()?,
            open: fields.parse()?,
            high: fields.parse()?,
            low: fields.parse()?,
            close: fields.parse()?,
            volume: fields.parse()?,
        })),
        "E" => Record::Execution(Box::new(Execution {
            exec_id: fields.string()?,
            order_ref: fields.opt_string()?,
            tws_order_id: fields.opt_parse()?,
            tws_perm_id: fields.opt_parse()?,
            account: fields.string()?,
            instrument_id: fields.parse()?,
            side: {
                let side = fields.raw()?;
                ExecSide::from_str(side).map_err(|e| e.to_string())?
            },
            quantity: fields.parse()?,
            price: fields.parse()?,
            commission: fields.opt_parse()?,
            commission_currency: fields.opt_string()?,
            realized_pnl: fields.opt_parse()?,
            executed_at: fields.time()?,
        })),
        "C" => Record::Commission(Box::new(CommissionReport {
            exec_id: fields.string()?,
            commission: fields.parse()?,
            currency: fields.string()?,
            realized_pnl: fields.opt_parse()?,
        })),
        "A" => Record::AccountValue(Box::new(AccountValue {
            account: fields.string()?,
            taken_at: fields.time()?,
            key: fields.string()?,
            currency: fields.string()?,
            value: fields.string()?,
        })),
        other => return Err(format!("unknown record kind `{}`", other.escape_debug())),
    };
    if fields.parts.next().is_some() {
        return Err(format!("more than {} fields", fields.index));
    }
    Ok(record)
}

struct Fields<'a> {
    parts: std::str::Split<'a, char>,
    index: usize,
}

impl<'a> Fields<'a> {
    fn raw(&mut self) -> Result<&'a str, String> {
        self.index += 1;
        self.parts
            .next()
            .ok_or_else(|| format!("field {} is missing", self.index))
    }

    fn parse<T: FromStr>(&mut self) -> Result<T, String>
    where
        T::Err: std::fmt::Display,
    {
        let raw = self.raw()?;
        raw.parse()
            .map_err(|e| format!("field {}: `{}`: {e}", self.index, raw.escape_debug()))
    }

    fn opt_parse<T: FromStr>(&mut self) -> Result<Option<T>, String>
    where
        T::Err: std::fmt::Display,
    {
        if self.peek_null() {
            self.raw()?;
            return Ok(None);
        }
        self.parse().map(Some)
    }

    fn time(&mut self) -> Result<DateTime<Utc>, String> {
        let raw = self.raw()?;
        DateTime::parse_from_rfc3339(raw)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| format!("field {}: `{}`: {e}", self.index, raw.escape_debug()))
    }

    fn string(&mut self) -> Result<String, String> {
        let raw = self.raw()?;
        unescape(raw).map_err(|e| format!("field {}: {e}", self.index))
    }

    fn opt_string(&mut self) -> Result<Option<String>, String> {
        if self.peek_null() {
            self.raw()?;
            return Ok(None);
        }
        self.string().map(Some)
    }

    fn peek_null(&self) -> bool {
        self.parts.clone().next() == Some("\\N")
    }
}

fn time(ts: DateTime<Utc>) -> String {
    ts.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn opt<T: std::fmt::Display>(value: Option<T>) -> Cow<'static, str> {
    value.map_or(Cow::Borrowed("\\N"), |v| Cow::Owned(v.to_string()))
}

fn opt_str(value: Option<&str>) -> Cow<'_, str> {
    value.map_or(Cow::Borrowed("\\N"), esc)
}

fn esc(value: &str) -> Cow<'_, str> {
    crate::store::account_values::copy_text(value)
}

fn unescape(raw: &str) -> Result<String, String> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            other => return Err(format!("bad escape `\\{}`", other.unwrap_or(' '))),
        }
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use chrono::TimeZone;
    use rust_decimal_macros::dec;

    use super::*;

    pub(crate) fn samples() -> Vec<Record> {
        let at = Utc.with_ymd_and_hms(2026, 11, 24, 15, 30, 0).unwrap()
            + chrono::Duration::nanoseconds(123_456_789);
        vec![
            Record::Tick(Tick {
                instrument_id: 3,
                ts: at,
                kind: TickKind::Last,
                price: Some(dec!(187.0100)),
                size: None,
            }),
            Record::Bar(Box::new(Bar {
                instrument_id: 3,
                bar_seconds: 60,
                ts: at,
                open: dec!(1),
                high: dec!(2.5),
                low: dec!(0.75),
                close: dec!(-1.25),
                volume: dec!(1e6),
            })),
            Record::Execution(Box::new(Execution {
                exec_id: "0001.a\tb\\N".into(),
                order_ref: None,
                tws_order_id: Some(-1),
                tws_perm_id: None,
                account: "DU1".into(),
                instrument_id: 3,
                side: ExecSide::Sold,
                quantity: dec!(0.5),
                price: dec!(187.123456789),
                commission: Some(dec!(1.00)),
                commission_currency: Some("\\N".into()),
                realized_pnl: None,
                executed_at: at,
            })),
            Record::Commission(Box::new(CommissionReport {
                exec_id: "x\ny".into(),
                commission: dec!(0.35),
                currency: "USD".into(),
                realized_pnl: Some(dec!(-12.5)),
            })),
            Record::AccountValue(Box::new(AccountValue {
                account: "DU1".into(),
                taken_at: at,
                key: "NetLiquidation".into(),
                currency: String::new(),
                value: "100250.75".into(),
            })),
        ]
    }

    #[test]
    fn every_kind_round_trips_exactly() {
        for record in samples() {
            let mut text = String::new();
            encode(record.as_ref(), &mut text);
            assert_eq!(text.matches('\n').count(), 1, "one line: {text:?}");
            assert_eq!(decode(&text).unwrap(), record, "{text:?}");
        }
    }

    #[test]
    fn bad_payloads_name_the_field() {
        assert!(decode("T\t1\n").unwrap_err().contains("field 3"));
        assert!(
            decode("T\tx\t2026-11-24T00:00:00Z\t4\t1\t1\n")
                .unwrap_err()
                .contains("field 2")
        );
        assert!(decode("Z\n").unwrap_err().contains("unknown record kind"));
        assert!(decode("T\t1").unwrap_err().contains("newline"));
        assert!(
            decode("C\te\t1\tUSD\t\\N\textra\n")
                .unwrap_err()
                .contains("more than")
        );
        assert!(
            decode("C\te\\q\t1\tUSD\t\\N\n")
                .unwrap_err()
                .contains("bad escape")
        );
    }
}
