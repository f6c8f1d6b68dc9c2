//! Orders and the risk gate: the only way an order reaches TWS.
//!
//! Every [`OrderIntent`] — from the ticket, a script or a plugin — goes through
//! [`OrderRouter::submit`]: the [`RiskGate`] checks that trading is armed for the account and
//! runs each rule (quantity, notional, price collar, position, order rate, daily loss,
//! margin), the decision is written to the append-only audit log, and only an allowed order is
//! recorded and handed to the session.

mod gate;
mod intent;
mod limits;
pub mod margin;
mod router;
mod rules;
mod view;

pub use gate::RiskGate;
pub use intent::{OrderIntent, Origin};
pub use limits::RiskLimits;
pub use router::{OrderChanges, OrderCommand, OrderRouter, SubmitError};
pub use rules::{Denial, MarginImpact, RiskContext, RiskRule};
pub use view::RiskView;

#[cfg(test)]
mod tests;
