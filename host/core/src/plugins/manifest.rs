//! `plugin.toml`, the manifest of a plugin bundle: who the plugin is, which ABI it targets,
//! which library holds it, what it provides and which permissions it asks for. Read strictly
//! (an unknown key is an error) before any of the plugin's code runs; every error is one line
//! naming the file and the field.

use std::fmt;
use std::path::{Path, PathBuf};

use toml::{Table, Value};

use super::permissions::Permissions;

/// The manifest's file name inside a bundle directory.
pub const MANIFEST_FILE: &str = "plugin.toml";

/// A parsed, validated `plugin.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// Reverse-DNS id (`com.example.pairs`): the prefix of its GObject type names and its
    /// storage namespace.
    pub id: String,
    pub version: String,
    /// The ABI the plugin targets (`abi = "1.0"`).
    pub abi: AbiVersion,
    /// The library's file name, next to the manifest (`libpairs.so`).
    pub library: String,
    /// Lower-case hex SHA-256 of the library, when the bundle carries it.
    pub sha256: Option<String>,
    /// `[requires] gtk = "4.N"`: the GTK 4 minor its panels need.
    pub gtk_minor: Option<u32>,
    pub provides: Provides,
    /// What the `[permissions]` table asks for.
    pub permissions: Permissions,
}

/// `MAJOR.MINOR` of the plugin ABI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct AbiVersion {
    pub major: u16,
    pub minor: u16,
}

impl fmt::Display for AbiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// The `[provides]` table: the ids of what the plugin offers, per capability.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Provides {
    pub panels: Vec<String>,
    pub strategies: Vec<String>,
    pub margin_rules: Vec<String>,
}

impl Provides {
    /// Whether the plugin offers nothing at all.
    pub fn is_empty(&self) -> bool {
        self.panels.is_empty() && self.strategies.is_empty() && self.margin_rules.is_empty()
    }
}

/// A manifest that cannot be used: `FILE: FIELD: message`, one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {field}: {message}", file.display())]
pub struct ManifestError {
    pub file: PathBuf,
    /// The field at fault (`permissions.orders`), or `line N` for a syntax error.
    pub field: String,
    pub message: String,
}

/// Reads and validates the manifest at `path`.
pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
    let text = std::fs::read_to_string(path).map_err(|e| ManifestError {
        file: path.to_path_buf(),
        field: "file".into(),
        message: format!("cannot read: {e}"),
    })?;
    parse(path, &text)
}

/// Validates the text of a manifest; `path` is only named in errors.
pub fn parse(path: &Path, text: &str) -> Result<Manifest, ManifestError> {
    let err = |field: &str, message: String| ManifestError {
        file: path.to_path_buf(),
        field: field.to_owned(),
        message,
    };
    let mut top: Table = text.parse().map_err(|e: toml::de::Error| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].lines().count().max(1));
        let message = e.message().split_whitespace().collect::<Vec<_>>().join(" ");
        match line {
            Some(line) => err(&format!("line {line}"), message),
            None => err("syntax", message),
        }
    })?;
    let id = take_string(&mut top, "id", &err)?;
    check_id(&id).map_err(|m| err("id", m))?;
    let version = take_string(&mut top, "version", &err)?;
    check_version(&version).map_err(|m| err("version", m))?;
    let abi_text = take_string(&mut top, "abi", &err)?;
    let abi = parse_abi(&abi_text).map_err(|m| err("abi", m))?;
    let library = take_string(&mut top, "library", &err)?;
    check_library(&library).map_err(|m| err("library", m))?;
    let sha256 = match top.remove("sha256") {
        None => None,
        Some(value) => {
            let hash = as_string(value, "sha256", &err)?;
            if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(err(
                    "sha256",
                    format!("`{}` is not 64 hex digits", hash.escape_default()),
                ));
            }
            Some(hash.to_ascii_lowercase())
        }
    };
    let gtk_minor = match take_table(&mut top, "requires", &err)? {
        None => None,
        Some(mut requires) => {
            let gtk = match requires.remove("gtk") {
                None => None,
                Some(value) => {
                    let text = as_string(value, "requires.gtk", &err)?;
                    Some(parse_gtk(&text).map_err(|m| err("requires.gtk", m))?)
                }
            };
            reject_rest(requires, "requires.", &err)?;
            gtk
        }
    };
    let provides = match take_table(&mut top, "provides", &err)? {
        None => Provides::default(),
        Some(mut table) => {
            let mut list = |key: &str| -> Result<Vec<String>, ManifestError> {
                let field = format!("provides.{key}");
                let ids = match table.remove(key) {
                    None => Vec::new(),
                    Some(value) => string_list(value, &field, &err)?,
                };
                for capability_id in &ids {
                    check_capability_id(capability_id).map_err(|m| err(&field, m))?;
                }
                // ABI 1 offers one table per capability id, so one entry per kind.
                if ids.len() > 1 {
                    return Err(err(
                        &field,
                        format!(
                            "{} ids listed; a plugin offers at most one per kind (one table per \
                             capability in ABI 1)",
                            ids.len()
                        ),
                    ));
                }
                Ok(ids)
            };
            let provides = Provides {
                panels: list("panels")?,
                strategies: list("strategies")?,
                margin_rules: list("margin_rules")?,
            };
            reject_rest(table, "provides.", &err)?;
            provides
        }
    };
    let permissions = match take_table(&mut top, "permissions", &err)? {
        None => Permissions::default(),
        Some(table) => parse_permissions(table, &err)?,
    };
    reject_rest(top, "", &err)?;
    Ok(Manifest {
        id,
        version,
        abi,
        library,
        sha256,
        gtk_minor,
        provides,
        permissions,
    })
}

type ErrFn<'a> = dyn Fn(&str, String) -> ManifestError + 'a;

fn type_name(value: &Value) -> &'static str {
    value.type_str()
}

fn as_string(value: Value, field: &str, err: &ErrFn<'_>) -> Result<String, ManifestError> {
    match value {
        Value::String(s) => Ok(s),
        other => Err(err(
            field,
            format!("expected a string, found {}", type_name(&other)),
        )),
    }
}

fn take_string(top: &mut Table, key: &str, err: &ErrFn<'_>) -> Result<String, ManifestError> {
    match top.remove(key) {
        None => Err(err(key, "missing".into())),
        Some(value) => as_string(value, key, err),
    }
}

fn take_table(top: &mut Table, key: &str, err: &ErrFn<'_>) -> Result<Option<Table>, ManifestError> {
    match top.remove(key) {
        None => Ok(None),
        Some(Value::Table(t)) => Ok(Some(t)),
        Some(other) => Err(err(
            key,
            format!("expected a table, found {}", type_name(&other)),
        )),
    }
}

fn string_list(value: Value, field: &str, err: &ErrFn<'_>) -> Result<Vec<String>, ManifestError> {
    let Value::Array(items) = value else {
        return Err(err(
            field,
            format!("expected an array of strings, found {}", type_name(&value)),
        ));
    };
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        let s = as_string(item, field, err)?;
        if out.contains(&s) {
            return Err(err(field, format!("`{}` listed twice", s.escape_default())));
        }
        out.push(s);
    }
    Ok(out)
}

/// The first key left over is unknown: strict, so a typo is never silently ignored.
fn reject_rest(rest: Table, prefix: &str, err: &ErrFn<'_>) -> Result<(), ManifestError> {
    match rest.keys().next() {
        None => Ok(()),
        Some(key) => Err(err(&format!("{prefix}{key}"), "unknown key".into())),
    }
}

fn parse_permissions(mut table: Table, err: &ErrFn<'_>) -> Result<Permissions, ManifestError> {
    let mut out = Permissions::default();
    let mut each = |key: &str, allowed: &[&str]| -> Result<Vec<String>, ManifestError> {
        let field = format!("permissions.{key}");
        let items = match table.remove(key) {
            None => Vec::new(),
            Some(value) => string_list(value, &field, err)?,
        };
        if let Some(bad) = items.iter().find(|i| !allowed.contains(&i.as_str())) {
            return Err(err(
                &field,
                format!(
                    "unknown permission `{}` (known: {})",
                    bad.escape_default(),
                    allowed
                        .iter()
                        .map(|a| format!("\"{a}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        Ok(items)
    };
    out.market_data = !each("market_data", &["subscribe"])?.is_empty();
    let orders = each("orders", &["submit:paper", "submit:live"])?;
    out.orders_paper = orders.iter().any(|o| o == "submit:paper");
    out.orders_live = orders.iter().any(|o| o == "submit:live");
    out.storage = !each("storage", &["own-namespace"])?.is_empty();
    out.margin_override = !each("margin", &["override"])?.is_empty();
    reject_rest(table, "permissions.", err)?;
    Ok(out)
}

fn check_id(id: &str) -> Result<(), String> {
    let labels: Vec<&str> = id.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    };
    if id.len() > 128 || labels.len() < 2 || !labels.iter().all(label_ok) {
        return Err(format!(
            "`{}` is not a reverse-DNS id: two or more dot-separated labels of lower-case \
             letters, digits, `-` and `_`, each starting with a letter (com.example.pairs)",
            id.escape_default()
        ));
    }
    Ok(())
}

fn check_version(version: &str) -> Result<(), String> {
    if version.is_empty()
        || version.len() > 64
        || !version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-+".contains(c))
    {
        return Err(format!(
            "`{}`: expected a version such as 1.4.2 (letters, digits, `.`, `-`, `+`, `_`)",
            version.escape_default()
        ));
    }
    Ok(())
}

fn parse_abi(text: &str) -> Result<AbiVersion, String> {
    let bad = || {
        format!(
            "`{}`: expected MAJOR.MINOR, e.g. \"1.0\"",
            text.escape_default()
        )
    };
    let (major, minor) = text.split_once('.').ok_or_else(bad)?;
    let number = |s: &str| {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u16>().ok())
            .flatten()
    };
    Ok(AbiVersion {
        major: number(major).ok_or_else(bad)?,
        minor: number(minor).ok_or_else(bad)?,
    })
}

fn parse_gtk(text: &str) -> Result<u32, String> {
    let bad = || {
        format!(
            "`{}`: expected \"4.N\", e.g. \"4.10\"",
            text.escape_default()
        )
    };
    let (major, minor) = text.split_once('.').ok_or_else(bad)?;
    if major != "4" || minor.is_empty() || !minor.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    minor.parse().map_err(|_| bad())
}

fn check_library(name: &str) -> Result<(), String> {
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\0']) {
        return Err(format!(
            "`{}`: expected the library's file name next to plugin.toml (libexample.so)",
            name.escape_default()
        ));
    }
    Ok(())
}

fn check_capability_id(id: &str) -> Result<(), String> {
    if id.is_empty() || id.len() > 128 || id.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "`{}`: expected an id without spaces (com.example.pairs.spread)",
            id.escape_default()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
