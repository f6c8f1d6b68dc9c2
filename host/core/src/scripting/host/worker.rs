//! One running instance on a live or paper connection: it feeds the instance its events (bars
//! built from ticks, or replayed bars; its fills and order updates; timers), sends its intents
//! through the order router (the same risk gate and audit as the ticket, origin
//! `script:<name>`), and applies the fault and stop policies.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::{broadcast, mpsc, oneshot};

use super::bars::BarBuilder;
use super::desk::{Desk, Placed};
use super::{Feed, HostDeps, HostEvent, RunRequest};
use crate::domain::{Execution, Origin, Tick, TickKind};
use crate::hub::OrderUpdate;
use crate::scripting::strategy::{
    Fault, Intent, IntentStatus, OrderRequest, Output, ScriptBar, ScriptOrderUpdate, ScriptTick,
    StrategyInstance, StrategyScript,
};
use crate::store::script_runs::{self, InstanceStatus, SavedState};

/// Orders one event may lead to (a script that re-sends every denied order would loop).
const INTENTS_PER_EVENT: usize = 100;
/// How long a replayed bar waits for the market orders it caused to be filled.
const REPLAY_SETTLE: Duration = Duration::from_secs(15);
/// How often a live instance's state is saved.
const SAVE_EVERY: Duration = Duration::from_secs(5);

pub(super) enum WorkerCommand {
    Stop(oneshot::Sender<()>),
    Reload {
        script: Arc<StrategyScript>,
        keep_state: bool,
        reply: oneshot::Sender<Result<(), String>>,
    },
}

/// The events an instance reacts to, queued so that each hook runs after the previous one.
enum Event {
    Order(ScriptOrderUpdate),
}

pub(super) struct Worker {
    pub id: String,
    pub request: RunRequest,
    pub deps: HostDeps,
    pub events: broadcast::Sender<HostEvent>,
    pub instance: Option<StrategyInstance>,
    /// Instrument id → the script's symbol, for the instruments it watches.
    pub watched: HashMap<i64, String>,
    /// Holdings watched so the gate can value the account (released at the end).
    margin_lines: Vec<i64>,
    desk: Desk,
    timers: HashMap<String, Instant>,
    last_save: Instant,
}

impl Worker {
    pub fn new(
        id: String,
        request: RunRequest,
        deps: HostDeps,
        events: broadcast::Sender<HostEvent>,
        instance: StrategyInstance,
        watched: HashMap<i64, String>,
        margin_lines: Vec<i64>,
    ) -> Self {
        let origin = Origin::Script(request.script.name.clone());
        let desk = Desk::new(origin, request.account.clone());
        Self {
            id,
            request,
            deps,
            events,
            instance: Some(instance),
            watched,
            margin_lines,
            desk,
            timers: HashMap::new(),
            last_save: Instant::now(),
        }
    }

    fn name(&self) -> &str {
        &self.request.script.name
    }

    pub fn console(&self, line: impl Into<String>) {
        let _ = self.events.send(HostEvent::Console {
            instance: self.id.clone(),
            line: line.into(),
        });
    }

    fn status(&self, status: InstanceStatus, detail: Option<String>) {
        let _ = self.events.send(HostEvent::Status {
            instance: self.id.clone(),
            status,
            detail,
        });
    }

    /// Handles what `start` printed and asked for, then runs until stopped or faulted.
    pub async fn run(mut self, first: Output, mut commands: mpsc::Receiver<WorkerCommand>) {
        let mut orders = self.deps.hub.subscribe_orders();
        let mut fills = self.deps.hub.subscribe_fills();
        let mut ticks = self.deps.hub.subscribe_ticks();
        self.status(InstanceStatus::Running, None);
        if let Err(fault) = self.handle(first).await {
            return self.faulted(fault).await;
        }
        let bar_seconds = match &self.request.feed {
            Feed::Live { bar_seconds } => *bar_seconds,
            Feed::Replay { .. } => 0,
        };
        let mut replay: VecDeque<ScriptBar> = match &mut self.request.feed {
            Feed::Replay { bars } => std::mem::take(bars).into(),
            Feed::Live { .. } => VecDeque::new(),
        };
        let replaying = !replay.is_empty();
        let mut builder = BarBuilder::new(bar_seconds.max(1));
        let mut clock = tokio::time::interval(Duration::from_millis(250));
        let mut settle_until: Option<Instant> = None;
        loop {
            // Replay: the next bar once the market orders of the last one are filled.
            if replaying && !self.desk.market_working()
                || settle_until.is_some_and(|t| Instant::now() > t)
            {
                if settle_until.is_some() && self.desk.market_working() {
                    self.console(format!(
                        "replay: {} order(s) still working after {} s; going on",
                        self.desk.working_count(),
                        REPLAY_SETTLE.as_secs()
                    ));
                }
                settle_until = None;
                match replay.pop_front() {
                    Some(bar) => {
                        let result = self.dispatch(|i| i.on_bar(bar)).await;
                        if let Err(fault) = result {
                            return self.faulted(fault).await;
                        }
                        settle_until = Some(Instant::now() + REPLAY_SETTLE);
                        continue;
                    }
                    None if replaying => {
                        self.console("replay finished");
                        return self.stopped(None).await;
                    }
                    None => {}
                }
            }
            let result = tokio::select! {
                command = commands.recv() => match command {
                    Some(WorkerCommand::Stop(done)) => {
                        self.stopped(Some(done)).await;
                        return;
                    }
                    Some(WorkerCommand::Reload { script, keep_state, reply }) => {
                        let result = self.dispatch(move |i| i.reload(script, keep_state)).await;
                        let _ = reply.send(result.as_ref().map(|_| ()).map_err(ToString::to_string));
                        result
                    }
                    None => {
                        self.stopped(None).await;
                        return;
                    }
                },
                update = orders.recv() => match update {
                    Some(Ok(update)) => self.order_update(update).await,
                    Some(Err(overflow)) => Err(self.fell_behind(overflow.missed)),
                    None => Ok(()),
                },
                fill = fills.recv() => match fill {
                    Some(Ok(fill)) => self.fill(fill).await,
                    Some(Err(overflow)) => Err(self.fell_behind(overflow.missed)),
                    None => Ok(()),
                },
                tick = ticks.recv(), if !replaying => match tick {
                    Some(Ok(tick)) => self.tick(&mut builder, tick).await,
                    Some(Err(overflow)) => Err(self.fell_behind(overflow.missed)),
                    None => Ok(()),
                },
                _ = clock.tick() => self.clock(&mut builder, replaying).await,
            };
            if let Err(fault) = result {
                return self.faulted(fault).await;
            }
        }
    }

    fn fell_behind(&self, missed: u64) -> Fault {
        Fault {
            script: self.name().to_owned(),
            hook: "event queue".into(),
            error: crate::scripting::ScriptError::message(format!(
                "the strategy fell behind the market and missed {missed} events; its hooks are too slow"
            )),
            console: Vec::new(),
        }
    }

    async fn clock(&mut self, builder: &mut BarBuilder, replaying: bool) -> Result<(), Fault> {
        if !replaying {
            for bar in builder.flush(Utc::now(), chrono::Duration::seconds(2)) {
                self.dispatch(|i| i.on_bar(bar)).await?;
            }
        }
        let now = Instant::now();
        let due: Vec<String> = self
            .timers
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(name, _)| name.clone())
            .collect();
        for name in due {
            self.timers.remove(&name);
            self.dispatch(move |i| i.on_timer(&name, Utc::now()))
                .await?;
        }
        if !replaying && self.last_save.elapsed() >= SAVE_EVERY {
            self.save().await;
        }
        Ok(())
    }

    async fn tick(&mut self, builder: &mut BarBuilder, tick: Tick) -> Result<(), Fault> {
        let Some(symbol) = self.watched.get(&tick.instrument_id).cloned() else {
            return Ok(());
        };
        if let Some(bar) = builder.tick(&symbol, &tick) {
            self.dispatch(|i| i.on_bar(bar)).await?;
        }
        if self.request.script.hooks.on_tick {
            let kind = match tick.kind {
                TickKind::Bid => "bid",
                TickKind::Ask => "ask",
                TickKind::Last => "last",
                TickKind::BidSize => "bid_size",
                TickKind::AskSize => "ask_size",
                TickKind::LastSize => "last_size",
                TickKind::Volume => "volume",
                _ => "close",
            };
            let script_tick = ScriptTick {
                symbol,
                time: tick.ts,
                kind: kind.to_owned(),
                price: tick.price,
                size: tick.size,
            };
            self.dispatch(|i| i.on_tick(script_tick)).await?;
        }
        Ok(())
    }

    async fn order_update(&mut self, update: OrderUpdate) -> Result<(), Fault> {
        match self.desk.order_update(&update) {
            // The script heard `working` when the order was sent.
            Some(event) if event.status != IntentStatus::Working => {
                self.react(VecDeque::from([Event::Order(event)])).await
            }
            _ => Ok(()),
        }
    }

    async fn fill(&mut self, execution: Execution) -> Result<(), Fault> {
        let Some((fill, update, _)) = self.desk.fill(&execution) else {
            return Ok(());
        };
        self.dispatch(|i| i.on_fill(fill)).await?;
        self.react(VecDeque::from([Event::Order(update)])).await
    }

    /// Calls one hook on a blocking thread (hooks are CPU work, never on the runtime's
    /// threads), then carries out what it asked for.
    pub async fn dispatch(
        &mut self,
        call: impl FnOnce(&mut StrategyInstance) -> Result<Output, Fault> + Send + 'static,
    ) -> Result<(), Fault> {
        let output = self.call(call).await?;
        self.handle(output).await
    }

    async fn call(
        &mut self,
        call: impl FnOnce(&mut StrategyInstance) -> Result<Output, Fault> + Send + 'static,
    ) -> Result<Output, Fault> {
        let Some(mut instance) = self.instance.take() else {
            return Err(self.fell_behind(0));
        };
        let joined = tokio::task::spawn_blocking(move || {
            let result = call(&mut instance);
            (instance, result)
        })
        .await;
        match joined {
            Ok((instance, result)) => {
                self.instance = Some(instance);
                result
            }
            Err(_) => Err(Fault {
                script: self.name().to_owned(),
                hook: "worker".into(),
                error: crate::scripting::ScriptError::message(
                    "the strategy's worker thread failed",
                ),
                console: Vec::new(),
            }),
        }
    }

    async fn handle(&mut self, output: Output) -> Result<(), Fault> {
        let mut queue = VecDeque::new();
        self.carry_out(output, &mut queue).await;
        self.react(queue).await
    }

    /// Feeds queued order updates to the instance, and carries out what they lead to.
    async fn react(&mut self, mut queue: VecDeque<Event>) -> Result<(), Fault> {
        let mut handled = 0;
        while let Some(Event::Order(update)) = queue.pop_front() {
            handled += 1;
            if handled > INTENTS_PER_EVENT {
                return Err(Fault {
                    script: self.name().to_owned(),
                    hook: "on_order".into(),
                    error: crate::scripting::ScriptError::message(format!(
                        "more than {INTENTS_PER_EVENT} orders in reaction to one event (does it re-send every denied order?)"
                    )),
                    console: Vec::new(),
                });
            }
            let output = self.call(move |i| i.on_order(update)).await?;
            self.carry_out(output, &mut queue).await;
        }
        Ok(())
    }

    async fn carry_out(&mut self, output: Output, queue: &mut VecDeque<Event>) {
        for line in output.console {
            self.console(line);
        }
        for timer in output.timers {
            if timer.after_ms == 0 {
                self.timers.remove(&timer.name);
            } else {
                let after = Duration::from_millis(u64::try_from(timer.after_ms).unwrap_or(0));
                self.timers.insert(timer.name, Instant::now() + after);
            }
        }
        for intent in output.intents {
            match intent {
                Intent::Place(order) => {
                    let update = self.place(order).await;
                    queue.push_back(Event::Order(update));
                }
                Intent::Cancel { intent_id } => self.desk.cancel(&self.deps, intent_id).await,
                Intent::CancelAll => self.desk.cancel_all(&self.deps).await,
            }
        }
        self.notes();
    }

    /// Sends one order through the gate; answers the update the script gets at once.
    async fn place(&mut self, order: OrderRequest) -> ScriptOrderUpdate {
        let mut update = order.working();
        let watched = self.watched.values().any(|s| *s == order.symbol);
        let placed = self.desk.place(&self.deps, &order, watched).await;
        self.notes();
        match placed {
            Placed::Sent(order_ref) => {
                self.console(format!(
                    "#{} {} {} {} {} sent as {order_ref}",
                    order.intent_id,
                    order.side.as_str(),
                    order.quantity,
                    order.symbol,
                    order.order_type.as_str()
                ));
            }
            Placed::Denied(reason) => {
                self.console(format!("#{} denied: {reason}", order.intent_id));
                update.status = IntentStatus::Denied;
                update.reason = reason;
            }
            Placed::Rejected(reason) => {
                self.console(format!("#{} not sent: {reason}", order.intent_id));
                update.status = IntentStatus::Rejected;
                update.reason = reason;
            }
        }
        update
    }

    /// Shows what the desk noted on the console.
    fn notes(&mut self) {
        for line in self.desk.take_notes() {
            self.console(line);
        }
    }

    /// Cancels every working order of the instance; answers how many.
    async fn cancel_working(&mut self) -> usize {
        let cancelled = self.desk.cancel_working(&self.deps).await;
        self.notes();
        cancelled
    }

    async fn save(&mut self) {
        self.last_save = Instant::now();
        let Some(instance) = &self.instance else {
            return;
        };
        let snapshot = match instance.snapshot() {
            Ok(s) => s,
            Err(e) => {
                self.console(format!("state not saved: {e}"));
                return;
            }
        };
        let saved = SavedState {
            content_sha256: &snapshot.content_sha256,
            params: &snapshot.params,
            state: &snapshot.state,
            next_intent: snapshot.next_intent,
        };
        if let Err(e) = script_runs::save_state(
            &self.deps.pool,
            self.name(),
            &self.request.account,
            self.request.mode,
            saved,
        )
        .await
        {
            self.console(format!("state not saved: {e}"));
        }
    }

    async fn record_status(&self, status: InstanceStatus, fault: Option<&str>) {
        if let Err(e) = script_runs::set_status(
            &self.deps.pool,
            self.name(),
            &self.request.account,
            self.request.mode,
            status,
            fault,
        )
        .await
        {
            self.console(format!("status not saved: {e}"));
        }
    }

    /// The fault policy: no more hooks, the instance's working orders cancelled, the error
    /// kept with the instance.
    async fn faulted(mut self, fault: Fault) {
        for line in &fault.console {
            self.console(line.clone());
        }
        self.save().await;
        let cancelled = self.cancel_working().await;
        let text = fault.to_string();
        self.record_status(InstanceStatus::Faulted, Some(&text))
            .await;
        self.unwatch().await;
        let detail = format!("{text}; {cancelled} working order(s) cancelled");
        self.status(InstanceStatus::Faulted, Some(detail));
    }

    /// The stop policy: `on_stop` (its intents are carried out), then the instance's working
    /// orders are cancelled; positions stay.
    async fn stopped(mut self, done: Option<oneshot::Sender<()>>) {
        if let Err(fault) = self.dispatch(|i| i.stop()).await {
            self.faulted(fault).await;
            if let Some(done) = done {
                let _ = done.send(());
            }
            return;
        }
        self.save().await;
        let cancelled = self.cancel_working().await;
        let detail = format!("{cancelled} working order(s) cancelled");
        self.record_status(InstanceStatus::Stopped, None).await;
        self.unwatch().await;
        self.status(InstanceStatus::Stopped, Some(detail));
        if let Some(done) = done {
            let _ = done.send(());
        }
    }

    async fn unwatch(&self) {
        let lines = self.watched.keys().chain(&self.margin_lines).copied();
        let lines: Vec<i64> = lines.chain(self.desk.lines()).collect();
        self.deps.unwatch(lines).await;
    }
}
