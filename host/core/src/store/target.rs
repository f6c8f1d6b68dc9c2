//! Which database to open: a shared server named by URL, or the embedded private cluster.

use std::path::PathBuf;

use sqlx::postgres::PgConnectOptions;

use super::embedded::EmbeddedConfig;
use crate::config::{Config, ConfigError, DATABASE_URL_ENV};
use crate::paths::AppPaths;
use crate::secrets::{SecretError, SecretName, SecretStore};

/// The resolved choice, ready to connect.
#[derive(Debug, Clone)]
pub enum DatabaseTarget {
    /// A server by URL; `describe` is the URL without any secret, for messages.
    Server {
        options: Box<PgConnectOptions>,
        describe: String,
    },
    /// The private cluster under the user's data directory.
    Embedded(EmbeddedConfig),
}

#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("{DATABASE_URL_ENV}: {0}")]
    BadEnvUrl(String),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("database password: {0}")]
    Secret(#[from] SecretError),
    #[error(
        "database.password_from_keyring is true but no `database-password` is in the keyring; \
         run `tickwork secret set database-password`"
    )]
    MissingPassword,
}

/// Chooses the database: `TICKWORK_DATABASE_URL`, else `database.url`, else the embedded cluster.
pub fn resolve_target(
    config: &Config,
    env_url: Option<String>,
    paths: &AppPaths,
    secrets: &SecretStore,
) -> Result<DatabaseTarget, TargetError> {
    let url = match env_url.filter(|u| !u.trim().is_empty()) {
        Some(url) => {
            // Validate the environment value with the same rules as the config key.
            let probe = format!("[database]\nurl = {}\n", toml_string(&url));
            Config::parse(&PathBuf::from(DATABASE_URL_ENV), &probe)
                .map_err(|e| TargetError::BadEnvUrl(e.message))?;
            Some(url)
        }
        None => config.database.url.clone(),
    };
    let Some(url) = url else {
        return Ok(DatabaseTarget::Embedded(EmbeddedConfig::from_config(
            &config.database,
            paths,
        )));
    };
    let mut options: PgConnectOptions = url
        .parse()
        .map_err(|e: sqlx::Error| TargetError::BadEnvUrl(e.to_string()))?;
    if config.database.password_from_keyring {
        let password = secrets
            .get(SecretName::DatabasePassword)?
            .ok_or(TargetError::MissingPassword)?;
        options = options.password(&password);
    }
    Ok(DatabaseTarget::Server {
        options: Box::new(options),
        describe: url,
    })
}

fn toml_string(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
