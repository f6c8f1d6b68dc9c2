//! The SDK end to end: a test plugin exported with `declare_plugin!`, driven through its C ABI
//! by the fake host.

use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::testing::{FakeHost, FakePermissions};
use super::*;
use crate::abi::*;

/// Subscribes to `symbol`, buys 1 at the first bar or tick; panics on a bar closing at 666;
/// reports its kv round trip through the log.
struct Buyer {
    instrument: u32,
    bought: bool,
}

impl Strategy for Buyer {
    const TYPE_ID: &'static str = "org.tickwork.test.buyer";

    fn create(ctx: &mut StrategyCtx, params_json: &str) -> Result<Self, String> {
        let params: serde_json::Value =
            serde_json::from_str(params_json).map_err(|e| format!("params: {e}"))?;
        let symbol = params["symbol"].as_str().ok_or("params: no `symbol`")?;
        let instrument = ctx
            .subscribe(symbol, MarketData::ticks_and_bars(60))
            .map_err(|e| e.to_string())?;
        Ok(Self {
            instrument,
            bought: false,
        })
    }

    fn on_event(&mut self, ctx: &mut StrategyCtx, event: &Event<'_>) -> Result<(), String> {
        if let Event::Bar(b) = event
            && b.close == dec!(666)
        {
            panic!("the bar closed at 666");
        }
        if matches!(event, Event::Tick(_) | Event::Bar(_)) && !self.bought {
            let id = ctx
                .submit(&OrderRequest::buy(self.instrument, Decimal::ONE).tag("first"))
                .map_err(|e| e.to_string())?;
            self.bought = true;
            ctx.kv_put("last_intent", &id.to_string())
                .map_err(|e| e.to_string())?;
            let back = ctx.kv_get("last_intent").map_err(|e| e.to_string())?;
            ctx.info(&format!("kv says {back:?}"));
        }
        Ok(())
    }

    fn on_destroy(&mut self, ctx: &mut StrategyCtx) {
        let _ = ctx.unsubscribe(self.instrument);
    }
}

/// Panics in `destroy`.
struct BadDestroy;

impl Strategy for BadDestroy {
    const TYPE_ID: &'static str = "org.tickwork.test.bad-destroy";
    fn create(_: &mut StrategyCtx, _: &str) -> Result<Self, String> {
        Ok(Self)
    }
    fn on_event(&mut self, _: &mut StrategyCtx, _: &Event<'_>) -> Result<(), String> {
        Ok(())
    }
    fn on_destroy(&mut self, _: &mut StrategyCtx) {
        panic!("destroy went wrong");
    }
}

/// Adds 1.00 to both requirements, or panics when the portfolio holds `BOOM`.
struct AddOne;

impl MarginRule for AddOne {
    const RULE_ID: &'static str = "org.tickwork.test.add-one";
    fn compute(input: &MarginInput) -> Result<MarginOutcome, String> {
        if input.legs.iter().any(|l| l.symbol == "BOOM") {
            panic!("boom in compute");
        }
        if input.legs.is_empty() {
            return Err("no legs".to_owned());
        }
        Ok(MarginOutcome::AddOn {
            initial: dec!(1.00),
            maintenance: dec!(1.00),
            reason: format!("one more on {} legs", input.legs.len()),
        })
    }
}

crate::declare_plugin! {
    id: "org.tickwork.test",
    version: "1.2.3",
    strategies: [Buyer, BadDestroy],
    margin_rules: [AddOne],
    panels: [],
}

#[test]
fn the_descriptor_is_filled_in() {
    let d = tickwork_plugin_descriptor();
    assert_eq!(d.struct_size, v1_0_size::DESCRIPTOR);
    assert_eq!((d.abi_major, d.abi_minor), (TW_ABI_MAJOR, TW_ABI_MINOR));
    assert_eq!(d.flags & TW_FLAG_PANIC_UNWIND, TW_FLAG_PANIC_UNWIND);
    // SAFETY: `'static` strings.
    unsafe {
        assert_eq!(str_from_tw(d.id), Ok("org.tickwork.test"));
        assert_eq!(str_from_tw(d.version), Ok("1.2.3"));
        assert!(
            str_from_tw(d.build_info)
                .unwrap()
                .starts_with("tickwork-plugin-api ")
        );
    }
}

#[test]
fn capabilities_by_bare_and_qualified_id() {
    let host = FakeHost::new();
    let plugin = host.load(tickwork_plugin_descriptor()).unwrap();
    let bare = plugin.capability(TW_CAP_STRATEGY_V1).cast::<TwStrategyV1>();
    // SAFETY: a `'static` table.
    let bare_id = unsafe { str_from_tw((*bare).type_id) }.unwrap();
    assert_eq!(
        bare_id,
        Buyer::TYPE_ID,
        "the bare id names the first strategy"
    );
    let second = plugin
        .capability(&format!("{TW_CAP_STRATEGY_V1}#{}", BadDestroy::TYPE_ID))
        .cast::<TwStrategyV1>();
    // SAFETY: as above.
    assert_eq!(
        unsafe { str_from_tw((*second).type_id) },
        Ok(BadDestroy::TYPE_ID)
    );
    // SAFETY: as above.
    assert_eq!(unsafe { (*second).struct_size }, v1_0_size::STRATEGY);
    assert!(plugin.capability(TW_CAP_PANEL_GTK4_V1).is_null());
    assert!(plugin.capability("tickwork.strategy/2").is_null());
    assert!(
        plugin
            .capability(&format!("{TW_CAP_STRATEGY_V1}#nope"))
            .is_null()
    );
}

#[test]
fn a_strategy_subscribes_trades_once_and_uses_the_kv_store() {
    let host = FakeHost::new();
    let plugin = host.load(tickwork_plugin_descriptor()).unwrap();
    let mut s = plugin
        .strategy(Buyer::TYPE_ID, r#"{"symbol":"SPY"}"#)
        .unwrap();
    let spy = host.instrument_id("SPY").unwrap();
    let subs = host.subscriptions();
    assert_eq!(subs[0].kinds, TW_MD_TICKS | TW_MD_BARS);
    assert_eq!(subs[0].bar_secs, 60);
    assert_eq!(s.bar(spy, dec!(601.25)), TW_OK);
    assert_eq!(s.tick(spy, dec!(601.20), dec!(601.30)), TW_OK);
    let intents = host.intents();
    assert_eq!(intents.len(), 1, "{intents:?}");
    let i = &intents[0];
    assert_eq!(i.side, Some(Side::Buy));
    assert_eq!(i.instrument_id, spy);
    assert_eq!(i.quantity, Decimal::ONE);
    assert_eq!(i.order_type, TW_ORDER_MARKET);
    assert_eq!(i.tag, "first");
    assert_eq!(host.kv("last_intent").as_deref(), Some("1"));
    assert!(host.logged("kv says Some(\"1\")"), "{:?}", host.log_lines());
    drop(s);
    assert!(!host.subscriptions()[0].active, "destroy ran on_destroy");
}

#[test]
fn bad_params_refuse_create_with_the_reason_logged() {
    let host = FakeHost::new();
    let plugin = host.load(tickwork_plugin_descriptor()).unwrap();
    let err = plugin.strategy(Buyer::TYPE_ID, "{").err().unwrap();
    assert!(err.contains("create refused: params:"), "{err}");
    let bad = [b'{', 0xff, b'}'];
    let table = plugin.capability(TW_CAP_STRATEGY_V1).cast::<TwStrategyV1>();
    // SAFETY: a `'static` table; the params are borrowed for the call.
    let this = unsafe {
        let (inst, _) = host.new_instance();
        ((*table).create.unwrap())(
            host.api(),
            inst,
            TwStr {
                ptr: bad.as_ptr(),
                len: bad.len(),
            },
        )
    };
    assert!(this.is_null());
    assert!(host.logged("parameters are not UTF-8"));
}

#[test]
fn a_panicking_strategy_answers_panicked_then_faulted() {
    let host = FakeHost::new();
    let plugin = host.load(tickwork_plugin_descriptor()).unwrap();
    let mut s = plugin
        .strategy(Buyer::TYPE_ID, r#"{"symbol":"QQQ"}"#)
        .unwrap();
    let qqq = host.instrument_id("QQQ").unwrap();
    assert_eq!(s.bar(qqq, dec!(666)), TW_ERR_PANICKED);
    assert!(
        host.logged("panic in strategy.on_event: the bar closed at 666 (at "),
        "{:?}",
        host.log_lines()
    );
    assert_eq!(s.bar(qqq, dec!(400)), TW_ERR_FAULTED);
    assert!(host.intents().is_empty(), "a faulted instance does nothing");
    drop(s);
    assert!(
        host.subscriptions()[0].active,
        "a faulted instance is freed without running its on_destroy"
    );
}

#[test]
fn unknown_and_short_events_are_skipped() {
    let host = FakeHost::new();
    let plugin = host.load(tickwork_plugin_descriptor()).unwrap();
    let mut s = plugin
        .strategy(Buyer::TYPE_ID, r#"{"symbol":"IWM"}"#)
        .unwrap();
    // A header of kind 77 and 40 bytes: header words then two payload words.
    let mut record = [0u64; 5];
    record[0] = 40 | (77u64 << 32);
    assert_eq!(s.send_raw(&record), TW_OK);
    // A bar header claiming 24 bytes: too short for a bar, skipped rather than read past.
    let mut short = [0u64; 3];
    short[0] = 24 | ((TW_EV_BAR as u64) << 32);
    assert_eq!(s.send_raw(&short), TW_OK);
    assert!(host.intents().is_empty(), "neither reached the strategy");
}

#[test]
fn a_missing_service_is_a_clear_error() {
    let host = FakeHost::with_permissions(FakePermissions {
        orders: false,
        ..FakePermissions::default()
    });
    let plugin = host.load(tickwork_plugin_descriptor()).unwrap();
    let mut s = plugin
        .strategy(Buyer::TYPE_ID, r#"{"symbol":"SPY"}"#)
        .unwrap();
    let spy = host.instrument_id("SPY").unwrap();
    assert_eq!(s.bar(spy, dec!(600)), TW_ERR);
    assert!(
        host.logged("host service tickwork.host.orders/1 is not available (not granted"),
        "{:?}",
        host.log_lines()
    );
    let host2 = FakeHost::with_permissions(FakePermissions {
        market_data: false,
        ..FakePermissions::default()
    });
    let plugin2 = host2.load(tickwork_plugin_descriptor()).unwrap();
    let err = plugin2
        .strategy(Buyer::TYPE_ID, r#"{"symbol":"SPY"}"#)
        .err()
        .unwrap();
    assert!(
        err.contains("tickwork.host.market-data/1 is not available"),
        "{err}"
    );
}

#[test]
fn a_panic_in_destroy_is_logged_and_leaks() {
    let host = FakeHost::new();
    let plugin = host.load(tickwork_plugin_descriptor()).unwrap();
    let s = plugin.strategy(BadDestroy::TYPE_ID, "{}").unwrap();
    drop(s);
    assert!(host.logged("panic in strategy.destroy: destroy went wrong"));
    assert!(host.logged("instance leaked"));
}

#[test]
fn null_arguments_are_refused() {
    let host = FakeHost::new();
    let plugin = host.load(tickwork_plugin_descriptor()).unwrap();
    let table = plugin.capability(TW_CAP_STRATEGY_V1).cast::<TwStrategyV1>();
    // SAFETY: null arguments are what is being tested; each is checked before use.
    unsafe {
        let t = *table;
        assert!(
            (t.create.unwrap())(core::ptr::null(), core::ptr::null_mut(), str_to_tw("{}"))
                .is_null()
        );
        let (inst, _) = host.new_instance();
        let _ = inst;
        assert!((t.create.unwrap())(host.api(), core::ptr::null_mut(), str_to_tw("{}")).is_null());
        assert_eq!(
            (t.on_event.unwrap())(core::ptr::null_mut(), core::ptr::null()),
            TW_ERR_BAD_ARG
        );
        (t.destroy.unwrap())(core::ptr::null_mut());
        let d = tickwork_plugin_descriptor();
        assert_eq!((d.init.unwrap())(core::ptr::null()), TW_ERR_BAD_ARG);
        let rule = plugin
            .capability(TW_CAP_MARGIN_RULE_V1)
            .cast::<TwMarginRuleV1>();
        assert_eq!(
            ((*rule).compute.unwrap())(core::ptr::null(), core::ptr::null_mut()),
            TW_ERR_BAD_ARG
        );
    }
}

#[test]
fn a_margin_rule_adds_and_a_panic_is_contained() {
    let host = FakeHost::new();
    let plugin = host.load(tickwork_plugin_descriptor()).unwrap();
    let rule = plugin.margin_rule(AddOne::RULE_ID).unwrap();
    let mut input = MarginInput {
        legs: vec![MarginLeg::stock("SPY", dec!(10), dec!(600))],
        equity: Some(dec!(50000)),
        initial: dec!(1500),
        maintenance: dec!(1500),
    };
    assert_eq!(
        rule.compute(&input),
        Ok(MarginOutcome::AddOn {
            initial: dec!(1.00),
            maintenance: dec!(1.00),
            reason: "one more on 1 legs".to_owned()
        })
    );
    input.legs.push(MarginLeg::stock("BOOM", dec!(1), dec!(1)));
    let (status, reason) = rule.compute(&input).unwrap_err();
    assert_eq!(status, TW_ERR_PANICKED);
    assert!(reason.contains("boom in compute"), "{reason}");
    input.legs.clear();
    assert_eq!(rule.compute(&input), Err((TW_ERR, "no legs".to_owned())));
}

mod panicking_init {
    use super::*;

    fn init(host: &PluginHost) -> Result<(), String> {
        host.log(TW_LOG_INFO, "about to fail");
        panic!("init blew up");
    }

    crate::declare_plugin! {
        id: "org.tickwork.test.bad-init",
        version: "0.1.0",
        init: init,
        strategies: [Buyer],
        margin_rules: [],
        panels: [],
    }

    #[test]
    fn a_panic_in_init_is_panicked_and_the_plugin_offers_nothing() {
        let host = FakeHost::new();
        let err = host.load(tickwork_plugin_descriptor()).err().unwrap();
        assert_eq!(err, format!("init returned status {TW_ERR_PANICKED}"));
        assert!(
            host.logged("panic in init: init blew up"),
            "{:?}",
            host.log_lines()
        );
        let get = tickwork_plugin_descriptor().get_capability.unwrap();
        // SAFETY: a `'static` id.
        assert!(unsafe { get(str_to_tw(TW_CAP_STRATEGY_V1)) }.is_null());
    }
}
