//! Fidelity to public sources, input families: real contract multipliers (CME contract specs) and
//! leveraged funds (IB's margin pages, CBOE Rule 12.3). Also: a field the engine would not apply is
//! an error naming it, never silently ignored.

mod common;
use common::*;
use tickwork_margin::{Method, UnderlyingClass, compute, parse_portfolio};

fn file(body: &str) -> String {
    format!(r#"{{"as_of": "2026-11-24", {body}}}"#)
}

fn error(text: &str) -> String {
    parse_portfolio(text).unwrap_err().to_string()
}

#[test]
fn euro_fx_multiplier_125000_is_accepted() {
    // CME Euro FX futures (6E) contract unit: 125,000 euro. 2 contracts at the file's per-contract
    // rates (initial 2,530, maintenance 2,300): 5,060 / 4,600. Refused before (cap 100,000).
    let p = parse_portfolio(&file(
        r#""underlyings": {"6E": {"price": "1.0850", "class": "future"}},
        "positions": [{"kind": "future", "symbol": "6E", "expiry": "2026-12-14", "multiplier": 125000, "qty": 2, "price": "1.0850"}],
        "futures_margins": {"6E": {"initial": "2530", "maintenance": "2300"}}"#,
    ))
    .unwrap();
    let r = compute(&p, Method::Futures).unwrap();
    assert_eq!((r.initial, r.maintenance), (d("5060"), d("4600")));
    // Portfolio margin revalues it linearly over ±10% (other futures): 2 × 125,000 × 1.085 × 10%.
    let r = compute(&p, Method::Portfolio).unwrap();
    assert_eq!(r.maintenance, d("27125"));
}

#[test]
fn yen_multiplier_12_5_million_is_accepted_for_futures_and_options() {
    // CME Japanese yen futures (6J) contract unit: 12,500,000 yen. Short 3 futures at initial 3,850
    // / maintenance 3,500: 11,550 / 10,500. A short yen call quoted 0.000120 is worth
    // 0.000120 × 12,500,000 = 1,500 a contract: future rate + value = 5,350 / 5,000.
    let p = parse_portfolio(&file(
        r#""underlyings": {"6J": {"price": "0.006700", "class": "future"}},
        "positions": [
          {"kind": "future", "symbol": "6J", "expiry": "2026-12-14", "multiplier": 12500000, "qty": -3, "price": "0.006700"},
          {"kind": "future_option", "symbol": "6J", "right": "C", "strike": "0.0069", "expiry": "2026-12-04",
           "multiplier": 12500000, "qty": -1, "price": "0.000120"}],
        "futures_margins": {"6J": {"initial": "3850", "maintenance": "3500"}}"#,
    ))
    .unwrap();
    let r = compute(&p, Method::Futures).unwrap();
    assert_eq!((r.initial, r.maintenance), (d("16900"), d("15500")));
}

#[test]
fn micro_bitcoin_multiplier_0_1_is_accepted() {
    // CME Micro Bitcoin futures (MBT) contract unit: 0.1 bitcoin. Long 3 at 90,000 with the file's
    // per-contract rates (initial 2,700, maintenance 2,450): 8,100 / 7,350; under portfolio
    // margin the ±10 % revaluation is 3 × 0.1 × 90,000 × 10 % = 2,700.
    let p = parse_portfolio(&file(
        r#""underlyings": {"MBT": {"price": "90000", "class": "future"}},
        "positions": [{"kind": "future", "symbol": "MBT", "expiry": "2026-12-24", "multiplier": "0.1", "qty": 3, "price": "90000"}],
        "futures_margins": {"MBT": {"initial": "2700", "maintenance": "2450"}}"#,
    ))
    .unwrap();
    let r = compute(&p, Method::Futures).unwrap();
    assert_eq!((r.initial, r.maintenance), (d("8100"), d("7350")));
    let r = compute(&p, Method::Portfolio).unwrap();
    assert_eq!(r.maintenance, d("2700"));
}

#[test]
fn zero_or_negative_multiplier_is_an_error_naming_the_field() {
    let pos = |m: &str| {
        file(&format!(
            r#""underlyings": {{"6E": {{"price": "1.085", "class": "future"}}}},
            "positions": [{{"kind": "future", "symbol": "6E", "expiry": "2026-12-14", "multiplier": {m}, "qty": 1, "price": "1.085"}}]"#
        ))
    };
    assert_eq!(
        error(&pos("0")),
        "positions[0].multiplier: expected a positive number, got 0"
    );
    assert_eq!(
        error(&pos("-125000")),
        "positions[0].multiplier: expected a positive number, got -125000"
    );
    // Built in code: the engine names the field too.
    let mut o = opt("AAPL", 'C', "190", DEC, -1, "4.15");
    if let tickwork_margin::Instrument::Option(spec) = &mut o.instrument {
        spec.multiplier = d("0");
    }
    let e = compute(&aapl(vec![o]), Method::RegT).unwrap_err();
    assert_eq!(e.path, "positions[0].multiplier");
}

#[test]
fn size_beyond_ten_trillion_units_is_named_on_qty() {
    let mut f = future("6J", 1_000_000, "0.0067", 12_500_000);
    f.qty = d("1000000");
    let p = portfolio(&[("6J", "0.0067", UnderlyingClass::Future)], vec![f]);
    let e = compute(&p, Method::Futures).unwrap_err();
    assert_eq!(e.path, "positions[0].qty");
}

#[test]
fn leverage_scales_a_broad_index_fund_15_percent_times_1_5() {
    // IB / CBOE 12.3: a leveraged fund's percentages × its leverage, whatever index class it tracks.
    // 1.5× fund on a broad index, S = 100, short 1 put K 95 @ 1.00:
    // 1.00 + max(15% × 1.5 × 100 − 5 = 17.50, 10% × 1.5 × 95 = 14.25) = 18.50 → 1,850
    // (ignoring the leverage gave 1.00 + max(10, 9.50) = 11 → 1,100).
    let mut p = portfolio(
        &[("IDX15", "100", UnderlyingClass::BroadIndex)],
        vec![opt("IDX15", 'P', "95", DEC, -1, "1.00")],
    );
    p.underlyings.get_mut("IDX15").unwrap().leverage = d("1.5");
    assert_regt(&p, "1850", "1850");
    // Long 100 units at 100: 25% × 1.5 = 37.5% → 3,750; Reg T end of day 50% × 1.5 → 7,500.
    p.positions = vec![stock("IDX15", 100, "100")];
    assert_regt(&p, "3750", "3750");
    assert_eq!(regt(&p).reg_t_end_of_day, Some(d("7500")));
}

#[test]
fn leverage_applies_on_etf_and_leveraged_etf_classes_capped_at_100_percent() {
    // 2× ETF, S = 50: short 100 shares, 30% × 2 = 60% → 3,000.
    let mut p = portfolio(
        &[("ETF2X", "50", UnderlyingClass::Etf)],
        vec![stock("ETF2X", -100, "50")],
    );
    p.underlyings.get_mut("ETF2X").unwrap().leverage = d("2");
    assert_regt(&p, "3000", "3000");
    // The reference sample's TQQQ (leveraged_etf, 3×) at 61.40: long 100, 75% → 4,605.
    let mut p = portfolio(
        &[("TQQQ", "61.40", UnderlyingClass::LeveragedEtf)],
        vec![stock("TQQQ", 100, "61.40")],
    );
    p.underlyings.get_mut("TQQQ").unwrap().leverage = d("3");
    assert_regt(&p, "4605", "4605");
    // 5× on equity: 25% × 5 = 125%, capped at 100% → 6,140.
    p.underlyings.get_mut("TQQQ").unwrap().class = UnderlyingClass::Equity;
    p.underlyings.get_mut("TQQQ").unwrap().leverage = d("5");
    assert_regt(&p, "6140", "6140");
}

#[test]
fn leverage_widens_the_portfolio_margin_range_on_any_class() {
    // Broad index ±10% × 4 = ±40%: 100 units at 100 long → 4,000 (without the leverage: 1,000,
    // raised to 3,000 by IB's ±30% concentration stress).
    let mut p = portfolio(
        &[("IDX4X", "100", UnderlyingClass::BroadIndex)],
        vec![stock("IDX4X", 100, "100")],
    );
    p.underlyings.get_mut("IDX4X").unwrap().leverage = d("4");
    assert_eq!(
        compute(&p, Method::Portfolio).unwrap().maintenance,
        d("4000")
    );
}

#[test]
fn fields_the_engine_would_not_apply_are_errors() {
    let base = r#""underlyings": {"AAPL": {"price": "187.20", "class": "equity"}, "ES": {"price": "5912.25", "class": "future"}},"#;
    let with = |extra: &str| file(&format!("{base} {extra}"));
    // A misspelt key would be ignored: named instead.
    assert!(
        error(&with(r#""positions": [{"kind": "stock", "symbol": "AAPL", "qty": 1, "price": "1", "prise": "2"}]"#))
            .starts_with("positions[0].prise: unknown field (expected kind, symbol, qty, price)")
    );
    assert!(
        error(&with(r#""positions": [], "rates": "0.04""#)).starts_with("rates: unknown field")
    );
    // Option terms on stock, iv on a future, leverage on a future.
    assert_eq!(
        error(&with(
            r#""positions": [{"kind": "stock", "symbol": "AAPL", "qty": 1, "price": "1", "strike": "190"}]"#
        )),
        "positions[0].strike: not applied to kind \"stock\""
    );
    assert_eq!(
        error(&with(
            r#""positions": [{"kind": "future", "symbol": "ES", "expiry": "2026-12-18", "multiplier": 50, "qty": 1, "price": "5912.25", "iv": "0.2"}]"#
        )),
        "positions[0].iv: not applied to kind \"future\""
    );
    let lev = file(
        r#""underlyings": {"ES": {"price": "5912.25", "class": "future", "leverage": 2}}, "positions": []"#,
    );
    assert!(error(&lev).starts_with("underlyings.ES.leverage: not applied to class future"));
    // SPAN inputs on a securities underlying, half an option array, a minimum on a futures array.
    assert!(
        error(&with(
            r#""positions": [], "span_params": {"AAPL": {"spread_charge": "10"}}"#
        ))
        .starts_with("span_params.AAPL: AAPL is not of class future")
    );
    let arr = |fields: &str| {
        with(&format!(
            r#""positions": [], "risk_arrays": [{{"symbol": "ES", {fields} "scenarios": [0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]}}]"#
        ))
    };
    assert!(error(&arr(r#""right": "C","#)).starts_with("risk_arrays[0].strike: an option array"));
    assert!(
        error(&arr(r#""short_option_minimum": "25","#))
            .starts_with("risk_arrays[0].short_option_minimum: not applied to a futures array")
    );
    // Built in code: iv on stock is named by the engine.
    let mut s = stock("AAPL", 100, "187.20");
    s.iv = Some(d("0.3"));
    let e = compute(&aapl(vec![s]), Method::Portfolio).unwrap_err();
    assert_eq!(e.path, "positions[0].iv");
}
