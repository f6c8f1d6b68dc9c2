//! The workbench session: database, connection profiles, the TWS connection, trading
//! (arm, disarm, kill switch), risk limits and the saved layout.

use tickwork_core::domain::{OrderType, TimeInForce};
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
    /// Store what a new order ticket starts with.
    SaveTicketDefaults(TicketDefaults),
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
    /// What a new order ticket starts with (at start and after each change).
    TicketDefaults(TicketDefaults),
}

/// What a new order ticket starts with (Preferences → Order ticket), stored in the `settings`
/// table under [`TICKET_DEFAULTS_KEY`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketDefaults {
    /// Pre-filled quantity; `None` leaves the field empty.
    pub quantity: Option<rust_decimal::Decimal>,
    #[serde(with = "spelled")]
    pub order_type: OrderType,
    #[serde(with = "spelled")]
    pub time_in_force: TimeInForce,
}

/// The settings key of [`TicketDefaults`].
pub const TICKET_DEFAULTS_KEY: &str = "workbench.ticket_defaults";

impl Default for TicketDefaults {
    fn default() -> Self {
        Self {
            quantity: None,
            order_type: OrderType::Limit,
            time_in_force: TimeInForce::Day,
        }
    }
}

impl TicketDefaults {
    /// Checks what the preferences window lets a trader type.
    pub fn validate(&self) -> Result<(), String> {
        match self.quantity {
            Some(q) if q <= rust_decimal::Decimal::ZERO => {
                Err(format!("default quantity {q}: must be positive"))
            }
            _ => Ok(()),
        }
    }
}

/// Order types and times in force as IB spells them (`LMT`, `DAY`), the way they are stored
/// everywhere else.
mod spelled {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<T: std::fmt::Display, S: Serializer>(
        value: &T,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_str(&value.to_string())
    }

    pub fn deserialize<'de, T, D>(d: D) -> Result<T, D::Error>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
        D: Deserializer<'de>,
    {
        String::deserialize(d)?.parse().map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_defaults_are_stored_as_ib_spells_them_and_checked() {
        let defaults = TicketDefaults {
            quantity: Some(rust_decimal::Decimal::from(25)),
            order_type: OrderType::Market,
            time_in_force: TimeInForce::Gtc,
        };
        let json = serde_json::to_string(&defaults).unwrap();
        assert_eq!(
            json,
            r#"{"quantity":"25","order_type":"MKT","time_in_force":"GTC"}"#
        );
        assert_eq!(
            serde_json::from_str::<TicketDefaults>(&json).unwrap(),
            defaults
        );
        let bad = serde_json::from_str::<TicketDefaults>(
            r#"{"quantity":null,"order_type":"XYZ","time_in_force":"DAY"}"#,
        )
        .unwrap_err();
        assert!(bad.to_string().contains("XYZ"), "{bad}");
        let negative = TicketDefaults {
            quantity: Some(rust_decimal::Decimal::from(-1)),
            ..TicketDefaults::default()
        };
        assert!(
            negative
                .validate()
                .unwrap_err()
                .contains("must be positive")
        );
    }
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
