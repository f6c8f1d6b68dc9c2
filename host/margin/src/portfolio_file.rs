//! The portfolio JSON file (docs/margin.md, "Portfolio file") → [`Portfolio`]. Parsed by hand over
//! `serde_json::Value` so that every error names the exact field, e.g.
//! `positions[3].strike: expected a decimal, got "abc"`.

use crate::date::Date;
use crate::error::PortfolioError;
use crate::model::{
    DatedMargin, Instrument, OptionSpec, Portfolio, Position, Right, RiskArray, SpanParams,
    Underlying, UnderlyingClass,
};
use rust_decimal::Decimal;
use serde_json::{Map, Value};
use std::str::FromStr;

/// Parses a portfolio file. Numbers may be JSON numbers or decimal strings. A malformed file gives a
/// one-line error naming the field (and the position index).
pub fn parse_portfolio(json: &str) -> Result<Portfolio, PortfolioError> {
    let root: Value = serde_json::from_str(json).map_err(|e| {
        PortfolioError::new(
            format!("line {}, column {}", e.line(), e.column()),
            "invalid JSON",
        )
    })?;
    let root = root
        .as_object()
        .ok_or_else(|| PortfolioError::new("(file)", "expected an object"))?;
    known_fields(root, "", ROOT_FIELDS)?;
    let mut p = Portfolio {
        as_of: opt(root, "", "as_of", date)?,
        rate: opt(root, "", "rate", decimal)?.unwrap_or(Decimal::ZERO),
        ..Portfolio::default()
    };
    let unds = root
        .get("underlyings")
        .ok_or_else(|| PortfolioError::new("underlyings", "missing"))?
        .as_object()
        .ok_or_else(|| PortfolioError::new("underlyings", "expected an object"))?;
    for (sym, v) in unds {
        let path = format!("underlyings.{sym}");
        p.underlyings
            .insert(sym.clone(), underlying(sym, v, &path)?);
    }
    let positions = root
        .get("positions")
        .ok_or_else(|| PortfolioError::new("positions", "missing"))?
        .as_array()
        .ok_or_else(|| PortfolioError::new("positions", "expected an array"))?;
    for (i, v) in positions.iter().enumerate() {
        let path = format!("positions[{i}]");
        let pos = position(v, &path)?;
        if !p.underlyings.contains_key(&pos.symbol) {
            return Err(PortfolioError::new(
                format!("{path}.symbol"),
                format!("no underlying {:?} in \"underlyings\"", pos.symbol),
            ));
        }
        p.positions.push(pos);
    }
    if let Some(v) = root.get("futures_margins") {
        let m = v
            .as_object()
            .ok_or_else(|| PortfolioError::new("futures_margins", "expected an object"))?;
        for (sym, v) in m {
            let path = format!("futures_margins.{sym}");
            let rates = match v {
                Value::Array(a) => a
                    .iter()
                    .enumerate()
                    .map(|(j, r)| dated_margin(r, &format!("{path}[{j}]")))
                    .collect::<Result<Vec<_>, _>>()?,
                _ => vec![dated_margin(v, &path)?],
            };
            p.futures_margins.insert(sym.clone(), rates);
        }
    }
    if let Some(v) = root.get("risk_arrays") {
        let a = v
            .as_array()
            .ok_or_else(|| PortfolioError::new("risk_arrays", "expected an array"))?;
        for (j, r) in a.iter().enumerate() {
            p.risk_arrays
                .push(risk_array(r, &format!("risk_arrays[{j}]"))?);
        }
    }
    if let Some(v) = root.get("span_params") {
        let m = v
            .as_object()
            .ok_or_else(|| PortfolioError::new("span_params", "expected an object"))?;
        for (sym, v) in m {
            let path = format!("span_params.{sym}");
            let o = object(v, &path)?;
            known_fields(o, &path, &["spread_charge", "initial_ratio"])?;
            let d = SpanParams::default();
            p.span_params.insert(
                sym.clone(),
                SpanParams {
                    spread_charge: opt(o, &path, "spread_charge", decimal)?
                        .unwrap_or(d.spread_charge),
                    initial_ratio: opt(o, &path, "initial_ratio", decimal)?
                        .unwrap_or(d.initial_ratio),
                },
            );
        }
    }
    if let Some((path, message)) = p.problem() {
        return Err(PortfolioError::new(path, message));
    }
    Ok(p)
}

fn underlying(sym: &str, v: &Value, path: &str) -> Result<Underlying, PortfolioError> {
    let o = object(v, path)?;
    known_fields(o, path, &["price", "class", "leverage", "marginable"])?;
    let price = req(o, path, "price", decimal)?;
    if price.is_sign_negative() {
        return Err(PortfolioError::new(
            format!("{path}.price"),
            "must not be negative",
        ));
    }
    let class_name = req(o, path, "class", string)?;
    let class = UnderlyingClass::from_name(&class_name).ok_or_else(|| {
        PortfolioError::new(
            format!("{path}.class"),
            format!(
                "expected one of equity, etf, broad_index, narrow_index, leveraged_etf, future, got {class_name:?}"
            ),
        )
    })?;
    if class == UnderlyingClass::Future
        && let Some(key) = ["leverage", "marginable"]
            .into_iter()
            .find(|k| o.contains_key(*k))
    {
        return Err(PortfolioError::new(
            format!("{path}.{key}"),
            "not applied to class future (futures are margined per contract or by SPAN)",
        ));
    }
    let leverage = opt(o, path, "leverage", decimal)?.unwrap_or(Decimal::ONE);
    if leverage <= Decimal::ZERO {
        return Err(PortfolioError::new(
            format!("{path}.leverage"),
            "must be positive",
        ));
    }
    let marginable = match o.get("marginable") {
        None => true,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(PortfolioError::new(
                format!("{path}.marginable"),
                format!("expected true or false, got {other}"),
            ));
        }
    };
    Ok(Underlying {
        symbol: sym.to_string(),
        price,
        class,
        leverage,
        marginable,
    })
}

fn position(v: &Value, path: &str) -> Result<Position, PortfolioError> {
    let o = object(v, path)?;
    let kind = req(o, path, "kind", string)?;
    let fields: &[&str] = match kind.as_str() {
        "stock" => &[],
        "future" => &["expiry", "multiplier"],
        _ => &["right", "strike", "expiry", "multiplier", "iv"],
    };
    for key in o.keys() {
        if ["kind", "symbol", "qty", "price"].contains(&key.as_str())
            || fields.contains(&key.as_str())
        {
            continue;
        }
        let message = if POSITION_FIELDS.contains(&key.as_str()) {
            format!("not applied to kind {kind:?}")
        } else {
            unknown(&["kind", "symbol", "qty", "price"], fields)
        };
        return Err(PortfolioError::new(field_path(path, key), message));
    }
    let symbol = req(o, path, "symbol", string)?;
    let qty = req(o, path, "qty", decimal)?;
    let price = req(o, path, "price", decimal)?;
    let iv = opt(o, path, "iv", decimal)?;
    if iv.is_some_and(|v| v.is_sign_negative()) {
        return Err(PortfolioError::new(
            format!("{path}.iv"),
            "must not be negative",
        ));
    }
    if price.is_sign_negative() && kind != "future" {
        return Err(PortfolioError::new(
            format!("{path}.price"),
            "must not be negative",
        ));
    }
    let whole = |what: &str| -> Result<(), PortfolioError> {
        if qty.fract().is_zero() {
            Ok(())
        } else {
            Err(PortfolioError::new(
                format!("{path}.qty"),
                format!("{what} quantity must be a whole number of contracts, got {qty}"),
            ))
        }
    };
    let instrument = match kind.as_str() {
        "stock" => Instrument::Stock,
        "option" | "future_option" => {
            whole("option")?;
            let spec = OptionSpec {
                expiry: req(o, path, "expiry", date)?,
                right: req(o, path, "right", right)?,
                strike: req(o, path, "strike", decimal)?,
                multiplier: opt(o, path, "multiplier", multiplier)?.unwrap_or(Decimal::ONE_HUNDRED),
            };
            if spec.strike <= Decimal::ZERO {
                return Err(PortfolioError::new(
                    format!("{path}.strike"),
                    "must be positive",
                ));
            }
            if kind == "option" {
                Instrument::Option(spec)
            } else {
                Instrument::FutureOption(spec)
            }
        }
        "future" => {
            whole("future")?;
            Instrument::Future {
                expiry: req(o, path, "expiry", date)?,
                multiplier: req(o, path, "multiplier", multiplier)?,
            }
        }
        other => {
            return Err(PortfolioError::new(
                format!("{path}.kind"),
                format!("expected one of stock, option, future, future_option, got {other:?}"),
            ));
        }
    };
    Ok(Position {
        symbol,
        instrument,
        qty,
        price,
        iv,
    })
}

fn dated_margin(v: &Value, path: &str) -> Result<DatedMargin, PortfolioError> {
    let o = object(v, path)?;
    known_fields(o, path, &["effective", "initial", "maintenance"])?;
    let initial = req(o, path, "initial", decimal)?;
    let maintenance = req(o, path, "maintenance", decimal)?;
    if initial.is_sign_negative() || maintenance.is_sign_negative() {
        return Err(PortfolioError::new(path, "margins must not be negative"));
    }
    Ok(DatedMargin {
        effective: opt(o, path, "effective", date)?,
        initial,
        maintenance,
    })
}

fn risk_array(v: &Value, path: &str) -> Result<RiskArray, PortfolioError> {
    let o = object(v, path)?;
    known_fields(o, path, RISK_ARRAY_FIELDS)?;
    let list = req(o, path, "scenarios", |v, p| {
        v.as_array()
            .cloned()
            .ok_or_else(|| PortfolioError::new(p, "expected an array of 16 numbers"))
    })?;
    if list.len() != 16 {
        return Err(PortfolioError::new(
            format!("{path}.scenarios"),
            format!("expected 16 scenarios, got {}", list.len()),
        ));
    }
    let mut scenarios = [Decimal::ZERO; 16];
    for (k, item) in list.iter().enumerate() {
        scenarios[k] = decimal(item, &format!("{path}.scenarios[{k}]"))?;
    }
    Ok(RiskArray {
        symbol: req(o, path, "symbol", string)?,
        expiry: opt(o, path, "expiry", date)?,
        right: opt(o, path, "right", right)?,
        strike: opt(o, path, "strike", decimal)?,
        scenarios,
        // CME publishes scenarios 15 and 16 already weighted: count them as given by default.
        extreme_fraction: opt(o, path, "extreme_fraction", decimal)?.unwrap_or(Decimal::ONE),
        short_option_minimum: opt(o, path, "short_option_minimum", decimal)?
            .unwrap_or(Decimal::ZERO),
    })
}

type Field<T> = fn(&Value, &str) -> Result<T, PortfolioError>;

const ROOT_FIELDS: &[&str] = &[
    "as_of",
    "rate",
    "underlyings",
    "positions",
    "futures_margins",
    "risk_arrays",
    "span_params",
];
const POSITION_FIELDS: &[&str] = &[
    "kind",
    "symbol",
    "qty",
    "price",
    "right",
    "strike",
    "expiry",
    "multiplier",
    "iv",
];
const RISK_ARRAY_FIELDS: &[&str] = &[
    "symbol",
    "expiry",
    "right",
    "strike",
    "scenarios",
    "extreme_fraction",
    "short_option_minimum",
];

/// A key the engine does not know would be silently ignored: it is an error instead.
fn known_fields(
    o: &Map<String, Value>,
    path: &str,
    allowed: &[&str],
) -> Result<(), PortfolioError> {
    match o.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(key) => Err(PortfolioError::new(
            field_path(path, key),
            unknown(allowed, &[]),
        )),
        None => Ok(()),
    }
}

fn unknown(a: &[&str], b: &[&str]) -> String {
    let list: Vec<&str> = a.iter().chain(b).copied().collect();
    format!("unknown field (expected {})", list.join(", "))
}

fn object<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>, PortfolioError> {
    v.as_object()
        .ok_or_else(|| PortfolioError::new(path, format!("expected an object, got {v}")))
}

fn field_path(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn req<T>(
    o: &Map<String, Value>,
    path: &str,
    key: &str,
    f: impl Fn(&Value, &str) -> Result<T, PortfolioError>,
) -> Result<T, PortfolioError> {
    let p = field_path(path, key);
    match o.get(key) {
        None | Some(Value::Null) => Err(PortfolioError::new(p, "missing")),
        Some(v) => f(v, &p),
    }
}

fn opt<T>(
    o: &Map<String, Value>,
    path: &str,
    key: &str,
    f: Field<T>,
) -> Result<Option<T>, PortfolioError> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => f(v, &field_path(path, key)).map(Some),
    }
}

/// A decimal from a JSON number or a decimal string.
fn decimal(v: &Value, path: &str) -> Result<Decimal, PortfolioError> {
    let bad = || PortfolioError::new(path, format!("expected a decimal, got {v}"));
    let text = match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_string(),
        _ => return Err(bad()),
    };
    if text.is_empty() {
        return Err(bad());
    }
    Decimal::from_str(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .map_err(|_| bad())
}

fn string(v: &Value, path: &str) -> Result<String, PortfolioError> {
    v.as_str()
        .map(str::to_string)
        .ok_or_else(|| PortfolioError::new(path, format!("expected a string, got {v}")))
}

fn date(v: &Value, path: &str) -> Result<Date, PortfolioError> {
    let s = v
        .as_str()
        .ok_or_else(|| PortfolioError::new(path, format!("expected a date YYYY-MM-DD, got {v}")))?;
    Date::from_str(s)
        .map_err(|_| PortfolioError::new(path, format!("expected a date YYYY-MM-DD, got {v}")))
}

fn right(v: &Value, path: &str) -> Result<Right, PortfolioError> {
    match v.as_str() {
        Some("C" | "c" | "call" | "CALL") => Ok(Right::Call),
        Some("P" | "p" | "put" | "PUT") => Ok(Right::Put),
        _ => Err(PortfolioError::new(
            path,
            format!("expected \"C\" or \"P\", got {v}"),
        )),
    }
}

fn multiplier(v: &Value, path: &str) -> Result<Decimal, PortfolioError> {
    let d = decimal(v, path)?;
    if d <= Decimal::ZERO {
        return Err(PortfolioError::new(
            path,
            format!("expected a positive number, got {v}"),
        ));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    /// The reference portfolio file example of docs/margin.md.
    const SAMPLE: &str = include_str!("../tests/data/reference_portfolio.json");

    #[test]
    fn parses_the_reference_example() {
        let p = parse_portfolio(SAMPLE).unwrap();
        assert_eq!(p.positions.len(), 3);
        assert_eq!(p.underlyings["TQQQ"].leverage, dec!(3));
        assert_eq!(p.positions[1].iv, Some(dec!(0.23)));
        assert_eq!(p.futures_margins["ES"][0].maintenance, dec!(13250));
        assert_eq!(p.positions[1].option_spec().unwrap().strike, dec!(190));
    }

    #[test]
    fn bad_field_names_index_and_field() {
        let bad = SAMPLE.replace("\"strike\": \"190\"", "\"strike\": \"abc\"");
        let e = parse_portfolio(&bad).unwrap_err();
        assert_eq!(
            e.to_string(),
            "positions[1].strike: expected a decimal, got \"abc\""
        );
        let bad = SAMPLE.replace("\"qty\": -3", "\"qty\": -3.5");
        assert!(
            parse_portfolio(&bad)
                .unwrap_err()
                .to_string()
                .starts_with("positions[1].qty:")
        );
        let bad = SAMPLE.replace("\"kind\": \"stock\"", "\"kind\": \"bond\"");
        assert!(
            parse_portfolio(&bad)
                .unwrap_err()
                .to_string()
                .starts_with("positions[0].kind:")
        );
        let bad = SAMPLE.replace(
            "\"symbol\": \"AAPL\", \"qty\"",
            "\"symbol\": \"MSFT\", \"qty\"",
        );
        assert!(
            parse_portfolio(&bad)
                .unwrap_err()
                .to_string()
                .starts_with("positions[0].symbol:")
        );
        assert!(!parse_portfolio("{").unwrap_err().to_string().contains('\n'));
    }

    #[test]
    fn numbers_or_strings() {
        let p =
            parse_portfolio(&SAMPLE.replace("\"strike\": \"190\"", "\"strike\": 190.5")).unwrap();
        assert_eq!(p.positions[1].option_spec().unwrap().strike, dec!(190.5));
    }
}
