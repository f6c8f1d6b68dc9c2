//! What a backtest gives: its trades, its equity curve (one point per bar) and the statistics
//! computed from them, all in exact decimals so the same run gives the same figures anywhere.

use chrono::{DateTime, SecondsFormat, Utc};
use rust_decimal::{Decimal, MathematicalOps};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::domain::OrderSide;

/// One execution in a backtest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trade {
    /// 1, 2, 3… in the order the trades happened.
    pub seq: u32,
    pub time: DateTime<Utc>,
    /// The intent id the script's `ctx.buy(…)` returned; 0 for an option settled at expiry.
    pub intent_id: i64,
    pub symbol: String,
    pub side: OrderSide,
    pub quantity: Decimal,
    /// Per share, or per unit of premium for an option (times its multiplier for the cash).
    pub price: Decimal,
    pub commission: Decimal,
    /// `"expiry"` for an option settled at its intrinsic value; empty otherwise.
    pub tag: String,
}

/// The tag of a trade that settles an expired option.
pub const EXPIRY_TAG: &str = "expiry";

/// The figures a trader compares runs by. Amounts are in the account currency; percentages
/// are percent (12.5 is 12.5 %). See `docs/scripting.md` ("Statistics") for each definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    pub initial_cash: Decimal,
    pub final_equity: Decimal,
    /// final equity − initial cash.
    pub net_pnl: Decimal,
    /// net P&L before commissions.
    pub gross_pnl: Decimal,
    pub total_commission: Decimal,
    pub trade_count: u32,
    pub bar_count: u32,
    /// The largest fall of equity from its running peak.
    pub max_drawdown: Decimal,
    /// The largest fall from the running peak as a percentage of that peak (4 decimals).
    pub max_drawdown_pct: Decimal,
    /// Annualised Sharpe ratio of per-bar returns, rate zero (4 decimals); `None` with fewer
    /// than two returns, no variation, or equity at or below zero.
    pub sharpe: Option<Decimal>,
    /// The bars per year the Sharpe ratio was annualised with.
    pub bars_per_year: Decimal,
    /// Fraction of bars that ended with a position open (0 to 1, 4 decimals).
    pub exposure: Decimal,
    /// net P&L as a percentage of the initial cash (4 decimals).
    pub return_pct: Decimal,
}

/// Everything one backtest produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BacktestReport {
    pub symbol: String,
    /// The bar length the bars show (see [`super::bars::bar_seconds_of`]).
    pub bar_seconds: i32,
    /// Start of the first bar.
    pub from: DateTime<Utc>,
    /// End of the last bar (its start plus `bar_seconds`).
    pub to: DateTime<Utc>,
    pub trades: Vec<Trade>,
    /// Cash plus positions marked at the bar's close, after the bar was handled.
    pub equity: Vec<(DateTime<Utc>, Decimal)>,
    pub stats: Stats,
    /// What the script printed, in order.
    pub console: Vec<String>,
}

impl BacktestReport {
    /// `{ "stats": {...}, "trades": [...] }` with every amount a decimal string: what
    /// `tickwork script backtest --json` prints and other tools read.
    pub fn to_json(&self) -> Value {
        json!({
            "symbol": self.symbol,
            "bar_seconds": self.bar_seconds,
            "from": iso(self.from),
            "to": iso(self.to),
            "stats": self.stats,
            "trades": trades_json(&self.trades),
        })
    }
}

fn iso(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Trades as JSON objects, amounts as decimal strings.
pub fn trades_json(trades: &[Trade]) -> Value {
    trades
        .iter()
        .map(|t| {
            json!({
                "seq": t.seq,
                "time": iso(t.time),
                "intent_id": t.intent_id,
                "symbol": t.symbol,
                "side": t.side.as_str(),
                "quantity": t.quantity.to_string(),
                "price": t.price.to_string(),
                "commission": t.commission.to_string(),
                "tag": t.tag,
            })
        })
        .collect()
}

/// Bars in a year, for annualising: 252 trading days; a day or longer bar counts
/// 252 × 86,400 / bar_seconds (a weekly bar 36), a shorter one 252 × 23,400 / bar_seconds (a
/// 6.5-hour session: 98,280 one-minute bars).
pub fn bars_per_year(bar_seconds: i32) -> Decimal {
    let seconds = Decimal::from(bar_seconds.max(1));
    let day = if bar_seconds >= 86_400 {
        86_400
    } else {
        23_400
    };
    (Decimal::from(252 * day) / seconds).round_dp(4)
}

/// Statistics of an equity curve (one point per bar) and its trades.
pub fn compute(
    initial_cash: Decimal,
    equity: &[Decimal],
    exposed_bars: usize,
    trades: &[Trade],
    bar_seconds: i32,
) -> Stats {
    let final_equity = equity.last().copied().unwrap_or(initial_cash);
    let net_pnl = final_equity - initial_cash;
    let total_commission: Decimal = trades.iter().map(|t| t.commission).sum();
    let (max_drawdown, max_drawdown_pct) = drawdown(initial_cash, equity);
    let per_year = bars_per_year(bar_seconds);
    let bars = equity.len();
    let fraction = |part: Decimal, whole: Decimal| {
        if whole.is_zero() {
            Decimal::ZERO
        } else {
            part.checked_div(whole).unwrap_or_default().round_dp(4)
        }
    };
    Stats {
        initial_cash,
        final_equity,
        net_pnl,
        gross_pnl: net_pnl + total_commission,
        total_commission,
        trade_count: u32::try_from(trades.len()).unwrap_or(u32::MAX),
        bar_count: u32::try_from(bars).unwrap_or(u32::MAX),
        max_drawdown,
        max_drawdown_pct,
        sharpe: sharpe(initial_cash, equity, per_year),
        bars_per_year: per_year,
        exposure: fraction(Decimal::from(exposed_bars), Decimal::from(bars)),
        return_pct: fraction(net_pnl * Decimal::ONE_HUNDRED, initial_cash),
    }
}

/// The largest fall from the running peak (the initial cash being the first peak), in money
/// and, separately, as a percentage of the peak it fell from.
pub fn drawdown(initial_cash: Decimal, equity: &[Decimal]) -> (Decimal, Decimal) {
    let mut peak = initial_cash;
    let mut worst = Decimal::ZERO;
    let mut worst_pct = Decimal::ZERO;
    for &value in equity {
        peak = peak.max(value);
        let fall = peak - value;
        worst = worst.max(fall);
        // Divide only for a fall that may be a new largest percentage (most bars are not).
        if peak > Decimal::ZERO
            && !fall.is_zero()
            && fall * Decimal::ONE_HUNDRED > worst_pct * peak
            && let Some(pct) = (fall * Decimal::ONE_HUNDRED).checked_div(peak)
        {
            worst_pct = worst_pct.max(pct);
        }
    }
    (worst, worst_pct.round_dp(4))
}

/// mean / sample standard deviation of the per-bar returns (the first against the initial
/// cash), times √bars_per_year.
pub fn sharpe(
    initial_cash: Decimal,
    equity: &[Decimal],
    bars_per_year: Decimal,
) -> Option<Decimal> {
    let mut returns = Vec::with_capacity(equity.len());
    let mut previous = initial_cash;
    for &value in equity {
        if previous <= Decimal::ZERO {
            return None;
        }
        // A bar without a change (flat, most bars of many strategies) needs no division.
        returns.push(if value == previous {
            Decimal::ZERO
        } else {
            (value - previous).checked_div(previous)?
        });
        previous = value;
    }
    if returns.len() < 2 {
        return None;
    }
    let n = Decimal::from(returns.len());
    let mut sum = Decimal::ZERO;
    for r in &returns {
        sum = sum.checked_add(*r)?;
    }
    let mean = sum.checked_div(n)?;
    let mut squares = Decimal::ZERO;
    for r in &returns {
        let d = r.checked_sub(mean)?;
        squares = squares.checked_add(d.checked_mul(d)?)?;
    }
    let variance = squares.checked_div(n - Decimal::ONE)?;
    let deviation = variance.sqrt()?;
    if deviation.is_zero() {
        return None;
    }
    let ratio = mean
        .checked_div(deviation)?
        .checked_mul(bars_per_year.sqrt()?)?;
    Some(ratio.round_dp(4))
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    #[test]
    fn drawdown_is_measured_from_the_running_peak() {
        let equity = [dec!(110), dec!(99), dec!(120), dec!(90), dec!(130)];
        let (money, pct) = drawdown(dec!(100), &equity);
        assert_eq!(money, dec!(30));
        assert_eq!(pct, dec!(25));
        // A fall from the initial cash counts too.
        assert_eq!(
            drawdown(dec!(100), &[dec!(80), dec!(90)]),
            (dec!(20), dec!(20))
        );
        assert_eq!(
            drawdown(dec!(100), &[dec!(100), dec!(101)]),
            (dec!(0), dec!(0))
        );
        // The largest money fall and the largest percentage fall may be different falls.
        let (money, pct) = drawdown(dec!(100), &[dec!(50), dec!(1000), dec!(900)]);
        assert_eq!((money, pct), (dec!(100), dec!(50)));
    }

    #[test]
    fn sharpe_of_a_known_series() {
        // Returns +10 %, −10 %, +10 %: mean 1/30, sample sd √(1/75 … ) computed by hand:
        // deviations 2/30, −4/30, 2/30 → squares 4+16+4 = 24/900, / 2 → 12/900, sd = 0.11547.
        // mean / sd = 0.0333… / 0.11547 = 0.288675; × √252 (15.874508) = 4.5826.
        let equity = [dec!(110), dec!(99), dec!(108.9)];
        assert_eq!(sharpe(dec!(100), &equity, dec!(252)), Some(dec!(4.5826)));
        assert_eq!(sharpe(dec!(100), &[dec!(101)], dec!(252)), None);
        assert_eq!(
            sharpe(dec!(100), &[dec!(101), dec!(102.01)], dec!(252)),
            None
        );
        assert_eq!(
            sharpe(dec!(100), &[dec!(0), dec!(1), dec!(2)], dec!(252)),
            None
        );
    }

    #[test]
    fn bars_per_year_follows_the_bar_length() {
        assert_eq!(bars_per_year(86_400), dec!(252));
        assert_eq!(bars_per_year(7 * 86_400), dec!(36));
        assert_eq!(bars_per_year(60), dec!(98280));
        assert_eq!(bars_per_year(3600), dec!(1638));
    }

    #[test]
    fn stats_add_up() {
        let trade = |commission| Trade {
            seq: 1,
            time: Utc::now(),
            intent_id: 1,
            symbol: "SPY".into(),
            side: OrderSide::Buy,
            quantity: dec!(1),
            price: dec!(1),
            commission,
            tag: String::new(),
        };
        let stats = compute(
            dec!(1000),
            &[dec!(1000), dec!(990), dec!(1050)],
            2,
            &[trade(dec!(1)), trade(dec!(1.5))],
            86_400,
        );
        assert_eq!(stats.net_pnl, dec!(50));
        assert_eq!(stats.gross_pnl, dec!(52.5));
        assert_eq!(stats.total_commission, dec!(2.5));
        assert_eq!(stats.trade_count, 2);
        assert_eq!(stats.exposure, dec!(0.6667));
        assert_eq!(stats.return_pct, dec!(5));
        assert_eq!(stats.max_drawdown, dec!(10));
        assert_eq!(stats.max_drawdown_pct, dec!(1));
        let json = serde_json::to_value(&stats).unwrap();
        assert_eq!(json["net_pnl"], "50");
        assert_eq!(serde_json::from_value::<Stats>(json).unwrap(), stats);
    }
}
