//! Margin engine benchmarks (issue 3), each beside its baseline in the same group:
//! - `regt_500`: Reg T with optimal grouping, 500 option positions over 50 underlyings, vs greedy.
//! - `what_if`: one proposed order on that book via the cached `MarginBook`, vs a full recompute.
//! - `portfolio_10000`: portfolio margin of 10,000 option positions, vs a bare scenario loop
//!   (no netting, no explanation) over the same positions.
//!
//! Run: `CARGO_TARGET_DIR=/work/target-margin cargo bench -p tickwork-margin`; figures are recorded
//! in docs/benchmarks.md.

use criterion::{Criterion, criterion_group, criterion_main};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use std::hint::black_box;
use std::time::{Duration, Instant};
use tickwork_margin::portfolio_margin::pricing::{self, Model};
use tickwork_margin::{
    Date, Grouping, MarginBook, Method, OptionSpec, Portfolio, Position, Right, Underlying,
    UnderlyingClass, compute, compute_regt,
};

/// Deterministic pseudo-random numbers (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn date(s: &str) -> Date {
    s.parse()
        .unwrap_or_else(|_| Date::new(2026, 12, 18).unwrap_or_else(|| unreachable!()))
}

fn option(
    sym: &str,
    s: f64,
    right: Right,
    strike: f64,
    expiry: Date,
    qty: i64,
    iv: Option<f64>,
) -> Position {
    let t = f64::from(u32::try_from(date("2026-11-24").days_until(expiry)).unwrap_or(30)) / 365.0;
    let mark = pricing::price(Model::BlackScholes, right, s, strike, t, 0.0, 0.3).max(0.01);
    let spec = OptionSpec {
        expiry,
        right,
        strike: Decimal::from(strike as i64),
        multiplier: Decimal::from(100),
    };
    let mut p = Position::option(
        sym,
        spec,
        Decimal::from(qty),
        Decimal::from_f64_retain(mark)
            .unwrap_or(Decimal::ONE)
            .round_dp(2),
    );
    p.iv = iv.and_then(Decimal::from_f64_retain).map(|v| v.round_dp(4));
    p
}

/// 50 underlyings × 10 option positions: spreads, condors, strangles, butterflies, naked legs, with
/// quantities 1–10; stock on every fifth underlying.
fn regt_book() -> Portfolio {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut p = Portfolio {
        as_of: Some(date("2026-11-24")),
        ..Portfolio::default()
    };
    let expiries = [date("2026-12-18"), date("2027-01-15")];
    for u in 0..50 {
        let sym = format!("U{u:02}");
        let s = 50.0 + rng.below(200) as f64;
        p.underlyings.insert(
            sym.clone(),
            Underlying::new(&sym, Decimal::from(s as i64), UnderlyingClass::Equity),
        );
        let step = (s / 20.0).round().max(1.0);
        let atm = (s / step).round() * step;
        let mut n = 0;
        while n < 10 {
            let e = expiries[rng.below(2) as usize];
            let q = 1 + rng.below(10) as i64;
            let k = |off: i64| atm + step * off as f64;
            let legs: Vec<(Right, f64, i64)> = match rng.below(6) {
                0 => vec![(Right::Call, k(0), q), (Right::Call, k(2), -q)],
                1 => vec![
                    (Right::Put, k(-2), q),
                    (Right::Put, k(-1), -q),
                    (Right::Call, k(1), -q),
                    (Right::Call, k(2), q),
                ],
                2 => vec![
                    (Right::Call, k(2), -q),
                    (Right::Put, k(-2), -(1 + rng.below(10) as i64)),
                ],
                3 => vec![
                    (Right::Call, k(-1), q),
                    (Right::Call, k(0), -2 * q),
                    (Right::Call, k(1), q),
                ],
                4 => vec![(Right::Put, k(rng.below(5) as i64 - 2), -q)],
                _ => vec![(Right::Call, k(rng.below(5) as i64 - 2), q)],
            };
            for (r, strike, qty) in legs {
                if n < 10 {
                    p.positions.push(option(&sym, s, r, strike, e, qty, None));
                    n += 1;
                }
            }
        }
        if u % 5 == 0 {
            p.positions.push(Position::stock(
                &sym,
                Decimal::from(100 * (1 + rng.below(5) as i64)),
                Decimal::from(s as i64),
            ));
        }
    }
    p
}

/// 10,000 option positions over 100 underlyings, iv given.
fn pm_book() -> Portfolio {
    let mut rng = Rng(0x0dd_ba11_cafe_0002);
    let mut p = Portfolio {
        as_of: Some(date("2026-11-24")),
        ..Portfolio::default()
    };
    let expiries = [
        date("2026-12-18"),
        date("2027-01-15"),
        date("2027-03-19"),
        date("2027-06-18"),
    ];
    for u in 0..100 {
        let sym = format!("P{u:03}");
        let s = 20.0 + rng.below(480) as f64;
        p.underlyings.insert(
            sym.clone(),
            Underlying::new(&sym, Decimal::from(s as i64), UnderlyingClass::Equity),
        );
        for _ in 0..100 {
            let right = if rng.below(2) == 0 {
                Right::Call
            } else {
                Right::Put
            };
            let strike = (s * (0.7 + rng.below(60) as f64 / 100.0)).round().max(1.0);
            let qty = rng.below(21) as i64 - 10;
            let qty = if qty == 0 { 1 } else { qty };
            let iv = 0.15 + rng.below(50) as f64 / 100.0;
            p.positions.push(option(
                &sym,
                s,
                right,
                strike,
                expiries[rng.below(4) as usize],
                qty,
                Some(iv),
            ));
        }
    }
    p
}

/// The baseline for portfolio margin: revalue each position on its own over the same 20 scenarios
/// (10 price points at the current and the raised volatility)
/// per underlying and take the worst loss — no netting, no explanation, no stress.
fn bare_scenario_loop(p: &Portfolio) -> f64 {
    let as_of = p.as_of.map(|d| d.days_since_epoch()).unwrap_or(0);
    let mut by_und: std::collections::BTreeMap<&str, Vec<&Position>> = Default::default();
    for pos in &p.positions {
        by_und.entry(pos.symbol.as_str()).or_default().push(pos);
    }
    let mut total = 0.0;
    for (sym, list) in by_und {
        let s = p
            .underlyings
            .get(sym)
            .and_then(|u| u.price.to_f64())
            .unwrap_or(0.0);
        let mut pnl = [0.0_f64; 20];
        for pos in list {
            let Some(spec) = pos.option_spec() else {
                continue;
            };
            let t = (spec.expiry.days_since_epoch() - as_of) as f64 / 365.0;
            let k = spec.strike.to_f64().unwrap_or(0.0);
            let vol = pos.iv.and_then(|v| v.to_f64()).unwrap_or(0.3);
            let q = pos.qty.to_f64().unwrap_or(0.0) * spec.multiplier.to_f64().unwrap_or(0.0);
            let base = pricing::price(Model::BlackScholes, spec.right, s, k, t, 0.0, vol);
            for (i, slot) in pnl.iter_mut().enumerate() {
                let m = 0.03 * ((i / 4) as f64 + 1.0) * if i % 2 == 0 { -1.0 } else { 1.0 };
                let v = if (i / 2) % 2 == 0 { vol } else { vol * 1.15 };
                *slot += q
                    * (pricing::price(
                        Model::BlackScholes,
                        spec.right,
                        s * (1.0 + m),
                        k,
                        t,
                        0.0,
                        v,
                    ) - base);
            }
        }
        total += pnl.iter().fold(0.0_f64, |w, x| w.max(-x));
    }
    total
}

/// Engine / baseline time ratio measured with the two interleaved (one call of each per round,
/// median over rounds), so that load from other processes hits both sides alike. Printed beside
/// criterion's absolute figures.
fn interleaved_ratio<A, B>(
    name: &str,
    rounds: usize,
    mut engine: impl FnMut() -> A,
    mut baseline: impl FnMut() -> B,
) {
    let mut ratios = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let t = Instant::now();
        black_box(engine());
        let e = t.elapsed().as_secs_f64();
        let t = Instant::now();
        black_box(baseline());
        let b = t.elapsed().as_secs_f64();
        if b > 0.0 {
            ratios.push(e / b);
        }
    }
    ratios.sort_by(f64::total_cmp);
    if let Some(m) = ratios.get(ratios.len() / 2) {
        eprintln!(
            "{name}: engine / baseline = {m:.3} (interleaved, median of {} rounds)",
            ratios.len()
        );
    }
}

fn regt_500(c: &mut Criterion) {
    let p = regt_book();
    if let (Ok(o), Ok(gr)) = (
        compute_regt(&p, Grouping::Optimal),
        compute_regt(&p, Grouping::Greedy),
    ) {
        let unproven = o
            .groups
            .iter()
            .filter(|g| g.detail.contains("not proven"))
            .count();
        eprintln!(
            "regt_500 book: {} positions; optimal initial {} maintenance {}; greedy initial {} maintenance {}; groups not proven optimal: {unproven}",
            p.positions.len(),
            o.initial.round_dp(2),
            o.maintenance.round_dp(2),
            gr.initial.round_dp(2),
            gr.maintenance.round_dp(2)
        );
    }
    interleaved_ratio(
        "regt_500",
        200,
        || compute_regt(&p, Grouping::Optimal),
        || compute_regt(&p, Grouping::Greedy),
    );
    let mut g = c.benchmark_group("regt_500");
    g.bench_function("optimal", |b| {
        b.iter(|| compute_regt(black_box(&p), Grouping::Optimal))
    });
    g.bench_function("greedy_baseline", |b| {
        b.iter(|| compute_regt(black_box(&p), Grouping::Greedy))
    });
    g.finish();
}

fn what_if(c: &mut Criterion) {
    let p = regt_book();
    let book = MarginBook::new(p.clone(), Method::RegT).ok();
    let order = option(
        "U07",
        150.0,
        Right::Put,
        140.0,
        date("2026-12-18"),
        -3,
        None,
    );
    interleaved_ratio(
        "what_if",
        200,
        || book.as_ref().map(|bk| bk.what_if(&order)),
        || {
            let mut q = p.clone();
            q.positions.push(order.clone());
            compute(&q, Method::RegT)
        },
    );
    let mut g = c.benchmark_group("what_if");
    g.bench_function("cached_book", |b| {
        b.iter(|| book.as_ref().map(|bk| bk.what_if(black_box(&order))))
    });
    g.bench_function("full_recompute_baseline", |b| {
        b.iter(|| {
            let mut q = p.clone();
            q.positions.push(order.clone());
            compute(black_box(&q), Method::RegT)
        })
    });
    g.finish();
}

fn portfolio_10000(c: &mut Criterion) {
    let p = pm_book();
    interleaved_ratio(
        "portfolio_10000",
        40,
        || compute(&p, Method::Portfolio),
        || bare_scenario_loop(&p),
    );
    let mut g = c.benchmark_group("portfolio_10000");
    g.bench_function("engine", |b| {
        b.iter(|| compute(black_box(&p), Method::Portfolio))
    });
    g.bench_function("bare_scenario_loop_baseline", |b| {
        b.iter(|| bare_scenario_loop(black_box(&p)))
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_secs(1))
}

criterion_group! { name = benches; config = config(); targets = regt_500, what_if, portfolio_10000 }
criterion_main!(benches);
