//! `TickworkChartView`: the drawing widget. It owns the series, the overlays and the visible
//! window; `snapshot` appends the cached node of the completed candles (grid, axes, candles,
//! volume) and draws the forming candle, the overlay lines, the last-price line and the
//! crosshair fresh each frame. Zoom and pan only move the window.

use std::cell::{Cell, RefCell};

use chrono::{DateTime, Local, Utc};
use gtk::prelude::*;
use gtk::subclass::prelude::*;
use gtk::{gdk, glib, graphene, gsk, pango};
use rust_decimal::Decimal;

use super::draw::{self, Frame, Palette, PriceScale, price};
use super::indicators::{MovingAverage, OverlayKind};
use super::series::{Candle, LiveChange, Series};
use super::view::Viewport;

/// Price labels are about this many pixels apart, time labels at least this far.
const PRICE_SPACING: f64 = 44.0;
const TIME_SPACING: f64 = 90.0;
/// Scroll and key zoom steps.
const ZOOM_STEP: f64 = 1.2;

/// What the chart shows.
#[derive(Debug)]
pub struct ChartData {
    pub series: Series,
    /// Every overlay, kept current; drawn when enabled.
    pub overlays: Vec<(MovingAverage, bool)>,
    pub view: Viewport,
    pointer: Option<(f64, f64)>,
    hovered: Option<usize>,
}

impl Default for ChartData {
    fn default() -> Self {
        Self {
            series: Series::new(300),
            overlays: OverlayKind::ALL
                .into_iter()
                .map(|kind| (MovingAverage::new(kind), false))
                .collect(),
            view: Viewport::default(),
            pointer: None,
            hovered: None,
        }
    }
}

impl ChartData {
    fn closes(&self) -> Vec<Decimal> {
        self.series.candles().iter().map(|c| c.close).collect()
    }
}

/// What the cached node was drawn for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CacheKey {
    version: u64,
    len: usize,
    end: u64,
    count: u64,
    width: i32,
    height: i32,
    low: u64,
    high: u64,
    volume_max: u64,
    palette: u64,
}

mod imp {
    use super::*;

    #[derive(Default)]
    pub struct ChartView {
        pub data: RefCell<ChartData>,
        pub(super) cache: RefCell<Option<(CacheKey, gsk::RenderNode)>>,
        pub drag_start: Cell<Option<Viewport>>,
        pub plot_width: Cell<f64>,
        pub frame: Cell<Option<Frame>>,
        pub on_hover: RefCell<Option<Box<dyn Fn()>>>,
        /// How often the completed candles were drawn again (the rest came from the cache).
        pub rebuilds: Cell<u64>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for ChartView {
        const NAME: &'static str = "TickworkChartView";
        type Type = super::ChartView;
        type ParentType = gtk::Widget;

        fn class_init(klass: &mut Self::Class) {
            klass.set_css_name("tickwork-chart");
            klass.set_accessible_role(gtk::AccessibleRole::Img);
        }
    }

    impl ObjectImpl for ChartView {
        fn constructed(&self) {
            self.parent_constructed();
            let widget = self.obj();
            widget.set_focusable(true);
            widget.set_hexpand(true);
            widget.set_vexpand(true);
            widget.set_overflow(gtk::Overflow::Hidden);
            super::connect_input(&widget);
        }
    }

    impl WidgetImpl for ChartView {
        fn measure(&self, orientation: gtk::Orientation, _for_size: i32) -> (i32, i32, i32, i32) {
            match orientation {
                gtk::Orientation::Horizontal => (200, 640, -1, -1),
                _ => (140, 400, -1, -1),
            }
        }

        fn snapshot(&self, snapshot: &gtk::Snapshot) {
            super::draw_chart(self, snapshot);
        }
    }
}

glib::wrapper! {
    pub struct ChartView(ObjectSubclass<imp::ChartView>)
        @extends gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget;
}

impl Default for ChartView {
    fn default() -> Self {
        glib::Object::new()
    }
}

/// The bar under the pointer and the overlays' values at it.
#[derive(Debug, Clone)]
pub struct Hovered {
    pub candle: Candle,
    pub overlays: Vec<(OverlayKind, Option<Decimal>)>,
    /// False when nothing is under the pointer and this is the newest bar.
    pub pointed: bool,
}

impl ChartView {
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts over with an empty series of this bar size.
    pub fn reset(&self, bar_seconds: i32) {
        let mut data = self.imp().data.borrow_mut();
        let enabled: Vec<bool> = data.overlays.iter().map(|(_, on)| *on).collect();
        *data = ChartData::default();
        data.series = Series::new(bar_seconds);
        for ((_, on), was) in data.overlays.iter_mut().zip(enabled) {
            *on = was;
        }
        drop(data);
        self.changed();
    }

    pub fn bar_seconds(&self) -> i32 {
        self.imp().data.borrow().series.bar_seconds
    }

    pub fn len(&self) -> usize {
        self.imp().data.borrow().series.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn last(&self) -> Option<Candle> {
        self.imp().data.borrow().series.last().copied()
    }

    /// How often the cached node of the completed candles was rebuilt.
    pub fn rebuilds(&self) -> u64 {
        self.imp().rebuilds.get()
    }

    /// Merges stored or downloaded bars.
    pub fn merge(&self, bars: &[tickwork_core::domain::Bar]) {
        let mut data = self.imp().data.borrow_mut();
        let before = data.series.len();
        let following = data.view.follows(before);
        data.series.merge(bars);
        let len = data.series.len();
        if len == before && before > 0 {
            // Revised bars only: the overlays follow, the window stays.
        } else if before == 0 || (following && data.view.start() <= 0.0) {
            // The first bars, or history arriving behind a few live candles: the newest
            // bars at the default zoom.
            data.view = Viewport::latest(len);
        } else if following {
            data.view = Viewport {
                end: len as f64 + super::view::RIGHT_PAD,
                count: data.view.count,
            }
            .clamped(len);
        } else {
            data.view = data.view.clamped(len);
        }
        let closes = data.closes();
        for (average, _) in &mut data.overlays {
            average.rebuild(&closes);
        }
        drop(data);
        self.changed();
    }

    /// Applies a live quote; redraws only if the change is in view.
    pub fn apply_quote(
        &self,
        last: Option<Decimal>,
        volume: Option<Decimal>,
        at: DateTime<Utc>,
    ) -> LiveChange {
        let mut data = self.imp().data.borrow_mut();
        let change = data.series.apply_quote(last, volume, at);
        if change == LiveChange::None {
            return change;
        }
        let len = data.series.len();
        if change == LiveChange::Rolled {
            data.view = data.view.grown(1, len);
        }
        let closes = data.closes();
        for (average, _) in &mut data.overlays {
            average.follow(&closes);
        }
        let visible = data.view.visible(len).contains(&(len - 1));
        let hovering = data.pointer.is_some();
        drop(data);
        if visible {
            self.queue_draw();
        }
        if !hovering {
            // The label above the chart shows the newest bar while nothing is pointed at.
            self.notify_hover();
        }
        change
    }

    pub fn set_overlay(&self, kind: OverlayKind, enabled: bool) {
        let mut data = self.imp().data.borrow_mut();
        for (average, on) in &mut data.overlays {
            if average.kind == kind {
                *on = enabled;
            }
        }
        drop(data);
        self.changed();
    }

    pub fn overlay_enabled(&self, kind: OverlayKind) -> bool {
        self.imp()
            .data
            .borrow()
            .overlays
            .iter()
            .any(|(average, on)| average.kind == kind && *on)
    }

    pub fn view(&self) -> Viewport {
        self.imp().data.borrow().view
    }

    pub fn set_view(&self, view: Viewport) {
        let mut data = self.imp().data.borrow_mut();
        data.view = view.clamped(data.series.len());
        drop(data);
        self.queue_draw();
    }

    pub fn fit_all(&self) {
        self.set_view(Viewport::fit_all(self.len()));
    }

    pub fn zoom(&self, factor: f64, anchor: f64) {
        let view = self.view().zoom(factor, anchor, self.len());
        self.set_view(view);
    }

    pub fn pan(&self, candles: f64) {
        let view = self.view().pan(candles, self.len());
        self.set_view(view);
    }

    /// The bar under the pointer, else the newest one.
    pub fn hovered(&self) -> Option<Hovered> {
        let data = self.imp().data.borrow();
        let (index, pointed) = match data.hovered {
            Some(index) => (index, true),
            None => (data.series.len().checked_sub(1)?, false),
        };
        let candle = *data.series.candles().get(index)?;
        let overlays = data
            .overlays
            .iter()
            .filter(|(_, on)| *on)
            .map(|(average, _)| (average.kind, average.values().get(index).copied().flatten()))
            .collect();
        Some(Hovered {
            candle,
            overlays,
            pointed,
        })
    }

    /// Called when the bar under the pointer (or the newest bar) changes.
    pub fn connect_hover(&self, f: impl Fn() + 'static) {
        *self.imp().on_hover.borrow_mut() = Some(Box::new(f));
    }

    fn notify_hover(&self) {
        if let Some(f) = self.imp().on_hover.borrow().as_ref() {
            f();
        }
    }

    fn changed(&self) {
        self.queue_draw();
        self.notify_hover();
    }

    /// Where the pointer is over the widget (`None`: it left); moves the crosshair.
    pub fn pointer_moved(&self, at: Option<(f64, f64)>) {
        let frame = self.imp().frame.get();
        let mut data = self.imp().data.borrow_mut();
        data.pointer = at;
        let hovered = match (at, frame) {
            (Some((x, y)), Some(frame)) if frame.in_plot(x, y) => {
                data.view.index_at(x, frame.plot_width, data.series.len())
            }
            _ => None,
        };
        let changed = hovered != data.hovered;
        data.hovered = hovered;
        drop(data);
        self.queue_draw();
        if changed {
            self.notify_hover();
        }
    }
}

/// Scroll and Ctrl+scroll zoom around the pointer, horizontal (or Shift+) scroll and drag pan,
/// +/- zoom, Left/Right pan, Home fits everything, End returns to the newest bars.
fn connect_input(widget: &ChartView) {
    let click = gtk::GestureClick::new();
    let w = widget.downgrade();
    click.connect_pressed(move |_, _, _, _| {
        if let Some(w) = w.upgrade() {
            w.grab_focus();
        }
    });
    widget.add_controller(click);

    let drag = gtk::GestureDrag::new();
    let w = widget.downgrade();
    drag.connect_drag_begin(move |_, _, _| {
        if let Some(w) = w.upgrade() {
            w.imp().drag_start.set(Some(w.view()));
        }
    });
    let w = widget.downgrade();
    drag.connect_drag_update(move |_, dx, _| {
        let Some(w) = w.upgrade() else { return };
        let Some(start) = w.imp().drag_start.get() else {
            return;
        };
        let slot = start.slot(w.imp().plot_width.get().max(1.0));
        w.set_view(start.pan(-dx / slot, w.len()));
    });
    let w = widget.downgrade();
    drag.connect_drag_end(move |_, _, _| {
        if let Some(w) = w.upgrade() {
            w.imp().drag_start.set(None);
        }
    });
    widget.add_controller(drag);

    let scroll = gtk::EventControllerScroll::new(gtk::EventControllerScrollFlags::BOTH_AXES);
    let w = widget.downgrade();
    scroll.connect_scroll(move |controller, dx, dy| {
        let Some(w) = w.upgrade() else {
            return glib::Propagation::Proceed;
        };
        let shift = controller
            .current_event_state()
            .contains(gdk::ModifierType::SHIFT_MASK);
        let view = w.view();
        let (pan, zoom) = if shift { (dx + dy, 0.0) } else { (dx, dy) };
        if pan != 0.0 {
            w.pan(pan * (view.count / 20.0).max(1.0));
        }
        if zoom != 0.0 {
            let width = w.imp().plot_width.get().max(1.0);
            let anchor = w
                .imp()
                .data
                .borrow()
                .pointer
                .map_or(1.0, |(x, _)| x / width);
            w.zoom(ZOOM_STEP.powf(zoom), anchor);
        }
        glib::Propagation::Stop
    });
    widget.add_controller(scroll);

    let motion = gtk::EventControllerMotion::new();
    let w = widget.downgrade();
    motion.connect_motion(move |_, x, y| {
        if let Some(w) = w.upgrade() {
            w.pointer_moved(Some((x, y)));
        }
    });
    let w = widget.downgrade();
    motion.connect_leave(move |_| {
        if let Some(w) = w.upgrade() {
            w.pointer_moved(None);
        }
    });
    widget.add_controller(motion);

    let keys = gtk::EventControllerKey::new();
    let w = widget.downgrade();
    keys.connect_key_pressed(move |_, key, _, _| {
        let Some(w) = w.upgrade() else {
            return glib::Propagation::Proceed;
        };
        let view = w.view();
        // Zoom by keys keeps the newest bar in place when the view follows it.
        let anchor = if view.follows(w.len()) { 1.0 } else { 0.5 };
        let step = (view.count / 10.0).max(1.0);
        match key {
            gdk::Key::plus | gdk::Key::equal | gdk::Key::KP_Add => w.zoom(1.0 / ZOOM_STEP, anchor),
            gdk::Key::minus | gdk::Key::KP_Subtract => w.zoom(ZOOM_STEP, anchor),
            gdk::Key::Left | gdk::Key::KP_Left => w.pan(-step),
            gdk::Key::Right | gdk::Key::KP_Right => w.pan(step),
            gdk::Key::Home | gdk::Key::KP_Home => w.fit_all(),
            gdk::Key::End | gdk::Key::KP_End => w.set_view(Viewport::latest(w.len())),
            _ => return glib::Propagation::Proceed,
        }
        glib::Propagation::Stop
    });
    widget.add_controller(keys);

    // The keyboard focus is drawn as a ring around the plot.
    let focus = gtk::EventControllerFocus::new();
    let w = widget.downgrade();
    focus.connect_enter(move |_| {
        if let Some(w) = w.upgrade() {
            w.queue_draw();
        }
    });
    let w = widget.downgrade();
    focus.connect_leave(move |_| {
        if let Some(w) = w.upgrade() {
            w.queue_draw();
        }
    });
    widget.add_controller(focus);

    // The tooltip is the accessible summary; it pops up for keyboard users, not under the
    // crosshair (the label above the chart says what is under the pointer).
    widget.connect_query_tooltip(|_, _, _, keyboard, _| keyboard);
}

fn palette(widget: &ChartView) -> Palette {
    let style = widget.style_context();
    let text = style.color();
    let up = style
        .lookup_color("success_color")
        .unwrap_or(gdk::RGBA::new(0.149, 0.635, 0.412, 1.0));
    let down = style
        .lookup_color("error_color")
        .unwrap_or(gdk::RGBA::new(0.753, 0.110, 0.157, 1.0));
    let background = style
        .lookup_color("view_bg_color")
        .or_else(|| style.lookup_color("window_bg_color"))
        .unwrap_or(gdk::RGBA::WHITE);
    Palette::with(up, down, text, background)
}

/// Shown on the price axis and the last-price label.
pub fn format_price(value: Decimal) -> String {
    if value.abs() >= Decimal::ONE {
        format!("{:.2}", value)
    } else {
        format!("{:.4}", value)
    }
}

fn text_layout(widget: &ChartView, text: &str) -> pango::Layout {
    let layout = widget.create_pango_layout(Some(text));
    let attributes = pango::AttrList::new();
    attributes.insert(pango::AttrFloat::new_scale(0.85));
    attributes.insert(pango::AttrFontFeatures::new("tnum"));
    layout.set_attributes(Some(&attributes));
    layout
}

fn append_text(
    snapshot: &gtk::Snapshot,
    layout: &pango::Layout,
    x: f64,
    y: f64,
    color: &gdk::RGBA,
) {
    snapshot.save();
    snapshot.translate(&graphene::Point::new(x as f32, y as f32));
    snapshot.append_layout(layout, color);
    snapshot.restore();
}

fn rect(x: f64, y: f64, w: f64, h: f64) -> graphene::Rect {
    graphene::Rect::new(x as f32, y as f32, w as f32, h as f32)
}

fn draw_chart(imp: &imp::ChartView, snapshot: &gtk::Snapshot) {
    let widget: ChartView = imp.obj().clone();
    let (pixel_width, pixel_height) = (
        WidgetExt::width(widget.upcast_ref::<gtk::Widget>()),
        WidgetExt::height(widget.upcast_ref::<gtk::Widget>()),
    );
    let (width, height) = (f64::from(pixel_width), f64::from(pixel_height));
    let data = imp.data.borrow();
    let candles = data.series.candles();
    let len = candles.len();
    let range = data.view.visible(len);
    if range.is_empty() || width < 20.0 || height < 20.0 {
        return;
    }
    let visible = &candles[range.clone()];
    let mut scale = PriceScale::for_candles(visible, &Frame::new(width, height, 0.0));
    let (levels, decimals) = scale.ticks(PRICE_SPACING);
    let label = |level: f64| format!("{level:.*}", decimals as usize);
    let widest = levels
        .iter()
        .map(|l| text_layout(&widget, &label(*l)).pixel_size().0)
        .chain([text_layout(&widget, &format_price(candles[len - 1].close))
            .pixel_size()
            .0])
        .max()
        .unwrap_or(40);
    let frame = Frame::new(width, height, f64::from(widest) + 16.0);
    imp.frame.set(Some(frame));
    imp.plot_width.set(frame.plot_width);
    scale.top = frame.price_top;
    scale.bottom = frame.price_bottom;
    let volume_max = visible.iter().map(|c| price(c.volume)).fold(0.0, f64::max);
    let palette = palette(&widget);
    let key = CacheKey {
        version: data.series.history_version(),
        len,
        end: data.view.end.to_bits(),
        count: data.view.count.to_bits(),
        width: pixel_width,
        height: pixel_height,
        low: scale.low.to_bits(),
        high: scale.high.to_bits(),
        volume_max: volume_max.to_bits(),
        palette: palette.fingerprint(),
    };
    let plot_clip = rect(0.0, 0.0, frame.plot_width, frame.volume_bottom);
    let forming = len - 1;
    let cached = imp
        .cache
        .borrow()
        .as_ref()
        .filter(|(k, _)| *k == key)
        .map(|(_, node)| node.clone());
    let node = match cached {
        Some(node) => Some(node),
        None => {
            imp.rebuilds.set(imp.rebuilds.get() + 1);
            let history = gtk::Snapshot::new();
            // Grid and price labels.
            for level in &levels {
                let y = scale.y_of(*level);
                if y < frame.price_top || y > frame.price_bottom {
                    continue;
                }
                history.append_color(&palette.grid, &rect(0.0, y.round(), frame.plot_width, 1.0));
                let layout = text_layout(&widget, &label(*level));
                let (w, h) = layout.pixel_size();
                append_text(
                    &history,
                    &layout,
                    width - 6.0 - f64::from(w),
                    y - f64::from(h) / 2.0,
                    &palette.text,
                );
            }
            history.append_color(
                &palette.grid,
                &rect(frame.plot_width, 0.0, 1.0, frame.volume_bottom),
            );
            // Time ticks: grid lines and labels that do not overlap.
            let slot = data.view.slot(frame.plot_width);
            let mut right_of_last = f64::NEG_INFINITY;
            for tick in draw::time_ticks(
                candles,
                range.clone(),
                data.series.bar_seconds,
                slot,
                TIME_SPACING,
            ) {
                let x = data.view.x_of(tick.index, frame.plot_width);
                history.append_color(
                    &palette.grid,
                    &rect(x.round(), 0.0, 1.0, frame.volume_bottom),
                );
                let layout = text_layout(&widget, &tick.text);
                let w = f64::from(layout.pixel_size().0);
                let left = x - w / 2.0;
                if left > right_of_last + 8.0 && left >= 0.0 && left + w <= frame.plot_width {
                    append_text(
                        &history,
                        &layout,
                        left,
                        frame.volume_bottom + 3.0,
                        &palette.text,
                    );
                    right_of_last = left + w;
                }
            }
            history.push_clip(&plot_clip);
            let completed = range.start..range.end.min(forming);
            let shapes =
                draw::candle_shapes(candles, completed, &data.view, &frame, &scale, volume_max);
            draw::append_candles(&history, &shapes, &palette);
            history.pop();
            let node = history.to_node();
            *imp.cache.borrow_mut() = node.clone().map(|n| (key, n));
            node
        }
    };
    if let Some(node) = node {
        snapshot.append_node(&node);
    }

    snapshot.push_clip(&plot_clip);
    // The forming candle, drawn fresh.
    if range.contains(&forming) {
        let shapes = draw::candle_shapes(
            candles,
            forming..len,
            &data.view,
            &frame,
            &scale,
            volume_max,
        );
        draw::append_candles(snapshot, &shapes, &palette);
    }
    // Overlay lines in one cairo node.
    let enabled: Vec<_> = data
        .overlays
        .iter()
        .enumerate()
        .filter(|(_, (_, on))| *on)
        .collect();
    if !enabled.is_empty() {
        let cr = snapshot.append_cairo(&rect(0.0, 0.0, frame.plot_width, frame.price_bottom));
        cr.set_line_width(1.5);
        cr.set_line_join(gtk::cairo::LineJoin::Round);
        for (slot, (average, _)) in enabled {
            let points =
                draw::overlay_points(average.values(), range.clone(), &data.view, &frame, &scale);
            let mut drawing = false;
            for point in points {
                match (point, drawing) {
                    (Some((x, y)), false) => {
                        cr.move_to(x, y);
                        drawing = true;
                    }
                    (Some((x, y)), true) => cr.line_to(x, y),
                    (None, _) => drawing = false,
                }
            }
            draw::set_source(&cr, &palette.overlays[slot % palette.overlays.len()]);
            let _ = cr.stroke();
        }
    }
    snapshot.pop();

    // The last price: a line across the plot and its value on the axis.
    let last = candles[forming];
    let color = if last.up() { palette.up } else { palette.down };
    let y = scale.y_of(price(last.close));
    if (frame.price_top..=frame.price_bottom).contains(&y) {
        let line = gdk::RGBA::new(color.red(), color.green(), color.blue(), 0.6);
        snapshot.append_color(&line, &rect(0.0, y.round(), frame.plot_width, 1.0));
        axis_label(
            &widget,
            snapshot,
            &frame,
            y,
            &format_price(last.close),
            &color,
            &palette.label_background,
        );
    }

    if widget.has_visible_focus() {
        let accent = widget
            .style_context()
            .lookup_color("accent_color")
            .unwrap_or(palette.up);
        let ring = gtk::gsk::RoundedRect::from_rect(
            rect(0.5, 0.5, frame.plot_width - 1.0, frame.volume_bottom - 1.0),
            0.0,
        );
        snapshot.append_border(&ring, &[2.0; 4], &[accent; 4]);
    }

    // The crosshair.
    if let (Some((_, y)), Some(index)) = (data.pointer, data.hovered) {
        let cx = data.view.x_of(index, frame.plot_width).round();
        snapshot.append_color(&palette.crosshair, &rect(cx, 0.0, 1.0, frame.volume_bottom));
        if (frame.price_top..=frame.price_bottom).contains(&y) {
            snapshot.append_color(
                &palette.crosshair,
                &rect(0.0, y.round(), frame.plot_width, 1.0),
            );
            let value = scale.value_at(y);
            axis_label(
                &widget,
                snapshot,
                &frame,
                y,
                &format!("{value:.*}", (decimals as usize).max(2)),
                &palette.text,
                &palette.label_background,
            );
        }
        let when = candle_time(&candles[index], data.series.bar_seconds);
        let layout = text_layout(&widget, &when);
        let (w, h) = layout.pixel_size();
        let (w, h) = (f64::from(w), f64::from(h));
        let left = (cx - w / 2.0 - 4.0).clamp(0.0, (frame.plot_width - w - 8.0).max(0.0));
        snapshot.append_color(
            &palette.text,
            &rect(left, frame.volume_bottom + 1.0, w + 8.0, h + 4.0),
        );
        append_text(
            snapshot,
            &layout,
            left + 4.0,
            frame.volume_bottom + 3.0,
            &palette.label_background,
        );
    }
}

fn axis_label(
    widget: &ChartView,
    snapshot: &gtk::Snapshot,
    frame: &Frame,
    y: f64,
    text: &str,
    background: &gdk::RGBA,
    foreground: &gdk::RGBA,
) {
    let layout = text_layout(widget, text);
    let (w, h) = layout.pixel_size();
    let (w, h) = (f64::from(w), f64::from(h));
    let top = (y - h / 2.0 - 2.0).clamp(0.0, (frame.height - h - 4.0).max(0.0));
    snapshot.append_color(
        background,
        &rect(
            frame.plot_width + 1.0,
            top,
            frame.width - frame.plot_width - 1.0,
            h + 4.0,
        ),
    );
    append_text(
        snapshot,
        &layout,
        frame.width - 6.0 - w,
        top + 2.0,
        foreground,
    );
}

/// A bar's start as the crosshair and the label above the chart show it.
pub fn candle_time(candle: &Candle, bar_seconds: i32) -> String {
    if bar_seconds >= 86_400 {
        candle.ts.format("%a %b %-d %Y").to_string()
    } else {
        candle
            .ts
            .with_timezone(&Local)
            .format("%a %b %-d %H:%M")
            .to_string()
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::gui::panels::chart::series::tests::{bar, d, t};

    fn require_display() {
        assert!(
            std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some(),
            "GTK tests need a display: run them through dev/test.sh (Xvfb)"
        );
    }

    /// A wavy series of `n` five-minute bars.
    fn bars(n: i64) -> Vec<tickwork_core::domain::Bar> {
        (0..n)
            .map(|i| {
                let mid = 100.0 + (i as f64 / 9.0).sin() * 4.0 + i as f64 * 0.02;
                let (open, close) = if i % 3 == 0 {
                    (mid + 0.4, mid - 0.3)
                } else {
                    (mid - 0.3, mid + 0.4)
                };
                let f = |v: f64| format!("{v:.2}");
                bar(
                    i * 300,
                    300,
                    &f(open),
                    &f(open.max(close) + 0.25),
                    &f(open.min(close) - 0.25),
                    &f(close),
                    &format!("{}", 1000 + (i * 37) % 900),
                )
            })
            .collect()
    }

    fn drain() {
        let context = glib::MainContext::default();
        while context.pending() {
            context.iteration(false);
        }
    }

    #[gtk::test]
    fn draws_from_the_cache_until_a_candle_completes() {
        require_display();
        adw::init().unwrap();
        let chart = ChartView::new();
        chart.reset(300);
        chart.merge(&bars(300));
        for kind in OverlayKind::ALL {
            chart.set_overlay(kind, true);
        }
        let window = gtk::Window::builder()
            .default_width(900)
            .default_height(480)
            .child(&chart)
            .build();
        window.present();
        // Until the window has been laid out and drawn once.
        let mut frames = 0;
        for _ in 0..250 {
            drain();
            if chart.width() > 0 && chart.is_mapped() {
                frames += 1;
                if frames > 10 {
                    break;
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(chart.width() > 0, "the window was never shown");
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        // Draws the chart as a frame would and saves the picture.
        let shot = |name: &str| {
            let snapshot = gtk::Snapshot::new();
            draw_chart(chart.imp(), &snapshot);
            let node = snapshot.to_node().expect("the chart drew nothing");
            let renderer = chart.native().unwrap().renderer().unwrap();
            let texture = renderer.render_texture(&node, None);
            texture.save_to_png(dir.join(name)).unwrap();
        };
        shot("chart-view.png");
        let built = chart.rebuilds();
        assert!(built >= 1);

        // A live change of the forming candle reuses the cached node of the others.
        let last = chart.last().unwrap();
        let change = chart.apply_quote(Some(last.close + d("0.05")), None, last.ts);
        assert_eq!(change, LiveChange::Updated);
        shot("chart-view.png");
        assert_eq!(
            chart.rebuilds(),
            built,
            "only the forming candle is redrawn"
        );

        // The crosshair: drawn per frame, names the bar under the pointer.
        chart.pointer_moved(Some((300.0, 150.0)));
        let hovered = chart.hovered().unwrap();
        assert!(hovered.pointed);
        assert!(hovered.candle.ts < last.ts);
        assert_eq!(hovered.overlays.len(), 3);
        shot("chart-view-crosshair.png");
        assert_eq!(chart.rebuilds(), built);

        // A new candle completes the previous one: one rebuild.
        let change = chart.apply_quote(Some(d("101")), None, t(300 * 300));
        assert_eq!(change, LiveChange::Rolled);
        assert_eq!(chart.len(), 301);
        shot("chart-view.png");
        assert_eq!(chart.rebuilds(), built + 1);

        // Zoom and pan move the window without touching the data.
        let before = chart.view();
        chart.zoom(0.5, 1.0);
        assert!(chart.view().count < before.count);
        chart.pan(-40.0);
        assert!(!chart.view().follows(chart.len()));
        chart.fit_all();
        assert_eq!(chart.view(), Viewport::fit_all(301));
        assert_eq!(chart.len(), 301);
        window.close();
    }
}
