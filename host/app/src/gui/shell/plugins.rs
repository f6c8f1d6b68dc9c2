//! Loading the plugins the backend found, on the GTK main thread (a plugin's `init` and its
//! panels must run there): their panels join the registry and the sidebar, and the outcome is
//! recorded in the allowlist.

use std::rc::Rc;

use tickwork_core::plugins::{self, PluginStatus};

use super::sidebar::Sidebar;
use crate::gui::boundary::{Commands, PluginsCommand, PluginsFound};
use crate::gui::panels::plugin_panel::{self, PanelServices};
use crate::gui::workspace::Workspace;

/// Loads the eligible bundles once; answers what to tell the trader, if anything went wrong
/// (a plugin disabled after a crash, or one that failed to load).
pub fn load(
    found: &PluginsFound,
    runtime: &tokio::runtime::Handle,
    workspace: &Rc<Workspace>,
    sidebar: &Sidebar,
    commands: &Commands,
) -> Option<String> {
    let mut reports = found.reports.clone();
    plugins::load_eligible(&found.env, &mut reports);
    let services = PanelServices {
        pool: found.pool.clone(),
        runtime: runtime.clone(),
    };
    let panels = plugins::registry::loaded()
        .iter()
        .flat_map(|p| p.panels.clone())
        .map(|panel| plugin_panel::provider(panel, services.clone()))
        .collect();
    for provider in workspace.add_providers(panels) {
        sidebar.add(&provider);
    }
    let troubled: Vec<String> = reports
        .iter()
        .filter(|r| match &r.status {
            PluginStatus::Faulted(_) => true,
            // Switched off by the trader: nothing to tell. After a crash: say so.
            PluginStatus::Disabled(reason) => reason.contains("crash"),
            _ => false,
        })
        .map(|r| format!("{}: {}", r.id, r.status.reason().unwrap_or("not loaded")))
        .collect();
    commands.send(PluginsCommand::Loaded(reports));
    (!troubled.is_empty()).then(|| format!("Plugins not loaded — {}", troubled.join("; ")))
}
