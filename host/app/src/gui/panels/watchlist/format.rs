//! How numbers read in the tables: exact decimals, fixed places, signs on changes, thousands
//! separators, and "—" for what is not known yet.

use rust_decimal::{Decimal, RoundingStrategy};

/// Shown where a value is not known (no quote yet, no close).
pub const UNKNOWN: &str = "—";

/// Rounds half away from zero to `places` and pads to exactly `places` decimals.
fn fixed(value: Decimal, places: u32) -> String {
    let mut rounded = value.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero);
    rounded.rescale(places);
    if rounded.is_zero() {
        // No "-0.00".
        rounded.set_sign_positive(true);
    }
    rounded.to_string()
}

/// Groups the integer digits of a plain decimal string in thousands.
fn grouped(text: &str) -> String {
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text),
    };
    let (int, frac) = match digits.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (digits, None),
    };
    let mut out = String::with_capacity(text.len() + int.len() / 3);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    let mut text = format!("{sign}{out}");
    if let Some(frac) = frac {
        text.push('.');
        text.push_str(frac);
    }
    text
}

/// A price: two decimals, four below one (options, penny prices).
pub fn price(value: Option<Decimal>) -> String {
    match value {
        Some(v) if v.abs() < Decimal::ONE && !v.is_zero() => fixed(v, 4),
        Some(v) => grouped(&fixed(v, 2)),
        None => UNKNOWN.into(),
    }
}

/// A signed change: `+1.25`, `-0.40`, `0.00`.
pub fn change(value: Option<Decimal>) -> String {
    match value {
        Some(v) => signed(grouped(&fixed(v, 2)), v),
        None => UNKNOWN.into(),
    }
}

/// A signed percentage with two decimals: `+1.50 %`.
pub fn percent(value: Option<Decimal>) -> String {
    match value {
        Some(v) => format!("{} %", signed(fixed(v, 2), v)),
        None => UNKNOWN.into(),
    }
}

fn signed(text: String, value: Decimal) -> String {
    if value.is_sign_positive()
        && !text.starts_with('-')
        && !text.trim_start_matches(['0', '.', ',']).is_empty()
    {
        format!("+{text}")
    } else {
        text
    }
}

/// A whole quantity or volume with thousands separators; fractions kept as given.
pub fn quantity(value: Option<Decimal>) -> String {
    match value {
        Some(v) => grouped(&v.normalize().to_string()),
        None => UNKNOWN.into(),
    }
}

/// Money with two decimals and separators: `12,345.60`.
pub fn money(value: Option<Decimal>) -> String {
    match value {
        Some(v) => grouped(&fixed(v, 2)),
        None => UNKNOWN.into(),
    }
}

/// The style class of a signed amount: green up, red down, none when flat or unknown.
pub fn trend_class(value: Option<Decimal>) -> Option<&'static str> {
    match value {
        Some(v) if v.is_sign_positive() && !v.is_zero() => Some("success"),
        Some(v) if v.is_sign_negative() && !v.is_zero() => Some("error"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Option<Decimal> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn prices_have_fixed_places() {
        assert_eq!(price(d("190")), "190.00");
        assert_eq!(price(d("187.125")), "187.13", "half away from zero");
        assert_eq!(price(d("4321.5")), "4,321.50");
        assert_eq!(price(d("0.0525")), "0.0525");
        assert_eq!(price(None), "—");
    }

    #[test]
    fn changes_carry_their_sign() {
        assert_eq!(change(d("2.85")), "+2.85");
        assert_eq!(change(d("-0.4")), "-0.40");
        assert_eq!(change(d("0")), "0.00");
        assert_eq!(change(d("-0.001")), "0.00", "no negative zero");
        assert_eq!(percent(d("1.5")), "+1.50 %");
        assert_eq!(percent(d("-12.345")), "-12.35 %");
        assert_eq!(change(d("-1234.5")), "-1,234.50");
    }

    #[test]
    fn quantities_and_money_are_grouped() {
        assert_eq!(quantity(d("12345678")), "12,345,678");
        assert_eq!(quantity(d("-100")), "-100");
        assert_eq!(quantity(d("0.50")), "0.5");
        assert_eq!(money(d("123456.6")), "123,456.60");
        assert_eq!(money(d("-999.999")), "-1,000.00");
        assert_eq!(trend_class(d("-1")), Some("error"));
        assert_eq!(trend_class(d("0")), None);
        assert_eq!(trend_class(d("0.01")), Some("success"));
    }
}
