//! The option chain the panel shows, without any GTK: which expiry and strikes, the option
//! symbols to subscribe to, the quotes received, and the heat level of each side of a row.

use chrono::{DateTime, Datelike, NaiveDate, Weekday};
use rust_decimal::Decimal;

/// Strikes shown on each side of the one nearest the underlying's price.
pub const STRIKES_EACH_SIDE: i64 = 5;

/// Call or put column group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    Call,
    Put,
}

impl Side {
    pub fn letter(self) -> &'static str {
        match self {
            Side::Call => "C",
            Side::Put => "P",
        }
    }
}

/// What the colour of a cell says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// (ask − bid) / mid: wide markets are hot.
    Spread,
    /// Change of the mid since the first quote the panel received.
    Change,
}

impl Metric {
    pub fn label(self) -> &'static str {
        match self {
            Metric::Spread => "Bid/ask spread",
            Metric::Change => "Change since panel opened",
        }
    }
}

/// The monthly expiry (third Friday) strictly after `today`, as the simulator lists them.
pub fn monthly_expiry_after(today: NaiveDate) -> NaiveDate {
    let (mut y, mut m) = (today.year(), today.month());
    loop {
        if let Some(d) = NaiveDate::from_weekday_of_month_opt(y, m, Weekday::Fri, 3)
            && d > today
        {
            return d;
        }
        (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    }
}

/// The UTC date of an event time; the wall clock's for 0 (a host that sends no times).
pub fn date_of(ts_unix_ns: i64) -> NaiveDate {
    if ts_unix_ns == 0 {
        return chrono::Utc::now().date_naive();
    }
    DateTime::from_timestamp_nanos(ts_unix_ns).date_naive()
}

/// The strike step listed for an underlying at `price` (as US chains are spaced in the
/// simulator: 5 up to 300, 10 up to 2000, 50 above).
pub fn strike_step(price: Decimal) -> Decimal {
    if price > Decimal::from(2000) {
        Decimal::from(50)
    } else if price > Decimal::from(300) {
        Decimal::TEN
    } else {
        Decimal::from(5)
    }
}

/// The strikes around `price`: the nearest listed one and [`STRIKES_EACH_SIDE`] either side,
/// ascending, all positive.
pub fn strikes_around(price: Decimal) -> Vec<Decimal> {
    let step = strike_step(price);
    let atm = (price / step).round() * step;
    (-STRIKES_EACH_SIDE..=STRIKES_EACH_SIDE)
        .map(|k| atm + Decimal::from(k) * step)
        .filter(|s| *s > Decimal::ZERO)
        .collect()
}

/// The host's name of an option: `SPY 20261218 C 600`.
pub fn option_symbol(underlying: &str, expiry: NaiveDate, side: Side, strike: Decimal) -> String {
    format!(
        "{underlying} {} {} {}",
        expiry.format("%Y%m%d"),
        side.letter(),
        strike.normalize()
    )
}

/// The latest two-sided quote of one option, and the first mid seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Quote {
    pub bid: Option<Decimal>,
    pub ask: Option<Decimal>,
    pub first_mid: Option<Decimal>,
}

impl Quote {
    /// Takes the sides a tick carries; a side it does not carry keeps its value.
    pub fn update(&mut self, bid: Option<Decimal>, ask: Option<Decimal>) {
        self.bid = bid.or(self.bid);
        self.ask = ask.or(self.ask);
        if self.first_mid.is_none() {
            self.first_mid = self.mid();
        }
    }

    pub fn mid(&self) -> Option<Decimal> {
        match (self.bid, self.ask) {
            (Some(b), Some(a)) if a >= b => Some((a + b) / Decimal::TWO),
            _ => None,
        }
    }

    /// The metric in percent, two decimals.
    pub fn percent(&self, metric: Metric) -> Option<Decimal> {
        let mid = self.mid().filter(|m| !m.is_zero())?;
        let raw = match metric {
            Metric::Spread => (self.ask? - self.bid?) / mid,
            Metric::Change => {
                let first = self.first_mid.filter(|m| !m.is_zero())?;
                (mid - first) / first
            }
        };
        Some((raw * Decimal::ONE_HUNDRED).round_dp(2))
    }

    /// Heat level 0 (cool) to 4 (hot) for the spread; for the change, 0 (down most) to 4 (up
    /// most) with 2 for nearly unchanged.
    pub fn level(&self, metric: Metric) -> Option<u8> {
        let p = self.percent(metric)?;
        let bounds: [Decimal; 4] = match metric {
            Metric::Spread => [
                Decimal::ONE,
                Decimal::new(25, 1),
                Decimal::from(5),
                Decimal::TEN,
            ],
            Metric::Change => [
                Decimal::from(-2),
                Decimal::new(-5, 1),
                Decimal::new(5, 1),
                Decimal::from(2),
            ],
        };
        Some(bounds.iter().take_while(|b| p >= **b).count() as u8)
    }
}

/// One strike's row: the instrument ids and quotes of its call and put.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub strike: Decimal,
    /// `None` when the host refused the subscription (e.g. the strike is not listed).
    pub call_id: Option<u32>,
    pub put_id: Option<u32>,
    pub call: Quote,
    pub put: Quote,
}

impl Row {
    pub fn quote(&self, side: Side) -> &Quote {
        match side {
            Side::Call => &self.call,
            Side::Put => &self.put,
        }
    }

    pub fn id(&self, side: Side) -> Option<u32> {
        match side {
            Side::Call => self.call_id,
            Side::Put => self.put_id,
        }
    }
}

/// The chain of one expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain {
    pub underlying: String,
    pub expiry: NaiveDate,
    pub rows: Vec<Row>,
}

impl Chain {
    /// The row and side an instrument id belongs to.
    pub fn locate(&self, instrument_id: u32) -> Option<(usize, Side)> {
        self.rows.iter().enumerate().find_map(|(i, r)| {
            if r.call_id == Some(instrument_id) {
                Some((i, Side::Call))
            } else if r.put_id == Some(instrument_id) {
                Some((i, Side::Put))
            } else {
                None
            }
        })
    }

    /// Records a quote; answers the row it changed.
    pub fn on_quote(
        &mut self,
        instrument_id: u32,
        bid: Option<Decimal>,
        ask: Option<Decimal>,
    ) -> Option<usize> {
        let (i, side) = self.locate(instrument_id)?;
        let row = &mut self.rows[i];
        match side {
            Side::Call => row.call.update(bid, ask),
            Side::Put => row.put.update(bid, ask),
        }
        Some(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn expiry_is_the_next_third_friday() {
        let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(monthly_expiry_after(d("2026-12-03")), d("2026-12-18"));
        assert_eq!(monthly_expiry_after(d("2026-12-18")), d("2027-01-15"));
        assert_eq!(date_of(1_796_256_000_000_000_000), d("2026-12-03"));
    }

    #[test]
    fn strikes_follow_the_listed_step() {
        let s = strikes_around(dec!(601.23));
        assert_eq!(s.len(), 11);
        assert_eq!((s[0], s[5], s[10]), (dec!(550), dec!(600), dec!(650)));
        assert_eq!(
            strikes_around(dec!(12))[0],
            dec!(5),
            "no strike at or below zero"
        );
        let expiry = NaiveDate::from_ymd_opt(2026, 12, 18).unwrap();
        assert_eq!(
            option_symbol("SPY", expiry, Side::Call, dec!(600.0)),
            "SPY 20261218 C 600"
        );
    }

    #[test]
    fn heat_levels_of_spread_and_change() {
        let mut q = Quote::default();
        q.update(Some(dec!(9.90)), Some(dec!(10.10)));
        assert_eq!(q.percent(Metric::Spread), Some(dec!(2.00)));
        assert_eq!(q.level(Metric::Spread), Some(1));
        assert_eq!(q.level(Metric::Change), Some(2));
        q.update(Some(dec!(10.90)), Some(dec!(11.10)));
        assert_eq!(q.percent(Metric::Change), Some(dec!(10.00)));
        assert_eq!(q.level(Metric::Change), Some(4));
        let one_sided = Quote {
            bid: Some(dec!(1)),
            ..Quote::default()
        };
        assert_eq!(one_sided.level(Metric::Spread), None);
    }
}
