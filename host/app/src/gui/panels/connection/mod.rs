//! Connection & sync: the connection state and profile, data farms, market data lines and the
//! historical pacing budget (polled every 2 s while the panel is shown), the latest
//! reconciliation reports with their details, and the database.

mod model;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use adw::prelude::*;
use tickwork_core::session::{ConnectionState, LineStatus};
use tickwork_core::store::DbStatus;
use tickwork_core::store::sync_reports::SyncReportRow;

use super::{Panel, PanelContext, PanelEvent, PanelProvider};
use crate::gui::boundary::{Notification, RecordsCommand, RecordsEvent, SessionEvent};

pub fn provider() -> PanelProvider {
    PanelProvider {
        id: "connection".into(),
        title: "Connection".into(),
        icon: "network-transmit-receive-symbolic".into(),
        description: "Connection state, market data lines, pacing, reconciliation and the database"
            .into(),
        multiple: false,
        build: Rc::new(|ctx| Box::new(ConnectionPanel::new(ctx))),
    }
}

const REFRESH: Duration = Duration::from_secs(2);
const REPORTS: i64 = 10;

pub struct ConnectionPanel {
    inner: Rc<Inner>,
}

struct Inner {
    ctx: PanelContext,
    root: gtk::ScrolledWindow,
    state: gtk::Label,
    state_row: adw::ActionRow,
    profile_row: adw::ActionRow,
    farms_row: adw::ActionRow,
    lines: gtk::Label,
    lines_bar: gtk::LevelBar,
    queue_row: adw::ActionRow,
    pacing_row: adw::ActionRow,
    reports: gtk::ListBox,
    database_row: adw::ActionRow,
    migrations: adw::ExpanderRow,
    migration_rows: RefCell<Vec<adw::ActionRow>>,
}

fn row(title: &str) -> adw::ActionRow {
    adw::ActionRow::builder().title(title).build()
}

impl ConnectionPanel {
    pub fn new(ctx: PanelContext) -> Self {
        let page = gtk::Box::new(gtk::Orientation::Vertical, 18);
        page.set_margin_top(12);
        page.set_margin_bottom(12);
        page.set_margin_start(12);
        page.set_margin_end(12);

        let connection = adw::PreferencesGroup::builder().title("Connection").build();
        let state = gtk::Label::new(Some("Disconnected"));
        state.set_widget_name("connection-state");
        state.add_css_class("heading");
        let state_row = row("State");
        state_row.add_suffix(&state);
        let profile_row = row("Profile");
        let farms_row = row("Data farms");
        connection.add(&state_row);
        connection.add(&profile_row);
        connection.add(&farms_row);

        let data = adw::PreferencesGroup::builder()
            .title("Market data")
            .description("Streaming quotes use one line each; TWS caps them per account")
            .build();
        let lines = gtk::Label::new(Some("—"));
        lines.set_widget_name("connection-lines");
        lines.add_css_class("numeric");
        let lines_bar = gtk::LevelBar::for_interval(0.0, 1.0);
        lines_bar.set_width_request(120);
        lines_bar.set_valign(gtk::Align::Center);
        lines_bar.add_offset_value("full", 0.9);
        let lines_row = row("Lines");
        lines_row.add_suffix(&lines_bar);
        lines_row.add_suffix(&lines);
        let queue_row = row("Queue");
        let pacing_row = row("Historical requests");
        data.add(&lines_row);
        data.add(&queue_row);
        data.add(&pacing_row);

        let sync = adw::PreferencesGroup::builder()
            .title("Reconciliation")
            .description("What each synchronisation with TWS found; expand for the details")
            .build();
        let reports = gtk::ListBox::new();
        reports.set_widget_name("connection-reports");
        reports.add_css_class("boxed-list");
        reports.set_selection_mode(gtk::SelectionMode::None);
        sync.add(&reports);

        let database = adw::PreferencesGroup::builder().title("Database").build();
        let database_row = row("Location");
        let migrations = adw::ExpanderRow::builder().title("Migrations").build();
        crate::gui::a11y::set_label(&migrations, "Migrations");
        database.add(&database_row);
        database.add(&migrations);

        for group in [&connection, &data, &sync, &database] {
            page.append(group);
        }
        let clamp = adw::Clamp::builder().maximum_size(900).child(&page).build();
        let root = gtk::ScrolledWindow::builder()
            .child(&clamp)
            .hscrollbar_policy(gtk::PolicyType::Never)
            .vexpand(true)
            .build();
        let inner = Rc::new(Inner {
            ctx,
            root,
            state,
            state_row,
            profile_row,
            farms_row,
            lines,
            lines_bar,
            queue_row,
            pacing_row,
            reports,
            database_row,
            migrations,
            migration_rows: RefCell::new(Vec::new()),
        });
        inner.draw_connection();
        inner.draw_status(None);
        inner.draw_reports(&[]);
        inner.ctx.commands.send(RecordsCommand::Database);
        inner
            .ctx
            .commands
            .send(RecordsCommand::Reports { limit: REPORTS });
        // The status every [`REFRESH`] while shown.
        super::poll::while_shown(&inner.root, &inner, REFRESH, |inner| {
            inner.ctx.commands.send(RecordsCommand::Status);
        });
        Self { inner }
    }
}

impl Inner {
    fn draw_connection(&self) {
        let shared = self.ctx.shared.borrow();
        let state = &shared.connection;
        self.state.set_text(&match state {
            ConnectionState::Degraded { .. } => "Degraded".to_owned(),
            other => other.label(),
        });
        for class in ["success", "warning", "error"] {
            self.state.remove_css_class(class);
        }
        let (class, hint) = match state {
            ConnectionState::Live => ("success", "Quotes, orders and history are available"),
            ConnectionState::Degraded { .. } => (
                "warning",
                "Some data farms are down: quotes or history may be missing",
            ),
            ConnectionState::Lost => (
                "error",
                "Reconnecting; orders wait until the session is back",
            ),
            ConnectionState::Disconnected => (
                "",
                "Connect to TWS with a profile in the header, or open the demo",
            ),
            _ => ("", "Reading accounts, positions, orders and executions"),
        };
        if !class.is_empty() {
            self.state.add_css_class(class);
        }
        self.state_row.set_subtitle(hint);
        self.profile_row.set_subtitle(&match &shared.profile {
            Some(p) => format!(
                "{}{} · {}:{} · client {}{}",
                p.name,
                if shared.demo { " (demo simulator)" } else { "" },
                p.host,
                p.port,
                if p.auto_client_id {
                    "automatic".to_owned()
                } else {
                    p.client_id.to_string()
                },
                if p.read_only { " · read-only" } else { "" }
            ),
            None => "None connected".to_owned(),
        });
        self.farms_row.set_subtitle(&match state {
            ConnectionState::Degraded { farms } => format!(
                "Down: {}",
                farms.iter().cloned().collect::<Vec<_>>().join(", ")
            ),
            s if s.is_usable() => "All connected".to_owned(),
            _ => "—".to_owned(),
        });
    }

    fn draw_status(&self, status: Option<&LineStatus>) {
        match status {
            Some(s) => {
                let (used, queue) = model::lines(s);
                self.lines.set_text(&used);
                self.lines_bar.set_value(model::line_fraction(s));
                let shared = self.ctx.shared.borrow();
                let waiting: Vec<String> = s
                    .queue
                    .iter()
                    .map(|id| match shared.instruments.get(id) {
                        Some(i) => i.spec.symbol.clone(),
                        None => format!("#{id}"),
                    })
                    .collect();
                self.queue_row.set_subtitle(&if waiting.is_empty() {
                    queue
                } else {
                    format!("{queue}: {}", waiting.join(", "))
                });
                self.pacing_row.set_subtitle(&model::pacing(s));
            }
            None => {
                self.lines.set_text("No session");
                self.lines_bar.set_value(0.0);
                self.queue_row.set_subtitle("—");
                self.pacing_row.set_subtitle("—");
            }
        }
    }

    fn draw_reports(&self, rows: &[SyncReportRow]) {
        while let Some(child) = self.reports.first_child() {
            self.reports.remove(&child);
        }
        if rows.is_empty() {
            let empty = row("No reports yet");
            empty.set_subtitle("A report is written each time the session synchronises with TWS");
            self.reports.append(&empty);
            return;
        }
        for report in rows {
            let at = report
                .at
                .with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M:%S");
            let title = format!("{at} · {} · {}", report.profile, report.reason);
            let expander = adw::ExpanderRow::builder()
                .title(&title)
                .subtitle(model::summary(&report.report))
                .build();
            crate::gui::a11y::set_label(&expander, &title);
            for line in model::details(&report.report) {
                let detail = adw::ActionRow::builder().title(line).build();
                detail.set_title_selectable(true);
                expander.add_row(&detail);
            }
            self.reports.append(&expander);
        }
    }

    fn draw_database(&self, describe: &str, status: &Result<DbStatus, String>) {
        self.database_row.set_subtitle(describe);
        for old in self.migration_rows.take() {
            self.migrations.remove(&old);
        }
        let mut rows = Vec::new();
        match status {
            Ok(status) => {
                let pending = status
                    .migrations
                    .iter()
                    .filter(|m| m.state != tickwork_core::store::MigrationState::Applied)
                    .count();
                self.migrations.set_subtitle(&format!(
                    "{} applied{}",
                    status.migrations.len() - pending,
                    if pending > 0 {
                        format!(", {pending} not applied")
                    } else {
                        String::new()
                    }
                ));
                for m in &status.migrations {
                    let r = row(&format!("{} {}", m.version, m.description));
                    r.set_subtitle(&match m.applied_at {
                        Some(at) => format!(
                            "{:?}, {}",
                            m.state,
                            at.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M")
                        ),
                        None => format!("{:?}", m.state),
                    });
                    rows.push(r);
                }
            }
            Err(err) => {
                self.migrations.set_subtitle(&format!("Unreadable: {err}"));
            }
        }
        for r in &rows {
            self.migrations.add_row(r);
        }
        self.migration_rows.replace(rows);
    }
}

impl Panel for ConnectionPanel {
    fn widget(&self) -> gtk::Widget {
        self.inner.root.clone().upcast()
    }

    fn event(&self, event: &PanelEvent) {
        let PanelEvent::Backend(notification) = event else {
            return;
        };
        let inner = &self.inner;
        match notification {
            Notification::Session(SessionEvent::Connection(_) | SessionEvent::Connected { .. }) => {
                inner.draw_connection()
            }
            Notification::Session(SessionEvent::Disconnected) => {
                inner.draw_connection();
                inner.draw_status(None);
            }
            Notification::Session(SessionEvent::Synchronised(_)) => {
                // Stored before it is announced: the list is read back with it.
                inner
                    .ctx
                    .commands
                    .send(RecordsCommand::Reports { limit: REPORTS });
            }
            Notification::Session(SessionEvent::DatabaseOpened { describe, status }) => {
                inner.draw_database(describe, &Ok(status.clone()))
            }
            Notification::Records(RecordsEvent::Status(status)) => {
                inner.draw_status(status.as_ref())
            }
            Notification::Records(RecordsEvent::Reports(rows)) => inner.draw_reports(rows),
            Notification::Records(RecordsEvent::Database { describe, status }) => {
                inner.draw_database(describe, status)
            }
            _ => {}
        }
    }
}
