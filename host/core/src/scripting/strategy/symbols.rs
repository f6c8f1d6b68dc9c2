//! How scripts name instruments: a stock by its ticker (`"SPY"`), an equity option as
//! `"SPY 20261218 C 600"` (underlying, expiry, right, strike), built with `ctx.option(…)`.
//! One spelling for the script, the backtest and the live host.

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use rust_decimal::Decimal;

use crate::domain::{InstrumentSpec, OptionRight, SecType};

/// The canonical name of an equity option.
pub fn option_symbol(
    underlying: &str,
    expiry: NaiveDate,
    right: OptionRight,
    strike: Decimal,
) -> String {
    format!(
        "{} {} {} {}",
        underlying.to_uppercase(),
        expiry.format("%Y%m%d"),
        right.as_str(),
        strike.normalize()
    )
}

/// The contract a script's symbol stands for; the error says what is wrong with it.
pub fn spec_of(symbol: &str) -> Result<InstrumentSpec, String> {
    let parts: Vec<&str> = symbol.split_whitespace().collect();
    let valid_ticker = |t: &str| {
        !t.is_empty()
            && t.len() <= 12
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
    };
    match parts.as_slice() {
        [ticker] if valid_ticker(ticker) => Ok(InstrumentSpec::stock(&ticker.to_uppercase())),
        [underlying, expiry, right, strike] if valid_ticker(underlying) => {
            let expiry = NaiveDate::parse_from_str(expiry, "%Y%m%d")
                .map_err(|_| format!("`{symbol}`: expiry must be YYYYMMDD"))?;
            let right: OptionRight = right
                .parse()
                .map_err(|_| format!("`{symbol}`: right must be C or P"))?;
            let strike: Decimal = strike
                .parse()
                .ok()
                .filter(|s: &Decimal| s.is_sign_positive() && !s.is_zero())
                .ok_or_else(|| format!("`{symbol}`: strike must be a positive number"))?;
            let mut spec = InstrumentSpec::stock(&underlying.to_uppercase());
            spec.sec_type = SecType::Option;
            spec.expiry = Some(expiry);
            spec.right = Some(right);
            spec.strike = Some(strike);
            spec.multiplier = Decimal::ONE_HUNDRED;
            Ok(spec)
        }
        _ => Err(format!(
            "`{symbol}` is not a symbol: a ticker like \"SPY\", or an option like \"SPY 20261218 C 600\""
        )),
    }
}

/// The script's name for a contract (the inverse of [`spec_of`] for stocks and options).
pub fn symbol_of(spec: &InstrumentSpec) -> String {
    match (spec.sec_type, spec.expiry, spec.right, spec.strike) {
        (SecType::Option, Some(expiry), Some(right), Some(strike)) => {
            option_symbol(&spec.symbol, expiry, right, strike)
        }
        _ => spec.symbol.clone(),
    }
}

/// The third Friday of a month (the monthly equity option expiry).
pub fn third_friday(year: i32, month: u32) -> Option<NaiveDate> {
    NaiveDate::from_weekday_of_month_opt(year, month, Weekday::Fri, 3)
}

/// The first monthly expiry at least `days` after `today`.
pub fn monthly_expiry_after(today: NaiveDate, days: i64) -> NaiveDate {
    let earliest = today + Duration::days(days.max(0));
    let (mut year, mut month) = (earliest.year(), earliest.month());
    loop {
        if let Some(friday) = third_friday(year, month)
            && friday >= earliest
        {
            return friday;
        }
        month += 1;
        if month > 12 {
            month = 1;
            year += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    #[test]
    fn options_and_stocks_round_trip() {
        let expiry = NaiveDate::from_ymd_opt(2026, 12, 18).unwrap();
        let name = option_symbol("spy", expiry, OptionRight::Call, dec!(600.0));
        assert_eq!(name, "SPY 20261218 C 600");
        let spec = spec_of(&name).unwrap();
        assert_eq!(
            (spec.sec_type, spec.strike, spec.multiplier),
            (SecType::Option, Some(dec!(600)), dec!(100))
        );
        assert_eq!(symbol_of(&spec), name);
        assert_eq!(symbol_of(&spec_of("aapl").unwrap()), "AAPL");
        for bad in [
            "",
            "SPY 2026 C 600",
            "SPY 20261218 X 600",
            "SPY 20261218 C -1",
            "a b",
        ] {
            assert!(spec_of(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn monthly_expiries_are_third_fridays() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        assert_eq!(
            monthly_expiry_after(today, 0),
            NaiveDate::from_ymd_opt(2026, 12, 18).unwrap()
        );
        assert_eq!(
            monthly_expiry_after(today, 20),
            NaiveDate::from_ymd_opt(2027, 1, 15).unwrap()
        );
    }
}
