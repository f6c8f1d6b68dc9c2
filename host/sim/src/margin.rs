//! Margin through the workbench's engine, `tickwork-margin` (Reg T, IB's strategy-based rules):
//! the single place the simulator asks for margin, used by account values, what-if answers and
//! the 201 reject of orders the account cannot carry. The simulator only translates its marked
//! holdings into the engine's portfolio snapshot; every figure is the engine's.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;
use tickwork_margin::{
    DatedMargin, Instrument as MInstrument, MarginBook, Method, OptionSpec, Portfolio, Position,
    Right, Underlying, UnderlyingClass,
};

use crate::accounts::{Valuation, dec};
use crate::world::catalog;
use crate::world::instruments::{Instrument, SecType, Universe};
use crate::world::prices::Market;

/// Initial and maintenance margin.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Requirement {
    pub initial: Decimal,
    pub maintenance: Decimal,
}

/// A what-if answer from the engine.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OrderMargin {
    pub before: Requirement,
    pub after: Requirement,
}

/// The simulated exchanges' per-contract futures margins (initial, maintenance), part of the
/// simulated world like prices; the engine applies them.
const FUTURES_RATES: &[(&str, i64, i64)] = &[
    ("ES", 24_200, 22_000),
    ("NQ", 34_100, 31_000),
    ("CL", 6_600, 6_000),
];

fn date(d: NaiveDate) -> Option<tickwork_margin::Date> {
    tickwork_margin::Date::new(d.year(), d.month() as u8, d.day() as u8)
}

fn expiry(inst: &Instrument) -> Option<tickwork_margin::Date> {
    NaiveDate::parse_from_str(&inst.expiry, "%Y%m%d")
        .ok()
        .and_then(date)
}

/// The symbol the engine groups an instrument under, and its underlying instrument.
fn underlying_of<'a>(inst: &'a Instrument, universe: &'a Universe) -> &'a Instrument {
    if inst.sec_type.is_derivative_priced() {
        universe.underlying(inst).unwrap_or(inst)
    } else {
        inst
    }
}

fn class(u: &Instrument) -> UnderlyingClass {
    match u.sec_type {
        SecType::Index => UnderlyingClass::BroadIndex,
        SecType::Future | SecType::FutureOption => UnderlyingClass::Future,
        _ if catalog::leverage(&u.symbol).is_some() => UnderlyingClass::LeveragedEtf,
        _ if u.stock_type == "ETF" => UnderlyingClass::Etf,
        _ => UnderlyingClass::Equity,
    }
}

/// The engine's underlying for `u` at `price`, with a leveraged fund's factor (its percentages
/// are multiplied by it).
fn engine_underlying(u: &Instrument, price: Decimal) -> Underlying {
    let mut und = Underlying::new(&u.symbol, price, class(u));
    if let Some(factor) = catalog::leverage(&u.symbol) {
        und.leverage = Decimal::from(factor);
    }
    und
}

fn mark(
    inst: &Instrument,
    universe: &Universe,
    market: &Market,
    now: DateTime<Utc>,
) -> Option<Decimal> {
    market
        .quote(universe, inst, now)
        .map(|q| dec(q.mid()).round_dp(4))
}

/// The engine's position for `qty` of `inst` marked at `price`.
fn position(
    inst: &Instrument,
    universe: &Universe,
    qty: Decimal,
    price: Decimal,
) -> Result<Position, String> {
    let under = underlying_of(inst, universe);
    let multiplier = dec(inst.point_value());
    let spec = || -> Result<OptionSpec, String> {
        Ok(OptionSpec {
            expiry: expiry(inst).ok_or_else(|| format!("bad expiry {}", inst.expiry))?,
            right: if inst.right == "C" {
                Right::Call
            } else {
                Right::Put
            },
            strike: dec(inst.strike),
            multiplier,
        })
    };
    let instrument = match inst.sec_type {
        SecType::Stock | SecType::Index => MInstrument::Stock,
        SecType::Option => MInstrument::Option(spec()?),
        SecType::FutureOption => MInstrument::FutureOption(spec()?),
        SecType::Future => MInstrument::Future {
            expiry: expiry(inst).ok_or_else(|| format!("bad expiry {}", inst.expiry))?,
            multiplier,
        },
    };
    Ok(Position {
        symbol: under.symbol.clone(),
        instrument,
        qty,
        price,
        iv: None,
    })
}

/// Builds the engine's snapshot of a marked account, plus the underlying of `extra` (an order's
/// instrument) so a what-if on a new symbol has its price.
fn snapshot(
    v: &Valuation,
    extra: Option<&Instrument>,
    universe: &Universe,
    market: &Market,
    now: DateTime<Utc>,
) -> Result<Portfolio, String> {
    let mut p = Portfolio {
        as_of: date(now.date_naive()),
        rate: dec(crate::world::pricing::RATE),
        ..Portfolio::default()
    };
    for (sym, init, maint) in FUTURES_RATES {
        let rate = DatedMargin {
            effective: None,
            initial: Decimal::from(*init),
            maintenance: Decimal::from(*maint),
        };
        p.futures_margins.insert((*sym).to_string(), vec![rate]);
    }
    let mut add_underlying = |inst: &Instrument| -> Result<(), String> {
        let under = underlying_of(inst, universe);
        if !p.underlyings.contains_key(&under.symbol) {
            let price = mark(under, universe, market, now)
                .ok_or_else(|| format!("no price for {}", under.symbol))?;
            p.underlyings
                .insert(under.symbol.clone(), engine_underlying(under, price));
        }
        Ok(())
    };
    for m in &v.marked {
        add_underlying(&m.inst)?;
    }
    if let Some(inst) = extra {
        add_underlying(inst)?;
    }
    for m in &v.marked {
        p.positions
            .push(position(&m.inst, universe, m.holding.qty, m.price)?);
    }
    Ok(p)
}

/// The account's requirement under Reg T.
pub fn requirement(
    v: &Valuation,
    universe: &Universe,
    market: &Market,
    now: DateTime<Utc>,
) -> Result<Requirement, String> {
    let p = snapshot(v, None, universe, market, now)?;
    let r = tickwork_margin::compute(&p, Method::RegT).map_err(|e| e.to_string())?;
    Ok(Requirement {
        initial: r.initial,
        maintenance: r.maintenance,
    })
}

/// Before and after of adding `qty` (signed) of `inst`, recomputing only its underlying.
pub fn what_if(
    v: &Valuation,
    inst: &Instrument,
    qty: Decimal,
    universe: &Universe,
    market: &Market,
    now: DateTime<Utc>,
) -> Result<OrderMargin, String> {
    let p = snapshot(v, Some(inst), universe, market, now)?;
    let book = MarginBook::new(p, Method::RegT).map_err(|e| e.to_string())?;
    let price =
        mark(inst, universe, market, now).ok_or_else(|| format!("no price for {}", inst.symbol))?;
    let w = book
        .what_if(&position(inst, universe, qty, price)?)
        .map_err(|e| e.to_string())?;
    Ok(OrderMargin {
        before: Requirement {
            initial: w.initial_before,
            maintenance: w.maintenance_before,
        },
        after: Requirement {
            initial: w.initial_after,
            maintenance: w.maintenance_after,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The catalogue's 3× fund is margined at 25% × 3 = 75% long (IB: percentages × leverage).
    #[test]
    fn the_leveraged_fund_carries_its_factor_into_the_engine() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap_or_default();
        let list = catalog::instruments(7, today);
        let fund = list.iter().find(|i| i.symbol == "TQQQ");
        let Some(fund) = fund else {
            panic!("TQQQ missing from the catalogue")
        };
        let und = engine_underlying(fund, Decimal::from(75));
        assert_eq!(und.class, UnderlyingClass::LeveragedEtf);
        assert_eq!(und.leverage, Decimal::from(3));
        let mut p = Portfolio::default();
        p.underlyings.insert("TQQQ".into(), und);
        p.positions.push(Position::stock(
            "TQQQ",
            Decimal::from(100),
            Decimal::from(75),
        ));
        let r = tickwork_margin::compute(&p, Method::RegT).map_err(|e| e.to_string());
        assert_eq!(r.map(|r| r.initial), Ok(Decimal::from(5625)));
    }
}
