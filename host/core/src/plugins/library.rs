//! Loading one checked bundle for good: the library is copied to the cache under its hash
//! (read-only) and hashed again, so what is loaded is what was checked; opened with `RTLD_NOW`
//! (a missing symbol fails here, not mid-session) and never unloaded; its descriptor validated;
//! `init` called with the plugin's host table; and one table fetched and validated per
//! capability its manifest declares. Every call into the plugin is noted in the crash journal.

use core::ffi::c_void;
use std::path::{Path, PathBuf};

use libloading::os::unix::{Library, RTLD_LOCAL, RTLD_NOW};
use tickwork_plugin_api::abi::{
    ReadError, TW_ABI_MAJOR, TW_ABI_MINOR, TW_CAP_MARGIN_RULE_V1, TW_CAP_PANEL_GTK4_V1,
    TW_CAP_STRATEGY_V1, TW_ENTRY_V1, TW_ENTRY_V1_NUL, TW_ERR, TW_ERR_BAD_ARG, TW_ERR_DENIED,
    TW_ERR_FAULTED, TW_ERR_NOT_FOUND, TW_ERR_PANICKED, TW_ERR_UNSUPPORTED, TW_FLAG_PANIC_UNWIND,
    TW_OK, TwEntryV1, TwMarginRuleV1, TwPanelGtk4V1, TwPluginDescriptor, TwStatus, TwStr,
    TwStrategyV1, read_prefixed, v1_0_size,
};

use super::capability::{
    HostApiRef, MarginRuleTable, PanelTable, PluginMarginRule, PluginPanel, PluginStrategy,
    Provider, StrategyTable,
};
use super::host_api::{self, tw_bytes, tw_str};
use super::journal;
use super::manifest::Manifest;
use super::permissions::Permissions;
use super::trust::{PluginStatus, sha256_file};

/// Longest id or version a descriptor may hold.
const MAX_NAME_BYTES: usize = 1024;
/// Longest `build_info`.
const MAX_INFO_BYTES: usize = 16 * 1024;

/// Why a plugin was not loaded: the status it gets, with its reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// Its code ran and failed (`init`, a null table): see [`PluginStatus::Faulted`].
    #[error("{0}")]
    Faulted(String),
    /// The library or its descriptor or tables do not fit this host.
    #[error("{0}")]
    Incompatible(String),
}

impl LoadError {
    /// The status a report shows for this failure.
    pub fn status(&self) -> PluginStatus {
        match self {
            LoadError::Faulted(r) => PluginStatus::Faulted(r.clone()),
            LoadError::Incompatible(r) => PluginStatus::Incompatible(r.clone()),
        }
    }

    /// `faulted` or `incompatible`, as the allowlist stores it.
    pub fn kind(&self) -> &'static str {
        match self {
            LoadError::Faulted(_) => "faulted",
            LoadError::Incompatible(_) => "incompatible",
        }
    }
}

/// What to load, after the checks of [`super::trust`] passed.
#[derive(Debug, Clone)]
pub struct LoadRequest<'a> {
    /// The bundle directory.
    pub dir: &'a Path,
    pub manifest: &'a Manifest,
    /// The hash that was checked (and trusted): the loaded file must have it.
    pub sha256: &'a str,
    /// What the user granted; the host table enforces it.
    pub granted: &'a Permissions,
    /// Where the library is copied before loading; `None` loads it in place (the throwaway
    /// probe of `tickwork plugins verify`, which never runs in the app).
    pub cache_dir: Option<&'a Path>,
    /// The running GTK 4 minor; `None` without a display: panels are skipped.
    pub gtk_minor: Option<u32>,
}

/// A plugin loaded into this process, with its validated capabilities.
#[derive(Clone)]
pub struct LoadedPlugin {
    pub provider: Provider,
    /// The descriptor's free-text build information (compiler, SDK).
    pub build_info: String,
    /// The file that was loaded (the cached copy).
    pub library: PathBuf,
    pub strategies: Vec<PluginStrategy>,
    pub margin_rules: Vec<PluginMarginRule>,
    pub panels: Vec<PluginPanel>,
    /// The manifest declares panels but no GTK is running: they were not asked for.
    pub panels_skipped: bool,
    pub host: HostApiRef,
    shutdown: Option<unsafe extern "C" fn()>,
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("provider", &self.provider)
            .field("build_info", &self.build_info)
            .field("library", &self.library)
            .field("strategies", &self.strategies.len())
            .field("margin_rules", &self.margin_rules.len())
            .field("panels", &self.panels.len())
            .finish()
    }
}

impl LoadedPlugin {
    /// Calls the plugin's `shutdown` (the library stays loaded). Call once, at exit.
    pub fn shutdown(&self) {
        if let Some(shutdown) = self.shutdown {
            let _guard = journal::enter(&self.provider.plugin_id, "", "shutdown");
            // SAFETY: a validated descriptor's function, called once at exit as the ABI says.
            unsafe { shutdown() };
        }
    }
}

/// The name of a status code, for messages.
pub fn status_name(status: TwStatus) -> String {
    match status {
        TW_OK => "TW_OK".into(),
        TW_ERR => "TW_ERR".into(),
        TW_ERR_PANICKED => "TW_ERR_PANICKED (the plugin panicked)".into(),
        TW_ERR_BAD_ARG => "TW_ERR_BAD_ARG".into(),
        TW_ERR_UNSUPPORTED => "TW_ERR_UNSUPPORTED".into(),
        TW_ERR_DENIED => "TW_ERR_DENIED".into(),
        TW_ERR_FAULTED => "TW_ERR_FAULTED".into(),
        TW_ERR_NOT_FOUND => "TW_ERR_NOT_FOUND".into(),
        other => format!("unknown status {other}"),
    }
}

/// Copies the library to `cache/<sha256>.so` (read-only) unless a copy with that hash is
/// there, and checks the copy's hash: the file loaded is the file checked.
fn cached_copy(source: &Path, cache: &Path, sha256: &str) -> Result<PathBuf, String> {
    let target = cache.join(format!("{sha256}.so"));
    if target.is_file() && sha256_file(&target).is_ok_and(|h| h == sha256) {
        return Ok(target);
    }
    let io = |what: &str, e: std::io::Error| format!("{what}: {e}");
    std::fs::create_dir_all(cache).map_err(|e| io(&cache.display().to_string(), e))?;
    let tmp = cache.join(format!(".{sha256}.{}.tmp", std::process::id()));
    std::fs::copy(source, &tmp).map_err(|e| io(&format!("copy to {}", tmp.display()), e))?;
    let mut perms = std::fs::metadata(&tmp)
        .map_err(|e| io(&tmp.display().to_string(), e))?
        .permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(&tmp, perms).map_err(|e| io(&tmp.display().to_string(), e))?;
    std::fs::rename(&tmp, &target).map_err(|e| io(&target.display().to_string(), e))?;
    Ok(target)
}

fn string(field: &str, s: TwStr, max: usize) -> Result<String, LoadError> {
    if s.len > max {
        return Err(LoadError::Incompatible(format!(
            "{field} is {} bytes long (at most {max})",
            s.len
        )));
    }
    // SAFETY: the plugin's descriptor or table promises a readable `'static` string.
    let bytes = unsafe { tw_bytes(s) }
        .ok_or_else(|| LoadError::Incompatible(format!("{field} is a null pointer")))?;
    std::str::from_utf8(bytes)
        .map(str::to_owned)
        .map_err(|_| LoadError::Incompatible(format!("{field} is not valid UTF-8")))
}

fn read_table<T: Copy>(what: &str, ptr: *const c_void, min: u32) -> Result<T, LoadError> {
    // SAFETY: `ptr` is the plugin's table for this capability id, which the ABI says is a `T`
    // with at least `struct_size` readable bytes.
    unsafe { read_prefixed(ptr.cast::<T>(), min) }.map_err(|e| match e {
        ReadError::Null => LoadError::Faulted(format!(
            "get_capability(`{what}`) returned null though plugin.toml declares it"
        )),
        ReadError::TooSmall { .. } => LoadError::Incompatible(format!("`{what}` table: {e}")),
    })
}

fn need<F>(what: &str, slot: &str, f: Option<F>) -> Result<F, LoadError> {
    f.ok_or_else(|| LoadError::Incompatible(format!("{what}: {slot} is null")))
}

fn listed(what: &str, id: &str, list: &[String], key: &str) -> Result<(), LoadError> {
    if list.iter().any(|l| l == id) {
        Ok(())
    } else {
        Err(LoadError::Incompatible(format!(
            "{what} id `{}` is not listed under [provides] {key} in plugin.toml",
            id.escape_default()
        )))
    }
}

/// Loads the bundle, validates it, calls `init` and collects its capabilities. The library
/// stays loaded whatever happens (nothing is ever unloaded).
pub fn load(req: &LoadRequest<'_>) -> Result<LoadedPlugin, LoadError> {
    let manifest = req.manifest;
    let id = manifest.id.as_str();
    let source = req.dir.join(&manifest.library);
    let path = match req.cache_dir {
        Some(cache) => cached_copy(&source, cache, req.sha256).map_err(|e| {
            LoadError::Incompatible(format!("cannot cache the library for loading: {e}"))
        })?,
        None => source,
    };
    let actual = sha256_file(&path)
        .map_err(|e| LoadError::Incompatible(format!("{}: cannot read: {e}", path.display())))?;
    if actual != req.sha256 {
        return Err(LoadError::Incompatible(format!(
            "{} changed while it was being loaded (sha256 {actual}, checked {})",
            path.display(),
            req.sha256
        )));
    }
    // SAFETY: loading runs the library's initialisers; this is the point of no return the
    // checks above were for (trusted hash, compatible ABI), and the handle is leaked below.
    let library = unsafe { Library::open(Some(&path), RTLD_NOW | RTLD_LOCAL) }.map_err(|e| {
        LoadError::Incompatible(format!(
            "the library does not load: {}",
            e.to_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        ))
    })?;
    let library: &'static Library = Box::leak(Box::new(library));
    // SAFETY: the symbol's type is the ABI's entry point type.
    let entry: TwEntryV1 = unsafe { library.get::<TwEntryV1>(TW_ENTRY_V1_NUL) }
        .map(|symbol| *symbol)
        .map_err(|_| {
            LoadError::Incompatible(format!(
                "no `{TW_ENTRY_V1}` symbol: not a Tickwork plugin, or built for another ABI major"
            ))
        })?;
    let descriptor_ptr = {
        let _guard = journal::enter(id, "", "entry");
        // SAFETY: the entry point takes nothing and returns a static descriptor.
        unsafe { entry() }
    };
    // SAFETY: the ABI says the entry point returns null or a descriptor of `struct_size` bytes.
    let descriptor =
        unsafe { read_prefixed::<TwPluginDescriptor>(descriptor_ptr, v1_0_size::DESCRIPTOR) }
            .map_err(|e| match e {
                ReadError::Null => {
                    LoadError::Incompatible("the entry point returned a null descriptor".into())
                }
                e => LoadError::Incompatible(format!("descriptor: {e}")),
            })?;
    check_descriptor(&descriptor, manifest)?;
    let init = need("descriptor", "init", descriptor.init)?;
    let get_capability = need("descriptor", "get_capability", descriptor.get_capability)?;
    let build_info = string(
        "descriptor build_info",
        descriptor.build_info,
        MAX_INFO_BYTES,
    )?;
    let host = host_api::build(id, req.granted);
    let status = {
        let _guard = journal::enter(id, "", "init");
        // SAFETY: a validated descriptor's `init`, called once with a host table that lives
        // for the rest of the process.
        unsafe { init(host.0) }
    };
    if status != TW_OK {
        return Err(LoadError::Faulted(format!(
            "init returned {}{}",
            status_name(status),
            said(host)
        )));
    }
    let provider = Provider {
        plugin_id: manifest.id.clone(),
        plugin_version: manifest.version.clone(),
        permissions: req.granted.clone(),
    };
    let mut loaded = LoadedPlugin {
        provider,
        build_info,
        library: path,
        strategies: Vec::new(),
        margin_rules: Vec::new(),
        panels: Vec::new(),
        panels_skipped: false,
        host,
        shutdown: descriptor.shutdown,
    };
    match capabilities(&mut loaded, manifest, get_capability, req.gtk_minor) {
        Ok(()) => Ok(loaded),
        Err(LoadError::Faulted(reason)) => {
            let reason = format!("{reason}{}", said(host));
            loaded.shutdown();
            Err(LoadError::Faulted(reason))
        }
        Err(e) => {
            // `init` ran: let the plugin stop what it started before it is set aside.
            loaded.shutdown();
            Err(e)
        }
    }
}

/// `: <the plugin's last error line>`, or nothing.
fn said(host: HostApiRef) -> String {
    host_api::ctx(host)
        .take_last_error()
        .map(|line| format!("; it logged: {line}"))
        .unwrap_or_default()
}

fn check_descriptor(d: &TwPluginDescriptor, manifest: &Manifest) -> Result<(), LoadError> {
    if d.abi_major != TW_ABI_MAJOR {
        return Err(LoadError::Incompatible(format!(
            "descriptor: built for ABI major {}; this host loads ABI {TW_ABI_MAJOR}",
            d.abi_major
        )));
    }
    if d.abi_minor > TW_ABI_MINOR {
        return Err(LoadError::Incompatible(format!(
            "descriptor: built for ABI {}.{}, newer than this host's {TW_ABI_MAJOR}.{TW_ABI_MINOR}: \
             update Tickwork",
            d.abi_major, d.abi_minor
        )));
    }
    let id = string("descriptor id", d.id, MAX_NAME_BYTES)?;
    if id != manifest.id {
        return Err(LoadError::Incompatible(format!(
            "descriptor id `{}` differs from plugin.toml's `{}`",
            id.escape_default(),
            manifest.id
        )));
    }
    let version = string("descriptor version", d.version, MAX_NAME_BYTES)?;
    if version != manifest.version {
        return Err(LoadError::Incompatible(format!(
            "descriptor version `{}` differs from plugin.toml's `{}`",
            version.escape_default(),
            manifest.version
        )));
    }
    if d.flags & TW_FLAG_PANIC_UNWIND == 0 {
        return Err(LoadError::Incompatible(
            "built with panic = \"abort\" (TW_FLAG_PANIC_UNWIND is not set): its first panic \
             would take the host down; rebuild it with panic = \"unwind\""
                .into(),
        ));
    }
    Ok(())
}

type GetCapability = unsafe extern "C" fn(TwStr) -> *const c_void;

fn ask(plugin: &str, get: GetCapability, capability: &'static str) -> *const c_void {
    let _guard = journal::enter(plugin, "", "get_capability");
    // SAFETY: a validated descriptor's `get_capability`, after a successful `init`.
    unsafe { get(tw_str(capability)) }
}

fn capabilities(
    loaded: &mut LoadedPlugin,
    manifest: &Manifest,
    get: GetCapability,
    gtk_minor: Option<u32>,
) -> Result<(), LoadError> {
    let id = manifest.id.as_str();
    let provides = &manifest.provides;
    if !provides.strategies.is_empty() {
        let what = TW_CAP_STRATEGY_V1;
        let t: TwStrategyV1 = read_table(what, ask(id, get, what), v1_0_size::STRATEGY)?;
        let table = format!("`{what}` table");
        need(&table, "create", t.create)?;
        need(&table, "on_event", t.on_event)?;
        need(&table, "destroy", t.destroy)?;
        let type_id = string(&format!("{table} type_id"), t.type_id, MAX_NAME_BYTES)?;
        listed("strategy", &type_id, &provides.strategies, "strategies")?;
        loaded.strategies.push(PluginStrategy {
            provider: loaded.provider.clone(),
            type_id,
            table: StrategyTable(t),
            host: loaded.host,
        });
    }
    if !provides.margin_rules.is_empty() {
        let what = TW_CAP_MARGIN_RULE_V1;
        let t: TwMarginRuleV1 = read_table(what, ask(id, get, what), v1_0_size::MARGIN_RULE)?;
        let table = format!("`{what}` table");
        need(&table, "compute", t.compute)?;
        let rule_id = string(&format!("{table} rule_id"), t.rule_id, MAX_NAME_BYTES)?;
        listed(
            "margin rule",
            &rule_id,
            &provides.margin_rules,
            "margin_rules",
        )?;
        loaded.margin_rules.push(PluginMarginRule {
            provider: loaded.provider.clone(),
            rule_id,
            table: MarginRuleTable(t),
        });
    }
    if !provides.panels.is_empty() {
        let Some(gtk) = gtk_minor else {
            loaded.panels_skipped = true;
            return Ok(());
        };
        let what = TW_CAP_PANEL_GTK4_V1;
        let t: TwPanelGtk4V1 = read_table(what, ask(id, get, what), v1_0_size::PANEL)?;
        let table = format!("`{what}` table");
        need(&table, "create", t.create)?;
        need(&table, "on_event", t.on_event)?;
        need(&table, "destroy", t.destroy)?;
        let panel_id = string(&format!("{table} panel_id"), t.panel_id, MAX_NAME_BYTES)?;
        let title = string(&format!("{table} title"), t.title, MAX_NAME_BYTES)?;
        listed("panel", &panel_id, &provides.panels, "panels")?;
        if t.min_gtk_minor > gtk {
            return Err(LoadError::Incompatible(format!(
                "panel `{panel_id}` needs GTK 4.{}; this system runs GTK 4.{gtk}",
                t.min_gtk_minor
            )));
        }
        loaded.panels.push(PluginPanel {
            provider: loaded.provider.clone(),
            panel_id,
            title,
            table: PanelTable(t),
            host: loaded.host,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::manifest::{AbiVersion, Provides};

    fn descriptor(flags: u32, version: &'static str) -> TwPluginDescriptor {
        TwPluginDescriptor {
            struct_size: v1_0_size::DESCRIPTOR,
            abi_major: TW_ABI_MAJOR,
            abi_minor: 0,
            flags,
            _reserved: 0,
            id: tw_str("org.test.flags"),
            version: tw_str(version),
            build_info: tw_str(""),
            init: None,
            shutdown: None,
            get_capability: None,
        }
    }

    #[test]
    fn a_panic_abort_build_and_a_version_mismatch_are_refused() {
        let manifest = Manifest {
            id: "org.test.flags".into(),
            version: "1.0".into(),
            abi: AbiVersion { major: 1, minor: 0 },
            library: "lib.so".into(),
            sha256: None,
            gtk_minor: None,
            provides: Provides::default(),
            permissions: Permissions::default(),
        };
        assert_eq!(
            check_descriptor(&descriptor(TW_FLAG_PANIC_UNWIND, "1.0"), &manifest),
            Ok(())
        );
        let abort = check_descriptor(&descriptor(0, "1.0"), &manifest).unwrap_err();
        assert!(
            matches!(&abort, LoadError::Incompatible(r) if r.starts_with("built with panic = \"abort\"")),
            "{abort}"
        );
        let version = check_descriptor(&descriptor(TW_FLAG_PANIC_UNWIND, "2.0"), &manifest);
        assert_eq!(
            version,
            Err(LoadError::Incompatible(
                "descriptor version `2.0` differs from plugin.toml's `1.0`".into()
            ))
        );
        assert_eq!(status_name(77), "unknown status 77");
    }
}
