//! Strategy scripts on paper against the simulator, through the real session, risk gate and
//! audit: what they trade, what a fault does to their working orders, the live grant tied to
//! the script's text, and state kept across a restart.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use sqlx::PgPool;
use tickwork_core::domain::OrderSide;
use tickwork_core::scripting::host::{
    Feed, HostEvent, InstanceStatus, RunMode, RunRequest, StrategyHost,
};
use tickwork_core::scripting::strategy::{ScriptBar, StrategyScript, params};
use tickwork_core::scripting::strategy_engine;
use tickwork_core::store::{audit, script_runs};
use tickwork_e2e::{Workbench, bounded, cancelled_at_the_simulator};
use tickwork_sim::SimHandle;
use tokio::sync::broadcast;

/// A live session on a fresh simulator with its first account armed, and a strategy host.
async fn paper_host(pool: &PgPool, client_id: i32) -> (SimHandle, Workbench, StrategyHost, String) {
    let (sim, bench, deps, account) = tickwork_e2e::paper_deps(pool, client_id).await;
    let host = StrategyHost::new(Arc::new(strategy_engine()), deps);
    (sim, bench, host, account)
}

fn compile(name: &str, source: &str) -> Arc<StrategyScript> {
    Arc::new(StrategyScript::compile(&strategy_engine(), name, source).unwrap())
}

/// Daily bars: down, up, down, so a moving-average cross trades both ways.
fn bars(symbol: &str) -> Vec<ScriptBar> {
    let closes = [
        100, 99, 98, 97, 96, 95, 96, 98, 100, 102, 104, 106, 105, 103, 100, 97, 95, 94, 96, 99,
    ];
    closes
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let close = Decimal::from(*c);
            ScriptBar {
                symbol: symbol.into(),
                time: Utc.with_ymd_and_hms(2026, 2, 2, 21, 0, 0).unwrap()
                    + chrono::Duration::days(i as i64),
                open: close,
                high: close + dec!(0.5),
                low: close - dec!(0.5),
                close,
                volume: dec!(10000),
            }
        })
        .collect()
}

/// Four bars at the simulator's current price (limit orders must be within the gate's collar).
fn near_market(sim: &SimHandle, symbol: &str) -> Vec<ScriptBar> {
    let last = sim.stock_quote(symbol).unwrap().last;
    let last = Decimal::try_from(last).unwrap().round_dp(2);
    bars(symbol)[..4]
        .iter()
        .map(|b| ScriptBar {
            open: last,
            high: last,
            low: last,
            close: last,
            ..b.clone()
        })
        .collect()
}

/// Waits for the instance's final status, collecting its console.
async fn final_status(
    events: &mut broadcast::Receiver<HostEvent>,
    id: &str,
) -> (InstanceStatus, Option<String>, Vec<String>) {
    let mut console = Vec::new();
    bounded("strategy ends", async {
        loop {
            match events.recv().await {
                Ok(HostEvent::Console { instance, line }) if instance == id => console.push(line),
                Ok(HostEvent::Status {
                    instance,
                    status,
                    detail,
                }) if instance == id && status != InstanceStatus::Running => {
                    return (status, detail, console);
                }
                Ok(_) => {}
                Err(e) => panic!("host events: {e}"),
            }
        }
    })
    .await
}

/// What the script's orders were, from the audit trail: (side, quantity) in order.
async fn script_orders(pool: &PgPool, script: &str) -> Vec<(String, String)> {
    let rows: Vec<(serde_json::Value,)> = sqlx::query_as(
        "SELECT details FROM audit_log WHERE actor = $1 AND action = 'order.intent' \
         AND decision = 'allowed' ORDER BY id",
    )
    .bind(format!("script:{script}"))
    .fetch_all(pool)
    .await
    .unwrap();
    rows.into_iter()
        .map(|(d,)| {
            (
                d["side"].as_str().unwrap_or("?").to_owned(),
                d["quantity"].to_string(),
            )
        })
        .collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn sma_cross_on_paper_trades_each_cross_through_the_gate(pool: PgPool) {
    let (sim, bench, host, account) = paper_host(&pool, 81).await;
    let script = compile("sma_cross", include_str!("../scripts/sma_cross.rhai"));
    let overrides = ["fast=3", "slow=5", "qty=10"];
    let (status, _, console) = run_to_end(&host, script, &overrides, &account, bars("MSFT")).await;
    assert_eq!(status, InstanceStatus::Stopped, "{console:#?}");
    // Three crosses in these bars: up, down, up.
    let fills: Vec<&String> = console.iter().filter(|l| l.contains(" @ ")).collect();
    assert_eq!(fills.len(), 3, "{console:#?}");
    for (fill, side) in fills
        .iter()
        .zip(["BUY 10 MSFT", "SELL 10 MSFT", "BUY 10 MSFT"])
    {
        assert!(fill.contains(side), "{fills:?}");
    }
    let sides: Vec<String> = script_orders(&pool, "sma_cross")
        .await
        .into_iter()
        .map(|o| o.0)
        .collect();
    assert_eq!(sides, ["BUY", "SELL", "BUY"]);
    // The simulator holds what the script kept (positions stay when a strategy stops).
    let truth = tickwork_e2e::truth(&sim, 181).await;
    assert!(
        truth
            .positions
            .iter()
            .any(|(_, s, q)| s == "MSFT" && *q == dec!(10)),
        "{truth:?}"
    );
    bench.stop().await;
    sim.shutdown().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_fault_cancels_the_working_orders_and_names_the_line(pool: PgPool) {
    let (sim, bench, host, account) = paper_host(&pool, 82).await;
    let resting = compile(
        "resting",
        "fn on_bar(ctx, bar) {\n    if state.placed == () { state.placed = 1; }\n    else { let boom = bar.nope; }\n}",
    );
    // `state.placed` was never declared: reading it is the fault, at the first bar.
    let (status, detail, _) =
        run_to_end(&host, resting, &[], &account, bars("MSFT")[..3].to_vec()).await;
    assert_eq!(status, InstanceStatus::Faulted);
    let detail = detail.unwrap();
    assert!(
        detail.contains("2:") && detail.contains("on_bar"),
        "{detail}"
    );
    let row = script_runs::get(&pool, "resting", &account, RunMode::Paper)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, script_runs::InstanceStatus::Faulted);

    // A script that rests an order and then faults: the order is cancelled at the simulator.
    let faulty = compile(
        "faulty",
        "state.n = 0;\nfn on_bar(ctx, bar) {\n    state.n += 1;\n    if state.n == 1 { ctx.buy_limit(bar.symbol, 5, (bar.close * 0.97).round(2)); }\n    if state.n == 2 { let x = 1 / 0; }\n}",
    );
    let (status, detail, console) =
        run_to_end(&host, faulty, &[], &account, near_market(&sim, "MSFT")).await;
    assert_eq!(status, InstanceStatus::Faulted, "{console:#?}");
    let detail = detail.unwrap();
    assert!(detail.starts_with("faulty: 5:"), "{detail}");
    assert!(
        detail.ends_with("; 1 working order(s) cancelled"),
        "{detail}"
    );
    cancelled_at_the_simulator(&sim, "MSFT").await;
    // The audit trail has the script's order and its cancel.
    let filter = audit::AuditFilter {
        origin: Some("script:faulty".into()),
        limit: 100,
        ..Default::default()
    };
    let actions: Vec<String> = audit::filtered(&pool, &filter)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(actions.iter().any(|a| a.contains("cancel")), "{actions:?}");
    bench.stop().await;
    sim.shutdown().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn live_needs_a_grant_for_exactly_this_text_and_state_survives_a_restart(pool: PgPool) {
    let (sim, bench, host, account) = paper_host(&pool, 83).await;
    let source = "state.bars = 0;\nfn on_bar(ctx, bar) { state.bars += 1; }\nfn on_stop(ctx) { print(`saw ${state.bars} bars`); }";
    let script = compile("counter", source);
    let request = |script: Arc<StrategyScript>, bars: Vec<ScriptBar>| RunRequest {
        params: params::resolve(&script.params, &[]).unwrap(),
        script,
        account: account.clone(),
        mode: RunMode::Live,
        symbols: vec!["MSFT".into()],
        feed: Feed::Replay { bars },
    };
    let err = host
        .start(request(script.clone(), bars("MSFT")))
        .await
        .unwrap_err();
    assert!(
        err.contains("may not trade") && err.contains(&script.content_sha256[..12]),
        "{err}"
    );
    script_runs::grant(&pool, "counter", &account, &script.content_sha256, "test")
        .await
        .unwrap();
    let mut events = host.events();
    let id = host
        .start(request(script.clone(), bars("MSFT")[..3].to_vec()))
        .await
        .unwrap();
    let (status, _, console) = final_status(&mut events, &id).await;
    assert_eq!(status, InstanceStatus::Stopped);
    assert!(console.iter().any(|l| l == "saw 3 bars"), "{console:#?}");
    // Again: the saved state goes on.
    let id = host
        .start(request(script.clone(), bars("MSFT")[3..5].to_vec()))
        .await
        .unwrap();
    let (_, _, console) = final_status(&mut events, &id).await;
    assert!(
        console
            .iter()
            .any(|l| l == "state restored from the last run"),
        "{console:#?}"
    );
    assert!(console.iter().any(|l| l == "saw 5 bars"), "{console:#?}");
    // An edited script asks again.
    let edited = compile("counter", &format!("{source}\n// tuned"));
    let err = host.start(request(edited, bars("MSFT"))).await.unwrap_err();
    assert!(err.contains("changed since you allowed it"), "{err}");
    bench.stop().await;
    sim.shutdown().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_denied_order_reaches_on_order_with_the_rule(pool: PgPool) {
    let (sim, bench, host, account) = paper_host(&pool, 84).await;
    bench.router.disarm(&account, "ui").await.unwrap();
    let script = compile(
        "denied",
        "fn on_bar(ctx, bar) { ctx.buy(bar.symbol, 1); }\nfn on_order(ctx, u) { print(`${u.id} ${u.status}: ${u.reason}`); }",
    );
    let (_, _, console) =
        run_to_end(&host, script, &[], &account, bars("MSFT")[..1].to_vec()).await;
    assert!(
        console
            .iter()
            .any(|l| l.starts_with("1 denied: ") && l.contains("armed")),
        "{console:#?}"
    );
    assert!(sim.orders().is_empty());
    bench.stop().await;
    sim.shutdown().await;
}

/// Bars at the simulator's price, dated today (option expiries are relative to the bar date).
fn today_at_market(sim: &SimHandle, symbol: &str, moves: &[Decimal]) -> Vec<ScriptBar> {
    let last = Decimal::try_from(sim.stock_quote(symbol).unwrap().last)
        .unwrap()
        .round_dp(2);
    let start = Utc::now() - chrono::Duration::minutes(moves.len() as i64 + 1);
    moves
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let close = (last * (Decimal::ONE + m / dec!(100))).round_dp(2);
            ScriptBar {
                symbol: symbol.into(),
                time: start + chrono::Duration::minutes(i as i64),
                open: close,
                high: close,
                low: close,
                close,
                volume: dec!(1000),
            }
        })
        .collect()
}

async fn run_to_end(
    host: &StrategyHost,
    script: Arc<StrategyScript>,
    overrides: &[&str],
    account: &str,
    bars: Vec<ScriptBar>,
) -> (InstanceStatus, Option<String>, Vec<String>) {
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    let mut events = host.events();
    let symbol = bars[0].symbol.clone();
    let id = host
        .start(RunRequest {
            params: params::resolve(&script.params, &overrides).unwrap(),
            script,
            account: account.to_owned(),
            mode: RunMode::Paper,
            symbols: vec![symbol],
            feed: Feed::Replay { bars },
        })
        .await
        .unwrap();
    final_status(&mut events, &id).await
}

#[sqlx::test(migrations = "../migrations")]
async fn a_backtest_and_a_paper_run_of_the_same_bars_make_the_same_trades(pool: PgPool) {
    use tickwork_core::scripting::backtest::{FillModel, backtest};
    let (sim, bench, host, account) = paper_host(&pool, 85).await;
    let script = compile("sma_cross", include_str!("../scripts/sma_cross.rhai"));
    let overrides = ["fast=3", "slow=5", "qty=10"];
    // One quiet bar more, so the backtest fills the last decision (at the next bar's open).
    let mut bars = bars("MSFT");
    let mut last = bars.last().unwrap().clone();
    last.time += chrono::Duration::days(1);
    bars.push(last);
    let resolved = params::resolve(&script.params, &overrides.map(String::from)).unwrap();
    let report = backtest(
        Arc::new(strategy_engine()),
        script.clone(),
        resolved,
        &bars,
        &FillModel::default(),
        dec!(100000),
    )
    .unwrap();
    let tested: Vec<(i64, OrderSide, Decimal)> = report
        .trades
        .iter()
        .map(|t| (t.intent_id, t.side, t.quantity))
        .collect();
    let (status, _, console) = run_to_end(&host, script, &overrides, &account, bars).await;
    assert_eq!(status, InstanceStatus::Stopped, "{console:#?}");
    // What the paper run sent and had filled, by intent id: "#1 BUY 10 MSFT MKT sent as …".
    let papered: Vec<(i64, OrderSide, Decimal)> = console
        .iter()
        .filter_map(|l| {
            let rest = l.strip_prefix('#')?;
            let mut words = rest.split(' ');
            let id = words.next()?.parse().ok()?;
            let side = match words.next()? {
                "BUY" => OrderSide::Buy,
                "SELL" => OrderSide::Sell,
                _ => return None,
            };
            let quantity = words.next()?.parse().ok()?;
            l.contains(" sent as ").then_some((id, side, quantity))
        })
        .collect();
    assert!(!tested.is_empty());
    assert_eq!(papered, tested, "paper run vs backtest of the same bars");
    let fills = console.iter().filter(|l| l.contains(" @ ")).count();
    assert_eq!(fills, tested.len(), "{console:#?}");
    bench.stop().await;
    sim.shutdown().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn bollinger_reversion_on_paper_rests_its_entry_and_cancels_it_on_stop(pool: PgPool) {
    let (sim, bench, host, account) = paper_host(&pool, 86).await;
    let script = compile(
        "bollinger_reversion",
        include_str!("../scripts/bollinger_reversion.rhai"),
    );
    // Quiet bars, then a close 2 % under the others: below the lower band at 1.5 deviations.
    let moves = [
        dec!(0.2),
        dec!(-0.2),
        dec!(0.1),
        dec!(-0.1),
        dec!(0),
        dec!(-2),
    ];
    let bars = today_at_market(&sim, "MSFT", &moves);
    let (status, detail, console) = run_to_end(
        &host,
        script,
        &["period=5", "width=1.5", "qty=3"],
        &account,
        bars,
    )
    .await;
    assert_eq!(status, InstanceStatus::Stopped, "{console:#?}");
    assert!(
        console
            .iter()
            .any(|l| l.starts_with("#1 BUY 3 MSFT LMT sent as ")),
        "{console:#?}"
    );
    // The entry rests under the market; stopping cancels it at the simulator.
    assert_eq!(detail.as_deref(), Some("1 working order(s) cancelled"));
    cancelled_at_the_simulator(&sim, "MSFT").await;
    bench.stop().await;
    sim.shutdown().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn covered_call_on_paper_buys_the_shares_and_writes_a_listed_call(pool: PgPool) {
    let (sim, bench, host, account) = paper_host(&pool, 87).await;
    let script = compile("covered_call", include_str!("../scripts/covered_call.rhai"));
    let bars = today_at_market(&sim, "MSFT", &[dec!(0), dec!(0.1), dec!(0.2)]);
    let (status, _, console) = run_to_end(&host, script, &["lots=1"], &account, bars).await;
    assert_eq!(status, InstanceStatus::Stopped, "{console:#?}");
    let fills: Vec<&String> = console.iter().filter(|l| l.contains(" @ ")).collect();
    assert_eq!(fills.len(), 2, "{console:#?}");
    assert!(fills[0].contains("BUY 100 MSFT @"), "{fills:?}");
    assert!(
        fills[1].contains("SELL 1 MSFT 20") && fills[1].contains(" C "),
        "{fills:?}"
    );
    // The simulator holds the stock and the short call.
    let truth = tickwork_e2e::truth(&sim, 187).await;
    assert!(
        truth
            .positions
            .iter()
            .any(|(_, s, q)| s == "MSFT" && *q == dec!(-1)),
        "{truth:?}"
    );
    bench.stop().await;
    sim.shutdown().await;
}
