//! `TickworkEquityView`: a backtest's equity curve with its trades as markers (▲ buy below
//! the curve, ▼ sell above it), the starting cash as a dashed line, the equity axis on the
//! right and dates below. The curve and markers go into one `append_cairo`; text is laid out
//! with Pango like the chart panel's axes.

use std::cell::RefCell;

use chrono::{DateTime, Local, Utc};
use gtk::prelude::*;
use gtk::subclass::prelude::*;
use gtk::{gdk, glib, graphene, pango};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use tickwork_core::domain::OrderSide;

use crate::gui::boundary::BacktestOutcome;

const AXIS_WIDTH: f64 = 84.0;
const DATE_HEIGHT: f64 = 22.0;
const PAD: f64 = 10.0;
const MARKER: f64 = 5.0;

/// What is drawn: times as seconds, equity as floats (drawing only: the figures shown as text
/// come from the exact decimals).
#[derive(Debug, Default, Clone)]
pub struct Curve {
    pub points: Vec<(i64, f64)>,
    pub initial: f64,
    /// Time, equity at that time, buy or sell.
    pub trades: Vec<(i64, f64, OrderSide)>,
}

impl Curve {
    pub fn of(outcome: &BacktestOutcome) -> Self {
        let points: Vec<(i64, f64)> = outcome
            .equity
            .iter()
            .map(|(t, e)| (t.timestamp(), e.to_f64().unwrap_or(0.0)))
            .collect();
        let equity_at = |time: i64| {
            let i = points.partition_point(|(t, _)| *t <= time);
            points
                .get(i.saturating_sub(1))
                .map_or(0.0, |(_, equity)| *equity)
        };
        let trades = outcome
            .trades
            .iter()
            .map(|t| {
                let time = t.time.timestamp();
                (time, equity_at(time), t.side)
            })
            .collect();
        Self {
            initial: outcome.stats.initial_cash.to_f64().unwrap_or(0.0),
            points,
            trades,
        }
    }
}

mod imp {
    use super::*;

    #[derive(Default)]
    pub struct EquityView {
        pub curve: RefCell<Curve>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for EquityView {
        const NAME: &'static str = "TickworkEquityView";
        type Type = super::EquityView;
        type ParentType = gtk::Widget;

        fn class_init(klass: &mut Self::Class) {
            klass.set_css_name("tickwork-equity");
            klass.set_accessible_role(gtk::AccessibleRole::Img);
        }
    }

    impl ObjectImpl for EquityView {
        fn constructed(&self) {
            self.parent_constructed();
            let widget = self.obj();
            widget.set_hexpand(true);
            widget.set_vexpand(true);
            widget.set_overflow(gtk::Overflow::Hidden);
        }
    }

    impl WidgetImpl for EquityView {
        fn measure(&self, orientation: gtk::Orientation, _for_size: i32) -> (i32, i32, i32, i32) {
            match orientation {
                gtk::Orientation::Horizontal => (240, 480, -1, -1),
                _ => (140, 220, -1, -1),
            }
        }

        fn snapshot(&self, snapshot: &gtk::Snapshot) {
            super::draw(&self.obj(), &self.curve.borrow(), snapshot);
        }
    }
}

glib::wrapper! {
    pub struct EquityView(ObjectSubclass<imp::EquityView>)
        @extends gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget;
}

impl Default for EquityView {
    fn default() -> Self {
        glib::Object::new()
    }
}

impl EquityView {
    pub fn set_curve(&self, curve: Curve) {
        self.imp().curve.replace(curve);
        self.queue_draw();
    }

    pub fn curve(&self) -> Curve {
        self.imp().curve.borrow().clone()
    }
}

fn layout(widget: &EquityView, text: &str) -> pango::Layout {
    let layout = widget.create_pango_layout(Some(text));
    let attributes = pango::AttrList::new();
    attributes.insert(pango::AttrFloat::new_scale(0.85));
    attributes.insert(pango::AttrFontFeatures::new("tnum"));
    layout.set_attributes(Some(&attributes));
    layout
}

fn text_at(snapshot: &gtk::Snapshot, layout: &pango::Layout, x: f64, y: f64, color: &gdk::RGBA) {
    snapshot.save();
    snapshot.translate(&graphene::Point::new(x as f32, y as f32));
    snapshot.append_layout(layout, color);
    snapshot.restore();
}

/// An axis figure: whole currency units with separators.
fn axis_amount(value: f64) -> String {
    let whole = Decimal::from_f64_retain(value.round())
        .unwrap_or_default()
        .round();
    super::super::watchlist::format::money(Some(whole))
        .trim_end_matches(".00")
        .to_owned()
}

fn date(seconds: i64) -> String {
    DateTime::<Utc>::from_timestamp(seconds, 0)
        .map(|t| t.with_timezone(&Local).format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

fn set_source(cr: &gtk::cairo::Context, color: &gdk::RGBA, alpha: f64) {
    cr.set_source_rgba(
        f64::from(color.red()),
        f64::from(color.green()),
        f64::from(color.blue()),
        f64::from(color.alpha()) * alpha,
    );
}

fn draw(widget: &EquityView, curve: &Curve, snapshot: &gtk::Snapshot) {
    let (width, height) = (
        f64::from(WidgetExt::width(widget)),
        f64::from(WidgetExt::height(widget)),
    );
    let style = widget.style_context();
    let text = style.color();
    let dim = gdk::RGBA::new(text.red(), text.green(), text.blue(), 0.55);
    let accent = style
        .lookup_color("accent_color")
        .unwrap_or(gdk::RGBA::new(0.21, 0.52, 0.89, 1.0));
    let up = style
        .lookup_color("success_color")
        .unwrap_or(gdk::RGBA::new(0.149, 0.635, 0.412, 1.0));
    let down = style
        .lookup_color("error_color")
        .unwrap_or(gdk::RGBA::new(0.753, 0.110, 0.157, 1.0));
    if curve.points.len() < 2 {
        let empty = layout(widget, "Run a backtest to see its equity curve and trades");
        let (w, h) = empty.pixel_size();
        text_at(
            snapshot,
            &empty,
            (width - f64::from(w)) / 2.0,
            (height - f64::from(h)) / 2.0,
            &dim,
        );
        return;
    }
    let plot_w = (width - AXIS_WIDTH - PAD).max(10.0);
    let plot_h = (height - DATE_HEIGHT - 2.0 * PAD).max(10.0);
    let (t0, t1) = (curve.points[0].0, curve.points[curve.points.len() - 1].0);
    let span = (t1 - t0).max(1) as f64;
    let (mut low, mut high) = curve
        .points
        .iter()
        .fold((curve.initial, curve.initial), |(l, h), (_, e)| {
            (l.min(*e), h.max(*e))
        });
    let margin = ((high - low) * 0.08).max(1.0);
    low -= margin;
    high += margin;
    let x = |t: i64| PAD + (t - t0) as f64 / span * plot_w;
    let y = |e: f64| PAD + (high - e) / (high - low) * plot_h;

    let bounds = graphene::Rect::new(0.0, 0.0, width as f32, height as f32);
    let cr = snapshot.append_cairo(&bounds);
    // Grid: four lines with their figures.
    cr.set_line_width(1.0);
    let steps = 4;
    let mut labels = Vec::new();
    for i in 0..=steps {
        let value = low + (high - low) * f64::from(i) / f64::from(steps);
        let gy = y(value).round() + 0.5;
        set_source(&cr, &text, 0.08);
        cr.move_to(PAD, gy);
        cr.line_to(PAD + plot_w, gy);
        let _ = cr.stroke();
        labels.push((gy, axis_amount(value)));
    }
    // The starting cash.
    set_source(&cr, &text, 0.45);
    cr.set_dash(&[4.0, 4.0], 0.0);
    let base = y(curve.initial).round() + 0.5;
    cr.move_to(PAD, base);
    cr.line_to(PAD + plot_w, base);
    let _ = cr.stroke();
    cr.set_dash(&[], 0.0);
    // The area under the curve, then the curve.
    cr.move_to(x(t0), PAD + plot_h);
    for (t, e) in &curve.points {
        cr.line_to(x(*t), y(*e));
    }
    cr.line_to(x(t1), PAD + plot_h);
    cr.close_path();
    set_source(&cr, &accent, 0.12);
    let _ = cr.fill();
    for (i, (t, e)) in curve.points.iter().enumerate() {
        if i == 0 {
            cr.move_to(x(*t), y(*e));
        } else {
            cr.line_to(x(*t), y(*e));
        }
    }
    set_source(&cr, &accent, 1.0);
    cr.set_line_width(1.6);
    cr.set_line_join(gtk::cairo::LineJoin::Round);
    let _ = cr.stroke();
    // Trades: ▲ buys under the curve, ▼ sells above it.
    for (t, e, side) in &curve.trades {
        let (mx, my) = (x(*t), y(*e));
        match side {
            OrderSide::Buy => {
                let top = my + 3.0;
                cr.move_to(mx, top);
                cr.line_to(mx - MARKER, top + 1.8 * MARKER);
                cr.line_to(mx + MARKER, top + 1.8 * MARKER);
                set_source(&cr, &up, 1.0);
            }
            OrderSide::Sell => {
                let bottom = my - 3.0;
                cr.move_to(mx, bottom);
                cr.line_to(mx - MARKER, bottom - 1.8 * MARKER);
                cr.line_to(mx + MARKER, bottom - 1.8 * MARKER);
                set_source(&cr, &down, 1.0);
            }
        }
        cr.close_path();
        let _ = cr.fill();
    }
    drop(cr);
    // Figures on the right, dates below.
    for (gy, label) in labels {
        let l = layout(widget, &label);
        let (w, h) = l.pixel_size();
        let lx = width - f64::from(w) - 6.0;
        text_at(snapshot, &l, lx, gy - f64::from(h) / 2.0, &dim);
    }
    let mid = t0 + (t1 - t0) / 2;
    for (t, align) in [(t0, 0.0), (mid, 0.5), (t1, 1.0)] {
        let l = layout(widget, &date(t));
        let w = f64::from(l.pixel_size().0);
        let lx = (x(t) - w * align).clamp(0.0, (width - w).max(0.0));
        text_at(snapshot, &l, lx, PAD + plot_h + 4.0, &dim);
    }
}
