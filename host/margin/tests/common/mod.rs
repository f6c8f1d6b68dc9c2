//! Builders shared by the integration tests.
#![allow(dead_code)]

use rust_decimal::Decimal;
use std::str::FromStr;
use tickwork_margin::{
    Date, Instrument, MarginResult, Method, OptionSpec, Portfolio, Position, Right, Underlying,
    UnderlyingClass, compute,
};

pub fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

pub const DEC: &str = "2026-12-18";
pub const JAN: &str = "2027-01-15";

pub fn portfolio(unds: &[(&str, &str, UnderlyingClass)], positions: Vec<Position>) -> Portfolio {
    let mut p = Portfolio {
        as_of: Some(Date::from_str("2026-11-24").unwrap()),
        ..Portfolio::default()
    };
    for (sym, price, class) in unds {
        p.underlyings
            .insert(sym.to_string(), Underlying::new(sym, d(price), *class));
    }
    p.positions = positions;
    p
}

pub fn aapl(positions: Vec<Position>) -> Portfolio {
    portfolio(&[("AAPL", "187.20", UnderlyingClass::Equity)], positions)
}

pub fn stock(sym: &str, qty: i64, price: &str) -> Position {
    Position::stock(sym, Decimal::from(qty), d(price))
}

pub fn opt(sym: &str, right: char, strike: &str, expiry: &str, qty: i64, mark: &str) -> Position {
    let spec = OptionSpec {
        expiry: Date::from_str(expiry).unwrap(),
        right: if right == 'C' {
            Right::Call
        } else {
            Right::Put
        },
        strike: d(strike),
        multiplier: Decimal::from(100),
    };
    Position::option(sym, spec, Decimal::from(qty), d(mark))
}

pub fn future(sym: &str, qty: i64, price: &str, multiplier: u32) -> Position {
    Position {
        symbol: sym.to_string(),
        instrument: Instrument::Future {
            expiry: Date::from_str(DEC).unwrap(),
            multiplier: Decimal::from(multiplier),
        },
        qty: Decimal::from(qty),
        price: d(price),
        iv: None,
    }
}

pub fn regt(p: &Portfolio) -> MarginResult {
    compute(p, Method::RegT).unwrap()
}

/// Asserts (initial, maintenance) of a Reg T computation.
pub fn assert_regt(p: &Portfolio, initial: &str, maintenance: &str) {
    let r = regt(p);
    assert_eq!(
        (r.initial.normalize(), r.maintenance.normalize()),
        (d(initial).normalize(), d(maintenance).normalize()),
        "{r:#?}"
    );
}
