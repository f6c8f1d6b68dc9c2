//! The rule through its C ABI, against the SDK's fake host.

use rust_decimal_macros::dec;
use tickwork_plugin_api::sdk::testing::FakeHost;
use tickwork_plugin_api::sdk::{LegKind, MarginInput, MarginLeg, MarginOutcome, MarginRule, Right};

use super::*;

fn short_call() -> MarginLeg {
    let mut leg = MarginLeg::stock("SPY", dec!(-2), dec!(10));
    leg.kind = LegKind::Option;
    leg.right = Some(Right::Call);
    leg.expiry_yyyymmdd = Some(20261218);
    leg.strike = dec!(620);
    leg.multiplier = dec!(100);
    leg.underlying_price = dec!(600);
    leg
}

fn input(legs: Vec<MarginLeg>) -> MarginInput {
    MarginInput {
        legs,
        equity: Some(dec!(100000)),
        initial: dec!(20000),
        maintenance: dec!(16000),
    }
}

/// 100 SPY at 600 (60 000), short 2 SPY calls at 10 (2 000), 100 AAPL at 200 (20 000):
/// gross 82 000, limit 25 % = 20 500. SPY's 62 000 exceeds it by 41 500, charged 20 % =
/// 8 300.00; AAPL's 20 000 is under the limit.
#[test]
fn the_worked_example_is_exact() {
    let host = FakeHost::new();
    let plugin = host.load(tickwork_plugin_descriptor()).unwrap();
    let rule = plugin.margin_rule(Concentration::RULE_ID).unwrap();
    let portfolio = input(vec![
        MarginLeg::stock("SPY", dec!(100), dec!(600)),
        short_call(),
        MarginLeg::stock("AAPL", dec!(100), dec!(200)),
    ]);
    let Ok(MarginOutcome::AddOn {
        initial,
        maintenance,
        reason,
    }) = rule.compute(&portfolio)
    else {
        panic!("no add-on")
    };
    assert_eq!(initial, dec!(8300.00));
    assert_eq!(maintenance, dec!(8300.00));
    assert_eq!(
        reason,
        "concentration surcharge: SPY 62000.00 is 75.61% of gross 82000.00: 20% of 41500.00 above 25% = 8300.00"
    );
}

#[test]
fn a_diversified_or_empty_portfolio_is_unchanged() {
    let host = FakeHost::new();
    let plugin = host.load(tickwork_plugin_descriptor()).unwrap();
    let rule = plugin.margin_rule(Concentration::RULE_ID).unwrap();
    let even = input(
        ["AAPL", "MSFT", "SPY", "QQQ"]
            .iter()
            .map(|s| MarginLeg::stock(s, dec!(10), dec!(100)))
            .collect(),
    );
    assert_eq!(rule.compute(&even), Ok(MarginOutcome::Unchanged));
    assert_eq!(rule.compute(&input(vec![])), Ok(MarginOutcome::Unchanged));
}

#[test]
fn odd_cents_round_and_several_underlyings_add_up() {
    // A 1000.01, B 1000.01, C 1.01: gross 2001.03, limit 500.2575; A and B each exceed by
    // 499.7525, charged 99.9505 → 99.95 each.
    let portfolio = input(vec![
        MarginLeg::stock("A", dec!(1), dec!(1000.01)),
        MarginLeg::stock("B", dec!(-1), dec!(1000.01)),
        MarginLeg::stock("C", dec!(1), dec!(1.01)),
    ]);
    let Ok(MarginOutcome::AddOn {
        initial, reason, ..
    }) = Concentration::compute(&portfolio)
    else {
        panic!("no add-on")
    };
    assert_eq!(initial, dec!(199.90));
    assert!(
        reason.contains("A 1000.01") && reason.contains("; B 1000.01"),
        "{reason}"
    );
}
