//! The workbench session: database, connection profiles, the TWS connection, trading
//! (arm, disarm, kill switch), risk limits and the saved layout.

use tickwork_core::risk::RiskLimits;
use tickwork_core::session::{ConnectionState, SyncReport};
use tickwork_core::store::DbStatus;
use tickwork_core::store::profiles::ConnectionProfile;

#[derive(Debug, Clone)]
pub enum SessionCommand {
    /// Connect to TWS / IB Gateway with a stored profile (disconnects the current one first).
    Connect {
        profile: String,
    },
    Disconnect,
    /// Create or replace a profile (validated; a remote host needs `allow_remote`).
    SaveProfile(ConnectionProfile),
    DeleteProfile(String),
    /// Allow trading on an account (the window asked the trader to confirm first).
    Arm {
        account: String,
    },
    Disarm {
        account: String,
    },
    /// Disarm everything and cancel every working order; with TWS's global cancel if asked.
    KillSwitch {
        global_cancel: bool,
    },
    /// Set one account's risk limits (stored, audited, applied to the gate at once).
    SaveLimits {
        account: String,
        limits: RiskLimits,
    },
    /// Store the workspace layout (JSON) of a profile.
    SaveLayout {
        profile: String,
        layout: String,
    },
}

#[derive(Debug, Clone)]
pub enum SessionEvent {
    DatabaseOpened {
        describe: String,
        status: DbStatus,
    },
    DatabaseFailed(String),
    /// Long work the window shows progress for; `done` ends it.
    Progress {
        task: String,
        done: bool,
    },
    /// The stored profiles, after start and after every change.
    Profiles(Vec<ConnectionProfile>),
    /// A session started on `profile`; `demo` when it is the built-in simulator.
    Connected {
        profile: ConnectionProfile,
        demo: bool,
    },
    /// The session ended (disconnect or a switch to another profile).
    Disconnected,
    Connection(ConnectionState),
    /// Accounts, which are armed, and the kill switch.
    Trading(TradingState),
    /// A command was refused; the reason, for a toast.
    Refused(String),
    /// The newest synchronisation report.
    Synchronised(Box<SyncReport>),
    /// Every account's limits (stored or default), after connect and after each change.
    Limits(Vec<(String, RiskLimits)>),
    /// The stored layout of the connected profile (`None`: use the default layout).
    Layout {
        profile: String,
        layout: Option<String>,
    },
}

/// What the header bar shows about trading.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TradingState {
    pub accounts: Vec<String>,
    pub armed: Vec<String>,
    /// The kill switch is engaged: nothing can be armed until it is reset.
    pub halted: bool,
    /// The profile is read-only: arming is refused, with this said in the header.
    pub read_only: bool,
}
