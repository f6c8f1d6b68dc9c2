//! The margin check's own figure: the account's initial requirement after an order, from
//! `tickwork-margin` (Reg T with optimal grouping), computed on our positions and marks.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use tickwork_margin as margin;

use crate::domain::OrderIntent;
use crate::domain::{InstrumentSpec, OptionRight, SecType};

/// One position as the margin engine needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holding {
    pub spec: InstrumentSpec,
    /// Signed quantity.
    pub quantity: Decimal,
    /// Current price per unit (never the entry price).
    pub mark: Decimal,
}

/// The account as the margin check sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MarginInputs {
    pub holdings: Vec<Holding>,
    /// Price of each underlying by symbol (needed for options).
    pub underlying_prices: BTreeMap<String, Decimal>,
    pub as_of: Option<NaiveDate>,
}

/// Why the margin figure could not be computed; the gate then denies (margin unknown).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MarginCheckError {
    #[error("no price for {0} to value the order or its underlying")]
    NoPrice(String),
    #[error("{0}")]
    Engine(String),
    #[error("{0} positions are not margined by the built-in engine")]
    Unsupported(&'static str),
}

fn class_of(sec_type: SecType) -> Result<margin::UnderlyingClass, MarginCheckError> {
    Ok(match sec_type {
        SecType::Stock | SecType::Option => margin::UnderlyingClass::Equity,
        SecType::Etf => margin::UnderlyingClass::Etf,
        SecType::Index => margin::UnderlyingClass::BroadIndex,
        SecType::Future | SecType::FutureOption => margin::UnderlyingClass::Future,
        SecType::Cash => return Err(MarginCheckError::Unsupported("cash (forex)")),
    })
}

fn engine_position(
    spec: &InstrumentSpec,
    quantity: Decimal,
    mark: Decimal,
) -> Result<margin::Position, MarginCheckError> {
    let option_spec = || -> Result<margin::OptionSpec, MarginCheckError> {
        let expiry = spec.expiry.ok_or_else(|| {
            MarginCheckError::Engine(format!("{}: option without expiry", spec.symbol))
        })?;
        Ok(margin::OptionSpec {
            expiry: margin::Date::new(expiry.year(), expiry.month() as u8, expiry.day() as u8)
                .ok_or_else(|| {
                    MarginCheckError::Engine(format!("{}: bad expiry {expiry}", spec.symbol))
                })?,
            right: match spec.right {
                Some(OptionRight::Put) => margin::Right::Put,
                _ => margin::Right::Call,
            },
            strike: spec.strike.ok_or_else(|| {
                MarginCheckError::Engine(format!("{}: option without strike", spec.symbol))
            })?,
            multiplier: spec.multiplier,
        })
    };
    Ok(match spec.sec_type {
        SecType::Stock | SecType::Etf | SecType::Index => {
            margin::Position::stock(&spec.symbol, quantity, mark)
        }
        SecType::Option => margin::Position::option(&spec.symbol, option_spec()?, quantity, mark),
        SecType::FutureOption => margin::Position {
            instrument: margin::Instrument::FutureOption(option_spec()?),
            ..margin::Position::stock(&spec.symbol, quantity, mark)
        },
        SecType::Future => margin::Position {
            instrument: margin::Instrument::Future {
                expiry: spec
                    .expiry
                    .and_then(|e| margin::Date::new(e.year(), e.month() as u8, e.day() as u8))
                    .ok_or_else(|| {
                        MarginCheckError::Engine(format!("{}: future without expiry", spec.symbol))
                    })?,
                multiplier: spec.multiplier,
            },
            ..margin::Position::stock(&spec.symbol, quantity, mark)
        },
        SecType::Cash => return Err(MarginCheckError::Unsupported("cash (forex)")),
    })
}

/// The engine's snapshot of `inputs`: every holding, and an underlying (with its class and
/// price) for each symbol. `extra` adds an underlying without a position (an order's).
fn snapshot<'a>(
    inputs: &'a MarginInputs,
    extra: Option<(&'a InstrumentSpec, Decimal)>,
) -> Result<margin::Portfolio, MarginCheckError> {
    let mut portfolio = margin::Portfolio {
        as_of: inputs
            .as_of
            .and_then(|d| margin::Date::new(d.year(), d.month() as u8, d.day() as u8)),
        ..margin::Portfolio::default()
    };
    let all = inputs
        .holdings
        .iter()
        .map(|h| (&h.spec, h.quantity, h.mark))
        .chain(extra.map(|(spec, price)| (spec, Decimal::ZERO, price)));
    for (spec, quantity, mark) in all {
        let underlying_price = match spec.sec_type {
            SecType::Stock | SecType::Etf | SecType::Index | SecType::Future => Some(mark),
            _ => inputs.underlying_prices.get(&spec.symbol).copied(),
        }
        .ok_or_else(|| MarginCheckError::NoPrice(spec.symbol.clone()))?;
        portfolio
            .underlyings
            .entry(spec.symbol.clone())
            .or_insert_with(|| {
                margin::Underlying::new(
                    &spec.symbol,
                    underlying_price,
                    margin::UnderlyingClass::Equity,
                )
            })
            .class = class_of(spec.sec_type)?;
        if !quantity.is_zero() {
            portfolio
                .positions
                .push(engine_position(spec, quantity, mark)?);
        }
    }
    Ok(portfolio)
}

/// The account's holdings as the margin engine's portfolio (the margin calculator's "live
/// portfolio"): options need their underlying's price in `underlying_prices`.
pub fn portfolio(inputs: &MarginInputs) -> Result<margin::Portfolio, MarginCheckError> {
    snapshot(inputs, None)
}

/// The account's initial requirement (Reg T) after `intent` fills at `price`.
pub fn initial_after(
    inputs: &MarginInputs,
    intent: &OrderIntent,
    price: Decimal,
) -> Result<Decimal, MarginCheckError> {
    what_if(inputs, intent, price).map(|w| w.initial_after)
}

/// The account's requirements (Reg T) before and after `intent` fills at `price`, with the
/// explanation of the order's underlying after it (what the order ticket shows).
pub fn what_if(
    inputs: &MarginInputs,
    intent: &OrderIntent,
    price: Decimal,
) -> Result<margin::WhatIf, MarginCheckError> {
    let portfolio = snapshot(inputs, Some((&intent.instrument, price)))?;
    let book = margin::MarginBook::new(portfolio, margin::Method::RegT)
        .map_err(|e| MarginCheckError::Engine(e.to_string()))?;
    let order = engine_position(&intent.instrument, intent.signed_quantity(), price)?;
    book.what_if(&order)
        .map_err(|e| MarginCheckError::Engine(e.to_string()))
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;
    use crate::domain::{OrderSide, OrderType, TimeInForce};
    use crate::risk::Origin;

    /// AAPL 2026-12-18 190 call.
    fn aapl_call() -> InstrumentSpec {
        InstrumentSpec {
            sec_type: SecType::Option,
            expiry: NaiveDate::from_ymd_opt(2026, 12, 18),
            strike: Some(dec!(190)),
            right: Some(OptionRight::Call),
            multiplier: dec!(100),
            ..InstrumentSpec::stock("AAPL")
        }
    }

    fn buy(spec: InstrumentSpec, quantity: Decimal) -> OrderIntent {
        OrderIntent {
            origin: Origin::Ui,
            account: "DU1".into(),
            instrument: spec,
            side: OrderSide::Buy,
            quantity,
            order_type: OrderType::Market,
            limit_price: None,
            stop_price: None,
            time_in_force: TimeInForce::Day,
            parent_ref: None,
        }
    }

    #[test]
    fn long_stock_needs_a_quarter_of_its_value() {
        // Reg T at IB: long stock 25 % of value at the time of trade.
        let inputs = MarginInputs::default();
        let initial = initial_after(
            &inputs,
            &buy(InstrumentSpec::stock("AAPL"), dec!(100)),
            dec!(187.20),
        )
        .unwrap();
        assert_eq!(initial, dec!(4680.00));
    }

    #[test]
    fn what_if_gives_before_and_after_with_the_explanation() {
        let inputs = MarginInputs {
            holdings: vec![Holding {
                spec: InstrumentSpec::stock("AAPL"),
                quantity: dec!(100),
                mark: dec!(187.20),
            }],
            ..MarginInputs::default()
        };
        let w = what_if(
            &inputs,
            &buy(InstrumentSpec::stock("AAPL"), dec!(100)),
            dec!(187.20),
        )
        .unwrap();
        assert_eq!(w.initial_before, dec!(4680.00));
        assert_eq!(w.initial_after, dec!(9360.00));
        assert!(w.maintenance_after >= w.maintenance_before);
        let node = w.group_after.expect("the order's underlying is explained");
        assert!(node.label.contains("AAPL"), "{}", node.label);
    }

    #[test]
    fn existing_positions_count_and_a_covered_call_is_recognised() {
        let call = aapl_call();
        let inputs = MarginInputs {
            holdings: vec![Holding {
                spec: InstrumentSpec::stock("AAPL"),
                quantity: dec!(100),
                mark: dec!(187.20),
            }],
            underlying_prices: [("AAPL".to_owned(), dec!(187.20))].into(),
            as_of: NaiveDate::from_ymd_opt(2026, 11, 24),
        };
        let mut sell_call = buy(call, dec!(1));
        sell_call.side = OrderSide::Sell;
        // Covered call: stock initial + ITM of the call (0: 190 > 187.20).
        assert_eq!(
            initial_after(&inputs, &sell_call, dec!(4.15)).unwrap(),
            dec!(4680.00)
        );
    }

    #[test]
    fn an_option_without_an_underlying_price_is_unknown() {
        let call = aapl_call();
        let err =
            initial_after(&MarginInputs::default(), &buy(call, dec!(1)), dec!(4)).unwrap_err();
        assert_eq!(err, MarginCheckError::NoPrice("AAPL".into()));
    }

    #[test]
    fn the_holdings_become_the_engines_portfolio() {
        let call = aapl_call();
        let inputs = MarginInputs {
            holdings: vec![
                Holding {
                    spec: InstrumentSpec::stock("AAPL"),
                    quantity: dec!(100),
                    mark: dec!(187.20),
                },
                Holding {
                    spec: call,
                    quantity: dec!(-1),
                    mark: dec!(4.15),
                },
            ],
            underlying_prices: [("AAPL".to_owned(), dec!(187.20))].into(),
            as_of: NaiveDate::from_ymd_opt(2026, 11, 24),
        };
        let p = portfolio(&inputs).unwrap();
        assert_eq!(p.positions.len(), 2);
        assert_eq!(p.underlyings["AAPL"].price, dec!(187.20));
        let result = margin::compute(&p, margin::Method::RegT).unwrap();
        assert_eq!(result.initial, dec!(4680.00));
    }
}
