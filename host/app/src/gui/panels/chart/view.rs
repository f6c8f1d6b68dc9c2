//! Which candles are visible: zoom and pan move a window over the candle indices (in candle
//! units, fractional while dragging); the data is never rebuilt for them.

/// Empty slots kept right of the newest candle when the view follows it.
pub const RIGHT_PAD: f64 = 3.0;
/// The closest zoom: this many candle slots across the plot.
pub const MIN_VISIBLE: f64 = 10.0;
/// How many candles a new chart shows (the newest ones).
pub const DEFAULT_VISIBLE: f64 = 120.0;

/// The visible window: `end` is the right edge in candle units (candle `i` spans `i..i+1`),
/// `count` the number of slots across the plot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Viewport {
    pub end: f64,
    pub count: f64,
}

impl Default for Viewport {
    fn default() -> Self {
        Self::latest(0)
    }
}

impl Viewport {
    /// The newest candles (at most [`DEFAULT_VISIBLE`]), following new ones.
    pub fn latest(len: usize) -> Self {
        let total = len as f64 + RIGHT_PAD;
        Self {
            end: total,
            count: DEFAULT_VISIBLE.min(total).max(MIN_VISIBLE),
        }
    }

    /// Every candle.
    pub fn fit_all(len: usize) -> Self {
        let total = len as f64 + RIGHT_PAD;
        Self {
            end: total,
            count: total.max(MIN_VISIBLE),
        }
    }

    pub fn start(&self) -> f64 {
        self.end - self.count
    }

    /// Whether the newest candle is in view at the right edge (then new candles scroll in).
    pub fn follows(&self, len: usize) -> bool {
        self.end >= len as f64 + RIGHT_PAD - 0.5
    }

    /// The indices of the candles at least partly visible.
    pub fn visible(&self, len: usize) -> std::ops::Range<usize> {
        let first = self.start().floor().max(0.0) as usize;
        let last = (self.end.ceil().max(0.0) as usize).min(len);
        first.min(last)..last
    }

    /// Keeps the window on the data: not wider than all candles (plus the pad), not narrower
    /// than [`MIN_VISIBLE`], its left edge not before the first candle, its right edge not
    /// past the pad.
    pub fn clamped(self, len: usize) -> Self {
        let total = len as f64 + RIGHT_PAD;
        let count = self.count.clamp(MIN_VISIBLE, total.max(MIN_VISIBLE));
        let end = self.end.clamp(count.min(total), total);
        Self { end, count }
    }

    /// Zooms by `factor` (below 1 zooms in) keeping the candle under `anchor` (0 = left edge,
    /// 1 = right edge of the plot) where it is.
    pub fn zoom(self, factor: f64, anchor: f64, len: usize) -> Self {
        let anchor = anchor.clamp(0.0, 1.0);
        let pivot = self.start() + self.count * anchor;
        let total = len as f64 + RIGHT_PAD;
        let count = (self.count * factor).clamp(MIN_VISIBLE, total.max(MIN_VISIBLE));
        Self {
            end: pivot + count * (1.0 - anchor),
            count,
        }
        .clamped(len)
    }

    /// Moves by `candles` (positive: towards newer candles).
    pub fn pan(self, candles: f64, len: usize) -> Self {
        Self {
            end: self.end + candles,
            count: self.count,
        }
        .clamped(len)
    }

    /// After the series grew by `added` candles at the end: a following view moves with it.
    pub fn grown(self, added: usize, len: usize) -> Self {
        if self.follows(len - added.min(len)) {
            Self {
                end: self.end + added as f64,
                count: self.count,
            }
            .clamped(len)
        } else {
            self.clamped(len)
        }
    }

    /// The x of candle `index`'s centre on a plot `width` pixels wide.
    pub fn x_of(&self, index: usize, width: f64) -> f64 {
        (index as f64 + 0.5 - self.start()) * self.slot(width)
    }

    /// The candle under `x`, if there is one.
    pub fn index_at(&self, x: f64, width: f64, len: usize) -> Option<usize> {
        let at = self.start() + x / self.slot(width);
        (at >= 0.0 && at < len as f64).then_some(at as usize)
    }

    /// Width of one candle slot in pixels.
    pub fn slot(&self, width: f64) -> f64 {
        width / self.count.max(1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_chart_shows_the_newest_candles_and_follows_them() {
        let view = Viewport::latest(500);
        assert_eq!(view.end, 503.0);
        assert_eq!(view.count, DEFAULT_VISIBLE);
        assert_eq!(view.visible(500), 383..500);
        assert!(view.follows(500));
        let grown = view.grown(1, 501);
        assert_eq!(grown.end, 504.0);
        assert_eq!(grown.visible(501), 384..501);
        // Few candles: all of them, never fewer slots than the closest zoom.
        let small = Viewport::latest(4);
        assert_eq!((small.end, small.count), (7.0, 10.0));
        assert_eq!(small.visible(4), 0..4);
    }

    #[test]
    fn zoom_keeps_the_candle_under_the_pointer_in_place() {
        let view = Viewport {
            end: 300.0,
            count: 100.0,
        };
        let width = 1000.0;
        // The pointer at 30 %: candle 230 (start 200 + 30).
        assert_eq!(view.index_at(300.0, width, 1000), Some(230));
        let zoomed = view.zoom(0.5, 0.3, 1000);
        assert_eq!(zoomed.count, 50.0);
        assert_eq!(zoomed.start(), 215.0);
        assert_eq!(zoomed.index_at(300.0, width, 1000), Some(230));
        // Zooming out past everything shows everything.
        let out = view.zoom(100.0, 0.5, 1000);
        assert_eq!(out, Viewport::fit_all(1000));
        // Zooming in stops at the closest zoom.
        assert_eq!(view.zoom(0.001, 0.5, 1000).count, MIN_VISIBLE);
    }

    #[test]
    fn pan_stops_at_both_ends() {
        let view = Viewport {
            end: 300.0,
            count: 100.0,
        };
        assert_eq!(view.pan(-20.0, 1000).end, 280.0);
        assert_eq!(view.pan(-1000.0, 1000).start(), 0.0);
        let right = view.pan(5000.0, 1000);
        assert_eq!(right.end, 1000.0 + RIGHT_PAD);
        assert!(right.follows(1000));
        assert!(!view.follows(1000));
        // A view away from the end stays put when a candle is added.
        assert_eq!(view.grown(1, 1001), view);
    }

    #[test]
    fn pixel_positions() {
        let view = Viewport {
            end: 110.0,
            count: 10.0,
        };
        assert_eq!(view.slot(500.0), 50.0);
        assert_eq!(view.x_of(100, 500.0), 25.0);
        assert_eq!(view.x_of(109, 500.0), 475.0);
        assert_eq!(view.index_at(499.0, 500.0, 200), Some(109));
        assert_eq!(view.index_at(10.0, 500.0, 50), None);
        assert_eq!(Viewport::fit_all(0).visible(0), 0..0);
    }
}
