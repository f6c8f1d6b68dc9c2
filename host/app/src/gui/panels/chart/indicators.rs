//! Moving-average overlays, computed in [`Decimal`] and kept up to date incrementally: a live
//! change of the forming candle costs O(1), a new candle O(1); only merged history recomputes.

use rust_decimal::Decimal;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Average {
    /// Simple: the mean of the last `period` closes.
    Sma,
    /// Exponential: seeded with the SMA of the first `period` closes, then
    /// `ema = (2 * close + (period - 1) * previous) / (period + 1)`.
    Ema,
}

/// The overlays the chart offers, with their saved-state keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OverlayKind {
    pub average: Average,
    pub period: usize,
}

impl OverlayKind {
    pub const SMA20: Self = Self {
        average: Average::Sma,
        period: 20,
    };
    pub const SMA50: Self = Self {
        average: Average::Sma,
        period: 50,
    };
    pub const EMA20: Self = Self {
        average: Average::Ema,
        period: 20,
    };
    pub const ALL: [Self; 3] = [Self::SMA20, Self::SMA50, Self::EMA20];

    /// The key in the saved state (`sma20`, `sma50`, `ema20`).
    pub fn key(self) -> String {
        let name = match self.average {
            Average::Sma => "sma",
            Average::Ema => "ema",
        };
        format!("{name}{}", self.period)
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.key() == key)
    }

    /// Shown on the toggle and in the legend.
    pub fn label(self) -> String {
        let name = match self.average {
            Average::Sma => "SMA",
            Average::Ema => "EMA",
        };
        format!("{name} {}", self.period)
    }
}

/// One moving average over a series' closes, value per candle (`None` until `period` closes).
#[derive(Debug, Clone)]
pub struct MovingAverage {
    pub kind: OverlayKind,
    values: Vec<Option<Decimal>>,
    /// SMA: the sum of the window of the last value without the last close (so that a change
    /// of the last close, or a new close, costs O(1)).
    sum_before_last: Decimal,
}

impl MovingAverage {
    pub fn new(kind: OverlayKind) -> Self {
        Self {
            kind,
            values: Vec::new(),
            sum_before_last: Decimal::ZERO,
        }
    }

    pub fn values(&self) -> &[Option<Decimal>] {
        &self.values
    }

    /// Recomputes from scratch (after history was merged).
    pub fn rebuild(&mut self, closes: &[Decimal]) {
        self.values.clear();
        self.sum_before_last = Decimal::ZERO;
        for len in 1..=closes.len() {
            self.push(&closes[..len]);
        }
    }

    /// Follows a live change: the last close changed, or one close was appended. Anything
    /// else (history merged) rebuilds.
    pub fn follow(&mut self, closes: &[Decimal]) {
        if closes.len() == self.values.len() && !closes.is_empty() {
            self.update_last(closes);
        } else if closes.len() == self.values.len() + 1 {
            self.push(closes);
        } else {
            self.rebuild(closes);
        }
    }

    /// `closes` has one more close than there are values.
    fn push(&mut self, closes: &[Decimal]) {
        let last = closes.len() - 1;
        if last > 0 {
            // The window of the new last value drops the close `period` back from it.
            self.sum_before_last += closes[last - 1];
            if last >= self.kind.period {
                self.sum_before_last -= closes[last - self.kind.period];
            }
        }
        self.values.push(None);
        self.update_last(closes);
    }

    /// Recomputes the last value from the earlier ones.
    fn update_last(&mut self, closes: &[Decimal]) {
        let last = closes.len() - 1;
        let period = self.kind.period;
        let n = Decimal::from(period as u64);
        let value = if last + 1 < period {
            None
        } else {
            let sma = (self.sum_before_last + closes[last]) / n;
            match (
                self.kind.average,
                last.checked_sub(1).map(|i| self.values[i]),
            ) {
                (Average::Sma, _) => Some(sma),
                (Average::Ema, Some(Some(previous))) => Some(
                    (Decimal::TWO * closes[last] + (n - Decimal::ONE) * previous)
                        / (n + Decimal::ONE),
                ),
                // The first value of an EMA is the SMA of the first `period` closes.
                (Average::Ema, _) => Some(sma),
            }
        };
        self.values[last] = value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gui::panels::chart::series::tests::d;

    fn closes(list: &[&str]) -> Vec<Decimal> {
        list.iter().map(|c| d(c)).collect()
    }

    fn sma(period: usize) -> MovingAverage {
        MovingAverage::new(OverlayKind {
            average: Average::Sma,
            period,
        })
    }

    fn ema(period: usize) -> MovingAverage {
        MovingAverage::new(OverlayKind {
            average: Average::Ema,
            period,
        })
    }

    #[test]
    fn sma_matches_hand_computed_values() {
        let mut avg = sma(3);
        avg.rebuild(&closes(&["10", "11", "12.5", "13", "9.5"]));
        // (10+11+12.5)/3 = 11.1666…, (11+12.5+13)/3 = 12.1666…, (12.5+13+9.5)/3 = 35/3.
        assert_eq!(avg.values()[..2], [None, None]);
        assert_eq!(avg.values()[2], Some(d("33.5") / d("3")));
        assert_eq!(avg.values()[3], Some(d("36.5") / d("3")));
        assert_eq!(avg.values()[4], Some(d("35") / d("3")));

        // SMA 20 of 1..=25: the value at i is the mean of (i-18)..=(i+1) = i - 8.5.
        let ramp: Vec<Decimal> = (1..=25).map(Decimal::from).collect();
        let mut avg = sma(20);
        avg.rebuild(&ramp);
        assert!(avg.values()[..19].iter().all(Option::is_none));
        assert_eq!(avg.values()[19], Some(d("10.5")));
        assert_eq!(avg.values()[24], Some(d("15.5")));
    }

    #[test]
    fn ema_matches_hand_computed_values() {
        // Period 3: k = 1/2. Seed = (2+4+6)/3 = 4; then (2*8 + 2*4)/4 = 6; (2*10 + 2*6)/4 = 8;
        // (2*3 + 2*8)/4 = 5.5.
        let mut avg = ema(3);
        avg.rebuild(&closes(&["2", "4", "6", "8", "10", "3"]));
        assert_eq!(
            avg.values(),
            &[
                None,
                None,
                Some(d("4")),
                Some(d("6")),
                Some(d("8")),
                Some(d("5.5"))
            ]
        );

        // Period 20 (k = 2/21) over 20 closes of 10 then 21: seed 10, then
        // (2*21 + 19*10)/21 = 232/21.
        let mut series = vec![d("10"); 20];
        series.push(d("21"));
        let mut avg = ema(20);
        avg.rebuild(&series);
        assert_eq!(avg.values()[19], Some(d("10")));
        assert_eq!(avg.values()[20], Some(d("232") / d("21")));
    }

    #[test]
    fn incremental_updates_equal_a_full_rebuild() {
        let mut all = closes(&[
            "100", "101.5", "99.25", "102", "103.75", "101", "100.5", "104", "105.25", "103",
        ]);
        for kind in [
            OverlayKind {
                average: Average::Sma,
                period: 4,
            },
            OverlayKind {
                average: Average::Ema,
                period: 4,
            },
        ] {
            let mut live = MovingAverage::new(kind);
            let mut grown = Vec::new();
            for close in &all {
                grown.push(*close);
                live.follow(&grown);
                // The forming candle's close moves twice before the next candle.
                *grown.last_mut().unwrap() += d("0.25");
                live.follow(&grown);
                *grown.last_mut().unwrap() -= d("0.25");
                live.follow(&grown);
            }
            let mut full = MovingAverage::new(kind);
            full.rebuild(&all);
            assert_eq!(live.values(), full.values(), "{kind:?}");
        }
        // A rebuild after history changed in the middle.
        all[3] = d("90");
        let mut avg = sma(4);
        avg.rebuild(&all);
        assert_eq!(avg.values()[3], Some(d("390.75") / d("4")));
    }

    #[test]
    fn overlay_keys_round_trip() {
        for kind in OverlayKind::ALL {
            assert_eq!(OverlayKind::from_key(&kind.key()), Some(kind));
        }
        assert_eq!(OverlayKind::SMA50.label(), "SMA 50");
        assert_eq!(OverlayKind::from_key("wma9"), None);
    }
}
