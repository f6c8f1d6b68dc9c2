//! Golden wire tests: placeOrder bodies exactly as the official Python API (ibapi-stable
//! 10.50.2) encodes them at server version 178 (113 fields after the id), captured into
//! `tests/golden/`, decoded by the simulator's text codec without Python.

use rust_decimal::Decimal;
use tickwork_sim::codec::Codec;
use tickwork_sim::msg::Request;

fn decode(name: &str) -> Request {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    let body = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(
        body.iter().filter(|b| **b == 0).count(),
        114,
        "id + 113 fields"
    );
    Codec::Text
        .decode(&body)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn python_limit_what_if_order_at_178() {
    let Request::PlaceOrder {
        order_id,
        contract,
        order,
    } = decode("place_order_lmt_whatif_178.bin")
    else {
        panic!("not a placeOrder");
    };
    assert_eq!(
        (
            order_id,
            contract.symbol.as_str(),
            contract.sec_type.as_str()
        ),
        (7, "AAPL", "STK")
    );
    assert_eq!(
        (
            order.action.as_str(),
            order.order_type.as_str(),
            order.tif.as_str()
        ),
        ("BUY", "LMT", "GTC")
    );
    assert_eq!(order.total_quantity, Decimal::from(100));
    assert_eq!((order.lmt_price, order.aux_price), (Some(150.25), None));
    assert!(order.what_if && order.transmit);
}

#[test]
fn python_stop_bracket_child_at_178() {
    let Request::PlaceOrder {
        order_id, order, ..
    } = decode("place_order_stp_child_178.bin")
    else {
        panic!("not a placeOrder");
    };
    assert_eq!(order_id, 9);
    assert_eq!(
        (order.action.as_str(), order.order_type.as_str()),
        ("SELL", "STP")
    );
    assert_eq!(
        (order.aux_price, order.parent_id, order.transmit),
        (Some(99.5), 7, false)
    );
    assert_eq!(
        (order.account.as_str(), order.order_ref.as_str()),
        ("DU1000001", "bracket-sl")
    );
    assert!(!order.what_if);
}
