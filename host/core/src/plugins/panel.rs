//! One open plugin panel, without GTK: its `create`, the events of its subscriptions and its
//! `destroy`, each noted in the crash journal and stamped like a strategy's calls. The window
//! (on the GTK main thread, where every panel call must run) wraps the widget `create` hands
//! back, answers the panel's market-data requests and feeds it quotes once per frame.
//!
//! A panel that answers an event with anything but `TW_OK` (a panic its SDK guard caught, an
//! unknown status) is faulted: it gets no more events and the window says why; its widget
//! stays where it is until the tab is closed.

use core::ffi::c_void;
use std::sync::Arc;

use sqlx::PgPool;
use tickwork_plugin_api::abi::{TW_OK, TwInstance, TwInstanceCtx};
use tokio::runtime::Handle;
use tokio::sync::mpsc;

use super::capability::PluginPanel;
use super::journal;
use super::services::{Event, InstanceCtx, Lifecycle, Request, State};
use super::strategy::describe_status;

/// A panel plugin's instance: created by [`PanelInstance::create`], destroyed when dropped.
pub struct PanelInstance {
    plugin_id: String,
    instance: String,
    panel: PluginPanel,
    ctx: *mut TwInstanceCtx,
    this: *mut TwInstance,
    life: Arc<Lifecycle>,
    requests: mpsc::UnboundedReceiver<Request>,
    fault: Option<String>,
}

impl std::fmt::Debug for PanelInstance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PanelInstance")
            .field("plugin_id", &self.plugin_id)
            .field("instance", &self.instance)
            .field("fault", &self.fault)
            .finish()
    }
}

impl PanelInstance {
    /// Calls the panel's `create` (on the GTK main thread): the instance and the `GtkWidget*`
    /// it handed over (a full reference, not yet checked to be a widget), or why it failed.
    pub fn create(
        panel: &PluginPanel,
        instance: String,
        pool: PgPool,
        runtime: Handle,
    ) -> Result<(Self, *mut c_void), String> {
        let table = panel.table.0;
        let (Some(create), Some(_), Some(_)) = (table.create, table.on_event, table.destroy) else {
            return Err("the panel table has a null entry".into());
        };
        let plugin_id = panel.provider.plugin_id.clone();
        let life = Arc::new(Lifecycle::default());
        let (tx, requests) = mpsc::unbounded_channel();
        let ctx = Box::new(InstanceCtx::new(
            plugin_id.clone(),
            instance.clone(),
            panel.provider.permissions.clone(),
            None,
            life.clone(),
            tx,
            pool,
            runtime,
        ))
        .into_raw();
        let mut widget: *mut c_void = core::ptr::null_mut();
        let this = {
            let _journal = journal::enter(&plugin_id, &instance, "panel.create");
            life.begin_call("panel.create");
            // SAFETY: the table's `create` with the plugin's host table, a live context and a
            // place for the widget, all valid for the call.
            let this = unsafe { create(panel.host.0, ctx, &raw mut widget) };
            life.end_call();
            this
        };
        if this.is_null() || widget.is_null() {
            life.transition(&[State::Starting], State::Faulted);
            // SAFETY: `create` returned; nothing holds the context any more. A widget handed
            // over with a null instance is leaked rather than trusted.
            unsafe { InstanceCtx::free(ctx) };
            return Err(if this.is_null() {
                "create returned no instance (see the plugin's log)".into()
            } else {
                "create returned no widget".into()
            });
        }
        life.transition(&[State::Starting], State::Running);
        Ok((
            Self {
                plugin_id,
                instance,
                panel: panel.clone(),
                ctx,
                this,
                life,
                requests,
                fault: None,
            },
            widget,
        ))
    }

    /// The market-data requests the panel made since the last call (subscribe, unsubscribe).
    pub fn take_requests(&mut self) -> Vec<Request> {
        let mut out = Vec::new();
        while let Ok(request) = self.requests.try_recv() {
            out.push(request);
        }
        out
    }

    /// Delivers one event; an error status faults the panel (then it gets no more).
    pub fn deliver(&mut self, event: &Event) -> Result<(), String> {
        if let Some(fault) = &self.fault {
            return Err(fault.clone());
        }
        let Some(on_event) = self.panel.table.0.on_event else {
            return Err("the panel table has no on_event".into());
        };
        let status = {
            let _journal = journal::enter(&self.plugin_id, &self.instance, "panel.on_event");
            self.life.begin_call("panel.on_event");
            // SAFETY: `this` is the live instance; the event is laid out for this call.
            let status = event.with_abi(|header| unsafe { on_event(self.this, header) });
            self.life.end_call();
            status
        };
        if status == TW_OK {
            return Ok(());
        }
        let fault = describe_status(status, event.kind());
        self.life.transition(&[State::Running], State::Faulted);
        tracing::error!(plugin = %self.plugin_id, instance = %self.instance, "panel faulted: {fault}");
        self.fault = Some(fault.clone());
        Err(fault)
    }

    /// Why the panel stopped getting events, if it did.
    pub fn fault(&self) -> Option<&str> {
        self.fault.as_deref()
    }

    pub fn instance(&self) -> &str {
        &self.instance
    }
}

impl Drop for PanelInstance {
    fn drop(&mut self) {
        self.life
            .transition(&[State::Running, State::Faulted], State::Stopping);
        if let Some(destroy) = self.panel.table.0.destroy {
            let _journal = journal::enter(&self.plugin_id, &self.instance, "panel.destroy");
            // SAFETY: `this` came from `create`; no call follows `destroy`.
            unsafe { destroy(self.this) };
        }
        self.life.transition(&[State::Stopping], State::Stopped);
        // SAFETY: the last call into the plugin has returned; nothing uses the context again.
        unsafe { InstanceCtx::free(self.ctx) };
    }
}
