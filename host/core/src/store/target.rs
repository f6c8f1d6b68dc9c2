//! Which database to open: a shared server named by URL, or the embedded private cluster.

use sqlx::postgres::PgConnectOptions;

use super::embedded::EmbeddedConfig;
use crate::config::{
    Config, ConfigError, DATABASE_URL_ENV, check_database_url, redact_url, redact_urls,
};
use crate::paths::AppPaths;
use crate::secrets::{SecretError, SecretName, SecretStore};

/// The resolved choice, ready to connect.
#[derive(Clone)]
pub enum DatabaseTarget {
    /// A server by URL; `describe` is the URL without any secret, for messages.
    Server {
        /// Holds the keyring password when one is configured: never format it.
        options: Box<PgConnectOptions>,
        describe: String,
    },
    /// The private cluster under the user's data directory.
    Embedded(EmbeddedConfig),
}

/// By hand: the derived form would print the password inside the connect options.
impl std::fmt::Debug for DatabaseTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DatabaseTarget::Server { describe, .. } => f
                .debug_struct("Server")
                .field("describe", describe)
                .finish_non_exhaustive(),
            DatabaseTarget::Embedded(config) => f.debug_tuple("Embedded").field(config).finish(),
        }
    }
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
            // The same rules as the config key (no password in the URL, known parameters).
            check_database_url(&url).map_err(TargetError::BadEnvUrl)?;
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
        .map_err(|e: sqlx::Error| TargetError::BadEnvUrl(redact_urls(&e.to_string())))?;
    if config.database.password_from_keyring {
        let password = secrets
            .get(SecretName::DatabasePassword)?
            .ok_or(TargetError::MissingPassword)?;
        options = options.password(&password);
    }
    Ok(DatabaseTarget::Server {
        options: Box::new(options),
        // Already password-free (checked above); redacted all the same, as everywhere.
        describe: redact_url(&url),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths() -> AppPaths {
        AppPaths {
            config_dir: "/nonexistent/config".into(),
            data_dir: "/nonexistent/data".into(),
            state_dir: "/nonexistent/state".into(),
            cache_dir: "/nonexistent/cache".into(),
        }
    }

    fn resolve(env_url: &str) -> Result<DatabaseTarget, TargetError> {
        resolve_target(
            &Config::default(),
            Some(env_url.to_owned()),
            &paths(),
            &SecretStore::new("tickwork-unit-test-unused"),
        )
    }

    #[test]
    fn env_url_with_a_password_is_refused_in_either_form() {
        for url in [
            "postgres://trader:hunter2@db/tickwork",
            "postgres://trader@db/tickwork?password=hunter2",
        ] {
            let err = resolve(url).unwrap_err();
            let shown = err.to_string();
            assert!(
                shown.starts_with("TICKWORK_DATABASE_URL: contains a password"),
                "{shown}"
            );
            assert!(!shown.contains("hunter2"), "{shown}");
        }
    }

    #[test]
    fn server_target_describes_itself_without_secrets() {
        let target = resolve("postgres://trader@db:5433/tickwork?sslmode=prefer").unwrap();
        let DatabaseTarget::Server { describe, .. } = &target else {
            panic!("expected a server target: {target:?}");
        };
        assert_eq!(
            describe,
            "postgres://trader@db:5433/tickwork?sslmode=prefer"
        );
        // Debug shows the description, never the connect options (which may hold a password).
        let debug = format!("{:?}", target);
        assert!(
            debug.contains("describe") && !debug.contains("options"),
            "{debug}"
        );
    }
}
