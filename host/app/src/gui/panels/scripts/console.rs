//! The console: what scripts print (runs and backtests) and what the panel says about runs,
//! each line with its local time, monospace, following the newest line.

use chrono::{DateTime, Local, Utc};
use gtk::prelude::*;

/// Older lines are dropped past this many.
const MAX_LINES: i32 = 5_000;

#[derive(Clone)]
pub struct Console {
    pub widget: gtk::Box,
    view: gtk::TextView,
    scrolled: gtk::ScrolledWindow,
}

impl Console {
    pub fn new() -> Self {
        let view = gtk::TextView::builder()
            .editable(false)
            .cursor_visible(false)
            .monospace(true)
            .wrap_mode(gtk::WrapMode::WordChar)
            .left_margin(6)
            .right_margin(6)
            .top_margin(4)
            .bottom_margin(4)
            .build();
        view.set_widget_name("scripts-console");
        crate::gui::a11y::set_label(&view, "Script console");
        let scrolled = gtk::ScrolledWindow::builder()
            .child(&view)
            .vexpand(true)
            .hexpand(true)
            .min_content_height(80)
            .build();
        let clear = gtk::Button::from_icon_name("edit-clear-all-symbolic");
        clear.set_tooltip_text(Some("Clear the console"));
        clear.set_widget_name("scripts-console-clear");
        clear.add_css_class("flat");
        clear.set_halign(gtk::Align::End);
        clear.set_valign(gtk::Align::Start);
        clear.set_margin_end(14);
        clear.set_margin_top(2);
        let overlay = gtk::Overlay::new();
        overlay.set_child(Some(&scrolled));
        overlay.add_overlay(&clear);
        let title = gtk::Label::new(Some("Console"));
        title.add_css_class("heading");
        title.set_xalign(0.0);
        title.set_margin_start(6);
        title.set_margin_top(6);
        title.set_margin_bottom(4);
        let widget = gtk::Box::new(gtk::Orientation::Vertical, 0);
        widget.append(&title);
        widget.append(&overlay);
        let console = Self {
            widget,
            view,
            scrolled,
        };
        let buffer = console.view.buffer();
        clear.connect_clicked(move |_| buffer.set_text(""));
        console
    }

    /// Appends `lines` printed at `time`.
    pub fn append(&self, time: DateTime<Utc>, lines: &[String]) {
        let buffer = self.view.buffer();
        let stamp = time.with_timezone(&Local).format("%H:%M:%S");
        let follow = self.at_end();
        for line in lines {
            let mut end = buffer.end_iter();
            buffer.insert(&mut end, &format!("{stamp}  {line}\n"));
        }
        let excess = buffer.line_count() - MAX_LINES;
        if excess > 0 {
            let mut start = buffer.start_iter();
            if let Some(mut cut) = buffer.iter_at_line(excess) {
                buffer.delete(&mut start, &mut cut);
            }
        }
        if follow {
            let mark = buffer.get_insert();
            buffer.place_cursor(&buffer.end_iter());
            self.view.scroll_mark_onscreen(&mark);
        }
    }

    /// A line of the panel's own (a run started, a backtest began), stamped now.
    pub fn note(&self, line: &str) {
        self.append(Utc::now(), &[format!("— {line}")]);
    }

    /// Whether the newest line is in view (then new lines keep it so).
    fn at_end(&self) -> bool {
        let adj = self.scrolled.vadjustment();
        adj.value() + adj.page_size() >= adj.upper() - 4.0
    }

    /// The whole text (the tests read it).
    pub fn text(&self) -> String {
        let buffer = self.view.buffer();
        buffer
            .text(&buffer.start_iter(), &buffer.end_iter(), false)
            .to_string()
    }
}
