//! The instance on its own: the examples compile, hooks run in order, faults stop one
//! instance with the error at its line, state survives a save and a restore.

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::*;
use crate::domain::OrderSide;
use crate::scripting::strategy_engine;

fn engine() -> Arc<rhai::Engine> {
    Arc::new(strategy_engine())
}

fn bar(i: i64, close: Decimal) -> ScriptBar {
    ScriptBar {
        symbol: "SPY".into(),
        time: Utc.with_ymd_and_hms(2026, 1, 5, 14, 30, 0).unwrap() + Duration::days(i),
        open: close,
        high: close + dec!(1),
        low: close - dec!(1),
        close,
        volume: dec!(1000),
    }
}

fn start(source: &str, overrides: &[&str]) -> (StrategyInstance, Output) {
    let engine = engine();
    let script = Arc::new(StrategyScript::compile(&engine, "test", source).unwrap());
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    let params = params::resolve(&script.params, &overrides).unwrap();
    let (mut instance, output) =
        StrategyInstance::start(engine, script, params, bar(0, dec!(1)).time, None).unwrap();
    // Generous, so that the operation and size limits are what stops the test scripts.
    instance.set_deadline(std::time::Duration::from_secs(20));
    (instance, output)
}

#[test]
fn every_example_compiles_with_its_hooks() {
    let engine = strategy_engine();
    for (name, source) in [
        (
            "sma_cross",
            include_str!("../../../../../scripts/sma_cross.rhai"),
        ),
        (
            "bollinger_reversion",
            include_str!("../../../../../scripts/bollinger_reversion.rhai"),
        ),
        (
            "covered_call",
            include_str!("../../../../../scripts/covered_call.rhai"),
        ),
    ] {
        let script = StrategyScript::compile(&engine, name, source)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(script.hooks.on_bar, "{name}");
        assert!(script.warnings.is_empty(), "{name}: {:?}", script.warnings);
        assert!(!script.params.is_empty(), "{name}");
    }
}

#[test]
fn sma_cross_buys_on_the_cross_up_and_sells_on_the_cross_down() {
    let source = include_str!("../../../../../scripts/sma_cross.rhai");
    let (mut instance, output) = start(source, &["fast=2", "slow=3", "qty=10"]);
    assert!(
        output.console[0].contains("fast 2, slow 3"),
        "{:?}",
        output.console
    );
    let closes = [10, 9, 8, 7, 9, 11, 12, 10, 8, 6];
    let mut placed = Vec::new();
    for (i, close) in closes.iter().enumerate() {
        let out = instance
            .on_bar(bar(i as i64, Decimal::from(*close)))
            .unwrap();
        for intent in out.intents {
            if let Intent::Place(order) = intent {
                // Filled at once, so the next decision sees the position.
                instance
                    .on_fill(ScriptFill {
                        intent_id: order.intent_id,
                        symbol: order.symbol.clone(),
                        side: order.side,
                        quantity: order.quantity,
                        price: Decimal::from(*close),
                        commission: Decimal::ZERO,
                        time: bar(i as i64, dec!(1)).time,
                    })
                    .unwrap();
                placed.push((i, order.side, order.quantity));
            }
        }
    }
    assert_eq!(
        placed,
        [
            (5, OrderSide::Buy, dec!(10)),
            (8, OrderSide::Sell, dec!(10))
        ]
    );
    assert_eq!(instance.book().position("SPY").quantity, Decimal::ZERO);
}

#[test]
fn a_fault_stops_the_instance_with_its_line_and_keeps_others_going() {
    let source = "fn on_bar(ctx, bar) {\n  if bar.close > 5 {\n    let x = bar.nope;\n  }\n}";
    let (mut broken, _) = start(source, &[]);
    // The production budget stops an endless loop whatever the build's speed.
    let (mut looping, _) = start("fn on_bar(ctx, bar) { loop {} }", &[]);
    looping.set_deadline(crate::scripting::DEADLINE);
    let fault = looping.on_bar(bar(0, dec!(1))).unwrap_err();
    assert!(
        fault.error.message.starts_with("in `on_bar`: stopped:"),
        "{fault}"
    );
    let (mut healthy, _) = start("fn on_bar(ctx, bar) { ctx.buy(bar.symbol, 1); }", &[]);
    assert!(broken.on_bar(bar(0, dec!(1))).is_ok());
    let fault = broken.on_bar(bar(1, dec!(6))).unwrap_err();
    assert_eq!(
        (fault.error.line, fault.hook.as_str()),
        (Some(3), "on_bar"),
        "{fault}"
    );
    assert!(
        fault.to_string().contains("the strategy is stopped"),
        "{fault}"
    );
    assert!(
        broken.on_bar(bar(2, dec!(1))).is_err(),
        "no more hooks after a fault"
    );
    assert_eq!(healthy.on_bar(bar(2, dec!(1))).unwrap().intents.len(), 1);
    for (source, expected) in [
        ("fn on_bar(ctx, bar) { loop {} }", "too many operations"),
        (
            "fn f(n) { f(n + 1) }\nfn on_bar(ctx, bar) { f(0) }",
            "nested too deeply",
        ),
        (
            "fn on_bar(ctx, bar) { let s = \"x\"; loop { s += s; } }",
            "too large",
        ),
        (
            "fn on_bar(ctx, bar) { let a = []; loop { a.push(1); } }",
            "too large",
        ),
        (
            "fn on_bar(ctx, bar) { ctx.buy(bar.symbol, 0); }",
            "quantity must be positive",
        ),
        (
            "fn on_bar(ctx, bar) { ctx.buy(\"not a symbol!\", 1); }",
            "is not a symbol",
        ),
        ("fn on_bar(ctx, bar) { bar.close = 1.0; }", "close"),
    ] {
        let (mut instance, _) = start(source, &[]);
        let fault = instance.on_bar(bar(0, dec!(1))).unwrap_err();
        assert!(fault.error.message.contains(expected), "{source}: {fault}");
    }
}

#[test]
fn decimals_are_exact_in_hooks() {
    let (mut instance, _) = start(
        "fn on_bar(ctx, bar) { if 0.1 + 0.2 == 0.3 { ctx.buy_limit(bar.symbol, 3, bar.close * 0.05); } }",
        &[],
    );
    let out = instance.on_bar(bar(0, dec!(4210.25))).unwrap();
    let Intent::Place(order) = &out.intents[0] else {
        panic!("{out:?}")
    };
    assert_eq!(order.limit, Some(dec!(210.5125)));
}

#[test]
fn state_survives_save_and_restore_with_the_same_script_only() {
    let source = "state.n = 0; state.avg = ta::sma(2); state.px = 1.5;\n\
                  fn on_bar(ctx, bar) { state.n += 1; state.last = state.avg.update(bar.close); }";
    let (mut first, _) = start(source, &[]);
    first.on_bar(bar(0, dec!(10))).unwrap();
    let saved = first.snapshot().unwrap();
    let engine = engine();
    let script = Arc::new(StrategyScript::compile(&engine, "test", source).unwrap());
    let params = params::resolve(&script.params, &[]).unwrap();
    let (mut second, out) = StrategyInstance::start(
        engine.clone(),
        script,
        params.clone(),
        bar(1, dec!(1)).time,
        Some(&saved),
    )
    .unwrap();
    assert!(
        out.console.iter().any(|l| l.contains("state restored")),
        "{out:?}"
    );
    second.on_bar(bar(1, dec!(12))).unwrap();
    let state = second.snapshot().unwrap().state;
    assert_eq!(state["n"], serde_json::json!(2));
    assert_eq!(state["last"], serde_json::json!({"$decimal": "11"}));
    assert_eq!(state["px"], serde_json::json!({"$decimal": "1.5"}));
    let edited = Arc::new(
        StrategyScript::compile(&engine, "test", &format!("{source}\n// edited")).unwrap(),
    );
    let (_, out) =
        StrategyInstance::start(engine, edited, params, bar(1, dec!(1)).time, Some(&saved))
            .unwrap();
    assert!(
        out.console.iter().any(|l| l.contains("not restored")),
        "{out:?}"
    );
}

#[test]
fn the_covered_call_writes_a_call_once_it_holds_the_shares() {
    let source = include_str!("../../../../../scripts/covered_call.rhai");
    let (mut instance, _) = start(source, &[]);
    let out = instance.on_bar(bar(0, dec!(600))).unwrap();
    let Intent::Place(buy) = &out.intents[0] else {
        panic!("{out:?}")
    };
    assert_eq!((buy.symbol.as_str(), buy.quantity), ("SPY", dec!(100)));
    instance
        .on_fill(ScriptFill {
            intent_id: buy.intent_id,
            symbol: "SPY".into(),
            side: OrderSide::Buy,
            quantity: dec!(100),
            price: dec!(600),
            commission: Decimal::ZERO,
            time: bar(0, dec!(1)).time,
        })
        .unwrap();
    let out = instance.on_bar(bar(1, dec!(600))).unwrap();
    let Intent::Place(call) = &out.intents[0] else {
        panic!("{out:?}")
    };
    // 5 % above 600 is 630; the first monthly expiry 25 days after 2026-01-06 is 2026-02-20.
    assert_eq!(call.symbol, "SPY 20260220 C 630");
    assert_eq!((call.side, call.quantity), (OrderSide::Sell, dec!(1)));
}
