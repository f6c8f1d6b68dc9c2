//! One running instance on a live or paper connection: it feeds the instance its events (bars
//! built from ticks, or replayed bars; its fills and order updates; timers), sends its intents
//! through the order router (the same risk gate and audit as the ticket, origin
//! `script:<name>`), and applies the fault and stop policies.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use rust_decimal::Decimal;
use tokio::sync::{broadcast, mpsc, oneshot};

use super::bars::BarBuilder;
use super::{Feed, HostDeps, HostEvent, RunRequest};
use crate::domain::{ExecSide, Execution, OrderIntent, OrderSide, Origin, Tick, TickKind};
use crate::hub::OrderUpdate;
use crate::risk::SubmitError;
use crate::scripting::strategy::{
    Fault, Intent, IntentStatus, OrderRequest, Output, ScriptBar, ScriptFill, ScriptOrderUpdate,
    ScriptTick, StrategyInstance, StrategyScript, symbols,
};
use crate::store::script_runs::{self, InstanceStatus, SavedState};

/// Orders one event may lead to (a script that re-sends every denied order would loop).
const INTENTS_PER_EVENT: usize = 100;
/// How long a replayed bar waits for the market orders it caused to be filled.
const REPLAY_SETTLE: Duration = Duration::from_secs(15);
/// How long an order waits for the first quote of an instrument it had no line for.
const QUOTE_WAIT: Duration = Duration::from_secs(5);
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

/// One of the instance's orders the host sent.
struct Working {
    intent_id: i64,
    symbol: String,
    quantity: Decimal,
    filled: Decimal,
    /// A market order: a replay waits for it (a resting limit or stop order it cannot wait
    /// for: the venue's price does not follow the replayed bars).
    market: bool,
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
    /// Lines opened for instruments it ordered without receiving their bars (by symbol).
    order_lines: HashMap<String, i64>,
    working: HashMap<String, Working>,
    by_intent: HashMap<i64, String>,
    seen_executions: HashSet<String>,
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
        Self {
            id,
            request,
            deps,
            events,
            instance: Some(instance),
            watched,
            margin_lines,
            order_lines: HashMap::new(),
            working: HashMap::new(),
            by_intent: HashMap::new(),
            seen_executions: HashSet::new(),
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
            if replaying && !self.working.values().any(|w| w.market)
                || settle_until.is_some_and(|t| Instant::now() > t)
            {
                if settle_until.is_some() && self.working.values().any(|w| w.market) {
                    self.console(format!(
                        "replay: {} order(s) still working after {} s; going on",
                        self.working.len(),
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
        let Some(order_ref) = update.order_ref else {
            return Ok(());
        };
        let status = match update.status.as_str() {
            "Cancelled" | "ApiCancelled" => IntentStatus::Cancelled,
            "Inactive" => IntentStatus::Rejected,
            // Fills drive `filled`; every other status is still working.
            _ => return Ok(()),
        };
        let Some(working) = self.working.remove(&order_ref) else {
            return Ok(());
        };
        self.by_intent.remove(&working.intent_id);
        let event = ScriptOrderUpdate {
            intent_id: working.intent_id,
            symbol: working.symbol,
            status,
            filled: working.filled,
            remaining: working.quantity - working.filled,
            reason: format!("TWS status {}", update.status),
        };
        self.react(VecDeque::from([Event::Order(event)])).await
    }

    async fn fill(&mut self, execution: Execution) -> Result<(), Fault> {
        let Some(order_ref) = execution.order_ref.clone() else {
            return Ok(());
        };
        let Some(working) = self.working.get_mut(&order_ref) else {
            return Ok(());
        };
        // A replay after a reconnect repeats executions: each counts once.
        if !self.seen_executions.insert(execution.exec_id.clone()) {
            return Ok(());
        }
        working.filled += execution.quantity;
        let fill = ScriptFill {
            intent_id: working.intent_id,
            symbol: working.symbol.clone(),
            side: match execution.side {
                ExecSide::Bought => OrderSide::Buy,
                ExecSide::Sold => OrderSide::Sell,
            },
            quantity: execution.quantity,
            price: execution.price,
            commission: execution.commission.unwrap_or_default(),
            time: execution.executed_at,
        };
        let done = working.filled >= working.quantity;
        let update = ScriptOrderUpdate {
            intent_id: working.intent_id,
            symbol: working.symbol.clone(),
            status: if done {
                IntentStatus::Filled
            } else {
                IntentStatus::PartiallyFilled
            },
            filled: working.filled,
            remaining: (working.quantity - working.filled).max(Decimal::ZERO),
            reason: String::new(),
        };
        if done {
            self.working.remove(&order_ref);
            self.by_intent.remove(&fill.intent_id);
        }
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
                Intent::Cancel { intent_id } => self.cancel(intent_id).await,
                Intent::CancelAll => {
                    let ids: Vec<i64> = self.by_intent.keys().copied().collect();
                    for intent_id in ids {
                        self.cancel(intent_id).await;
                    }
                }
            }
        }
    }

    /// Sends one order through the gate; answers the update the script gets at once.
    async fn place(&mut self, order: OrderRequest) -> ScriptOrderUpdate {
        let mut update = order.working();
        let spec = match symbols::spec_of(&order.symbol) {
            Ok(spec) => spec,
            Err(e) => {
                update.status = IntentStatus::Rejected;
                update.reason = e;
                return update;
            }
        };
        let intent = OrderIntent {
            origin: Origin::Script(self.name().to_owned()),
            account: self.request.account.clone(),
            instrument: spec,
            side: order.side,
            quantity: order.quantity,
            order_type: order.order_type,
            limit_price: order.limit,
            stop_price: order.stop,
            time_in_force: order.time_in_force,
            parent_ref: None,
        };
        self.quote_for(&order.symbol, &intent.instrument).await;
        let ctx = match self
            .deps
            .view
            .context_for(&self.deps.pool, &intent, true, None)
            .await
        {
            Ok(ctx) => ctx,
            Err(e) => {
                update.status = IntentStatus::Rejected;
                update.reason = format!("not sent: {e}");
                return update;
            }
        };
        match self.deps.router.submit(intent, &ctx).await {
            Ok(order_ref) => {
                self.console(format!(
                    "#{} {} {} {} {} sent as {order_ref}",
                    order.intent_id,
                    order.side.as_str(),
                    order.quantity,
                    order.symbol,
                    order.order_type.as_str()
                ));
                self.by_intent.insert(order.intent_id, order_ref.clone());
                self.working.insert(
                    order_ref,
                    Working {
                        intent_id: order.intent_id,
                        symbol: order.symbol,
                        quantity: order.quantity,
                        filled: Decimal::ZERO,
                        market: order.order_type == crate::domain::OrderType::Market,
                    },
                );
            }
            Err(SubmitError::Denied(denial)) => {
                self.console(format!("#{} denied: {denial}", order.intent_id));
                update.status = IntentStatus::Denied;
                update.reason = denial.to_string();
            }
            Err(other) => {
                self.console(format!("#{} not sent: {other}", order.intent_id));
                update.status = IntentStatus::Rejected;
                update.reason = other.to_string();
            }
        }
        update
    }

    /// The gate needs a fresh quote of what an order trades: an instrument the strategy does
    /// not receive bars of (an option it writes) gets a market data line first, and the order
    /// waits up to [`QUOTE_WAIT`] for its first quote (then the gate decides without it).
    async fn quote_for(&mut self, symbol: &str, spec: &crate::domain::InstrumentSpec) {
        if self.watched.values().any(|s| s == symbol) || self.order_lines.contains_key(symbol) {
            return;
        }
        let Some(session) = self.deps.session.clone() else {
            return;
        };
        let id = match session.watch(spec.clone()).await {
            Ok(id) => id,
            Err(e) => {
                self.console(format!("{symbol}: no market data line: {e}"));
                return;
            }
        };
        self.order_lines.insert(symbol.to_owned(), id);
        let until = Instant::now() + QUOTE_WAIT;
        while self.deps.view.quote(id).is_none() && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Asks TWS to cancel one order; the script hears `cancelled` when TWS confirms.
    async fn cancel(&mut self, intent_id: i64) {
        let Some(order_ref) = self.by_intent.get(&intent_id).cloned() else {
            return;
        };
        let actor = Origin::Script(self.name().to_owned()).to_string();
        if let Err(e) = self.deps.router.cancel(&order_ref, &actor).await {
            self.console(format!("#{intent_id}: cancel not sent: {e}"));
        }
    }

    /// Cancels every working order of the instance; answers how many.
    async fn cancel_working(&mut self) -> usize {
        let refs: Vec<String> = self.working.keys().cloned().collect();
        let actor = Origin::Script(self.name().to_owned()).to_string();
        let mut cancelled = 0;
        for order_ref in refs {
            match self.deps.router.cancel(&order_ref, &actor).await {
                Ok(()) => cancelled += 1,
                Err(e) => self.console(format!("{order_ref}: cancel not sent: {e}")),
            }
        }
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
        if let Some(session) = &self.deps.session {
            let lines = self.watched.keys().chain(&self.margin_lines);
            for id in lines.chain(self.order_lines.values()) {
                let _ = session.unwatch(*id).await;
            }
        }
    }
}
