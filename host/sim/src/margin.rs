//! Margin requirements of a marked account. This is the single place the simulator asks for
//! margin, used by account values and what-if answers.
//!
//! Until `tickwork-margin` exposes its engine, the requirement is the simulator's own
//! strategy-free house rule (documented in docs/simulator.md): stocks Reg T 50 % initial /
//! 25 % maintenance long, 30 % maintenance short; long options none (paid in full); short
//! options the option value plus 20 % of the underlying notional; futures 6 % / 5 % of notional.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::accounts::{Valuation, dec};
use crate::world::instruments::{SecType, Universe};
use crate::world::prices::Market;

/// Initial and maintenance margin.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Requirement {
    pub initial: Decimal,
    pub maintenance: Decimal,
}

fn pct(v: i64) -> Decimal {
    Decimal::new(v, 2)
}

/// The requirement of the holdings in `v`.
pub fn requirement(
    v: &Valuation,
    universe: &Universe,
    market: &Market,
    now: DateTime<Utc>,
) -> Requirement {
    let mut req = Requirement::default();
    for m in &v.marked {
        let value = m.value.abs();
        let long = m.holding.qty > Decimal::ZERO;
        let (init, maint) = match m.inst.sec_type {
            SecType::Stock | SecType::Index => {
                if long {
                    (value * pct(50), value * pct(25))
                } else {
                    (value * pct(50), value * pct(30))
                }
            }
            SecType::Option | SecType::FutureOption => {
                if long {
                    (Decimal::ZERO, Decimal::ZERO)
                } else {
                    let under = universe
                        .underlying(&m.inst)
                        .and_then(|u| market.quote(universe, u, now))
                        .map(|q| dec(q.mid()))
                        .unwrap_or_default();
                    let notional = under * m.holding.qty.abs() * dec(m.inst.point_value());
                    let r = value + notional * pct(20);
                    (r, r)
                }
            }
            SecType::Future => {
                let notional = m.price * m.holding.qty.abs() * dec(m.inst.point_value());
                (notional * pct(6), notional * pct(5))
            }
        };
        req.initial += init;
        req.maintenance += maint;
    }
    req.initial = req.initial.round_dp(2);
    req.maintenance = req.maintenance.round_dp(2);
    req
}
