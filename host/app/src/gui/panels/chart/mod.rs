//! The chart panel: candles, volume and moving averages of one instrument, with its controls
//! (symbol, bar size, overlays). History comes from the backend's `LoadHistory` (stored bars,
//! then a download when connected); the forming candle is built from quotes.
//!
//! - [`series`]: the candles (Decimal), merging history and rolling live candles;
//! - [`indicators`]: SMA/EMA overlays, updated incrementally;
//! - [`view`]: the visible window (zoom, pan);
//! - [`draw`]: geometry and render nodes;
//! - [`widget`]: `TickworkChartView`, the drawing widget.

pub mod draw;
pub mod indicators;
pub mod series;
pub mod view;
pub mod widget;

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use adw::prelude::*;
use chrono::Utc;
use gtk::glib;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tickwork_core::domain::{Instrument, InstrumentSpec, Quote};

use self::indicators::OverlayKind;
use self::series::{BAR_SIZES, BarSize};
use self::widget::{ChartView, format_price};
use super::{Panel, PanelContext, PanelEvent, PanelProvider, WindowRequest};
use crate::gui::boundary::{MarketCommand, MarketEvent, Notification, SessionEvent};

/// The instrument the demo opens on when nothing was saved.
const DEMO_SYMBOL: &str = "AAPL";

pub fn provider() -> PanelProvider {
    PanelProvider {
        id: "chart".into(),
        title: "Chart".into(),
        icon: "utilities-system-monitor-symbolic".into(),
        description: "Candles, volume and moving averages of one instrument, updated live".into(),
        multiple: true,
        build: Rc::new(|ctx| Box::new(ChartPanel::new(ctx))),
    }
}

/// What the chart restores: saved with the layout.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SavedChart {
    #[serde(default)]
    pub symbol: Option<String>,
    #[serde(default)]
    pub bar_seconds: Option<i32>,
    #[serde(default)]
    pub overlays: Vec<String>,
}

pub struct ChartPanel {
    inner: Rc<Inner>,
}

struct Inner {
    ctx: PanelContext,
    root: gtk::Box,
    symbol: gtk::Entry,
    bar_size: gtk::DropDown,
    toggles: Vec<(OverlayKind, gtk::ToggleButton)>,
    legend: gtk::Label,
    stack: gtk::Stack,
    empty: adw::StatusPage,
    chart: ChartView,
    state: RefCell<State>,
}

#[derive(Debug, Default)]
struct State {
    /// The instrument shown (known once TWS resolved the symbol, or another panel chose it).
    instrument: Option<Instrument>,
    /// The symbol typed or restored, waiting for its `Watching` answer.
    pending: Option<String>,
    /// Symbols of `Watch` commands sent and not yet answered (the answer gives the id).
    awaiting: Vec<String>,
    /// The instrument whose quote line this panel holds (one `Watch`, released on change).
    held: Option<i64>,
    bar: Option<BarSize>,
    /// A history request is on its way.
    loading: bool,
    /// Something to say when there are no bars (a failed lookup).
    failure: Option<String>,
    /// The accessible summary last set (changed only when its text does).
    summary: String,
    /// Restoring controls: their handlers must not save or reload.
    quiet: bool,
}

impl State {
    /// The symbol shown: the resolved instrument's, else the one waiting for TWS.
    fn symbol(&self) -> Option<String> {
        self.instrument
            .as_ref()
            .map(|i| i.spec.symbol.clone())
            .or_else(|| self.pending.clone())
    }
}

impl ChartPanel {
    pub fn new(ctx: PanelContext) -> Self {
        let saved: SavedChart = ctx
            .saved
            .clone()
            .and_then(|value| serde_json::from_value(value).ok())
            .unwrap_or_default();
        let bar = BarSize::from_seconds(saved.bar_seconds.unwrap_or(300));

        let symbol = gtk::Entry::builder()
            .placeholder_text("Symbol")
            .width_chars(8)
            .max_width_chars(12)
            .tooltip_text("Type a stock symbol and press Enter")
            .build();
        symbol.set_widget_name("chart-symbol");
        let symbol_label = gtk::Label::with_mnemonic("_Symbol");
        symbol_label.set_mnemonic_widget(Some(&symbol));

        let labels: Vec<&str> = BAR_SIZES.iter().map(|s| s.label).collect();
        let bar_size = gtk::DropDown::from_strings(&labels);
        bar_size.set_widget_name("chart-bar-size");
        bar_size.set_tooltip_text(Some("Bar size"));
        bar_size.set_selected(bar.index() as u32);
        let bar_label = gtk::Label::with_mnemonic("_Bars");
        bar_label.set_mnemonic_widget(Some(&bar_size));

        let overlays = gtk::Box::new(gtk::Orientation::Horizontal, 0);
        overlays.add_css_class("linked");
        let toggles: Vec<(OverlayKind, gtk::ToggleButton)> = OverlayKind::ALL
            .into_iter()
            .map(|kind| {
                let button = gtk::ToggleButton::with_label(&kind.label());
                button.set_widget_name(&format!("chart-{}", kind.key()));
                let what = match kind.average {
                    indicators::Average::Sma => "simple",
                    indicators::Average::Ema => "exponential",
                };
                button.set_tooltip_text(Some(&format!(
                    "Show the {}-bar {what} moving average of the closes",
                    kind.period
                )));
                overlays.append(&button);
                (kind, button)
            })
            .collect();

        let fit = gtk::Button::from_icon_name("zoom-fit-best-symbolic");
        fit.set_widget_name("chart-fit");
        fit.set_tooltip_text(Some(
            "Show all bars (Home). Zoom: scroll or +/−; pan: drag or ←/→",
        ));
        fit.add_css_class("flat");

        let toolbar = gtk::Box::builder()
            .orientation(gtk::Orientation::Horizontal)
            .spacing(6)
            .margin_start(6)
            .margin_end(6)
            .margin_top(6)
            .build();
        toolbar.append(&symbol_label);
        toolbar.append(&symbol);
        toolbar.append(&bar_label);
        toolbar.append(&bar_size);
        toolbar.append(&overlays);
        let spacer = gtk::Box::new(gtk::Orientation::Horizontal, 0);
        spacer.set_hexpand(true);
        toolbar.append(&spacer);
        toolbar.append(&fit);

        let legend = gtk::Label::builder()
            .xalign(0.0)
            .margin_start(8)
            .margin_end(8)
            .margin_top(4)
            .ellipsize(gtk::pango::EllipsizeMode::End)
            .use_markup(true)
            .build();
        legend.add_css_class("numeric");
        legend.add_css_class("caption");

        let chart = ChartView::new();
        chart.set_widget_name("chart-view");
        chart.set_margin_start(4);
        chart.set_margin_bottom(4);
        let with_chart = gtk::Box::new(gtk::Orientation::Vertical, 2);
        with_chart.append(&legend);
        with_chart.append(&chart);

        let empty = adw::StatusPage::builder()
            .icon_name("utilities-system-monitor-symbolic")
            .vexpand(true)
            .build();
        empty.add_css_class("compact");
        let stack = gtk::Stack::new();
        stack.set_vexpand(true);
        stack.add_named(&with_chart, Some("chart"));
        stack.add_named(&empty, Some("empty"));

        let root = gtk::Box::new(gtk::Orientation::Vertical, 0);
        root.append(&toolbar);
        root.append(&stack);

        let inner = Rc::new(Inner {
            ctx,
            root,
            symbol,
            bar_size,
            toggles,
            legend,
            stack,
            empty,
            chart,
            state: RefCell::new(State {
                bar: Some(bar),
                quiet: true,
                ..State::default()
            }),
        });
        inner.chart.reset(bar.seconds);
        for (kind, button) in &inner.toggles {
            let on = saved.overlays.contains(&kind.key());
            button.set_active(on);
            inner.chart.set_overlay(*kind, on);
        }
        inner.connect(&fit);
        inner.state.borrow_mut().quiet = false;

        // What to show: the saved symbol, else the demo's.
        let symbol = saved.symbol.or_else(|| {
            inner
                .ctx
                .shared
                .borrow()
                .demo
                .then(|| DEMO_SYMBOL.to_string())
        });
        if let Some(symbol) = symbol {
            inner.show_symbol(&symbol);
        }
        inner.refresh();
        Self { inner }
    }
}

impl Inner {
    fn connect(self: &Rc<Self>, fit: &gtk::Button) {
        let weak = Rc::downgrade(self);
        self.symbol.connect_activate(move |entry| {
            if let Some(inner) = weak.upgrade() {
                let text = entry.text().to_string();
                inner.show_symbol(&text);
                inner.saved_changed();
            }
        });
        let weak = Rc::downgrade(self);
        self.bar_size.connect_selected_notify(move |dropdown| {
            let Some(inner) = weak.upgrade() else { return };
            if inner.state.borrow().quiet {
                return;
            }
            let size = BAR_SIZES
                .get(dropdown.selected() as usize)
                .copied()
                .unwrap_or(BAR_SIZES[1]);
            inner.state.borrow_mut().bar = Some(size);
            inner.chart.reset(size.seconds);
            inner.load_history();
            inner.saved_changed();
        });
        for (kind, button) in &self.toggles {
            let weak = Rc::downgrade(self);
            let kind = *kind;
            button.connect_toggled(move |button| {
                let Some(inner) = weak.upgrade() else { return };
                if inner.state.borrow().quiet {
                    return;
                }
                inner.chart.set_overlay(kind, button.is_active());
                inner.saved_changed();
            });
        }
        let weak = Rc::downgrade(self);
        fit.connect_clicked(move |_| {
            if let Some(inner) = weak.upgrade() {
                inner.chart.fit_all();
                inner.chart.grab_focus();
            }
        });
        let weak: Weak<Inner> = Rc::downgrade(self);
        self.chart.connect_hover(move || {
            if let Some(inner) = weak.upgrade() {
                inner.draw_legend();
            }
        });
    }

    fn bar(&self) -> BarSize {
        self.state.borrow().bar.unwrap_or(BAR_SIZES[1])
    }

    fn connected(&self) -> bool {
        self.ctx.shared.borrow().profile.is_some()
    }

    /// Shows a symbol: at once if the instrument is known, else after TWS resolved it.
    fn show_symbol(self: &Rc<Self>, text: &str) {
        let symbol = text.trim().to_uppercase();
        if symbol.is_empty() {
            return;
        }
        self.symbol.set_text(&symbol);
        let known = self
            .ctx
            .shared
            .borrow()
            .instruments
            .values()
            .filter(|i| i.spec.symbol.eq_ignore_ascii_case(&symbol))
            .min_by_key(|i| i.id)
            .cloned();
        self.state.borrow_mut().failure = None;
        match known {
            Some(instrument) => self.set_instrument(instrument),
            None => {
                self.release_line(None);
                {
                    let mut state = self.state.borrow_mut();
                    state.instrument = None;
                    state.pending = Some(symbol.clone());
                }
                self.chart.reset(self.bar().seconds);
                if self.connected() {
                    self.watch(InstrumentSpec::stock(&symbol));
                }
                self.refresh();
            }
        }
    }

    /// Shows an instrument: loads its bars and holds its quote line.
    fn set_instrument(self: &Rc<Self>, instrument: Instrument) {
        let same = self
            .state
            .borrow()
            .instrument
            .as_ref()
            .is_some_and(|i| i.id == instrument.id);
        {
            let mut state = self.state.borrow_mut();
            state.pending = None;
            state.failure = None;
        }
        self.symbol.set_text(&instrument.spec.symbol);
        if same && !self.chart.is_empty() {
            return;
        }
        self.release_line(Some(instrument.id));
        let hold = self.state.borrow().held != Some(instrument.id);
        self.state.borrow_mut().instrument = Some(instrument.clone());
        if hold && self.connected() {
            self.watch(instrument.spec.clone());
        }
        self.chart.reset(self.bar().seconds);
        self.load_history();
    }

    fn watch(&self, spec: InstrumentSpec) {
        self.state.borrow_mut().awaiting.push(spec.symbol.clone());
        self.ctx.commands.send(MarketCommand::Watch { spec });
    }

    /// Gives up the quote line held, unless it is `keep`'s.
    fn release_line(&self, keep: Option<i64>) {
        let mut state = self.state.borrow_mut();
        if let Some(held) = state.held
            && Some(held) != keep
        {
            state.held = None;
            self.ctx.commands.send(MarketCommand::Unwatch {
                instrument_id: held,
            });
        }
    }

    fn load_history(&self) {
        let Some(id) = self.state.borrow().instrument.as_ref().map(|i| i.id) else {
            return self.refresh();
        };
        let bar = self.bar();
        self.state.borrow_mut().loading = true;
        self.ctx.commands.send(MarketCommand::LoadHistory {
            instrument_id: id,
            bar_seconds: bar.seconds,
            days: bar.days,
        });
        self.refresh();
    }

    fn saved(&self) -> SavedChart {
        let state = self.state.borrow();
        let symbol = state.symbol();
        SavedChart {
            symbol,
            bar_seconds: Some(self.bar().seconds),
            overlays: OverlayKind::ALL
                .into_iter()
                .filter(|k| self.chart.overlay_enabled(*k))
                .map(|k| k.key())
                .collect(),
        }
    }

    fn saved_changed(&self) {
        self.ctx.request(WindowRequest::LayoutChanged);
    }

    fn event(self: &Rc<Self>, event: &PanelEvent) {
        match event {
            PanelEvent::InstrumentSelected(instrument) => {
                self.set_instrument(instrument.clone());
                self.saved_changed();
            }
            PanelEvent::AccountSelected(_) => {}
            PanelEvent::Backend(Notification::Market(event)) => self.market(event),
            PanelEvent::Backend(Notification::Session(event)) => self.session(event),
            PanelEvent::Backend(Notification::Problem(text)) => self.problem(text),
            PanelEvent::Backend(_) => {}
        }
    }

    fn market(self: &Rc<Self>, event: &MarketEvent) {
        match event {
            MarketEvent::Watching(instrument) => {
                let ours = {
                    let mut state = self.state.borrow_mut();
                    let position = state
                        .awaiting
                        .iter()
                        .position(|s| s.eq_ignore_ascii_case(&instrument.spec.symbol));
                    position.map(|p| state.awaiting.remove(p)).is_some()
                };
                if !ours {
                    return;
                }
                let pending = self
                    .state
                    .borrow()
                    .pending
                    .as_ref()
                    .is_some_and(|s| s.eq_ignore_ascii_case(&instrument.spec.symbol));
                let current = self
                    .state
                    .borrow()
                    .instrument
                    .as_ref()
                    .is_some_and(|i| i.id == instrument.id);
                if pending || current {
                    self.release_line(Some(instrument.id));
                    let already = self.state.borrow().held == Some(instrument.id);
                    if already {
                        // Already held: give back the extra line.
                        self.ctx.commands.send(MarketCommand::Unwatch {
                            instrument_id: instrument.id,
                        });
                    } else {
                        self.state.borrow_mut().held = Some(instrument.id);
                    }
                    if pending {
                        self.set_instrument(instrument.clone());
                        self.saved_changed();
                    }
                } else {
                    // The chart moved on while TWS answered: give the line back.
                    self.ctx.commands.send(MarketCommand::Unwatch {
                        instrument_id: instrument.id,
                    });
                }
            }
            MarketEvent::History {
                instrument_id,
                bar_seconds,
                bars,
                complete,
            } => {
                let ours = self
                    .state
                    .borrow()
                    .instrument
                    .as_ref()
                    .is_some_and(|i| i.id == *instrument_id)
                    && *bar_seconds == self.bar().seconds;
                if !ours {
                    return;
                }
                self.chart.merge(bars);
                if *complete {
                    self.state.borrow_mut().loading = false;
                }
                self.refresh();
            }
            MarketEvent::Bar(bar) => {
                let ours = self
                    .state
                    .borrow()
                    .instrument
                    .as_ref()
                    .is_some_and(|i| i.id == bar.instrument_id)
                    && bar.bar_seconds == self.bar().seconds;
                if ours {
                    self.chart.merge(std::slice::from_ref(bar));
                }
            }
            MarketEvent::SearchResults { .. } | MarketEvent::Watchlists(_) => {}
        }
    }

    fn session(self: &Rc<Self>, event: &SessionEvent) {
        match event {
            SessionEvent::Connected { demo, .. } => {
                // A new session: no line is held on it yet.
                {
                    let mut state = self.state.borrow_mut();
                    state.held = None;
                    state.awaiting.clear();
                }
                let (instrument, pending) = {
                    let state = self.state.borrow();
                    (state.instrument.clone(), state.pending.clone())
                };
                if let Some(instrument) = instrument {
                    self.watch(instrument.spec.clone());
                    // Download what is missing now that TWS is there.
                    self.load_history();
                } else if let Some(symbol) = pending {
                    self.watch(InstrumentSpec::stock(&symbol));
                } else if *demo {
                    self.show_symbol(DEMO_SYMBOL);
                }
                self.refresh();
            }
            SessionEvent::Disconnected => {
                let mut state = self.state.borrow_mut();
                state.held = None;
                state.awaiting.clear();
                drop(state);
                self.refresh();
            }
            _ => {}
        }
    }

    fn problem(&self, text: &str) {
        let mut state = self.state.borrow_mut();
        let Some(symbol) = state.pending.clone() else {
            return;
        };
        if text.starts_with(&format!("watching {symbol}:")) {
            state.awaiting.retain(|s| !s.eq_ignore_ascii_case(&symbol));
            state.pending = None;
            state.failure = Some(format!("TWS does not know the stock “{symbol}”."));
            drop(state);
            self.refresh();
        }
    }

    fn quotes(&self, quotes: &[Quote]) {
        let Some(id) = self.state.borrow().instrument.as_ref().map(|i| i.id) else {
            return;
        };
        let Some(quote) = quotes.iter().find(|q| q.instrument_id == id) else {
            return;
        };
        let was_empty = self.chart.is_empty();
        let change = self.chart.apply_quote(
            quote.last,
            quote.volume,
            quote.updated_at.unwrap_or_else(Utc::now),
        );
        if change != series::LiveChange::None {
            if was_empty {
                self.refresh();
            } else {
                self.summarise();
            }
        }
    }

    /// Which page shows, and what the empty page says.
    fn refresh(&self) {
        let state = self.state.borrow();
        let symbol = state.symbol();
        let connected = self.connected();
        let bar = state.bar.unwrap_or(BAR_SIZES[1]);
        let (title, description) = match (&symbol, &state.failure) {
            (_, Some(failure)) => (
                "Unknown symbol".to_string(),
                format!("{failure} Check the spelling, or pick an instrument in the watchlist."),
            ),
            (None, _) => (
                "No instrument".to_string(),
                if connected {
                    "Type a symbol above and press Enter, or pick an instrument in the watchlist."
                        .to_string()
                } else {
                    "Connect to TWS or open the demo, then type a symbol above or pick one in \
                     the watchlist."
                        .to_string()
                },
            ),
            (Some(symbol), None) if state.loading || (state.pending.is_some() && connected) => (
                format!("Loading {symbol}"),
                format!(
                    "Stored {} bars first, then a download from TWS.",
                    bar.adjective
                ),
            ),
            (Some(symbol), None) if !connected => (
                format!("No bars for {symbol}"),
                format!(
                    "No {} bars of {symbol} are stored. Connect to TWS or open the demo to \
                     download them.",
                    bar.adjective
                ),
            ),
            (Some(symbol), None) => (
                format!("No bars for {symbol}"),
                format!(
                    "TWS sent no {} bars of {symbol} for the last {} days. Try another bar size.",
                    bar.adjective, bar.days
                ),
            ),
        };
        drop(state);
        if self.chart.is_empty() {
            self.empty.set_title(&title);
            self.empty.set_description(Some(&description));
            self.stack.set_visible_child_name("empty");
        } else {
            self.stack.set_visible_child_name("chart");
        }
        self.summarise();
        self.draw_legend();
    }

    /// The chart's tooltip and accessible name: "AAPL, 5-minute candles, last 187.20".
    fn summarise(&self) {
        let state = self.state.borrow();
        let symbol = state.symbol();
        let bar = state.bar.unwrap_or(BAR_SIZES[1]);
        drop(state);
        let summary = match (symbol, self.chart.last()) {
            (Some(symbol), Some(last)) => format!(
                "{symbol}, {} candles, last {}",
                bar.adjective,
                format_price(last.close)
            ),
            (Some(symbol), None) => format!("{symbol}, {} candles, no bars yet", bar.adjective),
            (None, _) => "Chart: no instrument".to_string(),
        };
        let mut state = self.state.borrow_mut();
        if state.summary != summary {
            self.chart.set_tooltip_text(Some(&summary));
            state.summary = summary;
        }
    }

    /// The label above the chart: OHLCV (and overlay values) of the bar under the pointer,
    /// else of the newest bar.
    fn draw_legend(&self) {
        let Some(hovered) = self.chart.hovered() else {
            self.legend.set_markup("");
            return;
        };
        let c = hovered.candle;
        let symbol = self
            .state
            .borrow()
            .instrument
            .as_ref()
            .map(|i| i.spec.symbol.clone())
            .unwrap_or_default();
        let change = if c.open.is_zero() {
            String::new()
        } else {
            let pct = (c.close - c.open) / c.open * Decimal::ONE_HUNDRED;
            format!("  {:+.2}%", pct)
        };
        let mut text = format!(
            "<b>{}</b>  {}  O {}  H {}  L {}  C {}  V {}{}",
            glib::markup_escape_text(&symbol),
            glib::markup_escape_text(&widget::candle_time(&c, self.chart.bar_seconds())),
            format_price(c.open),
            format_price(c.high),
            format_price(c.low),
            format_price(c.close),
            format_volume(c.volume),
            change,
        );
        let colors = ["#3584e4", "#ff7800", "#9141ac"];
        for (kind, value) in hovered.overlays {
            let slot = OverlayKind::ALL
                .iter()
                .position(|k| *k == kind)
                .unwrap_or(0);
            let value = value.map_or_else(|| "–".to_string(), format_price);
            text.push_str(&format!(
                "  <span foreground=\"{}\">{} {}</span>",
                colors[slot % colors.len()],
                kind.label(),
                value
            ));
        }
        self.legend.set_markup(&text);
        self.legend
            .set_opacity(if hovered.pointed { 1.0 } else { 0.8 });
    }
}

/// Volume in a few characters: 950, 12.3K, 4.56M.
pub fn format_volume(volume: Decimal) -> String {
    let thousand = Decimal::from(1000);
    let million = Decimal::from(1_000_000);
    if volume >= million {
        format!("{:.2}M", volume / million)
    } else if volume >= Decimal::from(10_000) {
        format!("{:.1}K", volume / thousand)
    } else {
        format!("{:.0}", volume)
    }
}

impl Panel for ChartPanel {
    fn widget(&self) -> gtk::Widget {
        self.inner.root.clone().upcast()
    }

    fn event(&self, event: &PanelEvent) {
        self.inner.event(event);
    }

    fn quotes(&self, quotes: &[Quote]) {
        self.inner.quotes(quotes);
    }

    fn saved_state(&self) -> Option<serde_json::Value> {
        serde_json::to_value(self.inner.saved()).ok()
    }
}

impl Drop for ChartPanel {
    /// A closed chart gives back its quote line.
    fn drop(&mut self) {
        self.inner.release_line(None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gui::panels::chart::series::tests::d;

    #[test]
    fn saved_state_round_trips_and_tolerates_missing_fields() {
        let saved = SavedChart {
            symbol: Some("MSFT".into()),
            bar_seconds: Some(3600),
            overlays: vec!["sma20".into(), "ema20".into()],
        };
        let value = serde_json::to_value(&saved).unwrap();
        assert_eq!(serde_json::from_value::<SavedChart>(value).unwrap(), saved);
        let partial: SavedChart = serde_json::from_str(r#"{"symbol":"AAPL"}"#).unwrap();
        assert_eq!(partial.bar_seconds, None);
        assert!(partial.overlays.is_empty());
    }

    #[test]
    fn volumes_are_short() {
        assert_eq!(format_volume(d("950")), "950");
        assert_eq!(format_volume(d("12345")), "12.3K");
        assert_eq!(format_volume(d("4560000")), "4.56M");
    }
}
