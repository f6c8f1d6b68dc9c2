//! Plugins: every native plugin bundle found on the search path, with its version, ABI,
//! permissions and status (loaded, untrusted, disabled, faulted, incompatible, with the reason),
//! and the trader's controls over it: trust (after reading what it asks for), revoke, enable,
//! disable. Native code is never unloaded, so switching a loaded plugin off takes effect at the
//! next start; the panel says so.

mod trust;

use std::cell::RefCell;
use std::rc::Rc;

use adw::prelude::*;

use super::{Panel, PanelContext, PanelEvent, PanelProvider, WindowRequest};
use crate::gui::a11y;
use tickwork_core::plugins::strategy::PluginInstanceInfo;
use tickwork_core::plugins::{PluginReport, PluginStatus};

use crate::gui::boundary::{Notification, PluginsCommand, PluginsEvent};

pub fn provider() -> PanelProvider {
    PanelProvider {
        id: "plugins".into(),
        title: "Plugins".into(),
        icon: "application-x-addon-symbolic".into(),
        description: "Native plugins: status, permissions, trust".into(),
        multiple: false,
        build: Rc::new(|ctx| Box::new(PluginsPanel::new(ctx))),
    }
}

pub struct PluginsPanel {
    inner: Rc<Inner>,
}

struct Inner {
    ctx: PanelContext,
    root: gtk::ScrolledWindow,
    path_row: adw::ActionRow,
    list: gtk::ListBox,
    running: gtk::ListBox,
    rows: RefCell<Vec<PluginReport>>,
}

impl PluginsPanel {
    pub fn new(ctx: PanelContext) -> Self {
        let page = gtk::Box::new(gtk::Orientation::Vertical, 18);
        for side in [
            gtk::Widget::set_margin_top,
            gtk::Widget::set_margin_bottom,
            gtk::Widget::set_margin_start,
            gtk::Widget::set_margin_end,
        ] {
            side(page.upcast_ref(), 12);
        }

        let where_group = adw::PreferencesGroup::builder()
            .title("Search path")
            .description(
                "Bundles (a plugin.toml beside its library) are looked for in these folders, \
                 first match wins",
            )
            .build();
        let path_row = adw::ActionRow::builder().title("Folders").build();
        let rescan = gtk::Button::from_icon_name("view-refresh-symbolic");
        rescan.set_widget_name("plugins-rescan");
        rescan.set_tooltip_text(Some("Look for bundles again"));
        rescan.set_valign(gtk::Align::Center);
        rescan.add_css_class("flat");
        a11y::name_from_tooltip(&rescan);
        path_row.add_suffix(&rescan);
        where_group.add(&path_row);

        let installed = adw::PreferencesGroup::builder()
            .title("Installed")
            .description(
                "A plugin runs only once you trust its library; a changed library asks again. \
                 Loading and unloading native code needs a restart.",
            )
            .build();
        let list = gtk::ListBox::new();
        list.set_widget_name("plugins-list");
        list.add_css_class("boxed-list");
        list.set_selection_mode(gtk::SelectionMode::None);
        a11y::set_label(&list, "Installed plugins");
        installed.add(&list);

        page.append(&where_group);
        page.append(&installed);
        let strategies = adw::PreferencesGroup::builder()
            .title("Running strategies")
            .description(
                "Plugin strategies on paper on this connection: their orders pass the risk gate \
                 as plugin:<id>/<instance>, like every other order",
            )
            .build();
        let running = gtk::ListBox::new();
        running.set_widget_name("plugins-running");
        running.add_css_class("boxed-list");
        running.set_selection_mode(gtk::SelectionMode::None);
        a11y::set_label(&running, "Running plugin strategies");
        strategies.add(&running);
        page.append(&strategies);
        let clamp = adw::Clamp::builder().maximum_size(900).child(&page).build();
        let root = gtk::ScrolledWindow::builder()
            .child(&clamp)
            .hscrollbar_policy(gtk::PolicyType::Never)
            .vexpand(true)
            .build();
        let inner = Rc::new(Inner {
            ctx,
            root,
            path_row,
            list,
            rows: RefCell::new(Vec::new()),
            running,
        });
        inner.draw(&[], &[]);
        inner.draw_running(&[], None);
        let weak = Rc::downgrade(&inner);
        rescan.connect_clicked(move |_| {
            if let Some(inner) = weak.upgrade() {
                inner.ctx.commands.send(PluginsCommand::List);
            }
        });
        inner.ctx.commands.send(PluginsCommand::List);
        Self { inner }
    }
}

impl Inner {
    fn draw(self: &Rc<Self>, search_path: &[std::path::PathBuf], entries: &[PluginReport]) {
        self.path_row.set_subtitle(&if search_path.is_empty() {
            "—".to_owned()
        } else {
            search_path
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join("\n")
        });
        while let Some(child) = self.list.first_child() {
            self.list.remove(&child);
        }
        self.rows.replace(entries.to_vec());
        if entries.is_empty() {
            let empty = adw::ActionRow::builder()
                .title("No plugins found")
                .subtitle(
                    "Put a bundle in one of the folders above, or set TICKWORK_PLUGIN_PATH; \
                     `tickwork plugins pack` makes one from a built library",
                )
                .build();
            empty.set_widget_name("plugins-empty");
            self.list.append(&empty);
            return;
        }
        for entry in entries {
            self.list.append(&self.entry_row(entry));
        }
    }

    fn entry_row(self: &Rc<Self>, entry: &PluginReport) -> adw::ExpanderRow {
        let subtitle = format!(
            "{} · ABI {} · {}",
            entry.version.as_deref().unwrap_or("?"),
            entry.abi.as_deref().unwrap_or("?"),
            status_label(&entry.status)
        );
        let expander = adw::ExpanderRow::builder()
            .title(&entry.id)
            .subtitle(&subtitle)
            .build();
        expander.set_widget_name(&format!("plugin-{}", entry.id));
        a11y::set_label(&expander, &format!("{}, {subtitle}", entry.id));
        let badge = gtk::Label::new(Some(status_label(&entry.status)));
        badge.add_css_class("caption-heading");
        badge.set_valign(gtk::Align::Center);
        if let Some(class) = status_class(&entry.status) {
            badge.add_css_class(class);
        }
        expander.add_action(&badge);
        expander.set_expanded(matches!(
            entry.status,
            PluginStatus::Untrusted(_) | PluginStatus::Faulted(_) | PluginStatus::Incompatible(_)
        ));

        if let Some(reason) = entry.status.reason() {
            expander.add_row(&detail("Why", reason));
        }
        let provides: Vec<String> = [
            ("panel", &entry.provides.panels),
            ("strategy", &entry.provides.strategies),
            ("margin rule", &entry.provides.margin_rules),
        ]
        .iter()
        .flat_map(|(kind, ids)| ids.iter().map(move |id| format!("{id} ({kind})")))
        .collect();
        expander.add_row(&detail("Provides", &list_or_dash(&provides)));
        expander.add_row(&detail(
            "Permissions asked",
            &list_or_dash(&entry.permissions_asked),
        ));
        expander.add_row(&detail(
            "Permissions granted",
            &entry
                .permissions_granted
                .as_deref()
                .map_or_else(|| "not trusted".to_owned(), list_or_dash),
        ));
        expander.add_row(&detail(
            "Library SHA-256",
            entry.sha256.as_deref().unwrap_or("unreadable"),
        ));
        expander.add_row(&detail("Bundle", &entry.dir.display().to_string()));
        if entry.status == PluginStatus::Loaded {
            for type_id in &entry.provides.strategies {
                expander.add_row(&self.run_row(type_id));
            }
        }
        expander.add_row(&self.actions(entry));
        expander
    }

    /// Runs a loaded strategy on paper on the account chosen in the header.
    fn run_row(self: &Rc<Self>, type_id: &str) -> adw::ActionRow {
        let row = adw::ActionRow::builder()
            .title(format!("Strategy {type_id}"))
            .subtitle("Parameters as a JSON object; runs on paper on the account in the header")
            .build();
        let params = gtk::Entry::builder()
            .placeholder_text("{}")
            .width_chars(24)
            .valign(gtk::Align::Center)
            .build();
        params.set_widget_name(&format!("plugin-params-{type_id}"));
        a11y::set_label(&params, &format!("Parameters of {type_id}"));
        let run = gtk::Button::with_mnemonic("Run on _paper");
        run.set_valign(gtk::Align::Center);
        run.set_widget_name(&format!("plugin-run-{type_id}"));
        let weak = Rc::downgrade(self);
        let type_id = type_id.to_owned();
        let entry = params.clone();
        run.connect_clicked(move |_| {
            let Some(inner) = weak.upgrade() else { return };
            let account = inner.ctx.shared.borrow().account.clone();
            let Some(account) = account else {
                inner.ctx.request(WindowRequest::Toast(
                    "Connect and choose an account in the header first".into(),
                ));
                return;
            };
            inner.ctx.commands.send(PluginsCommand::RunStrategy {
                type_id: type_id.clone(),
                params_json: entry.text().to_string(),
                account,
            });
        });
        row.add_suffix(&params);
        row.add_suffix(&run);
        row
    }

    fn draw_running(self: &Rc<Self>, running: &[PluginInstanceInfo], latest: Option<&str>) {
        while let Some(child) = self.running.first_child() {
            self.running.remove(&child);
        }
        if running.is_empty() {
            let empty = adw::ActionRow::builder()
                .title("None running")
                .subtitle(latest.unwrap_or(
                    "Run a loaded plugin's strategy from its row above (needs a connection)",
                ))
                .build();
            self.running.append(&empty);
            return;
        }
        for info in running {
            let row = adw::ActionRow::builder()
                .title(&info.id)
                .subtitle(match latest {
                    Some(line) if line.starts_with(&info.id) => line.to_owned(),
                    _ => format!(
                        "{} on {} ({})",
                        info.type_id,
                        info.account,
                        info.mode.as_str()
                    ),
                })
                .build();
            let stop = gtk::Button::with_mnemonic("_Stop");
            stop.set_valign(gtk::Align::Center);
            stop.set_widget_name(&format!("plugin-stop-{}", info.id));
            let commands = self.ctx.commands.clone();
            let id = info.id.clone();
            stop.connect_clicked(move |_| {
                commands.send(PluginsCommand::StopStrategy { id: id.clone() });
            });
            row.add_suffix(&stop);
            self.running.append(&row);
        }
    }

    /// Trust, revoke, enable or disable, as fits the entry's state.
    fn actions(self: &Rc<Self>, entry: &PluginReport) -> adw::ActionRow {
        let row = adw::ActionRow::builder().title("Actions").build();
        let trusted = entry.permissions_granted.is_some();
        let mut buttons = Vec::new();
        if matches!(entry.status, PluginStatus::Untrusted(_)) && entry.sha256.is_some() {
            buttons.push(("trust", "_Trust…", true));
        }
        if trusted {
            buttons.push(("revoke", "_Revoke", false));
            if matches!(entry.status, PluginStatus::Disabled(_)) {
                buttons.push(("enable", "_Enable", false));
            } else {
                buttons.push(("disable", "_Disable", false));
            }
        }
        for (action, label, suggested) in buttons {
            let button = gtk::Button::with_mnemonic(label);
            button.set_valign(gtk::Align::Center);
            button.set_widget_name(&format!("plugin-{action}-{}", entry.id));
            if suggested {
                button.add_css_class("suggested-action");
            }
            let weak = Rc::downgrade(self);
            let entry = entry.clone();
            button.connect_clicked(move |button| {
                if let Some(inner) = weak.upgrade() {
                    inner.act(button, action, &entry);
                }
            });
            row.add_suffix(&button);
        }
        if row.first_child().is_none() {
            row.set_subtitle("Nothing to do until the bundle is fixed");
        }
        row
    }

    fn act(self: &Rc<Self>, button: &gtk::Button, action: &str, entry: &PluginReport) {
        let commands = &self.ctx.commands;
        match action {
            "trust" => {
                let commands = commands.clone();
                let bundle = entry.dir.clone();
                trust::confirm(button, entry, move || {
                    commands.send(PluginsCommand::Trust {
                        bundle: bundle.clone(),
                    });
                });
            }
            "revoke" => {
                commands.send(PluginsCommand::Revoke {
                    id: entry.id.clone(),
                });
            }
            "enable" | "disable" => {
                commands.send(PluginsCommand::SetEnabled {
                    id: entry.id.clone(),
                    enabled: action == "enable",
                });
            }
            _ => {}
        }
    }
}

/// A field of the bundle: its name, and the value below it (long hashes and paths wrap).
fn detail(title: &str, value: &str) -> adw::ActionRow {
    let row = adw::ActionRow::builder()
        .title(title)
        .subtitle(value)
        .build();
    row.add_css_class("property");
    a11y::set_label(&row, &format!("{title}: {value}"));
    row
}

fn list_or_dash(items: &[String]) -> String {
    if items.is_empty() {
        "—".to_owned()
    } else {
        items.join(", ")
    }
}

fn status_label(status: &PluginStatus) -> &'static str {
    match status {
        PluginStatus::Loaded => "Loaded",
        PluginStatus::Trusted => "Loads at next start",
        PluginStatus::Untrusted(_) => "Untrusted",
        PluginStatus::Disabled(_) => "Disabled",
        PluginStatus::Faulted(_) => "Faulted",
        PluginStatus::Incompatible(_) => "Incompatible",
    }
}

fn status_class(status: &PluginStatus) -> Option<&'static str> {
    match status {
        PluginStatus::Loaded => Some("success"),
        PluginStatus::Trusted => None,
        PluginStatus::Untrusted(_) | PluginStatus::Disabled(_) => Some("warning"),
        PluginStatus::Faulted(_) | PluginStatus::Incompatible(_) => Some("error"),
    }
}

impl Panel for PluginsPanel {
    fn widget(&self) -> gtk::Widget {
        self.inner.root.clone().upcast()
    }

    fn event(&self, event: &PanelEvent) {
        let PanelEvent::Backend(Notification::Plugins(event)) = event else {
            return;
        };
        match event {
            PluginsEvent::Listed {
                search_path,
                reports,
            } => self.inner.draw(search_path, reports),
            PluginsEvent::Changed(message) => {
                self.inner
                    .ctx
                    .request(WindowRequest::Toast(message.clone()));
            }
            PluginsEvent::Strategies { running, latest } => {
                self.inner.draw_running(running, latest.as_deref())
            }
            PluginsEvent::Discovered(_) => {}
        }
    }
}
