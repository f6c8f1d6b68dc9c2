//! Risk-based portfolio margin (FINRA 4210(g), OCC TIMS style) for one class group (an underlying
//! with its options): revalue every position over the class range, take the largest loss, apply the
//! per-contract minimum; keep the ±30% / ±5% losses for IB's account-level concentration stress.

pub mod pricing;
pub mod scenarios;

use crate::error::MarginError;
use crate::explain::{Node, amt};
use crate::group::{GroupResult, Stress};
use crate::model::{Instrument, OptionSpec, Portfolio, Position, Underlying, UnderlyingClass};
use pricing::Model;
use rust_decimal::Decimal;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use rust_decimal_macros::dec;
use scenarios::Scenario;
use std::collections::BTreeMap;

const RULE: &str = "portfolio margin: largest loss over the class range at the current and raised volatility, at least $0.375 × multiplier per option contract, a long option at most its market value (FINRA 4210(g); OCC TIMS; IB)";

/// A netted option series with its model inputs.
struct Series {
    spec: OptionSpec,
    contract: pricing::Contract,
    qty: f64,
    qty_dec: Decimal,
    mark: Decimal,
    vol: f64,
    vol_given: bool,
    base: f64,
    model: Model,
    /// Largest loss the series can take: a long option's market value (∞ for short series).
    max_loss: f64,
}

impl Series {
    /// P&L of the series if its unit value moves from the model value to `v`; a long option never
    /// loses more than its market value (FINRA 4210(g): long options need at most their value).
    fn pnl(&self, v: f64) -> f64 {
        (self.qty * self.spec.multiplier.to_f64().unwrap_or(f64::MAX) * (v - self.base))
            .max(-self.max_loss)
    }
}

/// Requirement of one class group.
pub(crate) fn group(
    p: &Portfolio,
    und: &Underlying,
    positions: &[(usize, &Position)],
) -> Result<GroupResult, MarginError> {
    let s = und.price.to_f64().unwrap_or(0.0);
    let r = p.rate.to_f64().unwrap_or(0.0);
    let mut linear = 0.0_f64; // P&L per unit relative move of stock and futures
    let mut series: BTreeMap<OptionSpec, (Decimal, Decimal, Option<Decimal>, Model)> =
        BTreeMap::new();
    let mut contracts = Decimal::ZERO;
    let mut minimum = Decimal::ZERO;
    for (_, pos) in positions {
        match &pos.instrument {
            Instrument::Stock => linear += pos.qty.to_f64().unwrap_or(0.0) * s,
            Instrument::Future { multiplier, .. } => {
                linear += pos.qty.to_f64().unwrap_or(0.0)
                    * multiplier.to_f64().unwrap_or(f64::MAX)
                    * pos.price.to_f64().unwrap_or(s)
            }
            Instrument::Option(spec) | Instrument::FutureOption(spec) => {
                if p.as_of.is_none() {
                    return Err(MarginError::new(
                        "as_of",
                        "required for portfolio margin of options (time to expiry)",
                    ));
                }
                let model = if matches!(pos.instrument, Instrument::FutureOption(_)) {
                    Model::Black76
                } else {
                    Model::BlackScholes
                };
                let e = series
                    .entry(*spec)
                    .or_insert((Decimal::ZERO, pos.price, pos.iv, model));
                e.0 += pos.qty;
                if e.2.is_none() {
                    e.2 = pos.iv;
                }
            }
        }
    }
    let as_of_days = p.as_of.map(|d| d.days_since_epoch()).unwrap_or(0);
    let mut legs: Vec<Series> = Vec::with_capacity(series.len());
    for (spec, (qty, mark, iv, model)) in series {
        if qty.is_zero() {
            continue;
        }
        // FINRA 4210(g): $0.375 × multiplier per contract, not above a long option's market value.
        let mult = spec.multiplier;
        let per_contract = if qty > Decimal::ZERO {
            (dec!(0.375) * mult).min(mark * mult)
        } else {
            dec!(0.375) * mult
        };
        contracts += qty.abs();
        minimum += per_contract * qty.abs();
        let max_loss = if qty > Decimal::ZERO {
            (qty * mark * mult).to_f64().unwrap_or(f64::INFINITY)
        } else {
            f64::INFINITY
        };
        let t = (spec.expiry.days_since_epoch() - as_of_days) as f64 / 365.0;
        let k = spec.strike.to_f64().unwrap_or(0.0);
        let m = mark.to_f64().unwrap_or(0.0);
        let (vol, vol_given) = match iv {
            Some(v) => (v.to_f64().unwrap_or(0.0), true),
            None => (
                pricing::implied_vol(model, spec.right, s, k, t, r, m),
                false,
            ),
        };
        let contract = pricing::Contract::new(model, spec.right, s, k, t, r);
        let base = contract.value(s, 0.0, vol);
        legs.push(Series {
            spec,
            contract,
            qty: qty.to_f64().unwrap_or(0.0),
            qty_dec: qty,
            mark,
            vol,
            vol_given,
            base,
            model,
            max_loss,
        });
    }
    let pnl = |sc: &Scenario| -> f64 {
        let s2 = s * (1.0 + sc.price_move);
        let ln_move = (1.0 + sc.price_move).ln();
        let mut total = linear * sc.price_move;
        for l in &legs {
            total += l.pnl(l.contract.value(s2, ln_move, l.vol * sc.vol_factor));
        }
        total
    };
    let worst_of = |list: &[Scenario]| -> (Decimal, Option<Scenario>) {
        let mut worst = 0.0_f64;
        let mut at = None;
        for sc in list {
            let loss = -pnl(sc);
            if loss > worst {
                worst = loss;
                at = Some(*sc);
            }
        }
        (cents(worst), at)
    };
    let range = scenarios::range(und);
    let (loss, at) = worst_of(&scenarios::standard(range));
    let (big, _) = worst_of(&scenarios::symmetric(0.30));
    let (small, _) = worst_of(&scenarios::symmetric(0.05));
    let req = loss.max(minimum);
    let worst_text = match at {
        Some(sc) => format!("worst scenario {}: loss {}", sc.describe(), amt(loss)),
        None => "no scenario loses money".to_string(),
    };
    let detail = format!(
        "S = {}; range {}; {worst_text}; minimum over {} contracts (0.375 × multiplier each, a long option at most its value) = {}; IB stress losses ±30% {}, ±5% {}",
        amt(und.price),
        range.name,
        amt(contracts),
        amt(minimum),
        amt(big),
        amt(small)
    );
    let children = legs
        .iter()
        .map(|l| {
            let at_worst = at.map(|sc| {
                l.contract.value(
                    s * (1.0 + sc.price_move),
                    (1.0 + sc.price_move).ln(),
                    l.vol * sc.vol_factor,
                )
            });
            let model = if l.model == Model::Black76 {
                "Black-76"
            } else {
                "Black-Scholes"
            };
            let src = if l.vol_given {
                "given"
            } else {
                "implied from mark"
            };
            let mut d = format!(
                "{model}, iv {:.4} ({src}), mark {}, model value {:.4}",
                l.vol,
                amt(l.mark),
                l.base
            );
            if let Some(v) = at_worst {
                d.push_str(&format!(
                    ", at worst scenario {:.4} (P&L {:.2})",
                    v,
                    l.pnl(v)
                ));
            }
            Node::leg(format!(
                "{} {} {} {} {} ×{}",
                l.qty_dec,
                und.symbol,
                l.spec.expiry,
                amt(l.spec.strike),
                l.spec.right,
                l.spec.multiplier
            ))
            .with_detail(d)
        })
        .collect::<Vec<_>>();
    let mut children = children;
    if linear != 0.0 {
        children.insert(
            0,
            Node::leg(format!("{} stock / futures exposure", und.symbol))
                .with_detail(format!("P&L {:.2} per 1% move", linear / 100.0)),
        );
    }
    Ok(GroupResult {
        initial: req,
        maintenance: req,
        eod: req,
        node: Node::new(und.symbol.clone(), RULE, req, req)
            .with_detail(detail)
            .with_children(children),
        // IB's concentration stress applies to the securities segment, not to futures.
        stress: (und.class != UnderlyingClass::Future).then_some(Stress { big, small }),
    })
}

/// An f64 amount as Decimal, to the cent.
fn cents(v: f64) -> Decimal {
    Decimal::from_f64(v)
        .map(|d| d.round_dp(2))
        .unwrap_or(Decimal::ZERO)
}
