//! The other direction of [`crate::portfolio_file`]: a [`Portfolio`] written as the file
//! `tickwork margin` reads (amounts as exact decimal strings, one underlying / position per line),
//! and [`locate`], which finds the line of a field an error names so that a message can say
//! `portfolio.json: line 12: positions[1].strike: expected a decimal`.

use crate::model::{DatedMargin, Instrument, Portfolio, Position, RiskArray, Underlying};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

fn dec(d: Decimal) -> Value {
    Value::String(d.to_string())
}

fn underlying(u: &Underlying) -> Value {
    let mut o = Map::new();
    o.insert("price".into(), dec(u.price));
    o.insert(
        "class".into(),
        serde_json::to_value(u.class).unwrap_or(Value::Null),
    );
    if u.leverage != Decimal::ONE {
        o.insert("leverage".into(), dec(u.leverage));
    }
    if !u.marginable {
        o.insert("marginable".into(), Value::Bool(false));
    }
    Value::Object(o)
}

fn position(p: &Position) -> Value {
    let mut o = Map::new();
    let kind = match p.instrument {
        Instrument::Stock => "stock",
        Instrument::Option(_) => "option",
        Instrument::Future { .. } => "future",
        Instrument::FutureOption(_) => "future_option",
    };
    o.insert("kind".into(), json!(kind));
    o.insert("symbol".into(), json!(p.symbol));
    match &p.instrument {
        Instrument::Stock => {}
        Instrument::Option(s) | Instrument::FutureOption(s) => {
            o.insert("right".into(), json!(s.right.to_string()));
            o.insert("strike".into(), dec(s.strike));
            o.insert("expiry".into(), json!(s.expiry.to_string()));
            o.insert("multiplier".into(), dec(s.multiplier));
        }
        Instrument::Future { expiry, multiplier } => {
            o.insert("expiry".into(), json!(expiry.to_string()));
            o.insert("multiplier".into(), dec(*multiplier));
        }
    }
    o.insert("qty".into(), dec(p.qty));
    o.insert("price".into(), dec(p.price));
    if let Some(iv) = p.iv {
        o.insert("iv".into(), dec(iv));
    }
    Value::Object(o)
}

fn dated(m: &DatedMargin) -> Value {
    let mut o = Map::new();
    if let Some(e) = m.effective {
        o.insert("effective".into(), json!(e.to_string()));
    }
    o.insert("initial".into(), dec(m.initial));
    o.insert("maintenance".into(), dec(m.maintenance));
    Value::Object(o)
}

fn risk_array(r: &RiskArray) -> Value {
    let mut o = Map::new();
    o.insert("symbol".into(), json!(r.symbol));
    if let Some(e) = r.expiry {
        o.insert("expiry".into(), json!(e.to_string()));
    }
    if let Some(right) = r.right {
        o.insert("right".into(), json!(right.to_string()));
    }
    if let Some(strike) = r.strike {
        o.insert("strike".into(), dec(strike));
    }
    o.insert(
        "scenarios".into(),
        Value::Array(r.scenarios.iter().copied().map(dec).collect()),
    );
    o.insert("extreme_fraction".into(), dec(r.extreme_fraction));
    o.insert("short_option_minimum".into(), dec(r.short_option_minimum));
    Value::Object(o)
}

/// One `"key": value` line per entry of an object, or one value per line of an array.
fn block(out: &mut String, key: &str, entries: Vec<(Option<String>, Value)>, array: bool) {
    out.push_str(&format!(
        ",\n  {}: {}",
        json!(key),
        if array { "[" } else { "{" }
    ));
    for (i, (k, v)) in entries.iter().enumerate() {
        out.push_str(if i == 0 { "\n    " } else { ",\n    " });
        if let Some(k) = k {
            out.push_str(&format!("{}: ", json!(k)));
        }
        out.push_str(&v.to_string());
    }
    if !entries.is_empty() {
        out.push_str("\n  ");
    }
    out.push_str(if array { "]" } else { "}" });
}

/// The portfolio as a file [`crate::parse_portfolio`] reads back to the same portfolio.
pub fn write_portfolio(p: &Portfolio) -> String {
    let mut out = String::from("{\n");
    out.push_str(&format!("  \"rate\": {}", dec(p.rate)));
    if let Some(d) = p.as_of {
        out.push_str(&format!(",\n  \"as_of\": {}", json!(d.to_string())));
    }
    let unds = p
        .underlyings
        .iter()
        .map(|(k, u)| (Some(k.clone()), underlying(u)))
        .collect();
    block(&mut out, "underlyings", unds, false);
    let positions = p.positions.iter().map(|x| (None, position(x))).collect();
    block(&mut out, "positions", positions, true);
    if !p.futures_margins.is_empty() {
        let m = p
            .futures_margins
            .iter()
            .map(|(k, rates)| {
                let v = match rates.as_slice() {
                    [one] => dated(one),
                    many => Value::Array(many.iter().map(dated).collect()),
                };
                (Some(k.clone()), v)
            })
            .collect();
        block(&mut out, "futures_margins", m, false);
    }
    if !p.risk_arrays.is_empty() {
        let a = p
            .risk_arrays
            .iter()
            .map(|r| (None, risk_array(r)))
            .collect();
        block(&mut out, "risk_arrays", a, true);
    }
    if !p.span_params.is_empty() {
        let m = p
            .span_params
            .iter()
            .map(|(k, s)| {
                (
                    Some(k.clone()),
                    json!({"spread_charge": s.spread_charge.to_string(),
                           "initial_ratio": s.initial_ratio.to_string()}),
                )
            })
            .collect();
        block(&mut out, "span_params", m, false);
    }
    out.push_str("\n}\n");
    out
}

/// The 1-based line where the field an error names (`positions[1].strike`,
/// `underlyings.AAPL.price`) starts in `json`; for a field that is missing, the line of the
/// nearest enclosing one that exists. `None` when not even the first step exists or the text is
/// not JSON up to there.
pub fn locate(json: &str, path: &str) -> Option<usize> {
    let mut path = path;
    loop {
        let mut scan = Scan {
            b: json.as_bytes(),
            i: 0,
            line: 1,
        };
        if let Some(line) = scan.find(path) {
            return Some(line);
        }
        // Drop the last step: `positions[2].price` → `positions[2]` → `positions`.
        let cut = path.rfind(['.', '['])?;
        if cut == 0 {
            return None;
        }
        path = &path[..cut];
    }
}

struct Scan<'a> {
    b: &'a [u8],
    i: usize,
    line: usize,
}

impl Scan<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let c = self.peek()?;
        if c == b'\n' {
            self.line += 1;
        }
        self.i += 1;
        Some(c)
    }

    fn ws(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            self.bump();
        }
    }

    fn string(&mut self) -> Option<String> {
        if self.bump()? != b'"' {
            return None;
        }
        let start = self.i;
        loop {
            match self.bump()? {
                b'\\' => {
                    self.bump()?;
                }
                b'"' => break,
                _ => {}
            }
        }
        let raw = std::str::from_utf8(&self.b[start - 1..self.i]).ok()?;
        serde_json::from_str(raw).ok()
    }

    fn skip(&mut self) -> Option<()> {
        self.ws();
        match self.peek()? {
            b'"' => self.string().map(|_| ()),
            open @ (b'{' | b'[') => {
                let close = if open == b'{' { b'}' } else { b']' };
                self.bump();
                loop {
                    self.ws();
                    match self.peek()? {
                        c if c == close => {
                            self.bump();
                            return Some(());
                        }
                        b',' | b':' => {
                            self.bump();
                        }
                        _ => self.skip()?,
                    }
                }
            }
            _ => {
                let start = self.i;
                while self
                    .peek()
                    .is_some_and(|c| !matches!(c, b',' | b'}' | b']') && !c.is_ascii_whitespace())
                {
                    self.bump();
                }
                // Not a value (a stray `}` in an array): give up rather than loop.
                (self.i > start).then_some(())
            }
        }
    }

    /// At a value: the line where `path` (relative to it) starts.
    fn find(&mut self, path: &str) -> Option<usize> {
        self.ws();
        let path = path.strip_prefix('.').unwrap_or(path);
        if path.is_empty() {
            return Some(self.line);
        }
        match self.peek()? {
            b'{' => {
                self.bump();
                loop {
                    self.ws();
                    match self.peek()? {
                        b'}' => return None,
                        b',' => {
                            self.bump();
                            continue;
                        }
                        _ => {}
                    }
                    let key = self.string()?;
                    self.ws();
                    if self.bump()? != b':' {
                        return None;
                    }
                    if let Some(rest) = path.strip_prefix(key.as_str())
                        && (rest.is_empty() || rest.starts_with(['.', '[']))
                    {
                        return self.find(rest);
                    }
                    self.skip()?;
                }
            }
            b'[' => {
                let inner = path.strip_prefix('[')?;
                let close = inner.find(']')?;
                let index: usize = inner[..close].parse().ok()?;
                let rest = &inner[close + 1..];
                self.bump();
                let mut n = 0;
                loop {
                    self.ws();
                    match self.peek()? {
                        b']' => return None,
                        b',' => {
                            self.bump();
                            continue;
                        }
                        _ => {}
                    }
                    if n == index {
                        return self.find(rest);
                    }
                    self.skip()?;
                    n += 1;
                }
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_portfolio;

    const SAMPLE: &str = include_str!("../tests/data/reference_portfolio.json");

    #[test]
    fn written_files_read_back_to_the_same_portfolio() {
        let p = parse_portfolio(SAMPLE).unwrap();
        let text = write_portfolio(&p);
        assert_eq!(parse_portfolio(&text).unwrap(), p, "{text}");
        // One position per line, readable in a diff.
        assert!(text.lines().any(|l| l.contains("\"kind\":\"future\"")));
        let empty = Portfolio::default();
        assert_eq!(parse_portfolio(&write_portfolio(&empty)).unwrap(), empty);
    }

    #[test]
    fn locates_the_line_an_error_names() {
        assert_eq!(locate(SAMPLE, "underlyings.TQQQ.leverage"), Some(6));
        assert_eq!(locate(SAMPLE, "positions[1].strike"), Some(11));
        assert_eq!(locate(SAMPLE, "positions[2]"), Some(13));
        // A missing field: the enclosing position's line.
        assert_eq!(locate(SAMPLE, "positions[0].iv"), Some(10));
        assert_eq!(locate(SAMPLE, "futures_margins.ES"), Some(15));
        assert_eq!(locate(SAMPLE, "nothing"), None);
        assert_eq!(locate("{", "positions[0]"), None);
        // Malformed JSON never hangs the search.
        assert_eq!(locate("{\n  \"positions\": [,\n}", "x"), None);
        assert_eq!(locate("{\"a\": [}], \"b\": 1}", "b"), None);
        let dotted = r#"{"underlyings": {"BRK.B": {"price": "1"}},
"positions": []}"#;
        assert_eq!(locate(dotted, "underlyings.BRK.B.price"), Some(1));
        assert_eq!(locate(dotted, "positions[3]"), Some(2));
    }
}
