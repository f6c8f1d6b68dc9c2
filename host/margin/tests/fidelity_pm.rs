//! Fidelity to public sources, portfolio margin of long options and long straddles.
//! - CBOE, "Margin Requirement Examples for Sample Options-based Positions" (the comparison table
//!   published with CBOE's portfolio margining rules, prices as of the close of 2007-02-23): long
//!   100 IBM Apr 100 puts @ 3.18 + 100 calls @ 1.68 → portfolio margin $7,500; long 100 SPX Apr 1450
//!   puts @ 18.72 + 100 calls @ 27.56 → $7,500: 200 contracts × the $37.50 minimum (OCC TIMS).
//! - FINRA Rule 4210(g): the minimum is $0.375 × multiplier per contract, not to exceed the market
//!   value of a long option; a long option never requires more than its value.

mod common;
use common::*;
use rust_decimal::Decimal;
use tickwork_margin::{Method, Portfolio, UnderlyingClass, compute};

fn pm(p: &Portfolio) -> Decimal {
    let r = compute(p, Method::Portfolio).unwrap();
    assert_eq!(r.initial, r.maintenance);
    r.maintenance
}

fn on_2007_02_23(
    sym: &str,
    price: &str,
    class: UnderlyingClass,
    pos: Vec<tickwork_margin::Position>,
) -> Portfolio {
    let mut p = portfolio(&[(sym, price, class)], pos);
    p.as_of = "2007-02-23".parse().ok();
    p
}

const APR_2007: &str = "2007-04-20";

#[test]
fn cboe_long_straddle_ibm_costs_the_minimum_7500() {
    // IBM 97.73; volatility implied from each mark. No price point loses more than the minimum
    // (the vol-down stress the engine used to add made this 9,517.22; the SPX one 38,891.39).
    let p = on_2007_02_23(
        "IBM",
        "97.73",
        UnderlyingClass::Equity,
        vec![
            opt("IBM", 'P', "100", APR_2007, 100, "3.18"),
            opt("IBM", 'C', "100", APR_2007, 100, "1.68"),
        ],
    );
    assert_eq!(pm(&p), d("7500"));
}

#[test]
fn cboe_long_straddle_spx_costs_the_minimum_7500() {
    // SPX closed at 1451.19 on 2007-02-23 (range +6% / −8%).
    let p = on_2007_02_23(
        "SPX",
        "1451.19",
        UnderlyingClass::BroadIndex,
        vec![
            opt("SPX", 'P', "1450", APR_2007, 100, "18.72"),
            opt("SPX", 'C', "1450", APR_2007, 100, "27.56"),
        ],
    );
    assert_eq!(pm(&p), d("7500"));
}

#[test]
fn long_dated_long_straddle_costs_the_minimum_not_a_volatility_loss() {
    // AAPL 190 straddle one year out, iv 30%: a price move only gains; 2 × $37.50 = 75.
    let mut c = opt("AAPL", 'C', "190", "2027-11-19", 1, "23.00");
    let mut p_ = opt("AAPL", 'P', "190", "2027-11-19", 1, "24.00");
    c.iv = Some(d("0.30"));
    p_.iv = Some(d("0.30"));
    assert_eq!(pm(&aapl(vec![c, p_])), d("75"));
}

#[test]
fn the_minimum_of_a_long_option_is_capped_at_its_market_value() {
    // 4 long deep OTM puts @ 0.01: min($37.50, $1.00) × 4 = 4.00 (was 150).
    let mut o = opt("AAPL", 'P', "100", DEC, 4, "0.01");
    o.iv = Some(d("0.30"));
    assert_eq!(pm(&aapl(vec![o])), d("4"));
}

#[test]
fn a_long_option_never_requires_more_than_its_value() {
    // Long 1 AAPL 150 P marked 0.05 but given iv 60% (model value ≈ 0.77): at +15% the model
    // loses ≈ 0.7 a share, yet the position can lose only its value, 0.05 × 100 = 5.
    let mut o = opt("AAPL", 'P', "150", DEC, 1, "0.05");
    o.iv = Some(d("0.60"));
    assert_eq!(pm(&aapl(vec![o])), d("5"));
}

#[test]
fn short_options_keep_the_volatility_up_stress() {
    // The same straddle short: the worst point is a ±15% move with σ × 1.15, far above 75.
    let mut c = opt("AAPL", 'C', "190", "2027-11-19", -1, "23.00");
    let mut p_ = opt("AAPL", 'P', "190", "2027-11-19", -1, "24.00");
    c.iv = Some(d("0.30"));
    p_.iv = Some(d("0.30"));
    let p = aapl(vec![c, p_]);
    assert!(pm(&p) > d("1000"), "{}", pm(&p));
    let r = compute(&p, Method::Portfolio).unwrap();
    assert!(
        r.groups[0].detail.contains("vol up"),
        "{}",
        r.groups[0].detail
    );
}
