//! The chart's geometry (pure, f64/f32 pixels from Decimal prices) and its render nodes:
//! candle bodies, wicks and volume bars as colour rectangles (`append_color`), overlay lines
//! in one `append_cairo`. The widget caches the node of the completed candles and rebuilds
//! only the forming one per frame.

use std::ops::Range;

use chrono::{DateTime, Datelike, Local, Utc};
use gtk::prelude::*;
use gtk::{gdk, graphene};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::series::Candle;
use super::view::Viewport;

/// Pixels between the plot and the widget's edges, the time axis, the volume band.
pub const TIME_AXIS: f64 = 20.0;
pub const GAP: f64 = 6.0;
/// The volume band's share of the height below the price plot.
pub const VOLUME_SHARE: f64 = 0.2;

/// Where things go in the widget.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    pub width: f64,
    pub height: f64,
    /// Plot width (the price axis is to its right).
    pub plot_width: f64,
    pub price_top: f64,
    pub price_bottom: f64,
    pub volume_top: f64,
    pub volume_bottom: f64,
}

impl Frame {
    pub fn new(width: f64, height: f64, axis_width: f64) -> Self {
        let plot_width = (width - axis_width).max(1.0);
        let usable = (height - TIME_AXIS - GAP * 2.0).max(2.0);
        let volume_height = usable * VOLUME_SHARE;
        let price_bottom = GAP + usable - volume_height - GAP;
        Self {
            width,
            height,
            plot_width,
            price_top: GAP,
            price_bottom: price_bottom.max(GAP + 1.0),
            volume_top: price_bottom + GAP,
            volume_bottom: GAP + usable,
        }
    }

    pub fn in_plot(&self, x: f64, y: f64) -> bool {
        (0.0..self.plot_width).contains(&x) && (0.0..self.volume_bottom).contains(&y)
    }
}

/// Price ↔ y within the price plot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PriceScale {
    pub low: f64,
    pub high: f64,
    pub top: f64,
    pub bottom: f64,
}

impl PriceScale {
    /// Spans the candles' lows and highs with a margin of 6 % above and below.
    pub fn for_candles(candles: &[Candle], frame: &Frame) -> Self {
        let mut low = f64::INFINITY;
        let mut high = f64::NEG_INFINITY;
        for c in candles {
            low = low.min(price(c.low));
            high = high.max(price(c.high));
        }
        if !low.is_finite() || !high.is_finite() {
            (low, high) = (0.0, 1.0);
        }
        let span = (high - low).max(high.abs() * 1e-4).max(1e-9);
        Self {
            low: low - span * 0.06,
            high: high + span * 0.06,
            top: frame.price_top,
            bottom: frame.price_bottom,
        }
    }

    pub fn y_of(&self, value: f64) -> f64 {
        self.bottom - (value - self.low) / (self.high - self.low) * (self.bottom - self.top)
    }

    pub fn value_at(&self, y: f64) -> f64 {
        self.low + (self.bottom - y) / (self.bottom - self.top) * (self.high - self.low)
    }

    /// Round price levels about `spacing` pixels apart, and the decimals to print them with.
    pub fn ticks(&self, spacing: f64) -> (Vec<f64>, u32) {
        let per_pixel = (self.high - self.low) / (self.bottom - self.top).max(1.0);
        let step = nice_step(per_pixel * spacing);
        let decimals = (-step.log10().floor()).max(0.0) as u32;
        let mut level = (self.low / step).ceil() * step;
        let mut levels = Vec::new();
        while level <= self.high && levels.len() < 100 {
            levels.push(level);
            level += step;
        }
        (levels, decimals)
    }
}

/// The smallest of 1, 2, 2.5, 5 × 10ⁿ at least `raw`.
pub fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|step| *step >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * magnitude)
}

pub fn price(value: Decimal) -> f64 {
    value.to_f64().unwrap_or(0.0)
}

/// A rectangle in widget pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
}

impl Rect {
    fn new(x: f64, y: f64, w: f64, h: f64) -> Self {
        Self {
            x: x as f32,
            y: y as f32,
            w: w as f32,
            h: h as f32,
        }
    }

    pub fn graphene(&self) -> graphene::Rect {
        graphene::Rect::new(self.x, self.y, self.w, self.h)
    }
}

/// One candle's rectangles.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CandleShape {
    pub index: usize,
    pub up: bool,
    pub body: Rect,
    pub wick: Rect,
    pub volume: Rect,
}

/// The rectangles of the candles in `range`.
pub fn candle_shapes(
    candles: &[Candle],
    range: Range<usize>,
    view: &Viewport,
    frame: &Frame,
    scale: &PriceScale,
    volume_max: f64,
) -> Vec<CandleShape> {
    let slot = view.slot(frame.plot_width);
    // Bodies fill 70 % of the slot, at least a pixel; wicks are a pixel (two when wide).
    let body_width = (slot * 0.7).max(1.0);
    let wick_width = if slot >= 12.0 { 2.0 } else { 1.0 };
    let volume_height = frame.volume_bottom - frame.volume_top;
    range
        .map(|index| {
            let c = &candles[index];
            let x = view.x_of(index, frame.plot_width);
            let (open, close) = (scale.y_of(price(c.open)), scale.y_of(price(c.close)));
            let (high, low) = (scale.y_of(price(c.high)), scale.y_of(price(c.low)));
            let top = open.min(close);
            let body_height = (open - close).abs().max(1.0);
            let volume = if volume_max > 0.0 {
                (price(c.volume) / volume_max).clamp(0.0, 1.0) * volume_height
            } else {
                0.0
            };
            CandleShape {
                index,
                up: c.up(),
                body: Rect::new(x - body_width / 2.0, top, body_width, body_height),
                wick: Rect::new(
                    x - wick_width / 2.0,
                    high,
                    wick_width,
                    (low - high).max(1.0),
                ),
                volume: Rect::new(
                    x - body_width / 2.0,
                    frame.volume_bottom - volume,
                    body_width,
                    volume,
                ),
            }
        })
        .collect()
}

/// The colours, read from the theme (libadwaita's named colours adapt to dark mode).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Palette {
    pub up: gdk::RGBA,
    pub down: gdk::RGBA,
    pub up_volume: gdk::RGBA,
    pub down_volume: gdk::RGBA,
    pub text: gdk::RGBA,
    pub grid: gdk::RGBA,
    pub crosshair: gdk::RGBA,
    pub label_background: gdk::RGBA,
    pub overlays: [gdk::RGBA; 3],
}

impl Palette {
    /// GNOME's palette on a light background; used where no widget is at hand (benchmarks).
    pub fn light() -> Self {
        let text = gdk::RGBA::new(0.0, 0.0, 0.0, 0.8);
        Self::with(
            gdk::RGBA::new(0.106, 0.522, 0.325, 1.0),
            gdk::RGBA::new(0.753, 0.110, 0.157, 1.0),
            text,
            gdk::RGBA::new(0.98, 0.98, 0.98, 1.0),
        )
    }

    pub fn with(up: gdk::RGBA, down: gdk::RGBA, text: gdk::RGBA, background: gdk::RGBA) -> Self {
        let alpha = |c: gdk::RGBA, a: f32| gdk::RGBA::new(c.red(), c.green(), c.blue(), a);
        Self {
            up,
            down,
            up_volume: alpha(up, 0.35),
            down_volume: alpha(down, 0.35),
            text,
            grid: alpha(text, 0.08),
            crosshair: alpha(text, 0.45),
            label_background: background,
            // Blue 3, orange 3 and purple 2 of the GNOME palette: readable on light and dark.
            overlays: [
                gdk::RGBA::new(0.208, 0.518, 0.894, 1.0),
                gdk::RGBA::new(1.0, 0.471, 0.0, 1.0),
                gdk::RGBA::new(0.569, 0.255, 0.675, 1.0),
            ],
        }
    }

    /// A value that changes when any colour does (part of the cache key).
    pub fn fingerprint(&self) -> u64 {
        let mut hash = 0u64;
        for c in [self.up, self.down, self.text, self.label_background] {
            for v in [c.red(), c.green(), c.blue(), c.alpha()] {
                hash = hash.rotate_left(13) ^ u64::from(v.to_bits());
            }
        }
        hash
    }
}

/// Appends bodies, wicks and volume bars as colour nodes.
pub fn append_candles(snapshot: &gtk::Snapshot, shapes: &[CandleShape], palette: &Palette) {
    for shape in shapes {
        let (color, volume) = if shape.up {
            (&palette.up, &palette.up_volume)
        } else {
            (&palette.down, &palette.down_volume)
        };
        if shape.volume.h > 0.0 {
            snapshot.append_color(volume, &shape.volume.graphene());
        }
        snapshot.append_color(color, &shape.wick.graphene());
        snapshot.append_color(color, &shape.body.graphene());
    }
}

/// The same candles as cairo paths in one `append_cairo` (the benchmark's baseline).
pub fn append_candles_cairo(
    snapshot: &gtk::Snapshot,
    shapes: &[CandleShape],
    palette: &Palette,
    frame: &Frame,
) {
    let bounds = graphene::Rect::new(0.0, 0.0, frame.width as f32, frame.height as f32);
    let cr = snapshot.append_cairo(&bounds);
    for (up, color, volume) in [
        (true, palette.up, palette.up_volume),
        (false, palette.down, palette.down_volume),
    ] {
        let rect = |r: &Rect| {
            cr.rectangle(
                f64::from(r.x),
                f64::from(r.y),
                f64::from(r.w),
                f64::from(r.h),
            )
        };
        for shape in shapes.iter().filter(|s| s.up == up) {
            rect(&shape.volume);
        }
        set_source(&cr, &volume);
        let _ = cr.fill();
        for shape in shapes.iter().filter(|s| s.up == up) {
            rect(&shape.wick);
            rect(&shape.body);
        }
        set_source(&cr, &color);
        let _ = cr.fill();
    }
}

pub fn set_source(cr: &gtk::cairo::Context, color: &gdk::RGBA) {
    cr.set_source_rgba(
        f64::from(color.red()),
        f64::from(color.green()),
        f64::from(color.blue()),
        f64::from(color.alpha()),
    );
}

/// Where the time axis puts a label: at candles that start a new period of `step` seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeTick {
    pub index: usize,
    pub text: String,
}

/// Steps a time axis may use, in seconds (months and years are counted by the calendar).
const TIME_STEPS: [i64; 14] = [
    60,
    300,
    900,
    1800,
    3600,
    2 * 3600,
    4 * 3600,
    6 * 3600,
    86_400,
    7 * 86_400,
    MONTH,
    3 * MONTH,
    6 * MONTH,
    YEAR,
];
const MONTH: i64 = 30 * 86_400;
const YEAR: i64 = 365 * 86_400;

/// Picks a step so that labels are about `spacing` pixels apart and marks the candles that
/// start a new period. Intraday times are local; daily bars (dated at midnight UTC) are shown
/// by their UTC date.
pub fn time_ticks(
    candles: &[Candle],
    range: Range<usize>,
    bar_seconds: i32,
    slot: f64,
    spacing: f64,
) -> Vec<TimeTick> {
    let bar = i64::from(bar_seconds.max(1));
    // Calendar time per pixel; daily bars skip weekends (5 bars a week).
    let seconds_per_pixel = if bar >= 86_400 {
        bar as f64 * 7.0 / 5.0 / slot.max(1e-6)
    } else {
        bar as f64 / slot.max(1e-6)
    };
    let wanted = seconds_per_pixel * spacing;
    let step = TIME_STEPS
        .into_iter()
        .find(|s| *s >= bar && *s as f64 >= wanted)
        .unwrap_or(YEAR * 10);
    let daily = bar >= 86_400;
    let mut ticks = Vec::new();
    let mut previous: Option<(i64, i32, u32)> = None;
    for index in range {
        let ts = candles[index].ts;
        let bucket = bucket(ts, step, daily);
        let day = day_of(ts, daily);
        if let Some((previous_bucket, previous_year, previous_day)) = previous
            && previous_bucket != bucket
        {
            let text = label(ts, step, daily, previous_year, previous_day);
            ticks.push(TimeTick { index, text });
        }
        previous = Some((bucket, ts.year(), day));
    }
    ticks
}

fn local_or_utc(ts: DateTime<Utc>, daily: bool) -> chrono::NaiveDateTime {
    if daily {
        ts.naive_utc()
    } else {
        ts.with_timezone(&Local).naive_local()
    }
}

fn day_of(ts: DateTime<Utc>, daily: bool) -> u32 {
    local_or_utc(ts, daily).ordinal()
}

fn bucket(ts: DateTime<Utc>, step: i64, daily: bool) -> i64 {
    let t = local_or_utc(ts, daily);
    if step >= MONTH {
        let months = i64::from(t.year()) * 12 + i64::from(t.month0());
        months / (step / MONTH).max(1)
    } else if step == 7 * 86_400 {
        i64::from(t.iso_week().year()) * 100 + i64::from(t.iso_week().week())
    } else {
        t.and_utc().timestamp().div_euclid(step)
    }
}

fn label(
    ts: DateTime<Utc>,
    step: i64,
    daily: bool,
    previous_year: i32,
    previous_day: u32,
) -> String {
    let t = local_or_utc(ts, daily);
    if step >= MONTH {
        if t.year() != previous_year {
            t.format("%Y").to_string()
        } else {
            t.format("%b").to_string()
        }
    } else if step >= 86_400 || t.ordinal() != previous_day {
        t.format("%b %-d").to_string()
    } else {
        t.format("%H:%M").to_string()
    }
}

/// The points of an overlay line for the visible candles (breaks where there is no value).
pub fn overlay_points(
    values: &[Option<Decimal>],
    range: Range<usize>,
    view: &Viewport,
    frame: &Frame,
    scale: &PriceScale,
) -> Vec<Option<(f64, f64)>> {
    // One candle beyond each edge so that the line runs to the edge of the plot.
    let start = range.start.saturating_sub(1);
    let end = (range.end + 1).min(values.len());
    (start..end)
        .map(|i| values[i].map(|v| (view.x_of(i, frame.plot_width), scale.y_of(price(v)))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gui::panels::chart::series::tests::bar;

    fn candles(n: usize, size: i32) -> Vec<Candle> {
        (0..n)
            .map(|i| {
                let up = i % 2 == 0;
                let (o, c) = if up { ("100", "101") } else { ("101", "100") };
                Candle::from_bar(&bar(
                    i as i64 * i64::from(size),
                    size,
                    o,
                    "102",
                    "99",
                    c,
                    "10",
                ))
            })
            .collect()
    }

    #[test]
    fn nice_steps() {
        assert_eq!(nice_step(0.7), 1.0);
        assert_eq!(nice_step(1.2), 2.0);
        assert_eq!(nice_step(2.1), 2.5);
        assert_eq!(nice_step(3.0), 5.0);
        assert_eq!(nice_step(0.03), 0.05);
        assert_eq!(nice_step(40.0), 50.0);
        assert_eq!(nice_step(f64::NAN), 1.0);
    }

    #[test]
    fn price_scale_maps_both_ways_and_ticks_are_round() {
        let frame = Frame::new(800.0, 400.0, 70.0);
        let scale = PriceScale::for_candles(&candles(10, 60), &frame);
        // 99..102 with 6 % margins.
        assert!((scale.low - 98.82).abs() < 1e-9 && (scale.high - 102.18).abs() < 1e-9);
        assert!((scale.value_at(scale.y_of(100.5)) - 100.5).abs() < 1e-9);
        assert!(
            scale.y_of(102.0) < scale.y_of(99.0),
            "higher prices higher up"
        );
        let (levels, decimals) = scale.ticks(40.0);
        assert!(levels.len() >= 3, "{levels:?}");
        assert!(levels.iter().all(|l| *l >= scale.low && *l <= scale.high));
        assert!(decimals <= 2);
    }

    #[test]
    fn candle_shapes_fit_their_slots() {
        let all = candles(20, 60);
        let frame = Frame::new(1070.0, 400.0, 70.0);
        let view = Viewport {
            end: 20.0,
            count: 20.0,
        };
        let scale = PriceScale::for_candles(&all, &frame);
        let shapes = candle_shapes(&all, 0..20, &view, &frame, &scale, 10.0);
        assert_eq!(shapes.len(), 20);
        // Slots of 50 px: bodies 35 px wide, centred at 25, 75, …
        let first = shapes[0];
        assert_eq!((first.body.x, first.body.w), (7.5, 35.0));
        assert!(first.up && !shapes[1].up);
        // The wick spans high to low, the body open to close.
        assert!(first.wick.y < first.body.y);
        assert!(first.wick.y + first.wick.h > first.body.y + first.body.h);
        // Full volume fills the volume band.
        assert!(
            (f64::from(first.volume.h) - (frame.volume_bottom - frame.volume_top)).abs() < 1e-3
        );
        assert!(f64::from(first.volume.y) >= frame.volume_top - 1e-3);
    }

    #[test]
    fn time_ticks_mark_period_starts() {
        // Five-minute candles from midnight; 20 px slots want a label every 80 px, i.e. every
        // 4 candles = 20 minutes → the 30-minute step.
        let all = candles(24, 300);
        let ticks = time_ticks(&all, 0..24, 300, 20.0, 80.0);
        // (Local time: wherever the half hours fall, they are six candles apart.)
        assert!(ticks.len() >= 3, "{ticks:?}");
        for pair in ticks.windows(2) {
            assert_eq!(pair[1].index - pair[0].index, 6, "{ticks:?}");
        }
        // Daily candles: months.
        let days: Vec<Candle> = (0..120)
            .map(|i| Candle::from_bar(&bar(i * 86_400, 86_400, "1", "1", "1", "1", "1")))
            .collect();
        let ticks = time_ticks(&days, 0..120, 86_400, 3.0, 80.0);
        assert!(!ticks.is_empty());
        assert!(
            ticks
                .iter()
                .all(|tick| days[tick.index].ts.format("%d").to_string() == "01")
        );
        assert_eq!(ticks[0].text, "Apr");
    }
}
