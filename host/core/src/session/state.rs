//! The connection state machine, driven by connection events and TWS notices.
//!
//! ```text
//! Disconnected → Connecting → Synchronising → Live ⇄ Degraded (data farm broken/OK)
//!                     ↑              │          │ 1100
//!                     └── retry ─────┴── Lost ←─┘   1101 → resync + resubscribe, 1102 → keep
//! ```

use std::collections::BTreeSet;

pub use crate::domain::ConnectionState;

/// What happened, as the state machine sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEvent {
    ConnectStarted,
    Connected,
    SyncFinished,
    SocketLost,
    Stopped,
    Notice { code: i32, message: String },
}

/// What the session must do as a consequence of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reaction {
    Nothing,
    /// Data was lost (1101, or a reconnect of the socket): synchronise and re-subscribe.
    ResyncAndResubscribe,
    /// Connectivity restored with data kept (1102): synchronise orders/fills, keep streams.
    Resync,
}

/// Farm notices: broken (2103 market data, 2105 HMDS, 2157 sec-def) and OK (2104, 2106, 2158).
fn farm_of(message: &str) -> String {
    message
        .rsplit(':')
        .next()
        .unwrap_or(message)
        .trim()
        .to_owned()
}

/// Applies an event; returns the new state and what to do.
pub fn transition(state: &ConnectionState, event: &SessionEvent) -> (ConnectionState, Reaction) {
    use ConnectionState::*;
    match event {
        SessionEvent::ConnectStarted => (Connecting, Reaction::Nothing),
        SessionEvent::Connected => (Synchronising, Reaction::Nothing),
        SessionEvent::SyncFinished => match state {
            Synchronising => (Live, Reaction::Nothing),
            other => (other.clone(), Reaction::Nothing),
        },
        SessionEvent::SocketLost => (Lost, Reaction::Nothing),
        SessionEvent::Stopped => (Disconnected, Reaction::Nothing),
        SessionEvent::Notice { code, message } => match (*code, state) {
            (1100, _) => (Lost, Reaction::Nothing),
            (1101, _) => (Synchronising, Reaction::ResyncAndResubscribe),
            (1102, _) => (Synchronising, Reaction::Resync),
            (2103 | 2105 | 2157, Live | Degraded { .. }) => {
                let mut farms = match state {
                    Degraded { farms } => farms.clone(),
                    _ => BTreeSet::new(),
                };
                farms.insert(farm_of(message));
                (Degraded { farms }, Reaction::Nothing)
            }
            (2104 | 2106 | 2158, Degraded { farms }) => {
                let mut farms = farms.clone();
                farms.remove(&farm_of(message));
                if farms.is_empty() {
                    (Live, Reaction::Nothing)
                } else {
                    (Degraded { farms }, Reaction::Nothing)
                }
            }
            _ => (state.clone(), Reaction::Nothing),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(code: i32, message: &str) -> SessionEvent {
        SessionEvent::Notice {
            code,
            message: message.into(),
        }
    }

    fn run(events: &[SessionEvent]) -> (ConnectionState, Vec<Reaction>) {
        let mut state = ConnectionState::Disconnected;
        let mut reactions = Vec::new();
        for event in events {
            let (next, reaction) = transition(&state, event);
            state = next;
            reactions.push(reaction);
        }
        (state, reactions)
    }

    #[test]
    fn connect_sync_live() {
        let (state, _) = run(&[
            SessionEvent::ConnectStarted,
            SessionEvent::Connected,
            SessionEvent::SyncFinished,
        ]);
        assert_eq!(state, ConnectionState::Live);
    }

    #[test]
    fn farms_degrade_and_recover_by_name() {
        let base = [
            SessionEvent::ConnectStarted,
            SessionEvent::Connected,
            SessionEvent::SyncFinished,
        ];
        let mut events = base.to_vec();
        events.push(notice(2103, "Market data farm connection is broken:usfarm"));
        events.push(notice(2105, "HMDS data farm connection is broken:ushmds"));
        let (state, _) = run(&events);
        assert_eq!(state.label(), "Degraded: usfarm, ushmds");
        events.push(notice(2104, "Market data farm connection is OK:usfarm"));
        assert_eq!(run(&events).0.label(), "Degraded: ushmds");
        events.push(notice(2106, "HMDS data farm connection is OK:ushmds"));
        assert_eq!(run(&events).0, ConnectionState::Live);
    }

    #[test]
    fn lost_then_restored_with_and_without_data() {
        let live = [
            SessionEvent::ConnectStarted,
            SessionEvent::Connected,
            SessionEvent::SyncFinished,
        ];
        let mut lost = live.to_vec();
        lost.push(notice(
            1100,
            "Connectivity between IB and TWS has been lost.",
        ));
        assert_eq!(run(&lost).0, ConnectionState::Lost);
        assert!(!run(&lost).0.is_usable());

        let mut data_lost = lost.clone();
        data_lost.push(notice(1101, "Connectivity restored - data lost."));
        let (state, reactions) = run(&data_lost);
        assert_eq!(
            (state, reactions.last().copied()),
            (
                ConnectionState::Synchronising,
                Some(Reaction::ResyncAndResubscribe)
            )
        );

        let mut data_kept = lost;
        data_kept.push(notice(1102, "Connectivity restored - data maintained."));
        assert_eq!(run(&data_kept).1.last().copied(), Some(Reaction::Resync));
    }

    #[test]
    fn farm_ok_during_startup_does_not_go_live_early() {
        let (state, _) = run(&[
            SessionEvent::ConnectStarted,
            SessionEvent::Connected,
            notice(2104, "Market data farm connection is OK:usfarm"),
        ]);
        assert_eq!(state, ConnectionState::Synchronising);
    }
}
