//! A panel from a native plugin, in a tab like any other: the plugin builds its widget on the
//! GTK main thread through `tickwork.panel.gtk4/1`; the window answers its market-data
//! subscriptions (watching the instruments through the backend) and hands it the quotes that
//! changed once per frame, as tick events. A panel that fails to build, or faults on an event,
//! shows why in its tab; the rest of the window goes on.

use std::cell::RefCell;
use std::rc::Rc;

use adw::prelude::*;
use gtk::glib;
use gtk::glib::translate::FromGlibPtrFull;
use sqlx::PgPool;
use tickwork_core::domain::Quote;
use tickwork_core::plugins::capability::PluginPanel;
use tickwork_core::plugins::panel::PanelInstance;
use tickwork_core::plugins::services::{Event, QuoteState, Request};
use tickwork_core::scripting::strategy::symbols;
use tickwork_plugin_api::abi::TW_MD_TICKS;

use super::{Panel, PanelContext, PanelEvent, PanelProvider};
use crate::gui::boundary::{MarketCommand, MarketEvent, Notification};

/// What plugin panels need from the backend's world.
#[derive(Clone)]
pub struct PanelServices {
    pub pool: PgPool,
    pub runtime: tokio::runtime::Handle,
}

/// The provider of a loaded plugin panel; its id is `plugin.<panel id>`.
pub fn provider(panel: PluginPanel, services: PanelServices) -> PanelProvider {
    let description = format!(
        "From the plugin {} {}",
        panel.provider.plugin_id, panel.provider.plugin_version
    );
    let counter = Rc::new(std::cell::Cell::new(0u32));
    PanelProvider {
        id: format!("plugin.{}", panel.panel_id),
        title: panel.title.clone(),
        icon: "application-x-addon-symbolic".into(),
        description,
        multiple: false,
        build: Rc::new(move |ctx| {
            counter.set(counter.get() + 1);
            let instance = format!("{}#{}", panel.panel_id, counter.get());
            Box::new(PluginPanelView::new(&panel, &services, instance, ctx))
        }),
    }
}

/// A plugin's instrument, once the backend watches it.
struct Subscription {
    instrument_id: u32,
    symbol: String,
    kinds: u32,
    /// The session's instrument id, once known.
    line: Option<i64>,
}

struct PluginPanelView {
    root: gtk::Box,
    status: gtk::Label,
    ctx: PanelContext,
    instance: RefCell<Option<PanelInstance>>,
    subscriptions: RefCell<Vec<Subscription>>,
}

impl PluginPanelView {
    fn new(
        panel: &PluginPanel,
        services: &PanelServices,
        instance: String,
        ctx: PanelContext,
    ) -> Self {
        let root = gtk::Box::new(gtk::Orientation::Vertical, 0);
        root.set_widget_name(&format!("plugin-panel-{}", panel.panel_id));
        let status = gtk::Label::builder()
            .wrap(true)
            .xalign(0.0)
            .margin_top(6)
            .margin_bottom(6)
            .margin_start(12)
            .margin_end(12)
            .visible(false)
            .build();
        status.set_widget_name("plugin-panel-status");
        status.add_css_class("error");
        root.append(&status);
        let view = Self {
            root,
            status,
            ctx,
            instance: RefCell::new(None),
            subscriptions: RefCell::default(),
        };
        match PanelInstance::create(
            panel,
            instance,
            services.pool.clone(),
            services.runtime.clone(),
        )
        .and_then(|(instance, widget)| Ok((instance, take_widget(widget)?)))
        {
            Ok((instance, widget)) => {
                widget.set_vexpand(true);
                widget.set_hexpand(true);
                view.root.append(&widget);
                view.instance.replace(Some(instance));
                view.serve_requests();
            }
            Err(err) => {
                tracing::error!(plugin = %panel.provider.plugin_id, "panel not built: {err}");
                let page = adw::StatusPage::builder()
                    .icon_name("dialog-error-symbolic")
                    .title("This plugin panel could not be built")
                    .description(format!("{}: {err}", panel.provider.plugin_id))
                    .vexpand(true)
                    .build();
                view.root.append(&page);
            }
        }
        view
    }

    /// Carries out what the plugin asked since the last call: watch or stop watching.
    fn serve_requests(&self) {
        let requests = match self.instance.borrow_mut().as_mut() {
            Some(instance) => instance.take_requests(),
            None => return,
        };
        for request in requests {
            match request {
                Request::Subscribe {
                    instrument_id,
                    symbol,
                    kinds,
                    ..
                } => match symbols::spec_of(&symbol) {
                    Ok(spec) => {
                        let line = self.known_line(&symbol);
                        self.subscriptions.borrow_mut().push(Subscription {
                            instrument_id,
                            symbol,
                            kinds,
                            line,
                        });
                        if line.is_none() {
                            self.ctx.commands.send(MarketCommand::Watch { spec });
                        }
                    }
                    Err(err) => tracing::warn!("plugin panel subscription refused: {err}"),
                },
                Request::Unsubscribe { instrument_id } => self
                    .subscriptions
                    .borrow_mut()
                    .retain(|s| s.instrument_id != instrument_id),
                // Panels do not trade; the services refuse it before it gets here.
                _ => {}
            }
        }
    }

    /// The session's id of an instrument the window already knows by symbol.
    fn known_line(&self, symbol: &str) -> Option<i64> {
        let shared = self.ctx.shared.borrow();
        shared
            .instruments
            .values()
            .find(|i| symbols::symbol_of(&i.spec) == symbol)
            .map(|i| i.id)
    }

    fn deliver(&self, events: Vec<Event>) {
        if events.is_empty() {
            return;
        }
        let mut slot = self.instance.borrow_mut();
        let Some(instance) = slot.as_mut() else {
            return;
        };
        for event in events {
            if let Err(fault) = instance.deliver(&event) {
                self.status
                    .set_text(&format!("The plugin stopped getting updates: {fault}"));
                self.status.set_visible(true);
                break;
            }
        }
        drop(slot);
        self.serve_requests();
    }

    fn tick_events(&self, quotes: &[Quote]) -> Vec<Event> {
        let subscriptions = self.subscriptions.borrow();
        let mut events = Vec::new();
        for quote in quotes {
            for sub in subscriptions.iter() {
                if sub.line == Some(quote.instrument_id) && sub.kinds & TW_MD_TICKS != 0 {
                    events.push(tick_event(sub.instrument_id, quote));
                }
            }
        }
        events
    }
}

fn tick_event(instrument_id: u32, quote: &Quote) -> Event {
    Event::Tick {
        instrument_id,
        at: quote.updated_at.unwrap_or_else(chrono::Utc::now),
        quote: QuoteState {
            bid: quote.bid,
            ask: quote.ask,
            last: quote.last,
            bid_size: quote.bid_size,
            ask_size: quote.ask_size,
            last_size: quote.last_size,
        },
    }
}

/// Takes the `GtkWidget*` a plugin handed over (a full reference), after checking it is one.
fn take_widget(ptr: *mut core::ffi::c_void) -> Result<gtk::Widget, String> {
    // SAFETY: `ptr` is non-null (checked by `PanelInstance::create`) and, per the ABI, a
    // GObject instance; GLib's type check reads only its class pointer.
    let is_widget = unsafe {
        glib::gobject_ffi::g_type_check_instance_is_a(
            ptr.cast::<glib::gobject_ffi::GTypeInstance>(),
            gtk::ffi::gtk_widget_get_type(),
        ) != glib::ffi::GFALSE
    };
    if !is_widget {
        return Err("create handed back something that is not a GtkWidget".into());
    }
    // SAFETY: a GtkWidget with a full reference transferred to us, on the main thread.
    Ok(unsafe { gtk::Widget::from_glib_full(ptr.cast::<gtk::ffi::GtkWidget>()) })
}

impl Panel for PluginPanelView {
    fn widget(&self) -> gtk::Widget {
        self.root.clone().upcast()
    }

    fn event(&self, event: &PanelEvent) {
        if let PanelEvent::Backend(Notification::Market(MarketEvent::Watching(instrument))) = event
        {
            let symbol = symbols::symbol_of(&instrument.spec);
            let mut waiting = false;
            for sub in self.subscriptions.borrow_mut().iter_mut() {
                if sub.line.is_none() && sub.symbol == symbol {
                    sub.line = Some(instrument.id);
                    waiting = true;
                }
            }
            if waiting {
                // Its current quote, so the panel does not wait for the next change.
                let quote = self.ctx.shared.borrow().quotes.get(&instrument.id).cloned();
                if let Some(quote) = quote {
                    let events = self.tick_events(std::slice::from_ref(&quote));
                    self.deliver(events);
                }
            }
        }
    }

    fn quotes(&self, quotes: &[Quote]) {
        self.serve_requests();
        let events = self.tick_events(quotes);
        self.deliver(events);
    }
}
