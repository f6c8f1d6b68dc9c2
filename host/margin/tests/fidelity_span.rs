//! Fidelity to public sources, SPAN input in CME's standard 16-scenario risk-array layout, given
//! through the portfolio file. Per long contract, losses positive: 1–2 price unchanged (vol up,
//! down), 3–4 up 1/3 of the price scan range, 5–6 down 1/3, 7–8 up 2/3, 9–10 down 2/3, 11–12 up
//! 3/3, 13–14 down 3/3, 15–16 the extreme moves up and down, published already weighted (CME:
//! 35% of a 3× move). Sources: CME Group's SPAN methodology pages ("Risk Arrays"), and the worked
//! S&P 500 covered write of L. McMillan, Options as a Strategic Investment, ch. 34 (printed there
//! as profit/loss, so negated here into losses).

mod common;
use common::*;
use tickwork_margin::{Method, compute, parse_portfolio};

/// McMillan's arrays: long 1 S&P future (price scan range 20 points × $500 = 10,000; extreme move
/// 7,000 as published) and long 1 Dec 410 call, converted to losses.
const FUTURE: &str = "[0, 0, -3330, -3330, 3330, 3330, -6670, -6670, 6670, 6670, -10000, -10000, 10000, 10000, -7000, 7000]";
const CALL: &str = "[-460, 610, -2640, -1730, 1270, 2340, -5210, -4540, 2540, 3430, -8060, -7640, 3380, 3990, -3130, 1500]";

fn covered_write(call_qty: i64, call_mark: &str) -> String {
    format!(
        r#"{{"as_of": "2026-11-24",
        "underlyings": {{"SP": {{"price": "412.00", "class": "future"}}}},
        "positions": [
          {{"kind": "future", "symbol": "SP", "expiry": "2026-12-17", "multiplier": 500, "qty": 1, "price": "412.00"}},
          {{"kind": "future_option", "symbol": "SP", "right": "C", "strike": "410", "expiry": "2026-12-17",
           "multiplier": 500, "qty": {call_qty}, "price": "{call_mark}"}}],
        "risk_arrays": [
          {{"symbol": "SP", "scenarios": {FUTURE}}},
          {{"symbol": "SP", "right": "C", "strike": "410", "scenarios": {CALL}}}]}}"#
    )
}

#[test]
fn mcmillan_covered_write_scanning_risk_is_6620() {
    // Long future + short call: the largest loss is "futures down 3/3, vol up", 10,000 − 3,380
    // = 6,620 (McMillan). SPAN then adds the short call's value (net option value −9.20 × 500):
    // 6,620 + 4,600 = 11,220 maintenance; initial × 1.10 = 12,342.
    let p = parse_portfolio(&covered_write(-1, "9.20")).unwrap();
    let r = compute(&p, Method::Futures).unwrap();
    assert_eq!((r.initial, r.maintenance), (d("12342"), d("11220")));
    assert!(
        r.groups[0]
            .detail
            .contains("scanning risk 6620 (scenario 13)"),
        "{}",
        r.groups[0].detail
    );
}

#[test]
fn mcmillan_long_call_scanning_risk_is_3990() {
    // The long call alone: "futures down 3/3, vol down" = 3,990 (McMillan); a long option's
    // requirement is that less its value, here 3,990 − 2.00 × 500 = 2,990.
    let text = covered_write(1, "2.00").replace(
        r#"{"kind": "future", "symbol": "SP", "expiry": "2026-12-17", "multiplier": 500, "qty": 1, "price": "412.00"},"#,
        "",
    );
    let p = parse_portfolio(&text).unwrap();
    let r = compute(&p, Method::Futures).unwrap();
    assert_eq!(r.maintenance, d("2990"));
    assert!(
        r.groups[0]
            .detail
            .contains("scanning risk 3990 (scenario 14)")
    );
}

/// A short deep out-of-the-money ES put: only the extreme down move (scenario 16) really hurts.
fn short_put(extremes: &str, fraction: &str) -> String {
    format!(
        r#"{{"as_of": "2026-11-24",
        "underlyings": {{"ES": {{"price": "5912.25", "class": "future"}}}},
        "positions": [{{"kind": "future_option", "symbol": "ES", "right": "P", "strike": "5000", "expiry": "2026-12-18",
           "multiplier": 50, "qty": -2, "price": "0.50"}}],
        "risk_arrays": [{{"symbol": "ES", "expiry": "2026-12-18", "right": "P", "strike": "5000",
           "scenarios": [-5, 5, 10, 15, -30, -20, 20, 25, -70, -55, 30, 35, -150, -120, {extremes}]{fraction}}}]}}"#
    )
}

#[test]
fn published_extreme_scenarios_count_as_given() {
    // Scenario 16 published as −1,100 per long put (35% of the 3× move already applied): short 2
    // → scanning risk 2,200; + short option value 2 × 0.50 × 50 = 50 → 2,250; initial 2,475.
    // (Weighting the published figure by 0.35 again gave 770 + 50 = 820.)
    let p = parse_portfolio(&short_put("40, -1100", "")).unwrap();
    let r = compute(&p, Method::Futures).unwrap();
    assert_eq!((r.initial, r.maintenance), (d("2475"), d("2250")));
    assert!(r.groups[0].detail.contains("(scenario 16)"));
}

#[test]
fn full_size_extremes_are_weighted_by_extreme_fraction() {
    // Arrays whose extreme losses are at full size: "extreme_fraction": 0.35 weights them,
    // 2 × 3,000 × 0.35 = 2,100; + 50 = 2,150.
    let p = parse_portfolio(&short_put("40, -3000", r#", "extreme_fraction": "0.35""#)).unwrap();
    assert_eq!(compute(&p, Method::Futures).unwrap().maintenance, d("2150"));
}

#[test]
fn a_risk_array_needs_exactly_16_scenarios() {
    let text = short_put("40", "");
    assert_eq!(
        parse_portfolio(&text).unwrap_err().to_string(),
        "risk_arrays[0].scenarios: expected 16 scenarios, got 15"
    );
}
