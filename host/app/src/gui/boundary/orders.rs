//! Orders: preview (gate + margin what-if), place, modify, cancel, and the blotter's data.

use tickwork_core::domain::{Execution, Order, OrderIntent};

#[derive(Debug, Clone)]
pub enum OrderCommand {
    /// Check an intent without sending it: the gate's verdict, our margin change and TWS's
    /// what-if. Answered with [`OrderEvent::Preview`].
    Preview {
        intent: Box<OrderIntent>,
    },
    Place {
        intent: Box<OrderIntent>,
    },
    Cancel {
        order_ref: String,
    },
    /// Reload working orders and today's executions.
    Refresh,
}

#[derive(Debug, Clone)]
pub enum OrderEvent {
    /// The result of a preview; `refusal` is the gate's reason when it would refuse.
    Preview {
        intent: Box<OrderIntent>,
        refusal: Option<String>,
    },
    Placed {
        order_ref: String,
    },
    /// Working orders (all accounts) and today's executions.
    Blotter {
        orders: Vec<Order>,
        executions: Vec<Execution>,
    },
}
