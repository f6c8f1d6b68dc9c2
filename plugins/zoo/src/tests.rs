//! Each mode in-process against the SDK's fake host (except those that hang or kill the
//! process: `busy-loop`, `abort`, `segfault`, which the host's tests run in a child).

use std::sync::{Mutex, MutexGuard};

use rust_decimal_macros::dec;
use tickwork_plugin_api::abi::*;
use tickwork_plugin_api::sdk::testing::{FakeHost, FakePermissions};
use tickwork_plugin_api::sdk::{MarginInput, MarginLeg, MarginOutcome, Side};

use crate::mode::{self, Mode};

const STRATEGY: &str = "org.tickwork.zoo.strategy";
const MARGIN: &str = "org.tickwork.zoo.margin";

/// The mode is process-wide: one test at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn select(name: &str) -> (MutexGuard<'static, ()>, *const TwPluginDescriptor) {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mode = mode::select(name);
    (guard, crate::descriptor::for_mode(mode))
}

fn load<'h>(
    host: &'h FakeHost,
    d: *const TwPluginDescriptor,
) -> Result<tickwork_plugin_api::sdk::testing::FakePlugin<'h>, String> {
    assert!(!d.is_null());
    // SAFETY: a `'static` descriptor of the zoo, at least v1.0 in size.
    host.load(unsafe { &*d })
}

#[test]
fn every_mode_has_a_distinct_name_that_parses_back() {
    assert_eq!(Mode::ALL.len(), 24);
    for m in Mode::ALL {
        assert_eq!(Mode::parse(m.name()), Some(*m));
    }
    assert_eq!(Mode::parse(""), Some(Mode::Ok));
    assert_eq!(Mode::parse("panic-everywhere"), None);
}

#[test]
fn ok_mode_buys_once_and_adds_one() {
    let (_g, d) = select("ok");
    let host = FakeHost::new();
    let plugin = load(&host, d).unwrap();
    assert_eq!(plugin.id(), "org.tickwork.zoo");
    let mut s = plugin.strategy(STRATEGY, r#"{"symbol":"SPY"}"#).unwrap();
    let spy = host.instrument_id("SPY").unwrap();
    assert_eq!(s.bar(spy, dec!(600)), TW_OK);
    assert_eq!(s.tick(spy, dec!(600), dec!(600.02)), TW_OK);
    let intents = host.intents();
    assert_eq!(intents.len(), 1);
    assert_eq!(intents[0].side, Some(Side::Buy));
    assert_eq!(intents[0].quantity, dec!(1));
    let rule = plugin.margin_rule(MARGIN).unwrap();
    let input = MarginInput {
        legs: vec![MarginLeg::stock("SPY", dec!(1), dec!(600))],
        ..MarginInput::default()
    };
    let Ok(MarginOutcome::AddOn { initial, .. }) = rule.compute(&input) else {
        panic!("no add-on")
    };
    assert_eq!(initial, dec!(1.00));
    let missing = plugin.strategy(STRATEGY, "{}").err().unwrap();
    assert!(
        missing.contains("`symbol` (a string) is required"),
        "{missing}"
    );
}

#[test]
fn descriptor_modes_are_refused_by_the_loader_checks() {
    let host = FakeHost::new();
    for (mode, expect) in [
        ("wrong-major", "ABI 2.0 not supported"),
        ("newer-minor", "ABI 1.99 not supported"),
        (
            "small-descriptor",
            "struct_size 40 is below the v1.0 size 88",
        ),
        ("null-fn", "null init"),
        ("bad-utf8-id", "id is not UTF-8"),
    ] {
        let (_g, d) = select(mode);
        let err = load(&host, d).err().unwrap_or_default();
        assert!(err.contains(expect), "{mode}: {err}");
    }
    let (g, d) = select("null-descriptor");
    assert!(d.is_null());
    drop(g);
    let (g, d) = select("big-descriptor");
    // SAFETY: the zoo's static descriptor.
    assert_eq!(unsafe { (*d).struct_size }, v1_0_size::DESCRIPTOR + 32);
    assert!(
        load(&host, d).is_ok(),
        "a longer descriptor with zero tail loads"
    );
    drop(g);
    let (_g, d) = select("id-mismatch");
    assert_eq!(load(&host, d).unwrap().id(), "org.tickwork.zoo.other");
}

#[test]
fn panics_in_every_slot_are_contained() {
    let (g, d) = select("panic-init");
    let host = FakeHost::new();
    assert_eq!(
        load(&host, d).err().unwrap(),
        format!("init returned status {TW_ERR_PANICKED}")
    );
    assert!(host.logged("panic in init: zoo: panic in init, as asked"));
    drop(g);

    let (g, d) = select("panic-get-capability");
    let host = FakeHost::new();
    let plugin = load(&host, d).unwrap();
    assert!(plugin.capability(TW_CAP_STRATEGY_V1).is_null());
    assert!(host.logged("panic in get_capability: zoo: panic in get_capability"));
    drop(g);

    let (g, d) = select("panic-create");
    let host = FakeHost::new();
    let plugin = load(&host, d).unwrap();
    let err = plugin
        .strategy(STRATEGY, r#"{"symbol":"SPY"}"#)
        .err()
        .unwrap();
    assert!(err.contains("panic in strategy.create"), "{err}");
    drop(g);

    let (g, d) = select("panic-on-event");
    let host = FakeHost::new();
    let plugin = load(&host, d).unwrap();
    let mut s = plugin.strategy(STRATEGY, r#"{"symbol":"SPY"}"#).unwrap();
    assert_eq!(s.bar(1, dec!(600)), TW_ERR_PANICKED);
    assert_eq!(s.bar(1, dec!(600)), TW_ERR_FAULTED);
    drop(s);
    drop(g);

    let (g, d) = select("panic-destroy");
    let host = FakeHost::new();
    let plugin = load(&host, d).unwrap();
    drop(plugin.strategy(STRATEGY, r#"{"symbol":"SPY"}"#).unwrap());
    assert!(host.logged("panic in strategy.destroy: zoo: panic in destroy"));
    drop(g);

    let (_g, d) = select("panic-compute");
    let host = FakeHost::new();
    let plugin = load(&host, d).unwrap();
    let (status, reason) = plugin
        .margin_rule(MARGIN)
        .unwrap()
        .compute(&MarginInput::default())
        .unwrap_err();
    assert_eq!(status, TW_ERR_PANICKED);
    assert!(reason.contains("zoo: panic in compute"), "{reason}");
}

#[test]
fn null_returns_short_tables_and_bad_statuses_show() {
    let (g, d) = select("null-capability");
    let host = FakeHost::new();
    let plugin = load(&host, d).unwrap();
    assert!(plugin.capability(TW_CAP_STRATEGY_V1).is_null());
    assert!(plugin.capability(TW_CAP_MARGIN_RULE_V1).is_null());
    drop(g);

    let (g, d) = select("null-create");
    let host = FakeHost::new();
    let plugin = load(&host, d).unwrap();
    let err = plugin
        .strategy(STRATEGY, r#"{"symbol":"SPY"}"#)
        .err()
        .unwrap();
    assert!(err.starts_with("create returned null"), "{err}");
    drop(g);

    let (g, d) = select("small-strategy-table");
    let host = FakeHost::new();
    let plugin = load(&host, d).unwrap();
    let err = plugin
        .strategy(STRATEGY, r#"{"symbol":"SPY"}"#)
        .err()
        .unwrap();
    assert!(
        err.contains("struct_size 8 is below the v1.0 size 48"),
        "{err}"
    );
    drop(g);

    let (_g, d) = select("bad-status");
    let host = FakeHost::new();
    let plugin = load(&host, d).unwrap();
    let mut s = plugin.strategy(STRATEGY, r#"{"symbol":"SPY"}"#).unwrap();
    assert_eq!(s.bar(1, dec!(600)), 77);
}

#[test]
fn an_unknown_mode_fails_init_naming_the_value() {
    let (_g, d) = select("explode");
    let host = FakeHost::new();
    assert_eq!(
        load(&host, d).err().unwrap(),
        format!("init returned status {TW_ERR}")
    );
    assert!(host.logged("TICKWORK_ZOO=`explode` is not a zoo mode (one of: ok, panic-init,"));
}

#[test]
fn a_denied_trade_is_logged_and_the_strategy_carries_on() {
    let (_g, d) = select("no-permission-trade");
    let host = FakeHost::with_permissions(FakePermissions {
        orders: false,
        ..FakePermissions::default()
    });
    let plugin = load(&host, d).unwrap();
    let mut s = plugin.strategy(STRATEGY, r#"{"symbol":"SPY"}"#).unwrap();
    assert_eq!(s.bar(1, dec!(600)), TW_OK);
    assert!(host.intents().is_empty());
    assert!(
        host.logged("zoo: submit failed: host service tickwork.host.orders/1 is not available")
    );
}

/// The panel under GTK (needs a display: the test command runs under Xvfb).
#[cfg(feature = "gtk")]
#[test]
fn the_panel_shows_prices_and_a_panic_in_its_create_is_contained() {
    use tickwork_plugin_api::sdk::gtk::{self, prelude::*};
    use tickwork_plugin_api::sdk::{Event, Tick};

    gtk::init().expect("GTK initialises (run under Xvfb)");
    let (g, d) = select("ok");
    let host = FakeHost::new();
    let plugin = load(&host, d).unwrap();
    let mut panel = plugin.panel("org.tickwork.zoo.panel").unwrap();
    let spy = host.instrument_id("SPY").unwrap();
    let tick = Tick {
        instrument_id: spy,
        ts_unix_ns: 0,
        bid: Some(dec!(600.00)),
        ask: Some(dec!(600.10)),
        last: None,
        bid_size: None,
        ask_size: None,
        last_size: None,
    };
    assert_eq!(panel.send(&Event::Tick(tick)), TW_OK);
    let label = panel
        .widget
        .first_child()
        .and_downcast::<gtk::Label>()
        .unwrap();
    assert_eq!(label.text(), "zoo panel: SPY 600.05");
    drop(panel);
    drop(g);

    let (_g, d) = select("panic-panel-create");
    let host = FakeHost::new();
    let plugin = load(&host, d).unwrap();
    assert!(plugin.panel("org.tickwork.zoo.panel").is_err());
    assert!(host.logged("panic in panel.create: zoo: panic in panel create"));
}
