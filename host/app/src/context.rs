//! What every command needs before it runs: paths, configuration, logging.

use std::path::PathBuf;

use anyhow::Context as _;
use tickwork_core::config::{Config, DATABASE_URL_ENV, LogLevel};
use tickwork_core::logging::{self, LogGuard};
use tickwork_core::paths::AppPaths;
use tickwork_core::secrets::SecretStore;
use tickwork_core::store::{DatabaseTarget, embedded::EmbeddedConfig, resolve_target};

/// Overrides the keyring service name (default `tickwork`).
pub const KEYRING_SERVICE_ENV: &str = "TICKWORK_KEYRING_SERVICE";

pub struct Context {
    pub paths: AppPaths,
    pub config: Config,
    pub secrets: SecretStore,
    _log: LogGuard,
}

impl Context {
    /// Loads the config (a bad value is a one-line error naming file, line and key) and starts
    /// logging: `stderr_level` to the terminal, the configured level to the log file.
    pub fn load(
        config_file: Option<PathBuf>,
        stderr_level: Option<LogLevel>,
    ) -> anyhow::Result<Self> {
        let paths = AppPaths::from_env()?;
        let file = config_file.unwrap_or_else(|| paths.config_file());
        let config = Config::load(&file)?;
        let level = stderr_level.unwrap_or(config.logging.level);
        let log_dir = config.logging.file.then(|| paths.log_dir());
        let log = logging::init(level, log_dir.as_deref())?;
        Ok(Self {
            paths,
            config,
            // A separate service name keeps test runs away from the user's real entries.
            secrets: std::env::var(KEYRING_SERVICE_ENV)
                .map(SecretStore::new)
                .unwrap_or_default(),
            _log: log,
        })
    }

    /// The configured database, or the embedded cluster.
    pub fn database_target(&self) -> anyhow::Result<DatabaseTarget> {
        let env_url = std::env::var(DATABASE_URL_ENV).ok();
        Ok(resolve_target(
            &self.config,
            env_url,
            &self.paths,
            &self.secrets,
        )?)
    }

    /// The embedded cluster whatever is configured: demo mode never touches a real database.
    pub fn embedded_target(&self) -> DatabaseTarget {
        DatabaseTarget::Embedded(EmbeddedConfig::from_config(
            &self.config.database,
            &self.paths,
        ))
    }
}

/// The multi-threaded runtime that owns all I/O (DESIGN §2: one runtime, owned by core).
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("tickwork-io")
        .build()
        .context("cannot start the I/O runtime")
}
