//! Orders: preview (gate + margin what-if), place, modify, cancel, the blotter's data and each
//! order's audit trail.

use rust_decimal::Decimal;
use tickwork_core::domain::{Execution, Instrument, Order, OrderIntent, TwsWhatIf};
use tickwork_core::store::audit::AuditRecord;

#[derive(Debug, Clone)]
pub enum OrderCommand {
    /// Check an intent without sending it: the gate's verdict and our margin change (answered
    /// with [`OrderEvent::Preview`]), then TWS's what-if (answered with
    /// [`OrderEvent::PreviewTws`] when TWS answers or gives up).
    Preview {
        intent: Box<OrderIntent>,
    },
    Place {
        intent: Box<OrderIntent>,
    },
    /// Change a working order's quantity or prices (`None`: unchanged). Answered with
    /// [`OrderEvent::Modified`] once TWS took it, or a refusal.
    Modify {
        order_ref: String,
        quantity: Option<Decimal>,
        limit_price: Option<Decimal>,
        stop_price: Option<Decimal>,
    },
    Cancel {
        order_ref: String,
    },
    /// Reload working orders and today's executions.
    Refresh,
    /// The audit entries of one order, answered with [`OrderEvent::Audit`].
    Audit {
        order_ref: String,
    },
}

/// Our margin engine's what-if for an intent (Reg T, `tickwork-margin`).
#[derive(Debug, Clone, PartialEq)]
pub struct OurMargin {
    /// The price the order was valued at (its limit or stop, else the last quote).
    pub price: Decimal,
    pub initial_before: Decimal,
    pub initial_after: Decimal,
    pub maintenance_before: Decimal,
    pub maintenance_after: Decimal,
    /// The account's equity with loan value, when TWS reported it.
    pub equity_with_loan: Option<Decimal>,
    /// How the requirement of the order's underlying was computed, after the order.
    pub explanation: Option<tickwork_margin::Node>,
}

#[derive(Debug, Clone)]
pub enum OrderEvent {
    /// The gate's verdict and our margin for an intent; `refusal` is the gate's reason when it
    /// would refuse; `ours` says why our margin is unknown when it is.
    Preview {
        intent: Box<OrderIntent>,
        refusal: Option<String>,
        ours: Result<OurMargin, String>,
    },
    /// TWS's what-if for an intent, or why there is none (not answered, timed out).
    PreviewTws {
        intent: Box<OrderIntent>,
        tws: Result<TwsWhatIf, String>,
    },
    /// The order passed the gate and was sent to TWS.
    Placed {
        order_ref: String,
        intent: Box<OrderIntent>,
    },
    /// The gate refused the order (also audited); the ticket keeps the reason visible.
    PlaceRefused {
        intent: Box<OrderIntent>,
        reason: String,
    },
    /// TWS took a modification.
    Modified { order_ref: String },
    /// A modification was refused (by the gate, or by TWS / the session).
    ModifyRefused { order_ref: String, reason: String },
    /// Working orders (all accounts) and today's executions (all the session's accounts), with
    /// the instruments they refer to.
    Blotter {
        orders: Vec<Order>,
        executions: Vec<Execution>,
        instruments: Vec<Instrument>,
    },
    /// The audit entries of one order, oldest first.
    Audit {
        order_ref: String,
        entries: Vec<AuditRecord>,
    },
}
