//! The misbehaving test plugin (`plugins/zoo`), loaded from its bundle, run as a strategy on
//! paper against the simulator: a trade beyond its permission is denied and audited, a panic
//! in `on_event` and an unknown status fault it, a busy loop is caught by the watchdog, and
//! after three faults the plugin is disabled for the next start.
//!
//! The zoo's mode comes from `TICKWORK_ZOO`, read when its entry point is called; this binary
//! holds this one test, which sets the variable and calls the entry point again between cases.

use std::path::Path;

use sqlx::PgPool;
use tickwork_core::plugins::capability::{PluginStrategy, StrategyTable};
use tickwork_core::plugins::permissions::Permissions;
use tickwork_core::plugins::strategy::{PluginStrategies, PluginStrategyStatus};
use tickwork_core::store::audit;
use tickwork_core::store::script_runs::RunMode;
use tickwork_e2e::eventually;
use tickwork_e2e::plugins::{final_status, paper_manager, plugin_env, trusted_bundle};
use tickwork_plugin_api::abi::{
    TW_CAP_STRATEGY_V1, TW_ENTRY_V1_NUL, TwEntryV1, TwStr, TwStrategyV1, read_prefixed, v1_0_size,
};

const ZOO: &str = "org.tickwork.zoo";

/// Switches the loaded zoo to `mode`; answers its strategy as the mode offers it (some modes
/// hand out another table).
fn select(library: &Path, mode: &str, loaded: &PluginStrategy) -> PluginStrategy {
    // SAFETY: this binary runs this one test; every thread reading the environment is Rust
    // code going through `std::env`, which serialises with `set_var` (no C library of this
    // process reads it).
    unsafe { std::env::set_var("TICKWORK_ZOO", mode) };
    // SAFETY: the library is already loaded (and never unloaded); opening it again only
    // counts a reference. Its entry point takes nothing and returns a static descriptor whose
    // `get_capability` answers a static table of at least its `struct_size`.
    let table = unsafe {
        let lib = libloading::Library::new(library).unwrap();
        let entry: libloading::Symbol<TwEntryV1> = lib.get(TW_ENTRY_V1_NUL).unwrap();
        let descriptor = &*entry();
        std::mem::forget(lib);
        let id = TwStr {
            ptr: TW_CAP_STRATEGY_V1.as_ptr(),
            len: TW_CAP_STRATEGY_V1.len(),
        };
        let table = (descriptor.get_capability.unwrap())(id).cast::<TwStrategyV1>();
        read_prefixed(table, v1_0_size::STRATEGY).unwrap()
    };
    PluginStrategy {
        table: StrategyTable(table),
        ..loaded.clone()
    }
}

async fn run(manager: &PluginStrategies, strategy: &PluginStrategy, account: &str) -> String {
    manager
        .start(
            strategy.clone(),
            r#"{"symbol":"MSFT"}"#,
            account,
            RunMode::Paper,
        )
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn the_zoo_is_contained_and_disabled_after_three_faults(pool: PgPool) {
    let root = tempfile::tempdir().unwrap();
    // It may trade live accounts only, so its paper trade is beyond its permission.
    let granted = Permissions {
        market_data: true,
        orders_live: true,
        ..Permissions::default()
    };
    let edits = [("orders = [\"submit:paper\"]", "orders = [\"submit:live\"]")];
    let search = trusted_bundle(
        &pool,
        root.path(),
        "plugins/zoo",
        "tickwork-plugin-zoo",
        &granted,
        &edits,
    )
    .await;
    let loaded = tickwork_core::plugins::load_all(&pool, &plugin_env(root.path(), search))
        .await
        .unwrap();
    let zoo = loaded
        .plugins
        .iter()
        .find(|p| p.provider.plugin_id == ZOO)
        .unwrap_or_else(|| panic!("not loaded: {:?}", loaded.reports));
    let strategy = zoo.strategies[0].clone();
    let (sim, bench, manager, account) = paper_manager(&pool, 96).await;
    let mut events = manager.events();

    // Well-behaved, but its buy is beyond its permission: denied at once, audited, and it goes on.
    let polite = select(&zoo.library, "no-permission-trade", &strategy);
    let id = run(&manager, &polite, &account).await;
    let filter = audit::AuditFilter {
        origin: Some(format!("plugin:{id}")),
        limit: 10,
        ..Default::default()
    };
    let denial = eventually("the denial is audited", || {
        let (pool, filter) = (pool.clone(), filter.clone());
        async move { audit::filtered(&pool, &filter).await.unwrap().pop() }
    })
    .await;
    assert_eq!(
        (denial.action.as_str(), denial.decision.as_deref()),
        ("order.intent", Some("denied"))
    );
    assert!(denial.reason.unwrap().contains("orders:submit:paper"));
    assert_eq!(manager.list().len(), 1, "a denial does not fault it");
    manager.stop(&id).await.unwrap();
    let (status, _) = final_status(&mut events, &id).await;
    assert_eq!(status, PluginStrategyStatus::Stopped);
    assert!(sim.orders().is_empty());

    for (mode, want, detail) in [
        ("panic-on-event", PluginStrategyStatus::Faulted, "panicked"),
        (
            "bad-status",
            PluginStrategyStatus::Faulted,
            "the unknown status 77",
        ),
        (
            "busy-loop",
            PluginStrategyStatus::Hung,
            "strategy.on_event has not returned after",
        ),
    ] {
        let misbehaving = select(&zoo.library, mode, &strategy);
        let id = run(&manager, &misbehaving, &account).await;
        let (status, text) = final_status(&mut events, &id).await;
        assert_eq!(status, want, "{mode}: {text}");
        assert!(text.contains(detail), "{mode}: {text}");
        manager.finished(&id).await;
    }
    // Three faults: disabled for the next start, and the user is told why.
    let row = tickwork_core::store::plugins::get(&pool, ZOO)
        .await
        .unwrap()
        .unwrap();
    assert!(!row.enabled, "{row:?}");
    assert!(row.faults >= 3, "{row:?}");
    let reason = row.disabled_reason.unwrap_or_default();
    assert!(!reason.is_empty(), "{reason}");
    bench.stop().await;
    sim.shutdown().await;
}
