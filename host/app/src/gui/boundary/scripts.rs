//! Strategy scripts: checking and storing them, backtests, and runs on paper or live through
//! the strategy host (console lines and status back).

use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use tickwork_core::scripting::ScriptError;
use tickwork_core::scripting::strategy::{ParamSpec, ParamValues};
use tickwork_core::store::scripts::ScriptKind;

/// Paper runs trade a paper account (or the demo's simulator); live runs need a grant tied to
/// the script's content hash.
pub use tickwork_core::scripting::host::RunMode;

/// Where a backtest's bars come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BarSource {
    /// Bars recorded or downloaded into PostgreSQL, of this length.
    Database { bar_seconds: i32 },
    /// A CSV file with the header `time,open,high,low,close,volume`.
    Csv(PathBuf),
}

/// A backtest to run; answered with [`ScriptsEvent::BacktestDone`] carrying `request`.
#[derive(Debug, Clone)]
pub struct BacktestRequest {
    pub request: u64,
    pub name: String,
    pub source: String,
    pub params: ParamValues,
    pub symbol: String,
    pub bars: BarSource,
    /// First and last day included (UTC); `None` leaves that end open.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub initial_cash: Decimal,
}

/// A run on paper or live, through the strategy host.
#[derive(Debug, Clone)]
pub struct RunRequest {
    pub name: String,
    pub source: String,
    pub params: ParamValues,
    pub account: String,
    pub mode: RunMode,
    pub symbols: Vec<String>,
    pub bar_seconds: i32,
    /// The trader has just confirmed this text for this account (live): record the grant,
    /// tied to the content hash, before starting.
    pub grant: bool,
}

#[derive(Debug, Clone)]
pub enum ScriptsCommand {
    /// Compile `source` as a strategy; answered with [`ScriptsEvent::Checked`].
    Check {
        request: u64,
        name: String,
        source: String,
    },
    /// The stored scripts; answered with [`ScriptsEvent::Listed`].
    List,
    /// One stored script's source; answered with [`ScriptsEvent::Loaded`].
    Load {
        name: String,
    },
    /// Store a strategy; answered with [`ScriptsEvent::Saved`], then the list again.
    Save {
        name: String,
        source: String,
    },
    /// Answered with [`ScriptsEvent::Deleted`], then the list again.
    Delete {
        name: String,
    },
    Backtest(Box<BacktestRequest>),
    /// Start an instance; answered with [`ScriptsEvent::Status`].
    Run(Box<RunRequest>),
    Stop {
        instance: String,
    },
    /// Replace a running instance's script; when the new text does not compile the old one
    /// goes on and the answer is [`RunStatus::ReloadFailed`].
    Reload {
        instance: String,
        name: String,
        source: String,
        keep_state: bool,
    },
    /// The instances running now; answered with [`ScriptsEvent::Instances`].
    Instances,
    /// Allow `name` with exactly this content to trade `account` live.
    Grant {
        name: String,
        account: String,
        content_sha256: String,
    },
}

/// What a successful check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedScript {
    pub params: Vec<ParamSpec>,
    /// The hooks it defines (`on_bar`, …).
    pub hooks: Vec<String>,
    pub warnings: Vec<String>,
    pub content_sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptSummary {
    pub name: String,
    pub kind: ScriptKind,
    pub trading_granted: bool,
    pub updated_at: DateTime<Utc>,
}

/// A backtest that ran to the end, as the panel shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BacktestOutcome {
    pub symbol: String,
    pub bar_seconds: i32,
    /// Start of the first bar, end of the last one.
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Equity after each bar (at the bar's start time).
    pub equity: Vec<(DateTime<Utc>, Decimal)>,
    pub trades: Vec<BacktestTrade>,
    pub stats: BacktestStats,
    pub console: Vec<String>,
    /// Its id in the `backtests` table, or why it could not be stored.
    pub saved: Result<i64, String>,
}

/// One trade and the statistics of a backtest: the core's own types.
pub use tickwork_core::scripting::backtest::{Stats as BacktestStats, Trade as BacktestTrade};

/// A backtest that did not: the script failed (at a line and column when known, with what
/// it printed), or the bars could not be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BacktestFailure {
    pub error: ScriptError,
    pub console: Vec<String>,
}

/// An instance the strategy host runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningInstance {
    pub id: String,
    pub name: String,
    pub mode: RunMode,
    pub account: String,
    pub content_sha256: String,
}

/// Where a run stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunStatus {
    Running {
        name: String,
        mode: RunMode,
        account: String,
        content_sha256: String,
    },
    Stopped,
    /// The script failed and was stopped: the error at line and column.
    Faulted(ScriptError),
    /// A reload whose script does not compile: the old version goes on.
    ReloadFailed(ScriptError),
    /// The new version runs.
    Reloaded {
        content_sha256: String,
    },
    /// The run was not started (no grant, not connected, no host…).
    Refused(String),
}

#[derive(Debug, Clone)]
pub enum ScriptsEvent {
    Checked {
        request: u64,
        result: Result<CheckedScript, ScriptError>,
    },
    Listed(Vec<ScriptSummary>),
    Loaded {
        name: String,
        source: String,
    },
    Saved {
        name: String,
        result: Result<(), String>,
    },
    Deleted {
        name: String,
    },
    BacktestDone {
        request: u64,
        result: Result<Box<BacktestOutcome>, BacktestFailure>,
    },
    /// Lines a running instance printed, with when.
    Console {
        instance: Option<String>,
        lines: Vec<(DateTime<Utc>, String)>,
    },
    Status {
        instance: Option<String>,
        status: RunStatus,
    },
    Instances(Vec<RunningInstance>),
    Granted {
        name: String,
        account: String,
        result: Result<(), String>,
    },
}
