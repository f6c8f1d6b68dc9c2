//! The backtest loop with small scripts and hand-made bars: the order of events, time in
//! force, cancels, rejections, faults, runaways, timers and sweeps.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::*;
use crate::domain::OrderSide;
use crate::scripting::strategy::{ParamValue, ParamValues, ScriptBar, StrategyScript, params};
use crate::scripting::strategy_engine;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 14, 30, 0).unwrap()
}

/// Bars `step` apart: (open, high, low, close) each.
fn bars(step: Duration, prices: &[(i64, i64, i64, i64)]) -> Vec<ScriptBar> {
    prices
        .iter()
        .enumerate()
        .map(|(i, &(open, high, low, close))| ScriptBar {
            symbol: "SPY".into(),
            time: t0() + step * i32::try_from(i).unwrap(),
            open: Decimal::from(open),
            high: Decimal::from(high),
            low: Decimal::from(low),
            close: Decimal::from(close),
            volume: dec!(1000),
        })
        .collect()
}

fn flat(step: Duration, count: usize) -> Vec<ScriptBar> {
    bars(step, &vec![(100, 101, 99, 100); count])
}

fn compile(source: &str) -> (Arc<rhai::Engine>, Arc<StrategyScript>, ParamValues) {
    let engine = Arc::new(strategy_engine());
    let script = Arc::new(StrategyScript::compile(&engine, "t.rhai", source).unwrap());
    let values = params::resolve(&script.params, &[]).unwrap();
    (engine, script, values)
}

#[allow(clippy::result_large_err)]
fn run(source: &str, bars: &[ScriptBar]) -> Result<BacktestReport, BacktestError> {
    let (engine, script, values) = compile(source);
    backtest(
        engine,
        script,
        values,
        bars,
        &FillModel::default(),
        dec!(10000),
    )
}

/// Every hook prints what it got, so the console is the sequence of events.
const TRACE: &str = r#"
fn on_start(ctx) { print("start"); }
fn on_fill(ctx, f) { print(`fill ${f.id} ${f.side} ${f.qty} @ ${f.price}`); }
fn on_order(ctx, u) {
    if u.reason == "" { print(`order ${u.id} ${u.status}`); }
    else { print(`order ${u.id} ${u.status}: ${u.reason}`); }
}
fn on_stop(ctx) { print("stop"); }
"#;

#[test]
fn events_arrive_in_the_documented_order() {
    let source = format!(
        "{TRACE}
        fn on_bar(ctx, bar) {{
            print(`bar ${{bar.close}}`);
            if bar.close == 100 {{ ctx.buy(bar.symbol, 10); ctx.sell_limit(bar.symbol, 10, 105); }}
        }}"
    );
    let report = run(
        &source,
        &bars(
            Duration::days(1),
            &[
                (100, 101, 99, 100),
                (102, 104, 101, 103),
                (104, 106, 103, 105),
            ],
        ),
    )
    .unwrap();
    assert_eq!(
        report.console,
        [
            "start",
            "bar 100",
            "order 1 working",
            "order 2 working",
            // Bar 2: the market order fills at the open; the limit waits for its price…
            "fill 1 BUY 10 @ 102.01",
            "order 1 filled",
            "bar 103",
            // …and, as a DAY order, is cancelled when the date changes; it was never
            // eligible on the bar it was placed on.
            "order 2 cancelled: day order expired",
            "bar 105",
            "stop",
        ]
    );
    assert_eq!(report.trades.len(), 1);
    let trade = &report.trades[0];
    assert_eq!(
        (
            trade.seq,
            trade.intent_id,
            trade.side,
            trade.price,
            trade.commission
        ),
        (1, 1, OrderSide::Buy, dec!(102.01), dec!(1))
    );
    // Cash 10000 − 1020.10 − 1; marked at 103 and 105.
    let values: Vec<Decimal> = report.equity.iter().map(|(_, v)| *v).collect();
    assert_eq!(values, [dec!(10000), dec!(10008.90), dec!(10028.90)]);
    assert_eq!(report.stats.net_pnl, dec!(28.90));
    assert_eq!(report.stats.exposure, dec!(0.6667));
    assert_eq!(report.to, t0() + Duration::days(3));
}

#[test]
fn time_in_force_decides_how_long_an_order_rests() {
    // Minute bars over two days: the second date starts at bar 3.
    let mut minutes = flat(Duration::minutes(1), 5);
    for (i, bar) in minutes.iter_mut().enumerate().skip(3) {
        bar.time = t0() + Duration::days(1) + Duration::minutes(i64::try_from(i).unwrap());
    }
    let source = format!(
        r#"{TRACE}
        fn on_bar(ctx, bar) {{
            if ctx.now() == {first} {{
                ctx.buy_limit(bar.symbol, 1, 50);
                ctx.submit(#{{ side: "BUY", symbol: bar.symbol, qty: 1, type: "LMT", price: 50, tif: "GTC" }});
                ctx.submit(#{{ side: "BUY", symbol: bar.symbol, qty: 1, type: "LMT", price: 50, tif: "IOC" }});
            }}
        }}"#,
        first = t0().timestamp_nanos_opt().unwrap()
    );
    let report = run(&source, &minutes).unwrap();
    assert_eq!(
        report.console,
        [
            "start",
            "order 1 working",
            "order 2 working",
            "order 3 working",
            // The IOC order had one bar (the next) to fill.
            "order 3 cancelled: immediate-or-cancel order not filled",
            // The DAY order lasted the rest of its date; the GTC order outlives the run.
            "order 1 cancelled: day order expired",
            "stop",
        ]
    );
}

#[test]
fn cancels_rejections_and_stops() {
    let source = format!(
        r#"{TRACE}
        state.n = 0;
        fn on_bar(ctx, bar) {{
            state.n += 1;
            if state.n == 1 {{
                let a = ctx.buy_limit(bar.symbol, 1, 50);
                ctx.buy_limit(bar.symbol, 1, 51);
                ctx.cancel(a);
                ctx.buy("QQQ", 1);
                ctx.buy(ctx.option(bar.symbol, "20200117", "C", 100), 1);
                ctx.buy(bar.symbol, 2000000000);
            }}
            if state.n == 2 {{ ctx.cancel_all(); ctx.buy_stop(bar.symbol, 3, 104); }}
        }}"#
    );
    let report = run(
        &source,
        &bars(
            Duration::days(1),
            &[
                (100, 101, 99, 100),
                (100, 101, 99, 100),
                (103, 106, 102, 105),
            ],
        ),
    )
    .unwrap();
    assert_eq!(
        report.console,
        [
            "start",
            "order 1 working",
            "order 2 working",
            "order 1 cancelled: cancelled by the strategy",
            "order 3 rejected: the backtest has bars of SPY only, not QQQ",
            "order 4 rejected: SPY 20200117 C 100 has expired",
            "order 5 rejected: quantity 2000000000 is more than a backtest trades (at most 1000000000)",
            // Placed on bar 1, order 2 rests on bar 2 (its day) until the strategy cancels it.
            "order 2 cancelled: cancelled by the strategy",
            "order 6 working",
            // Gapped to 103 < stop 104, then the high 106 went through it.
            "fill 6 BUY 3 @ 104.01",
            "order 6 filled",
            "stop",
        ]
    );
}

#[test]
fn a_fault_stops_the_backtest_with_the_hook_line_and_console() {
    let source = "fn on_bar(ctx, bar) {\n    print(`bar ${bar.close}`);\n    if bar.close > 100 {\n        loop { }\n    }\n}\n";
    let err = run(
        source,
        &bars(
            Duration::days(1),
            &[
                (100, 101, 99, 100),
                (101, 102, 100, 101),
                (102, 103, 101, 102),
            ],
        ),
    )
    .unwrap_err();
    let BacktestError::Fault {
        fault,
        time,
        console,
    } = &err
    else {
        panic!("{err}");
    };
    assert_eq!(fault.hook, "on_bar");
    assert!(fault.error.message.contains("too many operations"), "{err}");
    assert_eq!(*time, Some(t0() + Duration::days(1)));
    assert_eq!(console, &["bar 100", "bar 101"]);
    assert!(
        err.to_string()
            .contains("(in on_bar; the strategy is stopped)"),
        "{err}"
    );

    // An error with a position names the line and column.
    let err = run(
        "fn on_bar(ctx, bar) {\n    let x = bar.close / 0;\n}\n",
        &flat(Duration::days(1), 2),
    )
    .unwrap_err();
    let BacktestError::Fault { fault, .. } = &err else {
        panic!("{err}");
    };
    assert_eq!(fault.error.line, Some(2), "{err}");
}

#[test]
fn a_strategy_that_answers_every_update_with_an_order_is_stopped() {
    let source = "fn on_bar(ctx, bar) { ctx.buy_limit(bar.symbol, 1, 1); }\n\
                  fn on_order(ctx, u) { if u.status == \"working\" { ctx.buy_limit(u.symbol, 1, 1); } }";
    let err = run(source, &flat(Duration::days(1), 2)).unwrap_err();
    assert!(matches!(err, BacktestError::Runaway { .. }), "{err}");
    assert!(matches!(run("", &[]), Err(BacktestError::NoBars)));
}

#[test]
fn timers_fire_before_the_bar_they_are_due_by() {
    let source = format!(
        r#"{}
        fn on_start(ctx) {{ ctx.set_timer("t", 90000); }}
        fn on_timer(ctx, name) {{ print(`timer ${{name}} ${{ctx.now()}}`); ctx.buy("SPY", 1); }}
        fn on_bar(ctx, bar) {{ print(`bar ${{ctx.now()}}`); }}"#,
        TRACE.replace("fn on_start(ctx) { print(\"start\"); }", "")
    );
    let report = run(&source, &flat(Duration::minutes(1), 3)).unwrap();
    let nanos = |minutes: i64| {
        (t0() + Duration::minutes(minutes))
            .timestamp_nanos_opt()
            .unwrap()
    };
    let due = (t0() + Duration::seconds(90))
        .timestamp_nanos_opt()
        .unwrap();
    assert_eq!(
        report.console,
        [
            format!("bar {}", nanos(0)),
            format!("bar {}", nanos(1)),
            format!("timer t {due}"),
            "order 1 working".into(),
            // Placed before bar 3 was handled, it fills at that bar's open.
            "fill 1 BUY 1 @ 100.01".into(),
            "order 1 filled".into(),
            format!("bar {}", nanos(2)),
            "stop".into(),
        ]
    );
}

#[test]
fn options_are_priced_marked_and_settled_at_expiry() {
    // Daily bars from Monday 2 March 2026 to Monday 23 March; the option expires Friday 20.
    let prices: Vec<(i64, i64, i64, i64)> = (0..22)
        .map(|i| (600 + i, 602 + i, 599 + i, 601 + i))
        .collect();
    let source = format!(
        r#"{TRACE}
        fn on_bar(ctx, bar) {{
            if bar.close == 601 {{ ctx.sell(ctx.option("SPY", "20260320", "C", 610), 2); }}
        }}"#
    );
    let report = run(&source, &bars(Duration::days(1), &prices)).unwrap();
    let trades = &report.trades;
    assert_eq!(trades.len(), 2, "{trades:?}");
    // Sold at the model price at the open of 3 March (underlying 601), less slippage.
    let model = FillModel::default();
    let option = OptionContract {
        underlying: "SPY".into(),
        expiry: chrono::NaiveDate::from_ymd_opt(2026, 3, 20).unwrap(),
        right: crate::domain::OptionRight::Call,
        strike: dec!(610),
    };
    let sold = model.option_price(&option, dec!(601), t0() + Duration::days(1)) - dec!(0.01);
    assert_eq!(
        (trades[0].side, trades[0].price, trades[0].commission),
        (OrderSide::Sell, sold, dec!(1.30))
    );
    // Settled at the close of its expiry date's bar (18 days in: close 619): 9 a share.
    let expiry = &trades[1];
    assert_eq!(
        (
            expiry.intent_id,
            expiry.side,
            expiry.quantity,
            expiry.price,
            expiry.tag.as_str()
        ),
        (0, OrderSide::Buy, dec!(2), dec!(9), EXPIRY_TAG)
    );
    assert_eq!(expiry.time, t0() + Duration::days(18));
    assert!(
        report.console.contains(&"fill 0 BUY 2 @ 9".to_owned()),
        "{:?}",
        report.console
    );
    // Premium in, intrinsic out, times 100, less commission; flat from then on.
    let net = (sold - dec!(9)) * dec!(200) - dec!(1.30);
    assert_eq!(report.stats.net_pnl, net);
    assert_eq!(report.equity.last().unwrap().1, dec!(10000) + net);
}

#[test]
fn a_sweep_keeps_its_order_and_survives_a_faulting_run() {
    let source = "fn params() { #{ bad: false, qty: 1 } }\n\
                  fn on_bar(ctx, bar) { if params.bad { loop { } } ctx.buy(bar.symbol, params.qty); }";
    let (engine, script, base) = compile(source);
    let sets = grid(
        &base,
        &[
            (
                "bad".into(),
                vec![ParamValue::Bool(false), ParamValue::Bool(true)],
            ),
            ("qty".into(), vec![ParamValue::Int(1), ParamValue::Int(2)]),
        ],
    );
    assert_eq!(sets.len(), 4);
    let results = sweep(
        engine.clone(),
        script.clone(),
        sets.clone(),
        &flat(Duration::days(1), 20),
        &FillModel::default(),
        dec!(10000),
        3,
    );
    assert_eq!(
        results.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>(),
        sets
    );
    let trades: Vec<Option<usize>> = results
        .iter()
        .map(|(_, r)| r.as_ref().ok().map(|r| r.trades.len()))
        .collect();
    assert_eq!(trades, [Some(19), Some(19), None, None]);
    let quantities: Vec<Decimal> = results[1]
        .1
        .as_ref()
        .unwrap()
        .trades
        .iter()
        .map(|t| t.quantity)
        .collect();
    assert!(quantities.iter().all(|q| *q == dec!(2)));
    for (_, result) in &results[2..] {
        let Err(BacktestError::Fault { fault, .. }) = result else {
            panic!("{result:?}");
        };
        assert_eq!(fault.hook, "on_bar");
    }
    // A sweep gives what the same runs give one at a time.
    let alone = backtest(
        engine,
        script,
        sets[1].clone(),
        &flat(Duration::days(1), 20),
        &FillModel::default(),
        dec!(10000),
    )
    .unwrap();
    assert_eq!(results[1].1.as_ref().unwrap(), &alone);
}
