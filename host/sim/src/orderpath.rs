//! The order path as tests see it: injected rejections and held acknowledgements (the
//! order-path faults of [`crate::Fault`]), a snapshot of the orders the simulator holds, and a
//! record of the cancel requests it received, so a test can check what "TWS" has.

use std::time::Instant;

use rust_decimal::Decimal;

use crate::matching::SimOrder;
use crate::msg::{OrderSpec, Request};
use crate::session;
use crate::state::Core;

/// Rejections still to inject into new orders.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RejectPlan {
    pub count: u32,
    pub code: i32,
    pub reason: String,
}

/// Order requests that arrived while acknowledgements are held: not applied yet, as if still
/// on their way to TWS.
#[derive(Debug, Default)]
pub struct HeldRequests {
    pub until: Option<Instant>,
    pub queue: Vec<(u64, Request)>,
}

/// A cancelOrder request the simulator applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CancelRecord {
    pub client_id: i32,
    pub order_id: i32,
}

/// Order-path fault state and what tests may observe of the order path.
#[derive(Debug, Default)]
pub struct OrderPath {
    pub rejects: RejectPlan,
    pub held: HeldRequests,
    /// Every cancelOrder applied, in order, including those for unknown or finished orders.
    pub cancels: Vec<CancelRecord>,
    /// reqGlobalCancel requests applied.
    pub global_cancels: u64,
}

/// One order as the simulator holds it now (its own view of what TWS received).
#[derive(Debug, Clone, PartialEq)]
pub struct OrderSnapshot {
    pub client_id: i32,
    pub order_id: i32,
    pub perm_id: i64,
    pub parent_id: i32,
    pub con_id: i32,
    pub symbol: String,
    pub order_ref: String,
    pub action: String,
    pub quantity: Decimal,
    pub order_type: String,
    pub lmt_price: Option<f64>,
    pub aux_price: Option<f64>,
    pub tif: String,
    pub account: String,
    pub oca_group: String,
    pub trigger_method: i32,
    /// Whether the order has been transmitted (a held bracket member reads false until the
    /// child that transmits its group arrives).
    pub transmit: bool,
    /// PreSubmitted, Submitted, Filled, Cancelled or Inactive (rejected).
    pub status: String,
    pub filled: Decimal,
}

/// Whether acknowledgements of `req` are held by [`crate::Fault::HoldAcks`].
fn order_request(req: &Request) -> bool {
    matches!(
        req,
        Request::PlaceOrder { .. } | Request::CancelOrder { .. } | Request::GlobalCancel
    )
}

impl Core {
    /// Consumes one injected rejection, if any are left.
    pub(crate) fn take_injected_reject(&mut self) -> bool {
        let plan = &mut self.order_path.rejects;
        if plan.count == 0 {
            return false;
        }
        plan.count -= 1;
        true
    }

    /// Rejects a new order the way TWS does: the error (code 201 "Order rejected - reason:…")
    /// bound to the order id, then openOrder and orderStatus with status Inactive. The order id
    /// stays used.
    pub(crate) fn reject_injected(
        &mut self,
        client_id: i32,
        order_id: i32,
        con_id: i32,
        spec: OrderSpec,
    ) {
        let plan = self.order_path.rejects.clone();
        let msg = if plan.code == 201 {
            format!("Order rejected - reason:{}", plan.reason)
        } else {
            plan.reason
        };
        self.send_client(client_id, self.error(order_id, plan.code, msg));
        let perm_id = self.orders.new_perm_id();
        let mut order = SimOrder::new(client_id, order_id, perm_id, con_id, spec, "Inactive");
        order.completed_time = self.now().format("%Y%m%d %H:%M:%S UTC").to_string();
        self.orders.orders.push(order);
        self.announce(self.orders.orders.len() - 1);
    }

    /// Queues an order request while acknowledgements are held and gives it back otherwise;
    /// requests queued before a hold that has run out are applied first, in order.
    pub(crate) fn hold_order_request(&mut self, conn_id: u64, req: Request) -> Option<Request> {
        if !order_request(&req) {
            return Some(req);
        }
        match self.order_path.held.until {
            Some(t) if Instant::now() < t => {
                self.order_path.held.queue.push((conn_id, req));
                None
            }
            Some(_) => {
                self.release_held();
                Some(req)
            }
            None => Some(req),
        }
    }

    /// Ends a hold: every queued request whose connection is still open is applied, in order.
    pub fn release_held(&mut self) {
        self.order_path.held.until = None;
        for (conn_id, req) in std::mem::take(&mut self.order_path.held.queue) {
            let _ = session::handle(self, conn_id, req);
        }
    }

    /// A connection closed: what it sent while acknowledgements were held never reached TWS.
    pub(crate) fn drop_held(&mut self, conn_id: u64) {
        self.order_path.held.queue.retain(|(c, _)| *c != conn_id);
    }

    /// cancelOrder, recorded for tests.
    pub(crate) fn record_cancel(&mut self, client_id: i32, order_id: i32) {
        let r = CancelRecord {
            client_id,
            order_id,
        };
        self.order_path.cancels.push(r);
    }

    /// Every order the simulator holds, in placement order.
    pub fn order_snapshot(&self) -> Vec<OrderSnapshot> {
        self.orders
            .orders
            .iter()
            .map(|o| OrderSnapshot {
                client_id: o.client_id,
                order_id: o.order_id,
                perm_id: o.perm_id,
                parent_id: o.spec.parent_id,
                con_id: o.con_id,
                symbol: self
                    .universe
                    .get(o.con_id)
                    .map(|i| i.symbol.clone())
                    .unwrap_or_default(),
                order_ref: o.spec.order_ref.clone(),
                action: o.spec.action.clone(),
                quantity: o.spec.total_quantity,
                order_type: o.spec.order_type.clone(),
                lmt_price: o.spec.lmt_price,
                aux_price: o.spec.aux_price,
                tif: o.spec.tif.clone(),
                account: o.spec.account.clone(),
                oca_group: o.spec.oca_group.clone(),
                trigger_method: o.spec.trigger_method,
                transmit: o.spec.transmit,
                status: o.status.to_string(),
                filled: o.filled,
            })
            .collect()
    }
}
