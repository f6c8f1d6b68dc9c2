//! The example strategies in `scripts/` backtested on the fixture `scripts/data/spy_daily.csv`
//! (300 synthetic daily bars, regenerated with `TICKWORK_REGENERATE_FIXTURE=1`). The exact
//! trade counts and P&L are regression values: a change to the fill model, the loop or the
//! examples that moves them must be deliberate.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use tickwork_core::domain::OrderSide;
use tickwork_core::scripting::backtest::reference::SmaCross;
use tickwork_core::scripting::backtest::{self, BacktestReport, EXPIRY_TAG, FillModel, bars};
use tickwork_core::scripting::strategy::{ScriptBar, StrategyScript, params};
use tickwork_core::scripting::strategy_engine;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture_bars() -> Vec<ScriptBar> {
    bars::synthetic(
        "SPY",
        Utc.with_ymd_and_hms(2025, 1, 2, 14, 30, 0).unwrap(),
        300,
        86_400,
        dec!(480),
        20_261_203,
    )
}

#[test]
fn the_fixture_is_the_generators_output() {
    let path = repo().join("scripts/data/spy_daily.csv");
    let expected = bars::to_csv(&fixture_bars());
    if std::env::var_os("TICKWORK_REGENERATE_FIXTURE").is_some() {
        std::fs::write(&path, &expected).unwrap();
    }
    let stored = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        stored, expected,
        "regenerate with TICKWORK_REGENERATE_FIXTURE=1"
    );
    assert_eq!(bars::load_csv(&path, "SPY").unwrap(), fixture_bars());
}

fn run(script: &str, overrides: &[&str]) -> BacktestReport {
    let engine = Arc::new(strategy_engine());
    let path = repo().join("scripts").join(script);
    let source = std::fs::read_to_string(&path).unwrap();
    let script = Arc::new(StrategyScript::compile(&engine, script, &source).unwrap());
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    let values = params::resolve(&script.params, &overrides).unwrap();
    backtest::backtest(
        engine,
        script,
        values,
        &fixture_bars(),
        &FillModel::default(),
        dec!(100000),
    )
    .unwrap()
}

fn sides(report: &BacktestReport) -> String {
    report
        .trades
        .iter()
        .map(|t| if t.side == OrderSide::Buy { 'B' } else { 'S' })
        .collect()
}

/// Each trade at its bar's open ± the default slippage (market orders).
fn at_open_with_slippage(report: &BacktestReport, bars: &[ScriptBar]) -> bool {
    report.trades.iter().all(|t| {
        let bar = bars.iter().find(|b| b.time == t.time).unwrap();
        t.price
            == match t.side {
                OrderSide::Buy => bar.open + dec!(0.01),
                OrderSide::Sell => bar.open - dec!(0.01),
            }
    })
}

#[test]
fn sma_cross_alternates_and_its_rust_twin_trades_the_same() {
    let bars = fixture_bars();
    let report = run("sma_cross.rhai", &[]);
    assert_eq!(report.stats.trade_count, 7);
    assert_eq!(report.stats.net_pnl, dec!(13742.00));
    assert_eq!(report.stats.total_commission, dec!(7));
    assert_eq!(report.stats.final_equity, dec!(113742.00));
    assert_eq!(report.stats.max_drawdown, dec!(10497.00));
    assert_eq!(report.stats.sharpe, Some(dec!(1.0695)));
    assert_eq!(sides(&report), "BSBSBSB");
    assert!(report.trades.iter().all(|t| t.quantity == dec!(100)));
    assert!(at_open_with_slippage(&report, &bars));
    assert_eq!(report.equity.len(), 300);
    // One console line per fill, then nothing else (on_start printed first).
    assert_eq!(report.console.len(), 1 + 7);
    assert_eq!(report.console[0], "sma_cross: fast 10, slow 30, qty 100");

    let twin = backtest::run_strategy(
        SmaCross::new(10, 30, dec!(100), false),
        None,
        &bars,
        &FillModel::default(),
        dec!(100000),
    )
    .unwrap();
    assert_eq!(twin.trades, report.trades);
    assert_eq!(twin.equity, report.equity);
    assert_eq!(twin.stats, report.stats);

    // Short instead of flat: the first cross is down, and then each order turns the position.
    let short = run("sma_cross.rhai", &["allow_short=true"]);
    assert_eq!(sides(&short), "SBSBSBSB");
    let quantities: Vec<Decimal> = short.trades.iter().map(|t| t.quantity).collect();
    assert_eq!(quantities[0], dec!(100));
    assert!(quantities[1..].iter().all(|q| *q == dec!(200)));
    assert_eq!(short.stats.net_pnl, dec!(12785));
    assert_eq!(short.stats.exposure, dec!(0.8267));
}

#[test]
fn bollinger_reversion_enters_at_the_band_and_leaves_by_stop_or_middle() {
    let report = run("bollinger_reversion.rhai", &[]);
    assert_eq!(report.stats.trade_count, 10);
    assert_eq!(report.stats.net_pnl, dec!(-4707.00));
    assert_eq!(report.stats.total_commission, dec!(10));
    assert_eq!(sides(&report), "BSBSBSBSBS");
    for pair in report.trades.chunks(2) {
        let (entry, exit) = (&pair[0], &pair[1]);
        assert_eq!((entry.quantity, exit.quantity), (dec!(100), dec!(100)));
        assert!(exit.time > entry.time, "{pair:?}");
        // Out by the 3 % stop (at or below it, less slippage) or at the market.
        let stop = (entry.price * dec!(97) / dec!(100)).round_dp(2);
        let by_stop = exit.price <= stop - dec!(0.01);
        let by_middle = exit.intent_id == entry.intent_id + 2;
        assert!(by_stop || by_middle, "{pair:?}");
    }
}

#[test]
fn covered_call_holds_the_shares_and_rolls_one_call() {
    let report = run("covered_call.rhai", &[]);
    assert_eq!(report.stats.trade_count, 28);
    assert_eq!(report.stats.net_pnl, dec!(14570.00));
    assert_eq!(report.stats.total_commission, dec!(28));
    let first = &report.trades[0];
    assert_eq!(
        (first.symbol.as_str(), first.side, first.quantity),
        ("SPY", OrderSide::Buy, dec!(100))
    );
    let options = &report.trades[1..];
    for (i, trade) in options.iter().enumerate() {
        assert!(
            trade.symbol.starts_with("SPY 20") && trade.symbol.contains(" C "),
            "{trade:?}"
        );
        assert_eq!(trade.quantity, dec!(1));
        let expected = if i % 2 == 0 {
            OrderSide::Sell
        } else {
            OrderSide::Buy
        };
        assert_eq!(trade.side, expected, "{trade:?}");
        if i % 2 == 1 {
            assert_eq!(
                trade.symbol,
                options[i - 1].symbol,
                "bought back what was sold"
            );
        }
    }
    // Exposure: shares from the second bar on.
    assert_eq!(report.stats.exposure, dec!(0.9967));

    // Never rolled: each call is settled at its expiry (a trade with intent 0, tag "expiry").
    let held = run("covered_call.rhai", &["roll_days=-1"]);
    let expired: Vec<_> = held.trades.iter().filter(|t| t.tag == EXPIRY_TAG).collect();
    assert!(!expired.is_empty());
    for trade in &expired {
        assert_eq!(
            (trade.intent_id, trade.side, trade.commission),
            (0, OrderSide::Buy, dec!(0))
        );
        let bar = fixture_bars()
            .into_iter()
            .find(|b| b.time == trade.time)
            .unwrap();
        let strike: Decimal = trade.symbol.rsplit(' ').next().unwrap().parse().unwrap();
        assert_eq!(
            trade.price,
            (bar.close - strike).max(Decimal::ZERO),
            "{trade:?}"
        );
    }
    assert_eq!(expired.len(), 8);
    assert_eq!(held.stats.trade_count, 18);
    assert_eq!(held.stats.net_pnl, dec!(6435.00));
}
