//! Today's profit and loss of an account, as the daily-loss rule needs it.
//!
//! TWS reports `RealizedPnL` (today's: it resets each day) and `UnrealizedPnL` (since each
//! position was opened) per currency, with an `ExchangeRate` per currency to the account's base
//! currency, and the same figures already converted under the currency `BASE`. Today's P&L is
//! realised today plus the change of unrealised since the start of the day, each currency
//! converted with TWS's rate. Where TWS sends only `BASE` rows, those are used as they are.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

/// The P&L account values of one account, by currency.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PnlValues {
    /// `RealizedPnL` by currency (today's).
    pub realized: BTreeMap<String, Decimal>,
    /// `UnrealizedPnL` by currency, now.
    pub unrealized: BTreeMap<String, Decimal>,
    /// `UnrealizedPnL` by currency at the start of the day: the last value before midnight, or
    /// the first one seen today.
    pub unrealized_at_start: BTreeMap<String, Decimal>,
    /// `ExchangeRate` by currency: base-currency units per unit.
    pub exchange_rates: BTreeMap<String, Decimal>,
}

/// The currency TWS uses for figures already converted to the account's base currency.
pub const BASE: &str = "BASE";

/// Today's P&L in the base currency; an error names a currency without an exchange rate or
/// without a start-of-day value.
pub fn daily_pnl(values: &PnlValues) -> Result<Decimal, String> {
    let per_currency = values
        .realized
        .keys()
        .chain(values.unrealized.keys())
        .any(|c| c != BASE);
    let mut total = Decimal::ZERO;
    let currencies = values.realized.keys().chain(values.unrealized.keys());
    let mut seen: Vec<&String> = currencies
        .filter(|c| (c.as_str() == BASE) != per_currency)
        .collect();
    seen.sort();
    seen.dedup();
    for currency in seen {
        let rate = if currency == BASE {
            Decimal::ONE
        } else {
            *values
                .exchange_rates
                .get(currency)
                .ok_or_else(|| format!("no exchange rate from TWS for {currency}"))?
        };
        let realized = values.realized.get(currency).copied().unwrap_or_default();
        let change = match values.unrealized.get(currency) {
            Some(now) => {
                let start = values
                    .unrealized_at_start
                    .get(currency)
                    .ok_or_else(|| format!("no start-of-day unrealised P&L for {currency}"))?;
                now - start
            }
            None => Decimal::ZERO,
        };
        total += (realized + change) * rate;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    fn map(entries: &[(&str, Decimal)]) -> BTreeMap<String, Decimal> {
        entries.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
    }

    #[test]
    fn realised_today_plus_the_change_of_unrealised_converted_to_base() {
        // A USD account: −300 realised today in USD, EUR positions that were 1,000 up this
        // morning and are 400 up now (−600 EUR today) at 1.10 USD per EUR.
        let values = PnlValues {
            realized: map(&[("USD", dec!(-300)), ("EUR", dec!(0)), ("BASE", dec!(-300))]),
            unrealized: map(&[("USD", dec!(50)), ("EUR", dec!(400)), ("BASE", dec!(490))]),
            unrealized_at_start: map(&[("USD", dec!(50)), ("EUR", dec!(1000))]),
            exchange_rates: map(&[("USD", dec!(1)), ("EUR", dec!(1.10))]),
        };
        assert_eq!(daily_pnl(&values).unwrap(), dec!(-960));
    }

    #[test]
    fn a_position_up_since_yesterday_is_not_todays_profit() {
        // Unrealised 5,000 since last week, unchanged today: today's P&L is zero, not 5,000.
        let values = PnlValues {
            unrealized: map(&[("USD", dec!(5000))]),
            unrealized_at_start: map(&[("USD", dec!(5000))]),
            exchange_rates: map(&[("USD", dec!(1))]),
            ..PnlValues::default()
        };
        assert_eq!(daily_pnl(&values).unwrap(), dec!(0));
    }

    #[test]
    fn only_base_rows_are_used_as_they_are() {
        let values = PnlValues {
            realized: map(&[("BASE", dec!(-120))]),
            unrealized: map(&[("BASE", dec!(-80))]),
            unrealized_at_start: map(&[("BASE", dec!(20))]),
            ..PnlValues::default()
        };
        assert_eq!(daily_pnl(&values).unwrap(), dec!(-220));
    }

    #[test]
    fn a_currency_without_a_rate_is_an_error_not_a_guess() {
        let values = PnlValues {
            realized: map(&[("JPY", dec!(-10000))]),
            ..PnlValues::default()
        };
        assert_eq!(
            daily_pnl(&values).unwrap_err(),
            "no exchange rate from TWS for JPY"
        );
    }
}
