//! The main window: header bar with the session state, and the workbench overview.
//!
//! For now the overview shows what is real today — where the data lives, the schema state and
//! the size of each table — and that no TWS session is open; the panels arrive with the
//! session work.

use std::cell::{Cell, RefCell};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use adw::prelude::*;
use relm4::{ComponentParts, ComponentSender, SimpleComponent};
use tickwork_core::session::ConnectionState;
use tickwork_core::store::{DatabaseTarget, DbStatus, MigrationState};

use super::backend::{self, Notification, Running};
use super::commands::{Command, TradingState};
use super::screenshot;
use super::watchlist::Watchlist;

pub struct MainWindowInit {
    pub runtime: tokio::runtime::Handle,
    pub target: DatabaseTarget,
    pub demo: bool,
    pub screenshot: Option<PathBuf>,
    /// Where the running backend is handed back to `gui::run` for a clean shutdown.
    pub running: Arc<Mutex<Option<Running>>>,
    /// The process's exit result (a failed screenshot must fail the command).
    pub exit: Arc<Mutex<anyhow::Result<()>>>,
}

/// What the window reacts to: the backend's notifications and the trader's clicks.
#[derive(Debug)]
pub enum MainMsg {
    Backend(Notification),
    /// Arm (after a confirmation) when read-only, disarm when armed.
    ArmToggled,
    ArmConfirmed(String),
    KillClicked,
}

enum DatabaseState {
    Opening,
    Ready { describe: String, status: DbStatus },
    Failed(String),
}

pub struct MainWindow {
    demo: bool,
    database: DatabaseState,
    connection: ConnectionState,
    demo_error: Option<String>,
    /// Latest quote per watchlist symbol (bounded by the watchlist).
    quotes: std::collections::BTreeMap<String, tickwork_core::domain::Quote>,
    /// The screenshot waits for the first quotes in demo mode.
    quotes_seen: bool,
    /// The database section changed and must be redrawn (not on every quote).
    database_dirty: Cell<bool>,
    screenshot: Option<PathBuf>,
    screenshot_scheduled: Cell<bool>,
    exit: Arc<Mutex<anyhow::Result<()>>>,
    /// The one way to ask the core for anything.
    commands: tokio::sync::mpsc::UnboundedSender<Command>,
    trading: TradingState,
    /// The trading state changed and the header must be redrawn (not on every quote).
    trading_dirty: Cell<bool>,
    /// Messages waiting to be shown as toasts.
    toasts: RefCell<Vec<String>>,
    root: adw::ApplicationWindow,
}

pub struct MainWidgets {
    window: adw::ApplicationWindow,
    title: adw::WindowTitle,
    database_row: adw::ActionRow,
    schema_row: adw::ActionRow,
    tables_group: adw::PreferencesGroup,
    table_rows: Vec<adw::ActionRow>,
    session_row: adw::ActionRow,
    session_icon: gtk::Image,
    watchlist: Watchlist,
    trading_label: gtk::Label,
    arm_button: gtk::Button,
    kill_button: gtk::Button,
    toast_overlay: adw::ToastOverlay,
}

impl SimpleComponent for MainWindow {
    type Init = MainWindowInit;
    type Input = MainMsg;
    type Output = ();
    type Root = adw::ApplicationWindow;
    type Widgets = MainWidgets;

    fn init_root() -> Self::Root {
        adw::ApplicationWindow::builder()
            .title("Tickwork")
            .default_width(1100)
            .default_height(720)
            .build()
    }

    fn init(
        init: Self::Init,
        window: Self::Root,
        sender: ComponentSender<Self>,
    ) -> ComponentParts<Self> {
        let (commands, commands_rx) = tokio::sync::mpsc::unbounded_channel();
        let model = MainWindow {
            demo: init.demo,
            database: DatabaseState::Opening,
            connection: ConnectionState::Disconnected,
            demo_error: None,
            quotes: Default::default(),
            quotes_seen: false,
            database_dirty: Cell::new(false),
            screenshot_scheduled: Cell::new(false),
            screenshot: init.screenshot,
            exit: init.exit,
            commands,
            trading: TradingState::default(),
            trading_dirty: Cell::new(false),
            toasts: RefCell::default(),
            root: window.clone(),
        };
        let widgets = build(&window, init.demo);
        {
            let input = sender.input_sender().clone();
            widgets
                .arm_button
                .connect_clicked(move |_| input.emit(MainMsg::ArmToggled));
            let input = sender.input_sender().clone();
            widgets
                .kill_button
                .connect_clicked(move |_| input.emit(MainMsg::KillClicked));
        }

        if model.demo && model.screenshot.is_some() {
            // A screenshot of the demo waits for quotes, but not for ever.
            let input = sender.input_sender().clone();
            gtk::glib::timeout_add_local_once(std::time::Duration::from_secs(20), move || {
                input.emit(MainMsg::Backend(Notification::DemoFailed(
                    "no quotes within 20 s".into(),
                )));
            });
        }
        let input = sender.input_sender().clone();
        let slot = init.running;
        let (target, demo) = (init.target, init.demo);
        init.runtime.spawn(async move {
            let running = backend::start(target, demo, commands_rx, move |n| {
                input.emit(MainMsg::Backend(n))
            })
            .await;
            if let Ok(mut slot) = slot.lock() {
                *slot = Some(running);
            }
        });
        ComponentParts { model, widgets }
    }

    fn update(&mut self, message: Self::Input, sender: ComponentSender<Self>) {
        let message = match message {
            MainMsg::Backend(notification) => notification,
            MainMsg::ArmToggled => {
                if !self.trading.armed.is_empty() {
                    for account in self.trading.armed.clone() {
                        self.send(Command::Disarm { account });
                    }
                } else if let Some(account) = self.trading.accounts.first().cloned() {
                    confirm_arm(&self.root, account, sender);
                }
                return;
            }
            MainMsg::ArmConfirmed(account) => {
                self.send(Command::Arm { account });
                return;
            }
            MainMsg::KillClicked => {
                self.send(Command::KillSwitch {
                    global_cancel: false,
                });
                return;
            }
        };
        match message {
            Notification::DatabaseOpened { describe, status } => {
                self.database = DatabaseState::Ready { describe, status };
                self.database_dirty.set(true);
            }
            Notification::DatabaseFailed(error) => {
                tracing::error!(%error, "cannot open the database");
                self.database = DatabaseState::Failed(error);
                self.database_dirty.set(true);
            }
            Notification::Connection(state) => self.connection = state,
            Notification::Quotes(rows) => {
                self.quotes_seen = true;
                self.quotes.extend(rows);
            }
            Notification::DemoFailed(error) => {
                tracing::error!(%error, "demo backend");
                self.demo_error = Some(error);
            }
            Notification::Trading(state) => {
                self.trading = state;
                self.trading_dirty.set(true);
            }
            Notification::Refused(reason) => self.toasts.borrow_mut().push(reason),
        }
    }

    fn update_view(&self, widgets: &mut Self::Widgets, _sender: ComponentSender<Self>) {
        if self.database_dirty.replace(false) {
            draw_database(&self.database, widgets);
        }
        let connection = self.connection.label();
        let mode = if self.demo {
            format!("Demo · {connection}")
        } else {
            connection.clone()
        };
        widgets.title.set_subtitle(&mode);
        if self.trading_dirty.replace(false) {
            draw_trading(&self.trading, widgets);
        }
        for toast in self.toasts.borrow_mut().drain(..) {
            widgets.toast_overlay.add_toast(adw::Toast::new(&toast));
        }
        widgets
            .session_row
            .set_subtitle(&match (&self.demo_error, self.demo) {
                (Some(error), _) => format!("Demo backend unavailable: {error}"),
                (None, true) => format!("{connection}: the built-in simulator, no broker account"),
                (None, false) => connection,
            });
        widgets
            .session_icon
            .set_icon_name(Some(match self.connection {
                ConnectionState::Live => "network-transmit-receive-symbolic",
                ConnectionState::Degraded { .. } => "network-error-symbolic",
                ConnectionState::Connecting | ConnectionState::Synchronising => {
                    "network-idle-symbolic"
                }
                ConnectionState::Lost | ConnectionState::Disconnected => "network-offline-symbolic",
            }));
        for (symbol, quote) in &self.quotes {
            widgets.watchlist.update(symbol, quote);
        }

        let ready = !matches!(self.database, DatabaseState::Opening)
            && (!self.demo || self.quotes_seen || self.demo_error.is_some());
        if ready
            && !self.screenshot_scheduled.replace(true)
            && let Some(path) = self.screenshot.clone()
        {
            let window = widgets.window.clone();
            let exit = self.exit.clone();
            // The picture is taken either way, but a window that could not show what it should
            // (no database, no demo data) makes the command fail.
            let problem = match (&self.database, &self.demo_error) {
                (DatabaseState::Failed(error), _) => Some(format!("database: {error}")),
                (_, Some(error)) => Some(format!("demo: {error}")),
                _ => None,
            };
            // Give GTK a few frames to lay out and paint the final state.
            gtk::glib::timeout_add_local_once(std::time::Duration::from_millis(600), move || {
                let result = screenshot::save_png(&window, &path).and_then(|()| match problem {
                    Some(problem) => Err(anyhow::anyhow!("the window shows an error: {problem}")),
                    None => Ok(()),
                });
                if let Ok(mut exit) = exit.lock() {
                    *exit = result;
                }
                window.close();
            });
        }
    }
}

impl MainWindow {
    fn send(&self, command: Command) {
        if self.commands.send(command).is_err() {
            self.toasts
                .borrow_mut()
                .push("the backend has stopped; restart the workbench".into());
        }
    }
}

/// Arming asks first: from then on orders for the account are sent to TWS.
fn confirm_arm(
    window: &adw::ApplicationWindow,
    account: String,
    sender: ComponentSender<MainWindow>,
) {
    let dialog = adw::MessageDialog::new(
        Some(window),
        Some(&format!("Arm trading on {account}?")),
        Some(
            "Orders from the ticket, scripts and plugins that pass the risk gate will be sent to \
             TWS for this account. Disarm or use the kill switch to stop.",
        ),
    );
    dialog.add_responses(&[("cancel", "_Cancel"), ("arm", "_Arm")]);
    dialog.set_response_appearance("arm", adw::ResponseAppearance::Destructive);
    dialog.set_default_response(Some("cancel"));
    dialog.set_close_response("cancel");
    dialog.connect_response(None, move |_, response| {
        if response == "arm" {
            sender.input(MainMsg::ArmConfirmed(account.clone()));
        }
    });
    dialog.present();
}

/// The header's read-only / armed indicator and its buttons.
fn draw_trading(trading: &TradingState, widgets: &mut MainWidgets) {
    let (text, armed) = match (trading.halted, trading.armed.as_slice()) {
        (true, _) => ("Kill switch engaged".to_owned(), false),
        (false, []) => ("Read-only".to_owned(), false),
        (false, accounts) => (format!("Armed: {}", accounts.join(", ")), true),
    };
    widgets.trading_label.set_label(&text);
    if armed {
        widgets.trading_label.add_css_class("error");
    } else {
        widgets.trading_label.remove_css_class("error");
    }
    widgets
        .arm_button
        .set_label(if armed { "Disarm" } else { "Arm…" });
    widgets
        .arm_button
        .set_sensitive(!trading.accounts.is_empty() && !trading.halted);
    widgets
        .kill_button
        .set_sensitive(!trading.accounts.is_empty());
}

fn draw_database(database: &DatabaseState, widgets: &mut MainWidgets) {
    match database {
        DatabaseState::Opening => {}
        DatabaseState::Ready { describe, status } => {
            widgets.database_row.set_subtitle(describe);
            let applied = status
                .migrations
                .iter()
                .filter(|m| m.state == MigrationState::Applied)
                .count();
            let pending = status.migrations.len() - applied;
            widgets
                .schema_row
                .set_subtitle(&format!("Migrations: {applied} applied, {pending} pending"));
            for row in widgets.table_rows.drain(..) {
                widgets.tables_group.remove(&row);
            }
            for (table, rows) in &status.tables {
                let row = adw::ActionRow::builder().title(table.as_str()).build();
                let count = gtk::Label::new(Some(&rows.to_string()));
                count.add_css_class("numeric");
                count.add_css_class("dim-label");
                row.add_suffix(&count);
                widgets.tables_group.add(&row);
                widgets.table_rows.push(row);
            }
        }
        DatabaseState::Failed(error) => {
            widgets.tables_group.set_visible(false);
            widgets
                .database_row
                .set_subtitle(&format!("Unavailable: {error}"));
            widgets.database_row.add_css_class("error");
            widgets.schema_row.set_subtitle("Unknown");
        }
    }
}

fn build(window: &adw::ApplicationWindow, demo: bool) -> MainWidgets {
    let title = adw::WindowTitle::new("Tickwork", "");
    let header = adw::HeaderBar::builder().title_widget(&title).build();
    // Always visible: whether orders can be sent, arming, and the kill switch.
    let trading_label = gtk::Label::new(Some("Read-only"));
    trading_label.add_css_class("heading");
    trading_label.set_tooltip_text(Some("Whether orders can be sent to TWS"));
    let arm_button = gtk::Button::builder()
        .label("Arm…")
        .tooltip_text("Allow trading on the account (asks first)")
        .sensitive(false)
        .build();
    let kill_button = gtk::Button::builder()
        .label("Kill switch")
        .tooltip_text("Disarm every account and cancel every working order")
        .sensitive(false)
        .build();
    kill_button.add_css_class("destructive-action");
    header.pack_start(&trading_label);
    header.pack_end(&kill_button);
    header.pack_end(&arm_button);

    let page = adw::PreferencesPage::new();

    let session = adw::PreferencesGroup::builder()
        .title("TWS session")
        .description("Trading starts disarmed: nothing is sent until you arm an account.")
        .build();
    let session_row = adw::ActionRow::builder()
        .title("Connection")
        .subtitle("Not connected")
        .build();
    let session_icon = gtk::Image::from_icon_name("network-offline-symbolic");
    session_row.add_prefix(&session_icon);
    session.add(&session_row);
    page.add(&session);

    let watchlist = Watchlist::new(&backend::DEMO_SYMBOLS);
    watchlist.group.set_visible(demo);
    page.add(&watchlist.group);

    let storage = adw::PreferencesGroup::builder().title("Storage").build();
    let database_row = adw::ActionRow::builder()
        .title("Database")
        .subtitle("Opening…")
        .build();
    database_row.add_prefix(&gtk::Image::from_icon_name("drive-harddisk-symbolic"));
    let schema_row = adw::ActionRow::builder()
        .title("Schema")
        .subtitle("Checking…")
        .build();
    storage.add(&database_row);
    storage.add(&schema_row);
    page.add(&storage);

    let tables_group = adw::PreferencesGroup::builder()
        .title("Recorded data")
        .build();
    page.add(&tables_group);

    let content = gtk::Box::new(gtk::Orientation::Vertical, 0);
    content.append(&header);
    content.append(&page);
    page.set_vexpand(true);
    let toast_overlay = adw::ToastOverlay::new();
    toast_overlay.set_child(Some(&content));
    window.set_content(Some(&toast_overlay));

    MainWidgets {
        window: window.clone(),
        title,
        database_row,
        schema_row,
        tables_group,
        table_rows: Vec::new(),
        session_row,
        session_icon,
        watchlist,
        trading_label,
        arm_button,
        kill_button,
        toast_overlay,
    }
}
