//! Incremental indicators for scripts (`ta::sma(20)`, then `ind.update(bar.close)` once per
//! bar): written in Rust, exact in `Decimal`, O(1) per update (the rolling high and low are
//! O(period)). `update` answers the indicator's value, or `()` until it has seen enough data.

use std::collections::VecDeque;

use rhai::{Dynamic, Engine, EvalAltResult, Module, Position};
use rust_decimal::{Decimal, MathematicalOps};
use serde::{Deserialize, Serialize};

/// Simple moving average of the last `period` values.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sma {
    period: usize,
    window: VecDeque<Decimal>,
    sum: Decimal,
}

impl Sma {
    pub fn new(period: usize) -> Self {
        Self {
            period: period.max(1),
            window: VecDeque::new(),
            sum: Decimal::ZERO,
        }
    }

    pub fn update(&mut self, value: Decimal) -> Option<Decimal> {
        self.window.push_back(value);
        self.sum += value;
        if self.window.len() > self.period
            && let Some(old) = self.window.pop_front()
        {
            self.sum -= old;
        }
        self.value()
    }

    pub fn value(&self) -> Option<Decimal> {
        (self.window.len() == self.period).then(|| self.sum / Decimal::from(self.period))
    }
}

/// Exponential moving average, seeded with the simple average of the first `period` values;
/// α = 2 / (period + 1).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ema {
    alpha: Decimal,
    seed: Sma,
    value: Option<Decimal>,
}

impl Ema {
    pub fn new(period: usize) -> Self {
        let period = period.max(1);
        Self {
            alpha: Decimal::TWO / Decimal::from(period + 1),
            seed: Sma::new(period),
            value: None,
        }
    }

    pub fn update(&mut self, value: Decimal) -> Option<Decimal> {
        self.value = match self.value {
            Some(previous) => Some(previous + self.alpha * (value - previous)),
            None => self.seed.update(value),
        };
        self.value
    }
}

/// Relative strength index with Wilder's smoothing.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rsi {
    period: Decimal,
    seen: usize,
    needed: usize,
    previous: Option<Decimal>,
    gain: Decimal,
    loss: Decimal,
}

impl Rsi {
    pub fn new(period: usize) -> Self {
        let period = period.max(1);
        Self {
            period: Decimal::from(period),
            seen: 0,
            needed: period,
            previous: None,
            gain: Decimal::ZERO,
            loss: Decimal::ZERO,
        }
    }

    pub fn update(&mut self, value: Decimal) -> Option<Decimal> {
        let previous = self.previous.replace(value)?;
        let change = value - previous;
        let (up, down) = if change > Decimal::ZERO {
            (change, Decimal::ZERO)
        } else {
            (Decimal::ZERO, -change)
        };
        self.seen += 1;
        if self.seen <= self.needed {
            // The first averages are plain means of the first `period` changes.
            self.gain += up / self.period;
            self.loss += down / self.period;
        } else {
            self.gain = (self.gain * (self.period - Decimal::ONE) + up) / self.period;
            self.loss = (self.loss * (self.period - Decimal::ONE) + down) / self.period;
        }
        if self.seen < self.needed {
            return None;
        }
        Some(if self.loss.is_zero() {
            Decimal::ONE_HUNDRED
        } else {
            Decimal::ONE_HUNDRED - Decimal::ONE_HUNDRED / (Decimal::ONE + self.gain / self.loss)
        })
    }
}

/// Average true range with Wilder's smoothing.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Atr {
    period: Decimal,
    needed: usize,
    seen: usize,
    previous_close: Option<Decimal>,
    atr: Decimal,
}

impl Atr {
    pub fn new(period: usize) -> Self {
        let period = period.max(1);
        Self {
            period: Decimal::from(period),
            needed: period,
            seen: 0,
            previous_close: None,
            atr: Decimal::ZERO,
        }
    }

    pub fn update(&mut self, high: Decimal, low: Decimal, close: Decimal) -> Option<Decimal> {
        let range = match self.previous_close.replace(close) {
            Some(prev) => (high - low)
                .max((high - prev).abs())
                .max((low - prev).abs()),
            None => high - low,
        };
        self.seen += 1;
        if self.seen <= self.needed {
            self.atr += range / self.period;
        } else {
            self.atr = (self.atr * (self.period - Decimal::ONE) + range) / self.period;
        }
        (self.seen >= self.needed).then_some(self.atr)
    }
}

/// Bollinger bands: the simple average ± `k` population standard deviations.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Bollinger {
    sma: Sma,
    k: Decimal,
}

/// Middle, upper and lower band.
pub type Bands = (Decimal, Decimal, Decimal);

impl Bollinger {
    pub fn new(period: usize, k: Decimal) -> Self {
        Self {
            sma: Sma::new(period),
            k,
        }
    }

    pub fn update(&mut self, value: Decimal) -> Option<Bands> {
        let mean = self.sma.update(value)?;
        let n = Decimal::from(self.sma.window.len());
        let variance = self
            .sma
            .window
            .iter()
            .map(|x| (*x - mean) * (*x - mean))
            .sum::<Decimal>()
            / n;
        let deviation = variance.sqrt().unwrap_or(Decimal::ZERO);
        Some((mean, mean + self.k * deviation, mean - self.k * deviation))
    }
}

/// Volume-weighted average price since it was created (a new one each session).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Vwap {
    value_traded: Decimal,
    volume: Decimal,
}

impl Vwap {
    pub fn update(&mut self, price: Decimal, volume: Decimal) -> Option<Decimal> {
        self.value_traded += price * volume;
        self.volume += volume;
        (!self.volume.is_zero()).then(|| self.value_traded / self.volume)
    }
}

/// The highest (or lowest) of the last `period` values.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rolling {
    period: usize,
    window: VecDeque<Decimal>,
    highest: bool,
}

impl Rolling {
    pub fn new(period: usize, highest: bool) -> Self {
        Self {
            period: period.max(1),
            window: VecDeque::new(),
            highest,
        }
    }

    pub fn update(&mut self, value: Decimal) -> Option<Decimal> {
        self.window.push_back(value);
        if self.window.len() > self.period {
            self.window.pop_front();
        }
        if self.window.len() < self.period {
            return None;
        }
        let values = self.window.iter().copied();
        if self.highest {
            values.max()
        } else {
            values.min()
        }
    }
}

/// Whether a line crossed another: `1` when `a` went from below or at `b` to above it, `-1`
/// for the other way, `0` otherwise (and on the first update).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Cross {
    previous: Option<Decimal>,
}

impl Cross {
    pub fn update(&mut self, a: Decimal, b: Decimal) -> i64 {
        let now = a - b;
        let crossed = match self.previous {
            Some(before) if before <= Decimal::ZERO && now > Decimal::ZERO => 1,
            Some(before) if before >= Decimal::ZERO && now < Decimal::ZERO => -1,
            _ => 0,
        };
        self.previous = Some(now);
        crossed
    }
}

fn or_unit(value: Option<Decimal>) -> Dynamic {
    value.map_or(Dynamic::UNIT, Dynamic::from_decimal)
}

fn period(n: i64) -> Result<usize, Box<EvalAltResult>> {
    usize::try_from(n)
        .ok()
        .filter(|n| (1..=10_000).contains(n))
        .ok_or_else(|| {
            Box::new(EvalAltResult::ErrorRuntime(
                format!("an indicator's period must be 1 to 10000, not {n}").into(),
                Position::NONE,
            ))
        })
}

/// Registers the `ta` module (constructors) and the indicators' `update` methods. Quantities
/// may be written as integers or decimals (`update(100)` and `update(100.5)`).
pub fn register(engine: &mut Engine) {
    engine
        .register_type_with_name::<Sma>("Sma")
        .register_type_with_name::<Ema>("Ema")
        .register_type_with_name::<Rsi>("Rsi")
        .register_type_with_name::<Atr>("Atr")
        .register_type_with_name::<Bollinger>("Bollinger")
        .register_type_with_name::<Vwap>("Vwap")
        .register_type_with_name::<Rolling>("Rolling")
        .register_type_with_name::<Cross>("Cross");
    macro_rules! one_input {
        ($ty:ty) => {
            engine.register_fn("update", |i: &mut $ty, x: Decimal| or_unit(i.update(x)));
            engine.register_fn("update", |i: &mut $ty, x: i64| {
                or_unit(i.update(Decimal::from(x)))
            });
        };
    }
    one_input!(Sma);
    one_input!(Ema);
    one_input!(Rsi);
    one_input!(Rolling);
    engine.register_fn(
        "update",
        |i: &mut Atr, h: Decimal, l: Decimal, c: Decimal| or_unit(i.update(h, l, c)),
    );
    engine.register_fn("update", |i: &mut Bollinger, x: Decimal| bands(i.update(x)));
    engine.register_fn("update", |i: &mut Bollinger, x: i64| {
        bands(i.update(Decimal::from(x)))
    });
    engine.register_fn("update", |i: &mut Vwap, p: Decimal, v: Decimal| {
        or_unit(i.update(p, v))
    });
    engine.register_fn("update", |i: &mut Vwap, p: Decimal, v: i64| {
        or_unit(i.update(p, Decimal::from(v)))
    });
    engine.register_fn("update", |i: &mut Cross, a: Decimal, b: Decimal| {
        i.update(a, b)
    });
    // A line still warming up is `()`: no crossing until both have values, and the first update
    // with both only records where they stand, so an average can be passed on unchecked.
    engine.register_fn("update", |_: &mut Cross, _: (), _: Decimal| 0_i64);
    engine.register_fn("update", |_: &mut Cross, _: Decimal, _: ()| 0_i64);
    engine.register_fn("update", |_: &mut Cross, _: (), _: ()| 0_i64);

    let mut ta = Module::new();
    ta.set_native_fn("sma", |n: i64| Ok(Sma::new(period(n)?)));
    ta.set_native_fn("ema", |n: i64| Ok(Ema::new(period(n)?)));
    ta.set_native_fn("rsi", |n: i64| Ok(Rsi::new(period(n)?)));
    ta.set_native_fn("atr", |n: i64| Ok(Atr::new(period(n)?)));
    ta.set_native_fn("bollinger", |n: i64, k: Decimal| {
        Ok(Bollinger::new(period(n)?, k))
    });
    ta.set_native_fn("bollinger", |n: i64, k: i64| {
        Ok(Bollinger::new(period(n)?, Decimal::from(k)))
    });
    ta.set_native_fn("vwap", || Ok(Vwap::default()));
    ta.set_native_fn("highest", |n: i64| Ok(Rolling::new(period(n)?, true)));
    ta.set_native_fn("lowest", |n: i64| Ok(Rolling::new(period(n)?, false)));
    ta.set_native_fn("cross", || Ok(Cross::default()));
    engine.register_static_module("ta", ta.into());
}

fn bands(value: Option<Bands>) -> Dynamic {
    match value {
        Some((middle, upper, lower)) => {
            let mut map = rhai::Map::new();
            map.insert("middle".into(), Dynamic::from_decimal(middle));
            map.insert("upper".into(), Dynamic::from_decimal(upper));
            map.insert("lower".into(), Dynamic::from_decimal(lower));
            map.into()
        }
        None => Dynamic::UNIT,
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    fn feed<T>(values: &[i64], mut f: impl FnMut(Decimal) -> T) -> Vec<T> {
        values.iter().map(|v| f(Decimal::from(*v))).collect()
    }

    #[test]
    fn moving_averages_match_hand_computed_values() {
        let mut sma = Sma::new(3);
        assert_eq!(
            feed(&[1, 2, 3, 4, 5], |x| sma.update(x)),
            [None, None, Some(dec!(2)), Some(dec!(3)), Some(dec!(4))]
        );
        // EMA(3): seeded with SMA(1,2,3) = 2, then α = 0.5: 2 + 0.5 × (4 − 2) = 3, then 4.
        let mut ema = Ema::new(3);
        assert_eq!(
            feed(&[1, 2, 3, 4, 5], |x| ema.update(x)),
            [None, None, Some(dec!(2)), Some(dec!(3)), Some(dec!(4))]
        );
    }

    #[test]
    fn rsi_atr_bands_vwap_extremes_and_crossings() {
        // Two rises of 1 and one fall of 1 over a period of 3: gain 2/3, loss 1/3, RS 2.
        let mut rsi = Rsi::new(3);
        let values = feed(&[10, 11, 12, 11], |x| rsi.update(x));
        assert_eq!(values[..3], [None, None, None]);
        let rsi_value = values[3].unwrap();
        assert_eq!(rsi_value.round_dp(10), dec!(66.6666666667));

        let mut atr = Atr::new(2);
        assert_eq!(atr.update(dec!(11), dec!(9), dec!(10)), None);
        // True range max(12 − 10, |12 − 10|, |10 − 10|) = 2; mean of 2 and 2 = 2.
        assert_eq!(atr.update(dec!(12), dec!(10), dec!(11)), Some(dec!(2)));

        let mut bands = Bollinger::new(2, dec!(2));
        assert_eq!(bands.update(dec!(1)), None);
        // Mean 2, population deviation 1: 2 ± 2.
        assert_eq!(bands.update(dec!(3)), Some((dec!(2), dec!(4), dec!(0))));

        let mut vwap = Vwap::default();
        vwap.update(dec!(10), dec!(100));
        assert_eq!(vwap.update(dec!(20), dec!(300)), Some(dec!(17.5)));

        let mut high = Rolling::new(2, true);
        assert_eq!(
            feed(&[3, 1, 2], |x| high.update(x)),
            [None, Some(dec!(3)), Some(dec!(2))]
        );

        let mut cross = Cross::default();
        assert_eq!(cross.update(dec!(1), dec!(2)), 0);
        assert_eq!(cross.update(dec!(3), dec!(2)), 1);
        assert_eq!(cross.update(dec!(1), dec!(2)), -1);
    }

    #[test]
    fn scripts_use_the_ta_module_in_state() {
        let engine = super::super::strategy_engine();
        let ast = super::super::check(
            &engine,
            "state.fast = ta::sma(2);\n\
             state.fast.update(10); \n\
             let v = state.fast.update(11.5);\n\
             let b = ta::bollinger(2, 2).update(1);\n\
             [v, b == ()]",
        )
        .unwrap();
        let mut scope = rhai::Scope::new();
        scope.push("state", rhai::Map::new());
        scope.push("params", rhai::Map::new());
        let out = engine
            .eval_ast_with_scope::<rhai::Array>(&mut scope, &ast)
            .unwrap();
        assert_eq!(out[0].clone().cast::<Decimal>(), dec!(10.75));
        assert!(out[1].as_bool().unwrap());
        // A crossing of averages still warming up (`()`) is 0, and does not count as a side.
        let crossings = engine
            .eval_with_scope::<rhai::Array>(
                &mut scope,
                "let c = ta::cross();\n\
                 [c.update((), 1.0), c.update(1.0, ()), c.update((), ()), c.update(3.0, 2.0),\n\
                  c.update(1.0, 2.0), c.update((), 2.0), c.update(3.0, 2.0)]",
            )
            .unwrap();
        let crossings: Vec<i64> = crossings.iter().map(|c| c.as_int().unwrap()).collect();
        assert_eq!(crossings, [0, 0, 0, 0, -1, 0, 1]);
        let err = engine
            .eval_with_scope::<Dynamic>(&mut scope, "ta::sma(0)")
            .unwrap_err();
        assert!(
            err.to_string().contains("period must be 1 to 10000"),
            "{err}"
        );
    }
}
