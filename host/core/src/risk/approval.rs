//! What the session may carry out: commands only the risk module can build.
//!
//! An [`Approved`] command has a private field, so no code outside `core::risk` can make one;
//! the session's inbox accepts nothing else. "Every order passes the gate" is therefore a
//! property the compiler checks, not a convention callers are trusted to follow.

use tokio::sync::{mpsc, oneshot};

use crate::domain::OrderIntent;

/// What the session is asked to do, as plain data (read from an [`Approved`]).
#[derive(Debug)]
pub enum Command {
    /// Send a new order. Carries our `order_ref`, which is sent as TWS's `orderRef` so the order
    /// is recognised after a reconnect and never sent twice.
    Place {
        order_ref: String,
        instrument_id: i64,
        intent: Box<OrderIntent>,
        /// False for the parent and first child of a bracket: TWS holds them until the last
        /// child arrives with `transmit`, so the parent cannot fill unprotected.
        transmit: bool,
    },
    /// Change quantity or prices of a working order. Answered: refused while disconnected
    /// (nothing is changed), or sent (the stored order changes when TWS acknowledges it).
    Modify {
        order_ref: String,
        intent: Box<OrderIntent>,
        reply: oneshot::Sender<Result<(), String>>,
    },
    /// Cancel one order: at once when connected, else as the first thing after the reconnect
    /// (or locally, if TWS turns out never to have received it).
    Cancel { order_ref: String },
    /// The kill switch: cancel every working order of ours now or at the first chance, never
    /// resend anything, and with `global_cancel` also send TWS's global cancel (which cancels
    /// orders of every client, including those entered by hand in TWS).
    KillSwitch { global_cancel: bool },
}

/// A command the gate approved (or, for cancels and the kill switch, that needs no approval
/// but must still come through the one order path).
#[derive(Debug)]
pub struct Approved {
    command: Command,
    /// Private: only this module builds approvals.
    _sealed: (),
}

impl Approved {
    pub(super) fn new(command: Command) -> Self {
        Self {
            command,
            _sealed: (),
        }
    }

    pub fn command(&self) -> &Command {
        &self.command
    }

    pub fn into_command(self) -> Command {
        self.command
    }
}

/// The sending half of the order path; held by the router only.
pub(super) type Outbox = mpsc::UnboundedSender<Approved>;

/// The session's end of the order path: approved commands, in order.
///
/// Unbounded so that a cancel or the kill switch never waits behind a full queue; the gate's
/// order-rate rule bounds how many orders can be in it.
#[derive(Debug)]
pub struct OrderInbox {
    pub(super) commands: mpsc::UnboundedReceiver<Approved>,
    pub(super) router: super::OrderRouter,
}

impl OrderInbox {
    /// The next approved command. The inbox keeps a router of its own (for resends), so this
    /// waits for ever rather than end while the inbox lives.
    pub async fn recv(&mut self) -> Option<Approved> {
        self.commands.recv().await
    }

    /// A command already waiting, without waiting for one.
    pub fn try_recv(&mut self) -> Option<Approved> {
        self.commands.try_recv().ok()
    }

    /// The router behind this inbox: the session asks it to pass resends through the gate.
    pub fn router(&self) -> &super::OrderRouter {
        &self.router
    }
}
