//! The account: positions with their value and P&L, and TWS's account values.

use tickwork_core::hub::{AccountValue, PositionUpdate};

#[derive(Debug, Clone)]
pub enum AccountCommand {
    /// Send the latest positions and account values of an account.
    Refresh { account: String },
}

#[derive(Debug, Clone)]
pub enum AccountEvent {
    Positions {
        account: String,
        positions: Vec<PositionUpdate>,
    },
    Values {
        account: String,
        values: Vec<AccountValue>,
    },
}
