//! The driver of one plugin strategy instance, on the async runtime: it turns the session's
//! ticks into the instance's tick and bar events, carries out its requests (intents through
//! the order router as the scripts' [`Desk`] does, subscriptions through the session), tells
//! it what became of its intents, and applies the fault and stop policies.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::mpsc::{SyncSender, TrySendError};
use std::time::Duration;

use chrono::Utc;
use rust_decimal::Decimal;
use tickwork_plugin_api::abi::{
    TW_ORDER_CANCELLED, TW_ORDER_DENIED, TW_ORDER_FILLED, TW_ORDER_REJECTED, TW_ORDER_SUBMITTED,
    TW_ORDER_WORKING,
};
use tokio::sync::{broadcast, mpsc, oneshot};

use super::worker::ThreadMsg;
use super::{PluginStrategyEvent, PluginStrategyStatus};
use crate::domain::{Execution, Tick};
use crate::hub::OrderUpdate;
use crate::plugins::services::{
    Event, FillData, Lifecycle, MarketFeed, OrderChange, Request, State, Subscription,
};
use crate::scripting::host::{Desk, HostDeps, Placed};
use crate::scripting::strategy::{IntentStatus, ScriptOrderUpdate, symbols};

/// Events queued for the worker before the instance counts as fallen behind.
pub(super) const QUEUE: usize = 4096;

pub(super) enum Command {
    Stop(oneshot::Sender<()>),
}

/// Why the instance ended by itself.
enum End {
    Faulted(String),
    Hung(String),
}

pub(super) struct Driver {
    /// The instance's id (`<plugin id>/<name>`).
    pub name: String,
    pub plugin_id: String,
    pub deps: HostDeps,
    pub life: Arc<Lifecycle>,
    pub desk: Desk,
    pub feed: MarketFeed,
    pub to_worker: SyncSender<ThreadMsg>,
    pub events: broadcast::Sender<PluginStrategyEvent>,
    /// Holdings watched so the gate can value the account.
    pub margin_lines: Vec<i64>,
    /// The instance's instruments: id → symbol.
    pub symbols: HashMap<u32, String>,
    /// Each intent's instrument.
    pub intents: HashMap<i64, u32>,
}

impl Driver {
    fn console(&self, line: impl Into<String>) {
        let _ = self.events.send(PluginStrategyEvent::Console {
            instance: self.name.clone(),
            line: line.into(),
        });
    }

    fn status(&self, status: PluginStrategyStatus, detail: Option<String>) {
        let _ = self.events.send(PluginStrategyEvent::Status {
            instance: self.name.clone(),
            status,
            detail,
        });
    }

    /// Runs until stopped, faulted or hung.
    pub async fn run(
        mut self,
        mut requests: mpsc::UnboundedReceiver<Request>,
        mut commands: mpsc::Receiver<Command>,
    ) {
        let mut orders = self.deps.hub.subscribe_orders();
        let mut fills = self.deps.hub.subscribe_fills();
        let mut ticks = self.deps.hub.subscribe_ticks();
        let mut clock = tokio::time::interval(Duration::from_millis(250));
        self.status(PluginStrategyStatus::Running, None);
        loop {
            let result = tokio::select! {
                command = commands.recv() => {
                    let done = command.map(|Command::Stop(done)| done);
                    return self.stopped(done, requests).await;
                }
                request = requests.recv() => match request {
                    Some(request) => self.request(request).await,
                    None => Ok(()),
                },
                update = orders.recv() => match update {
                    Some(Ok(update)) => self.order_update(&update),
                    Some(Err(overflow)) => Err(self.fell_behind(overflow.missed)),
                    None => Ok(()),
                },
                fill = fills.recv() => match fill {
                    Some(Ok(fill)) => self.fill(&fill),
                    Some(Err(overflow)) => Err(self.fell_behind(overflow.missed)),
                    None => Ok(()),
                },
                tick = ticks.recv() => match tick {
                    Some(Ok(tick)) => self.tick(&tick),
                    Some(Err(overflow)) => Err(self.fell_behind(overflow.missed)),
                    None => Ok(()),
                },
                _ = clock.tick() => {
                    let bars = self.feed.flush(Utc::now());
                    self.deliver_all(bars)
                }
            };
            if let Err(end) = result {
                return self.ended(end).await;
            }
        }
    }

    fn fell_behind(&self, missed: u64) -> End {
        self.life
            .transition(&[State::Starting, State::Running], State::Faulted);
        End::Faulted(format!(
            "the plugin fell behind the market and missed {missed} events; its on_event is too slow"
        ))
    }

    /// Queues an event for the worker (dropped once the instance no longer runs).
    fn deliver(&self, event: Event) -> Result<(), End> {
        if self.life.state() != State::Running {
            return Ok(());
        }
        match self.to_worker.try_send(ThreadMsg::Event(event)) {
            Ok(()) | Err(TrySendError::Disconnected(_)) => Ok(()),
            Err(TrySendError::Full(_)) => {
                if self.life.transition(&[State::Running], State::Faulted) {
                    Err(End::Faulted(format!(
                        "the plugin fell behind: {QUEUE} events wait for its on_event"
                    )))
                } else {
                    Ok(())
                }
            }
        }
    }

    fn deliver_all(&self, events: Vec<Event>) -> Result<(), End> {
        events.into_iter().try_for_each(|e| self.deliver(e))
    }

    fn tick(&mut self, tick: &Tick) -> Result<(), End> {
        let events = self.feed.tick(tick);
        self.deliver_all(events)
    }

    async fn request(&mut self, request: Request) -> Result<(), End> {
        match request {
            Request::Place {
                intent_id,
                instrument_id,
                order,
            } => {
                self.intents.insert(order.intent_id, instrument_id);
                // Its subscription's line gives the gate a quote (when the watch succeeded).
                let watched = self.symbols.contains_key(&instrument_id);
                let placed = self.desk.place(&self.deps, &order, watched).await;
                self.notes();
                let (status, reason) = match placed {
                    Placed::Sent(order_ref) => {
                        // The plugin's own label of the intent, beside the host's order ref.
                        let tag = if order.tag.is_empty() {
                            String::new()
                        } else {
                            format!(" [{}]", order.tag)
                        };
                        self.console(format!(
                            "#{intent_id} {} {} {} {} sent as {order_ref}{tag}",
                            order.side.as_str(),
                            order.quantity,
                            order.symbol,
                            order.order_type.as_str()
                        ));
                        (TW_ORDER_SUBMITTED, String::new())
                    }
                    Placed::Denied(reason) => {
                        self.console(format!("#{intent_id} denied: {reason}"));
                        (TW_ORDER_DENIED, reason)
                    }
                    Placed::Rejected(reason) => {
                        self.console(format!("#{intent_id} not sent: {reason}"));
                        (TW_ORDER_REJECTED, reason)
                    }
                };
                let remaining = if status == TW_ORDER_SUBMITTED {
                    order.quantity
                } else {
                    Decimal::ZERO
                };
                self.deliver(Event::Order {
                    instrument_id,
                    at: Utc::now(),
                    change: OrderChange {
                        intent_id,
                        status,
                        filled: Decimal::ZERO,
                        remaining,
                        average_price: Decimal::ZERO,
                        reason,
                    },
                })
            }
            Request::Cancel { intent_id } => {
                let id = i64::try_from(intent_id).unwrap_or(i64::MAX);
                self.desk.cancel(&self.deps, id).await;
                self.notes();
                Ok(())
            }
            Request::Subscribe {
                instrument_id,
                symbol,
                kinds,
                bar_secs,
            } => {
                self.subscribe(instrument_id, symbol, kinds, bar_secs).await;
                Ok(())
            }
            Request::Unsubscribe { instrument_id } => {
                self.symbols.remove(&instrument_id);
                if let Some(line) = self.feed.remove(instrument_id) {
                    self.deps.unwatch(vec![line]).await;
                }
                Ok(())
            }
            Request::Faulted(detail) => Err(End::Faulted(detail)),
            Request::Hung(detail) => Err(End::Hung(detail)),
            Request::Destroyed => Ok(()),
        }
    }

    async fn subscribe(&mut self, instrument_id: u32, symbol: String, kinds: u32, bar_secs: u32) {
        let Some(session) = self.deps.session.clone() else {
            self.console(format!("{symbol}: no session, so no market data"));
            return;
        };
        let spec = match symbols::spec_of(&symbol) {
            Ok(spec) => spec,
            Err(e) => return self.console(e),
        };
        match session.watch(spec).await {
            Ok(line) => {
                self.feed.add(Subscription {
                    instrument_id,
                    line,
                    kinds,
                    bar_secs,
                });
                self.symbols.insert(instrument_id, symbol);
            }
            Err(e) => self.console(format!("{symbol}: no market data line: {e}")),
        }
    }

    /// The instance's intent an order update or fill is about, with its instrument.
    fn instrument_of(&self, update: &ScriptOrderUpdate) -> (u64, u32) {
        let instrument = self.intents.get(&update.intent_id).copied().unwrap_or(0);
        (u64::try_from(update.intent_id).unwrap_or(0), instrument)
    }

    fn order_update(&mut self, update: &OrderUpdate) -> Result<(), End> {
        let Some(change) = self.desk.order_update(update) else {
            return Ok(());
        };
        let status = match change.status {
            IntentStatus::Cancelled => TW_ORDER_CANCELLED,
            IntentStatus::Rejected => TW_ORDER_REJECTED,
            IntentStatus::Denied => TW_ORDER_DENIED,
            IntentStatus::Filled => TW_ORDER_FILLED,
            IntentStatus::Working | IntentStatus::PartiallyFilled => TW_ORDER_WORKING,
        };
        let (intent_id, instrument_id) = self.instrument_of(&change);
        self.deliver(Event::Order {
            instrument_id,
            at: Utc::now(),
            change: OrderChange {
                intent_id,
                status,
                filled: change.filled,
                remaining: change.remaining,
                average_price: update.average_fill_price.unwrap_or_default(),
                reason: change.reason,
            },
        })
    }

    fn fill(&mut self, execution: &Execution) -> Result<(), End> {
        let Some((fill, change, working)) = self.desk.fill(execution) else {
            return Ok(());
        };
        let (intent_id, instrument_id) = self.instrument_of(&change);
        self.console(format!(
            "#{intent_id} {} {} {} @ {}",
            fill.side.as_str(),
            fill.quantity,
            fill.symbol,
            fill.price
        ));
        self.deliver(Event::Fill {
            instrument_id,
            at: fill.time,
            fill: FillData {
                intent_id,
                side: fill.side,
                quantity: fill.quantity,
                price: fill.price,
                commission: fill.commission,
            },
        })?;
        let status = if change.status == IntentStatus::Filled {
            TW_ORDER_FILLED
        } else {
            TW_ORDER_WORKING
        };
        self.deliver(Event::Order {
            instrument_id,
            at: fill.time,
            change: OrderChange {
                intent_id,
                status,
                filled: change.filled,
                remaining: change.remaining,
                average_price: working.average_price(),
                reason: String::new(),
            },
        })
    }

    /// Shows what the desk noted on the console.
    fn notes(&mut self) {
        for line in self.desk.take_notes() {
            self.console(line);
        }
    }

    /// Cancels the instance's working orders and releases its lines; answers how many
    /// cancels were sent.
    async fn wind_down(&mut self) -> usize {
        let cancelled = self.desk.cancel_working(&self.deps).await;
        self.notes();
        let mut lines = self.feed.lines();
        lines.append(&mut self.margin_lines);
        lines.extend(self.desk.lines());
        self.deps.unwatch(lines).await;
        cancelled
    }

    /// The fault policy (faulted or hung alike): no more events, the instance's working orders
    /// cancelled, its positions left as they are; the fault counts against the plugin.
    async fn ended(mut self, end: End) {
        let (status, detail) = match end {
            End::Faulted(detail) => (PluginStrategyStatus::Faulted, detail),
            End::Hung(detail) => (PluginStrategyStatus::Hung, detail),
        };
        self.console(detail.clone());
        let cancelled = self.wind_down().await;
        // Counted against the plugin: after a few it is disabled for the next start.
        let reason = format!("{}: {detail}", self.name);
        match crate::plugins::registry::record_fault(&self.deps.pool, &self.plugin_id, &reason)
            .await
        {
            Ok(crate::store::plugins::FaultOutcome::Disabled(n)) => self.console(format!(
                "{} is disabled after {n} faults; it will not load at the next start",
                self.plugin_id
            )),
            Ok(_) => {}
            Err(e) => self.console(format!("fault not recorded: {e}")),
        }
        self.status(
            status,
            Some(format!("{detail}; {cancelled} working order(s) cancelled")),
        );
    }

    /// The stop policy: `destroy` (waited for, under the watchdog), then the instance's
    /// working orders are cancelled; positions stay.
    async fn stopped(
        mut self,
        done: Option<oneshot::Sender<()>>,
        mut requests: mpsc::UnboundedReceiver<Request>,
    ) {
        let mut end = None;
        if self.life.transition(&[State::Running], State::Stopping) {
            // A full queue is fine: the worker sees the state before its next event.
            let _ = self.to_worker.try_send(ThreadMsg::Stop);
            while let Some(request) = requests.recv().await {
                match request {
                    Request::Destroyed => break,
                    Request::Hung(detail) => {
                        end = Some(End::Hung(detail));
                        break;
                    }
                    Request::Faulted(detail) => self.console(detail),
                    Request::Place { intent_id, .. } => {
                        self.console(format!("#{intent_id} dropped: the instance is stopping"));
                    }
                    _ => {}
                }
            }
            self.life.transition(&[State::Stopping], State::Stopped);
        }
        match end {
            Some(end) => self.ended(end).await,
            None => {
                let cancelled = self.wind_down().await;
                self.status(
                    PluginStrategyStatus::Stopped,
                    Some(format!("{cancelled} working order(s) cancelled")),
                );
            }
        }
        if let Some(done) = done {
            let _ = done.send(());
        }
    }
}
