//! The user's configuration file (TOML) and the errors that point at the bad key.
//!
//! A missing file means "all defaults"; a present file is parsed strictly (unknown keys are
//! errors, since a misspelt key silently ignored is a setting the user believes is in force).

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Environment variable that overrides `database.url`, for scripts and CI.
pub const DATABASE_URL_ENV: &str = "TICKWORK_DATABASE_URL";

/// Everything the user can configure in `config.toml`. See `docs/operations.md`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub database: DatabaseConfig,
    pub logging: LoggingConfig,
}

/// Which PostgreSQL to use: a shared server by URL, or the embedded private cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `postgres://user@host/db` of a shared server; absent means the embedded cluster.
    /// Must not contain a password: that goes to the keyring.
    pub url: Option<String>,
    /// Read the server password from the OS keyring (`tickwork secret set database-password`).
    pub password_from_keyring: bool,
    /// Where the embedded cluster lives (default: the XDG data dir, or `/var/lib/tickwork` as root).
    pub embedded_dir: Option<PathBuf>,
    /// System user that runs the embedded server when Tickwork itself runs as root.
    pub embedded_run_as: Option<String>,
    /// Directory holding `initdb` and `pg_ctl` (default: the newest `/usr/lib/postgresql/*/bin`).
    pub postgres_bin_dir: Option<PathBuf>,
}

/// Log verbosity and destinations.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoggingConfig {
    pub level: LogLevel,
    /// Also write rotating daily files under the XDG state dir.
    pub file: bool,
}

impl Default for LoggingConfig {
    fn default() -> Self {
        Self {
            level: LogLevel::Info,
            file: true,
        }
    }
}

/// The levels `tracing` understands, spelled as users write them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Error,
    Warn,
    #[default]
    Info,
    Debug,
    Trace,
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }
}

/// A configuration problem, displayed on one line as `file:line: key: what is wrong`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub key: Option<String>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(key) = &self.key {
            write!(f, ": {key}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Loads `path`; a file that does not exist yields the defaults.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(path, &text),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(err) => Err(ConfigError {
                file: path.to_path_buf(),
                line: None,
                key: None,
                message: format!("cannot read: {err}"),
            }),
        }
    }

    /// Parses and validates config text; `file` is only used to name the source in errors.
    pub fn parse(file: &Path, text: &str) -> Result<Self, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|err| {
            let (line, key) = match err.span() {
                Some(span) => locate_span(text, span.start),
                None => (None, None),
            };
            ConfigError {
                file: file.to_path_buf(),
                line,
                key,
                message: one_line(err.message()),
            }
        })?;
        config.validate().map_err(|(key, message)| ConfigError {
            file: file.to_path_buf(),
            line: find_key_line(text, key),
            key: Some(key.to_owned()),
            message,
        })?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), (&'static str, String)> {
        if let Some(url) = &self.database.url {
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return Err((
                    "database.url",
                    "must start with postgres:// or postgresql://".to_owned(),
                ));
            }
            url.parse::<sqlx::postgres::PgConnectOptions>()
                .map_err(|e| {
                    (
                        "database.url",
                        format!("not a PostgreSQL URL: {}", one_line(&e.to_string())),
                    )
                })?;
            if url_has_password(url) {
                return Err((
                    "database.url",
                    "contains a password; remove it and run `tickwork secret set database-password` \
                     with database.password_from_keyring = true"
                        .to_owned(),
                ));
            }
        }
        if let Some(user) = &self.database.embedded_run_as
            && user.trim().is_empty()
        {
            return Err((
                "database.embedded_run_as",
                "must name a system user".to_owned(),
            ));
        }
        Ok(())
    }
}

/// True when a `postgres://user:password@host` URL carries a password.
fn url_has_password(url: &str) -> bool {
    let Some(rest) = url.split_once("://").map(|(_, rest)| rest) else {
        return false;
    };
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    match authority.rsplit_once('@') {
        Some((userinfo, _)) => userinfo.contains(':'),
        None => false,
    }
}

fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Finds the 1-based line of a byte offset and the dotted key defined on or above it.
fn locate_span(text: &str, offset: usize) -> (Option<usize>, Option<String>) {
    let offset = offset.min(text.len());
    let line_no = text[..offset].matches('\n').count();
    let lines: Vec<&str> = text.lines().collect();
    let mut table = String::new();
    for line in lines.iter().take(line_no) {
        if let Some(header) = table_header(line) {
            table = header;
        }
    }
    let key = lines.get(line_no).and_then(|line| {
        if let Some(header) = table_header(line) {
            return Some(header);
        }
        let (key, _) = line.split_once('=')?;
        let key = key.trim().trim_matches('"');
        Some(if table.is_empty() {
            key.to_owned()
        } else {
            format!("{table}.{key}")
        })
    });
    (Some(line_no + 1), key)
}

fn table_header(line: &str) -> Option<String> {
    let line = line.trim();
    let inner = line.strip_prefix('[')?.split(']').next()?;
    Some(inner.trim().trim_matches('[').trim().to_owned())
}

/// The 1-based line where a dotted key (`table.key`) is assigned, if it is in the text.
fn find_key_line(text: &str, dotted: &str) -> Option<usize> {
    let (table, key) = dotted.rsplit_once('.').unwrap_or(("", dotted));
    let mut current = String::new();
    for (index, line) in text.lines().enumerate() {
        if let Some(header) = table_header(line) {
            current = header;
            continue;
        }
        if current == table
            && let Some((lhs, _)) = line.split_once('=')
            && lhs.trim().trim_matches('"') == key
        {
            return Some(index + 1);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("/cfg/config.toml"), text)
    }

    #[test]
    fn empty_file_is_all_defaults() {
        assert_eq!(parse("").unwrap(), Config::default());
        assert_eq!(Config::default().logging.level, LogLevel::Info);
    }

    #[test]
    fn full_file_parses() {
        let config = parse(
            "[database]\nurl = \"postgres://trader@db.example/tickwork\"\npassword_from_keyring = true\n\
             embedded_run_as = \"postgres\"\n[logging]\nlevel = \"debug\"\nfile = false\n",
        )
        .unwrap();
        assert_eq!(
            config.database.url.as_deref(),
            Some("postgres://trader@db.example/tickwork")
        );
        assert!(config.database.password_from_keyring);
        assert_eq!(config.logging.level, LogLevel::Debug);
        assert!(!config.logging.file);
    }

    #[test]
    fn wrong_type_names_key_and_line_on_one_line() {
        let err = parse("[logging]\nfile = true\nlevel = 3\n").unwrap_err();
        assert_eq!(err.line, Some(3));
        assert_eq!(err.key.as_deref(), Some("logging.level"));
        let shown = err.to_string();
        assert!(
            shown.starts_with("/cfg/config.toml:3: logging.level: "),
            "{shown}"
        );
        assert!(!shown.contains('\n'));
    }

    #[test]
    fn bad_enum_value_names_key() {
        let err = parse("[logging]\nlevel = \"loud\"\n").unwrap_err();
        assert_eq!(err.key.as_deref(), Some("logging.level"));
        assert!(err.message.contains("loud"), "{}", err.message);
    }

    #[test]
    fn unknown_key_is_an_error_not_ignored() {
        let err = parse("[database]\nurll = \"x\"\n").unwrap_err();
        assert_eq!(err.line, Some(2));
        assert_eq!(err.key.as_deref(), Some("database.urll"));
        assert!(err.message.contains("unknown field"), "{}", err.message);
    }

    #[test]
    fn unknown_table_is_an_error() {
        let err = parse("[databse]\nurl = \"x\"\n").unwrap_err();
        assert_eq!(err.key.as_deref(), Some("databse"));
    }

    #[test]
    fn password_in_url_is_refused() {
        let err =
            parse("[database]\n\nurl = \"postgres://trader:hunter2@db/tickwork\"\n").unwrap_err();
        assert_eq!(err.key.as_deref(), Some("database.url"));
        assert_eq!(err.line, Some(3));
        assert!(err.message.contains("contains a password"));
        assert!(!err.to_string().contains("hunter2"));
    }

    #[test]
    fn non_postgres_url_is_refused() {
        let err = parse("[database]\nurl = \"mysql://x@y/z\"\n").unwrap_err();
        assert_eq!(err.key.as_deref(), Some("database.url"));
    }

    #[test]
    fn syntax_error_has_line() {
        let err = parse("[database\nurl = 1\n").unwrap_err();
        assert_eq!(err.line, Some(1));
        assert!(!err.to_string().contains('\n'));
    }

    #[test]
    fn missing_file_is_defaults_unreadable_is_error() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            Config::load(&dir.path().join("none.toml")).unwrap(),
            Config::default()
        );
        let err = Config::load(dir.path()).unwrap_err();
        assert!(err.message.starts_with("cannot read"), "{err}");
    }
}
