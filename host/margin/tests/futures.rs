//! margin-rules §5 (futures), one test per rule, with worked numbers.

mod common;
use common::*;
use tickwork_margin::{
    DatedMargin, Instrument, MarginResult, Method, OptionSpec, Portfolio, Position, Right,
    RiskArray, SpanParams, UnderlyingClass, compute,
};

fn es(positions: Vec<Position>) -> Portfolio {
    let mut p = portfolio(&[("ES", "5912.25", UnderlyingClass::Future)], positions);
    p.futures_margins.insert(
        "ES".into(),
        vec![DatedMargin {
            effective: None,
            initial: d("14575"),
            maintenance: d("13250"),
        }],
    );
    p
}

fn fop(right: Right, strike: &str, qty: &str, price: &str) -> Position {
    let spec = OptionSpec {
        expiry: DEC.parse().unwrap(),
        right,
        strike: d(strike),
        multiplier: rust_decimal::Decimal::from(50),
    };
    Position {
        symbol: "ES".into(),
        instrument: Instrument::FutureOption(spec),
        qty: d(qty),
        price: d(price),
        iv: None,
    }
}

fn futures(p: &Portfolio) -> MarginResult {
    compute(p, Method::Futures).unwrap()
}

#[test]
fn rule_5_per_contract_margin_scales_with_abs_quantity() {
    // 2 × 14,575 = 29,150 initial; 2 × 13,250 = 26,500 maintenance; short the same.
    let r = futures(&es(vec![future("ES", 2, "5912.25", 50)]));
    assert_eq!((r.initial, r.maintenance), (d("29150"), d("26500")));
    let r = futures(&es(vec![future("ES", -2, "5912.25", 50)]));
    assert_eq!((r.initial, r.maintenance), (d("29150"), d("26500")));
}

#[test]
fn rule_5_rates_are_effective_by_date() {
    let mut p = es(vec![future("ES", 1, "5912.25", 50)]);
    p.futures_margins.insert(
        "ES".into(),
        vec![
            DatedMargin {
                effective: "2026-11-01".parse().ok(),
                initial: d("14000"),
                maintenance: d("12700"),
            },
            DatedMargin {
                effective: "2026-11-20".parse().ok(),
                initial: d("14575"),
                maintenance: d("13250"),
            },
            DatedMargin {
                effective: "2026-12-01".parse().ok(),
                initial: d("16000"),
                maintenance: d("14500"),
            },
        ],
    );
    // as_of 2026-11-24: the 2026-11-20 rate.
    assert_eq!(futures(&p).maintenance, d("13250"));
}

#[test]
fn rule_5_futures_are_margined_by_futures_rules_under_reg_t_too() {
    let mut p = es(vec![future("ES", 1, "5912.25", 50)]);
    p.underlyings.insert(
        "AAPL".into(),
        tickwork_margin::Underlying::new("AAPL", d("187.20"), UnderlyingClass::Equity),
    );
    p.positions.push(stock("AAPL", 100, "187.20"));
    let r = compute(&p, Method::RegT).unwrap();
    assert_eq!((r.initial, r.maintenance), (d("19255"), d("17930")));
    // The futures method margins only the futures segment and says so.
    let f = futures(&p);
    assert_eq!(f.maintenance, d("13250"));
    assert!(
        f.groups
            .iter()
            .any(|g| g.label == "securities not margined")
    );
}

#[test]
fn rule_5_missing_rate_is_an_error_naming_the_input() {
    let mut p = es(vec![future("ES", 1, "5912.25", 50)]);
    p.futures_margins.clear();
    let e = compute(&p, Method::Futures).unwrap_err().to_string();
    assert!(
        e.starts_with("positions[0]: futures_margins.ES: missing"),
        "{e}"
    );
}

#[test]
fn rule_5_long_futures_options_are_paid_in_full() {
    let r = futures(&es(vec![fop(Right::Call, "6000", "3", "60")]));
    assert_eq!((r.initial, r.maintenance), (d("0"), d("0")));
}

#[test]
fn rule_5_short_futures_option_without_risk_array_is_charged_the_future_rate_plus_value() {
    // 1 × (13,250 + 60 × 50) = 16,250 maintenance; initial 14,575 + 3,000 = 17,575.
    let r = futures(&es(vec![fop(Right::Call, "6000", "-1", "60")]));
    assert_eq!((r.initial, r.maintenance), (d("17575"), d("16250")));
}

fn array(right: Option<Right>, strike: Option<&str>, values: [i64; 16], som: &str) -> RiskArray {
    RiskArray {
        symbol: "ES".into(),
        expiry: DEC.parse().ok(),
        right,
        strike: strike.map(d),
        scenarios: values.map(rust_decimal::Decimal::from),
        extreme_fraction: d("0.35"),
        short_option_minimum: d(som),
    }
}

/// A future's array: loss per long contract for −/+ 1/3, 2/3, 3/3 of a 3,000 scan range, extremes 6,000.
const FUT: [i64; 16] = [
    0, 0, -1000, -1000, 1000, 1000, -2000, -2000, 2000, 2000, -3000, -3000, 3000, 3000, -6000, 6000,
];

#[test]
fn rule_5_span_scanning_risk_is_the_largest_loss_with_extremes_at_35_percent() {
    // 2 long: scenario 13 = 2 × 3,000 = 6,000 > extreme 2 × 6,000 × 0.35 = 4,200. Initial × 1.10.
    let mut p = es(vec![future("ES", 2, "5912.25", 50)]);
    p.risk_arrays.push(array(None, None, FUT, "0"));
    let r = futures(&p);
    assert_eq!((r.initial, r.maintenance), (d("6600"), d("6000")));
}

#[test]
fn rule_5_span_short_option_minimum_and_net_option_value() {
    // Short 1 deep OTM call worth 2 × 50 = 100: its array loses at most 150; SOM 500 dominates.
    // max(150, 500) − NOV(−100) = 600.
    let mut p = es(vec![fop(Right::Call, "7000", "-1", "2")]);
    p.risk_arrays.push(array(
        Some(Right::Call),
        Some("7000"),
        [
            0, -10, 10, 0, -20, 20, 0, -30, 30, 0, -40, 40, 0, 150, 0, 300,
        ],
        "500",
    ));
    assert_eq!(futures(&p).maintenance, d("600"));
    // Long the same option: scanning loss ≤ premium, credited back: 0 (paid in full).
    let mut p = es(vec![fop(Right::Call, "7000", "1", "2")]);
    p.risk_arrays.push(array(
        Some(Right::Call),
        Some("7000"),
        [
            0, 10, -10, 0, 20, -20, 0, 30, -30, 0, 40, -40, 0, -150, 0, -300,
        ],
        "500",
    ));
    assert_eq!(futures(&p).maintenance, d("0"));
}

#[test]
fn rule_5_span_intra_commodity_spread_charge() {
    // Long Dec, short Mar: arrays offset exactly (scan 0); 1 spread × 300 charge = 300.
    let mut mar = future("ES", -1, "5950", 50);
    mar.instrument = Instrument::Future {
        expiry: "2027-03-19".parse().unwrap(),
        multiplier: rust_decimal::Decimal::from(50),
    };
    let mut p = es(vec![future("ES", 1, "5912.25", 50), mar]);
    p.risk_arrays.push(array(None, None, FUT, "0"));
    let mut a = array(None, None, FUT, "0");
    a.expiry = "2027-03-19".parse().ok();
    p.risk_arrays.push(a);
    p.span_params.insert(
        "ES".into(),
        SpanParams {
            spread_charge: d("300"),
            initial_ratio: d("1.1"),
        },
    );
    let r = futures(&p);
    assert_eq!((r.initial, r.maintenance), (d("330"), d("300")));
}
