//! No input makes the engine panic: arbitrary text to the parser, arbitrary (bounded or not)
//! snapshots to every method.

mod common;
use common::*;
use proptest::prelude::*;
use rust_decimal::Decimal;
use tickwork_margin::{MarginBook, Method, Position, UnderlyingClass, compute, parse_portfolio};

fn any_decimal() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        (-1_000_000i64..1_000_000, 0u32..6).prop_map(|(m, s)| Decimal::new(m, s)),
        Just(Decimal::MAX),
        Just(Decimal::MIN),
        Just(Decimal::ZERO),
        Just(Decimal::new(1, 28)),
    ]
}

proptest! {
    #[test]
    fn parser_never_panics_on_text(s in ".{0,200}") {
        let _ = parse_portfolio(&s);
    }

    #[test]
    fn parser_never_panics_on_mutated_files(cut in 0usize..400, insert in "[\\[\\]{}\",:0-9a-z.-]{0,5}") {
        let base = r#"{"as_of": "2026-11-24", "underlyings": {"A": {"price": "10", "class": "equity"}, "F": {"price": "100", "class": "future"}},
          "positions": [{"kind": "option", "symbol": "A", "right": "P", "strike": "9", "expiry": "2026-12-18", "qty": -2, "price": "0.5"},
                        {"kind": "future", "symbol": "F", "expiry": "2026-12-18", "multiplier": 5, "qty": 1, "price": "100"}],
          "futures_margins": {"F": {"initial": "10", "maintenance": "9"}}}"#;
        let cut = cut.min(base.len());
        let cut = (0..=cut).rev().find(|&c| base.is_char_boundary(c)).unwrap_or(0);
        let text = format!("{}{}{}", &base[..cut], insert, &base[cut..]);
        if let Ok(p) = parse_portfolio(&text) {
            for m in [Method::RegT, Method::Portfolio, Method::Futures] {
                let _ = compute(&p, m);
            }
        }
    }

    #[test]
    fn compute_never_panics_on_extreme_numbers(price in any_decimal(), qty in any_decimal(), strike in any_decimal(), mark in any_decimal()) {
        let mut p = aapl(vec![]);
        if let Some(u) = p.underlyings.get_mut("AAPL") { u.price = price; }
        let mut o = opt("AAPL", 'C', "190", DEC, -1, "1");
        o.qty = qty.trunc();
        o.price = mark;
        if let Some(s) = match &mut o.instrument { tickwork_margin::Instrument::Option(s) => Some(s), _ => None } { s.strike = strike; }
        p.positions.push(o);
        p.positions.push(Position::stock("AAPL", qty, mark));
        p.underlyings.insert("ZZZ".into(), tickwork_margin::Underlying::new("ZZZ", price, UnderlyingClass::BroadIndex));
        p.positions.push(Position::stock("ZZZ", qty, price));
        for m in [Method::RegT, Method::Portfolio, Method::Futures] {
            if let Ok(book) = MarginBook::new(p.clone(), m) {
                let _ = book.result();
                let _ = book.what_if(&Position::stock("AAPL", qty, price));
            }
        }
    }
}
