//! margin-rules §1 (stocks), one test per row, worked numbers in the comments.

mod common;
use common::*;
use tickwork_margin::{Underlying, UnderlyingClass};

#[test]
fn rule_1_long_stock_25_percent_and_reg_t_end_of_day_50_percent() {
    // 100 × 187.20 = 18,720: 25% = 4,680; end of day 50% = 9,360.
    let p = aapl(vec![stock("AAPL", 100, "187.20")]);
    assert_regt(&p, "4680", "4680");
    assert_eq!(regt(&p).reg_t_end_of_day, Some(d("9360")));
}

#[test]
fn rule_1_short_stock_above_16_67_is_30_percent() {
    // 100 × 50 = 5,000: 30% = 1,500 both; end of day 50% = 2,500.
    let p = portfolio(
        &[("XYZ", "50", UnderlyingClass::Equity)],
        vec![stock("XYZ", -100, "50")],
    );
    assert_regt(&p, "1500", "1500");
    assert_eq!(regt(&p).reg_t_end_of_day, Some(d("2500")));
}

#[test]
fn rule_1_short_stock_5_to_16_67_is_5_dollars_per_share() {
    // 100 × 10: initial 30% = 300; maintenance $5 × 100 = 500.
    let p = portfolio(
        &[("XYZ", "10", UnderlyingClass::Equity)],
        vec![stock("XYZ", -100, "10")],
    );
    assert_regt(&p, "300", "500");
}

#[test]
fn rule_1_short_stock_2_50_to_5_is_100_percent() {
    // 100 × 4: initial 30% = 120; maintenance 100% = 400.
    let p = portfolio(
        &[("XYZ", "4", UnderlyingClass::Equity)],
        vec![stock("XYZ", -100, "4")],
    );
    assert_regt(&p, "120", "400");
}

#[test]
fn rule_1_short_stock_at_or_below_2_50_is_2_50_per_share() {
    // 100 × 2: initial 30% = 60; maintenance $2.50 × 100 = 250.
    let p = portfolio(
        &[("XYZ", "2", UnderlyingClass::Equity)],
        vec![stock("XYZ", -100, "2")],
    );
    assert_regt(&p, "60", "250");
}

#[test]
fn rule_1_leveraged_etf_multiplies_percentages_capped_at_100() {
    // TQQQ ×3 at 61.40, 100 shares = 6,140: 75% = 4,605; end of day 150% capped at 100% = 6,140.
    let mut p = portfolio(
        &[("TQQQ", "61.40", UnderlyingClass::LeveragedEtf)],
        vec![stock("TQQQ", 100, "61.40")],
    );
    p.underlyings.get_mut("TQQQ").unwrap().leverage = d("3");
    assert_regt(&p, "4605", "4605");
    assert_eq!(regt(&p).reg_t_end_of_day, Some(d("6140")));
}

#[test]
fn rule_1_non_marginable_stock_is_100_percent() {
    let mut p = portfolio(
        &[("PNK", "10", UnderlyingClass::Equity)],
        vec![stock("PNK", 100, "10")],
    );
    p.underlyings.insert(
        "PNK".into(),
        Underlying {
            marginable: false,
            ..Underlying::new("PNK", d("10"), UnderlyingClass::Equity)
        },
    );
    assert_regt(&p, "1000", "1000");
}
