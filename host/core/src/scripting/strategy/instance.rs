//! One running strategy: its own Scope (the `state` and `params` maps), its `ctx`, and the
//! hooks called one at a time. Any error, limit or engine panic faults the instance: it gets
//! no more hooks and the host applies the fault policy (see `docs/scripting.md`).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rhai::{CallFnOptions, Dynamic, Engine, FuncArgs, Map, Scope};

use super::book::Book;
use super::ctx::{Intent, StrategyCtx, TimerRequest, take_console};
use super::params::{self, ParamValues};
use super::persist;
use super::script::StrategyScript;
use super::types::{ScriptBar, ScriptFill, ScriptOrderUpdate, ScriptTick};
use crate::scripting::{DEADLINE, ScriptError, with_deadline};

/// What one hook call asked for and printed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Output {
    pub intents: Vec<Intent>,
    pub timers: Vec<TimerRequest>,
    pub console: Vec<String>,
}

impl Output {
    fn append(&mut self, other: Output) {
        self.intents.extend(other.intents);
        self.timers.extend(other.timers);
        self.console.extend(other.console);
    }
}

/// Why an instance stopped: the hook and the error at line and column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{script}: {error} (in {hook}; the strategy is stopped)")]
pub struct Fault {
    pub script: String,
    pub hook: String,
    pub error: ScriptError,
    /// What it printed before failing.
    pub console: Vec<String>,
}

/// What is saved of an instance so it can go on after a restart.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedInstance {
    pub content_sha256: String,
    pub params: serde_json::Value,
    pub state: serde_json::Value,
    pub next_intent: i64,
}

pub struct StrategyInstance {
    engine: Arc<Engine>,
    script: Arc<StrategyScript>,
    scope: Scope<'static>,
    ctx: StrategyCtx,
    params: ParamValues,
    fault: Option<Fault>,
    /// Wall-clock budget of one hook call.
    deadline: std::time::Duration,
}

impl std::fmt::Debug for StrategyInstance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StrategyInstance")
            .field("script", &self.script.name)
            .field("fault", &self.fault)
            .finish_non_exhaustive()
    }
}

// A `Fault` is returned once in an instance's life (it stops the instance) and carries the
// console the trader needs: boxing it would buy nothing.
#[allow(clippy::result_large_err)]
impl StrategyInstance {
    /// Runs the top level (or restores `saved` when it was saved by the same script text with
    /// the same parameters), then `on_start`.
    pub fn start(
        engine: Arc<Engine>,
        script: Arc<StrategyScript>,
        params: ParamValues,
        now: DateTime<Utc>,
        saved: Option<&SavedInstance>,
    ) -> Result<(Self, Output), Fault> {
        let params_map = params::to_map(&params);
        let restorable = saved.filter(|s| {
            s.content_sha256 == script.content_sha256 && s.params == params::to_json(&params)
        });
        let mut notes = Vec::new();
        if saved.is_some() && restorable.is_none() {
            notes.push(
                "saved state not restored: the script or its parameters changed since it was saved"
                    .to_owned(),
            );
        }
        let restored = match restorable {
            Some(s) => match persist::from_json(&s.state) {
                Ok(state) => Some((state, s.next_intent)),
                Err(e) => {
                    notes.push(format!("saved state not restored: {e}"));
                    None
                }
            },
            None => None,
        };
        let next_intent = restored.as_ref().map_or(1, |(_, n)| *n);
        let ctx = StrategyCtx::new(params_map.clone(), next_intent);
        ctx.lock().now = Some(now);
        let mut scope = Scope::new();
        // `push`, never `push_constant`: a constant map can trip the engine (see the docs).
        scope.push("state", Map::new());
        scope.push("params", params_map);
        let mut instance = Self {
            engine,
            script,
            scope,
            ctx,
            params,
            fault: None,
            deadline: DEADLINE,
        };
        let mut output = Output {
            console: notes,
            ..Output::default()
        };
        match restored {
            Some((state, _)) => {
                instance.scope.set_value("state", state);
                output
                    .console
                    .push("state restored from the last run".into());
            }
            None => output.append(instance.guarded("top level", |e, scope, ast| {
                e.run_ast_with_scope(scope, ast).map(|_| ())
            })?),
        }
        if instance.script.hooks.on_start {
            output.append(instance.call("on_start", |ctx| vec![ctx])?);
        }
        Ok((instance, output))
    }

    /// Changes the wall-clock budget per hook (tests on slow unoptimised builds, where the
    /// operation limits must be the ones that stop a script).
    pub fn set_deadline(&mut self, deadline: std::time::Duration) {
        self.deadline = deadline;
    }

    pub fn script(&self) -> &Arc<StrategyScript> {
        &self.script
    }

    pub fn params(&self) -> &ParamValues {
        &self.params
    }

    pub fn fault(&self) -> Option<&Fault> {
        self.fault.as_ref()
    }

    /// The strategy's positions and working orders as it sees them.
    pub fn book(&self) -> Book {
        self.ctx.lock().book.clone()
    }

    pub fn on_bar(&mut self, bar: ScriptBar) -> Result<Output, Fault> {
        {
            let mut inner = self.ctx.lock();
            inner.now = Some(bar.time);
            inner.book.mark(&bar.symbol, bar.close);
        }
        if !self.script.hooks.on_bar {
            return self.idle();
        }
        self.call("on_bar", |ctx| (ctx, Dynamic::from(bar)))
    }

    pub fn on_tick(&mut self, tick: ScriptTick) -> Result<Output, Fault> {
        {
            let mut inner = self.ctx.lock();
            inner.now = Some(tick.time);
            if tick.kind == "last"
                && let Some(price) = tick.price
            {
                inner.book.mark(&tick.symbol, price);
            }
        }
        if !self.script.hooks.on_tick {
            return self.idle();
        }
        self.call("on_tick", |ctx| (ctx, Dynamic::from(tick)))
    }

    /// An execution of one of its orders: the book first, then `on_fill`.
    pub fn on_fill(&mut self, fill: ScriptFill) -> Result<Output, Fault> {
        {
            let mut inner = self.ctx.lock();
            inner.now = Some(fill.time);
            inner.book.apply_fill(&fill);
        }
        if !self.script.hooks.on_fill {
            return self.idle();
        }
        self.call("on_fill", |ctx| (ctx, Dynamic::from(fill)))
    }

    /// A status change of one of its orders: the book first, then `on_order`.
    pub fn on_order(&mut self, update: ScriptOrderUpdate) -> Result<Output, Fault> {
        self.ctx.lock().book.apply_update(&update);
        if !self.script.hooks.on_order {
            return self.idle();
        }
        self.call("on_order", |ctx| (ctx, Dynamic::from(update)))
    }

    pub fn on_timer(&mut self, name: &str, now: DateTime<Utc>) -> Result<Output, Fault> {
        self.ctx.lock().now = Some(now);
        if !self.script.hooks.on_timer {
            return self.idle();
        }
        let name = name.to_owned();
        self.call("on_timer", |ctx| (ctx, Dynamic::from(name)))
    }

    /// `on_stop`, whose intents the host may still act on (e.g. flattening).
    pub fn stop(&mut self) -> Result<Output, Fault> {
        if !self.script.hooks.on_stop {
            return self.idle();
        }
        self.call("on_stop", |ctx| (ctx,))
    }

    /// Swaps in a new version of the script between two hooks. With `keep_state` the Scope
    /// stays (small edits); otherwise the instance starts afresh (top level, `on_start`).
    pub fn reload(
        &mut self,
        script: Arc<StrategyScript>,
        keep_state: bool,
    ) -> Result<Output, Fault> {
        self.script = script;
        if keep_state {
            return Ok(Output {
                console: vec![format!("reloaded {} (state kept)", self.script.name)],
                ..Output::default()
            });
        }
        let now = self.ctx.lock().now.unwrap_or_else(Utc::now);
        let next_intent = self.ctx.lock().next_intent;
        let params_map = params::to_map(&self.params);
        let book = self.ctx.lock().book.clone();
        self.scope = Scope::new();
        self.scope.push("state", Map::new());
        self.scope.push("params", params_map.clone());
        self.ctx = StrategyCtx::new(params_map, next_intent);
        {
            let mut inner = self.ctx.lock();
            inner.now = Some(now);
            inner.book = book;
        }
        let mut output = self.guarded("top level", |e, scope, ast| {
            e.run_ast_with_scope(scope, ast).map(|_| ())
        })?;
        output
            .console
            .insert(0, format!("reloaded {} (restarted)", self.script.name));
        if self.script.hooks.on_start {
            output.append(self.call("on_start", |ctx| (ctx,))?);
        }
        Ok(output)
    }

    /// What to save so the instance can go on after a restart.
    pub fn snapshot(&self) -> Result<SavedInstance, String> {
        let state = self
            .scope
            .get_value::<Map>("state")
            .ok_or("state: the script replaced its `state` map with something else")?;
        Ok(SavedInstance {
            content_sha256: self.script.content_sha256.clone(),
            params: params::to_json(&self.params),
            state: persist::to_json(&state)?,
            next_intent: self.ctx.lock().next_intent,
        })
    }

    fn idle(&self) -> Result<Output, Fault> {
        match &self.fault {
            Some(fault) => Err(fault.clone()),
            None => Ok(Output::default()),
        }
    }

    /// Calls `hook` with `ctx` and the event (a tuple, so no argument list is allocated).
    fn call<A: FuncArgs>(
        &mut self,
        hook: &'static str,
        args: impl FnOnce(Dynamic) -> A,
    ) -> Result<Output, Fault> {
        let args = args(Dynamic::from(self.ctx.clone()));
        self.guarded(hook, move |engine, scope, ast| {
            let options = CallFnOptions::new().eval_ast(false);
            engine
                .call_fn_with_options::<Dynamic>(options, scope, ast, hook, args)
                .map(|_| ())
        })
    }

    fn guarded(
        &mut self,
        hook: &str,
        run: impl FnOnce(
            &Engine,
            &mut Scope<'static>,
            &rhai::AST,
        ) -> Result<(), Box<rhai::EvalAltResult>>,
    ) -> Result<Output, Fault> {
        if let Some(fault) = &self.fault {
            return Err(fault.clone());
        }
        let (engine, scope, ast) = (&self.engine, &mut self.scope, &self.script.ast);
        take_console();
        let result = with_deadline(self.deadline, || {
            catch_unwind(AssertUnwindSafe(|| run(engine, scope, ast)))
        });
        let console = take_console();
        let error = match result {
            Ok(Ok(())) => {
                let mut inner = self.ctx.lock();
                return Ok(Output {
                    intents: std::mem::take(&mut inner.intents),
                    timers: std::mem::take(&mut inner.timers),
                    console,
                });
            }
            Ok(Err(err)) => ScriptError::in_hook(&err, hook),
            Err(_) => ScriptError::message(format!("the script engine failed in `{hook}`")),
        };
        // Intents queued by the failing call are dropped: the call did not complete.
        self.ctx.lock().intents.clear();
        let fault = Fault {
            script: self.script.name.clone(),
            hook: hook.to_owned(),
            error,
            console,
        };
        self.fault = Some(fault.clone());
        Err(fault)
    }
}
