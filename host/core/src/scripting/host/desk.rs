//! The orders of one strategy instance, whatever runs it (a Rhai script or a native plugin):
//! each intent goes through the order router (the same risk gate and audit as the ticket,
//! attributed to the instance's [`Origin`]), and the session's order updates and executions
//! are matched back to the instance's intents. The fault and stop policies cancel what is
//! still working here.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use rust_decimal::Decimal;

use super::HostDeps;
use crate::domain::{ExecSide, Execution, InstrumentSpec, OrderIntent, OrderSide, Origin};
use crate::hub::OrderUpdate;
use crate::risk::SubmitError;
use crate::scripting::strategy::{
    IntentStatus, OrderRequest, ScriptFill, ScriptOrderUpdate, symbols,
};

/// How long an order waits for the first quote of an instrument it had no line for.
const QUOTE_WAIT: Duration = Duration::from_secs(5);

/// One of the instance's orders the router sent.
#[derive(Debug, Clone)]
pub(crate) struct Working {
    pub intent_id: i64,
    pub symbol: String,
    pub quantity: Decimal,
    pub filled: Decimal,
    /// Sum of quantity × price of the fills, for the average price.
    filled_value: Decimal,
    /// A market order: a replay waits for it (a resting limit or stop order it cannot wait
    /// for: the venue's price does not follow the replayed bars).
    pub market: bool,
    /// TWS has reported it working at least once.
    acknowledged: bool,
}

impl Working {
    /// Average price of the fills so far (zero before the first).
    pub fn average_price(&self) -> Decimal {
        if self.filled.is_zero() {
            Decimal::ZERO
        } else {
            self.filled_value / self.filled
        }
    }
}

/// What became of an intent at the router.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Placed {
    /// Past the gate and handed to the session, under this order ref.
    Sent(String),
    /// The gate said no; the denial names the rule.
    Denied(String),
    /// Never reached the gate (an unknown symbol, no risk context) or the router failed.
    Rejected(String),
}

/// The intent of `order` on `account` (its symbol's contract `instrument`), from `origin`.
pub(crate) fn intent_of(
    order: &OrderRequest,
    origin: Origin,
    account: &str,
    instrument: InstrumentSpec,
) -> OrderIntent {
    OrderIntent {
        origin,
        account: account.to_owned(),
        instrument,
        side: order.side,
        quantity: order.quantity,
        order_type: order.order_type,
        limit_price: order.limit,
        stop_price: order.stop,
        time_in_force: order.time_in_force,
        parent_ref: None,
    }
}

/// The instance's working orders, by order ref.
pub(crate) struct Desk {
    origin: Origin,
    account: String,
    working: HashMap<String, Working>,
    by_intent: HashMap<i64, String>,
    seen_executions: HashSet<String>,
    /// Lines opened for instruments it ordered without receiving their data (by symbol).
    order_lines: HashMap<String, i64>,
    /// Lines for the instance's console, taken by the caller.
    notes: Vec<String>,
}

impl Desk {
    pub fn new(origin: Origin, account: String) -> Self {
        Self {
            origin,
            account,
            working: HashMap::new(),
            by_intent: HashMap::new(),
            seen_executions: HashSet::new(),
            order_lines: HashMap::new(),
            notes: Vec::new(),
        }
    }

    /// What happened that the instance's console should show, since the last call.
    pub fn take_notes(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notes)
    }

    pub fn working_count(&self) -> usize {
        self.working.len()
    }

    /// Whether a market order is still working (a replay waits for it).
    pub fn market_working(&self) -> bool {
        self.working.values().any(|w| w.market)
    }

    /// Sends one order through the gate. `watched`: the instance already has a line on the
    /// instrument (otherwise one is opened so that the gate sees a fresh quote).
    pub async fn place(&mut self, deps: &HostDeps, order: &OrderRequest, watched: bool) -> Placed {
        let spec = match symbols::spec_of(&order.symbol) {
            Ok(spec) => spec,
            Err(e) => return Placed::Rejected(e),
        };
        let intent = intent_of(order, self.origin.clone(), &self.account, spec);
        if !watched {
            self.quote_for(deps, &order.symbol, &intent.instrument)
                .await;
        }
        // Whether the origin may trade this account was settled when the instance started.
        let ctx = match deps.view.context_for(&deps.pool, &intent, true, None).await {
            Ok(ctx) => ctx,
            Err(e) => return Placed::Rejected(format!("not sent: {e}")),
        };
        match deps.router.submit(intent, &ctx).await {
            Ok(order_ref) => {
                self.by_intent.insert(order.intent_id, order_ref.clone());
                self.working.insert(
                    order_ref.clone(),
                    Working {
                        intent_id: order.intent_id,
                        symbol: order.symbol.clone(),
                        quantity: order.quantity,
                        filled: Decimal::ZERO,
                        filled_value: Decimal::ZERO,
                        market: order.order_type == crate::domain::OrderType::Market,
                        acknowledged: false,
                    },
                );
                Placed::Sent(order_ref)
            }
            Err(SubmitError::Denied(denial)) => Placed::Denied(denial.to_string()),
            Err(other) => Placed::Rejected(other.to_string()),
        }
    }

    /// The gate needs a fresh quote of what an order trades: an instrument the strategy does
    /// not receive data of (an option it writes) gets a market data line first, and the order
    /// waits up to [`QUOTE_WAIT`] for its first quote (then the gate decides without it).
    async fn quote_for(&mut self, deps: &HostDeps, symbol: &str, spec: &InstrumentSpec) {
        if self.order_lines.contains_key(symbol) {
            return;
        }
        let Some(session) = deps.session.clone() else {
            return;
        };
        let id = match session.watch(spec.clone()).await {
            Ok(id) => id,
            Err(e) => {
                self.notes
                    .push(format!("{symbol}: no market data line: {e}"));
                return;
            }
        };
        self.order_lines.insert(symbol.to_owned(), id);
        let until = Instant::now() + QUOTE_WAIT;
        while deps.view.quote(id).is_none() && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The instance's update for a status TWS reported: cancelled or rejected (final), or
    /// working the first time TWS says so; `None` for anything else or another's order.
    pub fn order_update(&mut self, update: &OrderUpdate) -> Option<ScriptOrderUpdate> {
        let order_ref = update.order_ref.as_ref()?;
        let status = match update.status.as_str() {
            "Cancelled" | "ApiCancelled" => IntentStatus::Cancelled,
            "Inactive" => IntentStatus::Rejected,
            "Submitted" | "PreSubmitted" => {
                let working = self.working.get_mut(order_ref)?;
                if std::mem::replace(&mut working.acknowledged, true) {
                    return None;
                }
                return Some(ScriptOrderUpdate {
                    intent_id: working.intent_id,
                    symbol: working.symbol.clone(),
                    status: IntentStatus::Working,
                    filled: working.filled,
                    remaining: working.quantity - working.filled,
                    reason: String::new(),
                });
            }
            // Fills drive `filled`; every other status is still working.
            _ => return None,
        };
        let working = self.working.remove(order_ref)?;
        self.by_intent.remove(&working.intent_id);
        Some(ScriptOrderUpdate {
            intent_id: working.intent_id,
            symbol: working.symbol,
            status,
            filled: working.filled,
            remaining: working.quantity - working.filled,
            reason: format!("TWS status {}", update.status),
        })
    }

    /// An execution of one of the instance's orders: the fill, and the order's update
    /// (partially filled, or filled and done). The order as it stands is answered too, for
    /// its average price.
    pub fn fill(
        &mut self,
        execution: &Execution,
    ) -> Option<(ScriptFill, ScriptOrderUpdate, Working)> {
        let order_ref = execution.order_ref.clone()?;
        let working = self.working.get_mut(&order_ref)?;
        // A replay after a reconnect repeats executions: each counts once.
        if !self.seen_executions.insert(execution.exec_id.clone()) {
            return None;
        }
        working.filled += execution.quantity;
        working.filled_value += execution.quantity * execution.price;
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
        let snapshot = working.clone();
        if done {
            self.working.remove(&order_ref);
            self.by_intent.remove(&fill.intent_id);
        }
        Some((fill, update, snapshot))
    }

    /// Asks TWS to cancel one order; the instance hears `cancelled` when TWS confirms.
    pub async fn cancel(&mut self, deps: &HostDeps, intent_id: i64) {
        let Some(order_ref) = self.by_intent.get(&intent_id).cloned() else {
            return;
        };
        if let Err(e) = deps
            .router
            .cancel(&order_ref, &self.origin.to_string())
            .await
        {
            self.notes
                .push(format!("#{intent_id}: cancel not sent: {e}"));
        }
    }

    /// Asks to cancel each working order (`ctx.cancel_all()`).
    pub async fn cancel_all(&mut self, deps: &HostDeps) {
        let ids: Vec<i64> = self.by_intent.keys().copied().collect();
        for intent_id in ids {
            self.cancel(deps, intent_id).await;
        }
    }

    /// Cancels every working order of the instance (the fault and stop policies); answers
    /// how many cancels were sent.
    pub async fn cancel_working(&mut self, deps: &HostDeps) -> usize {
        let refs: Vec<String> = self.working.keys().cloned().collect();
        let actor = self.origin.to_string();
        let mut cancelled = 0;
        for order_ref in refs {
            match deps.router.cancel(&order_ref, &actor).await {
                Ok(()) => cancelled += 1,
                Err(e) => self
                    .notes
                    .push(format!("{order_ref}: cancel not sent: {e}")),
            }
        }
        cancelled
    }

    /// The market data lines the desk opened, to release when the instance ends.
    pub fn lines(&self) -> impl Iterator<Item = i64> + '_ {
        self.order_lines.values().copied()
    }
}
