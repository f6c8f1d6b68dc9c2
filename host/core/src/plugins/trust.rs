//! The checks made before any of a plugin's code runs: ABI and GTK versions, the library's
//! SHA-256 against the manifest and against the user's allowlist, and the permissions asked
//! for against those granted. Their verdict is the plugin's [`PluginStatus`].

use std::fmt;
use std::io::Read as _;
use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};
use tickwork_plugin_api::abi::{TW_ABI_MAJOR, TW_ABI_MINOR};

use super::manifest::Manifest;
use super::permissions::Permissions;
use crate::store::plugins::TrustedPlugin;

/// Where a plugin stands, with the reason when it is not usable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "reason", rename_all = "lowercase")]
pub enum PluginStatus {
    /// Trusted, enabled and compatible: it loads at the next start (what a scan reports, since
    /// a scan runs no plugin code).
    Trusted,
    /// Loaded into this process; its capabilities are registered.
    Loaded,
    /// Not in the allowlist, or changed since it was trusted, or asking for more than was
    /// granted: it asks again.
    Untrusted(String),
    /// Switched off by the user, after a crash or after repeated faults.
    Disabled(String),
    /// Its `init` failed or panicked, or it handed back no table for a capability it declares.
    Faulted(String),
    /// Built for another ABI or GTK, or its descriptor or tables are malformed.
    Incompatible(String),
}

impl PluginStatus {
    /// The one-word name (`loaded`, `untrusted`, …).
    pub fn name(&self) -> &'static str {
        match self {
            PluginStatus::Trusted => "trusted",
            PluginStatus::Loaded => "loaded",
            PluginStatus::Untrusted(_) => "untrusted",
            PluginStatus::Disabled(_) => "disabled",
            PluginStatus::Faulted(_) => "faulted",
            PluginStatus::Incompatible(_) => "incompatible",
        }
    }

    /// Why the plugin is not usable; `None` when it is.
    pub fn reason(&self) -> Option<&str> {
        match self {
            PluginStatus::Trusted | PluginStatus::Loaded => None,
            PluginStatus::Untrusted(r)
            | PluginStatus::Disabled(r)
            | PluginStatus::Faulted(r)
            | PluginStatus::Incompatible(r) => Some(r),
        }
    }
}

impl fmt::Display for PluginStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reason() {
            None => f.write_str(self.name()),
            Some(reason) => write!(f, "{}: {reason}", self.name()),
        }
    }
}

/// Whether the manifest's ABI and GTK requirements fit this host. `gtk_minor` is the running
/// GTK 4 minor, `None` without a display (a headless process only skips panels).
pub fn check_compatible(manifest: &Manifest, gtk_minor: Option<u32>) -> Result<(), String> {
    let abi = manifest.abi;
    if abi.major != TW_ABI_MAJOR {
        return Err(format!(
            "built for plugin ABI {abi}; this host loads ABI {TW_ABI_MAJOR}.x plugins"
        ));
    }
    if abi.minor > TW_ABI_MINOR {
        return Err(format!(
            "built for plugin ABI {abi}, newer than this host's {TW_ABI_MAJOR}.{TW_ABI_MINOR}: \
             update Tickwork"
        ));
    }
    if let (Some(needs), Some(running)) = (manifest.gtk_minor, gtk_minor)
        && needs > running
    {
        return Err(format!(
            "needs GTK 4.{needs}; this system runs GTK 4.{running}"
        ));
    }
    Ok(())
}

/// Lower-case hex SHA-256 of a file's contents.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The library's SHA-256, checked against the manifest's `sha256` when it has one. An error
/// is one line: the library is missing, unreadable or not what the manifest says.
pub fn library_hash(dir: &Path, manifest: &Manifest) -> Result<String, String> {
    let path = dir.join(&manifest.library);
    if !path.is_file() {
        return Err(format!(
            "library {} is missing (plugin.toml: library = \"{}\")",
            path.display(),
            manifest.library
        ));
    }
    let actual = sha256_file(&path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    match &manifest.sha256 {
        Some(expected) if *expected != actual => Err(format!(
            "library {} has sha256 {actual}, but plugin.toml says {expected}: the file changed \
             or is damaged",
            path.display()
        )),
        _ => Ok(actual),
    }
}

/// The permissions a trust grant holds, or why they cannot be read.
pub fn granted(trusted: &TrustedPlugin) -> Result<Permissions, String> {
    Permissions::from_strings(&trusted.permissions)
        .map_err(|e| format!("the stored grant is unreadable ({e}); trust it again"))
}

/// The verdict for a compatible bundle whose library hashes to `hash`, given its allowlist
/// row: `Trusted` when it may load. `dir` is named in the advice to trust it.
pub fn decide(
    dir: &Path,
    manifest: &Manifest,
    hash: &str,
    trusted: Option<&TrustedPlugin>,
) -> PluginStatus {
    let trust_it = format!("trust it with `tickwork plugins trust {}`", dir.display());
    let Some(trusted) = trusted else {
        return PluginStatus::Untrusted(format!("not in the allowlist; {trust_it}"));
    };
    if trusted.library_sha256 != hash {
        return PluginStatus::Untrusted(format!(
            "the library changed since it was trusted (sha256 {hash}, trusted {}); {trust_it}",
            trusted.library_sha256
        ));
    }
    if trusted.version != manifest.version {
        return PluginStatus::Untrusted(format!(
            "plugin.toml says version {} but version {} was trusted; {trust_it}",
            manifest.version, trusted.version
        ));
    }
    let granted = match granted(trusted) {
        Ok(granted) => granted,
        Err(e) => return PluginStatus::Untrusted(format!("{e}: {trust_it}")),
    };
    if !manifest.permissions.within(&granted) {
        let extra: Vec<String> = manifest
            .permissions
            .to_strings()
            .into_iter()
            .filter(|p| !granted.to_strings().contains(p))
            .collect();
        return PluginStatus::Untrusted(format!(
            "asks for permissions not granted ({}); {trust_it}",
            extra.join(", ")
        ));
    }
    if !trusted.enabled {
        return PluginStatus::Disabled(
            trusted
                .disabled_reason
                .clone()
                .unwrap_or_else(|| "disabled".to_owned()),
        );
    }
    match (trusted.last_error_kind.as_deref(), &trusted.last_error) {
        (Some("faulted"), Some(e)) => PluginStatus::Faulted(format!("at the last start: {e}")),
        (Some("incompatible"), Some(e)) => {
            PluginStatus::Incompatible(format!("at the last start: {e}"))
        }
        _ => PluginStatus::Trusted,
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use chrono::Utc;

    use super::*;
    use crate::plugins::manifest::{AbiVersion, Provides};

    fn manifest() -> Manifest {
        Manifest {
            id: "com.example.rule".into(),
            version: "1.0.0".into(),
            abi: AbiVersion { major: 1, minor: 0 },
            library: "librule.so".into(),
            sha256: None,
            gtk_minor: Some(10),
            provides: Provides::default(),
            permissions: Permissions {
                market_data: true,
                ..Permissions::default()
            },
        }
    }

    fn row(hash: &str) -> TrustedPlugin {
        TrustedPlugin {
            id: "com.example.rule".into(),
            version: "1.0.0".into(),
            library_sha256: hash.into(),
            permissions: vec!["market_data:subscribe".into()],
            enabled: true,
            trusted_at: Utc::now(),
            disabled_reason: None,
            faults: 0,
            last_error: None,
            last_error_kind: None,
            last_error_at: None,
        }
    }

    #[test]
    fn versions_are_checked_before_anything_runs() {
        let mut m = manifest();
        assert!(check_compatible(&m, Some(12)).is_ok());
        assert!(
            check_compatible(&m, None).is_ok(),
            "headless: panels skipped"
        );
        let gtk = check_compatible(&m, Some(8)).unwrap_err();
        assert_eq!(gtk, "needs GTK 4.10; this system runs GTK 4.8");
        m.abi = AbiVersion { major: 2, minor: 0 };
        assert!(check_compatible(&m, None).unwrap_err().contains("ABI 2.0"));
        m.abi = AbiVersion {
            major: 1,
            minor: TW_ABI_MINOR + 1,
        };
        assert!(
            check_compatible(&m, None)
                .unwrap_err()
                .contains("update Tickwork")
        );
    }

    #[test]
    fn the_hash_is_checked_against_the_manifest() {
        let tmp = tempfile::tempdir().unwrap();
        let mut m = manifest();
        let missing = library_hash(tmp.path(), &m).unwrap_err();
        assert!(missing.contains("librule.so is missing"), "{missing}");
        std::fs::write(tmp.path().join("librule.so"), b"test").unwrap();
        let hash = library_hash(tmp.path(), &m).unwrap();
        assert_eq!(
            hash,
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
        );
        m.sha256 = Some(hash.clone());
        assert_eq!(library_hash(tmp.path(), &m).unwrap(), hash);
        std::fs::write(tmp.path().join("librule.so"), b"tesT").unwrap();
        let changed = library_hash(tmp.path(), &m).unwrap_err();
        assert!(changed.contains("but plugin.toml says 9f86d0"), "{changed}");
    }

    #[test]
    fn the_allowlist_decides() {
        let dir = PathBuf::from("/b/rule");
        let m = manifest();
        let status = decide(&dir, &m, "aa", None);
        assert_eq!(
            status,
            PluginStatus::Untrusted(
                "not in the allowlist; trust it with `tickwork plugins trust /b/rule`".into()
            )
        );
        assert_eq!(
            decide(&dir, &m, "aa", Some(&row("aa"))),
            PluginStatus::Trusted
        );
        let changed = decide(&dir, &m, "bb", Some(&row("aa")));
        assert!(
            matches!(&changed, PluginStatus::Untrusted(r) if r.contains("changed since")),
            "{changed}"
        );
        let mut fewer = row("aa");
        fewer.permissions.clear();
        let more = decide(&dir, &m, "aa", Some(&fewer));
        assert!(
            matches!(&more, PluginStatus::Untrusted(r)
                if r.contains("not granted (market_data:subscribe)")),
            "{more}"
        );
        let mut off = row("aa");
        off.enabled = false;
        off.disabled_reason = Some("disabled by the user".into());
        assert_eq!(
            decide(&dir, &m, "aa", Some(&off)),
            PluginStatus::Disabled("disabled by the user".into())
        );
        let mut failed = row("aa");
        failed.last_error = Some("init returned TW_ERR".into());
        failed.last_error_kind = Some("faulted".into());
        assert_eq!(
            decide(&dir, &m, "aa", Some(&failed)).to_string(),
            "faulted: at the last start: init returned TW_ERR"
        );
    }
}
