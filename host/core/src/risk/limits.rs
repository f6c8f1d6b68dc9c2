//! Per-account risk limits. The defaults are deliberately small: a new user raises them.
//!
//! Stored per account in the `risk_limits` table ([`crate::store::risk_limits`]); an account
//! without a row trades under [`RiskLimits::default`]. Users edit them as `KEY=VALUE` pairs
//! (`tickwork risk set DU123 max_quantity=200`), checked by [`RiskLimits::apply`].

use std::str::FromStr;
use std::time::Duration;

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde::{Deserialize, Serialize};

/// The limits one account trades under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskLimits {
    /// Largest quantity of one order (shares, contracts).
    pub max_quantity: Decimal,
    /// Largest value of one order: quantity × price × multiplier.
    pub max_notional: Decimal,
    /// How far a limit or stop price may be from the last quote, as a fraction (0.05 = 5 %).
    pub price_collar: Decimal,
    /// Largest absolute position in one instrument after the order fills.
    pub max_position: Decimal,
    /// Most orders accepted in any 60-second window.
    pub max_orders_per_minute: u32,
    /// Once today's loss reaches this, only orders that reduce a position pass.
    pub max_daily_loss: Decimal,
    /// A quote older than this many milliseconds cannot pass a price-based rule (collar,
    /// notional at market): a price checked against a stale quote is not checked. Integer
    /// milliseconds, as stored; [`RiskLimits::max_quote_age`] gives the `Duration`.
    pub max_quote_age_ms: u64,
    /// Whether delayed (15-minute) market data may stand in for a live quote in those rules.
    pub allow_delayed_quotes: bool,
}

impl Default for RiskLimits {
    fn default() -> Self {
        Self {
            max_quantity: dec!(500),
            max_notional: dec!(50000),
            price_collar: dec!(0.05),
            max_position: dec!(1000),
            max_orders_per_minute: 30,
            max_daily_loss: dec!(2000),
            max_quote_age_ms: 5_000,
            allow_delayed_quotes: false,
        }
    }
}

/// The keys [`RiskLimits::apply`] understands, in display order.
pub const LIMIT_KEYS: &[&str] = &[
    "max_quantity",
    "max_notional",
    "price_collar",
    "max_position",
    "max_orders_per_minute",
    "max_daily_loss",
    "max_quote_age_ms",
    "allow_delayed_quotes",
];

/// Longest `max_quote_age_ms` accepted: one day (and it fits the table's INTEGER column).
pub const MAX_QUOTE_AGE_MS: u64 = 86_400_000;

impl RiskLimits {
    /// [`RiskLimits::max_quote_age_ms`] as a `Duration`.
    pub fn max_quote_age(&self) -> Duration {
        Duration::from_millis(self.max_quote_age_ms)
    }

    /// Sets one limit from its `KEY=VALUE` spelling (keys: [`LIMIT_KEYS`]). Amounts are
    /// positive decimals, `price_collar` a fraction in (0, 1] (or a percentage such as `5%`),
    /// counts positive integers, `allow_delayed_quotes` `true` or `false`. The error is one
    /// line naming the key and the bad value; on error nothing changes.
    pub fn apply(&mut self, key: &str, value: &str) -> Result<(), String> {
        let value = value.trim();
        match key {
            "max_quantity" => self.max_quantity = positive_decimal(key, value)?,
            "max_notional" => self.max_notional = positive_decimal(key, value)?,
            "max_position" => self.max_position = positive_decimal(key, value)?,
            "max_daily_loss" => self.max_daily_loss = positive_decimal(key, value)?,
            "price_collar" => self.price_collar = fraction(key, value)?,
            "max_orders_per_minute" => {
                self.max_orders_per_minute = positive_integer(key, value, i32::MAX as u64)? as u32
            }
            "max_quote_age_ms" => {
                self.max_quote_age_ms = positive_integer(key, value, MAX_QUOTE_AGE_MS)?
            }
            "allow_delayed_quotes" => {
                self.allow_delayed_quotes = match value {
                    "true" => true,
                    "false" => false,
                    _ => return Err(format!("{key}: `{value}` is not true or false")),
                }
            }
            _ => {
                return Err(format!(
                    "unknown risk limit `{}` (known: {})",
                    key.escape_default(),
                    LIMIT_KEYS.join(", ")
                ));
            }
        }
        Ok(())
    }

    /// Every limit as `(key, value)` in [`LIMIT_KEYS`] order, spelled as [`RiskLimits::apply`]
    /// reads it back.
    pub fn entries(&self) -> Vec<(&'static str, String)> {
        vec![
            ("max_quantity", self.max_quantity.normalize().to_string()),
            ("max_notional", self.max_notional.normalize().to_string()),
            ("price_collar", self.price_collar.normalize().to_string()),
            ("max_position", self.max_position.normalize().to_string()),
            (
                "max_orders_per_minute",
                self.max_orders_per_minute.to_string(),
            ),
            (
                "max_daily_loss",
                self.max_daily_loss.normalize().to_string(),
            ),
            ("max_quote_age_ms", self.max_quote_age_ms.to_string()),
            (
                "allow_delayed_quotes",
                self.allow_delayed_quotes.to_string(),
            ),
        ]
    }

    /// Checks every limit against the rules of [`RiskLimits::apply`] (a value built in code
    /// or read from storage): the first bad one, named.
    pub fn validate(&self) -> Result<(), String> {
        let mut copy = RiskLimits::default();
        for (key, value) in self.entries() {
            copy.apply(key, &value)?;
        }
        Ok(())
    }
}

fn positive_decimal(key: &str, value: &str) -> Result<Decimal, String> {
    let number = Decimal::from_str(value).map_err(|_| {
        format!(
            "{key}: `{}` is not a decimal number",
            value.escape_default()
        )
    })?;
    if number <= Decimal::ZERO {
        return Err(format!("{key}: `{value}` must be greater than 0"));
    }
    Ok(number)
}

fn fraction(key: &str, value: &str) -> Result<Decimal, String> {
    let (digits, percent) = match value.strip_suffix('%') {
        Some(digits) => (digits.trim_end(), true),
        None => (value, false),
    };
    let number = Decimal::from_str(digits).map_err(|_| {
        format!(
            "{key}: `{}` is not a fraction (0.05) or a percentage (5%)",
            value.escape_default()
        )
    })?;
    let number = if percent {
        number / Decimal::ONE_HUNDRED
    } else {
        number
    };
    if number <= Decimal::ZERO || number > Decimal::ONE {
        return Err(format!(
            "{key}: `{value}` must be more than 0 and at most 1 (a fraction: 0.05 = 5%)"
        ));
    }
    Ok(number.normalize())
}

fn positive_integer(key: &str, value: &str, max: u64) -> Result<u64, String> {
    let number: u64 = value
        .parse()
        .map_err(|_| format!("{key}: `{}` is not a whole number", value.escape_default()))?;
    if number == 0 || number > max {
        return Err(format!("{key}: `{value}` must be from 1 to {max}"));
    }
    Ok(number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_include_a_five_second_quote_age_and_no_delayed_quotes() {
        let limits = RiskLimits::default();
        assert_eq!(limits.max_quote_age(), Duration::from_secs(5));
        assert!(!limits.allow_delayed_quotes);
        limits.validate().unwrap();
    }

    #[test]
    fn apply_sets_every_key_and_entries_read_back() {
        let mut limits = RiskLimits::default();
        for (key, value) in [
            ("max_quantity", "200"),
            ("max_notional", "25000.50"),
            ("price_collar", "2.5%"),
            ("max_position", "800"),
            ("max_orders_per_minute", "12"),
            ("max_daily_loss", "750"),
            ("max_quote_age_ms", "1500"),
            ("allow_delayed_quotes", "true"),
        ] {
            limits.apply(key, value).unwrap();
        }
        assert_eq!(limits.max_quantity, dec!(200));
        assert_eq!(limits.max_notional, dec!(25000.50));
        assert_eq!(limits.price_collar, dec!(0.025));
        assert_eq!(limits.max_orders_per_minute, 12);
        assert_eq!(limits.max_quote_age(), Duration::from_millis(1500));
        assert!(limits.allow_delayed_quotes);
        // What `entries` prints, `apply` reads back to the same limits.
        let mut again = RiskLimits::default();
        for (key, value) in limits.entries() {
            again.apply(key, &value).unwrap();
        }
        assert_eq!(again, limits);
        assert_eq!(
            limits.entries().iter().map(|(k, _)| *k).collect::<Vec<_>>(),
            LIMIT_KEYS
        );
    }

    #[test]
    fn bad_values_name_the_key_and_the_value_and_change_nothing() {
        for (key, value, says) in [
            ("max_quantity", "-5", "greater than 0"),
            ("max_quantity", "0", "greater than 0"),
            ("max_notional", "lots", "not a decimal"),
            ("price_collar", "1.5", "at most 1"),
            ("price_collar", "0", "more than 0"),
            ("price_collar", "150%", "at most 1"),
            ("max_orders_per_minute", "2.5", "whole number"),
            ("max_orders_per_minute", "0", "from 1 to"),
            ("max_quote_age_ms", "-1", "whole number"),
            ("max_quote_age_ms", "86400001", "from 1 to 86400000"),
            ("allow_delayed_quotes", "yes", "true or false"),
        ] {
            let mut limits = RiskLimits::default();
            let err = limits.apply(key, value).unwrap_err();
            assert!(
                err.starts_with(&format!("{key}: `{value}`")) && err.contains(says),
                "{key}={value}: {err}"
            );
            assert!(!err.contains('\n'));
            assert_eq!(limits, RiskLimits::default(), "{key}={value}");
        }
        let err = RiskLimits::default().apply("max_qty", "5").unwrap_err();
        assert!(
            err.starts_with("unknown risk limit `max_qty`") && err.contains("max_quantity"),
            "{err}"
        );
    }

    #[test]
    fn json_keys_are_the_cli_keys() {
        let json = serde_json::to_value(RiskLimits::default()).unwrap();
        assert_eq!(json["max_quote_age_ms"], 5000);
        assert_eq!(json["allow_delayed_quotes"], false);
        assert_eq!(json["max_quantity"], "500");
        let back: RiskLimits = serde_json::from_value(json).unwrap();
        assert_eq!(back, RiskLimits::default());
    }
}
