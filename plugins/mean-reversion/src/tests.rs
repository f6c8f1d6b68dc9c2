//! The strategy against the SDK's fake host.

use std::collections::VecDeque;

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use tickwork_plugin_api::abi::TW_OK;
use tickwork_plugin_api::sdk::testing::{FakeHost, FakePermissions, FakeStrategy};
use tickwork_plugin_api::sdk::{Event, Fill, OrderStatus, OrderUpdate, Side};

use super::*;

const PARAMS: &str = r#"{"symbol":"SPY","window":20,"entry_z":"2.0","qty":"10"}"#;

/// Twenty closes alternating 100 and 101: mean 100.5, deviation 0.5.
fn warm_up(s: &mut FakeStrategy<'_>, spy: u32) {
    for i in 0..20 {
        let close = if i % 2 == 0 { dec!(100) } else { dec!(101) };
        assert_eq!(s.bar(spy, close), TW_OK);
    }
}

fn filled(s: &mut FakeStrategy<'_>, spy: u32, intent_id: u64, side: Side, qty: Decimal) {
    let update = OrderUpdate {
        instrument_id: spy,
        ts_unix_ns: 0,
        intent_id,
        status: OrderStatus::Filled,
        filled: qty,
        remaining: Decimal::ZERO,
        avg_fill_price: dec!(99),
        reason: "".into(),
    };
    assert_eq!(s.send(&Event::Order(update)), TW_OK);
    let fill = Fill {
        instrument_id: spy,
        ts_unix_ns: 0,
        intent_id,
        side: Some(side),
        quantity: qty,
        price: dec!(99),
        commission: dec!(1),
    };
    assert_eq!(s.send(&Event::Fill(fill)), TW_OK);
}

#[test]
fn z_score_is_exact() {
    let window: VecDeque<Decimal> = (0..20)
        .map(|i| if i % 2 == 0 { dec!(100) } else { dec!(101) })
        .collect();
    assert_eq!(z_score(&window, dec!(99)), Some(dec!(-3)));
    assert_eq!(z_score(&window, dec!(101.5)), Some(dec!(2)));
    let flat: VecDeque<Decimal> = [dec!(5), dec!(5)].into();
    assert_eq!(z_score(&flat, dec!(6)), None);
    assert_eq!(z_score(&VecDeque::from([dec!(1)]), dec!(2)), None);
}

#[test]
fn params_name_the_field_at_fault() {
    let p = Params::parse(PARAMS).unwrap();
    assert_eq!((p.window, p.entry_z, p.qty), (20, dec!(2.0), dec!(10)));
    for (json, expect) in [
        (
            r#"{"symbol":"SPY","window":1,"entry_z":"2","qty":"1"}"#,
            "`window` must be at least 2",
        ),
        (
            r#"{"symbol":"SPY","window":5,"entry_z":"-1","qty":"1"}"#,
            "`entry_z` must be positive",
        ),
        (
            r#"{"symbol":"SPY","window":5,"entry_z":"1","qty":"0"}"#,
            "`qty` must be positive",
        ),
        (
            r#"{"symbol":" ","window":5,"entry_z":"1","qty":"1"}"#,
            "`symbol` is empty",
        ),
        (
            r#"{"symbol":"SPY","window":5,"entry_z":"1"}"#,
            "missing field `qty`",
        ),
        (
            r#"{"symbol":"SPY","window":5,"entry_z":"1","qty":"1","x":1}"#,
            "unknown field `x`",
        ),
    ] {
        let err = Params::parse(json).unwrap_err();
        assert!(err.contains(expect), "{json}: {err}");
    }
}

#[test]
fn buys_below_minus_entry_z_then_goes_flat_at_the_mean() {
    let host = FakeHost::new();
    let plugin = host.load(tickwork_plugin_descriptor()).unwrap();
    let mut s = plugin.strategy(MeanReversion::TYPE_ID, PARAMS).unwrap();
    let spy = host.instrument_id("SPY").unwrap();
    warm_up(&mut s, spy);
    assert!(host.intents().is_empty(), "no signal inside ±2");
    assert_eq!(s.bar(spy, dec!(99)), TW_OK); // z = −3
    let intents = host.intents();
    assert_eq!(intents.len(), 1);
    assert_eq!(intents[0].side, Some(Side::Buy));
    assert_eq!(intents[0].quantity, dec!(10));
    assert_eq!(intents[0].tag, "z=-3.00");
    assert_eq!(s.bar(spy, dec!(98)), TW_OK);
    assert_eq!(host.intents().len(), 1, "nothing new while an intent works");
    filled(&mut s, spy, intents[0].intent_id, Side::Buy, dec!(10));
    assert_eq!(s.bar(spy, dec!(101)), TW_OK); // above the mean: flatten
    let intents = host.intents();
    assert_eq!(intents.len(), 2);
    assert_eq!(intents[1].side, Some(Side::Sell));
    assert_eq!(intents[1].quantity, dec!(10));
}

#[test]
fn sells_above_entry_z() {
    let host = FakeHost::new();
    let plugin = host.load(tickwork_plugin_descriptor()).unwrap();
    let mut s = plugin.strategy(MeanReversion::TYPE_ID, PARAMS).unwrap();
    let spy = host.instrument_id("SPY").unwrap();
    warm_up(&mut s, spy);
    assert_eq!(s.bar(spy, dec!(101.5)), TW_OK); // z = +2: not above
    assert!(host.intents().is_empty());
    assert_eq!(s.bar(spy, dec!(103)), TW_OK);
    let intents = host.intents();
    assert_eq!(intents.len(), 1);
    assert_eq!(intents[0].side, Some(Side::Sell));
    assert_eq!(intents[0].quantity, dec!(10));
}

#[test]
fn closes_survive_a_restart_through_the_kv_store() {
    let host = FakeHost::new();
    let plugin = host.load(tickwork_plugin_descriptor()).unwrap();
    let mut first = plugin.strategy(MeanReversion::TYPE_ID, PARAMS).unwrap();
    let spy = host.instrument_id("SPY").unwrap();
    warm_up(&mut first, spy);
    drop(first);
    assert_eq!(host.kv("closes/SPY").unwrap().split(',').count(), 20);
    let mut second = plugin.strategy(MeanReversion::TYPE_ID, PARAMS).unwrap();
    assert!(host.logged("restored 20 closes"));
    assert_eq!(second.bar(spy, dec!(99)), TW_OK);
    assert_eq!(host.intents().len(), 1, "no new warm-up needed");
}

#[test]
fn a_denied_order_is_logged_and_trading_goes_on() {
    let host = FakeHost::with_permissions(FakePermissions {
        orders: false,
        storage: false,
        ..FakePermissions::default()
    });
    let plugin = host.load(tickwork_plugin_descriptor()).unwrap();
    let mut s = plugin.strategy(MeanReversion::TYPE_ID, PARAMS).unwrap();
    assert!(host.logged("no storage grant"));
    let spy = host.instrument_id("SPY").unwrap();
    warm_up(&mut s, spy);
    assert_eq!(s.bar(spy, dec!(99)), TW_OK);
    assert!(host.logged("order not sent: host service tickwork.host.orders/1 is not available"));
}
