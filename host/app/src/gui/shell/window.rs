//! The main window: header bar, panel sidebar (collapsing in a narrow window) and the
//! workspace, wired to the backend through the one command / notification boundary.

use std::cell::{Cell, RefCell};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use adw::prelude::*;
use gtk::{gio, glib};
use relm4::{ComponentParts, ComponentSender, SimpleComponent};
use tickwork_core::session::ConnectionState;
use tickwork_core::store::profiles::ConnectionProfile;

use super::header::Header;
use super::sidebar::Sidebar;
use super::{dialogs, preferences, profiles};
use crate::gui::backend::{self, Running, StartOptions};
use crate::gui::boundary::{
    Commands, Notification, PluginsEvent, QuoteBoard, SessionCommand, SessionEvent,
};
use crate::gui::frame::FrameDrain;
use crate::gui::panels::{PanelContext, PanelEvent, PanelRegistry, Shared, WindowRequest};
use crate::gui::screenshot;
use crate::gui::workspace::{Layout, Workspace};

/// How long after the last change the layout is saved.
const SAVE_DELAY: Duration = Duration::from_millis(800);

pub struct MainWindowInit {
    pub runtime: tokio::runtime::Handle,
    pub options: StartOptions,
    pub screenshot: Option<PathBuf>,
    /// Where the running backend is handed back to `gui::run` for a clean shutdown.
    pub running: Arc<Mutex<Option<Running>>>,
    /// The process's exit result (a failed screenshot must fail the command).
    pub exit: Arc<Mutex<anyhow::Result<()>>>,
    pub registry: PanelRegistry,
}

/// What the window reacts to: the backend's notifications and the trader's actions.
#[derive(Debug)]
pub enum MainMsg {
    Backend(Notification),
    Window(WindowRequest),
    /// Arm (after a confirmation) when the selected account is not armed, disarm when it is.
    ArmToggled,
    ArmConfirmed(String),
    KillSwitch,
    AccountChosen(u32),
    OpenPanel(String),
    LayoutChanged,
    SaveLayout,
    ShowPreferences,
    ShowProfiles,
    Connect(String),
    Disconnect,
}

pub struct MainWindow {
    root: adw::ApplicationWindow,
    commands: Commands,
    shared: Rc<RefCell<Shared>>,
    workspace: Rc<Workspace>,
    header: Rc<Header>,
    toast_overlay: adw::ToastOverlay,
    sidebar: Rc<Sidebar>,
    /// The core runtime (plugin panels' services run on it).
    runtime: tokio::runtime::Handle,
    drain: FrameDrain,
    /// The profiles as last stored (for the profile editor).
    profiles: Vec<ConnectionProfile>,
    demo_available: bool,
    /// Long work in progress, by name.
    progress: Vec<String>,
    database_failed: Option<String>,
    database_ready: bool,
    layout_loaded: bool,
    quotes_seen: Rc<Cell<bool>>,
    save_pending: Option<glib::SourceId>,
    screenshot: Option<PathBuf>,
    screenshot_scheduled: bool,
    exit: Arc<Mutex<anyhow::Result<()>>>,
    sender: ComponentSender<Self>,
}

impl SimpleComponent for MainWindow {
    type Init = MainWindowInit;
    type Input = MainMsg;
    type Output = ();
    type Root = adw::ApplicationWindow;
    type Widgets = ();

    fn init_root() -> Self::Root {
        adw::ApplicationWindow::builder()
            .title("Tickwork")
            .default_width(1280)
            .default_height(800)
            .build()
    }

    fn init(
        init: Self::Init,
        window: Self::Root,
        sender: ComponentSender<Self>,
    ) -> ComponentParts<Self> {
        let (commands, commands_rx) = Commands::channel();
        let shared = Rc::new(RefCell::new(Shared {
            demo: init.options.demo,
            ..Shared::default()
        }));
        let make_context = {
            let commands = commands.clone();
            let shared = shared.clone();
            let input = sender.input_sender().clone();
            let window_request: Rc<dyn Fn(WindowRequest)> =
                Rc::new(move |request| input.emit(MainMsg::Window(request)));
            Rc::new(move |saved| {
                PanelContext::new(
                    commands.clone(),
                    shared.clone(),
                    window_request.clone(),
                    saved,
                )
            })
        };
        let workspace = Workspace::new(init.registry.clone(), make_context);
        {
            let input = sender.input_sender().clone();
            workspace.set_on_change(Rc::new(move || input.emit(MainMsg::LayoutChanged)));
        }
        let header = Rc::new(Header::new());
        let (toast_overlay, sidebar) = build(&window, &header, &workspace, &init.registry, &sender);
        install_actions(&window, &header, &workspace, &sender);
        workspace.load(&Layout::default_workbench());

        let board = Arc::new(QuoteBoard::default());
        let quotes_seen: Rc<Cell<bool>> = Rc::default();
        let workspace_for_drain = workspace.clone();
        let shared_for_drain = shared.clone();
        let model = MainWindow {
            root: window.clone(),
            commands,
            shared,
            workspace,
            header,
            toast_overlay,
            sidebar,
            runtime: init.runtime.clone(),
            drain: FrameDrain::new(board.clone(), {
                let workspace = workspace_for_drain;
                let shared = shared_for_drain;
                let seen = quotes_seen.clone();
                let input = sender.input_sender().clone();
                Rc::new(move |quotes: &[tickwork_core::domain::Quote]| {
                    {
                        let mut shared = shared.borrow_mut();
                        for quote in quotes {
                            shared.quotes.insert(quote.instrument_id, quote.clone());
                        }
                    }
                    workspace.deliver_quotes(quotes);
                    if !seen.replace(true) {
                        // The first quotes: the screenshot may be ready now.
                        input.emit(MainMsg::Window(WindowRequest::LayoutChanged));
                    }
                })
            }),
            profiles: Vec::new(),
            demo_available: true,
            progress: Vec::new(),
            database_failed: None,
            database_ready: false,
            layout_loaded: false,
            quotes_seen,
            save_pending: None,
            screenshot: init.screenshot,
            screenshot_scheduled: false,
            exit: init.exit,
            sender: sender.clone(),
        };
        if model.screenshot.is_some() {
            // A screenshot waits for the window to be ready, but not for ever.
            let input = sender.input_sender().clone();
            glib::timeout_add_local_once(Duration::from_secs(30), move || {
                input.emit(MainMsg::Backend(Notification::Problem(
                    "the window was not ready within 30 s".into(),
                )));
            });
        }
        let input = sender.input_sender().clone();
        let slot = init.running;
        let options = init.options;
        init.runtime.spawn(async move {
            let running = backend::start(options, board, commands_rx, move |n| {
                input.emit(MainMsg::Backend(n))
            });
            if let Ok(mut slot) = slot.lock() {
                *slot = Some(running);
            }
        });
        ComponentParts { model, widgets: () }
    }

    fn update(&mut self, message: Self::Input, sender: ComponentSender<Self>) {
        match message {
            MainMsg::Backend(notification) => self.backend(notification),
            MainMsg::Window(request) => self.window_request(request),
            MainMsg::ArmToggled => {
                let shared = self.shared.borrow();
                let Some(account) = shared.account.clone() else {
                    return;
                };
                if shared.trading.armed.contains(&account) {
                    drop(shared);
                    self.send(SessionCommand::Disarm { account });
                } else {
                    drop(shared);
                    dialogs::confirm_arm(&self.root, account, sender);
                }
            }
            MainMsg::ArmConfirmed(account) => self.send(SessionCommand::Arm { account }),
            MainMsg::KillSwitch => self.send(SessionCommand::KillSwitch {
                global_cancel: false,
            }),
            MainMsg::AccountChosen(index) => {
                let account = self
                    .header
                    .accounts_model
                    .string(index)
                    .map(|s| s.to_string());
                if self.shared.borrow().account != account {
                    self.shared.borrow_mut().account = account.clone();
                    self.header
                        .set_trading(&self.shared.borrow().trading, account.as_deref());
                    self.workspace
                        .deliver(&PanelEvent::AccountSelected(account));
                }
            }
            MainMsg::OpenPanel(id) => self.workspace.open(&id),
            MainMsg::LayoutChanged => self.schedule_save(),
            MainMsg::SaveLayout => {
                self.save_pending = None;
                self.save_layout();
            }
            MainMsg::ShowPreferences => {
                let shared = self.shared.borrow();
                preferences::show(
                    &self.root,
                    &shared.limits,
                    &shared.ticket_defaults,
                    self.commands.clone(),
                );
            }
            MainMsg::Connect(profile) => {
                // Leaving a profile saves its layout first.
                self.save_layout();
                self.layout_loaded = false;
                self.send(SessionCommand::Connect { profile });
            }
            MainMsg::Disconnect => {
                self.save_layout();
                self.send(SessionCommand::Disconnect);
            }
            MainMsg::ShowProfiles => {
                profiles::show(&self.root, &self.profiles, self.commands.clone());
            }
        }
    }
}

impl MainWindow {
    fn send(&self, command: impl Into<crate::gui::boundary::Command>) {
        if !self.commands.send(command) {
            self.toast("The backend has stopped: restart the workbench");
        }
    }

    fn toast(&self, text: &str) {
        let toast = adw::Toast::new(text);
        toast.set_timeout(6);
        self.toast_overlay.add_toast(toast);
    }

    fn backend(&mut self, notification: Notification) {
        match &notification {
            Notification::QuotesPending => return self.schedule_drain(),
            Notification::Problem(text) => {
                tracing::warn!(%text, "problem");
                if self.screenshot.is_some() && !self.screenshot_scheduled {
                    self.database_failed.get_or_insert_with(|| text.clone());
                }
                self.toast(text);
            }
            Notification::Session(event) => self.session_event(event),
            Notification::Plugins(PluginsEvent::Discovered(found)) => {
                let summary = super::plugins::load(
                    found,
                    &self.runtime,
                    &self.workspace,
                    &self.sidebar,
                    &self.commands,
                );
                if let Some(summary) = summary {
                    self.toast(&summary);
                }
            }
            Notification::Market(crate::gui::boundary::MarketEvent::Watching(instrument)) => {
                self.shared
                    .borrow_mut()
                    .instruments
                    .insert(instrument.id, instrument.clone());
            }
            _ => {}
        }
        self.workspace.deliver(&PanelEvent::Backend(notification));
        self.maybe_screenshot();
    }

    fn session_event(&mut self, event: &SessionEvent) {
        match event {
            SessionEvent::DatabaseOpened { .. } => self.database_ready = true,
            SessionEvent::DatabaseFailed(error) => {
                tracing::error!(%error, "cannot open the database");
                self.database_failed = Some(format!("database: {error}"));
                self.toast(&format!(
                    "The database is unavailable: {error}. Check the configuration and restart."
                ));
            }
            SessionEvent::Progress { task, done } => {
                if *done {
                    self.progress.retain(|t| t != task);
                } else {
                    self.progress.push(task.clone());
                }
                self.draw_progress();
            }
            SessionEvent::Profiles(list) => {
                self.profiles = list.clone();
                self.header.set_profiles(list, self.demo_available);
            }
            SessionEvent::Connected { profile, demo } => {
                let mut shared = self.shared.borrow_mut();
                shared.profile = Some(profile.clone());
                shared.demo = *demo;
                drop(shared);
                self.draw_connection();
            }
            SessionEvent::Disconnected => {
                let mut shared = self.shared.borrow_mut();
                shared.profile = None;
                shared.trading = Default::default();
                shared.account = None;
                drop(shared);
                self.header.set_accounts(&[], None);
                self.header.set_trading(&Default::default(), None);
                self.draw_connection();
            }
            SessionEvent::Connection(state) => {
                self.shared.borrow_mut().connection = state.clone();
                self.draw_connection();
            }
            SessionEvent::Trading(state) => self.trading(state.clone()),
            SessionEvent::Refused(reason) => self.toast(reason),
            SessionEvent::Synchronised(_) => {}
            SessionEvent::Limits(limits) => self.shared.borrow_mut().limits = limits.clone(),
            SessionEvent::TicketDefaults(defaults) => {
                self.shared.borrow_mut().ticket_defaults = defaults.clone()
            }
            SessionEvent::Layout { layout, .. } => {
                let restored = match layout.as_deref().map(Layout::from_json) {
                    Some(Ok(layout)) => layout,
                    Some(Err(err)) => {
                        self.toast(&format!("{err}: the default layout is shown"));
                        Layout::default_workbench()
                    }
                    None => Layout::default_workbench(),
                };
                self.workspace.load(&restored);
                self.layout_loaded = true;
            }
        }
    }

    fn trading(&mut self, state: crate::gui::boundary::TradingState) {
        let mut shared = self.shared.borrow_mut();
        let keep = shared
            .account
            .as_ref()
            .is_some_and(|a| state.accounts.contains(a));
        let mut changed_account = None;
        if !keep {
            let preferred = shared
                .profile
                .as_ref()
                .and_then(|p| p.account.clone())
                .filter(|a| state.accounts.contains(a));
            shared.account = preferred.or_else(|| state.accounts.first().cloned());
            changed_account = Some(shared.account.clone());
        }
        shared.trading = state;
        let account = shared.account.clone();
        self.header
            .set_accounts(&shared.trading.accounts, account.as_deref());
        self.header.set_trading(&shared.trading, account.as_deref());
        drop(shared);
        if let Some(account) = changed_account {
            self.workspace
                .deliver(&PanelEvent::AccountSelected(account));
        }
    }

    fn draw_connection(&self) {
        let shared = self.shared.borrow();
        self.header
            .set_connection(shared.profile.as_ref(), shared.demo, &shared.connection);
        drop(shared);
        self.draw_progress();
    }

    /// The header's spinner turns while long work runs: named tasks (the database, the demo
    /// simulator, history downloads) and connecting or the synchronisation with TWS.
    fn draw_progress(&self) {
        let connecting = matches!(
            self.shared.borrow().connection,
            ConnectionState::Connecting | ConnectionState::Synchronising
        );
        let busy = connecting || !self.progress.is_empty();
        self.header.progress.set_spinning(busy);
        let what = if connecting {
            Some("Connecting and synchronising with TWS".to_owned())
        } else {
            self.progress.last().cloned()
        };
        self.header.progress.set_tooltip_text(what.as_deref());
    }

    fn window_request(&mut self, request: WindowRequest) {
        match request {
            WindowRequest::Select(instrument) => {
                self.shared
                    .borrow_mut()
                    .instruments
                    .insert(instrument.id, instrument.clone());
                self.workspace
                    .deliver(&PanelEvent::InstrumentSelected(instrument));
            }
            WindowRequest::Open(id) => self.workspace.open(&id),
            WindowRequest::Toast(text) => self.toast(&text),
            WindowRequest::LayoutChanged => self.schedule_save(),
        }
    }

    /// Drains the quote board at the next frame (see [`FrameDrain`]).
    fn schedule_drain(&self) {
        self.drain.schedule(&self.root);
    }

    fn schedule_save(&mut self) {
        if let Some(pending) = self.save_pending.take() {
            pending.remove();
        }
        let input = self.sender.input_sender().clone();
        self.save_pending = Some(glib::timeout_add_local_once(SAVE_DELAY, move || {
            input.emit(MainMsg::SaveLayout)
        }));
        self.maybe_screenshot();
    }

    /// Saves the layout under the connected profile (nothing to save it under otherwise).
    pub fn save_layout(&self) {
        let profile = self
            .shared
            .borrow()
            .profile
            .as_ref()
            .map(|p| p.name.clone());
        if let (Some(profile), Some(layout)) = (profile, self.workspace.layout())
            && self.layout_loaded
        {
            self.send(SessionCommand::SaveLayout {
                profile,
                layout: layout.to_json(),
            });
        }
    }

    fn maybe_screenshot(&mut self) {
        let Some(path) = self.screenshot.clone() else {
            return;
        };
        let demo = self.shared.borrow().demo;
        let ready = self.database_failed.is_some()
            || (self.database_ready && (!demo || (self.quotes_seen.get() && self.layout_loaded)));
        if !ready || self.screenshot_scheduled {
            return;
        }
        self.screenshot_scheduled = true;
        let window = self.root.clone();
        let exit = self.exit.clone();
        // The picture is taken either way, but a window that could not show what it should
        // (no database, no demo data) makes the command fail.
        let problem = self.database_failed.clone();
        // Give GTK and the panels time to lay out and fill in the final state.
        glib::timeout_add_local_once(Duration::from_millis(1500), move || {
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

fn build(
    window: &adw::ApplicationWindow,
    header: &Header,
    workspace: &Rc<Workspace>,
    registry: &PanelRegistry,
    sender: &ComponentSender<MainWindow>,
) -> (adw::ToastOverlay, Rc<Sidebar>) {
    let sidebar = Rc::new(Sidebar::new(registry));
    {
        let input = sender.input_sender().clone();
        let ids = sidebar.clone();
        sidebar.list.connect_row_activated(move |_, row| {
            if let Some(id) = ids.id_at(row.index()) {
                input.emit(MainMsg::OpenPanel(id.to_owned()));
            }
        });
    }
    let flap = adw::Flap::builder()
        .flap(&sidebar.widget)
        .content(workspace.widget())
        .separator(&gtk::Separator::new(gtk::Orientation::Vertical))
        .fold_policy(adw::FlapFoldPolicy::Auto)
        .build();
    flap.set_widget_name("sidebar-flap");
    header
        .sidebar_button
        .bind_property("active", &flap, "reveal-flap")
        .bidirectional()
        .sync_create()
        .build();

    let content = gtk::Box::new(gtk::Orientation::Vertical, 0);
    content.append(&header.bar);
    content.append(&flap);
    flap.set_vexpand(true);
    let toast_overlay = adw::ToastOverlay::new();
    toast_overlay.set_child(Some(&content));
    window.set_content(Some(&toast_overlay));

    let input = sender.input_sender().clone();
    header
        .arm_button
        .connect_clicked(move |_| input.emit(MainMsg::ArmToggled));
    let input = sender.input_sender().clone();
    header
        .kill_button
        .connect_clicked(move |_| input.emit(MainMsg::KillSwitch));
    let input = sender.input_sender().clone();
    header.accounts.connect_selected_notify(move |dropdown| {
        if dropdown.selected() != gtk::INVALID_LIST_POSITION {
            input.emit(MainMsg::AccountChosen(dropdown.selected()));
        }
    });
    // The layout is saved when the window closes, whatever the debounce timer says.
    let input = sender.input_sender().clone();
    window.connect_close_request(move |_| {
        input.emit(MainMsg::SaveLayout);
        glib::Propagation::Proceed
    });
    (toast_overlay, sidebar)
}

/// Application actions and their keyboard shortcuts.
fn install_actions(
    window: &adw::ApplicationWindow,
    header: &Rc<Header>,
    workspace: &Rc<Workspace>,
    sender: &ComponentSender<MainWindow>,
) {
    let app = relm4::main_application();
    let input = sender.input_sender().clone();
    let connect = gio::SimpleAction::new("connect", Some(glib::VariantTy::STRING));
    connect.connect_activate(move |_, target| {
        if let Some(profile) = target.and_then(|t| t.get::<String>()) {
            input.emit(MainMsg::Connect(profile));
        }
    });
    app.add_action(&connect);
    type Entry = (&'static str, fn() -> MainMsg, &'static [&'static str]);
    let entries: [Entry; 5] = [
        ("disconnect", || MainMsg::Disconnect, &[]),
        (
            "preferences",
            || MainMsg::ShowPreferences,
            &["<Control>comma"],
        ),
        ("profiles", || MainMsg::ShowProfiles, &["<Control><Shift>p"]),
        (
            "kill-switch",
            || MainMsg::KillSwitch,
            &["<Control><Shift>k"],
        ),
        ("arm", || MainMsg::ArmToggled, &["<Control><Shift>a"]),
    ];
    for (name, message, accels) in entries {
        let action = gio::SimpleAction::new(name, None);
        let input = sender.input_sender().clone();
        action.connect_activate(move |_, _| input.emit(message()));
        app.add_action(&action);
        app.set_accels_for_action(&format!("app.{name}"), accels);
    }
    dialogs::install(window, header, workspace, sender);
}
