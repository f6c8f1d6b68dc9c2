//! The main window: header bar with the session state, and the workbench overview.
//!
//! For now the overview shows what is real today — where the data lives, the schema state and
//! the size of each table — and that no TWS session is open; the panels arrive with the
//! session work.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use adw::prelude::*;
use relm4::{ComponentParts, ComponentSender, SimpleComponent};
use tickwork_core::store::{DatabaseTarget, DbStatus, MigrationState, OpenStore, open};

use super::screenshot;

pub struct MainWindowInit {
    pub runtime: tokio::runtime::Handle,
    pub target: DatabaseTarget,
    pub demo: bool,
    pub screenshot: Option<PathBuf>,
    /// Where the opened database is handed back to `gui::run` for a clean close.
    pub store_slot: Arc<Mutex<Option<OpenStore>>>,
    /// The process's exit result (a failed screenshot must fail the command).
    pub exit: Arc<Mutex<anyhow::Result<()>>>,
}

#[derive(Debug)]
pub enum MainMsg {
    DatabaseOpened { describe: String, status: DbStatus },
    DatabaseFailed(String),
}

enum DatabaseState {
    Opening,
    Ready { describe: String, status: DbStatus },
    Failed(String),
}

pub struct MainWindow {
    demo: bool,
    database: DatabaseState,
    screenshot: Option<PathBuf>,
    exit: Arc<Mutex<anyhow::Result<()>>>,
}

pub struct MainWidgets {
    window: adw::ApplicationWindow,
    title: adw::WindowTitle,
    database_row: adw::ActionRow,
    schema_row: adw::ActionRow,
    tables_group: adw::PreferencesGroup,
    table_rows: Vec<adw::ActionRow>,
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
        let model = MainWindow {
            demo: init.demo,
            database: DatabaseState::Opening,
            screenshot: init.screenshot,
            exit: init.exit,
        };
        let widgets = build(&window);

        let input = sender.input_sender().clone();
        let slot = init.store_slot;
        init.runtime.spawn(async move {
            let message = match open(init.target, true).await {
                Ok(opened) => {
                    let describe = match opened.cluster() {
                        Some(cluster) => cluster.describe(),
                        None => "shared PostgreSQL server".to_owned(),
                    };
                    let status = opened.store.status().await;
                    if let Ok(mut slot) = slot.lock() {
                        *slot = Some(opened);
                    }
                    match status {
                        Ok(status) => MainMsg::DatabaseOpened { describe, status },
                        Err(err) => MainMsg::DatabaseFailed(err.to_string()),
                    }
                }
                Err(err) => MainMsg::DatabaseFailed(err.to_string()),
            };
            input.emit(message);
        });
        ComponentParts { model, widgets }
    }

    fn update(&mut self, message: Self::Input, _sender: ComponentSender<Self>) {
        self.database = match message {
            MainMsg::DatabaseOpened { describe, status } => {
                DatabaseState::Ready { describe, status }
            }
            MainMsg::DatabaseFailed(error) => {
                tracing::error!(%error, "cannot open the database");
                DatabaseState::Failed(error)
            }
        };
    }

    fn update_view(&self, widgets: &mut Self::Widgets, _sender: ComponentSender<Self>) {
        match &self.database {
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
                widgets
                    .database_row
                    .set_subtitle(&format!("Unavailable: {error}"));
                widgets.database_row.add_css_class("error");
                widgets.schema_row.set_subtitle("Unknown");
            }
        }
        let mode = if self.demo {
            "Demo · read-only"
        } else {
            "Not connected · read-only"
        };
        widgets.title.set_subtitle(mode);

        if !matches!(self.database, DatabaseState::Opening)
            && let Some(path) = self.screenshot.clone()
        {
            let window = widgets.window.clone();
            let exit = self.exit.clone();
            // Give GTK a few frames to lay out and paint the final state.
            gtk::glib::timeout_add_local_once(std::time::Duration::from_millis(600), move || {
                let result = screenshot::save_png(&window, &path);
                if let Ok(mut exit) = exit.lock() {
                    *exit = result;
                }
                window.close();
            });
        }
    }
}

fn build(window: &adw::ApplicationWindow) -> MainWidgets {
    let title = adw::WindowTitle::new("Tickwork", "");
    let header = adw::HeaderBar::builder().title_widget(&title).build();

    let page = adw::PreferencesPage::new();

    let session = adw::PreferencesGroup::builder()
        .title("TWS session")
        .description("Trading starts disarmed: nothing is sent until you arm an account.")
        .build();
    let session_row = adw::ActionRow::builder()
        .title("Connection")
        .subtitle("Not connected")
        .build();
    session_row.add_prefix(&gtk::Image::from_icon_name("network-offline-symbolic"));
    session.add(&session_row);
    page.add(&session);

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
    window.set_content(Some(&content));

    MainWidgets {
        window: window.clone(),
        title,
        database_row,
        schema_row,
        tables_group,
        table_rows: Vec::new(),
    }
}
