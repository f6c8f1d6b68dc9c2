//! The Run tab: what a run on paper or live receives (symbols, bar length, the account chosen
//! in the header), Run / Stop / Reload, where the run stands, and the console.

use adw::prelude::*;
use tickwork_core::scripting::strategy::ParamValues;

use super::console::Console;
use crate::gui::boundary::{RunMode, RunRequest, RunStatus};

const BARS: [(&str, i32); 4] = [
    ("1 minute", 60),
    ("5 minutes", 300),
    ("1 hour", 3_600),
    ("1 day", 86_400),
];

pub struct RunTab {
    pub widget: gtk::Box,
    pub symbols: gtk::Entry,
    pub bars: gtk::DropDown,
    pub keep_state: gtk::CheckButton,
    pub status: gtk::Label,
    pub console: Console,
}

fn button(label: &str, name: &str, action: &str, tooltip: &str) -> gtk::Button {
    let button = gtk::Button::with_mnemonic(label);
    button.set_widget_name(name);
    button.set_action_name(Some(action));
    button.set_tooltip_text(Some(tooltip));
    button
}

impl RunTab {
    pub fn new() -> Self {
        let symbols = gtk::Entry::builder()
            .placeholder_text("AAPL, MSFT")
            .tooltip_text("Symbols the strategy receives bars and ticks of, comma separated")
            .width_chars(14)
            .build();
        symbols.set_widget_name("scripts-run-symbols");
        let names: Vec<&str> = BARS.iter().map(|(n, _)| *n).collect();
        let bars = gtk::DropDown::from_strings(&names);
        bars.set_widget_name("scripts-run-bars");
        bars.set_tooltip_text(Some("Length of the bars on_bar receives"));
        let keep_state = gtk::CheckButton::with_mnemonic("_Keep state on reload");
        keep_state.set_active(true);
        keep_state.set_widget_name("scripts-keep-state");
        keep_state.set_tooltip_text(Some(
            "A reload keeps the running instance's state map (off: it starts afresh)",
        ));
        let paper = button(
            "Run on _paper",
            "scripts-run-paper",
            "scripts.run-paper",
            "Run the script against the simulated book",
        );
        paper.add_css_class("suggested-action");
        let live = button(
            "Run _live…",
            "scripts-run-live",
            "scripts.run-live",
            "Run the script with real orders on the account chosen in the header",
        );
        live.add_css_class("destructive-action");
        let stop = button(
            "_Stop",
            "scripts-stop",
            "scripts.stop",
            "Stop the running instance (on_stop is called)",
        );
        let reload = button(
            "_Reload",
            "scripts-reload",
            "scripts.reload",
            "Replace the running instance's script with this text; if it does not compile the \
             old version goes on",
        );
        let buttons = gtk::Box::new(gtk::Orientation::Horizontal, 6);
        for b in [&paper, &live, &stop, &reload] {
            buttons.append(b);
        }
        let bar = super::form_grid(&[
            vec![
                (Some("S_ymbols"), symbols.clone().upcast()),
                (Some("Ba_rs"), bars.clone().upcast()),
                (None, keep_state.clone().upcast()),
            ],
            vec![(None, buttons.upcast())],
        ]);
        let status = gtk::Label::new(Some("Not running."));
        status.set_widget_name("scripts-run-status");
        status.set_xalign(0.0);
        status.set_wrap(true);
        status.set_selectable(true);
        status.add_css_class("dim-label");
        status.set_margin_start(8);
        status.set_margin_end(8);
        let console = Console::new();
        let widget = gtk::Box::new(gtk::Orientation::Vertical, 0);
        widget.append(&bar);
        widget.append(&status);
        widget.append(&console.widget);
        Self {
            widget,
            symbols,
            bars,
            keep_state,
            status,
            console,
        }
    }

    /// The run the controls describe, or what is missing.
    pub fn request(
        &self,
        name: &str,
        source: &str,
        params: ParamValues,
        account: Option<String>,
        mode: RunMode,
    ) -> Result<RunRequest, String> {
        let symbols: Vec<String> = self
            .symbols
            .text()
            .split([',', ' '])
            .map(|s| s.trim().to_uppercase())
            .filter(|s| !s.is_empty())
            .collect();
        if symbols.is_empty() {
            return Err("name the symbols the strategy trades".into());
        }
        let account = account
            .ok_or("choose the account in the header first (connect to TWS or start the demo)")?;
        let bar_seconds = BARS
            .get(self.bars.selected() as usize)
            .map_or(60, |(_, s)| *s);
        Ok(RunRequest {
            name: name.to_owned(),
            source: source.to_owned(),
            params,
            account,
            mode,
            symbols,
            bar_seconds,
            grant: false,
        })
    }

    /// Shows where the run stands.
    pub fn show_status(&self, status: &RunStatus) {
        let (text, error) = match status {
            RunStatus::Running {
                name,
                mode,
                account,
                content_sha256,
            } => (
                format!(
                    "Running {name} on {} ({account}) · content {}",
                    mode.as_str(),
                    &content_sha256[..content_sha256.len().min(12)]
                ),
                false,
            ),
            RunStatus::Stopped => ("Stopped.".into(), false),
            RunStatus::Faulted(error) => {
                (format!("Faulted at {error}; the strategy is stopped"), true)
            }
            RunStatus::ReloadFailed(error) => (
                format!("Not reloaded: {error}. The previous version keeps running."),
                true,
            ),
            RunStatus::Reloaded { content_sha256 } => (
                format!(
                    "Reloaded · content {}",
                    &content_sha256[..content_sha256.len().min(12)]
                ),
                false,
            ),
            RunStatus::Refused(why) => (format!("Not started: {why}"), true),
        };
        self.status.set_text(&text);
        if error {
            self.status.remove_css_class("dim-label");
            self.status.add_css_class("error");
        } else {
            self.status.remove_css_class("error");
            self.status.add_css_class("dim-label");
        }
    }
}
