//! The panel registry: every panel the workspace can show, built-in or from a plugin, is a
//! [`PanelProvider`] registered here under a stable id. The saved layout names panels by that
//! id; a saved panel whose provider is gone is shown as a [`placeholder`].
//!
//! A panel is a GTK widget plus two entry points: [`Panel::event`] for everything the backend
//! says (and selections from other panels), [`Panel::quotes`] once per frame with the quotes that
//! changed. Panels talk back through their [`PanelContext`]: commands to the core, requests to
//! the window.

pub mod audit;
pub mod chart;
mod columns;
pub mod connection;
pub mod margin;
pub mod orders;
pub mod placeholder;
pub mod plugin_panel;
pub mod plugins;
mod poll;
pub mod positions;
pub mod scripts;
pub mod ticket;
pub mod watchlist;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use tickwork_core::domain::{Instrument, Quote};
use tickwork_core::risk::RiskLimits;
use tickwork_core::session::ConnectionState;
use tickwork_core::store::profiles::ConnectionProfile;

use super::boundary::{Commands, Notification, TicketDefaults, TradingState};

/// One open panel.
pub trait Panel {
    /// The panel's root widget (the workspace puts it in a tab).
    fn widget(&self) -> gtk::Widget;
    /// A notification from the backend or an event of the window; ignore what is not yours.
    fn event(&self, _event: &PanelEvent) {}
    /// Quotes that changed since the last frame, merged per instrument.
    fn quotes(&self, _quotes: &[Quote]) {}
    /// What the panel wants restored next time (its list, symbol, bar size…), saved with the
    /// layout and handed back in [`PanelContext::saved`].
    fn saved_state(&self) -> Option<serde_json::Value> {
        None
    }
}

/// What panels hear about.
#[derive(Debug, Clone)]
pub enum PanelEvent {
    Backend(Notification),
    /// The trader picked an instrument in another panel (the chart and ticket follow it).
    InstrumentSelected(Instrument),
    /// The account chosen in the header changed.
    AccountSelected(Option<String>),
}

/// Requests from a panel to the window.
// Sent on clicks, not per tick: boxing the instrument would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum WindowRequest {
    /// Tell every panel that this instrument is now the one of interest.
    Select(Instrument),
    /// Open (or focus) a panel by provider id.
    Open(String),
    /// Show a toast.
    Toast(String),
    /// The panel's saved state changed: save the layout soon.
    LayoutChanged,
}

/// What every panel may read: kept current by the window before events are delivered.
#[derive(Debug, Default)]
pub struct Shared {
    pub connection: ConnectionState,
    pub profile: Option<ConnectionProfile>,
    pub demo: bool,
    pub trading: TradingState,
    /// The account chosen in the header (`None` until TWS reports accounts).
    pub account: Option<String>,
    /// Instruments seen so far (watched, searched, traded), by id.
    pub instruments: HashMap<i64, Instrument>,
    /// Latest quote per instrument (updated once per frame).
    pub quotes: HashMap<i64, Quote>,
    pub limits: Vec<(String, RiskLimits)>,
    /// What a new order ticket starts with (Preferences).
    pub ticket_defaults: TicketDefaults,
}

/// Handed to a provider when it builds a panel.
#[derive(Clone)]
pub struct PanelContext {
    pub commands: Commands,
    pub shared: Rc<RefCell<Shared>>,
    window: Rc<dyn Fn(WindowRequest)>,
    /// The state the panel saved last time, if any.
    pub saved: Option<serde_json::Value>,
}

impl PanelContext {
    pub fn new(
        commands: Commands,
        shared: Rc<RefCell<Shared>>,
        window: Rc<dyn Fn(WindowRequest)>,
        saved: Option<serde_json::Value>,
    ) -> Self {
        Self {
            commands,
            shared,
            window,
            saved,
        }
    }

    pub fn request(&self, request: WindowRequest) {
        (self.window)(request);
    }
}

/// Builds a panel; called on the GTK main thread.
pub type BuildPanel = Rc<dyn Fn(PanelContext) -> Box<dyn Panel>>;

/// A kind of panel the workspace can open.
#[derive(Clone)]
pub struct PanelProvider {
    /// Stable id, saved in layouts (`watchlist`, `chart`, `plugin.<id>.<panel>`…).
    pub id: String,
    pub title: String,
    /// A symbolic icon name for the sidebar and tabs.
    pub icon: String,
    /// One line for the sidebar's tooltip and the accessible description.
    pub description: String,
    /// Whether several can be open at once (charts) or opening again focuses the one open.
    pub multiple: bool,
    pub build: BuildPanel,
}

/// Every provider, in sidebar order.
#[derive(Clone, Default)]
pub struct PanelRegistry {
    providers: Vec<PanelProvider>,
}

impl PanelRegistry {
    /// Adds a provider; a second provider with the same id is refused (plugins cannot take
    /// over a built-in panel).
    pub fn register(&mut self, provider: PanelProvider) -> Result<(), String> {
        if self.get(&provider.id).is_some() {
            return Err(format!(
                "a panel with id `{}` is already registered",
                provider.id
            ));
        }
        self.providers.push(provider);
        Ok(())
    }

    pub fn get(&self, id: &str) -> Option<&PanelProvider> {
        self.providers.iter().find(|p| p.id == id)
    }

    pub fn providers(&self) -> &[PanelProvider] {
        &self.providers
    }

    /// The built-in panels.
    pub fn builtin() -> Self {
        let mut registry = Self::default();
        for provider in builtin_providers() {
            // Built-in ids are distinct by construction.
            let _ = registry.register(provider);
        }
        registry
    }
}

fn builtin_providers() -> Vec<PanelProvider> {
    vec![
        watchlist::provider(),
        positions::provider(),
        ticket::provider(),
        orders::provider(),
        chart::provider(),
        margin::provider(),
        connection::provider(),
        audit::provider(),
        scripts::provider(),
        plugins::provider(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Empty;
    impl Panel for Empty {
        fn widget(&self) -> gtk::Widget {
            unreachable!("not built in this test")
        }
    }

    fn provider(id: &str) -> PanelProvider {
        PanelProvider {
            id: id.into(),
            title: id.into(),
            icon: "view-grid-symbolic".into(),
            description: String::new(),
            multiple: false,
            build: Rc::new(|_| Box::new(Empty)),
        }
    }

    #[test]
    fn ids_are_unique() {
        let mut registry = PanelRegistry::default();
        registry.register(provider("watchlist")).unwrap();
        let err = registry.register(provider("watchlist")).err().unwrap();
        assert!(err.contains("already registered"), "{err}");
        assert_eq!(registry.providers().len(), 1);
        assert!(registry.get("chart").is_none());
    }
}
