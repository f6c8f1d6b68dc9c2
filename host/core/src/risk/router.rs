//! The one order path: intent → risk gate → audit row → orders table → session.
//!
//! Whatever the origin (ticket, script, plugin), an order reaches TWS only as an
//! [`OrderCommand`] that this router sent after the gate allowed it and the audit row was
//! written. A denial is audited too, with the rule and the reason.

use std::sync::Arc;
use std::time::Instant;

use sqlx::PgPool;
use tokio::sync::{Mutex, mpsc};

use super::gate::RiskGate;
use super::intent::OrderIntent;
use super::rules::{Denial, RiskContext};
use crate::store::audit::{self, AuditEntry};
use crate::store::orders::{self, NewOrder};
use crate::store::{StoreError, instruments};

/// What the session is asked to do. Carries our `order_ref`, which is sent as TWS's `orderRef`
/// so an order is recognised after a reconnect and never sent twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderCommand {
    Place {
        order_ref: String,
        instrument_id: i64,
        intent: Box<OrderIntent>,
        /// False for the parent and first child of a bracket: TWS holds them until the last
        /// child arrives with `transmit`, so the parent cannot fill unprotected.
        transmit: bool,
    },
    /// Change quantity or prices of a working order (TWS: placeOrder with the same id).
    Modify {
        order_ref: String,
        intent: Box<OrderIntent>,
    },
    Cancel {
        order_ref: String,
    },
}

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
}

/// Shared front door for orders; cheap to clone.
#[derive(Debug, Clone)]
pub struct OrderRouter {
    gate: Arc<Mutex<RiskGate>>,
    pool: PgPool,
    session: mpsc::Sender<OrderCommand>,
}

impl OrderRouter {
    pub fn new(gate: RiskGate, pool: PgPool, session: mpsc::Sender<OrderCommand>) -> Self {
        Self {
            gate: Arc::new(Mutex::new(gate)),
            pool,
            session,
        }
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
        self.session
            .send(OrderCommand::Place {
                order_ref: order_ref.clone(),
                instrument_id: instrument.id,
                intent: Box::new(intent),
                transmit: true,
            })
            .await
            .map_err(|_| SubmitError::SessionGone)?;
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
            commands.push(OrderCommand::Place {
                order_ref: order_ref.clone(),
                instrument_id: instrument.id,
                intent: Box::new(leg),
                transmit: index == 2,
            });
        }
        drop(gate);
        for command in commands {
            self.session
                .send(command)
                .await
                .map_err(|_| SubmitError::SessionGone)?;
        }
        Ok(refs)
    }

    /// Modifies a working order. The changed order passes the gate like a new one (a bigger
    /// quantity or a price outside the collar is refused) and is audited as `order.modify`.
    pub async fn modify(
        &self,
        order_ref: &str,
        origin: super::Origin,
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
        let mut intent = OrderIntent::from_order(&order, instrument.spec, origin);
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
        orders::amend(
            &self.pool,
            order_ref,
            intent.quantity,
            intent.limit_price,
            intent.stop_price,
        )
        .await?;
        drop(gate);
        self.session
            .send(OrderCommand::Modify {
                order_ref: order_ref.to_owned(),
                intent: Box::new(intent),
            })
            .await
            .map_err(|_| SubmitError::SessionGone)
    }

    /// Asks the session to cancel one order (audited). Cancelling never needs the gate.
    pub async fn cancel(&self, order_ref: &str, actor: &str) -> Result<(), SubmitError> {
        self.audit_plain(actor, "order.cancel", order_ref, None)
            .await?;
        self.session
            .send(OrderCommand::Cancel {
                order_ref: order_ref.to_owned(),
            })
            .await
            .map_err(|_| SubmitError::SessionGone)
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

    pub async fn is_armed(&self, account: &str) -> bool {
        self.gate.lock().await.is_armed(account)
    }

    /// The kill switch: disarms everything, then asks the session to cancel every working
    /// order of `accounts`. Returns the order refs it asked to cancel.
    pub async fn kill_switch(
        &self,
        actor: &str,
        accounts: &[String],
    ) -> Result<Vec<String>, SubmitError> {
        self.gate.lock().await.engage_kill_switch();
        let mut cancelled = Vec::new();
        for account in accounts {
            for order in orders::working(&self.pool, account).await? {
                self.session
                    .send(OrderCommand::Cancel {
                        order_ref: order.order_ref.clone(),
                    })
                    .await
                    .map_err(|_| SubmitError::SessionGone)?;
                cancelled.push(order.order_ref);
            }
        }
        audit::append(
            &self.pool,
            &AuditEntry {
                actor: actor.to_owned(),
                action: "trading.kill_switch".into(),
                decision: None,
                reason: None,
                details: serde_json::json!({ "cancelled": cancelled }),
            },
        )
        .await?;
        Ok(cancelled)
    }

    pub async fn reset_kill_switch(&self, actor: &str) -> Result<(), SubmitError> {
        self.gate.lock().await.reset_kill_switch();
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
