//! The public surface the app and the simulator use: parse → compute → render, what-if, custom rules.

mod common;
use common::*;
use rust_decimal::Decimal;
use tickwork_margin::{
    CustomRule, MarginBook, MarginResult, Method, OverridePolicy, Portfolio, RuleOutcome,
    apply_custom_rules, compute, parse_portfolio, render_json, render_table,
};

/// The portfolio file example of `shared/reference/margin-rules.md` §6.
const SAMPLE: &str = include_str!("data/reference_portfolio.json");

#[test]
fn reference_sample_end_to_end_reg_t() {
    // 3 covered calls (190 OTM): initial 3 × 4,680 = 14,040; maintenance 3 × max(46.80, 46.80) × 100 = 14,040.
    // ES: 2 × 14,575 / 2 × 13,250. End of day: 3 × 9,360 + 29,150 = 57,230.
    let p = parse_portfolio(SAMPLE).unwrap();
    let r = compute(&p, Method::RegT).unwrap();
    let j = render_json(&r);
    assert_eq!(j["method"], "regt");
    assert_eq!(j["initial"], "43190.00");
    assert_eq!(j["maintenance"], "40540.00");
    assert_eq!(j["reg_t_end_of_day"], "57230.00");
    let keys: Vec<&String> = j.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 5);
    let aapl = &j["groups"][0];
    assert_eq!(aapl["label"], "AAPL");
    assert_eq!(aapl["children"][0]["label"], "covered call ×3");
    assert!(
        aapl["children"][0]["rule"]
            .as_str()
            .unwrap()
            .starts_with("covered call")
    );
    assert_eq!(aapl["children"][0]["children"].as_array().unwrap().len(), 2);
}

#[test]
fn json_has_no_end_of_day_figure_outside_reg_t() {
    let p = parse_portfolio(SAMPLE).unwrap();
    for m in [Method::Portfolio, Method::Futures] {
        let j = render_json(&compute(&p, m).unwrap());
        assert!(j.get("reg_t_end_of_day").is_none());
        assert_eq!(j["method"], m.name());
        assert!(j["initial"].is_string() && j["maintenance"].is_string());
    }
}

#[test]
fn table_shows_groups_and_totals() {
    let p = parse_portfolio(SAMPLE).unwrap();
    let t = render_table(&compute(&p, Method::RegT).unwrap());
    assert!(
        t.contains("covered call ×3") && t.contains("total") && t.contains("43190.00"),
        "{t}"
    );
    assert!(t.contains("Reg T end of day"));
}

#[test]
fn method_from_str() {
    assert_eq!("regt".parse::<Method>().unwrap(), Method::RegT);
    assert_eq!("portfolio".parse::<Method>().unwrap(), Method::Portfolio);
    assert_eq!("futures".parse::<Method>().unwrap(), Method::Futures);
    assert!(
        "cash"
            .parse::<Method>()
            .unwrap_err()
            .to_string()
            .contains("regt, portfolio or futures")
    );
}

#[test]
fn what_if_equals_a_full_recompute() {
    let base = aapl(vec![
        stock("AAPL", 200, "187.20"),
        opt("AAPL", 'P', "180", DEC, -2, "2.10"),
        opt("AAPL", 'C', "200", DEC, -1, "1.50"),
    ]);
    let mut p = base.clone();
    p.underlyings.insert(
        "XYZ".into(),
        tickwork_margin::Underlying::new("XYZ", d("50"), tickwork_margin::UnderlyingClass::Equity),
    );
    p.positions.push(stock("XYZ", -300, "50"));
    for method in [Method::RegT, Method::Portfolio] {
        let book = MarginBook::new(p.clone(), method).unwrap();
        for order in [
            opt("AAPL", 'P', "170", DEC, 2, "0.90"),
            opt("AAPL", 'C', "200", DEC, 1, "1.50"),
            opt("AAPL", 'C', "210", DEC, -4, "0.60"),
            stock("XYZ", 300, "50"),
            stock("AAPL", -200, "187.20"),
        ] {
            let w = book.what_if(&order).unwrap();
            let mut q = p.clone();
            q.positions.push(order.clone());
            let full = compute(&q, method).unwrap();
            assert_eq!(
                (w.initial_after, w.maintenance_after),
                (full.initial, full.maintenance),
                "{method} {order:?}"
            );
            let now = compute(&p, method).unwrap();
            assert_eq!(w.initial_change(), full.initial - now.initial);
            assert_eq!(w.maintenance_change(), full.maintenance - now.maintenance);
        }
    }
}

#[test]
fn what_if_rejects_an_order_on_an_unknown_underlying() {
    let book = MarginBook::new(aapl(vec![]), Method::RegT).unwrap();
    let e = book.what_if(&stock("MSFT", 1, "400")).unwrap_err();
    assert!(e.to_string().contains("symbol"));
}

#[test]
fn applying_an_order_and_a_price_change_updates_the_cache() {
    let mut book = MarginBook::new(aapl(vec![stock("AAPL", 100, "187.20")]), Method::RegT).unwrap();
    book.apply(opt("AAPL", 'C', "180", DEC, -1, "9.50"))
        .unwrap();
    assert_eq!(book.result().maintenance, d("5220"));
    book.set_price("AAPL", d("100")).unwrap();
    assert_eq!(
        book.result(),
        compute(book.portfolio(), Method::RegT).unwrap()
    );
}

struct AddOn;
impl CustomRule for AddOn {
    fn name(&self) -> &str {
        "test:concentration"
    }
    fn evaluate(&self, _: &Portfolio, builtin: &MarginResult) -> Result<RuleOutcome, String> {
        Ok(RuleOutcome::AddOn {
            initial: builtin.initial / Decimal::from(10),
            maintenance: d("100"),
            reason: "10% house add-on".into(),
        })
    }
}

struct Lower;
impl CustomRule for Lower {
    fn name(&self) -> &str {
        "test:lower"
    }
    fn evaluate(&self, _: &Portfolio, _: &MarginResult) -> Result<RuleOutcome, String> {
        Ok(RuleOutcome::Override {
            initial: d("1"),
            maintenance: d("1"),
            reason: "lower".into(),
        })
    }
}

struct Broken;
impl CustomRule for Broken {
    fn name(&self) -> &str {
        "test:broken"
    }
    fn evaluate(&self, _: &Portfolio, _: &MarginResult) -> Result<RuleOutcome, String> {
        Err("script error at line 3".into())
    }
}

#[test]
fn custom_rules_add_on_override_and_failure_are_recorded() {
    let p = aapl(vec![stock("AAPL", 100, "187.20")]);
    let r = compute(&p, Method::RegT).unwrap();
    let out = apply_custom_rules(
        &p,
        r.clone(),
        &[&AddOn, &Lower, &Broken],
        OverridePolicy::OnlyRaise,
    );
    // 4,680 + 468 = 5,148 initial; 4,680 + 100 = 4,780 maintenance; the override may not lower.
    assert_eq!((out.initial, out.maintenance), (d("5148"), d("4780")));
    let labels: Vec<&str> = out.groups.iter().map(|g| g.label.as_str()).collect();
    assert!(
        labels.contains(&"custom rule test:concentration")
            && labels.contains(&"custom rule test:broken")
    );
    let lowered = apply_custom_rules(&p, r, &[&Lower], OverridePolicy::AllowLowering);
    assert_eq!((lowered.initial, lowered.maintenance), (d("1"), d("1")));
}

#[test]
fn malformed_input_never_panics() {
    for bad in [
        "",
        "[]",
        "{\"underlyings\": 3}",
        "{\"underlyings\": {}, \"positions\": [1]}",
        "{\"underlyings\": {\"A\": {\"price\": \"-1\", \"class\": \"equity\"}}, \"positions\": []}",
    ] {
        let e = parse_portfolio(bad).unwrap_err().to_string();
        assert!(!e.contains('\n'), "{e}");
    }
}
