//! The one order path: intent → risk gate → audit row → orders table → session.
//!
//! Whatever the origin (ticket, script, plugin), an order reaches TWS only as an [`Approved`]
//! command that this router built after the gate allowed it and the audit row was written. A
//! denial is audited too, with the rule and the reason. Resends after a reconnect come back
//! here and pass the gate again ([`OrderRouter::approve_resend`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use sqlx::PgPool;
use tokio::sync::{Mutex, mpsc, oneshot, watch};

use super::approval::{Approved, Command, OrderInbox, Outbox};
use super::gate::RiskGate;
use super::rules::{Denial, RiskContext, RiskRule};
use crate::domain::{InstrumentSpec, Order, OrderIntent, Origin};
use crate::store::audit::{self, AuditEntry};
use crate::store::orders::{self, NewOrder};
use crate::store::{StoreError, instruments};

/// Builds the risk context of an intent at the moment of a decision the router makes on its
/// own (a resend after a reconnect): fresh quote, position, today's P&L, margin.
pub type ContextSource =
    Arc<dyn Fn(OrderIntent) -> BoxFuture<'static, Result<RiskContext, String>> + Send + Sync>;

/// How long a modification waits for the session's answer (sent, or refused while offline).
const MODIFY_ANSWER: Duration = Duration::from_secs(10);

/// What a modification may change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderChanges {
    pub quantity: Option<rust_decimal::Decimal>,
    pub limit_price: Option<rust_decimal::Decimal>,
    pub stop_price: Option<rust_decimal::Decimal>,
}

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("order denied by {0}")]
    Denied(Denial),
    #[error("order not sent: {0}")]
    Store(#[from] StoreError),
    #[error("order not sent: the session is not running")]
    SessionGone,
    #[error("order {0} is not a working order")]
    NotWorking(String),
    #[error("modification refused: {0}")]
    Refused(String),
}

/// Shared front door for orders; cheap to clone.
#[derive(Clone)]
pub struct OrderRouter {
    gate: Arc<Mutex<RiskGate>>,
    /// The kill switch's flag, shared with the gate: engaged without waiting for its lock.
    halted: Arc<AtomicBool>,
    halted_watch: Arc<watch::Sender<bool>>,
    /// Counts kill switch resets, so a late disarm never undoes an arm made after a reset.
    resets: Arc<std::sync::atomic::AtomicU64>,
    pool: PgPool,
    session: Outbox,
    context: Arc<RwLock<Option<ContextSource>>>,
}

impl std::fmt::Debug for OrderRouter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrderRouter")
            .field("halted", &self.halted.load(Ordering::SeqCst))
            .finish_non_exhaustive()
    }
}

/// The order path: the router every origin shares, and the session's inbox of what it approved.
pub fn order_path(gate: RiskGate, pool: PgPool) -> (OrderRouter, OrderInbox) {
    let (tx, rx) = mpsc::unbounded_channel();
    let halted = gate.halt_flag();
    let router = OrderRouter {
        halted_watch: Arc::new(watch::channel(halted.load(Ordering::SeqCst)).0),
        halted,
        resets: Arc::default(),
        gate: Arc::new(Mutex::new(gate)),
        pool,
        session: tx,
        context: Arc::default(),
    };
    let inbox = OrderInbox {
        commands: rx,
        router: router.clone(),
    };
    (router, inbox)
}

impl OrderRouter {
    /// Where resends get their risk context. Without one, nothing is resent (denied, audited).
    pub fn set_context_source(&self, source: ContextSource) {
        *self.context.write().unwrap_or_else(|p| p.into_inner()) = Some(source);
    }

    /// Whether the kill switch is engaged; strategy hosts watch this and stop their order flow.
    pub fn halted(&self) -> watch::Receiver<bool> {
        self.halted_watch.subscribe()
    }

    fn send(&self, command: Command) -> Result<(), SubmitError> {
        self.session
            .send(Approved::new(command))
            .map_err(|_| SubmitError::SessionGone)
    }

    /// The gate's verdict on `intent` now, without auditing, recording or sending it (the
    /// order ticket's preview). The verdict can change before the order is placed.
    pub async fn preview(&self, intent: &OrderIntent, ctx: &RiskContext) -> Result<(), Denial> {
        self.gate.lock().await.check(intent, ctx, Instant::now())
    }

    /// Checks, audits, records and sends one order; returns its `order_ref`.
    pub async fn submit(
        &self,
        intent: OrderIntent,
        ctx: &RiskContext,
    ) -> Result<String, SubmitError> {
        // The gate stays locked until the order is recorded, so two intents cannot both pass a
        // rate or position check that only one of them fits.
        let mut gate = self.gate.lock().await;
        let decision = gate.decide(&intent, ctx, Instant::now());
        let mut details = intent.audit_details();
        if let (Some(margin), Some(map)) = (&ctx.margin, details.as_object_mut()) {
            map.insert(
                "margin_initial_after".into(),
                margin.initial_after.to_string().into(),
            );
            map.insert(
                "equity_with_loan".into(),
                margin.equity_with_loan.to_string().into(),
            );
            if let Some(tws) = margin.tws_initial_after {
                map.insert("tws_initial_after".into(), tws.to_string().into());
            }
            if let Some(rules) = &margin.custom_rules {
                map.insert("margin_custom_rules".into(), rules.clone().into());
            }
        }
        let order_ref = new_order_ref();
        if let (Ok(()), Some(map)) = (&decision, details.as_object_mut()) {
            map.insert("order_ref".into(), order_ref.clone().into());
        }
        self.audit_decision(&intent, "order.intent", &decision, details)
            .await?;
        decision.map_err(SubmitError::Denied)?;

        let instrument = instruments::upsert(&self.pool, &intent.instrument).await?;
        orders::insert(&self.pool, &new_order(&order_ref, instrument.id, &intent)).await?;
        drop(gate);
        self.send(Command::Place {
            order_ref: order_ref.clone(),
            instrument_id: instrument.id,
            intent: Box::new(intent),
            transmit: true,
        })?;
        Ok(order_ref)
    }

    /// A bracket: a parent order with a take-profit and a stop-loss child. All three pass the
    /// gate or none is sent; each decision is audited; the children carry the parent's ref.
    pub async fn submit_bracket(
        &self,
        parent: OrderIntent,
        take_profit: OrderIntent,
        stop_loss: OrderIntent,
        ctx: &RiskContext,
    ) -> Result<[String; 3], SubmitError> {
        let mut gate = self.gate.lock().await;
        let refs = [new_order_ref(), new_order_ref(), new_order_ref()];
        let mut legs = [parent, take_profit, stop_loss];
        for child in &mut legs[1..] {
            child.parent_ref = Some(refs[0].clone());
        }
        let now = Instant::now();
        let decisions: Vec<Result<(), Denial>> =
            legs.iter().map(|leg| gate.decide(leg, ctx, now)).collect();
        let group_denial = decisions.iter().find_map(|d| d.as_ref().err().cloned());
        for ((leg, order_ref), decision) in legs.iter().zip(&refs).zip(&decisions) {
            let mut details = leg.audit_details();
            if let Some(map) = details.as_object_mut() {
                map.insert("order_ref".into(), order_ref.clone().into());
                map.insert("bracket".into(), refs[0].clone().into());
            }
            let reason = match (decision, &group_denial) {
                (Err(own), _) => Some(own.to_string()),
                (Ok(()), Some(other)) => Some(format!("bracket refused: {other}")),
                (Ok(()), None) => None,
            };
            audit::append(
                &self.pool,
                &AuditEntry {
                    actor: leg.origin.to_string(),
                    action: "order.intent".into(),
                    decision: Some(
                        if group_denial.is_none() {
                            "allowed"
                        } else {
                            "denied"
                        }
                        .into(),
                    ),
                    reason,
                    details,
                },
            )
            .await?;
        }
        if let Some(denial) = group_denial {
            return Err(SubmitError::Denied(denial));
        }
        let mut commands = Vec::new();
        for (index, (leg, order_ref)) in legs.into_iter().zip(&refs).enumerate() {
            let instrument = instruments::upsert(&self.pool, &leg.instrument).await?;
            orders::insert(&self.pool, &new_order(order_ref, instrument.id, &leg)).await?;
            commands.push(Command::Place {
                order_ref: order_ref.clone(),
                instrument_id: instrument.id,
                intent: Box::new(leg),
                transmit: index == 2,
            });
        }
        drop(gate);
        for command in commands {
            self.send(command)?;
        }
        Ok(refs)
    }

    /// Modifies a working order. The changed order passes the gate like a new one (a bigger
    /// quantity or a price outside the collar is refused) and is audited as `order.modify`.
    /// The stored order keeps what TWS acknowledged; the change is kept apart as requested
    /// until TWS acknowledges it. While disconnected the modification is refused, with the
    /// reason, and nothing changes.
    pub async fn modify(
        &self,
        order_ref: &str,
        origin: Origin,
        changes: OrderChanges,
        ctx: &RiskContext,
    ) -> Result<(), SubmitError> {
        let order = orders::get(&self.pool, order_ref)
            .await?
            .filter(|o| !orders::FINAL_STATUSES.contains(&o.status.as_str()))
            .ok_or_else(|| SubmitError::NotWorking(order_ref.to_owned()))?;
        let instrument = instruments::get(&self.pool, order.instrument_id)
            .await?
            .ok_or_else(|| SubmitError::NotWorking(order_ref.to_owned()))?;
        let mut intent = OrderIntent::from_order(&order, instrument.spec, origin.clone());
        intent.quantity = changes.quantity.unwrap_or(intent.quantity);
        intent.limit_price = changes.limit_price.or(intent.limit_price);
        intent.stop_price = changes.stop_price.or(intent.stop_price);
        let mut gate = self.gate.lock().await;
        let decision = gate.decide(&intent, ctx, Instant::now());
        let mut details = intent.audit_details();
        if let Some(map) = details.as_object_mut() {
            map.insert("order_ref".into(), order_ref.into());
        }
        self.audit_decision(&intent, "order.modify", &decision, details)
            .await?;
        decision.map_err(SubmitError::Denied)?;
        orders::request_change(
            &self.pool,
            order_ref,
            intent.quantity,
            intent.limit_price,
            intent.stop_price,
        )
        .await?;
        drop(gate);
        let (reply, answer) = oneshot::channel();
        self.send(Command::Modify {
            order_ref: order_ref.to_owned(),
            intent: Box::new(intent),
            reply,
        })?;
        let refused = match tokio::time::timeout(MODIFY_ANSWER, answer).await {
            Ok(Ok(Ok(()))) => return Ok(()),
            Ok(Ok(Err(why))) => why,
            Ok(Err(_)) => return Err(SubmitError::SessionGone),
            Err(_) => format!("the session did not answer within {MODIFY_ANSWER:?}"),
        };
        orders::clear_requested_change(&self.pool, order_ref).await?;
        audit_now(
            &self.pool,
            AuditEntry {
                actor: origin.to_string(),
                action: "order.modify_refused".into(),
                decision: None,
                reason: Some(refused.clone()),
                details: serde_json::json!({ "order_ref": order_ref }),
            },
        )
        .await?;
        Err(SubmitError::Refused(refused))
    }

    /// Asks the session to cancel one order (audited). Cancelling never needs the gate, nor
    /// a connection or the database: offline, the session cancels at the first chance.
    pub async fn cancel(&self, order_ref: &str, actor: &str) -> Result<(), SubmitError> {
        if let Err(err) = orders::request_cancel(&self.pool, order_ref).await {
            tracing::warn!(order_ref, error = %err, "cancel request not stored; it is kept in memory");
        }
        self.send(Command::Cancel {
            order_ref: order_ref.to_owned(),
        })?;
        audit_eventually(
            self.pool.clone(),
            AuditEntry {
                actor: actor.to_owned(),
                action: "order.cancel".into(),
                decision: None,
                reason: None,
                details: serde_json::json!({ "order_ref": order_ref }),
            },
        );
        Ok(())
    }

    /// Arms trading on an account (audited).
    pub async fn arm(&self, account: &str, actor: &str) -> Result<(), SubmitError> {
        let result = self.gate.lock().await.arm(account);
        self.audit_plain(actor, "trading.arm", account, result.as_ref().err())
            .await?;
        result.map_err(SubmitError::Denied)
    }

    pub async fn disarm(&self, account: &str, actor: &str) -> Result<(), SubmitError> {
        self.gate.lock().await.disarm(account);
        self.audit_plain(actor, "trading.disarm", account, None)
            .await
    }

    /// Sets one account's limits from now on (the caller stores them; see `store::risk_limits`).
    pub async fn set_limits(&self, account: &str, limits: super::RiskLimits) {
        self.gate.lock().await.set_limits(account, limits);
    }

    /// Reads every account's stored limits into the gate; returns how many accounts had some.
    pub async fn load_stored_limits(&self) -> Result<usize, StoreError> {
        let mut gate = self.gate.lock().await;
        crate::store::risk_limits::load_all(&self.pool, &mut gate).await
    }

    pub async fn is_armed(&self, account: &str) -> bool {
        self.gate.lock().await.is_armed(account)
    }

    /// The kill switch: disarms every account at once and asks the session to cancel every
    /// working order of ours, now or at the first chance after a reconnect; nothing is resent
    /// after it. With `global_cancel`, TWS's global cancel is sent too: it cancels every open
    /// order of the account, including orders of other clients and orders entered by hand in
    /// TWS. Needs neither a connection nor the database: the audit row is written when
    /// PostgreSQL answers.
    pub fn kill_switch(&self, actor: &str, global_cancel: bool) -> Result<(), SubmitError> {
        self.halted.store(true, Ordering::SeqCst);
        self.halted_watch.send_replace(true);
        let sent = self.send(Command::KillSwitch { global_cancel });
        let (gate, pool, actor) = (self.gate.clone(), self.pool.clone(), actor.to_owned());
        let (resets, epoch) = (self.resets.clone(), self.resets.load(Ordering::SeqCst));
        tokio::spawn(async move {
            // The flag already refuses everything; this clears the armed accounts too.
            let mut gate = gate.lock().await;
            if resets.load(Ordering::SeqCst) == epoch {
                gate.engage_kill_switch();
            }
            drop(gate);
            audit_eventually(
                pool,
                AuditEntry {
                    actor,
                    action: "trading.kill_switch".into(),
                    decision: None,
                    reason: None,
                    details: serde_json::json!({ "global_cancel": global_cancel }),
                },
            );
        });
        sent
    }

    pub async fn reset_kill_switch(&self, actor: &str) -> Result<(), SubmitError> {
        let mut gate = self.gate.lock().await;
        self.resets.fetch_add(1, Ordering::SeqCst);
        gate.reset_kill_switch();
        drop(gate);
        self.halted_watch.send_replace(false);
        self.audit_plain(actor, "trading.kill_switch_reset", "", None)
            .await
    }

    async fn audit_decision(
        &self,
        intent: &OrderIntent,
        action: &str,
        decision: &Result<(), Denial>,
        details: serde_json::Value,
    ) -> Result<(), StoreError> {
        audit::append(
            &self.pool,
            &AuditEntry {
                actor: intent.origin.to_string(),
                action: action.to_owned(),
                decision: Some(
                    if decision.is_ok() {
                        "allowed"
                    } else {
                        "denied"
                    }
                    .into(),
                ),
                reason: decision.as_ref().err().map(ToString::to_string),
                details,
            },
        )
        .await
        .map(drop)
    }

    async fn audit_plain(
        &self,
        actor: &str,
        action: &str,
        account: &str,
        denial: Option<&Denial>,
    ) -> Result<(), SubmitError> {
        audit::append(
            &self.pool,
            &AuditEntry {
                actor: actor.to_owned(),
                action: action.to_owned(),
                decision: denial.map(|_| "denied".to_owned()),
                reason: denial.map(ToString::to_string),
                details: serde_json::json!({ "account": account }),
            },
        )
        .await?;
        Ok(())
    }
}

/// One order to send again after a reconnect, with the transmit flag of its first send.
#[derive(Debug, Clone)]
pub struct ResendLeg {
    pub order: Order,
    pub instrument: InstrumentSpec,
    pub transmit: bool,
}

impl OrderRouter {
    /// Passes orders TWS never received through the gate again, with the state of this
    /// moment (armed, kill switch, limits, a fresh context), all legs or none, each decision
    /// audited as `order.resend`. Denied legs end as Inactive with the reason; the approved
    /// ones come back for the session to send.
    pub async fn approve_resend(&self, legs: Vec<ResendLeg>) -> Result<Vec<Approved>, Denial> {
        let source = self
            .context
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let mut intents = Vec::new();
        let mut contexts = Vec::new();
        let mut failure = None;
        for leg in &legs {
            let intent = match leg.order.origin.parse::<Origin>() {
                Ok(origin) => OrderIntent::from_order(&leg.order, leg.instrument.clone(), origin),
                Err(err) => {
                    failure.get_or_insert(Denial {
                        rule: RiskRule::InvalidOrder,
                        reason: err.to_string(),
                    });
                    continue;
                }
            };
            let ctx = match &source {
                Some(source) => source(intent.clone()).await.map_err(|why| Denial {
                    rule: RiskRule::NoContext,
                    reason: format!("no risk context for the resend: {why}"),
                }),
                None => Err(Denial {
                    rule: RiskRule::NoContext,
                    reason: "no risk context source: orders are not resent".into(),
                }),
            };
            match ctx {
                Ok(ctx) => contexts.push(ctx),
                Err(denial) => {
                    failure.get_or_insert(denial);
                }
            }
            intents.push(intent);
        }
        let mut gate = self.gate.lock().await;
        let now = Instant::now();
        let decisions: Vec<Result<(), Denial>> = match &failure {
            Some(denial) => legs.iter().map(|_| Err(denial.clone())).collect(),
            None => intents
                .iter()
                .zip(&contexts)
                .map(|(intent, ctx)| gate.decide(intent, ctx, now))
                .collect(),
        };
        drop(gate);
        let denial = decisions.iter().find_map(|d| d.as_ref().err().cloned());
        for (leg, decision) in legs.iter().zip(&decisions) {
            let reason = match (decision, &denial) {
                (Err(own), _) => Some(own.to_string()),
                (Ok(()), Some(other)) => Some(format!("group refused: {other}")),
                (Ok(()), None) => None,
            };
            let entry = AuditEntry {
                actor: leg.order.origin.clone(),
                action: "order.resend".into(),
                decision: Some(
                    if denial.is_none() {
                        "allowed"
                    } else {
                        "denied"
                    }
                    .into(),
                ),
                reason: reason.clone(),
                details: serde_json::json!({
                    "order_ref": leg.order.order_ref,
                    "transmit": leg.transmit,
                }),
            };
            audit_eventually(self.pool.clone(), entry);
            if let Some(reason) = reason {
                let why = format!("not resent: {reason}");
                if let Err(err) =
                    orders::finish(&self.pool, &leg.order.order_ref, "Inactive", &why).await
                {
                    tracing::error!(order_ref = %leg.order.order_ref, error = %err, "cannot end an order that was not resent");
                }
            }
        }
        if let Some(denial) = denial {
            return Err(denial);
        }
        Ok(legs
            .into_iter()
            .zip(intents)
            .map(|(leg, intent)| {
                Approved::new(Command::Place {
                    order_ref: leg.order.order_ref,
                    instrument_id: leg.order.instrument_id,
                    intent: Box::new(intent),
                    transmit: leg.transmit,
                })
            })
            .collect())
    }
}

/// Appends an audit row now.
async fn audit_now(pool: &PgPool, entry: AuditEntry) -> Result<(), StoreError> {
    audit::append(pool, &entry).await.map(drop)
}

/// Appends an audit row as soon as PostgreSQL answers, for actions that must not wait for the
/// database (cancel, kill switch). Retries for an hour, then logs the row it could not write.
pub(crate) fn audit_eventually(pool: PgPool, entry: AuditEntry) {
    tokio::spawn(async move {
        let mut delay = Duration::from_millis(200);
        let give_up = Instant::now() + Duration::from_secs(3600);
        loop {
            match audit::append(&pool, &entry).await {
                Ok(_) => return,
                Err(err) if Instant::now() < give_up => {
                    tracing::warn!(action = %entry.action, error = %err, retry_in = ?delay, "audit row not written yet");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(30));
                }
                Err(err) => {
                    tracing::error!(?entry, error = %err, "audit row could not be written");
                    return;
                }
            }
        }
    });
}

fn new_order(order_ref: &str, instrument_id: i64, intent: &OrderIntent) -> NewOrder {
    NewOrder {
        order_ref: order_ref.to_owned(),
        account: intent.account.clone(),
        instrument_id,
        origin: intent.origin.to_string(),
        side: intent.side,
        quantity: intent.quantity,
        order_type: intent.order_type,
        limit_price: intent.limit_price,
        stop_price: intent.stop_price,
        time_in_force: intent.time_in_force,
        parent_ref: intent.parent_ref.clone(),
    }
}

/// A reference unique across restarts and workbenches: `tw-` and a random UUID.
fn new_order_ref() -> String {
    format!("tw-{}", uuid::Uuid::new_v4().simple())
}
