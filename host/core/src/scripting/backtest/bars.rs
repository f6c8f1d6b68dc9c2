//! Where a backtest's bars come from: a CSV file (`time,open,high,low,close,volume`), the
//! `bars` table in PostgreSQL, or a deterministic generator (fixtures and benchmarks). Every
//! source gives the same [`ScriptBar`]s, checked the same way, so a strategy cannot tell them
//! apart.

use std::path::Path;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use rust_decimal::Decimal;
use sqlx::PgPool;

use crate::domain::SecType;
use crate::scripting::strategy::ScriptBar;
use crate::scripting::strategy::symbols;
use crate::store::{StoreError, instruments, market_data};

/// The one header a bar file may have, so a file with its columns in another order is refused
/// rather than read wrongly.
pub const CSV_HEADER: &str = "time,open,high,low,close,volume";

/// The largest price a bar may carry: far above any traded price, and low enough that no sum a
/// backtest forms can overflow a `Decimal`.
pub const MAX_PRICE: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);

/// Why bars could not be had.
#[derive(Debug, thiserror::Error)]
pub enum BarsError {
    /// A malformed CSV line: `FILE:LINE: what` (lines count from 1, the header being line 1).
    #[error("{file}:{line}: {message}")]
    Csv {
        file: String,
        line: usize,
        message: String,
    },
    #[error("{file}: {message}")]
    Io { file: String, message: String },
    #[error("{0}")]
    Symbol(String),
    #[error("{symbol}: no such instrument in the database (record or download its bars first)")]
    UnknownInstrument { symbol: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reads bars of `symbol` from a CSV file; see [`parse_csv`].
pub fn load_csv(path: &Path, symbol: &str) -> Result<Vec<ScriptBar>, BarsError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| BarsError::Io {
        file: file.clone(),
        message: e.to_string(),
    })?;
    parse_csv(&file, &text, symbol)
}

/// Parses CSV text whose first line is exactly [`CSV_HEADER`]. Times are RFC 3339
/// (`2026-01-02T14:30:00Z`, any offset) or a date alone (`2026-01-02`, midnight UTC). Blank lines
/// are skipped; anything else wrong is an error naming `file` and the line.
pub fn parse_csv(file: &str, text: &str, symbol: &str) -> Result<Vec<ScriptBar>, BarsError> {
    let symbol = canonical(symbol)?;
    let error = |line: usize, message: String| BarsError::Csv {
        file: file.to_owned(),
        line,
        message,
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.trim_end()));
    match lines.next() {
        Some((_, header)) if header.trim() == CSV_HEADER => {}
        Some((_, header)) => {
            return Err(error(
                1,
                format!("the header must be `{CSV_HEADER}`, not `{header}`"),
            ));
        }
        None => return Err(error(1, format!("empty file (expected `{CSV_HEADER}`)"))),
    }
    let mut bars: Vec<ScriptBar> = Vec::new();
    for (number, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let bar = parse_row(line, &symbol).map_err(|m| error(number, m))?;
        if let Some(previous) = bars.last() {
            check_order(previous, &bar).map_err(|m| error(number, m))?;
        }
        bars.push(bar);
    }
    if bars.is_empty() {
        return Err(error(1, "no bars after the header".into()));
    }
    Ok(bars)
}

fn parse_row(line: &str, symbol: &str) -> Result<ScriptBar, String> {
    let fields: Vec<&str> = line.split(',').map(str::trim).collect();
    if fields.len() != 6 {
        return Err(format!(
            "expected 6 fields ({CSV_HEADER}), found {}",
            fields.len()
        ));
    }
    let time = parse_time(fields[0])?;
    let number = |index: usize, name: &str| -> Result<Decimal, String> {
        let text = fields[index];
        let value: Decimal = text
            .parse()
            .map_err(|_| format!("{name}: `{text}` is not a number"))?;
        if value.is_sign_negative() || value > MAX_PRICE {
            return Err(format!("{name}: {text} is out of range (0 to {MAX_PRICE})"));
        }
        Ok(value)
    };
    let bar = ScriptBar {
        symbol: symbol.to_owned(),
        time,
        open: number(1, "open")?,
        high: number(2, "high")?,
        low: number(3, "low")?,
        close: number(4, "close")?,
        volume: number(5, "volume")?,
    };
    check_bar(&bar)?;
    Ok(bar)
}

fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(Utc.from_utc_datetime(&date.and_time(chrono::NaiveTime::MIN)));
    }
    Err(format!(
        "time: `{text}` is neither an ISO 8601 time with its zone (2026-01-02T14:30:00Z) nor a date (2026-01-02)"
    ))
}

/// Prices positive, high the highest and low the lowest of the bar.
fn check_bar(bar: &ScriptBar) -> Result<(), String> {
    if bar.low.is_zero() {
        return Err("low: prices must be positive".into());
    }
    if bar.high < bar.low {
        return Err(format!("high {} is below low {}", bar.high, bar.low));
    }
    for (name, value) in [("open", bar.open), ("close", bar.close)] {
        if value > bar.high || value < bar.low {
            return Err(format!(
                "{name} {value} is outside the bar's range {} to {}",
                bar.low, bar.high
            ));
        }
    }
    Ok(())
}

fn check_order(previous: &ScriptBar, bar: &ScriptBar) -> Result<(), String> {
    if bar.time <= previous.time {
        return Err(format!(
            "time {} is not after the previous bar's {} (bars must be in increasing time order)",
            bar.time.to_rfc3339(),
            previous.time.to_rfc3339()
        ));
    }
    Ok(())
}

fn canonical(symbol: &str) -> Result<String, BarsError> {
    let spec = symbols::spec_of(symbol).map_err(BarsError::Symbol)?;
    Ok(symbols::symbol_of(&spec))
}

/// Bars of `symbol` of `bar_seconds` each, starting in `[from, to)`, from PostgreSQL. The
/// instrument is found as the same contract whatever exchange it was stored under.
pub async fn load_pg(
    pool: &PgPool,
    symbol: &str,
    bar_seconds: i32,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<ScriptBar>, BarsError> {
    let spec = symbols::spec_of(symbol).map_err(BarsError::Symbol)?;
    let canonical = symbols::symbol_of(&spec);
    let mut found = instruments::equivalent(pool, &spec).await?;
    if found.is_none() && spec.sec_type == SecType::Stock {
        // A script says "SPY" for a fund that may be stored as an ETF.
        let mut etf = spec.clone();
        etf.sec_type = SecType::Etf;
        found = instruments::equivalent(pool, &etf).await?;
    }
    let instrument = found.ok_or_else(|| BarsError::UnknownInstrument {
        symbol: canonical.clone(),
    })?;
    let stored = market_data::bars_between(pool, instrument.id, bar_seconds, from, to).await?;
    let mut bars: Vec<ScriptBar> = Vec::with_capacity(stored.len());
    for bar in stored {
        let bar = ScriptBar {
            symbol: canonical.clone(),
            time: bar.ts,
            open: bar.open,
            high: bar.high,
            low: bar.low,
            close: bar.close,
            volume: bar.volume,
        };
        // Stored bars were checked when recorded; a broken one still must not reach a script.
        check_bar(&bar).map_err(|message| StoreError::Corrupt {
            what: "bar",
            message: format!("{canonical} at {}: {message}", bar.time.to_rfc3339()),
        })?;
        bars.push(bar);
    }
    Ok(bars)
}

/// The bar length the bars show: the smallest gap between two consecutive starts (a daily
/// series with weekends still gives one day); one day when there is a single bar.
pub fn bar_seconds_of(bars: &[ScriptBar]) -> i32 {
    bars.windows(2)
        .map(|pair| (pair[1].time - pair[0].time).num_seconds())
        .filter(|s| *s > 0)
        .min()
        .and_then(|s| i32::try_from(s).ok())
        .unwrap_or(86_400)
}

/// Writes bars as CSV with [`CSV_HEADER`] (times RFC 3339 in UTC), the format [`parse_csv`]
/// reads back.
pub fn to_csv(bars: &[ScriptBar]) -> String {
    let mut text = String::with_capacity(64 * (bars.len() + 1));
    text.push_str(CSV_HEADER);
    text.push('\n');
    for bar in bars {
        text.push_str(&format!(
            "{},{},{},{},{},{}\n",
            bar.time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            bar.open,
            bar.high,
            bar.low,
            bar.close,
            bar.volume
        ));
    }
    text
}

/// Deterministic, plausible bars for fixtures and benchmarks: regimes of 15 to 60 bars that
/// trend up, trend down or range, moves of about 0.9 % per bar, prices to the cent.
/// Decimal arithmetic throughout, so the same `seed` gives the same bars everywhere. Bars of a
/// day or more skip Saturdays and Sundays.
pub fn synthetic(
    symbol: &str,
    start: DateTime<Utc>,
    count: usize,
    bar_seconds: i32,
    start_price: Decimal,
    seed: u64,
) -> Vec<ScriptBar> {
    let mut rng = XorShift(seed.max(1));
    let step = Duration::seconds(i64::from(bar_seconds.max(1)));
    let daily = bar_seconds >= 86_400;
    let bp = |n: i64| Decimal::new(n, 4);
    // A roughly normal draw in basis points: the sum of four uniforms in [-50, 50].
    let noise = |rng: &mut XorShift, scale: i64| -> Decimal {
        let sum: i64 = (0..4).map(|_| rng.below(101) as i64 - 50).sum();
        bp(sum * scale / 2)
    };
    let mut bars = Vec::with_capacity(count);
    let mut time = start;
    let mut close = start_price;
    let mut regime = 0u64;
    let mut left = 0u64;
    let mut anchor = start_price;
    while bars.len() < count {
        if daily {
            while matches!(time.weekday(), Weekday::Sat | Weekday::Sun) {
                time += Duration::days(1);
            }
        }
        if left == 0 {
            regime = rng.below(3);
            left = 15 + rng.below(46);
            anchor = close;
        }
        left -= 1;
        // Drift per bar: +0.15 %, −0.15 %, or a pull back towards where the range began.
        let drift = match regime {
            0 => bp(15),
            1 => bp(-15),
            _ => ((anchor - close) / close * Decimal::new(2, 1)).round_dp(4),
        };
        let open = (close * (Decimal::ONE + noise(&mut rng, 1) / Decimal::TEN)).round_dp(2);
        let next = (open * (Decimal::ONE + drift + noise(&mut rng, 6))).round_dp(2);
        let next = next.max(Decimal::ONE);
        let top = open.max(next);
        let bottom = open.min(next);
        let high = (top * (Decimal::ONE + bp(rng.below(60) as i64))).round_dp(2);
        let low = (bottom * (Decimal::ONE - bp(rng.below(60) as i64)))
            .round_dp(2)
            .max(Decimal::new(1, 2));
        let volume = Decimal::from(40_000_000 + rng.below(30_000_000));
        bars.push(ScriptBar {
            symbol: symbol.to_owned(),
            time,
            open,
            high,
            low,
            close: next,
            volume,
        });
        close = next;
        time += step;
    }
    bars
}

/// xorshift64*: tiny, fast and the same on every platform.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    fn parse(text: &str) -> Result<Vec<ScriptBar>, BarsError> {
        parse_csv("bars.csv", text, "spy")
    }

    fn error_of(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    const GOOD: &str = "time,open,high,low,close,volume\n\
        2026-01-02T14:30:00Z,100,101.5,99.25,101,1200\n\
        2026-01-05,101,102,100.5,101.75,900\n";

    #[test]
    fn good_rows_become_bars_of_the_canonical_symbol() {
        let bars = parse(GOOD).unwrap();
        assert_eq!(bars.len(), 2);
        assert_eq!(bars[0].symbol, "SPY");
        assert_eq!(
            bars[0].time,
            Utc.with_ymd_and_hms(2026, 1, 2, 14, 30, 0).unwrap()
        );
        assert_eq!(bars[0].low, dec!(99.25));
        assert_eq!(
            bars[1].time,
            Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).unwrap()
        );
        // CRLF, a byte-order mark, a trailing blank line and an offset are all accepted.
        let windows = "\u{feff}time,open,high,low,close,volume\r\n\
            2026-01-02T09:30:00-05:00,1,1,1,1,0\r\n\r\n";
        let bars = parse(windows).unwrap();
        assert_eq!(
            bars[0].time,
            Utc.with_ymd_and_hms(2026, 1, 2, 14, 30, 0).unwrap()
        );
        assert_eq!(bar_seconds_of(&parse(GOOD).unwrap()), 3 * 86_400 - 52_200);
    }

    #[test]
    fn each_malformed_row_names_its_line() {
        let cases = [
            (
                "time,open,high,low,close\n",
                "bars.csv:1: the header must be",
            ),
            ("", "bars.csv:1: empty file"),
            (
                "time,open,high,low,close,volume\n",
                "bars.csv:1: no bars after the header",
            ),
            (
                "time,open,high,low,close,volume\n2026-01-02,1,1,1,1,0\n2026-01-03,1,1,1\n",
                "bars.csv:3: expected 6 fields",
            ),
            (
                "time,open,high,low,close,volume\n2026-13-02,1,1,1,1,0\n",
                "bars.csv:2: time: `2026-13-02` is neither",
            ),
            (
                "time,open,high,low,close,volume\n2026-01-02 14:30,1,1,1,1,0\n",
                "bars.csv:2: time: ",
            ),
            (
                "time,open,high,low,close,volume\n2026-01-02,1,x,1,1,0\n",
                "bars.csv:2: high: `x` is not a number",
            ),
            (
                "time,open,high,low,close,volume\n2026-01-02,1,1,1,1,-5\n",
                "bars.csv:2: volume: -5 is out of range",
            ),
            (
                "time,open,high,low,close,volume\n2026-01-02,1,1,2,1,0\n",
                "bars.csv:2: high 1 is below low 2",
            ),
            (
                "time,open,high,low,close,volume\n2026-01-02,3,4,2,5,0\n",
                "bars.csv:2: close 5 is outside the bar's range 2 to 4",
            ),
            (
                "time,open,high,low,close,volume\n2026-01-02,0,0,0,0,0\n",
                "bars.csv:2: low: prices must be positive",
            ),
            (
                "time,open,high,low,close,volume\n\n2026-01-05,1,1,1,1,0\n2026-01-02,1,1,1,1,0\n",
                "bars.csv:4: time 2026-01-02T00:00:00+00:00 is not after",
            ),
            (
                "time,open,high,low,close,volume\n2026-01-05,1,1,1,1,0\n2026-01-05,1,1,1,1,0\n",
                "bars.csv:3: time 2026-01-05",
            ),
            (
                "time,open,high,low,close,volume\n2026-01-02,1,10000000000,1,1,0\n",
                "bars.csv:2: high: 10000000000 is out of range",
            ),
        ];
        for (text, expected) in cases {
            let error = error_of(text);
            assert!(error.starts_with(expected), "{text:?}: {error}");
        }
        assert!(matches!(
            parse_csv("f", GOOD, "not a symbol"),
            Err(BarsError::Symbol(_))
        ));
    }

    #[test]
    fn synthetic_bars_are_valid_deterministic_and_round_trip_through_csv() {
        let start = Utc.with_ymd_and_hms(2025, 1, 2, 14, 30, 0).unwrap();
        let bars = synthetic("SPY", start, 500, 86_400, dec!(480), 7);
        assert_eq!(bars, synthetic("SPY", start, 500, 86_400, dec!(480), 7));
        assert!(
            bars.iter()
                .all(|b| !matches!(b.time.weekday(), Weekday::Sat | Weekday::Sun))
        );
        for bar in &bars {
            check_bar(bar).unwrap();
        }
        let back = parse_csv("x", &to_csv(&bars), "SPY").unwrap();
        assert_eq!(back, bars);
        let minutes = synthetic("SPY", start, 1000, 60, dec!(480), 7);
        assert_eq!(bar_seconds_of(&minutes), 60);
    }
}

#[cfg(test)]
mod pg_tests {
    use rust_decimal_macros::dec;

    use super::*;
    use crate::domain::{Bar, InstrumentSpec};

    #[sqlx::test(migrations = "../../migrations")]
    async fn bars_load_from_postgres_by_symbol_size_and_range(pool: PgPool) {
        let mut spec = InstrumentSpec::stock("SPY");
        spec.exchange = "ARCA".into();
        spec.sec_type = crate::domain::SecType::Etf;
        let spy = instruments::upsert(&pool, &spec).await.unwrap();
        let start = Utc.with_ymd_and_hms(2026, 1, 5, 14, 30, 0).unwrap();
        let bars = synthetic("SPY", start, 10, 60, dec!(600), 5);
        let stored: Vec<Bar> = bars
            .iter()
            .flat_map(|b| {
                [60, 300].map(|bar_seconds| Bar {
                    instrument_id: spy.id,
                    bar_seconds,
                    ts: b.time,
                    open: b.open,
                    high: b.high,
                    low: b.low,
                    close: b.close,
                    volume: b.volume,
                })
            })
            .collect();
        market_data::upsert_bars(&pool, &stored).await.unwrap();

        // Found whatever exchange it was stored under (and as an ETF for a script's "SPY");
        // only 60-second bars; [from, to).
        let from = start + Duration::minutes(2);
        let to = start + Duration::minutes(7);
        let loaded = load_pg(&pool, "spy", 60, from, to).await.unwrap();
        assert_eq!(loaded, bars[2..7].to_vec());
        assert!(load_pg(&pool, "SPY", 60, to, to).await.unwrap().is_empty());
        let err = load_pg(&pool, "QQQ", 60, from, to).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "QQQ: no such instrument in the database (record or download its bars first)"
        );
        assert!(matches!(
            load_pg(&pool, "not a symbol", 60, from, to).await,
            Err(BarsError::Symbol(_))
        ));
    }
}
