//! The connection state the session publishes: shared by the session, the hub and the UI.

use std::collections::BTreeSet;

/// What the header bar shows and what the rest of the workbench may rely on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ConnectionState {
    #[default]
    Disconnected,
    Connecting,
    /// Connected; reading accounts, positions, orders and executions before going live.
    Synchronising,
    Live,
    /// Live, but some data farms are down (notices 2103/2105/2157); names the farms.
    Degraded {
        farms: BTreeSet<String>,
    },
    /// TWS lost its connection to IB (1100), or our socket to TWS is gone and we retry.
    Lost,
}

impl ConnectionState {
    pub fn label(&self) -> String {
        match self {
            ConnectionState::Disconnected => "Disconnected".into(),
            ConnectionState::Connecting => "Connecting".into(),
            ConnectionState::Synchronising => "Synchronising".into(),
            ConnectionState::Live => "Live".into(),
            ConnectionState::Degraded { farms } => {
                format!(
                    "Degraded: {}",
                    farms.iter().cloned().collect::<Vec<_>>().join(", ")
                )
            }
            ConnectionState::Lost => "Connection lost".into(),
        }
    }

    /// Whether requests can be expected to be answered.
    pub fn is_usable(&self) -> bool {
        matches!(
            self,
            ConnectionState::Live | ConnectionState::Degraded { .. }
        )
    }
}
