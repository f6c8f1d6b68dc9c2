//! The panel's widgets: a top bar (what is shown, the colour metric), an empty state, and a
//! grid of right-aligned numbers coloured by heat level. Every cell and control carries an
//! accessible name; CSS classes are prefixed with the plugin's id, since a style provider is
//! process-wide.

use gtk::prelude::*;
use tickwork_plugin_api::sdk::gtk;
use tickwork_plugin_api::sdk::panel::set_accessible_label;

use crate::chain::{Chain, Metric, Quote, Row, Side};

/// Prefix of every CSS class this plugin defines.
const CSS: &str = "org-tickwork-example-chain-heatmap";

/// Colours of the five levels: spread cool to hot; change down to up.
const SPREAD_COLOURS: [&str; 5] = ["#d7f0dc", "#eef5c8", "#fff3b0", "#ffd59e", "#f6a6a0"];
const CHANGE_COLOURS: [&str; 5] = ["#f6a6a0", "#fbd3cf", "#ececec", "#cfe9d3", "#98d3a4"];

fn install_css() {
    let mut css = format!(
        ".{CSS}-num {{ font-feature-settings: \"tnum\"; padding: 2px 8px; }}\n\
         .{CSS}-head {{ font-weight: bold; padding: 2px 8px; }}\n\
         .{CSS}-strike {{ font-weight: bold; background-color: #dfe6ee; color: #1d2733; }}\n"
    );
    for (i, c) in SPREAD_COLOURS.iter().enumerate() {
        css.push_str(&format!(
            ".{CSS}-spread-{i} {{ background-color: {c}; color: #1b1b1b; }}\n"
        ));
    }
    for (i, c) in CHANGE_COLOURS.iter().enumerate() {
        css.push_str(&format!(
            ".{CSS}-change-{i} {{ background-color: {c}; color: #1b1b1b; }}\n"
        ));
    }
    let provider = gtk::CssProvider::new();
    provider.load_from_data(&css);
    if let Some(display) = gtk::gdk::Display::default() {
        gtk::style_context_add_provider_for_display(
            &display,
            &provider,
            gtk::STYLE_PROVIDER_PRIORITY_APPLICATION,
        );
    }
}

/// The three cells of one side of a row: bid, ask, metric.
struct SideCells([gtk::Label; 3]);

struct RowCells {
    call: SideCells,
    put: SideCells,
}

/// The widgets, and the cells of the chain shown.
pub struct View {
    pub root: gtk::Box,
    pub header: gtk::Label,
    pub metric: gtk::DropDown,
    stack: gtk::Stack,
    pub empty: gtk::Label,
    grid: gtk::Grid,
    legend: gtk::Label,
    metric_heads: Vec<gtk::Label>,
    rows: Vec<RowCells>,
}

fn num_label(text: &str) -> gtk::Label {
    let l = gtk::Label::new(Some(text));
    l.set_xalign(1.0);
    l.set_hexpand(true);
    l.add_css_class(&format!("{CSS}-num"));
    l
}

/// What the colours mean for `metric`.
fn legend_text(metric: Metric) -> &'static str {
    match metric {
        Metric::Spread => {
            "Green: tight market (spread under 1% of the mid) · red: wide (10% or more)"
        }
        Metric::Change => "Red: mid down 2% or more since the panel opened · green: up 2% or more",
    }
}

/// The text of a number cell: two decimals, an em dash when unknown.
pub fn cell_text(value: Option<rust_decimal::Decimal>) -> String {
    value.map_or_else(|| "—".to_owned(), |v| format!("{:.2}", v.round_dp(2)))
}

impl View {
    pub fn new(underlying: &str) -> View {
        install_css();
        let root = gtk::Box::new(gtk::Orientation::Vertical, 6);
        root.set_margin_top(6);
        root.set_margin_bottom(6);
        root.set_margin_start(6);
        root.set_margin_end(6);

        let bar = gtk::Box::new(gtk::Orientation::Horizontal, 6);
        let header = gtk::Label::new(Some(&format!("{underlying} option chain")));
        header.set_xalign(0.0);
        header.set_hexpand(true);
        bar.append(&header);
        let colour_by = gtk::Label::new(Some("Colour by"));
        bar.append(&colour_by);
        let metric = gtk::DropDown::from_strings(&[Metric::Spread.label(), Metric::Change.label()]);
        metric.set_tooltip_text(Some("Colour by"));
        set_accessible_label(&metric, "Colour by");
        bar.append(&metric);
        root.append(&bar);

        let empty = gtk::Label::new(Some(&format!("Waiting for a {underlying} quote…")));
        empty.set_wrap(true);
        empty.set_vexpand(true);
        empty.add_css_class("dim-label");
        let grid = gtk::Grid::new();
        grid.set_row_spacing(1);
        grid.set_column_spacing(1);
        set_accessible_label(&grid, &format!("{underlying} option chain heat map"));
        let scroller = gtk::ScrolledWindow::new();
        scroller.set_child(Some(&grid));
        scroller.set_vexpand(true);
        let stack = gtk::Stack::new();
        stack.add_named(&empty, Some("empty"));
        stack.add_named(&scroller, Some("chain"));
        stack.set_visible_child_name("empty");
        root.append(&stack);
        let legend = gtk::Label::new(Some(legend_text(Metric::Spread)));
        legend.set_xalign(0.0);
        legend.set_wrap(true);
        legend.add_css_class("dim-label");
        root.append(&legend);

        View {
            root,
            header,
            metric,
            stack,
            empty,
            grid,
            legend,
            metric_heads: Vec::new(),
            rows: Vec::new(),
        }
    }

    /// The metric the drop-down selects.
    pub fn selected_metric(&self) -> Metric {
        if self.metric.selected() == 1 {
            Metric::Change
        } else {
            Metric::Spread
        }
    }

    /// Shows a message instead of the chain (waiting, or why there is nothing).
    pub fn show_empty(&self, message: &str) {
        self.empty.set_text(message);
        self.stack.set_visible_child_name("empty");
    }

    /// Whether the chain (not the empty state) is shown.
    pub fn showing_chain(&self) -> bool {
        self.stack.visible_child_name().as_deref() == Some("chain")
    }

    /// Builds the grid for `chain` and shows it.
    pub fn show_chain(&mut self, chain: &Chain, metric: Metric) {
        while let Some(child) = self.grid.first_child() {
            self.grid.remove(&child);
        }
        self.metric_heads.clear();
        self.rows.clear();
        let metric_word = metric_word(metric);
        let heads = [
            "Call bid".to_owned(),
            "Call ask".to_owned(),
            format!("Call {metric_word}"),
            "Strike".to_owned(),
            "Put bid".to_owned(),
            "Put ask".to_owned(),
            format!("Put {metric_word}"),
        ];
        for (col, text) in heads.iter().enumerate() {
            let l = gtk::Label::new(Some(text));
            l.set_xalign(if col == 3 { 0.5 } else { 1.0 });
            l.add_css_class(&format!("{CSS}-head"));
            self.grid.attach(&l, col as i32, 0, 1, 1);
            if col == 2 || col == 6 {
                self.metric_heads.push(l);
            }
        }
        for (i, row) in chain.rows.iter().enumerate() {
            let r = i as i32 + 1;
            let side = |first_col: i32| {
                let cells = [num_label(""), num_label(""), num_label("")];
                for (k, c) in cells.iter().enumerate() {
                    self.grid.attach(c, first_col + k as i32, r, 1, 1);
                }
                SideCells(cells)
            };
            let call = side(0);
            let strike = num_label(&row.strike.normalize().to_string());
            strike.set_xalign(0.5);
            strike.add_css_class(&format!("{CSS}-strike"));
            set_accessible_label(&strike, &format!("Strike {}", row.strike.normalize()));
            self.grid.attach(&strike, 3, r, 1, 1);
            let put = side(4);
            self.rows.push(RowCells { call, put });
            self.update_row(chain, i, metric);
        }
        self.header.set_text(&format!(
            "{} option chain · expiry {}",
            chain.underlying,
            chain.expiry.format("%Y-%m-%d")
        ));
        self.stack.set_visible_child_name("chain");
    }

    /// Refreshes one row's numbers, colours and accessible names.
    pub fn update_row(&self, chain: &Chain, index: usize, metric: Metric) {
        let (Some(cells), Some(row)) = (self.rows.get(index), chain.rows.get(index)) else {
            return;
        };
        for side in [Side::Call, Side::Put] {
            let c = match side {
                Side::Call => &cells.call,
                Side::Put => &cells.put,
            };
            fill_side(c, chain, row, side, metric);
        }
    }

    /// Recolours every row for `metric` and renames the metric columns.
    pub fn recolour(&self, chain: &Chain, metric: Metric) {
        self.legend.set_text(legend_text(metric));
        for (i, head) in self.metric_heads.iter().enumerate() {
            let side = if i == 0 { "Call" } else { "Put" };
            head.set_text(&format!("{side} {}", metric_word(metric)));
        }
        for i in 0..self.rows.len() {
            self.update_row(chain, i, metric);
        }
    }
}

fn metric_word(metric: Metric) -> &'static str {
    match metric {
        Metric::Spread => "spread %",
        Metric::Change => "chg %",
    }
}

fn metric_class(metric: Metric) -> &'static str {
    match metric {
        Metric::Spread => "spread",
        Metric::Change => "change",
    }
}

/// The accessible name of a cell: `SPY 20261218 C 600 bid 12.30`.
pub fn cell_name(chain: &Chain, row: &Row, side: Side, what: &str, text: &str) -> String {
    let symbol = crate::chain::option_symbol(&chain.underlying, chain.expiry, side, row.strike);
    if row.id(side).is_none() {
        format!("{symbol} {what}: not available")
    } else {
        format!("{symbol} {what} {text}")
    }
}

fn fill_side(cells: &SideCells, chain: &Chain, row: &Row, side: Side, metric: Metric) {
    let q: &Quote = row.quote(side);
    let texts = if row.id(side).is_none() {
        ["n/a".to_owned(), "n/a".to_owned(), "n/a".to_owned()]
    } else {
        [
            cell_text(q.bid),
            cell_text(q.ask),
            cell_text(q.percent(metric)),
        ]
    };
    let whats = ["bid", "ask", metric_word(metric)];
    let level = q.level(metric);
    for ((label, text), what) in cells.0.iter().zip(&texts).zip(whats) {
        label.set_text(text);
        set_accessible_label(label, &cell_name(chain, row, side, what, text));
        for m in ["spread", "change"] {
            for l in 0..5 {
                label.remove_css_class(&format!("{CSS}-{m}-{l}"));
            }
        }
        if let Some(l) = level {
            label.add_css_class(&format!("{CSS}-{}-{l}", metric_class(metric)));
        }
    }
}
