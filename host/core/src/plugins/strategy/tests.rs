//! The manager without a session: what it refuses before and during `create`, the live grant
//! pinned to the trusted library, stopping, and a `create` that never returns.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use sqlx::PgPool;
use tickwork_plugin_api::abi::*;

use super::*;
use crate::hub::Hub;
use crate::plugins::capability::{HostApiRef, Provider, StrategyTable};
use crate::plugins::permissions::Permissions;
use crate::risk::{RiskGate, RiskLimits, RiskView, order_path};

const HASH: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
static DESTROYED: AtomicUsize = AtomicUsize::new(0);

fn tw_str(s: &'static str) -> TwStr {
    TwStr {
        ptr: s.as_ptr(),
        len: s.len(),
    }
}

/// Makes an instance unless the parameters say `{"refuse": true}` or `{"sleep_ms": n}`.
unsafe extern "C" fn create(
    _host: *const TwHostApi,
    _ctx: *mut TwInstanceCtx,
    params: TwStr,
) -> *mut TwInstance {
    // SAFETY: the host's parameters are valid for the call.
    let params = unsafe { std::slice::from_raw_parts(params.ptr, params.len) };
    let params: serde_json::Value = serde_json::from_slice(params).unwrap_or_default();
    if let Some(ms) = params["sleep_ms"].as_u64() {
        std::thread::sleep(Duration::from_millis(ms));
    }
    if params["refuse"] == true {
        return std::ptr::null_mut();
    }
    Box::into_raw(Box::new(0u8)).cast()
}

unsafe extern "C" fn on_event(_this: *mut TwInstance, _ev: *const TwEventHeader) -> TwStatus {
    TW_OK
}

unsafe extern "C" fn destroy(this: *mut TwInstance) {
    // SAFETY: made by `create`.
    drop(unsafe { Box::from_raw(this.cast::<u8>()) });
    DESTROYED.fetch_add(1, Ordering::SeqCst);
}

fn strategy(plugin_id: &str, on_event_slot: bool) -> PluginStrategy {
    let host = Box::leak(Box::new(TwHostApi {
        struct_size: size_of::<TwHostApi>() as u32,
        abi_major: TW_ABI_MAJOR,
        abi_minor: TW_ABI_MINOR,
        ctx: std::ptr::null_mut(),
        host_version: tw_str("test"),
        log: None,
        get_service: None,
    }));
    PluginStrategy {
        provider: Provider {
            plugin_id: plugin_id.into(),
            plugin_version: "1.0.0".into(),
            permissions: Permissions {
                orders_paper: true,
                orders_live: true,
                ..Permissions::default()
            },
        },
        type_id: format!("{plugin_id}.quiet"),
        table: StrategyTable(TwStrategyV1 {
            struct_size: size_of::<TwStrategyV1>() as u32,
            _reserved: 0,
            type_id: tw_str("quiet"),
            create: Some(create),
            on_event: on_event_slot.then_some(on_event as _),
            destroy: Some(destroy),
        }),
        host: HostApiRef(host),
    }
}

fn manager(pool: &PgPool, simulator: bool) -> PluginStrategies {
    let hub = Arc::new(Hub::new());
    let (router, _inbox) = order_path(RiskGate::new(RiskLimits::default()), pool.clone());
    let deps = HostDeps {
        view: RiskView::follow(&hub),
        hub,
        router,
        session: None,
        pool: pool.clone(),
        simulator,
    };
    PluginStrategies::with_call_limit(deps, Duration::from_millis(300))
}

#[test]
fn instance_names_drop_the_plugin_prefix() {
    let name = |type_id| PluginStrategies::instance_name("org.a", type_id, "DU1", RunMode::Paper);
    assert_eq!(name("org.a.meanrev"), "meanrev@DU1/paper");
    assert_eq!(name("pairs"), "pairs@DU1/paper");
    assert_eq!(name("org.a"), "org.a@DU1/paper");
}

#[sqlx::test(migrations = "../../migrations")]
async fn bad_starts_are_refused_with_the_reason(pool: PgPool) {
    let plugins = manager(&pool, false);
    let paper = |params: &str, strategy: PluginStrategy, account: &'static str| {
        let plugins = plugins.clone();
        let params = params.to_owned();
        async move {
            plugins
                .start(strategy, &params, account, RunMode::Paper)
                .await
        }
    };
    let err = paper("[1]", strategy("org.t1", true), "DU1")
        .await
        .unwrap_err();
    assert!(err.contains("not a JSON object"), "{err}");
    let err = paper("{", strategy("org.t1", true), "DU1")
        .await
        .unwrap_err();
    assert!(err.starts_with("parameters of org.t1.quiet: "), "{err}");
    let err = paper("{}", strategy("org.t1", false), "DU1")
        .await
        .unwrap_err();
    assert!(err.contains("null entry"), "{err}");
    let err = paper("{}", strategy("org.t1", true), "U123")
        .await
        .unwrap_err();
    assert!(err.contains("not a paper account"), "{err}");
    let mut events = plugins.events();
    let err = paper(r#"{"refuse": true}"#, strategy("org.t1", true), "DU1")
        .await
        .unwrap_err();
    assert!(err.contains("create returned null"), "{err}");
    let Ok(PluginStrategyEvent::Status { status, .. }) = events.try_recv() else {
        panic!("no status event")
    };
    assert_eq!(status, PluginStrategyStatus::Faulted);
    let err = paper(r#"{"sleep_ms": 1500}"#, strategy("org.t1", true), "DU1")
        .await
        .unwrap_err();
    assert!(err.contains("hung"), "{err}");
    assert!(plugins.list().is_empty());
}

#[sqlx::test(migrations = "../../migrations")]
async fn live_needs_a_grant_pinned_to_the_trusted_library(pool: PgPool) {
    let plugins = manager(&pool, false);
    let live = || plugins.start(strategy("org.live", true), "{}", "U77", RunMode::Live);
    let err = live().await.unwrap_err();
    assert!(err.contains("not trusted"), "{err}");
    crate::store::plugins::trust(&pool, "org.live", "1.0.0", HASH, &[])
        .await
        .unwrap();
    let err = live().await.unwrap_err();
    assert!(
        err.contains("may not trade U77 live") && err.contains(&HASH[..12]),
        "{err}"
    );
    grant_live(&pool, "org.live", "U77", HASH, "test")
        .await
        .unwrap();
    let id = live().await.unwrap();
    assert_eq!(id, "org.live/quiet@U77/live");
    assert_eq!(
        live().await.unwrap_err(),
        format!("{id} is already running")
    );
    let before = DESTROYED.load(Ordering::SeqCst);
    plugins.stop(&id).await.unwrap();
    assert!(
        DESTROYED.load(Ordering::SeqCst) > before,
        "stop calls destroy"
    );
    // Another library (a new hash trusted) asks again.
    let other = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752";
    crate::store::plugins::trust(&pool, "org.live", "1.1.0", other, &[])
        .await
        .unwrap();
    let err = live().await.unwrap_err();
    assert!(err.contains("changed since you allowed it"), "{err}");
}
