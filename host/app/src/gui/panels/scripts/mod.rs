//! The Scripts panel: strategies in Rhai, written, checked, backtested and run.
//!
//! Left, the stored scripts (New, Open example, Delete); in the middle, the editor with Rhai
//! highlighting and the error of the last check marked at its line and column (checks run
//! 0.6 s after typing stops, and at once with Ctrl+Return); right, the parameters the script
//! declares, the Run tab (paper or live, stop, hot reload, console) and the Backtest tab
//! (statistics, equity curve with trades, trades table). Everything the core does — compiling,
//! storing, backtesting, running — goes through [`ScriptsCommand`]s.

mod actions;
mod backtest;
mod console;
mod equity;
mod library;
mod params;
mod run;
mod source;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use adw::prelude::*;
use gtk::{gio, glib};
use tickwork_core::scripting::ScriptError;

use super::{Panel, PanelContext, PanelEvent, PanelProvider, WindowRequest};
use crate::gui::boundary::{CheckedScript, Notification, RunStatus, ScriptsCommand, ScriptsEvent};
pub use library::{EXAMPLES, example};

pub fn provider() -> PanelProvider {
    PanelProvider {
        id: "scripts".into(),
        title: "Scripts".into(),
        icon: "application-x-executable-symbolic".into(),
        description: "Strategies in Rhai: edit, check, backtest, run on paper or live".into(),
        multiple: false,
        build: Rc::new(|ctx| Box::new(ScriptsPanel::new(ctx))),
    }
}

/// Typing pauses this long before the script is checked.
const CHECK_DELAY: Duration = Duration::from_millis(600);

/// What a new script starts as.
const TEMPLATE: &str = "// A new strategy: see the Scripting guide and the examples.\n\
fn params() {\n    #{ qty: 100 }\n}\n\n\
fn on_bar(ctx, bar) {\n    print(`${bar.time} ${bar.symbol} ${bar.close}`);\n}\n";

pub struct ScriptsPanel {
    inner: Rc<Inner>,
}

struct Inner {
    ctx: PanelContext,
    root: gtk::Paned,
    library: library::Library,
    editor: source::Editor,
    name: gtk::Entry,
    message: gtk::Label,
    params: params::ParamsForm,
    tabs: gtk::Notebook,
    run: run::RunTab,
    backtest: backtest::BacktestTab,
    actions: gio::SimpleActionGroup,
    state: RefCell<State>,
}

#[derive(Default)]
struct State {
    /// The stored script the editor shows (`None`: new, or an example not saved yet).
    stored: Option<String>,
    /// Changed since opened or saved.
    dirty: bool,
    /// The text is being replaced by the panel, not typed.
    loading: bool,
    check_request: u64,
    /// Move the cursor to the error of the last check when it comes (Ctrl+Return).
    reveal: bool,
    /// The answer to the last check of the current text.
    checked: Option<Result<CheckedScript, ScriptError>>,
    debounce: Option<glib::SourceId>,
    backtest_request: u64,
    /// The running instance, if any.
    instance: Option<String>,
    /// The script asked to be opened from the database.
    loading_name: Option<String>,
}

impl ScriptsPanel {
    pub fn new(ctx: PanelContext) -> Self {
        let library = library::Library::new();
        let editor = source::Editor::new();

        let name = gtk::Entry::builder()
            .placeholder_text("Script name")
            .tooltip_text("The name the script is saved under")
            .width_chars(16)
            .build();
        name.set_widget_name("scripts-name");
        let check = gtk::Button::with_mnemonic("_Check");
        check.set_widget_name("scripts-check");
        check.set_action_name(Some("scripts.check"));
        check.set_tooltip_text(Some(
            "Compile the script and mark its first error (Ctrl+Return)",
        ));
        let save = gtk::Button::with_mnemonic("_Save");
        save.set_widget_name("scripts-save");
        save.set_action_name(Some("scripts.save"));
        save.set_tooltip_text(Some("Save the script to the database (Ctrl+S)"));
        let bar = gtk::Box::new(gtk::Orientation::Horizontal, 6);
        bar.set_margin_top(6);
        bar.set_margin_bottom(6);
        bar.set_margin_start(6);
        bar.set_margin_end(6);
        name.set_hexpand(true);
        bar.append(&name);
        bar.append(&check);
        bar.append(&save);

        let message = gtk::Label::new(None);
        message.set_widget_name("scripts-message");
        message.set_xalign(0.0);
        message.set_wrap(true);
        message.set_selectable(true);
        message.set_margin_start(8);
        message.set_margin_end(8);
        message.set_margin_bottom(4);
        let scrolled = gtk::ScrolledWindow::builder()
            .child(&editor.view)
            .vexpand(true)
            .hexpand(true)
            .build();
        let editing = gtk::Box::new(gtk::Orientation::Vertical, 0);
        editing.append(&bar);
        editing.append(&message);
        editing.append(&gtk::Separator::new(gtk::Orientation::Horizontal));
        editing.append(&scrolled);

        let params = params::ParamsForm::new();
        let run = run::RunTab::new();
        let backtest = backtest::BacktestTab::new();
        let tabs = gtk::Notebook::new();
        tabs.set_widget_name("scripts-tabs");
        tabs.append_page(
            &backtest.widget,
            Some(&gtk::Label::with_mnemonic("_Backtest")),
        );
        tabs.append_page(
            &run.widget,
            Some(&gtk::Label::with_mnemonic("R_un & console")),
        );
        tabs.set_vexpand(true);
        name_tabs(&tabs, &["Backtest", "Run and console"]);
        let side = gtk::Box::new(gtk::Orientation::Vertical, 0);
        side.append(&params.widget);
        side.append(&tabs);

        let work = gtk::Paned::builder()
            .orientation(gtk::Orientation::Horizontal)
            .start_child(&editing)
            .end_child(&side)
            .shrink_start_child(false)
            .shrink_end_child(false)
            .position(520)
            .build();
        let root = gtk::Paned::builder()
            .orientation(gtk::Orientation::Horizontal)
            .start_child(&library.widget)
            .end_child(&work)
            .shrink_start_child(false)
            .resize_start_child(false)
            .position(165)
            .build();
        root.set_widget_name("scripts-panel");

        let inner = Rc::new(Inner {
            ctx,
            root,
            library,
            editor,
            name,
            message,
            params,
            tabs,
            run,
            backtest,
            actions: gio::SimpleActionGroup::new(),
            state: RefCell::default(),
        });
        actions::install(&inner);
        inner.connect();
        inner.restore();
        Self { inner }
    }
}

impl Inner {
    fn connect(self: &Rc<Self>) {
        let weak = Rc::downgrade(self);
        self.editor.buffer.connect_changed(move |_| {
            if let Some(inner) = weak.upgrade() {
                inner.edited();
            }
        });
        let weak = Rc::downgrade(self);
        self.library.list.connect_row_activated(move |_, row| {
            if let Some(inner) = weak.upgrade()
                && let Some(name) = inner.library.name_at(row.index())
            {
                inner.open_stored(name);
            }
        });
        let weak = Rc::downgrade(self);
        self.name.connect_changed(move |_| {
            if let Some(inner) = weak.upgrade() {
                inner.ctx.request(WindowRequest::LayoutChanged);
            }
        });
        let weak = Rc::downgrade(self);
        self.root.connect_map(move |_| {
            if let Some(inner) = weak.upgrade() {
                inner.ctx.commands.send(ScriptsCommand::List);
                inner.ctx.commands.send(ScriptsCommand::Instances);
            }
        });
    }

    /// Opens what the layout remembered: a stored script, an example, or a new script.
    fn restore(self: &Rc<Self>) {
        let saved = self.ctx.saved.clone().unwrap_or_default();
        if let Some(backtest) = saved.get("backtest") {
            self.backtest.restore(backtest);
        }
        let text = |key: &str| saved.get(key).and_then(|v| v.as_str()).map(str::to_owned);
        match (text("stored"), text("example")) {
            (Some(name), _) => {
                self.open_text("", TEMPLATE, None);
                self.open_stored(name);
            }
            (None, Some(name)) if example(&name).is_some() => self.open_example(&name),
            _ => self.open_text("", TEMPLATE, None),
        }
        self.update_actions();
    }

    /// Replaces the editor's text (after any confirmation).
    fn open_text(self: &Rc<Self>, name: &str, text: &str, stored: Option<String>) {
        {
            let mut state = self.state.borrow_mut();
            state.loading = true;
            state.stored = stored.clone();
            state.checked = None;
        }
        self.editor.set_text(text);
        self.name.set_text(name);
        {
            let mut state = self.state.borrow_mut();
            state.loading = false;
            state.dirty = false;
        }
        self.library.select(stored.as_deref());
        self.check_now(false);
        self.update_actions();
        self.ctx.request(WindowRequest::LayoutChanged);
    }

    fn open_example(self: &Rc<Self>, name: &str) {
        if let Some(text) = example(name) {
            self.open_text(name, text, None);
        }
    }

    fn open_stored(self: &Rc<Self>, name: String) {
        self.state.borrow_mut().loading_name = Some(name.clone());
        self.ctx.commands.send(ScriptsCommand::Load { name });
    }

    fn edited(self: &Rc<Self>) {
        let mut state = self.state.borrow_mut();
        if state.loading {
            return;
        }
        state.dirty = true;
        state.checked = None;
        if let Some(source) = state.debounce.take() {
            source.remove();
        }
        let weak = Rc::downgrade(self);
        state.debounce = Some(glib::timeout_add_local_once(CHECK_DELAY, move || {
            if let Some(inner) = weak.upgrade() {
                inner.state.borrow_mut().debounce = None;
                inner.check_now(false);
            }
        }));
    }

    /// Sends the text to be checked; `reveal` moves the cursor to the error when it comes.
    fn check_now(&self, reveal: bool) {
        let request = {
            let mut state = self.state.borrow_mut();
            if let Some(source) = state.debounce.take() {
                source.remove();
            }
            state.check_request += 1;
            state.reveal = reveal;
            state.check_request
        };
        self.ctx.commands.send(ScriptsCommand::Check {
            request,
            name: self.script_name(),
            source: self.editor.text(),
        });
    }

    /// The name the script runs and is saved under.
    fn script_name(&self) -> String {
        let name = self.name.text().trim().to_owned();
        if name.is_empty() {
            "untitled".into()
        } else {
            name
        }
    }

    fn checked(&self, request: u64, result: &Result<CheckedScript, ScriptError>) {
        if request != self.state.borrow().check_request {
            return;
        }
        match result {
            Ok(checked) => {
                self.editor.clear_error();
                let mut text = format!(
                    "No errors · hooks: {}",
                    if checked.hooks.is_empty() {
                        "none (the script never runs)".to_owned()
                    } else {
                        checked.hooks.join(", ")
                    }
                );
                for warning in &checked.warnings {
                    text.push_str(&format!("\nWarning: {warning}"));
                }
                self.say(&text, !checked.warnings.is_empty());
                self.params.set_specs(&checked.params);
            }
            Err(error) => {
                self.show_error(error);
                if self.state.borrow().reveal {
                    self.editor.reveal(error);
                }
            }
        }
        self.state.borrow_mut().checked = Some(result.clone());
        self.update_actions();
    }

    /// Marks `error` in the editor and says it above.
    fn show_error(&self, error: &ScriptError) {
        self.editor.show_error(error);
        self.say(&error.to_string(), true);
    }

    fn say(&self, text: &str, error: bool) {
        self.message.set_text(text);
        if error {
            self.message.remove_css_class("dim-label");
            self.message.add_css_class("error");
        } else {
            self.message.remove_css_class("error");
            self.message.add_css_class("dim-label");
        }
    }

    fn toast(&self, text: impl Into<String>) {
        self.ctx.request(WindowRequest::Toast(text.into()));
    }

    /// Enables what makes sense now.
    fn update_actions(&self) {
        let state = self.state.borrow();
        let running = state.instance.is_some();
        for (name, enabled) in [
            ("delete", state.stored.is_some()),
            ("stop", running),
            ("reload", running),
        ] {
            if let Some(action) = self
                .actions
                .lookup_action(name)
                .and_downcast::<gio::SimpleAction>()
            {
                action.set_enabled(enabled);
            }
        }
    }

    fn event(self: &Rc<Self>, event: &ScriptsEvent) {
        match event {
            ScriptsEvent::Checked { request, result } => self.checked(*request, result),
            ScriptsEvent::Listed(scripts) => {
                let current = self.state.borrow().stored.clone();
                self.library.fill(scripts, current.as_deref());
            }
            ScriptsEvent::Loaded { name, source } => {
                let wanted = self.state.borrow().loading_name.as_ref() == Some(name);
                if wanted {
                    self.state.borrow_mut().loading_name = None;
                    actions::confirm_discard(self, {
                        let (name, source) = (name.clone(), source.clone());
                        move |inner| inner.open_text(&name, &source, Some(name.clone()))
                    });
                }
            }
            ScriptsEvent::Saved { name, result } => match result {
                Ok(()) => {
                    {
                        let mut state = self.state.borrow_mut();
                        state.stored = Some(name.clone());
                        state.dirty = false;
                    }
                    self.library.select(Some(name));
                    self.update_actions();
                    self.ctx.request(WindowRequest::LayoutChanged);
                    self.toast(format!("Saved {name}"));
                }
                Err(why) => self.toast(format!("{name} was not saved: {why}")),
            },
            ScriptsEvent::Deleted { name } => {
                let mut state = self.state.borrow_mut();
                if state.stored.as_ref() == Some(name) {
                    state.stored = None;
                    state.dirty = true;
                }
                drop(state);
                self.update_actions();
                self.toast(format!("Deleted {name}"));
            }
            ScriptsEvent::BacktestDone { request, result } => {
                if *request != self.state.borrow().backtest_request {
                    return;
                }
                match result {
                    Ok(outcome) => {
                        self.backtest.show(outcome);
                        self.run
                            .console
                            .append(chrono::Utc::now(), &outcome.console);
                    }
                    Err(failure) => {
                        self.backtest.failed(failure);
                        self.run
                            .console
                            .append(chrono::Utc::now(), &failure.console);
                        if failure.error.line.is_some() {
                            self.show_error(&failure.error);
                        }
                    }
                }
            }
            ScriptsEvent::Console { instance, lines } => {
                // Lines of another instance (another script, or the other mode) say whose.
                let ours = instance.is_none() || *instance == self.state.borrow().instance;
                for (time, line) in lines {
                    let line = match instance {
                        Some(id) if !ours => format!("[{id}] {line}"),
                        _ => line.clone(),
                    };
                    self.run.console.append(*time, &[line]);
                }
            }
            ScriptsEvent::Status { instance, status } => self.status(instance.clone(), status),
            ScriptsEvent::Instances(running) => {
                // Shown again: follow the instance of the script in the editor, if it runs.
                let name = self.script_name();
                if let Some(found) = running.iter().find(|i| i.name == name)
                    && self.state.borrow().instance.is_none()
                {
                    self.status(
                        Some(found.id.clone()),
                        &RunStatus::Running {
                            name: found.name.clone(),
                            mode: found.mode,
                            account: found.account.clone(),
                            content_sha256: found.content_sha256.clone(),
                        },
                    );
                }
            }
            ScriptsEvent::Granted {
                name,
                account,
                result: Err(why),
            } => self.toast(format!("{name} may not trade {account} live: {why}")),
            ScriptsEvent::Granted { .. } => {}
        }
    }

    fn status(&self, instance: Option<String>, status: &RunStatus) {
        {
            let mut state = self.state.borrow_mut();
            let ours = instance.is_none() || state.instance == instance;
            match status {
                RunStatus::Running { .. } | RunStatus::Reloaded { .. } => {
                    if instance.is_some() {
                        state.instance = instance;
                    }
                }
                RunStatus::Stopped | RunStatus::Faulted(_) if ours => state.instance = None,
                // Another instance stopped: say so in the console only.
                RunStatus::Stopped | RunStatus::Faulted(_) => {
                    let id = instance.unwrap_or_default();
                    drop(state);
                    let text = match status {
                        RunStatus::Faulted(error) => format!("{id} faulted at {error}"),
                        _ => format!("{id} stopped"),
                    };
                    self.run.console.note(&text);
                    return;
                }
                RunStatus::ReloadFailed(_) | RunStatus::Refused(_) => {}
            }
        }
        match status {
            RunStatus::Faulted(error) | RunStatus::ReloadFailed(error) => self.show_error(error),
            _ => {}
        }
        self.run.show_status(status);
        self.run.console.note(&self.run.status.text());
        self.update_actions();
    }
}

/// Names the notebook's tabs after their pages (GTK 4.8 calls every one "Tab").
fn name_tabs(notebook: &gtk::Notebook, titles: &[&str]) {
    let mut tabs = Vec::new();
    let mut stack = vec![notebook.clone().upcast::<gtk::Widget>()];
    while let Some(w) = stack.pop() {
        if w.css_name() == "tab" {
            tabs.push(w.clone());
        }
        let mut child = w.last_child();
        while let Some(c) = child {
            child = c.prev_sibling();
            stack.push(c);
        }
    }
    for (tab, title) in tabs.iter().zip(titles) {
        crate::gui::a11y::set_label(tab, title);
    }
}

/// A form laid out in a grid: each cell a control with its label before it (the label's
/// mnemonic focuses the control), or a control alone (alone on its row: across the grid). Unlike a flow box its height does not
/// depend on a width the split panes only give it later, so the panel never asks for more
/// height than the window has.
fn form_grid(rows: &[Vec<(Option<&str>, gtk::Widget)>]) -> gtk::Grid {
    let grid = gtk::Grid::builder()
        .column_spacing(8)
        .row_spacing(6)
        .margin_top(6)
        .margin_bottom(6)
        .margin_start(8)
        .margin_end(8)
        .build();
    let across = rows.iter().map(Vec::len).max().unwrap_or(1) * 2;
    let across = i32::try_from(across).unwrap_or(2);
    for (r, cells) in rows.iter().enumerate() {
        let r = i32::try_from(r).unwrap_or(0);
        let alone = cells.len() == 1;
        for (c, (label, control)) in cells.iter().enumerate() {
            let c = i32::try_from(c).unwrap_or(0) * 2;
            match label {
                Some(text) => {
                    let label = gtk::Label::with_mnemonic(text);
                    label.set_mnemonic_widget(Some(control));
                    label.add_css_class("dim-label");
                    label.set_xalign(1.0);
                    grid.attach(&label, c, r, 1, 1);
                    grid.attach(control, c + 1, r, 1, 1);
                }
                None if alone => grid.attach(control, c, r, across, 1),
                None => grid.attach(control, c, r, 2, 1),
            }
        }
    }
    grid
}

impl Panel for ScriptsPanel {
    fn widget(&self) -> gtk::Widget {
        self.inner.root.clone().upcast()
    }

    fn event(&self, event: &PanelEvent) {
        if let PanelEvent::Backend(Notification::Scripts(event)) = event {
            self.inner.event(event);
        }
    }

    fn saved_state(&self) -> Option<serde_json::Value> {
        let inner = &self.inner;
        let state = inner.state.borrow();
        let name = inner.name.text().to_string();
        let mut saved = serde_json::json!({ "backtest": inner.backtest.saved_state() });
        if let Some(stored) = &state.stored {
            saved["stored"] = stored.clone().into();
        } else if example(&name).is_some() {
            saved["example"] = name.into();
        }
        Some(saved)
    }
}

impl ScriptsPanel {
    /// The lines marked with an error now (1-based; the GUI tests read them).
    pub fn error_lines(&self) -> Vec<usize> {
        self.inner.editor.error_lines()
    }

    /// The editor's buffer (the GUI tests type into it).
    pub fn buffer(&self) -> sourceview5::Buffer {
        self.inner.editor.buffer.clone()
    }

    /// The trades shown in the Backtest tab.
    pub fn trade_count(&self) -> u32 {
        self.inner.backtest.trade_count()
    }

    /// The equity points the chart draws.
    pub fn equity_points(&self) -> usize {
        self.inner.backtest.chart.curve().points.len()
    }

    /// Uses this CSV file for the next backtest (the file chooser's answer).
    pub fn set_backtest_csv(&self, path: std::path::PathBuf) {
        self.inner.backtest.set_csv(Some(path));
    }

    /// The console's text.
    pub fn console_text(&self) -> String {
        self.inner.run.console.text()
    }

    /// Shows the Backtest (0) or Run (1) tab.
    pub fn show_tab(&self, index: u32) {
        self.inner.tabs.set_current_page(Some(index));
    }
}
