//! The strategy host: runs strategy instances on a live or paper connection, each on its own
//! task with its hooks on blocking threads, beside the session (in the workbench and in
//! `tickwork headless`). It checks the run may trade (paper: a paper account or the simulator;
//! live: the user's grant for this account and exactly this script text), restores saved state,
//! and reports console lines and status changes as [`HostEvent`]s.

mod bars;
mod desk;
mod running;
mod worker;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::Utc;
use rhai::Engine;
use sqlx::PgPool;
use tokio::sync::{broadcast, mpsc, oneshot};

pub use crate::store::script_runs::{InstanceStatus, RunMode};
pub use bars::BarBuilder;
pub(crate) use desk::{Desk, Placed, intent_of};
pub(crate) use running::Instances;

use self::worker::{Worker, WorkerCommand};
use crate::hub::Hub;
use crate::risk::{OrderRouter, RiskView};
use crate::scripting::strategy::{
    ParamValues, SavedInstance, ScriptBar, StrategyInstance, StrategyScript, params, symbols,
};
use crate::session::SessionHandle;
use crate::store::script_runs;

/// What the host needs from the running session.
#[derive(Clone)]
pub struct HostDeps {
    pub hub: Arc<Hub>,
    pub router: OrderRouter,
    /// To watch the instruments a strategy trades (`None` in tests without a session).
    pub session: Option<SessionHandle>,
    pub pool: PgPool,
    pub view: RiskView,
    /// The connection is the simulator, so any of its accounts is a paper account.
    pub simulator: bool,
}

/// Where an instance's bars come from.
#[derive(Debug, Clone)]
pub enum Feed {
    /// Bars of `bar_seconds` built from the session's ticks.
    Live { bar_seconds: i32 },
    /// Recorded bars, one after the other: each waits until the market orders of the one before
    /// are filled, so a paper replay decides as the backtest of the same bars does.
    Replay { bars: Vec<ScriptBar> },
}

impl HostDeps {
    /// Whether `subject` may trade `account` in `mode`: paper needs the simulator or an IB
    /// paper account; live needs the user's grant for `subject` on that account, pinned to
    /// `sha256` (the script's text, or the plugin library's). `what` names the subject in the
    /// error, which says what is missing.
    pub(crate) async fn may_trade(
        &self,
        subject: &str,
        what: &str,
        sha256: &str,
        account: &str,
        mode: RunMode,
    ) -> Result<(), String> {
        match mode {
            RunMode::Paper => {
                let paper_account = account.starts_with("DU") || account.starts_with("DF");
                if !(self.simulator || paper_account) {
                    return Err(format!(
                        "{account} is not a paper account (IB paper accounts start with DU); run it live, with a grant"
                    ));
                }
            }
            RunMode::Live => {
                let grant = script_runs::grant_for(&self.pool, subject, account)
                    .await
                    .map_err(|e| e.to_string())?;
                let version = sha256.get(..12).unwrap_or(sha256);
                match grant {
                    Some(g) if g.content_sha256 == sha256 => {}
                    Some(_) => {
                        return Err(format!(
                            "{what} changed since you allowed it to trade {account} live: allow this version ({version}) again"
                        ));
                    }
                    None => {
                        return Err(format!(
                            "{what} may not trade {account} live until you allow it (version {version})"
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// Keeps a market data line on each holding of the account (and on the underlying of
    /// each option), so that the gate's margin check can value the account: without marks
    /// the margin is unknown and every opening order is denied. Waits up to 5 s for their
    /// first quotes. Answers the instruments watched, to release when the instance ends.
    pub(crate) async fn watch_holdings(&self, account: &str) -> Vec<i64> {
        let Some(session) = &self.session else {
            return Vec::new();
        };
        let mut lines = Vec::new();
        for (instrument_id, _) in self.view.positions(account) {
            let Ok(Some(instrument)) =
                crate::store::instruments::get(&self.pool, instrument_id).await
            else {
                continue;
            };
            let mut specs = vec![instrument.spec.clone()];
            if instrument.spec.sec_type == crate::domain::SecType::Option {
                specs.push(crate::domain::InstrumentSpec::stock(
                    &instrument.spec.symbol,
                ));
            }
            for spec in specs {
                match session.watch(spec.clone()).await {
                    Ok(id) => lines.push(id),
                    Err(e) => {
                        tracing::warn!(symbol = %spec.symbol, error = %e, "holding not watched")
                    }
                }
            }
        }
        // Orders before the holdings' first quotes would be denied as margin unknown.
        let until = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while lines.iter().any(|id| self.view.quote(*id).is_none())
            && std::time::Instant::now() < until
        {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        lines
    }

    /// Releases market data lines an instance opened.
    pub(crate) async fn unwatch(&self, lines: Vec<i64>) {
        if let Some(session) = &self.session {
            for id in lines {
                let _ = session.unwatch(id).await;
            }
        }
    }
}

/// A request to run a strategy.
#[derive(Debug, Clone)]
pub struct RunRequest {
    pub script: Arc<StrategyScript>,
    pub params: ParamValues,
    pub account: String,
    pub mode: RunMode,
    /// Instruments whose bars and ticks it receives (stocks by ticker).
    pub symbols: Vec<String>,
    pub feed: Feed,
}

/// What the host reports about its instances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostEvent {
    Console {
        instance: String,
        line: String,
    },
    Status {
        instance: String,
        status: InstanceStatus,
        /// The fault at line and column, or what stopping did.
        detail: Option<String>,
    },
}

/// A running instance as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceInfo {
    pub id: String,
    pub script: String,
    pub account: String,
    pub mode: RunMode,
    pub content_sha256: String,
}

/// Runs strategies; cheap to clone.
#[derive(Clone)]
pub struct StrategyHost {
    engine: Arc<Engine>,
    deps: HostDeps,
    running: Instances<InstanceInfo, WorkerCommand>,
    events: broadcast::Sender<HostEvent>,
}

impl StrategyHost {
    pub fn new(engine: Arc<Engine>, deps: HostDeps) -> Self {
        Self {
            engine,
            deps,
            running: Instances::default(),
            events: broadcast::channel(4096).0,
        }
    }

    pub fn events(&self) -> broadcast::Receiver<HostEvent> {
        self.events.subscribe()
    }

    /// The instance id of a script on an account in a mode (one of each at a time).
    pub fn instance_id(script: &str, account: &str, mode: RunMode) -> String {
        format!("{script}@{account}/{}", mode.as_str())
    }

    pub fn list(&self) -> Vec<InstanceInfo> {
        self.running.list()
    }

    /// Whether the run may trade: the error says what is missing.
    async fn may_run(&self, request: &RunRequest) -> Result<(), String> {
        let script = &request.script;
        self.deps
            .may_trade(
                &script.name,
                &format!("`{}`", script.name),
                &script.content_sha256,
                &request.account,
                request.mode,
            )
            .await?;
        for symbol in &request.symbols {
            symbols::spec_of(symbol)?;
        }
        Ok(())
    }

    /// Starts an instance: checks, restores its saved state if any, runs its top level and
    /// `on_start`, watches its instruments. Answers its id.
    pub async fn start(&self, mut request: RunRequest) -> Result<String, String> {
        self.may_run(&request).await?;
        let script = request.script.clone();
        let id = Self::instance_id(&script.name, &request.account, request.mode);
        self.running.check_free(&id)?;
        let saved = script_runs::get(
            &self.deps.pool,
            &script.name,
            &request.account,
            request.mode,
        )
        .await
        .map_err(|e| e.to_string())?
        .map(|row| SavedInstance {
            content_sha256: row.content_sha256,
            params: row.params,
            state: row.state,
            next_intent: row.next_intent,
        });
        let mut watched = HashMap::new();
        if let Some(session) = &self.deps.session {
            for symbol in &request.symbols {
                let spec = symbols::spec_of(symbol)?;
                let instrument = session
                    .watch(spec)
                    .await
                    .map_err(|e| format!("{symbol}: {e}"))?;
                watched.insert(instrument, symbols::symbol_of(&symbols::spec_of(symbol)?));
            }
        }
        let margin_lines = self.deps.watch_holdings(&request.account).await;
        let now = match &request.feed {
            Feed::Replay { bars } => bars.first().map_or_else(Utc::now, |b| b.time),
            Feed::Live { .. } => Utc::now(),
        };
        let (engine, script_for_start, params) =
            (self.engine.clone(), script.clone(), request.params.clone());
        let started = tokio::task::spawn_blocking(move || {
            StrategyInstance::start(engine, script_for_start, params, now, saved.as_ref())
        })
        .await
        .map_err(|_| "the strategy's worker thread failed".to_owned())?;
        let (instance, first) = match started {
            Ok(started) => started,
            Err(fault) => {
                let text = fault.to_string();
                let _ = self.events.send(HostEvent::Status {
                    instance: id.clone(),
                    status: InstanceStatus::Faulted,
                    detail: Some(text.clone()),
                });
                return Err(text);
            }
        };
        // The saved row exists from the start, so its status can be recorded.
        let snapshot = instance.snapshot().unwrap_or(SavedInstance {
            content_sha256: script.content_sha256.clone(),
            params: params::to_json(&request.params),
            state: serde_json::json!({}),
            next_intent: 1,
        });
        script_runs::save_state(
            &self.deps.pool,
            &script.name,
            &request.account,
            request.mode,
            script_runs::SavedState {
                content_sha256: &snapshot.content_sha256,
                params: &snapshot.params,
                state: &snapshot.state,
                next_intent: snapshot.next_intent,
            },
        )
        .await
        .map_err(|e| e.to_string())?;
        let info = InstanceInfo {
            id: id.clone(),
            script: script.name.clone(),
            account: request.account.clone(),
            mode: request.mode,
            content_sha256: script.content_sha256.clone(),
        };
        if let Feed::Replay { bars } = &mut request.feed {
            bars.sort_by_key(|b| b.time);
        }
        let (commands, inbox) = mpsc::channel(16);
        let worker = Worker::new(
            id.clone(),
            request,
            self.deps.clone(),
            self.events.clone(),
            instance,
            watched,
            margin_lines,
        );
        let task = tokio::spawn(worker.run(first, inbox));
        self.running.insert(id.clone(), info, commands, task);
        Ok(id)
    }

    /// Stops an instance: `on_stop`, then its working orders are cancelled; waits for it.
    pub async fn stop(&self, id: &str) -> Result<(), String> {
        self.running.stop(id, WorkerCommand::Stop).await
    }

    /// Stops every instance (the session is going away).
    pub async fn stop_all(&self) {
        self.running.stop_all(WorkerCommand::Stop).await;
    }

    /// Swaps the script of a running instance between two hooks; `keep_state` keeps its
    /// `state` map, otherwise it starts afresh. The caller compiles first, so a version that
    /// does not compile never reaches a running instance.
    pub async fn reload(
        &self,
        id: &str,
        script: Arc<StrategyScript>,
        keep_state: bool,
    ) -> Result<(), String> {
        let (commands, info) = self
            .running
            .get(id)
            .ok_or_else(|| format!("{id} is not running"))?;
        // An edited script trades live only once the user allowed the new text.
        if info.mode == RunMode::Live {
            let check = RunRequest {
                script: script.clone(),
                params: ParamValues::new(),
                account: info.account.clone(),
                mode: RunMode::Live,
                symbols: Vec::new(),
                feed: Feed::Live { bar_seconds: 60 },
            };
            self.may_run(&check).await?;
        }
        let (reply, answer) = oneshot::channel();
        commands
            .send(WorkerCommand::Reload {
                script: script.clone(),
                keep_state,
                reply,
            })
            .await
            .map_err(|_| format!("{id} has stopped"))?;
        answer.await.map_err(|_| format!("{id} has stopped"))??;
        self.running.update(id, |info| {
            info.content_sha256 = script.content_sha256.clone();
        });
        Ok(())
    }

    /// Waits until an instance has ended by itself (a replay finished, or a fault).
    pub async fn finished(&self, id: &str) {
        self.running.finished(id).await;
    }
}
