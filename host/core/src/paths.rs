//! Where Tickwork keeps its files, following the XDG base directory specification.

use std::path::{Path, PathBuf};

/// The per-user directories Tickwork reads and writes.
///
/// Resolved once from the XDG variables (`XDG_CONFIG_HOME`, `XDG_DATA_HOME`, `XDG_STATE_HOME`,
/// `XDG_CACHE_HOME`) or their defaults under `$HOME`, so tests and packagers can redirect every
/// file at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppPaths {
    /// `$XDG_CONFIG_HOME/tickwork`: the config file.
    pub config_dir: PathBuf,
    /// `$XDG_DATA_HOME/tickwork`: the embedded database cluster and other durable data.
    pub data_dir: PathBuf,
    /// `$XDG_STATE_HOME/tickwork`: logs and the recorder's spool journal.
    pub state_dir: PathBuf,
    /// `$XDG_CACHE_HOME/tickwork`: copies that can be made again (plugin libraries as loaded).
    pub cache_dir: PathBuf,
}

/// The home directory could not be determined, so no XDG default exists.
#[derive(Debug, thiserror::Error)]
#[error("cannot find the home directory: set HOME or the XDG_*_HOME variables")]
pub struct NoHomeDir;

impl AppPaths {
    /// Resolves the directories for the current user from the environment.
    pub fn from_env() -> Result<Self, NoHomeDir> {
        let dirs = directories::ProjectDirs::from("", "", "tickwork").ok_or(NoHomeDir)?;
        let state_dir = dirs
            .state_dir()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| dirs.data_local_dir().join("state"));
        Ok(Self {
            config_dir: dirs.config_dir().to_path_buf(),
            data_dir: dirs.data_dir().to_path_buf(),
            state_dir,
            cache_dir: dirs.cache_dir().to_path_buf(),
        })
    }

    /// The default config file: `$XDG_CONFIG_HOME/tickwork/config.toml`.
    pub fn config_file(&self) -> PathBuf {
        self.config_dir.join("config.toml")
    }

    /// Where rotated log files go.
    pub fn log_dir(&self) -> PathBuf {
        self.state_dir.join("logs")
    }

    /// The user's plugin bundles: `$XDG_DATA_HOME/tickwork/plugins`.
    pub fn plugin_dir(&self) -> PathBuf {
        self.data_dir.join("plugins")
    }

    /// Where plugin libraries are copied before loading: `$XDG_CACHE_HOME/tickwork/plugins`.
    pub fn plugin_cache_dir(&self) -> PathBuf {
        self.cache_dir.join("plugins")
    }

    /// Where the plugin crash journals are kept: `$XDG_STATE_HOME/tickwork/plugins`.
    pub fn plugin_journal_dir(&self) -> PathBuf {
        self.state_dir.join("plugins")
    }

    /// Where the embedded PostgreSQL cluster lives for a non-root user.
    pub fn embedded_database_dir(&self) -> PathBuf {
        self.data_dir.join("postgres")
    }
}
