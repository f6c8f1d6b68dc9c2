//! What-if orders: margin before, change and after from `tickwork-margin`, equity with loan
//! from the account after booking the hypothetical fill.

use rust_decimal::Decimal;

use crate::accounts::{dec, f};
use crate::matching::commission;
use crate::msg::OrderSpec;
use crate::state::Core;
use crate::world::instruments::Instrument;

/// Result of a what-if evaluation.
#[derive(Debug, Clone)]
pub struct WhatIf {
    pub margins: crate::msg::MarginView,
    pub commission: Decimal,
}

impl Core {
    /// Margin before, change and after a full fill, from `tickwork-margin`; equity with loan
    /// from the account after booking the fill at the current quote (or limit) with commission.
    pub fn what_if(&self, inst: &Instrument, spec: &OrderSpec) -> Result<WhatIf, String> {
        let now = self.now();
        let buy = spec.action == "BUY";
        let quote = self.market.quote(&self.universe, inst, now);
        let px = quote
            .map(|q| if buy { q.ask } else { q.bid })
            .unwrap_or(0.0);
        let price = match (spec.order_type.as_str(), spec.lmt_price) {
            ("LMT" | "STP LMT", Some(l)) => dec(l),
            _ => dec(px),
        };
        let comm = commission(inst, spec.total_quantity, price);
        let account = spec.account.clone();
        let acct = self
            .accounts
            .get(&account)
            .ok_or_else(|| format!("unknown account {account}"))?;
        let before = self.accounts.value(acct, &self.universe, &self.market, now);
        let mut hypo = self.accounts.clone();
        hypo.apply_fill(&account, inst, buy, spec.total_quantity, price, comm);
        let after = hypo
            .get(&account)
            .map(|a| hypo.value(a, &self.universe, &self.market, now))
            .ok_or_else(|| format!("unknown account {account}"))?;
        let qty = if buy {
            spec.total_quantity
        } else {
            -spec.total_quantity
        };
        let m = crate::margin::what_if(&before, inst, qty, &self.universe, &self.market, now)?;
        let r = |d: Decimal| f(d.round_dp(2));
        Ok(WhatIf {
            margins: crate::msg::MarginView {
                init_before: r(m.before.initial),
                maint_before: r(m.before.maintenance),
                ewl_before: r(before.net_liq),
                init_change: r(m.after.initial - m.before.initial),
                maint_change: r(m.after.maintenance - m.before.maintenance),
                ewl_change: r(after.net_liq - before.net_liq),
                init_after: r(m.after.initial),
                maint_after: r(m.after.maintenance),
                ewl_after: r(after.net_liq),
            },
            commission: comm,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SimConfig;
    use crate::world::instruments::SecType;

    /// Every kind of instrument gets a what-if answer from tickwork-margin.
    #[test]
    fn what_if_for_each_instrument_kind() {
        let today = chrono::Utc::now().date_naive();
        let core = Core::new(SimConfig::default(), today);
        let account = core.accounts.ids()[0].clone();
        let pick = |t: SecType, sym: &str| {
            core.universe
                .all()
                .iter()
                .find(|i| i.sec_type == t && i.symbol == sym)
                .cloned()
                .unwrap_or_else(|| panic!("{sym}"))
        };
        let cases = [
            (pick(SecType::Stock, "MSFT"), "BUY"),
            (pick(SecType::Stock, "TSLA"), "SELL"),
            (pick(SecType::Option, "AAPL"), "BUY"),
            (pick(SecType::Option, "SPY"), "SELL"),
            (pick(SecType::Future, "ES"), "BUY"),
            (pick(SecType::Future, "CL"), "SELL"),
            (pick(SecType::FutureOption, "ES"), "SELL"),
        ];
        for (inst, action) in cases {
            let spec = OrderSpec {
                action: action.into(),
                total_quantity: Decimal::ONE,
                order_type: "MKT".into(),
                account: account.clone(),
                transmit: true,
                ..OrderSpec::default()
            };
            let w = core
                .what_if(&inst, &spec)
                .unwrap_or_else(|e| panic!("{} {}: {e}", inst.local_symbol, action));
            let m = w.margins;
            assert!(
                m.init_after >= 0.0 && m.maint_after >= 0.0,
                "{}: {m:?}",
                inst.local_symbol
            );
            assert!(
                (m.init_before + m.init_change - m.init_after).abs() < 0.02,
                "{}: {m:?}",
                inst.local_symbol
            );
            if action == "SELL" || inst.sec_type == SecType::Future {
                assert!(
                    m.init_change > 0.0,
                    "{} {action} must need margin: {m:?}",
                    inst.local_symbol
                );
            }
        }
    }
}
