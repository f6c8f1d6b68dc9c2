//! Plugin strategies on paper against the simulator, through the real session, risk gate and
//! audit, driven through the ABI tables: a strategy table written here with `extern "C"`
//! functions (the path a loaded library takes, without `dlopen`), calling the host's real
//! service tables. What it trades, what a fault or a hang does to its working orders, and a
//! trade beyond its permission.

use std::ffi::c_void;
use std::sync::Mutex;
use std::time::Duration;

use rust_decimal::Decimal;
use sqlx::PgPool;
use tickwork_core::plugins::capability::{HostApiRef, PluginStrategy, Provider, StrategyTable};
use tickwork_core::plugins::permissions::Permissions;
use tickwork_core::plugins::services::{self, decimal_from_abi, decimal_to_abi};
use tickwork_core::plugins::strategy::{
    PluginStrategies, PluginStrategyEvent, PluginStrategyStatus,
};
use tickwork_core::store::audit;
use tickwork_core::store::script_runs::RunMode;
use tickwork_e2e::plugins::{final_status, paper_manager, plugin_env, trusted_bundle};
use tickwork_e2e::{cancelled_at_the_simulator, eventually};
use tickwork_plugin_api::abi::*;

// ---------------------------------------------------------------------------------------------
// A strategy written against the C ABI. Its behaviour comes from its parameters:
// `{"tag": "...", "act": "buy" | "rest_then_panic" | "rest_then_bad_status" | "rest_then_busy"}`.
// What it sees is written to `SEEN` under its tag.

static SEEN: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

fn seen(tag: &str, line: String) {
    SEEN.lock().unwrap().push((tag.to_owned(), line));
}

fn lines(tag: &str) -> Vec<String> {
    SEEN.lock()
        .unwrap()
        .iter()
        .filter(|(t, _)| t == tag)
        .map(|(_, l)| l.clone())
        .collect()
}

struct Probe {
    tag: String,
    act: String,
    ctx: *mut TwInstanceCtx,
    orders: *const TwHostOrdersV1,
    instrument: u32,
    submitted: bool,
    /// Its order passed the gate: the next tick does what `act` says.
    armed: bool,
}

fn tw_str(s: &str) -> TwStr {
    TwStr {
        ptr: s.as_ptr(),
        len: s.len(),
    }
}

unsafe extern "C" fn probe_create(
    host: *const TwHostApi,
    ctx: *mut TwInstanceCtx,
    params: TwStr,
) -> *mut TwInstance {
    // SAFETY: the host passes its table and the parameters, valid for the call.
    let (host, params) = unsafe {
        (
            &*host,
            std::str::from_utf8(std::slice::from_raw_parts(params.ptr, params.len)).unwrap(),
        )
    };
    let params: serde_json::Value = serde_json::from_str(params).unwrap();
    let tag = params["tag"].as_str().unwrap().to_owned();
    let get = host.get_service.unwrap();
    // SAFETY: the host's own context and static ids.
    let (orders, market) = unsafe {
        (
            get(host.ctx, tw_str(TW_SVC_ORDERS_V1)).cast::<TwHostOrdersV1>(),
            get(host.ctx, tw_str(TW_SVC_MARKET_DATA_V1)).cast::<TwHostMarketDataV1>(),
        )
    };
    let mut instrument = 0;
    // SAFETY: the market data table the host handed out, with our context.
    let status = unsafe {
        ((*market).subscribe.unwrap())(ctx, tw_str("MSFT"), TW_MD_TICKS, 0, &mut instrument)
    };
    seen(
        &tag,
        format!("create {status} orders={}", !orders.is_null()),
    );
    let probe = Probe {
        tag,
        act: params["act"].as_str().unwrap().to_owned(),
        ctx,
        orders,
        instrument,
        submitted: false,
        armed: false,
    };
    Box::into_raw(Box::new(probe)).cast()
}

unsafe extern "C" fn probe_on_event(this: *mut TwInstance, ev: *const TwEventHeader) -> TwStatus {
    // SAFETY: our own instance, and an event valid for the call.
    let (probe, header) = unsafe { (&mut *this.cast::<Probe>(), &*ev) };
    match header.kind {
        TW_EV_TICK => {
            // SAFETY: the kind says it is a tick event.
            let tick = unsafe { &*ev.cast::<TwTickEvent>() };
            if tick.header.flags & TW_TICK_HAS_LAST == 0 {
                return TW_OK;
            }
            let last = decimal_from_abi(&tick.last).unwrap();
            if !probe.submitted {
                probe.submitted = true;
                if probe.orders.is_null() {
                    seen(&probe.tag, "no orders table".into());
                    return TW_OK;
                }
                let (order_type, limit) = if probe.act == "buy" {
                    (TW_ORDER_MARKET, Decimal::ZERO)
                } else {
                    // Resting under the market, within the gate's price collar.
                    (TW_ORDER_LIMIT, (last * Decimal::new(97, 2)).round_dp(2))
                };
                let intent = TwOrderIntent {
                    struct_size: size_of::<TwOrderIntent>() as u32,
                    side: TW_SIDE_BUY,
                    order_type,
                    time_in_force: TW_TIF_DAY,
                    instrument_id: probe.instrument,
                    _pad: 0,
                    quantity: decimal_to_abi(Decimal::ONE),
                    limit_price: decimal_to_abi(limit),
                    stop_price: decimal_to_abi(Decimal::ZERO),
                    tag: tw_str("probe"),
                };
                let mut id = 0;
                // SAFETY: the orders table the host handed out, our context, a local intent.
                let status =
                    unsafe { ((*probe.orders).submit.unwrap())(probe.ctx, &intent, &mut id) };
                seen(&probe.tag, format!("submit {status} {id}"));
            } else if probe.armed {
                match probe.act.as_str() {
                    // What the SDK's guard answers when the strategy panicked.
                    "rest_then_panic" => return TW_ERR_PANICKED,
                    "rest_then_bad_status" => return 42,
                    "rest_then_busy" => {
                        seen(&probe.tag, "busy".into());
                        std::thread::sleep(Duration::from_secs(3));
                        seen(&probe.tag, "woke".into());
                    }
                    _ => {}
                }
            }
        }
        TW_EV_ORDER => {
            // SAFETY: the kind says it is an order event; its reason is valid for the call.
            let (order, reason) = unsafe {
                let order = &*ev.cast::<TwOrderEvent>();
                let reason = std::slice::from_raw_parts(order.reason.ptr, order.reason.len);
                (order, String::from_utf8_lossy(reason).into_owned())
            };
            if order.status == TW_ORDER_SUBMITTED {
                probe.armed = true;
            }
            let filled = decimal_from_abi(&order.filled).unwrap();
            seen(
                &probe.tag,
                format!(
                    "order {} {} {filled} {reason}",
                    order.intent_id, order.status
                ),
            );
        }
        TW_EV_FILL => {
            // SAFETY: the kind says it is a fill event.
            let fill = unsafe { &*ev.cast::<TwFillEvent>() };
            let quantity = decimal_from_abi(&fill.quantity).unwrap();
            let price = decimal_from_abi(&fill.price).unwrap();
            let line = format!(
                "fill {} {} {quantity} {}",
                fill.intent_id,
                fill.side,
                price > Decimal::ZERO
            );
            seen(&probe.tag, line);
        }
        other => seen(&probe.tag, format!("unknown {other}")),
    }
    TW_OK
}

unsafe extern "C" fn probe_destroy(this: *mut TwInstance) {
    // SAFETY: our own instance, made by `probe_create`; no call follows.
    let probe = unsafe { Box::from_raw(this.cast::<Probe>()) };
    seen(&probe.tag, "destroy".into());
}

// The host table a loaded plugin gets, with its permissions behind the context.

unsafe extern "C" fn host_log(_ctx: *mut TwHostCtx, _level: u32, _msg: TwStr) {}

unsafe extern "C" fn host_get_service(ctx: *mut TwHostCtx, id: TwStr) -> *const c_void {
    // SAFETY: the context is the leaked `Permissions` below; the id is valid for the call.
    let (permissions, id) = unsafe {
        (
            &*ctx.cast::<Permissions>(),
            std::str::from_utf8(std::slice::from_raw_parts(id.ptr, id.len)).unwrap_or(""),
        )
    };
    services::table(id, permissions)
}

/// The probe as a loaded plugin `plugin_id` with these permissions.
fn probe(plugin_id: &str, permissions: Permissions) -> PluginStrategy {
    let ctx = Box::leak(Box::new(permissions.clone()));
    let host = Box::leak(Box::new(TwHostApi {
        struct_size: size_of::<TwHostApi>() as u32,
        abi_major: TW_ABI_MAJOR,
        abi_minor: TW_ABI_MINOR,
        ctx: (ctx as *mut Permissions).cast(),
        host_version: tw_str("test"),
        log: Some(host_log),
        get_service: Some(host_get_service),
    }));
    let type_id: &'static str = Box::leak(format!("{plugin_id}.probe").into_boxed_str());
    PluginStrategy {
        provider: Provider {
            plugin_id: plugin_id.into(),
            plugin_version: "1.0.0".into(),
            permissions,
        },
        type_id: type_id.into(),
        table: StrategyTable(TwStrategyV1 {
            struct_size: size_of::<TwStrategyV1>() as u32,
            _reserved: 0,
            type_id: tw_str(type_id),
            create: Some(probe_create),
            on_event: Some(probe_on_event),
            destroy: Some(probe_destroy),
        }),
        host: HostApiRef(host),
    }
}

fn trader() -> Permissions {
    Permissions {
        market_data: true,
        orders_paper: true,
        ..Permissions::default()
    }
}

/// Waits until the probe `tag` has seen a line starting with `prefix`.
async fn sees(tag: &str, prefix: &str) {
    let (tag, prefix) = (tag.to_owned(), prefix.to_owned());
    eventually(&format!("{tag} sees `{prefix}`"), || {
        let found = lines(&tag).iter().any(|l| l.starts_with(&prefix));
        async move { found.then_some(()) }
    })
    .await;
}

async fn start(
    manager: &PluginStrategies,
    plugin_id: &str,
    permissions: Permissions,
    act: &str,
    account: &str,
) -> String {
    let params = serde_json::json!({ "tag": plugin_id, "act": act }).to_string();
    manager
        .start(
            probe(plugin_id, permissions),
            &params,
            account,
            RunMode::Paper,
        )
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_plugin_strategy_trades_on_paper_through_the_gate_and_hears_its_fill(pool: PgPool) {
    let (sim, bench, manager, account) = paper_manager(&pool, 91).await;
    let mut events = manager.events();
    let tag = "org.test.trader";
    let name = start(&manager, tag, trader(), "buy", &account).await;
    assert_eq!(name, format!("{tag}/probe@{account}/paper"));
    assert_eq!(manager.list()[0].plugin_id, tag);
    sees(tag, &format!("order 1 {TW_ORDER_FILLED} 1")).await;
    let seen = lines(tag);
    assert_eq!(seen[0], "create 0 orders=true");
    assert!(seen.contains(&"submit 0 1".to_owned()), "{seen:#?}");
    assert!(
        seen.contains(&format!("order 1 {TW_ORDER_SUBMITTED} 0 ")),
        "{seen:#?}"
    );
    assert!(
        seen.contains(&format!("fill 1 {TW_SIDE_BUY} 1 true")),
        "{seen:#?}"
    );
    // The gate decided on it, attributed to the instance.
    let filter = audit::AuditFilter {
        origin: Some(format!("plugin:{name}")),
        action: Some("order.intent".into()),
        limit: 10,
        ..Default::default()
    };
    let rows = audit::filtered(&pool, &filter).await.unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].decision.as_deref(), Some("allowed"));
    manager.stop(&name).await.unwrap();
    assert_eq!(lines(tag).last().map(String::as_str), Some("destroy"));
    let (status, detail) = final_status(&mut events, &name).await;
    assert_eq!(
        (status, detail.as_str()),
        (
            PluginStrategyStatus::Stopped,
            "0 working order(s) cancelled"
        )
    );
    assert!(manager.list().is_empty());
    let truth = tickwork_e2e::truth(&sim, 191).await;
    assert!(
        truth
            .positions
            .iter()
            .any(|(_, s, q)| s == "MSFT" && *q == Decimal::ONE),
        "{truth:?}"
    );
    bench.stop().await;
    sim.shutdown().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_panic_or_a_bad_status_faults_the_instance_and_cancels_its_working_orders(pool: PgPool) {
    let (sim, bench, manager, account) = paper_manager(&pool, 92).await;
    let mut events = manager.events();
    for (tag, act, why) in [
        ("org.test.panics", "rest_then_panic", "panicked"),
        (
            "org.test.status",
            "rest_then_bad_status",
            "the unknown status 42",
        ),
    ] {
        let name = start(&manager, tag, trader(), act, &account).await;
        let (status, detail) = final_status(&mut events, &name).await;
        assert_eq!(status, PluginStrategyStatus::Faulted, "{detail}");
        assert!(detail.contains(why), "{detail}");
        assert!(
            detail.ends_with("; 1 working order(s) cancelled"),
            "{detail}"
        );
        // The SDK's destroy still frees a faulted instance; no event came after the fault.
        sees(tag, "destroy").await;
        let seen = lines(tag);
        assert!(
            seen.iter()
                .any(|l| l.starts_with(&format!("order 1 {TW_ORDER_SUBMITTED}"))),
            "{seen:#?}"
        );
        cancelled_at_the_simulator(&sim, "MSFT").await;
        manager.finished(&name).await;
    }
    let cancels = audit::AuditFilter {
        origin: Some("plugin:org.test.panics/*".into()),
        action: Some("order.cancel".into()),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(audit::filtered(&pool, &cancels).await.unwrap().len(), 1);
    bench.stop().await;
    sim.shutdown().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_busy_loop_is_caught_by_the_watchdog_and_its_late_result_dropped(pool: PgPool) {
    let (sim, bench, manager, account) = paper_manager(&pool, 93).await;
    let mut events = manager.events();
    let tag = "org.test.busy";
    let name = start(&manager, tag, trader(), "rest_then_busy", &account).await;
    let (status, detail) = final_status(&mut events, &name).await;
    assert_eq!(status, PluginStrategyStatus::Hung, "{detail}");
    assert!(
        detail.starts_with("strategy.on_event has not returned after"),
        "{detail}"
    );
    assert!(
        detail.ends_with("; 1 working order(s) cancelled"),
        "{detail}"
    );
    cancelled_at_the_simulator(&sim, "MSFT").await;
    // The stuck call returns later; nothing follows it (no event, no destroy).
    sees(tag, "woke").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(lines(tag).last().map(String::as_str), Some("woke"));
    bench.stop().await;
    sim.shutdown().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn trading_beyond_the_permission_is_denied_and_audited(pool: PgPool) {
    let (sim, bench, manager, account) = paper_manager(&pool, 94).await;
    let tag = "org.test.liveonly";
    let live_only = Permissions {
        market_data: true,
        orders_live: true,
        ..Permissions::default()
    };
    let name = start(&manager, tag, live_only, "buy", &account).await;
    sees(tag, "submit").await;
    assert_eq!(lines(tag)[1], format!("submit {TW_ERR_DENIED} 0"));
    let filter = audit::AuditFilter {
        origin: Some(format!("plugin:{name}")),
        limit: 10,
        ..Default::default()
    };
    let rows = audit::filtered(&pool, &filter).await.unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].decision.as_deref(), Some("denied"));
    assert!(
        rows[0]
            .reason
            .as_deref()
            .unwrap()
            .starts_with("origin_not_granted"),
        "{rows:?}"
    );
    // Without any trading permission the orders table is not handed out at all.
    let watcher = "org.test.watcher";
    let watch_only = Permissions {
        market_data: true,
        ..Permissions::default()
    };
    let watcher_name = start(&manager, watcher, watch_only, "buy", &account).await;
    sees(watcher, "create").await;
    assert_eq!(lines(watcher)[0], "create 0 orders=false");
    manager.stop(&watcher_name).await.unwrap();
    manager.stop(&name).await.unwrap();
    assert!(sim.orders().is_empty());
    bench.stop().await;
    sim.shutdown().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_mean_reversion_example_loads_from_its_bundle_and_trades_through_the_gate(
    pool: PgPool,
) {
    let root = tempfile::tempdir().unwrap();
    let granted = Permissions {
        market_data: true,
        orders_paper: true,
        storage: true,
        ..Permissions::default()
    };
    let search = trusted_bundle(
        &pool,
        root.path(),
        "plugins/mean-reversion",
        "tickwork-example-mean-reversion",
        &granted,
        &[],
    )
    .await;
    let loaded = tickwork_core::plugins::load_all(&pool, &plugin_env(root.path(), search))
        .await
        .unwrap();
    let strategy = loaded
        .strategies()
        .into_iter()
        .find(|s| s.type_id == "org.tickwork.example.mean-reversion")
        .unwrap_or_else(|| panic!("not loaded: {:?}", loaded.reports));
    let (sim, bench, manager, account) = paper_manager(&pool, 95).await;
    // Closes a previous instance left in the plugin's kv namespace, far above the market: the
    // first bar is more than 2 deviations below them, so it buys at once (no 20-minute warm-up).
    let price = Decimal::try_from(sim.stock_quote("MSFT").unwrap().last).unwrap();
    let high = (price * Decimal::TWO).round_dp(2);
    let seeded: Vec<String> = (0..5)
        .map(|i| (high + Decimal::new(i, 2)).to_string())
        .collect();
    let id = strategy.provider.plugin_id.clone();
    tickwork_core::store::plugin_kv::put(&pool, &id, "closes/MSFT", seeded.join(",").as_bytes())
        .await
        .unwrap();
    let mut events = manager.events();
    let params = r#"{"symbol":"MSFT","window":5,"entry_z":"2.0","qty":"3"}"#;
    let name = manager
        .start(strategy, params, &account, RunMode::Paper)
        .await
        .unwrap();
    assert_eq!(
        name,
        format!("{id}/org.tickwork.example.mean-reversion@{account}/paper")
    );
    // Its first 60-second bar closes within a minute and two seconds.
    let fill = tokio::time::timeout(Duration::from_secs(90), async {
        loop {
            match events.recv().await.unwrap() {
                PluginStrategyEvent::Console { instance, line }
                    if instance == name && line.contains(" @ ") =>
                {
                    return line;
                }
                PluginStrategyEvent::Status {
                    instance,
                    status,
                    detail,
                } if instance == name && status != PluginStrategyStatus::Running => {
                    panic!("{status:?}: {detail:?}")
                }
                _ => {}
            }
        }
    })
    .await
    .expect("a fill within 90 s");
    assert!(fill.starts_with("#1 BUY 3 MSFT @ "), "{fill}");
    let filter = audit::AuditFilter {
        origin: Some(format!("plugin:{name}")),
        action: Some("order.intent".into()),
        limit: 10,
        ..Default::default()
    };
    let rows = audit::filtered(&pool, &filter).await.unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].decision.as_deref(), Some("allowed"));
    // It saved the new close beside the seeded ones.
    let saved = tickwork_core::store::plugin_kv::get(&pool, &id, "closes/MSFT")
        .await
        .unwrap()
        .unwrap();
    assert!(
        !String::from_utf8(saved).unwrap().starts_with(&seeded[0]),
        "the window moved on"
    );
    manager.stop(&name).await.unwrap();
    let truth = tickwork_e2e::truth(&sim, 195).await;
    assert!(
        truth
            .positions
            .iter()
            .any(|(_, s, q)| s == "MSFT" && *q == Decimal::from(3)),
        "{truth:?}"
    );
    bench.stop().await;
    sim.shutdown().await;
}
