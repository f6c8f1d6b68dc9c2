//! The `tickwork` command line: the desktop app by default, subcommands for everything
//! that is useful without a window.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Tickwork, a desktop trading workbench for Interactive Brokers.
///
/// Without a command, opens the workbench window.
#[derive(Debug, Parser)]
#[command(name = "tickwork", version, propagate_version = true)]
pub struct Cli {
    /// Config file to use instead of $XDG_CONFIG_HOME/tickwork/config.toml.
    #[arg(long, global = true, env = "TICKWORK_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Open the workbench on the embedded database and the built-in demo backend: no broker
    /// account needed.
    #[arg(long)]
    pub demo: bool,

    /// Open the workbench connected to this stored connection profile.
    #[arg(long, value_name = "NAME", conflicts_with = "demo")]
    pub profile: Option<String>,

    /// Open the window, save a PNG of it once it has loaded, and exit (for docs and tests).
    #[arg(long, value_name = "FILE.png")]
    pub screenshot: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Database: apply migrations, show status.
    #[command(subcommand)]
    Db(DbCommand),
    /// Secrets in the OS keyring (never in files or the database).
    #[command(subcommand)]
    Secret(SecretCommand),
    /// Margin requirement of a portfolio file, with the explanation of every figure.
    Margin(MarginArgs),
    /// Connection profiles: where TWS or IB Gateway listens.
    #[command(subcommand)]
    Profile(ProfileCommand),
    /// The TWS protocol simulator, standalone (docs/simulator.md).
    Sim(tickwork_sim::SimArgs),
    /// Session and recorder without a window: connect, record, reconnect, until SIGINT/SIGTERM.
    Headless(HeadlessArgs),
    /// Per-account risk limits: show them, change them (every change is audited).
    #[command(subcommand)]
    Risk(RiskCommand),
    /// Rhai scripts: check one before running it, backtest a strategy.
    #[command(subcommand)]
    Script(ScriptCommand),
    /// Native plugins: list, verify, trust, revoke, enable, disable, pack (docs/operations.md).
    #[command(subcommand)]
    Plugins(PluginsCommand),
}

#[derive(Debug, Subcommand)]
pub enum PluginsCommand {
    /// Every plugin bundle on the search path, with its status and the reason.
    List {
        /// Print JSON: an array of {"dir", "id", "version", "abi", "sha256", "provides",
        /// "permissions_asked", "permissions_granted", "status", "reason"}.
        #[arg(long)]
        json: bool,
    },
    /// Check a bundle without loading it into the app: manifest, ABI, the library's hash against
    /// the manifest, and a trial load in a throwaway process; exit 1 with `BUNDLE_DIR: reason`.
    Verify {
        /// The bundle directory (holding plugin.toml and the library).
        bundle: PathBuf,
    },
    /// Trust a bundle: store its library's SHA-256 and the permissions it asks for in the
    /// allowlist, and print what was trusted.
    Trust {
        /// The bundle directory.
        bundle: PathBuf,
    },
    /// Remove a plugin from the allowlist: it is not loaded and asks for trust again.
    Revoke {
        /// The plugin id (com.example.pairs).
        id: String,
    },
    /// Switch a trusted plugin on again (after a crash, repeated faults or `disable`).
    Enable {
        /// The plugin id.
        id: String,
    },
    /// Switch a trusted plugin off without forgetting the trust.
    Disable {
        /// The plugin id.
        id: String,
    },
    /// Write a bundle: the manifest with the library's sha256 filled in, and the library.
    Pack {
        /// The manifest template (plugin.toml, usually without sha256).
        #[arg(long, value_name = "plugin.toml")]
        manifest: PathBuf,
        /// The built library (target/release/libexample.so).
        #[arg(long, value_name = "PATH")]
        library: PathBuf,
        /// The bundle directory to create (must not exist or be empty).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Load a bundle in this process and print one line (the child process of `verify`).
    #[command(hide = true)]
    Probe { bundle: PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum ScriptCommand {
    /// Compile a script with the limits it runs under; exit 1 with `FILE:LINE:COL: message`.
    Check {
        /// The script (`.rhai`).
        file: PathBuf,
    },
    /// Run a strategy over historical bars: trades, equity and statistics, stored in the
    /// database (docs/scripting.md, "Backtests").
    Backtest(BacktestArgs),
}

#[derive(Debug, Args)]
pub struct BacktestArgs {
    /// The strategy script (`.rhai`).
    pub file: PathBuf,
    /// The instrument the bars are of: a ticker (SPY).
    #[arg(long, value_name = "SYMBOL")]
    pub symbol: String,
    /// First day of bars, YYYY-MM-DD (UTC); needed for bars from the database.
    #[arg(long, value_name = "DATE")]
    pub from: Option<chrono::NaiveDate>,
    /// Last day of bars, YYYY-MM-DD, included; needed for bars from the database.
    #[arg(long, value_name = "DATE")]
    pub to: Option<chrono::NaiveDate>,
    /// Bar length in seconds of the stored bars to use (a CSV file's rows decide its own).
    #[arg(long, value_name = "N", default_value_t = 60, conflicts_with = "bars")]
    pub bar_seconds: i32,
    /// Read bars from this CSV file (header `time,open,high,low,close,volume`) instead of
    /// the database.
    #[arg(long, value_name = "FILE.csv")]
    pub bars: Option<PathBuf>,
    /// Set a parameter the script declares, NAME=VALUE (repeatable).
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// Cash at the start.
    #[arg(long, value_name = "AMOUNT", default_value = "100000")]
    pub cash: rust_decimal::Decimal,
    /// Run once per value: NAME=V1,V2,… (repeatable: every combination is run).
    #[arg(long = "sweep", value_name = "NAME=V1,V2,...")]
    pub sweep: Vec<String>,
    /// Threads for a sweep (default: one per core).
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
    /// Print JSON ({"stats", "trades", …}; amounts as decimal strings).
    #[arg(long)]
    pub json: bool,
    /// Do not store the results in the database.
    #[arg(long)]
    pub no_save: bool,
}

#[derive(Debug, Subcommand)]
pub enum RiskCommand {
    /// Show the limits of ACCOUNT, or of every account with stored limits and the defaults.
    Show {
        /// An account id (e.g. DU1234567); without it, all stored accounts and the defaults.
        account: Option<String>,
        /// Print JSON: one account {"account", "source", "updated_at", "limits"}, or
        /// {"defaults": {...}, "accounts": [...]}.
        #[arg(long)]
        json: bool,
    },
    /// Change limits of ACCOUNT: KEY=VALUE pairs, all checked before any is stored.
    ///
    /// Keys: max_quantity, max_notional, price_collar, max_position, max_orders_per_minute,
    /// max_daily_loss, max_quote_age_ms, allow_delayed_quotes (docs/user-guide.md).
    Set {
        account: String,
        #[arg(required = true, value_name = "KEY=VALUE")]
        changes: Vec<String>,
    },
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("any_strategy").multiple(true).args(["strategies", "plugin_strategies"])))]
pub struct HeadlessArgs {
    /// A stored connection profile.
    #[arg(long, conflicts_with_all = ["port"])]
    pub profile: Option<String>,
    /// TWS / IB Gateway host (ad hoc, without a profile).
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// TWS / IB Gateway API port: 7497 TWS paper, 7496 TWS live, 4002/4001 Gateway.
    #[arg(long)]
    pub port: Option<u16>,
    #[arg(long, default_value_t = 1)]
    pub client_id: i32,
    /// Connect to a non-loopback host (the TWS API is unencrypted).
    #[arg(long)]
    pub allow_remote: bool,
    /// An ad hoc connection (`--port`) is read-only unless this is given (stored profiles
    /// say it themselves).
    #[arg(long, conflicts_with = "profile")]
    pub allow_trading: bool,
    /// Stock symbols to stream and record, comma-separated; strategies trade these.
    #[arg(long, value_delimiter = ',')]
    pub watch: Vec<String>,
    /// A Rhai strategy to run beside the recorder (repeatable); see docs/scripting.md.
    #[arg(long = "strategy", value_name = "FILE.rhai")]
    pub strategies: Vec<PathBuf>,
    /// A strategy parameter, NAME=VALUE (repeatable); applies to each strategy declaring NAME.
    #[arg(long = "param", value_name = "NAME=VALUE", requires = "strategies")]
    pub params: Vec<String>,
    /// A strategy of a trusted native plugin, by its type id (repeatable); see
    /// `tickwork plugins list`.
    #[arg(long = "plugin-strategy", value_name = "TYPE_ID")]
    pub plugin_strategies: Vec<String>,
    /// The parameters of the plugin strategy at the same position, a JSON object (default {}).
    #[arg(
        long = "plugin-params",
        value_name = "JSON",
        requires = "plugin_strategies"
    )]
    pub plugin_params: Vec<String>,
    /// The account strategies trade (default: the profile's account).
    #[arg(long, requires = "any_strategy")]
    pub account: Option<String>,
    /// paper (a paper account) or live (needs the grant for the script's text, or the plugin's
    /// library, and the account).
    #[arg(long, default_value = "paper", requires = "any_strategy")]
    pub mode: String,
    /// Bar length in seconds for the strategies' `on_bar` (1 to 86400).
    #[arg(long, default_value_t = 60, requires = "strategies")]
    pub bar_seconds: i32,
    /// Arm the strategies' account at start (refused on a read-only profile); without it every
    /// order is denied until the account is armed.
    #[arg(long, requires = "any_strategy")]
    pub arm: bool,
}

#[derive(Debug, Args)]
pub struct MarginArgs {
    /// Portfolio file (JSON; format in docs/margin.md).
    pub portfolio: PathBuf,
    /// regt (IB strategy-based), portfolio (risk-based) or futures.
    #[arg(long, default_value = "regt")]
    pub method: String,
    /// Print JSON: {"method", "initial", "maintenance", "reg_t_end_of_day", "groups": [...]}.
    #[arg(long)]
    pub json: bool,
    /// A margin-rule script (`fn margin(input)`, docs/scripting.md) applied after the built-in
    /// figure, as an add-on that cannot lower it; repeat for several, applied in order.
    #[arg(long = "rule", value_name = "FILE.rhai")]
    pub rules: Vec<PathBuf>,
    /// Also apply the margin rules of the trusted, enabled native plugins (after the scripts);
    /// needs the database (the allowlist).
    #[arg(long)]
    pub plugins: bool,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Apply pending migrations.
    Migrate,
    /// Show applied and pending migrations and the row count of each table.
    Status(DbStatusArgs),
}

#[derive(Debug, Args)]
pub struct DbStatusArgs {
    /// Print JSON: {"database": where, "migrations": [...], "tables": {name: rows}}.
    #[arg(long)]
    pub json: bool,
    /// Report without applying pending migrations first.
    #[arg(long)]
    pub no_migrate: bool,
}

#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Store a secret read from standard input (one line).
    Set {
        /// Which secret: database-password.
        name: String,
    },
    /// Remove a secret.
    Delete { name: String },
    /// Say whether a secret is stored, without printing it.
    Check { name: String },
}

#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// Create or replace a profile.
    Add(ProfileArgs),
    List,
    Remove {
        name: String,
    },
}

#[derive(Debug, Args)]
pub struct ProfileArgs {
    pub name: String,
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// 7497 TWS paper, 7496 TWS live, 4002 Gateway paper, 4001 Gateway live.
    #[arg(long, default_value_t = 7497)]
    pub port: u16,
    #[arg(long, default_value_t = 1)]
    pub client_id: i32,
    /// The account to trade and show first (default: the first managed account).
    #[arg(long)]
    pub account: Option<String>,
    /// Allow arming trading on this connection (profiles are read-only otherwise).
    #[arg(long)]
    pub allow_trading: bool,
    /// Allow a non-loopback host (the TWS API is unencrypted and unauthenticated).
    #[arg(long)]
    pub allow_remote: bool,
    /// On "client id in use" (326), try the next id instead of failing.
    #[arg(long)]
    pub auto_client_id: bool,
}
