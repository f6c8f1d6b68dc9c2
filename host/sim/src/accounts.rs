//! Accounts: cash, positions and the account values TWS reports (account summary tags and
//! account-update keys). Money and quantities are `Decimal`; prices come from the live market
//! and are converted once, here.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};

use crate::config::SimConfig;
use crate::margin::{self, Requirement};

use crate::msg::{PortfolioView, Response};
use crate::world::instruments::{Instrument, SecType, Universe};
use crate::world::prices::Market;

/// A holding in one contract.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Holding {
    /// Signed quantity (negative = short).
    pub qty: Decimal,
    /// Average price per unit (without the multiplier), commissions included.
    pub avg_price: Decimal,
}

/// One account.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub cash: Decimal,
    pub holdings: BTreeMap<i32, Holding>,
    pub realized: Decimal,
}

/// A holding marked to market.
#[derive(Debug, Clone)]
pub struct Marked {
    pub inst: Instrument,
    pub holding: Holding,
    pub price: Decimal,
    pub value: Decimal,
    pub unrealized: Decimal,
}

/// An account marked to market.
#[derive(Debug, Clone)]
pub struct Valuation {
    pub account: String,
    pub cash: Decimal,
    pub stock_value: Decimal,
    pub option_value: Decimal,
    pub fop_value: Decimal,
    pub futures_pnl: Decimal,
    pub unrealized: Decimal,
    pub realized: Decimal,
    pub gross_position_value: Decimal,
    pub net_liq: Decimal,
    /// From `tickwork-margin`; `None` (and the margin tags left out) if the engine refused the
    /// snapshot, which is logged.
    pub margin: Option<Requirement>,
    pub marked: Vec<Marked>,
}

/// All accounts of the simulated login.
#[derive(Debug, Clone)]
pub struct Accounts {
    pub list: Vec<Account>,
}

pub fn dec(v: f64) -> Decimal {
    Decimal::from_f64(v).unwrap_or_default().round_dp(6)
}

pub fn f(v: Decimal) -> f64 {
    v.to_f64().unwrap_or(0.0)
}

/// Money as TWS prints it in account values: two decimals.
fn money(v: Decimal) -> String {
    v.round_dp(2).to_string()
}

/// Whether a position's value is settled in cash (stocks, options) or marked daily (futures).
fn is_futures(inst: &Instrument) -> bool {
    inst.sec_type == SecType::Future
}

impl Accounts {
    /// The first account starts with two stock positions so positions and portfolio are not empty.
    pub fn new(cfg: &SimConfig, universe: &Universe, market: &Market) -> Self {
        let mut list: Vec<Account> = cfg
            .accounts
            .iter()
            .map(|id| Account {
                id: id.clone(),
                cash: cfg.starting_cash,
                holdings: BTreeMap::new(),
                realized: Decimal::ZERO,
            })
            .collect();
        if let Some(first) = list.first_mut() {
            for (sym, qty, discount) in [("AAPL", 100, 0.95), ("SPY", 50, 0.97)] {
                let found = universe
                    .all()
                    .iter()
                    .find(|i| i.symbol == sym && i.sec_type == SecType::Stock);
                if let Some(inst) = found
                    && let Some(p) = market.price(inst.con_id)
                {
                    let avg = dec(p * discount).round_dp(2);
                    first.holdings.insert(
                        inst.con_id,
                        Holding {
                            qty: Decimal::from(qty),
                            avg_price: avg,
                        },
                    );
                    first.cash -= avg * Decimal::from(qty);
                }
            }
            if cfg.option_spread {
                seed_call_spread(first, universe, market);
            }
        }
        Accounts { list }
    }

    pub fn ids(&self) -> Vec<String> {
        self.list.iter().map(|a| a.id.clone()).collect()
    }

    pub fn get(&self, id: &str) -> Option<&Account> {
        self.list.iter().find(|a| a.id == id)
    }

    /// The named account, or the first one when `id` is empty.
    pub fn resolve(&self, id: &str) -> Option<&Account> {
        if id.is_empty() {
            self.list.first()
        } else {
            self.get(id)
        }
    }

    /// Books a fill; returns the realized P&L it produced.
    pub fn apply_fill(
        &mut self,
        account: &str,
        inst: &Instrument,
        buy: bool,
        qty: Decimal,
        price: Decimal,
        commission: Decimal,
    ) -> Decimal {
        let Some(acct) = self.list.iter_mut().find(|a| a.id == account) else {
            return Decimal::ZERO;
        };
        let mult = dec(inst.point_value());
        let signed = if buy { qty } else { -qty };
        let h = acct.holdings.entry(inst.con_id).or_default();
        let mut realized = Decimal::ZERO;
        let same_side = h.qty.is_zero() || (h.qty > Decimal::ZERO) == buy;
        if same_side {
            let cost = h.avg_price * h.qty.abs() + price * qty + commission / mult;
            h.qty += signed;
            h.avg_price = if h.qty.is_zero() {
                Decimal::ZERO
            } else {
                cost / h.qty.abs()
            };
        } else {
            let closing = qty.min(h.qty.abs());
            let direction = if h.qty > Decimal::ZERO {
                Decimal::ONE
            } else {
                -Decimal::ONE
            };
            realized = (price - h.avg_price) * closing * mult * direction - commission;
            h.qty += signed;
            let opened = qty - closing;
            if h.qty.is_zero() {
                h.avg_price = Decimal::ZERO;
            } else if !opened.is_zero() {
                h.avg_price = price;
            }
        }
        if h.qty.is_zero() {
            acct.holdings.remove(&inst.con_id);
        }
        if is_futures(inst) {
            acct.cash += realized;
            if same_side {
                acct.cash -= commission;
            }
        } else {
            acct.cash -= signed * price * mult + commission;
        }
        acct.realized += realized;
        realized
    }

    /// Marks one account to market.
    pub fn value(
        &self,
        account: &Account,
        universe: &Universe,
        market: &Market,
        now: DateTime<Utc>,
    ) -> Valuation {
        let mut v = Valuation {
            account: account.id.clone(),
            cash: account.cash,
            stock_value: Decimal::ZERO,
            option_value: Decimal::ZERO,
            fop_value: Decimal::ZERO,
            futures_pnl: Decimal::ZERO,
            unrealized: Decimal::ZERO,
            realized: account.realized,
            gross_position_value: Decimal::ZERO,
            net_liq: Decimal::ZERO,
            margin: None,
            marked: Vec::new(),
        };
        for (con_id, h) in &account.holdings {
            let Some(inst) = universe.get(*con_id) else {
                continue;
            };
            let price = market
                .quote(universe, inst, now)
                .map(|q| dec(q.mid()).round_dp(4))
                .unwrap_or(h.avg_price);
            let mult = dec(inst.point_value());
            let value = price * h.qty * mult;
            let unrealized = (price - h.avg_price) * h.qty * mult;
            match inst.sec_type {
                SecType::Stock | SecType::Index => v.stock_value += value,
                SecType::Option => v.option_value += value,
                SecType::FutureOption => v.fop_value += value,
                SecType::Future => v.futures_pnl += unrealized,
            }
            if !is_futures(inst) {
                v.gross_position_value += value.abs();
            }
            v.unrealized += unrealized;
            v.marked.push(Marked {
                inst: inst.clone(),
                holding: h.clone(),
                price,
                value,
                unrealized,
            });
        }
        v.net_liq = v.cash + v.stock_value + v.option_value + v.fop_value + v.futures_pnl;
        v.margin = match margin::requirement(&v, universe, market, now) {
            Ok(r) => Some(r),
            Err(e) => {
                tracing::warn!(account = %account.id, "margin engine: {e}");
                None
            }
        };
        v
    }

    /// The `(tag, value, currency)` triples of account summary and account updates.
    pub fn values(v: &Valuation) -> Vec<(&'static str, String, &'static str)> {
        let usd = "USD";
        let leverage = if v.net_liq.is_zero() {
            Decimal::ZERO
        } else {
            (v.gross_position_value / v.net_liq).round_dp(2)
        };
        let mut out = vec![
            ("AccountType", "INDIVIDUAL".into(), ""),
            ("NetLiquidation", money(v.net_liq), usd),
            ("TotalCashValue", money(v.cash), usd),
            ("SettledCash", money(v.cash), usd),
            ("AccruedCash", money(Decimal::ZERO), usd),
            ("EquityWithLoanValue", money(v.net_liq), usd),
            ("PreviousDayEquityWithLoanValue", money(v.net_liq), usd),
            ("GrossPositionValue", money(v.gross_position_value), usd),
            ("RegTEquity", money(v.net_liq), usd),
            ("HighestSeverity", "0".into(), ""),
            ("DayTradesRemaining", "-1".into(), ""),
            ("Leverage", leverage.to_string(), ""),
        ];
        if let Some(m) = v.margin {
            let available = v.net_liq - m.initial;
            let excess = v.net_liq - m.maintenance;
            let cushion = if v.net_liq.is_zero() {
                Decimal::ZERO
            } else {
                (excess / v.net_liq).round_dp(4)
            };
            out.extend([
                (
                    "BuyingPower",
                    money((available * Decimal::from(4)).max(Decimal::ZERO)),
                    usd,
                ),
                ("RegTMargin", money(m.initial), usd),
                ("SMA", money(available.max(Decimal::ZERO)), usd),
                ("InitMarginReq", money(m.initial), usd),
                ("MaintMarginReq", money(m.maintenance), usd),
                ("AvailableFunds", money(available), usd),
                ("ExcessLiquidity", money(excess), usd),
                ("Cushion", cushion.to_string(), ""),
                ("FullInitMarginReq", money(m.initial), usd),
                ("FullMaintMarginReq", money(m.maintenance), usd),
                ("FullAvailableFunds", money(available), usd),
                ("FullExcessLiquidity", money(excess), usd),
                ("LookAheadInitMarginReq", money(m.initial), usd),
                ("LookAheadMaintMarginReq", money(m.maintenance), usd),
                ("LookAheadAvailableFunds", money(available), usd),
                ("LookAheadExcessLiquidity", money(excess), usd),
            ]);
        }
        out
    }

    /// Ledger values (`$LEDGER` tags and the per-currency account-update keys).
    pub fn ledger(v: &Valuation) -> Vec<(&'static str, String, &'static str)> {
        vec![
            ("Currency", "USD".into(), "USD"),
            ("CashBalance", money(v.cash), "USD"),
            ("TotalCashBalance", money(v.cash), "USD"),
            ("StockMarketValue", money(v.stock_value), "USD"),
            ("OptionMarketValue", money(v.option_value), "USD"),
            ("FutureOptionValue", money(v.fop_value), "USD"),
            ("FuturesPNL", money(v.futures_pnl), "USD"),
            ("NetLiquidationByCurrency", money(v.net_liq), "USD"),
            ("UnrealizedPnL", money(v.unrealized), "USD"),
            ("RealizedPnL", money(v.realized), "USD"),
            ("ExchangeRate", "1.00".into(), "USD"),
        ]
    }

    /// Everything reqAccountUpdates sends, in TWS order, before AccountDownloadEnd.
    pub fn update_messages(v: &Valuation, now: DateTime<Utc>) -> Vec<Response> {
        let mut out: Vec<Response> = Vec::new();
        out.push(Response::AccountValue {
            key: "AccountCode".into(),
            value: v.account.clone(),
            currency: String::new(),
            account: v.account.clone(),
        });
        for (k, val, cur) in Self::values(v).into_iter().chain(Self::ledger(v)) {
            out.push(Response::AccountValue {
                key: k.into(),
                value: val,
                currency: cur.into(),
                account: v.account.clone(),
            });
        }
        out.extend(v.marked.iter().map(|m| Self::portfolio(v, m)));
        out.push(Response::AccountUpdateTime(now.format("%H:%M").to_string()));
        out
    }

    pub fn portfolio(v: &Valuation, m: &Marked) -> Response {
        Response::PortfolioValue(Box::new(PortfolioView {
            contract: m.inst.view(),
            position: m.holding.qty,
            market_price: f(m.price),
            market_value: f(m.value.round_dp(2)),
            avg_cost: f((m.holding.avg_price * dec(m.inst.point_value())).round_dp(6)),
            unrealized: f(m.unrealized.round_dp(2)),
            realized: 0.0,
            account: v.account.clone(),
        }))
    }

    /// Every (account, holding) for reqPositions.
    pub fn positions(&self, universe: &Universe) -> Vec<Response> {
        let mut out = Vec::new();
        for a in &self.list {
            for (con_id, h) in &a.holdings {
                if let Some(inst) = universe.get(*con_id) {
                    out.push(Self::position(&a.id, inst, h));
                }
            }
        }
        out
    }

    pub fn position(account: &str, inst: &Instrument, h: &Holding) -> Response {
        Response::Position {
            account: account.into(),
            contract: Box::new(inst.view()),
            position: h.qty,
            avg_cost: f((h.avg_price * dec(inst.point_value())).round_dp(6)),
        }
    }
}

/// Long 5 at-the-money SPY calls of the nearest expiry, short 5 calls two strikes higher, each at
/// the simulator's current mid price.
fn seed_call_spread(account: &mut Account, universe: &Universe, market: &Market) {
    let Some(spot) = universe
        .all()
        .iter()
        .find(|i| i.symbol == "SPY" && i.sec_type == SecType::Stock)
        .and_then(|i| market.price(i.con_id))
    else {
        return;
    };
    let calls: Vec<&Instrument> = universe
        .all()
        .iter()
        .filter(|i| i.symbol == "SPY" && i.sec_type == SecType::Option && i.right == "C")
        .collect();
    let Some(expiry) = calls.iter().map(|i| i.expiry.clone()).min() else {
        return;
    };
    let mut chain: Vec<&Instrument> = calls.into_iter().filter(|i| i.expiry == expiry).collect();
    chain.sort_by(|a, b| a.strike.total_cmp(&b.strike));
    let Some(atm) = chain
        .iter()
        .enumerate()
        .min_by(|(_, a), (_, b)| (a.strike - spot).abs().total_cmp(&(b.strike - spot).abs()))
        .map(|(index, _)| index)
    else {
        return;
    };
    let now = Utc::now();
    for (index, qty) in [(atm, 5), (atm + 2, -5)] {
        let Some(inst) = chain.get(index) else {
            return;
        };
        let Some(quote) = market.quote(universe, inst, now) else {
            return;
        };
        let price = dec((quote.bid + quote.ask) / 2.0).round_dp(2);
        account.holdings.insert(
            inst.con_id,
            Holding {
                qty: Decimal::from(qty),
                avg_price: price,
            },
        );
        account.cash -= price * Decimal::from(qty) * dec(inst.multiplier);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_book_cash_and_realized() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 4, 6).unwrap_or_default();
        let u = Universe::build(1, today);
        let m = Market::new(&u, 1);
        let cfg = SimConfig {
            accounts: vec!["DU1".into()],
            ..SimConfig::default()
        };
        let mut a = Accounts::new(&cfg, &u, &m);
        let inst = u
            .all()
            .iter()
            .find(|i| i.symbol == "MSFT")
            .cloned()
            .unwrap_or_else(|| panic!("MSFT"));
        let cash0 = a.list[0].cash;
        a.apply_fill(
            "DU1",
            &inst,
            true,
            Decimal::from(10),
            Decimal::from(100),
            Decimal::ONE,
        );
        assert_eq!(a.list[0].cash, cash0 - Decimal::from(1001));
        let r = a.apply_fill(
            "DU1",
            &inst,
            false,
            Decimal::from(10),
            Decimal::from(110),
            Decimal::ONE,
        );
        assert_eq!(r, Decimal::from(98));
        assert!(!a.list[0].holdings.contains_key(&inst.con_id));
    }

    #[test]
    fn the_demo_portfolio_holds_a_bull_call_spread() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 4, 6).unwrap_or_default();
        let u = Universe::build(1, today);
        let m = Market::new(&u, 1);
        let plain = Accounts::new(&SimConfig::default(), &u, &m);
        assert_eq!(plain.list[0].holdings.len(), 2, "stocks only by default");
        let cfg = SimConfig {
            option_spread: true,
            ..SimConfig::default()
        };
        let a = Accounts::new(&cfg, &u, &m);
        let legs: Vec<(&Instrument, Decimal)> = a.list[0]
            .holdings
            .iter()
            .filter_map(|(con_id, h)| {
                u.all()
                    .iter()
                    .find(|i| i.con_id == *con_id && i.sec_type == SecType::Option)
                    .map(|i| (i, h.qty))
            })
            .collect();
        assert_eq!(legs.len(), 2, "{legs:?}");
        let long = legs.iter().find(|(_, q)| *q == Decimal::from(5));
        let short = legs.iter().find(|(_, q)| *q == Decimal::from(-5));
        match (long, short) {
            (Some((l, _)), Some((s, _))) => {
                assert_eq!((l.symbol.as_str(), l.right.as_str()), ("SPY", "C"));
                assert_eq!(l.expiry, s.expiry);
                assert!(s.strike > l.strike, "short the higher strike");
            }
            other => panic!("expected +5 and -5 calls, got {other:?}"),
        }
    }
}
