//! The fill model: when and at what price a backtest's orders fill, what they cost, and the
//! model prices of options (Black–Scholes from the underlying's bar). Every rule is here and
//! in `docs/scripting.md` ("Fill model"), so a result can be checked by hand.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use tickwork_margin::model::Right;
use tickwork_margin::portfolio_margin::pricing::{self, Model};

use crate::domain::{OptionRight, OrderSide, OrderType};
use crate::scripting::strategy::ScriptBar;

/// Costs and frictions of simulated execution. Amounts are per share (per option contract for
/// the option commission); the defaults are a retail broker's tiered US rates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FillModel {
    /// Commission per share of stock.
    pub commission_per_share: Decimal,
    /// The least commission of one fill (stock or option).
    pub min_commission: Decimal,
    /// Commission per option contract.
    pub commission_per_contract: Decimal,
    /// Price given away by market and stop orders, per share (per unit of option premium for
    /// options): buys pay this much more, sells get this much less.
    pub slippage: Decimal,
    /// Annual volatility used to price options from the underlying (0.20 is 20 %).
    pub option_volatility: Decimal,
}

impl Default for FillModel {
    fn default() -> Self {
        Self {
            commission_per_share: Decimal::new(5, 3),
            min_commission: Decimal::ONE,
            commission_per_contract: Decimal::new(65, 2),
            slippage: Decimal::new(1, 2),
            option_volatility: Decimal::new(20, 2),
        }
    }
}

/// The prices an order is matched against on one bar: the bar itself for the underlying, the
/// model prices for an option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriceBar {
    pub open: Decimal,
    pub high: Decimal,
    pub low: Decimal,
    pub close: Decimal,
}

impl From<&ScriptBar> for PriceBar {
    fn from(bar: &ScriptBar) -> Self {
        Self {
            open: bar.open,
            high: bar.high,
            low: bar.low,
            close: bar.close,
        }
    }
}

/// What an order does on one bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    /// Fills, all of it, at this price.
    Fill(Decimal),
    /// A stop-limit order's stop was touched but its limit was not reachable at the trigger
    /// price: from the next bar it is a limit order.
    Triggered,
    /// Nothing happens on this bar.
    Rests,
}

/// The parts of an order the fill model looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderTerms {
    pub side: OrderSide,
    pub order_type: OrderType,
    pub limit: Option<Decimal>,
    pub stop: Option<Decimal>,
    /// A stop-limit order whose stop has been touched on an earlier bar.
    pub triggered: bool,
}

impl FillModel {
    /// Whether and at what price `order` fills on `bar` (a bar it is eligible on):
    ///
    /// - market: at the open, plus slippage for a buy, minus for a sell;
    /// - limit buy: if low ≤ limit, at min(open, limit) (sell: high ≥ limit, at max(open, limit));
    /// - stop buy: if high ≥ stop, at max(open, stop) plus slippage (sell: low ≤ stop, at
    ///   min(open, stop) minus slippage);
    /// - stop-limit: triggers like a stop; it fills on the same bar at the trigger price
    ///   (max(open, stop) for a buy) if that is within the limit, else it rests as a limit order
    ///   from the next bar.
    ///
    /// A price given away to slippage never goes below zero.
    pub fn match_order(&self, order: &OrderTerms, bar: &PriceBar) -> Match {
        let buy = order.side == OrderSide::Buy;
        let slip = |price: Decimal| {
            if buy {
                price + self.slippage
            } else {
                (price - self.slippage).max(Decimal::ZERO)
            }
        };
        let limit_match = |limit: Decimal| {
            if buy && bar.low <= limit {
                Match::Fill(bar.open.min(limit))
            } else if !buy && bar.high >= limit {
                Match::Fill(bar.open.max(limit))
            } else {
                Match::Rests
            }
        };
        let touched = |stop: Decimal| {
            if buy && bar.high >= stop {
                Some(bar.open.max(stop))
            } else if !buy && bar.low <= stop {
                Some(bar.open.min(stop))
            } else {
                None
            }
        };
        match (order.order_type, order.limit, order.stop) {
            (OrderType::Market, _, _) => Match::Fill(slip(bar.open)),
            (OrderType::Limit, Some(limit), _) => limit_match(limit),
            (OrderType::StopLimit, Some(limit), _) if order.triggered => limit_match(limit),
            (OrderType::Stop, _, Some(stop)) => {
                touched(stop).map_or(Match::Rests, |p| Match::Fill(slip(p)))
            }
            (OrderType::StopLimit, Some(limit), Some(stop)) => match touched(stop) {
                None => Match::Rests,
                Some(price) if (buy && price <= limit) || (!buy && price >= limit) => {
                    Match::Fill(price)
                }
                Some(_) => Match::Triggered,
            },
            // `ctx` never builds these (a limit order without its price); they never fill.
            _ => Match::Rests,
        }
    }

    /// Commission of one fill: quantity × the rate (per share, or per contract for options),
    /// at least [`FillModel::min_commission`] (trailing zeros dropped: 1.000 is 1).
    pub fn commission(&self, quantity: Decimal, option: bool) -> Decimal {
        let rate = if option {
            self.commission_per_contract
        } else {
            self.commission_per_share
        };
        (quantity * rate).max(self.min_commission).normalize()
    }

    /// The model prices of `option` over an underlying bar: open, high and low priced at the
    /// bar's start, the close at its end (`bar_seconds` later). For a call the high comes from
    /// the underlying's high, for a put from its low.
    pub fn option_bar(
        &self,
        option: &OptionContract,
        bar: &ScriptBar,
        bar_seconds: i32,
    ) -> PriceBar {
        let start = bar.time;
        let end = bar.time + Duration::seconds(i64::from(bar_seconds));
        let at_high = self.option_price(option, bar.high, start);
        let at_low = self.option_price(option, bar.low, start);
        PriceBar {
            open: self.option_price(option, bar.open, start),
            high: at_high.max(at_low),
            low: at_high.min(at_low),
            close: self.option_price(option, bar.close, end),
        }
    }

    /// Black–Scholes price of one unit (before the multiplier) with the underlying at
    /// `underlying` at time `at`, rate zero, no dividends, volatility
    /// [`FillModel::option_volatility`], rounded to the cent; the intrinsic value from the
    /// expiry's close ([`OptionContract::expires_at`]) on.
    pub fn option_price(
        &self,
        option: &OptionContract,
        underlying: Decimal,
        at: DateTime<Utc>,
    ) -> Decimal {
        let years = (option.expires_at() - at).num_seconds() as f64 / (365.0 * 86_400.0);
        if years <= 0.0 {
            return option.intrinsic(underlying);
        }
        let (Some(s), Some(k), Some(vol)) = (
            underlying.to_f64(),
            option.strike.to_f64(),
            self.option_volatility.to_f64(),
        ) else {
            return option.intrinsic(underlying);
        };
        let right = match option.right {
            OptionRight::Call => Right::Call,
            OptionRight::Put => Right::Put,
        };
        let value = pricing::price(Model::BlackScholes, right, s, k, years, 0.0, vol.max(0.0));
        Decimal::from_f64(value)
            .map(|v| v.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero))
            .unwrap_or_else(|| option.intrinsic(underlying))
            .max(Decimal::ZERO)
    }
}

/// An equity option as the fill model prices it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionContract {
    pub underlying: String,
    pub expiry: NaiveDate,
    pub right: OptionRight,
    pub strike: Decimal,
}

impl OptionContract {
    /// When the option stops trading and is settled: 16:00 New York on its expiry date, taken
    /// as 21:00 UTC all year round.
    pub fn expires_at(&self) -> DateTime<Utc> {
        Utc.from_utc_datetime(&self.expiry.and_time(chrono::NaiveTime::MIN)) + Duration::hours(21)
    }

    /// What it is worth at expiry with the underlying at `underlying`.
    pub fn intrinsic(&self, underlying: Decimal) -> Decimal {
        match self.right {
            OptionRight::Call => (underlying - self.strike).max(Decimal::ZERO),
            OptionRight::Put => (self.strike - underlying).max(Decimal::ZERO),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use rust_decimal_macros::dec;

    use super::*;

    fn bar(open: Decimal, high: Decimal, low: Decimal, close: Decimal) -> PriceBar {
        PriceBar {
            open,
            high,
            low,
            close,
        }
    }

    fn terms(
        side: OrderSide,
        order_type: OrderType,
        limit: Option<Decimal>,
        stop: Option<Decimal>,
    ) -> OrderTerms {
        OrderTerms {
            side,
            order_type,
            limit,
            stop,
            triggered: false,
        }
    }

    const BUY: OrderSide = OrderSide::Buy;
    const SELL: OrderSide = OrderSide::Sell;

    #[test]
    fn market_orders_fill_at_the_open_with_slippage() {
        let model = FillModel::default();
        let b = bar(dec!(100), dec!(102), dec!(99), dec!(101));
        let market = |side| terms(side, OrderType::Market, None, None);
        assert_eq!(
            model.match_order(&market(BUY), &b),
            Match::Fill(dec!(100.01))
        );
        assert_eq!(
            model.match_order(&market(SELL), &b),
            Match::Fill(dec!(99.99))
        );
        let free = FillModel {
            slippage: dec!(0.05),
            ..FillModel::default()
        };
        assert_eq!(
            free.match_order(&market(BUY), &b),
            Match::Fill(dec!(100.05))
        );
        // Slippage never makes a price negative.
        let penny = bar(dec!(0.01), dec!(0.01), dec!(0.01), dec!(0.01));
        assert_eq!(
            free.match_order(&market(SELL), &penny),
            Match::Fill(dec!(0))
        );
    }

    #[test]
    fn limit_orders_fill_when_touched_at_the_better_of_open_and_limit() {
        let model = FillModel::default();
        let b = bar(dec!(100), dec!(102), dec!(99), dec!(101));
        let limit = |side, price| terms(side, OrderType::Limit, Some(price), None);
        assert_eq!(
            model.match_order(&limit(BUY, dec!(99.5)), &b),
            Match::Fill(dec!(99.5))
        );
        assert_eq!(
            model.match_order(&limit(BUY, dec!(99)), &b),
            Match::Fill(dec!(99))
        );
        assert_eq!(
            model.match_order(&limit(BUY, dec!(98.99)), &b),
            Match::Rests
        );
        // A gap below a buy limit fills at the open, which is better.
        assert_eq!(
            model.match_order(&limit(BUY, dec!(105)), &b),
            Match::Fill(dec!(100))
        );
        assert_eq!(
            model.match_order(&limit(SELL, dec!(101.5)), &b),
            Match::Fill(dec!(101.5))
        );
        assert_eq!(
            model.match_order(&limit(SELL, dec!(102.01)), &b),
            Match::Rests
        );
        assert_eq!(
            model.match_order(&limit(SELL, dec!(95)), &b),
            Match::Fill(dec!(100))
        );
    }

    #[test]
    fn stop_orders_trigger_when_touched_and_pay_slippage() {
        let model = FillModel::default();
        let b = bar(dec!(100), dec!(102), dec!(99), dec!(101));
        let stop = |side, price| terms(side, OrderType::Stop, None, Some(price));
        assert_eq!(
            model.match_order(&stop(BUY, dec!(101)), &b),
            Match::Fill(dec!(101.01))
        );
        assert_eq!(model.match_order(&stop(BUY, dec!(102.5)), &b), Match::Rests);
        // Gapped through: the open is the price.
        assert_eq!(
            model.match_order(&stop(BUY, dec!(98)), &b),
            Match::Fill(dec!(100.01))
        );
        assert_eq!(
            model.match_order(&stop(SELL, dec!(99.5)), &b),
            Match::Fill(dec!(99.49))
        );
        assert_eq!(model.match_order(&stop(SELL, dec!(98.9)), &b), Match::Rests);
        assert_eq!(
            model.match_order(&stop(SELL, dec!(103)), &b),
            Match::Fill(dec!(99.99))
        );
    }

    #[test]
    fn stop_limit_orders_trigger_then_act_as_limits() {
        let model = FillModel::default();
        let b = bar(dec!(100), dec!(102), dec!(99), dec!(101));
        let stop_limit =
            |side, stop, limit| terms(side, OrderType::StopLimit, Some(limit), Some(stop));
        // Touched, and the trigger price is within the limit: fills there, no slippage.
        assert_eq!(
            model.match_order(&stop_limit(BUY, dec!(101), dec!(101.5)), &b),
            Match::Fill(dec!(101))
        );
        // Gapped above the limit: triggered, rests as a limit.
        let mut gapped = stop_limit(BUY, dec!(98), dec!(99.5));
        assert_eq!(model.match_order(&gapped, &b), Match::Triggered);
        gapped.triggered = true;
        assert_eq!(model.match_order(&gapped, &b), Match::Fill(dec!(99.5)));
        assert_eq!(
            model.match_order(&stop_limit(BUY, dec!(103), dec!(104)), &b),
            Match::Rests
        );
        assert_eq!(
            model.match_order(&stop_limit(SELL, dec!(99.5), dec!(99.2)), &b),
            Match::Fill(dec!(99.5))
        );
        assert_eq!(
            model.match_order(&stop_limit(SELL, dec!(101), dec!(100.5)), &b),
            Match::Triggered
        );
    }

    #[test]
    fn commissions_have_a_minimum_and_options_pay_per_contract() {
        let model = FillModel::default();
        assert_eq!(model.commission(dec!(100), false), dec!(1));
        assert_eq!(model.commission(dec!(333), false), dec!(1.665));
        assert_eq!(model.commission(dec!(1000), false), dec!(5));
        assert_eq!(model.commission(dec!(1), true), dec!(1));
        assert_eq!(model.commission(dec!(10), true), dec!(6.5));
    }

    #[test]
    fn options_are_priced_from_the_underlying_and_settle_at_intrinsic() {
        let model = FillModel::default();
        let call = OptionContract {
            underlying: "SPY".into(),
            expiry: NaiveDate::from_ymd_opt(2026, 12, 18).unwrap(),
            right: OptionRight::Call,
            strike: dec!(600),
        };
        let put = OptionContract {
            right: OptionRight::Put,
            ..call.clone()
        };
        let at = Utc.with_ymd_and_hms(2026, 11, 18, 21, 0, 0).unwrap();
        // 30 days, 20 %, at the money: S × (N(σ√T / 2) − N(−σ√T / 2)) with σ√T = 0.05734,
        // i.e. 600 × 0.02287 = 13.72.
        let atm = model.option_price(&call, dec!(600), at);
        assert_eq!(atm, dec!(13.72));
        // Put–call parity at rate zero: C − P = S − K (to the cent of each rounding).
        let p = model.option_price(&put, dec!(610), at);
        let c = model.option_price(&call, dec!(610), at);
        assert!((c - p - dec!(10)).abs() <= dec!(0.01), "{c} {p}");
        let expiry = call.expires_at();
        assert_eq!(model.option_price(&call, dec!(612.34), expiry), dec!(12.34));
        assert_eq!(model.option_price(&put, dec!(612.34), expiry), dec!(0));
        let underlying = ScriptBar {
            symbol: "SPY".into(),
            time: at,
            open: dec!(600),
            high: dec!(610),
            low: dec!(590),
            close: dec!(605),
            volume: dec!(0),
        };
        let bar = model.option_bar(&put, &underlying, 86_400);
        assert!(bar.high > bar.open && bar.open > bar.low, "{bar:?}");
        assert_eq!(bar.high, model.option_price(&put, dec!(590), at));
    }
}
