//! Orders and the risk gate: the only way an order reaches TWS.
//!
//! Every [`OrderIntent`] — from the ticket, a script or a plugin — goes through
//! [`OrderRouter::submit`]: the [`RiskGate`] checks that trading is armed for the account and
//! runs each rule (quantity, notional, fresh quote, price collar, position, order rate, daily
//! loss, margin), the decision is written to the append-only audit log, and only an allowed
//! order is recorded and handed to the session as an [`Approved`] command — a type nothing
//! outside this module can build, so the session cannot be handed anything else.

mod approval;
mod daily_pnl;
mod gate;
mod limits;
pub mod margin;
mod router;
mod rules;
mod view;

pub use approval::{Approved, Command, OrderInbox};
pub use daily_pnl::{PnlValues, daily_pnl};
pub use gate::RiskGate;
pub use limits::RiskLimits;
pub use router::{ContextSource, OrderChanges, OrderRouter, ResendLeg, SubmitError, order_path};
pub use rules::{Denial, MarginImpact, RiskContext, RiskRule, opening_quantity};
// The intent is a domain type (the session uses it too); re-exported where callers look.
pub use crate::domain::{OrderIntent, Origin};
pub use view::{MarginPreview, RiskView};

#[cfg(test)]
mod tests;
