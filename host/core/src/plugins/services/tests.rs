//! The service tables as a plugin calls them, on a real database: bad arguments, permission
//! denials (audited), limits of the kv store, calls after the instance ended.

use std::sync::Arc;

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use sqlx::PgPool;
use tickwork_plugin_api::abi::*;
use tokio::sync::mpsc;

use super::*;
use crate::store::script_runs::RunMode;

/// An instance context as a strategy's, with the requests it queues.
struct Harness {
    ctx: usize,
    requests: mpsc::UnboundedReceiver<Request>,
    life: Arc<Lifecycle>,
}

impl Harness {
    fn new(pool: &PgPool, plugin: &str, permissions: Permissions, mode: RunMode) -> Self {
        let (tx, requests) = mpsc::unbounded_channel();
        let life = Arc::new(Lifecycle::default());
        let ctx = Box::new(InstanceCtx::new(
            plugin.into(),
            "probe@DU1/paper".into(),
            permissions,
            Some(Trading {
                account: "DU1".into(),
                mode,
            }),
            life.clone(),
            tx,
            pool.clone(),
            tokio::runtime::Handle::current(),
        ));
        Self {
            ctx: ctx.into_raw() as usize,
            requests,
            life,
        }
    }

    fn ptr(&self) -> *mut TwInstanceCtx {
        self.ctx as *mut TwInstanceCtx
    }

    /// Runs a service call on a thread outside the runtime, as a plugin's worker would.
    async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(*mut TwInstanceCtx) -> T + Send + 'static,
    ) -> T {
        let ctx = self.ctx;
        tokio::task::spawn_blocking(move || f(ctx as *mut TwInstanceCtx))
            .await
            .unwrap()
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        // SAFETY: made by `into_raw`, freed once, no call in progress.
        unsafe { InstanceCtx::free(self.ptr()) };
    }
}

/// Test data holding raw pointers to `'static` strings, moved to the calling thread.
struct Sendable<T>(T);

// SAFETY: only used for intents whose strings are `'static`.
unsafe impl<T> Send for Sendable<T> {}

fn all() -> Permissions {
    Permissions {
        market_data: true,
        orders_paper: true,
        orders_live: false,
        storage: true,
        margin_override: false,
    }
}

fn s(text: &'static str) -> TwStr {
    TwStr {
        ptr: text.as_ptr(),
        len: text.len(),
    }
}

fn intent(instrument_id: u32) -> TwOrderIntent {
    TwOrderIntent {
        struct_size: size_of::<TwOrderIntent>() as u32,
        side: TW_SIDE_BUY,
        order_type: TW_ORDER_LIMIT,
        time_in_force: TW_TIF_DAY,
        instrument_id,
        _pad: 0,
        quantity: decimal_to_abi(dec!(10)),
        limit_price: decimal_to_abi(dec!(99.5)),
        stop_price: decimal_to_abi(Decimal::ZERO),
        tag: s("entry"),
    }
}

fn subscribe(
    ctx: *mut TwInstanceCtx,
    symbol: &'static str,
    kinds: u32,
    secs: u32,
) -> (TwStatus, u32) {
    let mut id = 0;
    // SAFETY: a live context, a static string and a local out pointer.
    let status = unsafe { (MARKET_DATA.subscribe.unwrap())(ctx, s(symbol), kinds, secs, &mut id) };
    (status, id)
}

fn submit(ctx: *mut TwInstanceCtx, intent: TwOrderIntent) -> (TwStatus, u64) {
    let mut id = 0;
    // SAFETY: a live context, a local intent and out pointer.
    let status = unsafe { (ORDERS.submit.unwrap())(ctx, &intent, &mut id) };
    (status, id)
}

#[test]
fn tables_are_handed_out_only_with_their_permission() {
    let none = Permissions::default();
    for id in [
        TW_SVC_ORDERS_V1,
        TW_SVC_MARKET_DATA_V1,
        TW_SVC_KV_STORE_V1,
        "tickwork.host.nope/1",
    ] {
        assert!(table(id, &none).is_null(), "{id}");
    }
    let live_only = Permissions {
        orders_live: true,
        ..Permissions::default()
    };
    assert!(!table(TW_SVC_ORDERS_V1, &live_only).is_null());
    assert!(!table(TW_SVC_MARKET_DATA_V1, &all()).is_null());
    assert!(!table(TW_SVC_KV_STORE_V1, &all()).is_null());
    assert_eq!(ORDERS.struct_size, v1_0_size::HOST_ORDERS);
}

#[sqlx::test(migrations = "../../migrations")]
async fn subscriptions_check_symbol_kinds_and_permission(pool: PgPool) {
    let mut h = Harness::new(&pool, "org.test.md", all(), RunMode::Paper);
    let answers = h
        .call(|ctx| {
            [
                subscribe(ctx, "MSFT", TW_MD_TICKS | TW_MD_BARS, 60),
                subscribe(ctx, "not a symbol", TW_MD_TICKS, 0),
                subscribe(ctx, "MSFT", 0, 0),
                subscribe(ctx, "MSFT", 1 << 7, 0),
                subscribe(ctx, "MSFT", TW_MD_BARS, 0),
                subscribe(ctx, "MSFT", TW_MD_BARS, 86_401),
                subscribe(ctx, "msft 20261218 C 600", TW_MD_TICKS, 0),
                subscribe(std::ptr::null_mut(), "MSFT", TW_MD_TICKS, 0),
            ]
        })
        .await;
    let statuses: Vec<TwStatus> = answers.iter().map(|a| a.0).collect();
    assert_eq!(
        statuses,
        [
            TW_OK,
            TW_ERR_BAD_ARG,
            TW_ERR_BAD_ARG,
            TW_ERR_BAD_ARG,
            TW_ERR_BAD_ARG,
            TW_ERR_BAD_ARG,
            TW_OK,
            TW_ERR_BAD_ARG
        ]
    );
    assert_eq!((answers[0].1, answers[6].1), (1, 2));
    let Some(Request::Subscribe {
        symbol,
        kinds,
        bar_secs,
        ..
    }) = h.requests.recv().await
    else {
        panic!("no subscription queued")
    };
    assert_eq!((symbol.as_str(), kinds, bar_secs), ("MSFT", 3, 60));
    let Some(Request::Subscribe {
        symbol, bar_secs, ..
    }) = h.requests.recv().await
    else {
        panic!("no option subscription queued")
    };
    assert_eq!((symbol.as_str(), bar_secs), ("MSFT 20261218 C 600", 0));
    // SAFETY: a live context.
    let unsub = h
        .call(|ctx| unsafe {
            [
                (MARKET_DATA.unsubscribe.unwrap())(ctx, 2),
                (MARKET_DATA.unsubscribe.unwrap())(ctx, 2),
            ]
        })
        .await;
    assert_eq!(unsub, [TW_OK, TW_ERR_NOT_FOUND]);

    let no_md = Harness::new(
        &pool,
        "org.test.md",
        Permissions {
            orders_paper: true,
            ..Permissions::default()
        },
        RunMode::Paper,
    );
    assert_eq!(
        no_md
            .call(|ctx| subscribe(ctx, "MSFT", TW_MD_TICKS, 0))
            .await
            .0,
        TW_ERR_DENIED
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn intents_are_validated_before_they_are_queued(pool: PgPool) {
    let mut h = Harness::new(&pool, "org.test.orders", all(), RunMode::Paper);
    let instrument = h.call(|ctx| subscribe(ctx, "MSFT", TW_MD_TICKS, 0).1).await;
    let _ = h.requests.recv().await;
    let good = intent(instrument);
    let mut cases: Vec<(&str, TwOrderIntent, TwStatus)> = vec![("good", good, TW_OK)];
    let mut bad = |what: &'static str, change: fn(&mut TwOrderIntent), status: TwStatus| {
        let mut i = good;
        change(&mut i);
        cases.push((what, i, status));
    };
    bad("side", |i| i.side = 3, TW_ERR_BAD_ARG);
    bad("type", |i| i.order_type = 0, TW_ERR_BAD_ARG);
    bad("tif", |i| i.time_in_force = 9, TW_ERR_BAD_ARG);
    bad(
        "zero quantity",
        |i| i.quantity = decimal_to_abi(Decimal::ZERO),
        TW_ERR_BAD_ARG,
    );
    bad(
        "negative quantity",
        |i| i.quantity = decimal_to_abi(dec!(-1)),
        TW_ERR_BAD_ARG,
    );
    bad(
        "stray decimal bits",
        |i| i.quantity.bytes[0] = 0xff,
        TW_ERR_BAD_ARG,
    );
    bad(
        "limit without price",
        |i| i.limit_price = decimal_to_abi(Decimal::ZERO),
        TW_ERR_BAD_ARG,
    );
    bad(
        "market with a price",
        |i| i.order_type = TW_ORDER_MARKET,
        TW_ERR_BAD_ARG,
    );
    bad(
        "stop without stop price",
        |i| i.order_type = TW_ORDER_STOP_LIMIT,
        TW_ERR_BAD_ARG,
    );
    bad("short struct", |i| i.struct_size = 40, TW_ERR_BAD_ARG);
    bad(
        "unknown instrument",
        |i| i.instrument_id = 99,
        TW_ERR_NOT_FOUND,
    );
    bad(
        "dangling tag",
        |i| {
            i.tag = TwStr {
                ptr: std::ptr::null(),
                len: 4,
            }
        },
        TW_ERR_BAD_ARG,
    );
    let cases = Sendable(cases);
    let answers = h
        .call(move |ctx| {
            let cases = cases;
            cases
                .0
                .into_iter()
                .map(|(what, i, want)| (what, submit(ctx, i), want))
                .collect::<Vec<_>>()
        })
        .await;
    for (what, (status, _), want) in &answers {
        assert_eq!(status, want, "{what}");
    }
    assert_eq!(answers[0].1.1, 1, "the first intent id");
    let Some(Request::Place {
        intent_id, order, ..
    }) = h.requests.recv().await
    else {
        panic!("no intent queued")
    };
    assert_eq!(intent_id, 1);
    assert_eq!(
        (
            order.symbol.as_str(),
            order.quantity,
            order.limit,
            order.tag.as_str()
        ),
        ("MSFT", dec!(10), Some(dec!(99.5)), "entry")
    );
    assert!(h.requests.try_recv().is_err(), "bad intents are not queued");
    // A null out pointer, a cancel of an id never issued, a cancel of the real one.
    let sendable = Sendable(good);
    let (null_out, cancels) = h
        .call(move |ctx| {
            let good = { sendable }.0;
            // SAFETY: a live context and a local intent.
            unsafe {
                (
                    (ORDERS.submit.unwrap())(ctx, &good, std::ptr::null_mut()),
                    [
                        (ORDERS.cancel.unwrap())(ctx, 7),
                        (ORDERS.cancel.unwrap())(ctx, 1),
                    ],
                )
            }
        })
        .await;
    assert_eq!(null_out, TW_ERR_BAD_ARG);
    assert_eq!(cancels, [TW_ERR_NOT_FOUND, TW_OK]);
    // A flood within one call is cut off; the next call may submit again.
    let sendable = Sendable(good);
    let statuses = h
        .call(move |ctx| {
            let good = { sendable }.0;
            (0..INTENTS_PER_CALL + 1)
                .map(|_| submit(ctx, good).0)
                .collect::<Vec<_>>()
        })
        .await;
    assert!(
        statuses[..INTENTS_PER_CALL as usize - 1]
            .iter()
            .all(|s| *s == TW_OK)
    );
    assert_eq!(statuses.last(), Some(&TW_ERR_DENIED));
    h.life.begin_call("strategy.on_event");
    let sendable = Sendable(good);
    assert_eq!(
        h.call(move |ctx| submit(ctx, { sendable }.0).0).await,
        TW_OK
    );
    // Once the instance has ended, every call is refused.
    h.life
        .transition(&[State::Starting, State::Running], State::Faulted);
    let sendable = Sendable(good);
    assert_eq!(
        h.call(move |ctx| submit(ctx, { sendable }.0).0).await,
        TW_ERR_FAULTED
    );
    assert_eq!(
        h.call(|ctx| subscribe(ctx, "MSFT", TW_MD_TICKS, 0).0).await,
        TW_ERR_FAULTED
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn an_intent_beyond_the_permission_is_denied_and_audited(pool: PgPool) {
    let live_only = Permissions {
        market_data: true,
        orders_live: true,
        ..Permissions::default()
    };
    let mut h = Harness::new(&pool, "org.test.denied", live_only, RunMode::Paper);
    let instrument = h.call(|ctx| subscribe(ctx, "MSFT", TW_MD_TICKS, 0).1).await;
    let _ = h.requests.recv().await;
    let (status, id) = h.call(move |ctx| submit(ctx, intent(instrument))).await;
    assert_eq!((status, id), (TW_ERR_DENIED, 0));
    assert!(
        h.requests.try_recv().is_err(),
        "a denied intent is not queued"
    );
    let filter = crate::store::audit::AuditFilter {
        origin: Some("plugin:org.test.denied/probe@DU1/paper".into()),
        limit: 10,
        ..Default::default()
    };
    let rows = crate::store::audit::filtered(&pool, &filter).await.unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        (rows[0].action.as_str(), rows[0].decision.as_deref()),
        ("order.intent", Some("denied"))
    );
    let reason = rows[0].reason.clone().unwrap();
    assert!(
        reason.starts_with("origin_not_granted: ") && reason.contains("orders:submit:paper"),
        "{reason}"
    );
    assert_eq!(rows[0].details["symbol"], "MSFT");
    assert_eq!(rows[0].details["account"], "DU1");
}

/// A `TwWriteFn` collecting into a `Vec<u8>`.
unsafe extern "C" fn collect(user: *mut core::ffi::c_void, data: *const u8, len: usize) {
    // SAFETY: `user` is the test's Vec and `data` has `len` bytes, both for the call.
    unsafe {
        let out = &mut *user.cast::<Vec<u8>>();
        out.extend_from_slice(std::slice::from_raw_parts(data, len));
    }
}

fn kv_get(ctx: *mut TwInstanceCtx, key: &'static str) -> (TwStatus, String) {
    let mut out: Vec<u8> = Vec::new();
    // SAFETY: a live context, a static key, and a sink that copies into `out`.
    let status =
        unsafe { (KV_STORE.get.unwrap())(ctx, s(key), (&raw mut out).cast(), Some(collect)) };
    (status, String::from_utf8(out).unwrap())
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_kv_store_keeps_values_per_plugin_within_limits(pool: PgPool) {
    let a = Harness::new(&pool, "org.test.kv-a", all(), RunMode::Paper);
    let b = Harness::new(&pool, "org.test.kv-b", all(), RunMode::Paper);
    let long_key: &'static str = Box::leak("k".repeat(MAX_KEY_BYTES + 1).into_boxed_str());
    let big_value: &'static str = Box::leak("v".repeat(MAX_VALUE_BYTES + 1).into_boxed_str());
    let full_value: &'static str = Box::leak("v".repeat(MAX_VALUE_BYTES).into_boxed_str());
    let puts = a
        .call(move |ctx| {
            let put = KV_STORE.put.unwrap();
            // SAFETY: a live context and static strings.
            unsafe {
                [
                    put(ctx, s("state"), s("{\"n\":1}")),
                    put(ctx, s("state"), s("{\"n\":2}")),
                    put(ctx, s(long_key), s("x")),
                    put(ctx, s(""), s("x")),
                    put(ctx, s("big"), s(big_value)),
                    put(ctx, s("full"), s(full_value)),
                ]
            }
        })
        .await;
    assert_eq!(
        puts,
        [
            TW_OK,
            TW_OK,
            TW_ERR_BAD_ARG,
            TW_ERR_BAD_ARG,
            TW_ERR_BAD_ARG,
            TW_OK
        ]
    );
    assert_eq!(
        a.call(|ctx| kv_get(ctx, "state")).await,
        (TW_OK, "{\"n\":2}".into())
    );
    assert_eq!(
        a.call(|ctx| kv_get(ctx, "full")).await.1.len(),
        MAX_VALUE_BYTES
    );
    assert_eq!(
        a.call(|ctx| kv_get(ctx, "missing")).await.0,
        TW_ERR_NOT_FOUND
    );
    assert_eq!(
        b.call(|ctx| kv_get(ctx, "state")).await.0,
        TW_ERR_NOT_FOUND,
        "another plugin's namespace"
    );
    // SAFETY: a live context; the sink is null.
    let null_sink = a
        .call(|ctx| unsafe { (KV_STORE.get.unwrap())(ctx, s("state"), std::ptr::null_mut(), None) })
        .await;
    assert_eq!(null_sink, TW_ERR_BAD_ARG);
    let no_storage = Harness::new(
        &pool,
        "org.test.kv-a",
        Permissions {
            market_data: true,
            ..Permissions::default()
        },
        RunMode::Paper,
    );
    assert_eq!(
        no_storage.call(|ctx| kv_get(ctx, "state")).await.0,
        TW_ERR_DENIED
    );
    // SAFETY: a null context.
    let null_ctx = a
        .call(|_| unsafe { (KV_STORE.put.unwrap())(std::ptr::null_mut(), s("k"), s("v")) })
        .await;
    assert_eq!(null_ctx, TW_ERR_BAD_ARG);
}
