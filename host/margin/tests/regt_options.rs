//! margin-rules §2 (options under Reg T), one test per table row, worked numbers in the comments.
//! AAPL S = 187.20 (equity: 20%), SPX S = 5900.10 (broad index: 15%), multiplier 100.

mod common;
use common::*;
use tickwork_margin::{Grouping, UnderlyingClass, compute_regt};

#[test]
fn rule_2_long_call_or_put_is_paid_in_full() {
    assert_regt(
        &aapl(vec![
            opt("AAPL", 'C', "190", DEC, 3, "4.15"),
            opt("AAPL", 'P', "180", DEC, 2, "2.10"),
        ]),
        "0",
        "0",
    );
}

#[test]
fn rule_2_short_naked_call_equity() {
    // OTM 2.80; max(37.44 − 2.80, 18.72) = 34.64; + 4.15 = 38.79 × 100 = 3,879.
    assert_regt(
        &aapl(vec![opt("AAPL", 'C', "190", DEC, -1, "4.15")]),
        "3879",
        "3879",
    );
    // Deep OTM: 37.44 − 62.80 < 10%·S = 18.72; 0.05 + 18.72 = 18.77 × 100 × 2 = 3,754.
    assert_regt(
        &aapl(vec![opt("AAPL", 'C', "250", DEC, -2, "0.05")]),
        "3754",
        "3754",
    );
}

#[test]
fn rule_2_short_naked_put_equity_floor_uses_strike() {
    // OTM 7.20; max(37.44 − 7.20, 18.00) = 30.24; + 2.10 = 32.34 × 100 = 3,234.
    assert_regt(
        &aapl(vec![opt("AAPL", 'P', "180", DEC, -1, "2.10")]),
        "3234",
        "3234",
    );
    // Deep OTM: floor 10%·K = 12; 0.10 + 12 = 12.10 × 100 = 1,210.
    assert_regt(
        &aapl(vec![opt("AAPL", 'P', "120", DEC, -1, "0.10")]),
        "1210",
        "1210",
    );
}

#[test]
fn rule_2_short_naked_broad_based_index_uses_15_percent() {
    // SPX 6000 C @ 20: 15%·5900.10 = 885.015 − OTM 99.90 = 785.115 > 590.01; + 20 = 805.115 × 100.
    let p = portfolio(
        &[("SPX", "5900.10", UnderlyingClass::BroadIndex)],
        vec![opt("SPX", 'C', "6000", DEC, -1, "20")],
    );
    assert_regt(&p, "80511.50", "80511.50");
}

#[test]
fn rule_3_spy_is_margined_as_an_etf_at_20_percent() {
    // SPY 590, 600 C @ 3: 20%·590 = 118 − 10 = 108; + 3 = 111 × 100 = 11,100.
    let p = portfolio(
        &[("SPY", "590", UnderlyingClass::Etf)],
        vec![opt("SPY", 'C', "600", DEC, -1, "3")],
    );
    assert_regt(&p, "11100", "11100");
}

#[test]
fn rule_2_covered_call() {
    // ITM call 180 @ 9.50 (ITM 7.20): initial 46.80 + 7.20 = 54.00 → 5,400;
    // maintenance max(7.20 + 25%·min(187.20, 180) = 52.20, min(187.20, max(9.50, 46.80)) = 46.80) → 5,220.
    let p = aapl(vec![
        stock("AAPL", 100, "187.20"),
        opt("AAPL", 'C', "180", DEC, -1, "9.50"),
    ]);
    assert_regt(&p, "5400", "5220");
    // End of day: 50% stock 93.60 + 7.20 = 100.80 → 10,080.
    assert_eq!(regt(&p).reg_t_end_of_day, Some(d("10080")));
}

#[test]
fn rule_2_covered_put() {
    // Short stock 30% = 56.16, put 190 ITM 2.80: 58.96 × 100 = 5,896 initial and maintenance.
    let p = aapl(vec![
        stock("AAPL", -100, "187.20"),
        opt("AAPL", 'P', "190", DEC, -1, "5.00"),
    ]);
    assert_regt(&p, "5896", "5896");
}

#[test]
fn rule_2_protective_put() {
    // Initial = stock initial 4,680; maintenance min(10%·180 + OTM 7.20 = 25.20, 46.80) → 2,520.
    let p = aapl(vec![
        stock("AAPL", 100, "187.20"),
        opt("AAPL", 'P', "180", DEC, 1, "2.10"),
    ]);
    assert_regt(&p, "4680", "2520");
}

#[test]
fn rule_2_protective_call() {
    // Initial = short-stock initial 5,616; maintenance min(19 + OTM 2.80 = 21.80, 56.16) → 2,180.
    let p = aapl(vec![
        stock("AAPL", -100, "187.20"),
        opt("AAPL", 'C', "190", DEC, 1, "4.15"),
    ]);
    assert_regt(&p, "5616", "2180");
}

#[test]
fn rule_2_collar() {
    // Initial 46.80 + call ITM 0 → 4,680; maintenance min(18 + 7.20, 25%·200 = 50) = 25.20 → 2,520.
    let p = aapl(vec![
        stock("AAPL", 100, "187.20"),
        opt("AAPL", 'P', "180", DEC, 1, "2.10"),
        opt("AAPL", 'C', "200", DEC, -1, "1.50"),
    ]);
    assert_regt(&p, "4680", "2520");
    let json = tickwork_margin::render_json(&regt(&p)).to_string();
    assert!(json.contains("collar"), "{json}");
}

#[test]
fn rule_2_conversion() {
    // K 180: initial 46.80 + call ITM 7.20 = 54 → 5,400; maintenance 10%·180 + 7.20 = 25.20 → 2,520.
    let p = aapl(vec![
        stock("AAPL", 100, "187.20"),
        opt("AAPL", 'P', "180", DEC, 1, "2.10"),
        opt("AAPL", 'C', "180", DEC, -1, "9.50"),
    ]);
    assert_regt(&p, "5400", "2520");
}

#[test]
fn rule_2_reverse_conversion() {
    // K 190: initial 56.16 + put ITM 2.80 = 58.96 → 5,896; maintenance 19 + 2.80 = 21.80 → 2,180.
    let p = aapl(vec![
        stock("AAPL", -100, "187.20"),
        opt("AAPL", 'P', "190", DEC, -1, "5.00"),
        opt("AAPL", 'C', "190", DEC, 1, "4.15"),
    ]);
    assert_regt(&p, "5896", "2180");
}

#[test]
fn rule_2_call_spread() {
    // Bull (long 190, short 200): max(190 − 200, 0) = 0. Bear (short 190, long 200): 10 × 100 = 1,000.
    assert_regt(
        &aapl(vec![
            opt("AAPL", 'C', "190", DEC, 1, "4.15"),
            opt("AAPL", 'C', "200", DEC, -1, "1.50"),
        ]),
        "0",
        "0",
    );
    assert_regt(
        &aapl(vec![
            opt("AAPL", 'C', "190", DEC, -1, "4.15"),
            opt("AAPL", 'C', "200", DEC, 1, "1.50"),
        ]),
        "1000",
        "1000",
    );
}

#[test]
fn rule_2_put_spread() {
    // Bull put (short 180, long 170): 10 × 100 = 1,000. Bear put (long 180, short 170): 0.
    assert_regt(
        &aapl(vec![
            opt("AAPL", 'P', "180", DEC, -1, "2.10"),
            opt("AAPL", 'P', "170", DEC, 1, "0.90"),
        ]),
        "1000",
        "1000",
    );
    assert_regt(
        &aapl(vec![
            opt("AAPL", 'P', "180", DEC, 1, "2.10"),
            opt("AAPL", 'P', "170", DEC, -1, "0.90"),
        ]),
        "0",
        "0",
    );
}

#[test]
fn rule_2_spread_needs_long_leg_expiring_on_or_after_short_leg() {
    // Long 200 C expires before the short 190 C: no spread; the short is naked: 38.79 × 100.
    let p = aapl(vec![
        opt("AAPL", 'C', "190", JAN, -1, "4.15"),
        opt("AAPL", 'C', "200", DEC, 1, "1.50"),
    ]);
    assert_regt(&p, "3879", "3879");
}

#[test]
fn rule_2_short_straddle() {
    // Naked call 38.79, naked put 5 + max(37.44, 19) = 42.44; 42.44 + call value 4.15 = 46.59 → 4,659.
    assert_regt(
        &aapl(vec![
            opt("AAPL", 'C', "190", DEC, -1, "4.15"),
            opt("AAPL", 'P', "190", DEC, -1, "5.00"),
        ]),
        "4659",
        "4659",
    );
}

#[test]
fn rule_2_short_strangle() {
    // Call 200: 1.50 + max(37.44 − 12.80, 18.72) = 26.14; put 180: 32.34; 32.34 + 1.50 = 33.84 → 3,384.
    assert_regt(
        &aapl(vec![
            opt("AAPL", 'C', "200", DEC, -1, "1.50"),
            opt("AAPL", 'P', "180", DEC, -1, "2.10"),
        ]),
        "3384",
        "3384",
    );
}

#[test]
fn rule_2_strangle_quantities_split() {
    // 5 short calls against 3 short puts: 3 strangles (3 × 3,384) + 2 naked calls (2 × 2,614) = 15,380.
    let p = aapl(vec![
        opt("AAPL", 'C', "200", DEC, -5, "1.50"),
        opt("AAPL", 'P', "180", DEC, -3, "2.10"),
    ]);
    assert_regt(&p, "15380", "15380");
}

#[test]
fn rule_2_long_butterfly() {
    // Long 180, short 2 × 190, long 200 calls, equal wings, same expiry: 0.
    let p = aapl(vec![
        opt("AAPL", 'C', "180", DEC, 1, "9.50"),
        opt("AAPL", 'C', "190", DEC, -2, "4.15"),
        opt("AAPL", 'C', "200", DEC, 1, "1.50"),
    ]);
    assert_regt(&p, "0", "0");
    // Greedy would find the same; leaving every leg alone charges two naked calls.
    assert!(compute_regt(&p, Grouping::Naked).unwrap().initial > d("7000"));
}

#[test]
fn rule_2_short_call_butterfly() {
    // Short 180, long 2 × 190, short 200 calls: K_mid − K_low = 10 → 1,000.
    let p = aapl(vec![
        opt("AAPL", 'C', "180", DEC, -1, "9.50"),
        opt("AAPL", 'C', "190", DEC, 2, "4.15"),
        opt("AAPL", 'C', "200", DEC, -1, "1.50"),
    ]);
    assert_regt(&p, "1000", "1000");
}

#[test]
fn rule_2_short_put_butterfly() {
    // Short 170, long 2 × 180, short 190 puts: K_high − K_mid = 10 → 1,000.
    let p = aapl(vec![
        opt("AAPL", 'P', "170", DEC, -1, "0.90"),
        opt("AAPL", 'P', "180", DEC, 2, "2.10"),
        opt("AAPL", 'P', "190", DEC, -1, "5.00"),
    ]);
    assert_regt(&p, "1000", "1000");
}

#[test]
fn rule_2_iron_condor() {
    // 170/180 puts, 200/210 calls, equal 10 wings: 10 × 100 = 1,000 (two spreads would be 2,000).
    let p = aapl(vec![
        opt("AAPL", 'P', "170", DEC, 1, "0.90"),
        opt("AAPL", 'P', "180", DEC, -1, "2.10"),
        opt("AAPL", 'C', "200", DEC, -1, "1.50"),
        opt("AAPL", 'C', "210", DEC, 1, "0.60"),
    ]);
    assert_regt(&p, "1000", "1000");
}

#[test]
fn rule_2_iron_butterfly() {
    let p = aapl(vec![
        opt("AAPL", 'P', "180", DEC, 1, "2.10"),
        opt("AAPL", 'P', "190", DEC, -1, "5.00"),
        opt("AAPL", 'C', "190", DEC, -1, "4.15"),
        opt("AAPL", 'C', "200", DEC, 1, "1.50"),
    ]);
    assert_regt(&p, "1000", "1000");
}

#[test]
fn rule_2_iron_condor_with_unequal_wings_costs_its_maximum_loss() {
    // 165/180 puts (15) and 200/210 calls (10): as two spreads 1,500 + 1,000 = 2,500, but only one
    // side can lose at expiry: IB charges min(max loss 15, spreads 25) × 100 = 1,500.
    let p = aapl(vec![
        opt("AAPL", 'P', "165", DEC, 1, "0.60"),
        opt("AAPL", 'P', "180", DEC, -1, "2.10"),
        opt("AAPL", 'C', "200", DEC, -1, "1.50"),
        opt("AAPL", 'C', "210", DEC, 1, "0.60"),
    ]);
    assert_regt(&p, "1500", "1500");
}

#[test]
fn rule_2_long_box() {
    let p = aapl(vec![
        opt("AAPL", 'C', "180", DEC, 1, "9.50"),
        opt("AAPL", 'C', "190", DEC, -1, "4.15"),
        opt("AAPL", 'P', "190", DEC, 1, "5.00"),
        opt("AAPL", 'P', "180", DEC, -1, "2.10"),
    ]);
    assert_regt(&p, "0", "0");
}

#[test]
fn rule_2_short_box() {
    // Cost to close 9.50 − 4.15 + 5.00 − 2.10 = 8.25; max(1.02 × 8.25 = 8.415, width 10) = 10 → 1,000.
    let p = aapl(vec![
        opt("AAPL", 'C', "180", DEC, -1, "9.50"),
        opt("AAPL", 'C', "190", DEC, 1, "4.15"),
        opt("AAPL", 'P', "190", DEC, -1, "5.00"),
        opt("AAPL", 'P', "180", DEC, 1, "2.10"),
    ]);
    assert_regt(&p, "1000", "1000");
    // Marks closing at 10.20: 1.02 × 10.20 = 10.404 → 1,040.40.
    let p = aapl(vec![
        opt("AAPL", 'C', "180", DEC, -1, "10.00"),
        opt("AAPL", 'C', "190", DEC, 1, "4.00"),
        opt("AAPL", 'P', "190", DEC, -1, "6.00"),
        opt("AAPL", 'P', "180", DEC, 1, "1.80"),
    ]);
    assert_regt(&p, "1040.40", "1040.40");
}

#[test]
fn rule_2_calendar_long_leg_later_is_zero() {
    assert_regt(
        &aapl(vec![
            opt("AAPL", 'C', "190", DEC, -1, "4.15"),
            opt("AAPL", 'C', "190", JAN, 1, "6.00"),
        ]),
        "0",
        "0",
    );
}

#[test]
fn rule_2_calendar_short_leg_later_is_naked() {
    // Short Jan 190 C @ 6: 6 + 34.64 = 40.64 → 4,064.
    assert_regt(
        &aapl(vec![
            opt("AAPL", 'C', "190", JAN, -1, "6.00"),
            opt("AAPL", 'C', "190", DEC, 1, "4.15"),
        ]),
        "4064",
        "4064",
    );
}

#[test]
fn grouping_interleaved_bull_call_spreads_is_zero() {
    // margin-rules §2 Grouping: 598/603 and 600/605 bull call spreads must give 0.
    let p = portfolio(
        &[("XYZ", "601", UnderlyingClass::Equity)],
        vec![
            opt("XYZ", 'C', "598", DEC, 1, "12.00"),
            opt("XYZ", 'C', "600", DEC, 1, "10.80"),
            opt("XYZ", 'C', "603", DEC, -1, "9.10"),
            opt("XYZ", 'C', "605", DEC, -1, "8.00"),
        ],
    );
    assert_regt(&p, "0", "0");
}

#[test]
fn grouping_nets_identical_series_first() {
    // +2 and −3 of the same call net to −1 naked: 3,879.
    let p = aapl(vec![
        opt("AAPL", 'C', "190", DEC, 2, "4.15"),
        opt("AAPL", 'C', "190", DEC, -3, "4.15"),
    ]);
    assert_regt(&p, "3879", "3879");
}

#[test]
fn grouping_stock_covers_options_in_lots_of_the_multiplier() {
    // 150 shares, 2 short 180 C: one covered call (5,400 / 5,220) + one naked call (4,694)
    // + 50 shares alone (2,340).
    let p = aapl(vec![
        stock("AAPL", 150, "187.20"),
        opt("AAPL", 'C', "180", DEC, -2, "9.50"),
    ]);
    assert_regt(&p, "12434", "12254");
}

#[test]
fn grouping_is_independent_per_underlying() {
    let mut p = aapl(vec![opt("AAPL", 'C', "190", DEC, -1, "4.15")]);
    p.underlyings.insert(
        "XYZ".into(),
        tickwork_margin::Underlying::new("XYZ", d("50"), UnderlyingClass::Equity),
    );
    // An XYZ long call cannot cover an AAPL short call.
    p.positions.push(opt("XYZ", 'C', "55", DEC, 1, "1.00"));
    assert_regt(&p, "3879", "3879");
    assert_eq!(regt(&p).groups.len(), 2);
}

#[test]
fn rule_2_collar_quirk_buying_back_an_itm_call_can_raise_maintenance() {
    // S 182, long 100, long 100 P @ 0.05, short 175 C @ 9 (ITM 7): collar maintenance
    // min(10 + 82, 25%·175 = 43.75) → 4,375; initial 45.50 + 7 → 5,250.
    let collar = portfolio(
        &[("AAA", "182", UnderlyingClass::Equity)],
        vec![
            stock("AAA", 100, "182"),
            opt("AAA", 'P', "100", DEC, 1, "0.05"),
            opt("AAA", 'C', "175", DEC, -1, "9"),
        ],
    );
    assert_regt(&collar, "5250", "4375");
    // Buying the call back leaves a protective put: maintenance min(92, 45.50) → 4,550 (higher),
    // initial 4,550 (lower). IB's collar formula ignores the short call's ITM amount in maintenance.
    let mut closed = collar.clone();
    closed.positions.push(opt("AAA", 'C', "175", DEC, 1, "9"));
    assert_regt(&closed, "4550", "4550");
}

#[test]
fn grouping_a_60_series_chain_is_proven_optimal_and_beats_greedy() {
    // One index, 60 series of calls and puts with mixed quantities on two expiries.
    let mut pos = Vec::new();
    let mut seed = 12345u64;
    for i in 0..60 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let k = 5000 + 25 * (i / 2);
        let q = (seed % 11) as i64 - 5;
        let q = if q == 0 { 1 } else { q };
        pos.push(opt(
            "SPX",
            if i % 2 == 0 { 'C' } else { 'P' },
            &k.to_string(),
            if seed.is_multiple_of(3) { JAN } else { DEC },
            q,
            "20",
        ));
    }
    let p = portfolio(&[("SPX", "5400", UnderlyingClass::BroadIndex)], pos);
    let opt = compute_regt(&p, Grouping::Optimal).unwrap();
    let greedy = compute_regt(&p, Grouping::Greedy).unwrap();
    assert!(
        !opt.groups[0].detail.contains("not proven"),
        "{}",
        opt.groups[0].detail
    );
    assert_eq!(opt.maintenance, d("110000"));
    assert_eq!(greedy.maintenance, d("230000"));
}
