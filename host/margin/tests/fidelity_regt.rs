//! Fidelity to public sources, Reg T defined-risk combinations that are not textbook equal-wing
//! shapes. Source: IB's options margin page (spreads, butterflies and condors are charged their
//! maximum risk) and CBOE's Margin Manual (butterfly spreads: the requirement is what the
//! combination can lose at expiry, never more than its vertical spreads). Requirement =
//! min(max loss at expiry, spread decomposition) × 100; longs are paid in full, so a combination
//! that cannot lose costs 0. AAPL S = 187.20, one expiry, multiplier 100.

mod common;
use common::*;
use tickwork_margin::{Grouping, compute_regt};

#[test]
fn broken_wing_call_butterfly_costs_its_maximum_loss() {
    // +1 180 C, −2 190 C, +1 205 C: payoff 0 below 180, +10 at 190, −5 from 205 up: max loss 5.
    // Spreads: bull 180/190 = 0, bear 190/205 = 15. min(5, 15) × 100 = 500 (two spreads: 1,500).
    let p = aapl(vec![
        opt("AAPL", 'C', "180", DEC, 1, "9.50"),
        opt("AAPL", 'C', "190", DEC, -2, "4.15"),
        opt("AAPL", 'C', "205", DEC, 1, "0.80"),
    ]);
    assert_regt(&p, "500", "500");
    assert!(compute_regt(&p, Grouping::Naked).unwrap().maintenance > d("500"));
    let node = &regt(&p).groups[0].children[0];
    assert!(
        node.label.starts_with("long broken-wing butterfly"),
        "{node:#?}"
    );
    assert!(
        node.detail
            .contains("min(max loss at expiry 5, spreads 15) = 5"),
        "{}",
        node.detail
    );
}

#[test]
fn broken_wing_butterfly_without_downside_costs_nothing() {
    // +1 170 C, −2 190 C, +1 200 C: payoff ≥ 0 everywhere (+10 above 200): 0 beyond the premium
    // (two spreads would charge 200 − 190 = 10 → 1,000).
    let p = aapl(vec![
        opt("AAPL", 'C', "170", DEC, 1, "17.80"),
        opt("AAPL", 'C', "190", DEC, -2, "4.15"),
        opt("AAPL", 'C', "200", DEC, 1, "1.50"),
    ]);
    assert_regt(&p, "0", "0");
    // Three units: still 0; with the 205 wing instead: 3 × 500 = 1,500.
    let p = aapl(vec![
        opt("AAPL", 'C', "180", DEC, 3, "9.50"),
        opt("AAPL", 'C', "190", DEC, -6, "4.15"),
        opt("AAPL", 'C', "205", DEC, 3, "0.80"),
    ]);
    assert_regt(&p, "1500", "1500");
}

#[test]
fn broken_wing_put_butterfly() {
    // +1 195 P, −2 185 P, +1 170 P: at 170 the payoff is 25 − 30 = −5 and flat below: max loss 5.
    // Spreads: 185/195 = 0, 185/170 = 15. → 500.
    let p = aapl(vec![
        opt("AAPL", 'P', "170", DEC, 1, "0.90"),
        opt("AAPL", 'P', "185", DEC, -2, "3.60"),
        opt("AAPL", 'P', "195", DEC, 1, "9.00"),
    ]);
    assert_regt(&p, "500", "500");
}

#[test]
fn short_broken_wing_butterfly_never_costs_more_than_its_spreads() {
    // −1 180 C, +2 190 C, −1 205 C: worst at 190 (−10), +5 above 205: max loss 10 = spreads 10.
    let p = aapl(vec![
        opt("AAPL", 'C', "180", DEC, -1, "9.50"),
        opt("AAPL", 'C', "190", DEC, 2, "4.15"),
        opt("AAPL", 'C', "205", DEC, -1, "0.80"),
    ]);
    assert_regt(&p, "1000", "1000");
}

#[test]
fn unbalanced_iron_condor_costs_the_wider_wing() {
    // 170/180 puts (10 wide), 200/220 calls (20 wide): only one side can lose at expiry.
    // min(max loss 20, spreads 10 + 20) × 100 = 2,000 (two spreads: 3,000).
    let p = aapl(vec![
        opt("AAPL", 'P', "170", DEC, 1, "0.90"),
        opt("AAPL", 'P', "180", DEC, -1, "2.10"),
        opt("AAPL", 'C', "200", DEC, -1, "1.50"),
        opt("AAPL", 'C', "220", DEC, 1, "0.20"),
    ]);
    assert_regt(&p, "2000", "2000");
    // Unbalanced iron butterfly: 175/190 puts (15), 190/200 calls (10): 1,500 (not 2,500).
    let p = aapl(vec![
        opt("AAPL", 'P', "175", DEC, 1, "1.20"),
        opt("AAPL", 'P', "190", DEC, -1, "5.00"),
        opt("AAPL", 'C', "190", DEC, -1, "4.15"),
        opt("AAPL", 'C', "200", DEC, 1, "1.50"),
    ]);
    assert_regt(&p, "1500", "1500");
}

#[test]
fn long_condors_cost_their_maximum_loss() {
    // +180 −190 −200 +210 calls (balanced): payoff ≥ 0 → 0 (as two spreads: 0 + 10 → 1,000).
    let p = aapl(vec![
        opt("AAPL", 'C', "180", DEC, 1, "9.50"),
        opt("AAPL", 'C', "190", DEC, -1, "4.15"),
        opt("AAPL", 'C', "200", DEC, -1, "1.50"),
        opt("AAPL", 'C', "210", DEC, 1, "0.60"),
    ]);
    assert_regt(&p, "0", "0");
    // +180 −190 −200 +215 calls (unbalanced): −5 from 215 up → 500 (two spreads: 1,500).
    let p = aapl(vec![
        opt("AAPL", 'C', "180", DEC, 1, "9.50"),
        opt("AAPL", 'C', "190", DEC, -1, "4.15"),
        opt("AAPL", 'C', "200", DEC, -1, "1.50"),
        opt("AAPL", 'C', "215", DEC, 1, "0.40"),
    ]);
    assert_regt(&p, "500", "500");
}
