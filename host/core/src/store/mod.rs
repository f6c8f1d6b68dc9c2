//! PostgreSQL storage: the connection pool, migrations, status, and one repository per aggregate.
//!
//! The schema is `migrations/` at the repository root, embedded at build time; it is applied
//! at start (and by `tickwork db migrate`). Repositories take `&PgPool` so a test can hand each
//! one its own database (`#[sqlx::test]`).

pub mod account_values;
pub mod accounts;
pub mod audit;
pub mod backtests;
pub mod embedded;
pub mod executions;
pub mod instruments;
pub mod market_data;
mod open;
pub mod orders;
pub mod plugin_kv;
pub mod plugins;
pub mod positions;
pub mod profiles;
pub mod risk_limits;
pub mod script_runs;
pub mod scripts;
pub mod settings;
mod status;
pub mod sync_reports;
mod target;

use std::time::Duration;

use sqlx::PgPool;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

pub use open::{OpenError, OpenStore, open};
pub use status::{DbStatus, MigrationState, MigrationStatus};
pub use target::{DatabaseTarget, resolve_target};

/// The schema, embedded from `migrations/` at build time.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations");

/// The tables `tickwork db status` counts, in the order it reports them.
pub const MAIN_TABLES: &[&str] = &[
    "instruments",
    "accounts",
    "connection_profiles",
    "position_snapshots",
    "positions",
    "orders",
    "executions",
    "ticks",
    "bars",
    "account_values",
    "scripts",
    "plugins",
    "audit_log",
    "settings",
    "sync_reports",
];

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot connect to PostgreSQL at {target}: {message}")]
    Connect { target: String, message: String },
    #[error("migration failed: {0}")]
    Migrate(String),
    #[error("database error: {0}")]
    Database(String),
    #[error("stored {what} is invalid: {message}")]
    Corrupt { what: &'static str, message: String },
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        StoreError::Database(one_line(&err.to_string()))
    }
}

pub(crate) fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Reads a textual enum column back into its domain type, failing loudly on an unknown value.
pub(crate) fn parse_column<T: std::str::FromStr<Err = crate::domain::UnknownValue>>(
    value: &str,
) -> Result<T, StoreError> {
    value
        .parse()
        .map_err(|err: crate::domain::UnknownValue| StoreError::Corrupt {
            what: err.what,
            message: format!("`{}`", err.value),
        })
}

/// An open connection pool to Tickwork's database.
#[derive(Debug, Clone)]
pub struct Store {
    pool: PgPool,
}

impl Store {
    /// Connects; `describe` names the target in errors without revealing any password.
    pub async fn connect(options: PgConnectOptions, describe: &str) -> Result<Self, StoreError> {
        let failed = |message: String| StoreError::Connect {
            target: describe.to_owned(),
            message,
        };
        // One plain connection first: a pool only reports "timed out" after its retries, which
        // hides the cause (refused, unknown host, bad password) that the user needs to see.
        use sqlx::ConnectOptions;
        match tokio::time::timeout(Duration::from_secs(10), options.connect()).await {
            Ok(Ok(probe)) => drop(probe),
            Ok(Err(err)) => return Err(failed(one_line(&err.to_string()))),
            Err(_) => return Err(failed("no answer within 10 s".into())),
        }
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(|err| failed(one_line(&err.to_string())))?;
        Ok(Self { pool })
    }

    /// Wraps an existing pool (tests get one per database from `#[sqlx::test]`).
    pub fn from_pool(pool: PgPool) -> Self {
        Self { pool }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Applies pending migrations; safe to run from several workbenches at once
    /// (sqlx serialises them with an advisory lock).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|err| StoreError::Migrate(one_line(&err.to_string())))
    }

    /// Applied and pending migrations and the row count of every main table.
    pub async fn status(&self) -> Result<DbStatus, StoreError> {
        status::read(&self.pool).await
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}
