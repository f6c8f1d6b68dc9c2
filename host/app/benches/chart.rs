//! The chart's render nodes for 2,000 candles: all candles as colour nodes (what the widget
//! does when its cache is invalid: zoom, pan, a completed candle), only the forming candle
//! on top of the cached node (what it does per live update), and the same 2,000 candles as
//! cairo paths in one `append_cairo` (the alternative). Needs a display (GTK is initialised):
//!
//! ```sh
//! dbus-run-session -- xvfb-run -a -s "-screen 0 1280x800x24" env GSK_RENDERER=cairo \
//!     cargo bench -p tickwork --bench chart
//! ```

use std::hint::black_box;
use std::time::Instant;

use chrono::{TimeZone, Utc};
use criterion::Criterion;
use gtk::prelude::*;
use rust_decimal::Decimal;
use tickwork::gui::panels::chart::draw::{
    Frame, Palette, PriceScale, append_candles, append_candles_cairo, candle_shapes, price,
};
use tickwork::gui::panels::chart::series::Candle;
use tickwork::gui::panels::chart::view::Viewport;

const CANDLES: usize = 2000;

fn candles() -> Vec<Candle> {
    let start = Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap();
    (0..CANDLES)
        .map(|i| {
            let mid = 100.0 + (i as f64 / 40.0).sin() * 8.0 + (i as f64 / 7.0).cos();
            let d = |v: f64| Decimal::from_f64_retain(v).unwrap().round_dp(2);
            let (open, close) = if i % 3 == 0 {
                (mid + 0.4, mid - 0.3)
            } else {
                (mid - 0.3, mid + 0.4)
            };
            Candle {
                ts: start + chrono::Duration::minutes(5 * i as i64),
                open: d(open),
                high: d(open.max(close) + 0.3),
                low: d(open.min(close) - 0.3),
                close: d(close),
                volume: Decimal::from(1000 + (i * 37) % 900),
            }
        })
        .collect()
}

struct Scene {
    candles: Vec<Candle>,
    view: Viewport,
    frame: Frame,
    scale: PriceScale,
    volume_max: f64,
    palette: Palette,
}

fn scene() -> Scene {
    let candles = candles();
    let view = Viewport::fit_all(candles.len());
    let frame = Frame::new(1200.0, 600.0, 64.0);
    let scale = PriceScale::for_candles(&candles, &frame);
    let volume_max = candles.iter().map(|c| price(c.volume)).fold(0.0, f64::max);
    Scene {
        candles,
        view,
        frame,
        scale,
        volume_max,
        palette: Palette::light(),
    }
}

impl Scene {
    fn shapes(
        &self,
        range: std::ops::Range<usize>,
    ) -> Vec<tickwork::gui::panels::chart::draw::CandleShape> {
        candle_shapes(
            &self.candles,
            range,
            &self.view,
            &self.frame,
            &self.scale,
            self.volume_max,
        )
    }

    /// Every candle as colour nodes.
    fn color_nodes(&self) -> gtk::gsk::RenderNode {
        let snapshot = gtk::Snapshot::new();
        append_candles(
            &snapshot,
            &self.shapes(0..self.candles.len()),
            &self.palette,
        );
        snapshot.to_node().unwrap()
    }

    /// The cached node of the completed candles plus the forming one.
    fn forming_only(&self, cached: &gtk::gsk::RenderNode) -> gtk::gsk::RenderNode {
        let snapshot = gtk::Snapshot::new();
        snapshot.append_node(cached);
        let last = self.candles.len() - 1;
        append_candles(&snapshot, &self.shapes(last..last + 1), &self.palette);
        snapshot.to_node().unwrap()
    }

    /// Every candle as cairo paths in one cairo node.
    fn cairo(&self) -> gtk::gsk::RenderNode {
        let snapshot = gtk::Snapshot::new();
        append_candles_cairo(
            &snapshot,
            &self.shapes(0..self.candles.len()),
            &self.palette,
            &self.frame,
        );
        snapshot.to_node().unwrap()
    }
}

fn benches(c: &mut Criterion) {
    let scene = scene();
    let cached = scene.color_nodes();
    let mut group = c.benchmark_group("chart_2000_candles");
    group.bench_function("geometry_only", |b| {
        b.iter(|| black_box(scene.shapes(0..CANDLES)))
    });
    group.bench_function("color_nodes_all", |b| {
        b.iter(|| black_box(scene.color_nodes()))
    });
    group.bench_function("cached_plus_forming", |b| {
        b.iter(|| black_box(scene.forming_only(&cached)))
    });
    group.bench_function("cairo_paths_all", |b| b.iter(|| black_box(scene.cairo())));
    // Drawing the nodes into pixels with the cairo renderer (what GSK_RENDERER=cairo does).
    let renderer = gtk::gsk::CairoRenderer::new();
    if renderer.realize(None::<&gtk::gdk::Surface>).is_ok() {
        let color = scene.color_nodes();
        let cairo = scene.cairo();
        group.bench_function("render_color_nodes", |b| {
            b.iter(|| black_box(renderer.render_texture(&color, None)))
        });
        group.bench_function("render_cairo_node", |b| {
            b.iter(|| black_box(renderer.render_texture(&cairo, None)))
        });
        renderer.unrealize();
    } else {
        println!("the cairo renderer cannot be realised without a surface: rendering not measured");
    }
    group.finish();
}

/// Mean time of `f` over enough runs to take about half a second.
fn mean(mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    let mut runs = 0u32;
    while start.elapsed().as_secs_f64() < 0.5 {
        f();
        runs += 1;
    }
    start.elapsed().as_secs_f64() / f64::from(runs)
}

fn main() {
    gtk::init().expect("the chart benchmark needs a display: run it under xvfb-run");
    let mut criterion = Criterion::default().configure_from_args();
    benches(&mut criterion);
    criterion.final_summary();

    // The ratios, measured again in this run (criterion reports the absolute figures).
    let scene = scene();
    let cached = scene.color_nodes();
    let all = mean(|| drop(black_box(scene.color_nodes())));
    let forming = mean(|| drop(black_box(scene.forming_only(&cached))));
    let cairo = mean(|| drop(black_box(scene.cairo())));
    let geometry = mean(|| drop(black_box(scene.shapes(0..CANDLES))));
    println!(
        "chart, {CANDLES} candles: geometry {:.3} ms, colour nodes {:.3} ms, cached + forming \
         {:.4} ms, cairo paths {:.3} ms; colour nodes / cached + forming = {:.0}x, cairo / \
         colour nodes = {:.2}x",
        geometry * 1e3,
        all * 1e3,
        forming * 1e3,
        cairo * 1e3,
        all / forming,
        cairo / all,
    );
}
