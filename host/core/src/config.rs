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
            check_database_url(url).map_err(|message| ("database.url", message))?;
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

/// The query parameters sqlx understands in a PostgreSQL URL. Anything else is refused before
/// sqlx sees it: sqlx logs an unknown parameter *with its value*, which could be a secret.
const URL_PARAMETERS: &[&str] = &[
    "sslmode",
    "ssl-mode",
    "sslrootcert",
    "ssl-root-cert",
    "ssl-ca",
    "sslcert",
    "ssl-cert",
    "sslkey",
    "ssl-key",
    "statement-cache-capacity",
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "application_name",
    "options",
];

const PASSWORD_REFUSED: &str = "contains a password; remove it and run `tickwork secret set \
     database-password` with database.password_from_keyring = true";

/// Checks a database URL (from `database.url` or `TICKWORK_DATABASE_URL`): a PostgreSQL URL
/// without a password, neither as `user:password@` nor as `?password=`. The message never
/// repeats the URL, so it cannot leak what it refuses.
pub fn check_database_url(url: &str) -> Result<(), String> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err("must start with postgres:// or postgresql://".to_owned());
    }
    // Before parsing: a parse error must not be the first thing to mention a password.
    if url_has_password(url) {
        return Err(PASSWORD_REFUSED.to_owned());
    }
    for key in query_keys(url) {
        if is_secret_key(&key) {
            return Err(PASSWORD_REFUSED.to_owned());
        }
        if !URL_PARAMETERS.contains(&key.as_str()) && !is_options_key(&key) {
            return Err(format!(
                "unknown connection parameter `{}` (known: {})",
                key.escape_default(),
                URL_PARAMETERS.join(", ")
            ));
        }
    }
    url.parse::<sqlx::postgres::PgConnectOptions>()
        .map_err(|e| format!("not a PostgreSQL URL: {}", one_line(&e.to_string())))?;
    Ok(())
}

fn is_options_key(key: &str) -> bool {
    key.starts_with("options[") && key.ends_with(']')
}

/// True when a `postgres://user:password@host` URL carries a password.
fn url_has_password(url: &str) -> bool {
    let Some(rest) = url.split_once("://").map(|(_, rest)| rest) else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    match authority.rsplit_once('@') {
        Some((userinfo, _)) => userinfo.contains(':'),
        None => false,
    }
}

/// The decoded keys of a URL's query string, as sqlx will read them.
fn query_keys(url: &str) -> Vec<String> {
    let Some((_, query)) = url.split_once('?') else {
        return Vec::new();
    };
    let query = query.split('#').next().unwrap_or("");
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| percent_decode(pair.split('=').next().unwrap_or("")))
        .collect()
}

/// A query key whose value is a secret: `password`, `sslpassword`, anything naming a token.
fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["pass", "pwd", "secret", "token"]
        .iter()
        .any(|word| key.contains(word))
}

/// `application/x-www-form-urlencoded` decoding (`+` is a space, `%XX` a byte), lossy.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What stands in for a secret in a redacted URL.
pub const REDACTED: &str = "***";

/// A URL fit for a message or a log: any `user:password@` password and the value of any
/// secret-looking query parameter (`password`, `sslpassword`, …) replaced by `***`, and the
/// fragment dropped. Text that is not a URL is returned unchanged.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let rest = rest.split('#').next().unwrap_or("");
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let mut out = format!("{scheme}://");
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            match userinfo.split_once(':') {
                Some((user, _)) => out.push_str(&format!("{user}:{REDACTED}")),
                None => out.push_str(userinfo),
            }
            out.push('@');
            out.push_str(host);
        }
        None => out.push_str(authority),
    }
    let (path, query) = match tail.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (tail, None),
    };
    out.push_str(path);
    if let Some(query) = query {
        out.push('?');
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if is_secret_key(&percent_decode(key)) => {
                    format!("{key}={REDACTED}")
                }
                None if is_secret_key(&percent_decode(pair)) => REDACTED.to_owned(),
                _ => pair.to_owned(),
            })
            .collect();
        out.push_str(&pairs.join("&"));
    }
    out
}

/// Free text (an error chain, a log line) with every URL in it passed through [`redact_url`].
/// A URL runs from its scheme to the next whitespace or quote.
pub fn redact_urls(text: &str) -> String {
    if !text.contains("://") {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(found) = rest.find("://") {
        let scheme_start = rest[..found]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
            .map_or(0, |i| i + 1);
        let end = rest[found..]
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '<' | '>'))
            .map_or(rest.len(), |i| found + i);
        out.push_str(&rest[..scheme_start]);
        out.push_str(&redact_url(&rest[scheme_start..end]));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
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
    fn password_as_query_parameter_is_refused_like_userinfo() {
        for url in [
            "postgres://trader@db/tickwork?password=hunter2",
            "postgres://trader@db/tickwork?sslmode=require&password=hunter2",
            "postgres://trader@db/tickwork?pass%77ord=hunter2",
            "postgres://trader@db/tickwork?PASSWORD=hunter2",
            "postgresql://db/tickwork?user=trader&sslpassword=hunter2",
        ] {
            let err = parse(&format!("[database]\nurl = \"{url}\"\n")).unwrap_err();
            assert_eq!(err.key.as_deref(), Some("database.url"), "{url}");
            assert_eq!(err.line, Some(2), "{url}");
            assert!(err.message.contains("contains a password"), "{url}: {err}");
            let shown = err.to_string();
            assert!(
                !shown.contains("hunter2") && !shown.contains('\n'),
                "{shown}"
            );
        }
    }

    #[test]
    fn unknown_url_parameter_is_refused_without_its_value() {
        let err =
            parse("[database]\nurl = \"postgres://db/x?connect_timeout=s3cr3t\"\n").unwrap_err();
        assert!(
            err.message
                .contains("unknown connection parameter `connect_timeout`"),
            "{err}"
        );
        assert!(!err.to_string().contains("s3cr3t"));
        // What sqlx understands still passes.
        parse("[database]\nurl = \"postgres://trader@db:5433/x?sslmode=require&application_name=tw&options[search_path]=tw\"\n")
            .unwrap();
        parse("[database]\nurl = \"postgres:///tickwork?host=/var/run/postgresql\"\n").unwrap();
    }

    #[test]
    fn redact_url_hides_passwords_and_keeps_the_rest() {
        assert_eq!(
            redact_url("postgres://trader:hunter2@db:5432/tw?sslmode=require&password=hunter2#x"),
            "postgres://trader:***@db:5432/tw?sslmode=require&password=***"
        );
        assert_eq!(
            redact_url("postgres://trader@db/tw?pass%77ord=hunter2&user=x"),
            "postgres://trader@db/tw?pass%77ord=***&user=x"
        );
        assert_eq!(
            redact_url("postgres://trader@db/tw"),
            "postgres://trader@db/tw"
        );
        assert_eq!(redact_url("embedded cluster /x"), "embedded cluster /x");
    }

    #[test]
    fn redact_urls_finds_urls_in_text() {
        let text = "cannot connect to postgresql://u:hunter2@h/d?password=hunter2: refused; \
                    also \"http://a:hunter2@b\" and plain text";
        let shown = redact_urls(text);
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(
            shown.starts_with("cannot connect to postgresql://u:***@h/d?password=***"),
            "{shown}"
        );
        assert!(
            shown.ends_with("\"http://a:***@b\" and plain text"),
            "{shown}"
        );
        assert_eq!(redact_urls("no url here"), "no url here");
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
