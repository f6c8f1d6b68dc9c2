//! The backtest loop: bars in time order, the strategy's orders matched by the fill model, its
//! fills and order updates fed back to it in the order the live host delivers them (see
//! `docs/scripting.md`, "Parity between modes"), and the account marked at every close.

// A fault ends a backtest: it is returned once, never on a hot path, and carries the
// console the trader needs, so it is not boxed.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, VecDeque};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rhai::Engine;
use rust_decimal::Decimal;

use super::bars::bar_seconds_of;
use super::fill::{FillModel, Match, OptionContract, OrderTerms, PriceBar};
use super::stats::{self, BacktestReport, EXPIRY_TAG, Trade};
use crate::domain::{OrderSide, SecType, TimeInForce};
use crate::scripting::strategy::{
    Fault, Intent, IntentStatus, OrderRequest, Output, ParamValues, ScriptBar, ScriptFill,
    ScriptOrderUpdate, StrategyInstance, StrategyScript, TimerRequest, symbols,
};

/// Intents and events one bar may cause before the backtest gives up: a strategy that places
/// an order in reply to every update of its own orders would otherwise never end.
pub const MAX_EVENTS_PER_BAR: usize = 10_000;

/// Lines of console kept from one backtest; later lines are counted, not kept.
pub const MAX_CONSOLE_LINES: usize = 10_000;

/// The largest order quantity a backtest accepts, so that no amount it computes can overflow.
pub const MAX_QUANTITY: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);

/// Why a backtest produced no report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BacktestError {
    #[error("no bars to test on")]
    NoBars,
    /// The script failed: the hook, the error at line and column, what it printed up to then
    /// (`console`, the failing call's lines included) and the bar being handled.
    #[error("{fault}{}", .time.map(|t| format!(" at the bar of {}", t.to_rfc3339())).unwrap_or_default())]
    Fault {
        fault: Fault,
        time: Option<DateTime<Utc>>,
        console: Vec<String>,
    },
    #[error(
        "more than {MAX_EVENTS_PER_BAR} orders and order updates at the bar of {}: does the strategy answer every update with a new order?",
        .time.to_rfc3339()
    )]
    Runaway { time: DateTime<Utc> },
    /// A bug in the backtest itself (a panic), reported rather than taking the caller down.
    #[error("the backtest failed: {0}")]
    Internal(String),
}

/// What the backtest loop drives: a script instance, or (for benchmarks and tests) a strategy
/// written in Rust that answers the same events with the same intents.
pub trait BacktestStrategy {
    fn on_bar(&mut self, bar: ScriptBar) -> Result<Output, Fault>;
    fn on_fill(&mut self, fill: ScriptFill) -> Result<Output, Fault>;
    fn on_order(&mut self, update: ScriptOrderUpdate) -> Result<Output, Fault>;
    fn on_timer(&mut self, name: &str, now: DateTime<Utc>) -> Result<Output, Fault>;
    /// Called once after the last bar; intents it returns are not carried out.
    fn stop(&mut self) -> Result<Output, Fault>;
}

impl BacktestStrategy for StrategyInstance {
    fn on_bar(&mut self, bar: ScriptBar) -> Result<Output, Fault> {
        StrategyInstance::on_bar(self, bar)
    }
    fn on_fill(&mut self, fill: ScriptFill) -> Result<Output, Fault> {
        StrategyInstance::on_fill(self, fill)
    }
    fn on_order(&mut self, update: ScriptOrderUpdate) -> Result<Output, Fault> {
        StrategyInstance::on_order(self, update)
    }
    fn on_timer(&mut self, name: &str, now: DateTime<Utc>) -> Result<Output, Fault> {
        StrategyInstance::on_timer(self, name, now)
    }
    fn stop(&mut self) -> Result<Output, Fault> {
        StrategyInstance::stop(self)
    }
}

/// Runs `script` with `params` over `bars` (one instrument, increasing time) under `model`,
/// starting with `initial_cash` and no positions. The instance starts at the first bar's time
/// (top level, `on_start`); `on_stop` is called after the last bar. A fault stops the backtest
/// and is returned with everything printed so far.
pub fn backtest(
    engine: Arc<Engine>,
    script: Arc<StrategyScript>,
    params: ParamValues,
    bars: &[ScriptBar],
    model: &FillModel,
    initial_cash: Decimal,
) -> Result<BacktestReport, BacktestError> {
    let first = bars.first().ok_or(BacktestError::NoBars)?;
    let guarded = catch_unwind(AssertUnwindSafe(|| {
        let (instance, output) = StrategyInstance::start(engine, script, params, first.time, None)
            .map_err(|fault| BacktestError::Fault {
                console: fault.console.clone(),
                fault,
                time: None,
            })?;
        run_strategy(instance, Some(output), bars, model, initial_cash)
    }));
    guarded.unwrap_or_else(|panic| Err(BacktestError::Internal(panic_message(&panic))))
}

pub(super) fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_owned())
}

/// The backtest loop for any [`BacktestStrategy`]; `started` is what starting it produced
/// (its intents are placed before the first bar).
pub fn run_strategy<S: BacktestStrategy>(
    strategy: S,
    started: Option<Output>,
    bars: &[ScriptBar],
    model: &FillModel,
    initial_cash: Decimal,
) -> Result<BacktestReport, BacktestError> {
    let first = bars.first().ok_or(BacktestError::NoBars)?;
    let last = &bars[bars.len() - 1];
    let bar_seconds = bar_seconds_of(bars);
    let mut sim = Sim {
        strategy,
        model,
        underlying: first.symbol.clone(),
        bar_seconds,
        cash: initial_cash,
        positions: BTreeMap::new(),
        contracts: BTreeMap::new(),
        pending: BTreeMap::new(),
        queue: VecDeque::new(),
        timers: BTreeMap::new(),
        trades: Vec::new(),
        console: Vec::new(),
        dropped_console: 0,
        now: first.time,
        next_bar: 0,
        events: 0,
    };
    if let Some(output) = started {
        sim.take(output)?;
        sim.drain()?;
    }
    let mut equity = Vec::with_capacity(bars.len());
    let mut exposed = 0;
    for (index, bar) in bars.iter().enumerate() {
        sim.bar(index, bar, bars.get(index + 1))?;
        let value = sim.equity(bar)?;
        if sim.positions.values().any(|q| !q.is_zero()) {
            exposed += 1;
        }
        equity.push((bar.time, value));
    }
    let stopped = sim.strategy.stop();
    sim.now = last.time;
    match stopped {
        Ok(output) => sim.log(output.console),
        Err(fault) => return Err(sim.fault(fault)),
    }
    if sim.dropped_console > 0 {
        sim.console.push(format!(
            "… {} more console lines were not kept (at most {MAX_CONSOLE_LINES})",
            sim.dropped_console
        ));
    }
    let values: Vec<Decimal> = equity.iter().map(|(_, v)| *v).collect();
    let stats = stats::compute(initial_cash, &values, exposed, &sim.trades, bar_seconds);
    Ok(BacktestReport {
        symbol: sim.underlying,
        bar_seconds,
        from: first.time,
        to: last.time + Duration::seconds(i64::from(bar_seconds)),
        trades: sim.trades,
        equity,
        stats,
        console: sim.console,
    })
}

/// An order waiting for a bar.
struct Pending {
    order: OrderRequest,
    /// Index of the first bar it may fill on (the bar after the one it was placed during).
    eligible_from: usize,
    /// For a DAY order: the date of the first bar it was eligible on; it is cancelled at the
    /// first bar of a later date.
    session: Option<NaiveDate>,
    triggered: bool,
    option: Option<OptionContract>,
}

struct Sim<'m, S> {
    strategy: S,
    model: &'m FillModel,
    underlying: String,
    bar_seconds: i32,
    cash: Decimal,
    /// Signed quantity per symbol.
    positions: BTreeMap<String, Decimal>,
    /// The option symbols traded, parsed once.
    contracts: BTreeMap<String, OptionContract>,
    /// Working orders by intent id: matched in the order they were placed.
    pending: BTreeMap<i64, Pending>,
    /// Intents not yet carried out, in the order they were asked for.
    queue: VecDeque<Intent>,
    /// Armed timers: name → when they fire.
    timers: BTreeMap<String, DateTime<Utc>>,
    trades: Vec<Trade>,
    console: Vec<String>,
    dropped_console: usize,
    /// The time of the event being handled.
    now: DateTime<Utc>,
    /// The bar an order placed now is first eligible on.
    next_bar: usize,
    /// Intents and events of the current bar.
    events: usize,
}

impl<S: BacktestStrategy> Sim<'_, S> {
    fn bar(
        &mut self,
        index: usize,
        bar: &ScriptBar,
        next: Option<&ScriptBar>,
    ) -> Result<(), BacktestError> {
        self.events = 0;
        self.now = bar.time;
        // Timers due by the bar's start fire first; what they place may fill on this bar.
        self.next_bar = index;
        self.fire_timers(bar.time)?;
        // Orders placed from here on wait for the next bar.
        self.next_bar = index + 1;
        self.match_pending(index, bar)?;
        self.now = bar.time;
        let output = self.strategy.on_bar(bar.clone());
        self.deliver(output)?;
        self.drain()?;
        if self.contracts.is_empty() {
            return Ok(());
        }
        self.settle_expired(bar, next.map(|b| b.time.date_naive()))
    }

    fn fire_timers(&mut self, until: DateTime<Utc>) -> Result<(), BacktestError> {
        if self.timers.is_empty() {
            return Ok(());
        }
        let mut due: Vec<(DateTime<Utc>, String)> = self
            .timers
            .iter()
            .filter(|(_, at)| **at <= until)
            .map(|(name, at)| (*at, name.clone()))
            .collect();
        due.sort();
        for (at, name) in due {
            // A timer re-armed (or cancelled) by an earlier one is not fired from this list.
            if self.timers.get(&name) != Some(&at) {
                continue;
            }
            self.timers.remove(&name);
            self.now = at;
            let output = self.strategy.on_timer(&name, at);
            self.deliver(output)?;
            self.drain()?;
        }
        Ok(())
    }

    /// Every working order eligible on this bar, oldest first: expired DAY orders cancelled,
    /// the rest matched; each fill is delivered (and what it causes carried out) before the
    /// next order is looked at, so a fill can still cancel a sibling order on the same bar.
    fn match_pending(&mut self, index: usize, bar: &ScriptBar) -> Result<(), BacktestError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let ids: Vec<i64> = self.pending.keys().copied().collect();
        let date = bar.time.date_naive();
        for id in ids {
            let Some(pending) = self.pending.get_mut(&id) else {
                continue;
            };
            if pending.eligible_from > index {
                continue;
            }
            let tif = pending.order.time_in_force;
            if tif == TimeInForce::Day && date > *pending.session.get_or_insert(date) {
                self.close_order(id, IntentStatus::Cancelled, "day order expired")?;
                self.drain()?;
                continue;
            }
            let prices = match &pending.option {
                Some(option) if option.expires_at() <= bar.time => None,
                Some(option) => Some(self.model.option_bar(option, bar, self.bar_seconds)),
                None => Some(PriceBar::from(bar)),
            };
            let Some(prices) = prices else {
                self.close_order(id, IntentStatus::Cancelled, "the option has expired")?;
                self.drain()?;
                continue;
            };
            let terms = OrderTerms {
                side: pending.order.side,
                order_type: pending.order.order_type,
                limit: pending.order.limit,
                stop: pending.order.stop,
                triggered: pending.triggered,
            };
            match self.model.match_order(&terms, &prices) {
                Match::Fill(price) => {
                    if let Some(pending) = self.pending.remove(&id) {
                        self.fill(&pending, price, bar.time)?;
                    }
                }
                outcome => {
                    pending.triggered |= outcome == Match::Triggered;
                    if tif == TimeInForce::Ioc {
                        self.close_order(
                            id,
                            IntentStatus::Cancelled,
                            "immediate-or-cancel order not filled",
                        )?;
                    }
                }
            }
            self.drain()?;
        }
        Ok(())
    }

    /// An order fills whole: the account, the trade, then `on_fill` and `on_order(filled)`.
    fn fill(
        &mut self,
        pending: &Pending,
        price: Decimal,
        time: DateTime<Utc>,
    ) -> Result<(), BacktestError> {
        let order = &pending.order;
        let commission = self
            .model
            .commission(order.quantity, pending.option.is_some());
        let multiplier = if pending.option.is_some() {
            Decimal::ONE_HUNDRED
        } else {
            Decimal::ONE
        };
        self.book_trade(
            order.intent_id,
            &order.symbol,
            order.side,
            order.quantity,
            price,
            commission,
            multiplier,
            time,
            String::new(),
        );
        let fill = ScriptFill {
            intent_id: order.intent_id,
            symbol: order.symbol.clone(),
            side: order.side,
            quantity: order.quantity,
            price,
            commission,
            time,
        };
        let update = ScriptOrderUpdate {
            intent_id: order.intent_id,
            symbol: order.symbol.clone(),
            status: IntentStatus::Filled,
            filled: order.quantity,
            remaining: Decimal::ZERO,
            reason: String::new(),
        };
        self.now = time;
        let output = self.strategy.on_fill(fill);
        self.deliver(output)?;
        let output = self.strategy.on_order(update);
        self.deliver(output)
    }

    #[allow(clippy::too_many_arguments)]
    fn book_trade(
        &mut self,
        intent_id: i64,
        symbol: &str,
        side: OrderSide,
        quantity: Decimal,
        price: Decimal,
        commission: Decimal,
        multiplier: Decimal,
        time: DateTime<Utc>,
        tag: String,
    ) {
        let signed = match side {
            OrderSide::Buy => quantity,
            OrderSide::Sell => -quantity,
        };
        self.cash -= signed * price * multiplier + commission;
        *self.positions.entry(symbol.to_owned()).or_default() += signed;
        let seq = u32::try_from(self.trades.len() + 1).unwrap_or(u32::MAX);
        self.trades.push(Trade {
            seq,
            time,
            intent_id,
            symbol: symbol.to_owned(),
            side,
            quantity,
            price,
            commission,
            tag,
        });
    }

    /// Options that expire with this bar (their expiry is this bar's date or earlier, and the
    /// next bar is of a later date or there is none) settle at their intrinsic value at the
    /// bar's close: a trade tagged `expiry` with intent id 0, delivered to `on_fill`.
    fn settle_expired(
        &mut self,
        bar: &ScriptBar,
        next_date: Option<NaiveDate>,
    ) -> Result<(), BacktestError> {
        let date = bar.time.date_naive();
        let expiring: Vec<(String, Decimal, Decimal)> = self
            .positions
            .iter()
            .filter(|(_, quantity)| !quantity.is_zero())
            .filter_map(|(symbol, quantity)| {
                let option = self.contracts.get(symbol)?;
                // The last bar before the expiry passes (the expiry's own bar when there is one).
                let ends = next_date.map_or(option.expiry <= date, |d| d > option.expiry);
                ends.then(|| (symbol.clone(), *quantity, option.intrinsic(bar.close)))
            })
            .collect();
        for (symbol, quantity, value) in expiring {
            let side = if quantity > Decimal::ZERO {
                OrderSide::Sell
            } else {
                OrderSide::Buy
            };
            let time = bar.time;
            self.book_trade(
                0,
                &symbol,
                side,
                quantity.abs(),
                value,
                Decimal::ZERO,
                Decimal::ONE_HUNDRED,
                time,
                EXPIRY_TAG.to_owned(),
            );
            let fill = ScriptFill {
                intent_id: 0,
                symbol,
                side,
                quantity: quantity.abs(),
                price: value,
                commission: Decimal::ZERO,
                time,
            };
            self.now = time;
            let output = self.strategy.on_fill(fill);
            self.deliver(output)?;
            self.drain()?;
        }
        Ok(())
    }

    /// Cash plus every position at the bar's close (options at their model price, times 100).
    fn equity(&self, bar: &ScriptBar) -> Result<Decimal, BacktestError> {
        let mut value = self.cash;
        let end = bar.time + Duration::seconds(i64::from(self.bar_seconds));
        for (symbol, quantity) in &self.positions {
            if quantity.is_zero() {
                continue;
            }
            let worth = match self.contracts.get(symbol) {
                Some(option) => {
                    self.model.option_price(option, bar.close, end) * Decimal::ONE_HUNDRED
                }
                None => bar.close,
            };
            value = quantity
                .checked_mul(worth)
                .and_then(|v| value.checked_add(v))
                .ok_or_else(|| BacktestError::Internal("equity overflowed".into()))?;
        }
        Ok(value)
    }

    /// Takes a hook's result: its console and timers now, its intents into the queue.
    fn deliver(&mut self, result: Result<Output, Fault>) -> Result<(), BacktestError> {
        match result {
            Ok(output) => self.take(output),
            Err(fault) => Err(self.fault(fault)),
        }
    }

    fn take(&mut self, output: Output) -> Result<(), BacktestError> {
        self.log(output.console);
        for TimerRequest { name, after_ms } in output.timers {
            if after_ms == 0 {
                self.timers.remove(&name);
            } else {
                self.timers
                    .insert(name, self.now + Duration::milliseconds(after_ms));
            }
        }
        self.events += output.intents.len();
        if self.events > MAX_EVENTS_PER_BAR {
            return Err(BacktestError::Runaway { time: self.now });
        }
        self.queue.extend(output.intents);
        Ok(())
    }

    fn log(&mut self, lines: Vec<String>) {
        for line in lines {
            if self.console.len() < MAX_CONSOLE_LINES {
                self.console.push(line);
            } else {
                self.dropped_console += 1;
            }
        }
    }

    fn fault(&mut self, fault: Fault) -> BacktestError {
        let mut console = std::mem::take(&mut self.console);
        console.extend(fault.console.iter().cloned());
        BacktestError::Fault {
            fault,
            time: Some(self.now),
            console,
        }
    }

    /// Carries out queued intents in order; what the updates they cause ask for joins the
    /// end of the queue.
    fn drain(&mut self) -> Result<(), BacktestError> {
        while let Some(intent) = self.queue.pop_front() {
            match intent {
                Intent::Place(order) => self.place(order)?,
                Intent::Cancel { intent_id } => {
                    if self.pending.contains_key(&intent_id) {
                        self.close_order(
                            intent_id,
                            IntentStatus::Cancelled,
                            "cancelled by the strategy",
                        )?;
                    }
                }
                Intent::CancelAll => {
                    let ids: Vec<i64> = self.pending.keys().copied().collect();
                    for id in ids {
                        self.close_order(id, IntentStatus::Cancelled, "cancelled by the strategy")?;
                    }
                }
            }
        }
        Ok(())
    }

    /// A new order: refused (`rejected`) if the backtest cannot trade it, else `working`.
    fn place(&mut self, order: OrderRequest) -> Result<(), BacktestError> {
        let option = match self.tradable(&order) {
            Ok(option) => option,
            Err(reason) => {
                let update = ScriptOrderUpdate {
                    intent_id: order.intent_id,
                    symbol: order.symbol.clone(),
                    status: IntentStatus::Rejected,
                    filled: Decimal::ZERO,
                    remaining: order.quantity,
                    reason,
                };
                let output = self.strategy.on_order(update);
                return self.deliver(output);
            }
        };
        if let Some(option) = &option {
            self.contracts
                .entry(order.symbol.clone())
                .or_insert_with(|| option.clone());
        }
        let update = order.working();
        self.pending.insert(
            order.intent_id,
            Pending {
                order,
                eligible_from: self.next_bar,
                session: None,
                triggered: false,
                option,
            },
        );
        let output = self.strategy.on_order(update);
        self.deliver(output)
    }

    /// The underlying itself, or an equity option on it that has not expired; the option's
    /// terms for the fill model.
    fn tradable(&self, order: &OrderRequest) -> Result<Option<OptionContract>, String> {
        if order.quantity > MAX_QUANTITY {
            return Err(format!(
                "quantity {} is more than a backtest trades (at most {MAX_QUANTITY})",
                order.quantity
            ));
        }
        if order.symbol == self.underlying {
            return Ok(None);
        }
        let spec = symbols::spec_of(&order.symbol)?;
        let no_bars = || {
            format!(
                "the backtest has bars of {} only, not {}",
                self.underlying, order.symbol
            )
        };
        if spec.sec_type != SecType::Option || spec.symbol != self.underlying {
            return Err(no_bars());
        }
        let (Some(expiry), Some(right), Some(strike)) = (spec.expiry, spec.right, spec.strike)
        else {
            return Err(no_bars());
        };
        let option = OptionContract {
            underlying: spec.symbol,
            expiry,
            right,
            strike,
        };
        if option.expires_at() <= self.now {
            return Err(format!("{} has expired", order.symbol));
        }
        Ok(Some(option))
    }

    /// Ends a working order without a fill and tells the strategy.
    fn close_order(
        &mut self,
        id: i64,
        status: IntentStatus,
        reason: &str,
    ) -> Result<(), BacktestError> {
        let Some(pending) = self.pending.remove(&id) else {
            return Ok(());
        };
        self.events += 1;
        if self.events > MAX_EVENTS_PER_BAR {
            return Err(BacktestError::Runaway { time: self.now });
        }
        let update = ScriptOrderUpdate {
            intent_id: id,
            symbol: pending.order.symbol,
            status,
            filled: Decimal::ZERO,
            remaining: pending.order.quantity,
            reason: reason.to_owned(),
        };
        let output = self.strategy.on_order(update);
        self.deliver(output)
    }
}
