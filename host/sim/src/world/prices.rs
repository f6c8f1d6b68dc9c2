//! Live prices: a geometric random walk per underlying (stocks, ETFs, the index, futures) with
//! per-instrument volatility, and option quotes derived from the underlying through the
//! pricing model. Each walker owns a keyed RNG, so its path depends only on the seed, its
//! contract id and how many steps it has taken.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use super::instruments::{Instrument, SecType, Universe};
use super::pricing::{option_price, smile_vol};
use super::rng::{Rng, keyed};

/// Seconds in a (simulated, continuous) trading year, used to scale volatility per step.
const YEAR_SECS: f64 = 252.0 * 6.5 * 3600.0;

/// A top-of-book quote plus session statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct Quote {
    pub con_id: i32,
    pub bid: f64,
    pub ask: f64,
    pub last: f64,
    pub bid_size: Decimal,
    pub ask_size: Decimal,
    pub last_size: Decimal,
    pub volume: Decimal,
    pub high: f64,
    pub low: f64,
    pub open: f64,
    pub close: f64,
}

impl Quote {
    pub fn mid(&self) -> f64 {
        0.5 * (self.bid + self.ask)
    }
}

#[derive(Debug, Clone)]
struct Walker {
    price: f64,
    rng: Rng,
    open: f64,
    high: f64,
    low: f64,
    close: f64,
    last: f64,
    last_size: i64,
    volume: i64,
    bid_size: i64,
    ask_size: i64,
}

/// The live state of every underlying.
#[derive(Debug, Clone)]
pub struct Market {
    walkers: HashMap<i32, Walker>,
}

fn round_to(v: f64, tick: f64) -> f64 {
    let r = (v / tick).round() * tick;
    // Trim binary noise so quotes print as 190.12, not 190.12000000000001.
    (r * 1e8).round() / 1e8
}

fn lot(inst: &Instrument) -> i64 {
    match inst.sec_type {
        SecType::Stock => 100,
        _ => 1,
    }
}

impl Market {
    pub fn new(universe: &Universe, seed: u64) -> Self {
        let walkers = universe
            .all()
            .iter()
            .filter(|i| !i.sec_type.is_derivative_priced())
            .map(|i| {
                let mut rng = keyed(&[seed, i.con_id as u64, 1]);
                let p = i.base_price;
                let close = round_to(p * (1.0 + 0.01 * rng.normal() * i.vol), i.min_tick);
                let w = Walker {
                    price: p,
                    open: round_to(p, i.min_tick),
                    high: p.max(close),
                    low: p.min(close),
                    close,
                    last: round_to(p, i.min_tick),
                    last_size: lot(i),
                    volume: rng.range(1_000, 50_000) as i64 * lot(i),
                    bid_size: rng.range(1, 20) as i64 * lot(i),
                    ask_size: rng.range(1, 20) as i64 * lot(i),
                    rng,
                };
                (i.con_id, w)
            })
            .collect();
        Market { walkers }
    }

    /// Advances one underlying by `dt_secs` of simulated time; a trade prints half the time.
    pub fn step(&mut self, inst: &Instrument, dt_secs: f64) {
        let Some(w) = self.walkers.get_mut(&inst.con_id) else {
            return;
        };
        let sd = inst.vol * (dt_secs / YEAR_SECS).sqrt();
        let z = w.rng.normal();
        w.price = (w.price * (sd * z - 0.5 * sd * sd).exp()).max(inst.min_tick * 2.0);
        let l = lot(inst);
        w.bid_size = w.rng.range(1, 20) as i64 * l;
        w.ask_size = w.rng.range(1, 20) as i64 * l;
        if w.rng.unit() < 0.5 {
            let (bid, ask) = spread(inst, w.price);
            w.last = if w.rng.unit() < 0.5 { bid } else { ask };
            w.last_size = w.rng.range(1, 10) as i64 * l;
            w.volume += w.last_size;
            w.high = w.high.max(w.last);
            w.low = w.low.min(w.last);
        }
    }

    /// Fair value of an underlying (its walk price).
    pub fn price(&self, con_id: i32) -> Option<f64> {
        self.walkers.get(&con_id).map(|w| w.price)
    }

    /// The current quote of any instrument; options are priced at `now`.
    pub fn quote(
        &self,
        universe: &Universe,
        inst: &Instrument,
        now: DateTime<Utc>,
    ) -> Option<Quote> {
        if inst.sec_type.is_derivative_priced() {
            return self.option_quote(universe, inst, now);
        }
        let w = self.walkers.get(&inst.con_id)?;
        let (bid, ask) = spread(inst, w.price);
        Some(Quote {
            con_id: inst.con_id,
            bid,
            ask,
            last: w.last,
            bid_size: w.bid_size.into(),
            ask_size: w.ask_size.into(),
            last_size: w.last_size.into(),
            volume: w.volume.into(),
            high: w.high,
            low: w.low,
            open: w.open,
            close: w.close,
        })
    }

    /// Theoretical option value from the underlying's walk price.
    pub fn option_value(
        &self,
        universe: &Universe,
        inst: &Instrument,
        now: DateTime<Utc>,
    ) -> Option<f64> {
        let under = universe.underlying(inst)?;
        let spot = self.price(under.con_id)?;
        let expiry = NaiveDate::parse_from_str(&inst.expiry, "%Y%m%d").ok()?;
        let secs = (expiry.and_hms_opt(20, 0, 0)?.and_utc() - now)
            .num_seconds()
            .max(0) as f64;
        let years = secs / (365.0 * 86_400.0);
        let vol = smile_vol(inst.vol, spot, inst.strike);
        Some(option_price(
            inst.right == "C",
            spot,
            inst.strike,
            years,
            vol,
            under.sec_type == SecType::Future,
        ))
    }

    fn option_quote(
        &self,
        universe: &Universe,
        inst: &Instrument,
        now: DateTime<Utc>,
    ) -> Option<Quote> {
        let value = self.option_value(universe, inst, now)?;
        let tick = inst.min_tick;
        let half = (value * 0.01).clamp(tick, 50.0 * tick);
        let bid = round_to((value - half).max(0.0), tick);
        let ask = round_to((value + half).max(tick), tick).max(bid + tick);
        let last = round_to(value, tick);
        let seed = inst.con_id as u64 ^ (now.timestamp() as u64 / 60);
        let mut r = keyed(&[seed, 7]);
        Some(Quote {
            con_id: inst.con_id,
            bid,
            ask,
            last,
            bid_size: (r.range(1, 50) as i64).into(),
            ask_size: (r.range(1, 50) as i64).into(),
            last_size: (r.range(1, 10) as i64).into(),
            volume: (r.range(100, 5000) as i64).into(),
            high: round_to(value * 1.05, tick),
            low: round_to(value * 0.95, tick),
            open: last,
            close: round_to(value * 1.01, tick),
        })
    }
}

/// Bid and ask around a fair price: at least one tick wide, about 1 bp for liquid names.
fn spread(inst: &Instrument, price: f64) -> (f64, f64) {
    let tick = inst.min_tick;
    let half = (price * 0.00005).max(tick * 0.5);
    let bid = round_to(((price - half) / tick).floor() * tick, tick);
    let width = (2.0 * half / tick).ceil().max(1.0) * tick;
    (bid, round_to(bid + width, tick))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_consistent() {
        let today = NaiveDate::from_ymd_opt(2026, 4, 6).unwrap_or_default();
        let u = Universe::build(1, today);
        let mut m = Market::new(&u, 1);
        let now = today.and_hms_opt(15, 0, 0).unwrap_or_default().and_utc();
        for inst in u.all() {
            if !inst.sec_type.is_derivative_priced() {
                for _ in 0..100 {
                    m.step(inst, 1.0);
                }
            }
            let q = m
                .quote(&u, inst, now)
                .unwrap_or_else(|| panic!("no quote for {}", inst.con_id));
            assert!(q.bid < q.ask && q.bid >= 0.0, "{inst:?} {q:?}");
        }
    }
}
