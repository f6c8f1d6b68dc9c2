//! The TWS session: one connection to TWS / IB Gateway (or the simulator) through `ibapi`.
//!
//! The session owns the connection for its whole life: it connects (and reconnects with
//! capped exponential backoff), synchronises after every connect ([`sync`]), keeps market data
//! lines ([`lines`]), sends the orders the risk gate let through (an [`OrderInbox`] of
//! approved commands, the only kind it accepts), and applies
//! everything TWS reports to PostgreSQL and the [`Hub`]. Its state is published on the hub as a
//! [`ConnectionState`].
//!
//! We do our own reconnecting (ibapi's is switched off) so that every reconnect goes through
//! the same path as the first connect: a full synchronisation and a re-subscription.

mod convert;
mod history;
mod lines;
mod market_data;
mod order_flow;
mod order_ids;
mod pacing;
mod positions;
mod resend;
mod runner;
mod state;
mod sync;

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

pub use crate::domain::TwsWhatIf;
pub use convert::{WireError, tws_time};
pub use history::HistoryRequest;
pub use lines::{DEFAULT_LINE_LIMIT, LineAction, LineManager};
pub use pacing::{HistoricalKey, HistoricalPacer, PacingStatus};
pub use state::{ConnectionState, Reaction, SessionEvent, transition};
pub use sync::{OrderAmended, OrderChange, PositionChange, SyncReport};

use crate::domain::InstrumentSpec;
use crate::hub::Hub;
use crate::recorder::Recorder;
use crate::risk::OrderInbox;
use crate::store::profiles::ConnectionProfile;

/// How a session connects and behaves.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    pub profile: ConnectionProfile,
    /// Market data lines the account may hold at once.
    pub line_limit: usize,
    /// Reconnect backoff: doubles from `initial_backoff` up to `max_backoff`.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// Outbound messages per second (TWS allows 50).
    pub max_messages_per_second: u32,
    /// An order that never reached TWS before a disconnect is resent after the reconnect only
    /// if it is younger than this; older ones are marked Inactive and reported.
    pub resend_window: Duration,
}

impl SessionConfig {
    pub fn new(profile: ConnectionProfile) -> Self {
        Self {
            profile,
            line_limit: DEFAULT_LINE_LIMIT,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_messages_per_second: 45,
            resend_window: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("the session has stopped")]
    Stopped,
    #[error("{0}")]
    Refused(String),
}

/// Requests from the UI, strategies and headless mode.
#[derive(Debug)]
pub enum SessionCommand {
    /// Stream quotes for an instrument (reference-counted); replies with its instrument id.
    Watch {
        spec: Box<InstrumentSpec>,
        reply: oneshot::Sender<Result<i64, String>>,
    },
    Unwatch {
        instrument_id: i64,
    },
    /// TWS's what-if for an order (margin after it), without placing it.
    WhatIf {
        intent: Box<crate::domain::OrderIntent>,
        reply: oneshot::Sender<Result<TwsWhatIf, String>>,
    },
    /// Historical bars (paced), stored in PostgreSQL and returned.
    History {
        request: Box<HistoryRequest>,
        reply: oneshot::Sender<Result<Vec<crate::domain::Bar>, String>>,
    },
    /// Instruments whose symbol starts with, or whose name contains, a pattern (TWS's
    /// matching-symbols request); not stored.
    Search {
        pattern: String,
        reply: oneshot::Sender<Result<Vec<InstrumentSpec>, String>>,
    },
    /// Queue position of instruments waiting for a market data line.
    LineQueue {
        reply: oneshot::Sender<Vec<i64>>,
    },
    /// Market data lines in use, the limit, the queue and the historical pacing budget.
    LineStatus {
        reply: oneshot::Sender<LineStatus>,
    },
    Stop,
}

/// What the connection panel shows about the session's capacity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineStatus {
    /// Instruments streaming (each holds one market data line).
    pub active: usize,
    pub limit: usize,
    /// Instruments waiting for a line, first come first served.
    pub queue: Vec<i64>,
    pub historical: PacingStatus,
}

/// Talks to a running session; cheap to clone.
#[derive(Debug, Clone)]
pub struct SessionHandle {
    commands: mpsc::Sender<SessionCommand>,
    reports: watch::Receiver<Option<SyncReport>>,
}

impl SessionHandle {
    /// Sends a command built around a reply channel and waits for the answer.
    async fn ask<T>(
        &self,
        command: impl FnOnce(oneshot::Sender<Result<T, String>>) -> SessionCommand,
    ) -> Result<T, SessionError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(command(reply))
            .await
            .map_err(|_| SessionError::Stopped)?;
        answer
            .await
            .map_err(|_| SessionError::Stopped)?
            .map_err(SessionError::Refused)
    }

    pub async fn watch(&self, spec: InstrumentSpec) -> Result<i64, SessionError> {
        self.ask(|reply| SessionCommand::Watch {
            spec: Box::new(spec),
            reply,
        })
        .await
    }

    pub async fn unwatch(&self, instrument_id: i64) -> Result<(), SessionError> {
        self.commands
            .send(SessionCommand::Unwatch { instrument_id })
            .await
            .map_err(|_| SessionError::Stopped)
    }

    /// TWS's own margin figures for an order, when connected.
    pub async fn what_if(
        &self,
        intent: crate::domain::OrderIntent,
    ) -> Result<TwsWhatIf, SessionError> {
        self.ask(|reply| SessionCommand::WhatIf {
            intent: Box::new(intent),
            reply,
        })
        .await
    }

    /// Historical bars of an instrument, within IB's pacing rules; they are also stored.
    pub async fn history(
        &self,
        request: HistoryRequest,
    ) -> Result<Vec<crate::domain::Bar>, SessionError> {
        self.ask(|reply| SessionCommand::History {
            request: Box::new(request),
            reply,
        })
        .await
    }

    /// Contracts TWS knows whose symbol starts with (or whose name contains) `pattern`, as
    /// TWS describes them (deduplicated; no contract id lookup, nothing stored).
    pub async fn search(&self, pattern: &str) -> Result<Vec<InstrumentSpec>, SessionError> {
        let pattern = pattern.to_owned();
        self.ask(|reply| SessionCommand::Search { pattern, reply })
            .await
    }

    /// The instruments waiting for a market data line, in order.
    pub async fn line_queue(&self) -> Result<Vec<i64>, SessionError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(SessionCommand::LineQueue { reply })
            .await
            .map_err(|_| SessionError::Stopped)?;
        answer.await.map_err(|_| SessionError::Stopped)
    }

    /// Lines in use, the limit, the queue and the historical pacing budget.
    pub async fn line_status(&self) -> Result<LineStatus, SessionError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(SessionCommand::LineStatus { reply })
            .await
            .map_err(|_| SessionError::Stopped)?;
        answer.await.map_err(|_| SessionError::Stopped)
    }

    /// Asks the session to disconnect and end.
    pub async fn stop(&self) {
        let _ = self.commands.send(SessionCommand::Stop).await;
    }

    /// The newest synchronisation report (after each connect and each data-lost restore).
    pub fn reports(&self) -> watch::Receiver<Option<SyncReport>> {
        self.reports.clone()
    }
}

/// Starts a session on the current tokio runtime.
pub fn spawn(
    config: SessionConfig,
    hub: Arc<Hub>,
    pool: PgPool,
    orders: OrderInbox,
    recorder: Option<Recorder>,
) -> (SessionHandle, JoinHandle<()>) {
    let (commands_tx, commands) = mpsc::channel(256);
    let (reports_tx, reports) = watch::channel(None);
    let runner = runner::Runner::new(config, hub, pool, orders, commands, recorder, reports_tx);
    let task = tokio::spawn(runner.run());
    (
        SessionHandle {
            commands: commands_tx,
            reports,
        },
        task,
    )
}
