//! Historical bars for any duration and bar size, consistent with the live series: the newest
//! bar closes at the live price and earlier closes walk backwards with increments keyed by
//! (seed, contract, bar size, bar time), so repeating a request gives the same bars. Trading is
//! modelled as continuous on weekdays (UTC), with no holidays.

use chrono::{DateTime, Datelike, NaiveDateTime, TimeZone, Utc, Weekday};
use rust_decimal::Decimal;

use super::rng::keyed;
use crate::msg::BarView;

/// At most this many bars per request; larger requests get 162 like an over-long TWS query.
pub const MAX_BARS: usize = 100_000;
const YEAR_SECS: f64 = 252.0 * 6.5 * 3600.0;

/// A validated bar request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BarPlan {
    pub bar_secs: i64,
    pub duration_secs: i64,
    pub daily: bool,
}

/// Parses a bar size such as `5 mins`, `1 hour`, `1 day`.
pub fn parse_bar_size(s: &str) -> Option<i64> {
    let mut it = s.split_whitespace();
    let n: i64 = it.next()?.parse().ok()?;
    let unit = it.next()?.to_ascii_lowercase();
    let secs = match unit.trim_end_matches('s') {
        "sec" => 1,
        "min" => 60,
        "hour" => 3600,
        "day" => 86_400,
        "week" => 7 * 86_400,
        "month" => 30 * 86_400,
        _ => return None,
    };
    if n <= 0 || it.next().is_some() {
        return None;
    }
    n.checked_mul(secs)
}

/// Parses a duration such as `3600 S`, `2 D`, `1 W`, `1 M`, `1 Y`.
pub fn parse_duration(s: &str) -> Option<i64> {
    let mut it = s.split_whitespace();
    let n: i64 = it.next()?.parse().ok()?;
    let secs = match it.next()?.to_ascii_uppercase().as_str() {
        "S" => 1,
        "D" => 86_400,
        "W" => 7 * 86_400,
        "M" => 30 * 86_400,
        "Y" => 365 * 86_400,
        _ => return None,
    };
    if n <= 0 || it.next().is_some() {
        return None;
    }
    n.checked_mul(secs)
}

/// Validates the pair; the error is the text of a 162.
pub fn plan(bar_size: &str, duration: &str) -> Result<BarPlan, String> {
    let bar_secs =
        parse_bar_size(bar_size).ok_or_else(|| format!("Invalid bar size: {bar_size}"))?;
    let duration_secs =
        parse_duration(duration).ok_or_else(|| format!("Invalid duration: {duration}"))?;
    if bar_secs > duration_secs.max(86_400) || duration_secs / bar_secs > MAX_BARS as i64 {
        return Err(format!("Invalid step: {duration} of {bar_size} bars"));
    }
    Ok(BarPlan {
        bar_secs,
        duration_secs,
        daily: bar_secs >= 86_400,
    })
}

/// Parses `endDateTime`: empty for now, `YYYYMMDD HH:MM:SS[ zone]` or `YYYYMMDD-HH:MM:SS`.
/// Zones are read as UTC (the simulator's exchange time zone).
pub fn parse_end(s: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() {
        return Some(now);
    }
    let head = s.get(..17)?;
    let core: String = if head.as_bytes().get(8) == Some(&b'-') {
        head.replacen('-', " ", 1)
    } else {
        head.to_string()
    };
    let t = NaiveDateTime::parse_from_str(&core, "%Y%m%d %H:%M:%S").ok()?;
    Some(Utc.from_utc_datetime(&t).min(now))
}

/// The time format of end strings: `YYYYMMDD HH:MM:SS UTC`.
pub fn fmt_time(t: DateTime<Utc>) -> String {
    t.format("%Y%m%d %H:%M:%S UTC").to_string()
}

fn is_weekday(t: DateTime<Utc>) -> bool {
    !matches!(t.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Bar start times (oldest first) in `[end - duration, end)`, weekdays only.
pub fn bar_times(plan: BarPlan, end: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let step = plan.bar_secs;
    let end_s = end.timestamp();
    let start_s = end_s - plan.duration_secs;
    let mut t = end_s - end_s.rem_euclid(step);
    if t == end_s {
        t -= step;
    }
    let mut out = Vec::new();
    while t >= start_s && out.len() < MAX_BARS {
        if let Some(dt) = Utc.timestamp_opt(t, 0).single()
            && (plan.bar_secs > 86_400 || is_weekday(dt))
        {
            out.push(dt);
        }
        t -= step;
    }
    out.reverse();
    out
}

/// The price series a request reads: which instrument, how volatile, its tick.
#[derive(Debug, Clone, Copy)]
pub struct Series {
    pub seed: u64,
    pub con_id: i32,
    pub vol: f64,
    pub tick: f64,
    /// The newest bar's close (the live price).
    pub last_close: f64,
}

/// Generates bars ending at `series.last_close`.
pub fn bars(
    series: Series,
    plan: BarPlan,
    times: &[DateTime<Utc>],
    format_date: i32,
) -> Vec<BarView> {
    let Series {
        seed,
        con_id,
        vol,
        tick,
        last_close,
    } = series;
    let sd = vol
        * (plan.bar_secs.min(86_400 * 7) as f64 / YEAR_SECS)
            .sqrt()
            .min(0.5);
    let round = |v: f64| ((v / tick).round() * tick * 1e8).round() / 1e8;
    let mut close = last_close;
    let mut out = Vec::with_capacity(times.len());
    for t in times.iter().rev() {
        let mut r = keyed(&[
            seed,
            con_id as u64,
            plan.bar_secs as u64,
            t.timestamp() as u64,
        ]);
        let open = (close * (-sd * r.normal()).exp()).max(tick);
        let hi = open.max(close) * (1.0 + 0.5 * sd * r.unit());
        let lo = (open.min(close) * (1.0 - 0.5 * sd * r.unit())).max(tick);
        let volume = Decimal::from(r.range(100, 100_000));
        let (o, h, l, c) = (round(open), round(hi), round(lo), round(close));
        let wap = Decimal::from_f64_retain(round((o + h + l + c) / 4.0))
            .unwrap_or_default()
            .round_dp(4);
        let date = if plan.daily {
            t.format("%Y%m%d").to_string()
        } else if format_date == 2 {
            t.timestamp().to_string()
        } else {
            t.format("%Y%m%d %H:%M:%S UTC").to_string()
        };
        out.push(BarView {
            date,
            open: o,
            high: h.max(o).max(c),
            low: l.min(o).min(c),
            close: c,
            volume,
            wap,
            count: r.range(10, 1000) as i32,
        });
        close = open;
    }
    out.reverse();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_and_bars() {
        assert_eq!(parse_bar_size("5 mins"), Some(300));
        assert_eq!(parse_bar_size("1 day"), Some(86_400));
        assert_eq!(parse_duration("2 D"), Some(172_800));
        assert!(plan("1 secs", "1 Y").is_err());
        let p = plan("1 hour", "2 D").unwrap_or_else(|e| panic!("{e}"));
        let end = Utc
            .with_ymd_and_hms(2026, 4, 8, 12, 30, 0)
            .single()
            .unwrap_or_default();
        let times = bar_times(p, end);
        assert_eq!(times.len(), 48);
        let series = Series {
            seed: 1,
            con_id: 5,
            vol: 0.3,
            tick: 0.01,
            last_close: 100.0,
        };
        let a = bars(series, p, &times, 2);
        let b = bars(series, p, &times, 2);
        assert_eq!(a, b);
        assert_eq!(a.last().map(|b| b.close), Some(100.0));
        assert!(
            a.iter().all(|b| b.low <= b.open
                && b.open <= b.high
                && b.low <= b.close
                && b.close <= b.high)
        );
        assert_eq!(
            parse_end("20260408-10:00:00", end).map(|t| t.timestamp()),
            Some(end.timestamp() - 9000)
        );
    }
}
