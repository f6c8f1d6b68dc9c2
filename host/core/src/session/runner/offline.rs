//! What the session owes the trader after a gap, and TWS's order errors: cancels asked for
//! while disconnected, the kill switch, resends through the gate again, and rejections.

use ibapi::Client;

use super::Runner;
use crate::hub::OrderUpdate;
use crate::session::resend::ResendGroup;
use crate::session::sync::SyncReport;
use crate::store::{audit, orders};

/// TWS errors that end an order it was asked to place: rejected (201), not available for the
/// account (203), duplicate id (103), cannot transmit (106, 107), price out of range or off
/// the tick size (109, 110), size or price over a limit (382, 383).
const ORDER_ENDING_ERRORS: &[i32] = &[103, 106, 107, 109, 110, 201, 203, 382, 383];

/// TWS errors that refuse a modification and leave the order as it was: can't modify a filled
/// order (104), the modification does not match the order (105), no such order (135).
const MODIFY_ERRORS: &[i32] = &[104, 105, 135];

impl Runner {
    /// Cancels asked for while disconnected (this run's, and any stored before a restart):
    /// an order TWS has is cancelled now; one it never received is cancelled here, never sent.
    pub(super) async fn carry_out_cancels(&mut self, client: &Client, report: &mut SyncReport) {
        let mut wanted = std::mem::take(&mut self.pending_cancels);
        match orders::all_working(&self.pool).await {
            Ok(working) => wanted.extend(
                working
                    .into_iter()
                    .filter(|o| o.cancel_requested_at.is_some())
                    .map(|o| o.order_ref),
            ),
            Err(err) => tracing::warn!(error = %err, "cannot read stored cancel requests"),
        }
        for order_ref in wanted {
            if let Some(at) = report
                .orders_never_received
                .iter()
                .position(|r| *r == order_ref)
            {
                report.orders_never_received.remove(at);
                self.end_locally(&order_ref, "cancelled before it reached TWS")
                    .await;
                continue;
            }
            self.cancel(client, order_ref).await;
        }
    }

    /// Sends the cancel of one of our orders under this client id; one that cannot be sent now
    /// is kept for the next connect, one of another client id is refused and audited.
    pub(super) async fn cancel(&mut self, client: &Client, order_ref: String) {
        match self.actionable_id(&order_ref) {
            Ok(order_id) => match client.cancel_order(order_id, "").await {
                Ok(_) => tracing::info!(%order_ref, order_id, "cancel sent"),
                Err(err) => {
                    tracing::warn!(%order_ref, error = %err, "cancel not sent; kept for the next connect");
                    self.pending_cancels.insert(order_ref);
                }
            },
            Err(why) => self.cancel_refused(&order_ref, &why).await,
        }
    }

    /// The kill switch: cancels every working order of ours TWS has, ends the ones it never
    /// received, and sends TWS's global cancel when asked.
    pub(super) async fn kill(
        &mut self,
        client: &Client,
        global_cancel: bool,
        never_received: Vec<String>,
    ) {
        for order_ref in never_received {
            self.end_locally(&order_ref, "kill switch: cancelled before it reached TWS")
                .await;
        }
        self.pending_cancels.clear();
        for (order_id, order_ref) in self.ids.working(self.client_id) {
            match client.cancel_order(order_id, "").await {
                Ok(_) => tracing::warn!(%order_ref, order_id, "kill switch: cancel sent"),
                Err(err) => {
                    tracing::error!(%order_ref, error = %err, "kill switch: cancel not sent; retried after the reconnect");
                    self.pending_kill = Some(global_cancel);
                }
            }
        }
        if global_cancel {
            match client.global_cancel().await {
                Ok(()) => tracing::warn!("kill switch: TWS global cancel sent"),
                Err(err) => {
                    tracing::error!(error = %err, "kill switch: global cancel not sent; retried after the reconnect");
                    self.pending_kill = Some(true);
                }
            }
        }
    }

    /// Passes one group through the gate again and sends what it approves, in order.
    pub(super) async fn resend_group(
        &mut self,
        client: &Client,
        group: ResendGroup,
        report: &mut SyncReport,
    ) {
        let refs: Vec<String> = group
            .legs
            .iter()
            .map(|l| l.order.order_ref.clone())
            .collect();
        match self.orders.router().approve_resend(group.legs).await {
            Ok(approved) => {
                for command in approved {
                    self.order_command(client, command).await;
                }
                tracing::info!(?refs, "resent orders TWS never received");
            }
            Err(denial) => {
                tracing::warn!(?refs, %denial, "orders TWS never received are not resent");
                report.orders_unknown.retain(|r| !refs.contains(r));
            }
        }
    }

    /// An error TWS sent about one of our orders: a rejection ends a new order (never
    /// resent); on a modification it drops the change and the order stays as it was.
    pub(in crate::session) async fn order_error(
        &mut self,
        order_id: i32,
        code: i32,
        message: &str,
    ) {
        // Most order notices are informational (399, 2109, …): only refusals need the order.
        let refuses = ORDER_ENDING_ERRORS.contains(&code) || MODIFY_ERRORS.contains(&code);
        let Some(order_ref) = self
            .ids
            .order_ref(self.client_id, order_id)
            .filter(|_| refuses)
            .map(str::to_owned)
        else {
            return;
        };
        let stored = match orders::get(&self.pool, &order_ref).await {
            Ok(Some(stored)) => stored,
            Ok(None) => return,
            Err(err) => {
                tracing::error!(%order_ref, error = %err, code, "cannot record TWS's order error");
                return;
            }
        };
        let reason = format!("TWS {code}: {message}");
        let (action, ended) = if stored.requested.is_some() {
            let _ = orders::clear_requested_change(&self.pool, &order_ref).await;
            ("order.modify_rejected", false)
        } else if ORDER_ENDING_ERRORS.contains(&code) {
            let _ = orders::finish(&self.pool, &order_ref, "Inactive", &reason).await;
            self.ids.set_status(self.client_id, order_id, "Inactive");
            self.hub.publish_order(OrderUpdate {
                order_ref: Some(order_ref.clone()),
                tws_order_id: order_id,
                status: "Inactive".into(),
                filled: stored.filled_quantity,
                remaining: stored.quantity - stored.filled_quantity,
                average_fill_price: stored.average_fill_price,
            });
            ("order.rejected", true)
        } else {
            return;
        };
        tracing::warn!(%order_ref, code, %message, ended, "TWS refused an order");
        let _ = audit::append(
            &self.pool,
            &audit::AuditEntry {
                actor: "tws".into(),
                action: action.into(),
                decision: None,
                reason: Some(reason),
                details: serde_json::json!({ "order_ref": order_ref, "order_id": order_id, "code": code }),
            },
        )
        .await;
    }

    /// Ends an order TWS never received, here, with an audit row.
    async fn end_locally(&mut self, order_ref: &str, reason: &str) {
        if let Err(err) = orders::finish(&self.pool, order_ref, "Cancelled", reason).await {
            tracing::error!(%order_ref, error = %err, "cannot record a local cancel");
        }
        self.audit_order("system", "order.cancelled_locally", reason, order_ref)
            .await;
    }

    /// An audit row about one order; a database that does not answer is logged, not fatal
    /// (the order's own row and TWS are what matter here).
    pub(super) async fn audit_order(
        &self,
        actor: &str,
        action: &str,
        reason: &str,
        order_ref: &str,
    ) {
        let entry = audit::AuditEntry {
            actor: actor.to_owned(),
            action: action.to_owned(),
            decision: None,
            reason: Some(reason.to_owned()),
            details: serde_json::json!({ "order_ref": order_ref }),
        };
        if let Err(err) = audit::append(&self.pool, &entry).await {
            tracing::error!(?entry, error = %err, "audit row not written");
        }
    }
}
