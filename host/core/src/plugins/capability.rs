//! The capabilities of a loaded plugin, as the places that use them receive them: copies of the
//! plugin's `'static` tables (libraries are never unloaded) with who offered them.

use tickwork_plugin_api::abi::{TwHostApi, TwMarginRuleV1, TwPanelGtk4V1, TwStrategyV1};

use super::permissions::Permissions;

/// The host table handed to a plugin's `init` and `create`: leaked, so `'static`.
#[derive(Clone, Copy)]
pub struct HostApiRef(pub &'static TwHostApi);

// SAFETY: the table is immutable after it is built and lives for the rest of the process; its
// context pointer is only read by the host's own thread-safe functions.
unsafe impl Send for HostApiRef {}
// SAFETY: as above.
unsafe impl Sync for HostApiRef {}

/// Who offers a capability.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    /// The plugin id (`com.example.pairs`).
    pub plugin_id: String,
    pub plugin_version: String,
    /// What the user granted at trust time.
    pub permissions: Permissions,
}

/// A strategy type a loaded plugin offers (`tickwork.strategy/1`).
#[derive(Clone, Copy)]
pub struct StrategyTable(pub TwStrategyV1);
/// A margin rule a loaded plugin offers (`tickwork.margin-rule/1`).
#[derive(Clone, Copy)]
pub struct MarginRuleTable(pub TwMarginRuleV1);
/// A panel a loaded plugin offers (`tickwork.panel.gtk4/1`).
#[derive(Clone, Copy)]
pub struct PanelTable(pub TwPanelGtk4V1);

// SAFETY: the tables hold `'static` strings and function pointers of a library that is never
// unloaded; the threading rules of each call are the ABI's (documented on each table) and are
// kept by the code that calls them.
unsafe impl Send for StrategyTable {}
// SAFETY: as above.
unsafe impl Sync for StrategyTable {}
// SAFETY: as above.
unsafe impl Send for MarginRuleTable {}
// SAFETY: as above.
unsafe impl Sync for MarginRuleTable {}
// SAFETY: as above.
unsafe impl Send for PanelTable {}
// SAFETY: as above.
unsafe impl Sync for PanelTable {}

/// A loaded strategy type, ready for the strategy manager.
#[derive(Clone)]
pub struct PluginStrategy {
    pub provider: Provider,
    /// `[provides] strategies` entry, equal to the table's `type_id`.
    pub type_id: String,
    pub table: StrategyTable,
    pub host: HostApiRef,
}

/// A loaded margin rule, ready for the margin engine's extension point.
#[derive(Clone)]
pub struct PluginMarginRule {
    pub provider: Provider,
    pub rule_id: String,
    pub table: MarginRuleTable,
}

/// A loaded panel, ready for the panel registry (created on the GTK main thread only).
#[derive(Clone)]
pub struct PluginPanel {
    pub provider: Provider,
    pub panel_id: String,
    pub title: String,
    pub table: PanelTable,
    pub host: HostApiRef,
}
