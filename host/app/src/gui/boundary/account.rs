//! The account: positions with their value and P&L, and TWS's account values.

use tickwork_core::domain::Instrument;
use tickwork_core::hub::AccountValue;

#[derive(Debug, Clone)]
pub enum AccountCommand {
    /// Send the latest positions and account values of an account.
    Refresh { account: String },
}

/// One position, resolved to its instrument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holding {
    pub instrument: Instrument,
    pub quantity: rust_decimal::Decimal,
    /// TWS's average cost: per share for stocks, per contract (price × multiplier) for
    /// options and futures.
    pub average_cost: rust_decimal::Decimal,
}

#[derive(Debug, Clone)]
pub enum AccountEvent {
    /// Every position of an account (the whole set: what is not listed is not held).
    Positions {
        account: String,
        positions: Vec<Holding>,
    },
    /// One position changed (a zero quantity: closed).
    Position {
        account: String,
        holding: Box<Holding>,
    },
    /// Account values (all of them after a refresh, single ones as TWS updates them).
    Values {
        account: String,
        values: Vec<AccountValue>,
    },
}
