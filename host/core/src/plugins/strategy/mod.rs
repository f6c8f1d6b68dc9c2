//! Plugin strategies: instances of a loaded plugin's `tickwork.strategy/1` table, run beside
//! the Rhai strategies on the same [`HostDeps`] (hub, order router and risk gate, session,
//! database, risk view).
//!
//! Each instance has a host-owned worker thread that makes every call into the plugin
//! (`create`, then one event at a time, then `destroy`), and a driver task on the runtime that
//! feeds it and carries out what it asks through the host services. Paper and live are
//! decided as for scripts: paper needs the simulator or an IB paper account; live needs the
//! user's grant for this plugin and account, pinned to the SHA-256 of the library the user
//! trusted. A non-OK answer from `on_event` faults the instance; a call running longer than
//! the watchdog's limit marks it hung. Either way it gets no more events and its working
//! orders are cancelled (the fault policy); positions stay.

mod driver;
mod watchdog;
mod worker;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::{broadcast, mpsc, oneshot};

use self::driver::{Command, Driver, QUEUE};
pub use self::watchdog::DEFAULT_CALL_LIMIT;
use self::watchdog::Watchdog;
pub(crate) use self::worker::describe as describe_status;
use self::worker::{Calls, ThreadMsg};
use crate::plugins::capability::PluginStrategy;
use crate::plugins::services::{InstanceCtx, Lifecycle, MarketFeed, State, Trading};
use crate::scripting::host::{Desk, HostDeps, Instances};
use crate::store::script_runs::{self, RunMode};
use crate::store::{StoreError, plugins};

/// How an instance stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PluginStrategyStatus {
    Running,
    Stopped,
    /// It answered an event with an error (a caught panic, a failure, an unknown status) or
    /// fell behind.
    Faulted,
    /// A call into it ran longer than the watchdog's limit.
    Hung,
}

impl PluginStrategyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Stopped => "stopped",
            Self::Faulted => "faulted",
            Self::Hung => "hung",
        }
    }
}

/// What the manager reports about its instances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginStrategyEvent {
    /// What the host did for it (orders sent, denied, filled; subscriptions that failed).
    /// `instance` is the instance's id (`<plugin id>/<name>`).
    Console { instance: String, line: String },
    Status {
        instance: String,
        status: PluginStrategyStatus,
        /// Why it faulted or hung, or what stopping did.
        detail: Option<String>,
    },
}

/// A running instance as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginInstanceInfo {
    /// `<plugin id>/<name>`: how the manager, its events and the audit log's
    /// `plugin:<id>/<instance>` name it.
    pub id: String,
    /// The instance name (`mean-reversion@DU123/paper`), unique within the plugin.
    pub name: String,
    pub plugin_id: String,
    pub type_id: String,
    pub account: String,
    pub mode: RunMode,
}

/// The subject of a plugin's live-trading grants (`script_grants`, beside the scripts').
pub fn grant_subject(plugin_id: &str) -> String {
    format!("plugin:{plugin_id}")
}

/// Grants a plugin live trading on `account` for the library with this hash (the one the
/// user trusted); a new library asks again.
pub async fn grant_live(
    pool: &PgPool,
    plugin_id: &str,
    account: &str,
    library_sha256: &str,
    granted_by: &str,
) -> Result<(), StoreError> {
    let subject = grant_subject(plugin_id);
    script_runs::grant(pool, &subject, account, library_sha256, granted_by).await
}

/// Runs plugin strategies; cheap to clone.
#[derive(Clone)]
pub struct PluginStrategies {
    deps: HostDeps,
    running: Instances<PluginInstanceInfo, Command>,
    events: broadcast::Sender<PluginStrategyEvent>,
    watchdog: Arc<Watchdog>,
    call_limit: Duration,
}

impl PluginStrategies {
    /// A manager whose watchdog allows each call [`DEFAULT_CALL_LIMIT`].
    pub fn new(deps: HostDeps) -> Self {
        Self::with_call_limit(deps, DEFAULT_CALL_LIMIT)
    }

    /// A manager whose watchdog marks an instance hung after a call of `limit`.
    pub fn with_call_limit(deps: HostDeps, limit: Duration) -> Self {
        Self {
            deps,
            running: Instances::default(),
            events: broadcast::channel(4096).0,
            watchdog: Arc::new(Watchdog::start(limit)),
            call_limit: limit,
        }
    }

    pub fn events(&self) -> broadcast::Receiver<PluginStrategyEvent> {
        self.events.subscribe()
    }

    /// The instance name of a strategy type on an account in a mode (one of each at a time);
    /// the type id loses its plugin-id prefix (`com.example.mr.meanrev` → `meanrev`).
    pub fn instance_name(plugin_id: &str, type_id: &str, account: &str, mode: RunMode) -> String {
        let short = type_id
            .strip_prefix(plugin_id)
            .and_then(|rest| rest.strip_prefix('.'))
            .filter(|rest| !rest.is_empty())
            .unwrap_or(type_id);
        format!("{short}@{account}/{}", mode.as_str())
    }

    pub fn list(&self) -> Vec<PluginInstanceInfo> {
        self.running.list()
    }

    /// Whether the plugin may trade `account` in `mode`; the error says what is missing.
    async fn may_run(
        &self,
        strategy: &PluginStrategy,
        account: &str,
        mode: RunMode,
    ) -> Result<(), String> {
        let id = &strategy.provider.plugin_id;
        let sha256 = match mode {
            RunMode::Paper => String::new(),
            RunMode::Live => plugins::get(&self.deps.pool, id)
                .await
                .map_err(|e| e.to_string())?
                .filter(|p| p.enabled)
                .map(|p| p.library_sha256)
                .ok_or_else(|| {
                    format!("plugin {id} is not trusted and enabled, so it may not trade live")
                })?,
        };
        self.deps
            .may_trade(
                &grant_subject(id),
                &format!("plugin {id}"),
                &sha256,
                account,
                mode,
            )
            .await
    }

    /// Starts an instance of `strategy` with its parameters (a JSON object) on `account`:
    /// checks, `create` on its worker thread, then events. Answers the instance's id
    /// (`<plugin id>/<name>`).
    pub async fn start(
        &self,
        strategy: PluginStrategy,
        params_json: &str,
        account: &str,
        mode: RunMode,
    ) -> Result<String, String> {
        let type_id = strategy.type_id.clone();
        let plugin_id = strategy.provider.plugin_id.clone();
        match serde_json::from_str::<serde_json::Value>(params_json) {
            Ok(serde_json::Value::Object(_)) => {}
            Ok(_) => return Err(format!("parameters of {type_id}: not a JSON object")),
            Err(e) => return Err(format!("parameters of {type_id}: {e}")),
        }
        // Read in place: a copy of the raw table held across an await would make this future
        // not `Send`.
        let complete = {
            let table = &strategy.table.0;
            table.create.is_some() && table.on_event.is_some() && table.destroy.is_some()
        };
        if !complete {
            return Err(format!("{type_id}: the strategy table has a null entry"));
        }
        self.may_run(&strategy, account, mode).await?;
        let name = Self::instance_name(&plugin_id, &type_id, account, mode);
        let id = format!("{plugin_id}/{name}");
        self.running.check_free(&id)?;
        let margin_lines = self.deps.watch_holdings(account).await;

        let life = Arc::new(Lifecycle::default());
        let (notes, requests) = mpsc::unbounded_channel();
        self.watchdog.watch(&life, notes.clone());
        let ctx = Box::new(InstanceCtx::new(
            plugin_id.clone(),
            name.clone(),
            strategy.provider.permissions.clone(),
            Some(Trading {
                account: account.to_owned(),
                mode,
            }),
            life.clone(),
            notes.clone(),
            self.deps.pool.clone(),
            tokio::runtime::Handle::current(),
        ));
        let (to_worker, inbox) = std::sync::mpsc::sync_channel::<ThreadMsg>(QUEUE);
        let (created_tx, created) = oneshot::channel();
        let calls = Calls {
            plugin_id: plugin_id.clone(),
            instance: name.clone(),
            table: strategy.table,
            host: strategy.host,
            life: life.clone(),
            notes,
        };
        let refused = |detail: String| {
            let _ = self.events.send(PluginStrategyEvent::Status {
                instance: id.clone(),
                status: PluginStrategyStatus::Faulted,
                detail: Some(detail.clone()),
            });
            format!("{id}: {detail}")
        };
        if let Err(e) = worker::spawn(calls, ctx, params_json.to_owned(), inbox, created_tx) {
            self.deps.unwatch(margin_lines).await;
            return Err(refused(e));
        }
        // The watchdog marks a `create` that overruns its limit hung; waiting a little longer
        // than the limit sees it.
        let wait = self.call_limit + Duration::from_millis(500);
        let outcome = match tokio::time::timeout(wait, created).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(_)) => Err("the worker thread ended during create".to_owned()),
            Err(_) => {
                life.transition(&[State::Starting], State::Hung);
                Err(format!(
                    "create has not returned after {:.1} s: hung",
                    wait.as_secs_f64()
                ))
            }
        };
        if let Err(detail) = outcome {
            self.deps.unwatch(margin_lines).await;
            return Err(refused(detail));
        }
        let origin = crate::domain::Origin::Plugin {
            id: plugin_id.to_owned(),
            instance: name.clone(),
        };
        let driver = Driver {
            name: id.clone(),
            plugin_id: plugin_id.clone(),
            deps: self.deps.clone(),
            life,
            desk: Desk::new(origin, account.to_owned()),
            feed: MarketFeed::default(),
            to_worker,
            events: self.events.clone(),
            margin_lines,
            symbols: HashMap::new(),
            intents: HashMap::new(),
        };
        let (commands, command_inbox) = mpsc::channel(4);
        let task = tokio::spawn(driver.run(requests, command_inbox));
        let info = PluginInstanceInfo {
            id: id.clone(),
            name,
            plugin_id,
            type_id,
            account: account.to_owned(),
            mode,
        };
        self.running.insert(id.clone(), info, commands, task);
        Ok(id)
    }

    /// Stops an instance: `destroy`, then its working orders are cancelled; waits for it.
    pub async fn stop(&self, id: &str) -> Result<(), String> {
        self.running.stop(id, Command::Stop).await
    }

    /// Stops every instance (the session is going away).
    pub async fn stop_all(&self) {
        self.running.stop_all(Command::Stop).await;
    }

    /// Waits until an instance has ended by itself (faulted or hung).
    pub async fn finished(&self, id: &str) {
        self.running.finished(id).await;
    }
}

#[cfg(test)]
mod tests;
