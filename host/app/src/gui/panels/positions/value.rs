//! A position's value and unrealised P&L, exact in `Decimal`.
//!
//! IB reports a position's average cost per share for stocks and per contract (price ×
//! multiplier) for options and futures; the cost basis is therefore quantity × average cost in
//! both cases, and the market value quantity × price × multiplier.

use rust_decimal::Decimal;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Valued {
    pub market_value: Decimal,
    pub unrealized: Decimal,
    /// Unrealised P&L over the absolute cost basis, in percent (`None` at zero cost).
    pub percent: Option<Decimal>,
}

/// Cost basis of a position (signed: negative for shorts).
pub fn cost_basis(quantity: Decimal, average_cost: Decimal) -> Decimal {
    quantity * average_cost
}

/// The average cost as a price per unit (what the Avg cost column shows).
pub fn average_price(average_cost: Decimal, multiplier: Decimal) -> Decimal {
    if multiplier.is_zero() {
        average_cost
    } else {
        average_cost / multiplier
    }
}

pub fn value(
    quantity: Decimal,
    average_cost: Decimal,
    multiplier: Decimal,
    price: Decimal,
) -> Valued {
    let multiplier = if multiplier.is_zero() {
        Decimal::ONE
    } else {
        multiplier
    };
    let market_value = quantity * price * multiplier;
    let cost = cost_basis(quantity, average_cost);
    let unrealized = market_value - cost;
    let percent = (!cost.is_zero()).then(|| unrealized * Decimal::ONE_HUNDRED / cost.abs());
    Valued {
        market_value,
        unrealized,
        percent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    #[test]
    fn long_stock() {
        let v = value(d("100"), d("180.25"), d("1"), d("190.10"));
        assert_eq!(v.market_value, d("19010.00"));
        assert_eq!(v.unrealized, d("985.00"));
        assert_eq!(v.percent.unwrap().round_dp(4), d("5.4646"));
    }

    #[test]
    fn short_stock_gains_when_the_price_falls() {
        let v = value(d("-50"), d("200"), d("1"), d("190"));
        assert_eq!(v.market_value, d("-9500"));
        assert_eq!(v.unrealized, d("500"));
        assert_eq!(v.percent, Some(d("5")));
    }

    #[test]
    fn option_cost_is_per_contract() {
        // 2 calls bought at 3.50 (IB: average cost 350 per contract), now 4.10.
        let v = value(d("2"), d("350"), d("100"), d("4.10"));
        assert_eq!(v.market_value, d("820.00"));
        assert_eq!(v.unrealized, d("120.00"));
        assert_eq!(average_price(d("350"), d("100")), d("3.5"));
        let flat = value(d("1"), d("0"), d("100"), d("1"));
        assert_eq!(flat.percent, None);
    }
}
