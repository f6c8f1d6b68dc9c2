//! The one typed boundary between the window and the core, both ways.
//!
//! The window never calls the core: it sends a [`Command`]; the backend (on the core runtime)
//! carries it out and answers with [`Notification`]s. Commands and notifications are grouped by
//! concern (session, trading, market data, orders, margin, records, settings, scripts) so that
//! each panel and each backend handler owns one group.
//!
//! Quotes are the exception to "one message per event": they are merged per instrument in the
//! [`QuoteBoard`] and drained once per frame (see `docs/architecture.md`).

mod account;
mod margin;
mod market;
mod orders;
mod plugins;
mod quotes;
mod records;
mod scripts;
mod session;

pub use account::{AccountCommand, AccountEvent, Holding};
pub use margin::{MarginCommand, MarginEvent};
pub use market::{
    DEFAULT_LIST, MarketCommand, MarketEvent, WATCHLISTS_KEY, WatchEntry, Watchlist, describe,
};
pub use orders::{OrderCommand, OrderEvent, OurMargin};
pub use plugins::{PluginsCommand, PluginsEvent, PluginsFound};
pub use quotes::QuoteBoard;
pub use records::{RecordsCommand, RecordsEvent};
pub use scripts::{
    BacktestFailure, BacktestOutcome, BacktestRequest, BacktestStats, BacktestTrade, BarSource,
    CheckedScript, RunMode, RunRequest, RunStatus, RunningInstance, ScriptSummary, ScriptsCommand,
    ScriptsEvent,
};
pub use session::{
    SessionCommand, SessionEvent, TICKET_DEFAULTS_KEY, TicketDefaults, TradingState,
};

/// From the window to the backend.
#[derive(Debug, Clone)]
pub enum Command {
    Session(SessionCommand),
    Market(MarketCommand),
    Orders(OrderCommand),
    Margin(MarginCommand),
    Records(RecordsCommand),
    Account(AccountCommand),
    Scripts(ScriptsCommand),
    Plugins(PluginsCommand),
}

/// From the backend to the window; the window forwards every one to the open panels.
#[derive(Debug, Clone)]
pub enum Notification {
    Session(SessionEvent),
    Market(MarketEvent),
    Orders(OrderEvent),
    Margin(MarginEvent),
    Records(RecordsEvent),
    Account(AccountEvent),
    Scripts(ScriptsEvent),
    Plugins(PluginsEvent),
    /// Quotes changed: the window drains the [`QuoteBoard`] at the next frame.
    QuotesPending,
    /// Something failed; the text says what and what to do about it (shown as a toast).
    Problem(String),
}

/// The sending half the window and every panel hold. Sending never blocks.
#[derive(Debug, Clone)]
pub struct Commands {
    tx: tokio::sync::mpsc::UnboundedSender<Command>,
}

impl Commands {
    pub fn channel() -> (Self, tokio::sync::mpsc::UnboundedReceiver<Command>) {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        (Self { tx }, rx)
    }

    /// False once the backend has stopped (the window then says so).
    pub fn send(&self, command: impl Into<Command>) -> bool {
        self.tx.send(command.into()).is_ok()
    }
}

macro_rules! group {
    ($variant:ident, $command:ty, $event:ty) => {
        impl From<$command> for Command {
            fn from(command: $command) -> Self {
                Command::$variant(command)
            }
        }
        impl From<$event> for Notification {
            fn from(event: $event) -> Self {
                Notification::$variant(event)
            }
        }
    };
}

group!(Session, SessionCommand, SessionEvent);
group!(Market, MarketCommand, MarketEvent);
group!(Orders, OrderCommand, OrderEvent);
group!(Margin, MarginCommand, MarginEvent);
group!(Records, RecordsCommand, RecordsEvent);
group!(Account, AccountCommand, AccountEvent);
group!(Scripts, ScriptsCommand, ScriptsEvent);
group!(Plugins, PluginsCommand, PluginsEvent);
