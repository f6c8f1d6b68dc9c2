//! margin-rules §4 (portfolio margin), one test per rule, with worked numbers.

mod common;
use common::*;
use rust_decimal::Decimal;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use tickwork_margin::portfolio_margin::pricing::{self, Model};
use tickwork_margin::{
    Instrument, Method, OptionSpec, Portfolio, Position, Right, UnderlyingClass, compute,
};

fn pm(p: &Portfolio) -> tickwork_margin::MarginResult {
    compute(p, Method::Portfolio).unwrap()
}

fn group_maint(p: &Portfolio, label: &str) -> Decimal {
    pm(p)
        .groups
        .iter()
        .find(|g| g.label == label)
        .map(|g| g.maintenance)
        .unwrap()
}

#[test]
fn rule_4_equity_range_is_15_percent() {
    // 100 × 187.20 long: worst −15% = 2,808.
    let p = aapl(vec![stock("AAPL", 100, "187.20")]);
    assert_eq!(group_maint(&p, "AAPL"), d("2808"));
}

#[test]
fn rule_4_high_cap_broad_index_range_is_plus_6_minus_8() {
    // SPY 100 × 590 long: worst −8% = 4,720; short: worst +6% = 3,540.
    let p = portfolio(
        &[("SPY", "590", UnderlyingClass::Etf)],
        vec![stock("SPY", 100, "590")],
    );
    assert_eq!(group_maint(&p, "SPY"), d("4720"));
    let p = portfolio(
        &[("SPY", "590", UnderlyingClass::Etf)],
        vec![stock("SPY", -100, "590")],
    );
    assert_eq!(group_maint(&p, "SPY"), d("3540"));
}

#[test]
fn rule_4_other_broad_index_range_is_10_percent() {
    // 10 units of RUT at 2,400 = 24,000: ±10% = 2,400.
    let p = portfolio(
        &[("RUT", "2400", UnderlyingClass::BroadIndex)],
        vec![stock("RUT", 10, "2400")],
    );
    assert_eq!(group_maint(&p, "RUT"), d("2400"));
}

#[test]
fn rule_4_options_revalued_with_black_scholes_and_vol_stress() {
    // Short 1 AAPL 190 C, iv 23%, 24 days: worst is +15% with vol up (σ × 1.15).
    let mut o = opt("AAPL", 'C', "190", DEC, -1, "4.15");
    o.iv = Some(d("0.23"));
    let p = aapl(vec![o]);
    let t = 24.0 / 365.0;
    let base = pricing::price(Model::BlackScholes, Right::Call, 187.2, 190.0, t, 0.0, 0.23);
    let up = pricing::price(
        Model::BlackScholes,
        Right::Call,
        187.2 * 1.15,
        190.0,
        t,
        0.0,
        0.23 * 1.15,
    );
    let expected = Decimal::from_f64(100.0 * (up - base)).unwrap().round_dp(2);
    assert_eq!(group_maint(&p, "AAPL"), expected);
    let g = &pm(&p).groups[0];
    assert!(
        g.detail.contains("worst scenario price +15.00%, vol up"),
        "{}",
        g.detail
    );
}

#[test]
fn rule_4_implied_volatility_from_the_mark_when_iv_is_absent() {
    let t = 24.0 / 365.0;
    let mark = pricing::price(Model::BlackScholes, Right::Put, 187.2, 180.0, t, 0.0, 0.31);
    let mut with_iv = opt("AAPL", 'P', "180", DEC, -2, &format!("{mark:.6}"));
    let without = with_iv.clone();
    with_iv.iv = Some(d("0.31"));
    let a = group_maint(&aapl(vec![with_iv]), "AAPL").to_f64().unwrap();
    let b = group_maint(&aapl(vec![without]), "AAPL").to_f64().unwrap();
    assert!((a - b).abs() < 0.05, "{a} vs {b}");
}

#[test]
fn rule_4_minimum_is_0_375_times_multiplier_per_contract() {
    // 4 short deep OTM puts: even −15% with vol up leaves them nearly worthless; minimum
    // 4 × 37.50 = 150. (A long option's minimum is capped at its value: tests/fidelity_pm.rs.)
    let mut o = opt("AAPL", 'P', "100", DEC, -4, "0.01");
    o.iv = Some(d("0.30"));
    assert_eq!(group_maint(&aapl(vec![o]), "AAPL"), d("150"));
}

#[test]
fn rule_4_offsets_within_a_class_group() {
    // Long 100 shares + long 1 ATM put: the put caps the downside, far below 2,808.
    let mut put = opt("AAPL", 'P', "187.5", DEC, 1, "4.00");
    put.iv = Some(d("0.25"));
    let hedged = group_maint(&aapl(vec![stock("AAPL", 100, "187.20"), put]), "AAPL");
    assert!(hedged < d("800"), "{hedged}");
}

#[test]
fn rule_4_futures_options_use_black_76() {
    // Long 1 ES future + short 1 ES 6000 C, iv 18%: range +6/−8 (high-cap broad index).
    let spec = OptionSpec {
        expiry: "2026-12-18".parse().unwrap(),
        right: Right::Call,
        strike: d("6000"),
        multiplier: Decimal::from(50),
    };
    let fop = Position {
        symbol: "ES".into(),
        instrument: Instrument::FutureOption(spec),
        qty: d("-1"),
        price: d("60"),
        iv: Some(d("0.18")),
    };
    let p = portfolio(
        &[("ES", "5912.25", UnderlyingClass::Future)],
        vec![future("ES", 1, "5912.25", 50), fop],
    );
    let t = 24.0 / 365.0;
    let base = pricing::price(Model::Black76, Right::Call, 5912.25, 6000.0, t, 0.0, 0.18);
    // Worst: −8% (covered call loses on the way down), vol unchanged or up; compute both.
    let worst = [0.18, 0.18 * 1.15]
        .iter()
        .map(|&v| {
            let opt = pricing::price(
                Model::Black76,
                Right::Call,
                5912.25 * 0.92,
                6000.0,
                t,
                0.0,
                v,
            );
            -(50.0 * 5912.25 * -0.08 - 50.0 * (opt - base))
        })
        .fold(0.0_f64, f64::max);
    let got = group_maint(&p, "ES").to_f64().unwrap();
    assert!((got - worst).abs() < 0.02, "{got} vs {worst}");
}

#[test]
fn rule_4_ib_concentration_stress() {
    // Three groups, 100 × 100 long each: by groups 3 × 1,500 = 4,500; stressed: two at 30% (3,000
    // each) + one at 5% (500) = 6,500, which becomes the requirement.
    let p = portfolio(
        &[
            ("AAA", "100", UnderlyingClass::Equity),
            ("BBB", "100", UnderlyingClass::Equity),
            ("CCC", "100", UnderlyingClass::Equity),
        ],
        vec![
            stock("AAA", 100, "100"),
            stock("BBB", 100, "100"),
            stock("CCC", 100, "100"),
        ],
    );
    let r = pm(&p);
    assert_eq!((r.initial, r.maintenance), (d("6500"), d("6500")));
    assert!(
        r.groups
            .iter()
            .any(|g| g.label == "IB concentration stress" && g.maintenance == d("2000"))
    );
    assert_eq!(r.reg_t_end_of_day, None);
}

#[test]
fn rule_4_initial_equals_maintenance() {
    let r = pm(&aapl(vec![stock("AAPL", -300, "187.20")]));
    assert_eq!(r.initial, r.maintenance);
}
