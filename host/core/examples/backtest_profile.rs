//! One backtest of `scripts/sma_cross.rhai` (or of its Rust twin) over synthetic one-minute
//! bars, for instruction counts under valgrind (docs/benchmarks.md, "Backtests"):
//!
//! ```sh
//! cargo build --release -p tickwork-core --example backtest_profile
//! valgrind --tool=callgrind --toggle-collect='tickwork_core::scripting::backtest::run::backtest' \
//!     target/release/examples/backtest_profile script 9000
//! valgrind --tool=callgrind --toggle-collect='tickwork_core::scripting::backtest::run::run_strategy*' \
//!     target/release/examples/backtest_profile rust 9000
//! ```
//!
//! Run each at two bar counts (3,000 and 9,000): the difference divided by 6,000 is the count
//! per bar, without the start (compiling, the top level, `on_start`).
//!
//! `script` or `rust`, then the number of bars (default 6,000); `BACKTEST_SCRIPT=FILE` runs another
//! script than `scripts/sma_cross.rhai`.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use rust_decimal::Decimal;
use tickwork_core::scripting::backtest::reference::SmaCross;
use tickwork_core::scripting::backtest::{self, FillModel, bars};
use tickwork_core::scripting::strategy::{StrategyScript, params};
use tickwork_core::scripting::strategy_engine;

fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_else(|| "script".into());
    let n: usize = args.next().and_then(|v| v.parse().ok()).unwrap_or(6_000);
    let bars = bars::synthetic(
        "SPY",
        Utc.with_ymd_and_hms(2025, 1, 2, 14, 30, 0).unwrap(),
        n,
        60,
        Decimal::new(480, 0),
        42,
    );
    let cash = Decimal::new(1_000_000, 0);
    let report = match which.as_str() {
        "rust" => backtest::run_strategy(
            SmaCross::new(10, 30, Decimal::ONE_HUNDRED, false),
            None,
            &bars,
            &FillModel::default(),
            cash,
        ),
        _ => {
            let engine = Arc::new(strategy_engine());
            let path = std::env::var("BACKTEST_SCRIPT").unwrap_or_else(|_| {
                concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/sma_cross.rhai").to_owned()
            });
            let source = std::fs::read_to_string(&path).expect("the script");
            let script =
                Arc::new(StrategyScript::compile(&engine, "sma_cross.rhai", &source).unwrap());
            let params = params::resolve(&script.params, &[]).unwrap();
            backtest::backtest(engine, script, params, &bars, &FillModel::default(), cash)
        }
    }
    .expect("the backtest runs");
    println!(
        "{which}: {n} bars, {} trades, net P&L {}",
        report.stats.trade_count, report.stats.net_pnl
    );
}
