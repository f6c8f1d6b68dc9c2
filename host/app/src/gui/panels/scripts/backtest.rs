//! The Backtest tab: what to test on (symbol, bars from the database or a CSV file, period,
//! starting cash), then the statistics, the equity curve with the trades, and the trades table.

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;

use adw::prelude::*;
use chrono::NaiveDate;
use gtk::{gio, glib};
use rust_decimal::Decimal;
use tickwork_core::scripting::strategy::ParamValues;

use super::super::columns::text_column;
use super::super::watchlist::format::{money, percent, price, quantity};
use super::equity::{Curve, EquityView};
use crate::gui::boundary::{
    BacktestFailure, BacktestOutcome, BacktestRequest, BacktestTrade, BarSource,
};

/// The bar sources offered: a CSV file, or the database at one of these bar lengths.
const SOURCES: [(&str, Option<i32>); 5] = [
    ("CSV file", None),
    ("Database, 1 day", Some(86_400)),
    ("Database, 1 hour", Some(3_600)),
    ("Database, 5 minutes", Some(300)),
    ("Database, 1 minute", Some(60)),
];

/// The statistics shown: key (widget name), caption.
const STATS: [(&str, &str); 8] = [
    ("net_pnl", "Net P&L"),
    ("return", "Return"),
    ("final_equity", "Final equity"),
    ("max_drawdown", "Max drawdown"),
    ("sharpe", "Sharpe"),
    ("trades", "Trades"),
    ("exposure", "Exposure"),
    ("commission", "Commission"),
];

pub struct BacktestTab {
    pub widget: gtk::Box,
    pub symbol: gtk::Entry,
    pub source: gtk::DropDown,
    pub file: gtk::Button,
    pub from: gtk::Entry,
    pub to: gtk::Entry,
    pub cash: gtk::Entry,
    pub run: gtk::Button,
    spinner: gtk::Spinner,
    pub status: gtk::Label,
    stats: Vec<gtk::Label>,
    pub chart: EquityView,
    trades: gio::ListStore,
    csv: Rc<RefCell<Option<PathBuf>>>,
    chooser: Rc<RefCell<Option<gtk::FileChooserNative>>>,
}

fn trade(item: &glib::Object) -> Option<std::cell::Ref<'_, BacktestTrade>> {
    item.downcast_ref::<glib::BoxedAnyObject>()
        .map(|b| b.borrow::<BacktestTrade>())
}

fn entry(name: &str, placeholder: &str, tooltip: &str, chars: i32) -> gtk::Entry {
    let entry = gtk::Entry::builder()
        .placeholder_text(placeholder)
        .tooltip_text(tooltip)
        .width_chars(chars)
        .build();
    entry.set_widget_name(name);
    entry
}

fn date(entry: &gtk::Entry, what: &str) -> Result<Option<NaiveDate>, String> {
    let text = entry.text();
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| format!("{what}: expected a date like 2026-01-31, got `{text}`"))
}

impl BacktestTab {
    pub fn new() -> Self {
        let symbol = entry(
            "scripts-bt-symbol",
            "Symbol",
            "The instrument to test on",
            8,
        );
        let names: Vec<&str> = SOURCES.iter().map(|(n, _)| *n).collect();
        let source = gtk::DropDown::from_strings(&names);
        source.set_widget_name("scripts-bt-source");
        source.set_tooltip_text(Some("Where the bars come from"));
        let file = gtk::Button::with_label("Choose a file…");
        file.set_widget_name("scripts-bt-file");
        file.set_tooltip_text(Some(
            "The CSV file of bars: time,open,high,low,close,volume",
        ));
        let from = entry(
            "scripts-bt-from",
            "YYYY-MM-DD",
            "First day (empty: from the first bar)",
            10,
        );
        let to = entry(
            "scripts-bt-to",
            "YYYY-MM-DD",
            "Last day (empty: to the last bar)",
            10,
        );
        let cash = entry("scripts-bt-cash", "100000", "Starting cash", 9);
        cash.set_text("100000");
        EditableExt::set_alignment(&cash, 1.0);
        let run = gtk::Button::with_mnemonic("Run _backtest");
        run.set_widget_name("scripts-bt-run");
        run.add_css_class("suggested-action");
        run.set_tooltip_text(Some("Run the script over the bars (Ctrl+B)"));
        run.set_action_name(Some("scripts.backtest"));
        let spinner = gtk::Spinner::new();
        file.set_hexpand(true);
        let running = gtk::Box::new(gtk::Orientation::Horizontal, 8);
        running.append(&run);
        running.append(&spinner);
        let bar = super::form_grid(&[
            vec![
                (Some("_Symbol"), symbol.clone().upcast()),
                (Some("_Bars"), source.clone().upcast()),
                (None, file.clone().upcast()),
            ],
            vec![
                (Some("_From"), from.clone().upcast()),
                (Some("_To"), to.clone().upcast()),
                (Some("C_ash"), cash.clone().upcast()),
            ],
            vec![(None, running.upcast())],
        ]);

        let status = gtk::Label::new(Some("Choose what to test on and run the backtest."));
        status.set_widget_name("scripts-bt-status");
        status.set_xalign(0.0);
        status.set_wrap(true);
        status.set_selectable(true);
        status.add_css_class("dim-label");
        status.set_margin_start(8);
        status.set_margin_end(8);

        // Four figures a row, each a caption over its value, right-aligned.
        let grid = gtk::Grid::builder()
            .column_spacing(16)
            .row_spacing(4)
            .column_homogeneous(true)
            .margin_start(8)
            .margin_end(8)
            .margin_top(4)
            .margin_bottom(6)
            .build();
        let mut stats = Vec::new();
        for (i, (key, caption)) in STATS.iter().enumerate() {
            let (row, col) = (
                i32::try_from(i / 4).unwrap_or(0),
                i32::try_from(i % 4).unwrap_or(0),
            );
            let name = gtk::Label::new(Some(caption));
            name.add_css_class("dim-label");
            name.add_css_class("caption");
            name.set_xalign(1.0);
            let value = gtk::Label::new(Some("—"));
            value.set_widget_name(&format!("scripts-stat-{key}"));
            value.add_css_class("numeric");
            value.set_xalign(1.0);
            crate::gui::a11y::set_label(&value, caption);
            let card = gtk::Box::new(gtk::Orientation::Vertical, 0);
            card.append(&name);
            card.append(&value);
            grid.attach(&card, col, row, 1, 1);
            stats.push(value);
        }

        let chart = EquityView::default();
        chart.set_widget_name("scripts-equity");
        crate::gui::a11y::set_label(&chart, "Equity curve");

        let trades = gio::ListStore::new::<glib::BoxedAnyObject>();
        let view = gtk::ColumnView::new(Some(gtk::NoSelection::new(Some(trades.clone()))));
        view.set_widget_name("scripts-trades");
        view.add_css_class("data-table");
        view.set_reorderable(false);
        let column = |title: &str, numeric: bool, text: fn(&BacktestTrade) -> String| {
            text_column(title, numeric, move |o| {
                trade(o).map(|t| (text(&t), None)).unwrap_or_default()
            })
        };
        view.append_column(&column("#", true, |t| t.seq.to_string()));
        let time = column("Time", false, |t| {
            t.time
                .with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        });
        time.set_expand(true);
        view.append_column(&time);
        view.append_column(&column("Side", false, |t| {
            let side = t.side.as_str().to_owned();
            if t.tag.is_empty() {
                side
            } else {
                format!("{side} ({})", t.tag)
            }
        }));
        let symbol_column = column("Symbol", false, |t| t.symbol.clone());
        symbol_column.set_expand(true);
        view.append_column(&symbol_column);
        view.append_column(&column("Quantity", true, |t| quantity(Some(t.quantity))));
        view.append_column(&column("Price", true, |t| price(Some(t.price))));
        view.append_column(&column("Commission", true, |t| money(Some(t.commission))));
        let table = gtk::ScrolledWindow::builder()
            .child(&view)
            .min_content_height(110)
            .vexpand(true)
            .build();
        let split = gtk::Paned::builder()
            .orientation(gtk::Orientation::Vertical)
            .start_child(&chart)
            .end_child(&table)
            .resize_start_child(true)
            .resize_end_child(true)
            .shrink_start_child(false)
            .shrink_end_child(false)
            .vexpand(true)
            .build();

        let widget = gtk::Box::new(gtk::Orientation::Vertical, 0);
        widget.append(&bar);
        widget.append(&status);
        widget.append(&grid);
        widget.append(&split);

        let tab = Self {
            widget,
            symbol,
            source,
            file,
            from,
            to,
            cash,
            run,
            spinner,
            status,
            stats,
            chart,
            trades,
            csv: Rc::default(),
            chooser: Rc::default(),
        };
        let file = tab.file.clone();
        tab.source
            .connect_selected_notify(move |d| file.set_visible(d.selected() == 0));
        let (csv, chooser, button) = (tab.csv.clone(), tab.chooser.clone(), tab.file.clone());
        tab.file
            .connect_clicked(move |_| choose(&button, csv.clone(), chooser.clone()));
        tab
    }

    /// Uses `path` as the CSV file of bars.
    pub fn set_csv(&self, path: Option<PathBuf>) {
        show_file(&self.file, path.as_ref());
        self.csv.replace(path);
        self.source.set_selected(0);
    }

    /// The request the controls describe, or what is wrong with them.
    pub fn request(
        &self,
        request: u64,
        name: &str,
        source: &str,
        params: ParamValues,
    ) -> Result<BacktestRequest, String> {
        let symbol = self.symbol.text().trim().to_uppercase();
        if symbol.is_empty() {
            return Err("choose a symbol to test on".into());
        }
        let bars = match SOURCES.get(self.source.selected() as usize) {
            Some((_, Some(bar_seconds))) => BarSource::Database {
                bar_seconds: *bar_seconds,
            },
            _ => BarSource::Csv(
                self.csv
                    .borrow()
                    .clone()
                    .ok_or("choose the CSV file of bars")?,
            ),
        };
        let (from, to) = (date(&self.from, "From")?, date(&self.to, "To")?);
        if let (Some(f), Some(t)) = (from, to)
            && f > t
        {
            return Err(format!("From ({f}) is after To ({t})"));
        }
        let cash_text = self.cash.text();
        let initial_cash = match cash_text.trim().replace(',', "").parse::<Decimal>() {
            Ok(c) if c > Decimal::ZERO => c,
            _ => {
                return Err(format!(
                    "Cash: expected a positive amount, got `{cash_text}`"
                ));
            }
        };
        Ok(BacktestRequest {
            request,
            name: name.to_owned(),
            source: source.to_owned(),
            params,
            symbol,
            bars,
            from,
            to,
            initial_cash,
        })
    }

    pub fn set_running(&self, running: bool) {
        self.spinner.set_spinning(running);
        self.run.set_sensitive(!running);
        if running {
            self.status.remove_css_class("error");
            self.status.add_css_class("dim-label");
            self.status.set_text("Running the backtest…");
        }
    }

    pub fn show(&self, outcome: &BacktestOutcome) {
        self.set_running(false);
        let s = &outcome.stats;
        let values = [
            money(Some(s.net_pnl)),
            percent(Some(s.return_pct)),
            money(Some(s.final_equity)),
            format!(
                "{} ({:.2} %)",
                money(Some(s.max_drawdown)),
                -s.max_drawdown_pct.round_dp(2)
            ),
            s.sharpe
                .map_or("—".into(), |v| format!("{:.2}", v.round_dp(2))),
            s.trade_count.to_string(),
            format!("{:.1} %", (s.exposure * Decimal::ONE_HUNDRED).round_dp(1)),
            money(Some(s.total_commission)),
        ];
        for (label, value) in self.stats.iter().zip(values) {
            label.set_text(&value);
        }
        for (label, class) in [(&self.stats[0], s.net_pnl), (&self.stats[1], s.return_pct)] {
            label.remove_css_class("success");
            label.remove_css_class("error");
            if let Some(c) = super::super::watchlist::format::trend_class(Some(class)) {
                label.add_css_class(c);
            }
        }
        let stored = match &outcome.saved {
            Ok(id) => format!("stored as backtest #{id}"),
            Err(why) => format!("not stored: {why}"),
        };
        self.status.remove_css_class("error");
        self.status.add_css_class("dim-label");
        // `to` is the end of the last bar: say the day of its start.
        let last = outcome.equity.last().map_or(outcome.to, |(t, _)| *t);
        self.status.set_text(&format!(
            "{} · {} bars from {} to {} · {stored}",
            outcome.symbol,
            s.bar_count,
            outcome.from.format("%Y-%m-%d"),
            last.format("%Y-%m-%d"),
        ));
        let curve = Curve::of(outcome);
        crate::gui::a11y::set_description(
            &self.chart,
            &format!(
                "{}: equity from {} to {}, {} trades",
                outcome.symbol,
                money(Some(s.initial_cash)),
                money(Some(s.final_equity)),
                s.trade_count
            ),
        );
        self.chart.set_curve(curve);
        let rows: Vec<glib::Object> = outcome
            .trades
            .iter()
            .map(|t| glib::BoxedAnyObject::new(t.clone()).upcast())
            .collect();
        self.trades.splice(0, self.trades.n_items(), &rows);
    }

    pub fn failed(&self, failure: &BacktestFailure) {
        self.set_running(false);
        self.refuse(&failure.error.to_string());
    }

    /// Says why the backtest cannot run (or did not).
    pub fn refuse(&self, why: &str) {
        self.status.remove_css_class("dim-label");
        self.status.add_css_class("error");
        self.status.set_text(why);
    }

    pub fn trade_count(&self) -> u32 {
        self.trades.n_items()
    }

    /// What is restored with the layout.
    pub fn saved_state(&self) -> serde_json::Value {
        serde_json::json!({
            "symbol": self.symbol.text().as_str(),
            "source": self.source.selected(),
            "csv": self.csv.borrow().as_ref().map(|p| p.display().to_string()),
            "from": self.from.text().as_str(),
            "to": self.to.text().as_str(),
            "cash": self.cash.text().as_str(),
        })
    }

    pub fn restore(&self, saved: &serde_json::Value) {
        let text = |key: &str| saved.get(key).and_then(|v| v.as_str()).map(str::to_owned);
        if let Some(path) = text("csv") {
            self.set_csv(Some(path.into()));
        }
        for (key, entry) in [
            ("symbol", &self.symbol),
            ("from", &self.from),
            ("to", &self.to),
            ("cash", &self.cash),
        ] {
            if let Some(value) = text(key) {
                entry.set_text(&value);
            }
        }
        if let Some(source) = saved.get("source").and_then(|v| v.as_u64()) {
            self.source.set_selected(u32::try_from(source).unwrap_or(0));
        }
    }
}

fn show_file(button: &gtk::Button, path: Option<&PathBuf>) {
    match path {
        Some(path) => {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            button.set_label(&name);
            button.set_tooltip_text(Some(&format!("Bars from {}", path.display())));
        }
        None => {
            button.set_label("Choose a file…");
            button.set_tooltip_text(Some(
                "The CSV file of bars: time,open,high,low,close,volume",
            ));
        }
    }
}

/// Asks for the CSV file through the desktop's file chooser.
fn choose(
    button: &gtk::Button,
    csv: Rc<RefCell<Option<PathBuf>>>,
    holder: Rc<RefCell<Option<gtk::FileChooserNative>>>,
) {
    let window = button.root().and_downcast::<gtk::Window>();
    let chooser = gtk::FileChooserNative::new(
        Some("Bars for the backtest"),
        window.as_ref(),
        gtk::FileChooserAction::Open,
        Some("_Open"),
        Some("_Cancel"),
    );
    let filter = gtk::FileFilter::new();
    filter.set_name(Some("Bars (CSV)"));
    filter.add_pattern("*.csv");
    chooser.add_filter(&filter);
    let (button, kept) = (button.clone(), holder.clone());
    chooser.connect_response(move |chooser, response| {
        if response == gtk::ResponseType::Accept
            && let Some(path) = chooser.file().and_then(|f| f.path())
        {
            show_file(&button, Some(&path));
            csv.replace(Some(path));
        }
        kept.replace(None);
    });
    chooser.show();
    holder.replace(Some(chooser));
}
