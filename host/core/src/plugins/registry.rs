//! The plugins of this installation: [`scan`] reports every bundle on the search path with its
//! status (running none of their code), [`load_all`] loads the eligible ones into this process
//! once, registers their margin rules and hands back their capabilities. At start-up both read
//! the crash journals of processes that died in a plugin call and disable those plugins.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;
use sqlx::PgPool;

use super::capability::{PluginMarginRule, PluginPanel, PluginStrategy};
use super::discovery::{self, PLUGIN_PATH_ENV};
use super::journal;
use super::library::{self, LoadError, LoadRequest, LoadedPlugin};
use super::manifest::{self, MANIFEST_FILE, Manifest, Provides};
use super::margin_rule;
use super::permissions::Permissions;
use super::trust::{self, PluginStatus};
use crate::paths::AppPaths;
use crate::store::StoreError;
use crate::store::plugins::{self as store, FaultOutcome};

/// Where plugins are looked for and kept, and what the running host offers them.
#[derive(Debug, Clone)]
pub struct PluginEnv {
    /// Searched in order; see [`discovery::search_path`].
    pub search_path: Vec<PathBuf>,
    /// Libraries are copied here (by hash) before loading.
    pub cache_dir: PathBuf,
    /// The crash journals.
    pub journal_dir: PathBuf,
    /// The running GTK 4 minor (`gtk::minor_version()`), `None` without a display: panels
    /// are then skipped, which is not an error.
    pub gtk_minor: Option<u32>,
}

impl PluginEnv {
    /// The user's directories and `TICKWORK_PLUGIN_PATH` from the environment.
    pub fn from_paths(paths: &AppPaths, gtk_minor: Option<u32>) -> Self {
        let env: Option<OsString> = std::env::var_os(PLUGIN_PATH_ENV);
        Self {
            search_path: discovery::search_path(paths, env.as_deref()),
            cache_dir: paths.plugin_cache_dir(),
            journal_dir: paths.plugin_journal_dir(),
            gtk_minor,
        }
    }
}

/// One bundle as the user sees it (`tickwork plugins list`, the Plugins panel).
#[derive(Debug, Clone, Serialize)]
pub struct PluginReport {
    /// The bundle directory.
    pub dir: PathBuf,
    /// The manifest's id, or the directory's name when the manifest is unusable.
    pub id: String,
    pub version: Option<String>,
    /// `MAJOR.MINOR` from the manifest.
    pub abi: Option<String>,
    /// The library's actual SHA-256, when it could be read.
    pub sha256: Option<String>,
    pub provides: Provides,
    /// What the manifest asks for (`orders:submit:paper`, …).
    pub permissions_asked: Vec<String>,
    /// What the allowlist grants, when the plugin is in it.
    pub permissions_granted: Option<Vec<String>>,
    #[serde(flatten)]
    pub status: PluginStatus,
    #[serde(skip)]
    manifest: Option<Manifest>,
    /// Passed every check and enabled: may be loaded.
    #[serde(skip)]
    eligible: bool,
    #[serde(skip)]
    granted: Permissions,
    /// A load attempted in this process that failed, not yet recorded in the allowlist.
    #[serde(skip)]
    failed: Option<LoadError>,
}

impl PluginReport {
    /// The parsed manifest, when it is usable.
    pub fn manifest(&self) -> Option<&Manifest> {
        self.manifest.as_ref()
    }

    fn new(dir: &Path, id: String, status: PluginStatus) -> Self {
        Self {
            dir: dir.to_path_buf(),
            id,
            version: None,
            abi: None,
            sha256: None,
            provides: Provides::default(),
            permissions_asked: Vec::new(),
            permissions_granted: None,
            status,
            manifest: None,
            eligible: false,
            granted: Permissions::default(),
            failed: None,
        }
    }
}

/// The outcome of [`load_all`]: every bundle's report and the capabilities loaded.
#[derive(Debug, Clone, Default)]
pub struct LoadedPlugins {
    pub reports: Vec<PluginReport>,
    /// The plugins loaded into this process (including ones an earlier call loaded).
    pub plugins: Vec<LoadedPlugin>,
}

impl LoadedPlugins {
    /// Every loaded strategy type (for the strategy manager).
    pub fn strategies(&self) -> Vec<PluginStrategy> {
        self.plugins
            .iter()
            .flat_map(|p| p.strategies.clone())
            .collect()
    }

    /// Every loaded margin rule (already registered with the margin check by [`load_all`]).
    pub fn margin_rules(&self) -> Vec<PluginMarginRule> {
        self.plugins
            .iter()
            .flat_map(|p| p.margin_rules.clone())
            .collect()
    }

    /// Every loaded panel (for the panel registry; create them on the GTK main thread).
    pub fn panels(&self) -> Vec<PluginPanel> {
        self.plugins.iter().flat_map(|p| p.panels.clone()).collect()
    }
}

/// The plugins loaded into this process, by id: a library is loaded and initialised once.
static LOADED: Mutex<Vec<LoadedPlugin>> = Mutex::new(Vec::new());
static SHUT_DOWN: Mutex<bool> = Mutex::new(false);

fn loaded_by_id(id: &str) -> Option<LoadedPlugin> {
    LOADED
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .find(|p| p.provider.plugin_id == id)
        .cloned()
}

/// Every plugin loaded into this process so far.
pub fn loaded() -> Vec<LoadedPlugin> {
    LOADED.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

/// The reason stored for a plugin that was in a call when its process died.
pub fn crash_reason(record: &journal::Record) -> String {
    let instance = if record.instance.is_empty() {
        String::new()
    } else {
        format!(" (instance {})", record.instance)
    };
    format!(
        "crashed in `{}`{instance} at {} UTC; re-enable with `tickwork plugins enable {}`",
        record.slot,
        record.started.format("%Y-%m-%d %H:%M"),
        record.plugin
    )
}

/// Disables the plugins the crash journals of dead processes name (and tells the log); the
/// journals are removed once the allowlist says so.
pub async fn recover_crashes(pool: &PgPool, journal_dir: &Path) -> Result<Vec<String>, StoreError> {
    let recovered = journal::recover(journal_dir);
    let mut disabled = Vec::new();
    for record in &recovered.crashed {
        let reason = crash_reason(record);
        if store::set_enabled(pool, &record.plugin, false, Some(&reason)).await? {
            tracing::error!(plugin = %record.plugin, "plugin disabled: {reason}");
            disabled.push(record.plugin.clone());
        }
    }
    recovered.finish();
    Ok(disabled)
}

/// Every bundle on the search path with its status. Runs no plugin code: manifests are read,
/// libraries hashed, the allowlist consulted; crash journals of dead processes are acted on
/// first, so a plugin that crashed the last run shows as disabled with the reason.
pub async fn scan(pool: &PgPool, env: &PluginEnv) -> Result<Vec<PluginReport>, StoreError> {
    recover_crashes(pool, &env.journal_dir).await?;
    let trusted: HashMap<String, store::TrustedPlugin> = store::list(pool)
        .await?
        .into_iter()
        .map(|t| (t.id.clone(), t))
        .collect();
    let found = discovery::discover(&env.search_path);
    let mut reports = Vec::with_capacity(found.len());
    for bundle in found {
        let id = bundle.id();
        let manifest = match bundle.manifest {
            Ok(m) => m,
            Err(e) => {
                reports.push(PluginReport::new(
                    &bundle.dir,
                    id,
                    PluginStatus::Incompatible(e.to_string()),
                ));
                continue;
            }
        };
        let row = trusted.get(&manifest.id);
        let mut report = PluginReport {
            version: Some(manifest.version.clone()),
            abi: Some(manifest.abi.to_string()),
            provides: manifest.provides.clone(),
            permissions_asked: manifest.permissions.to_strings(),
            permissions_granted: row.map(|r| r.permissions.clone()),
            ..PluginReport::new(&bundle.dir, id, PluginStatus::Trusted)
        };
        let (status, eligible) = status_of(
            &bundle.dir,
            &manifest,
            bundle.shadowed_by.as_deref(),
            row,
            env,
            &mut report.sha256,
        );
        report.status = status;
        if eligible {
            report.eligible = true;
            report.granted = row.and_then(|r| trust::granted(r).ok()).unwrap_or_default();
        }
        report.manifest = Some(manifest);
        reports.push(report);
    }
    Ok(reports)
}

/// The status of a bundle, and whether it may be loaded (trusted and enabled: a plugin that
/// failed at the last start is tried again).
fn status_of(
    dir: &Path,
    manifest: &Manifest,
    shadowed_by: Option<&Path>,
    row: Option<&store::TrustedPlugin>,
    env: &PluginEnv,
    sha256: &mut Option<String>,
) -> (PluginStatus, bool) {
    if let Some(first) = shadowed_by {
        let reason = format!(
            "duplicate: {} is already provided by {} (the first on the search path wins)",
            manifest.id,
            first.display()
        );
        return (PluginStatus::Incompatible(reason), false);
    }
    if let Err(e) = trust::check_compatible(manifest, env.gtk_minor) {
        return (PluginStatus::Incompatible(e), false);
    }
    let library = dir.join(&manifest.library);
    if !library.is_file() {
        let reason = format!("library {} is missing", library.display());
        return (PluginStatus::Incompatible(reason), false);
    }
    match trust::library_hash(dir, manifest) {
        Err(e) => {
            *sha256 = trust::sha256_file(&library).ok();
            (PluginStatus::Untrusted(e), false)
        }
        Ok(hash) => {
            let status = trust::decide(dir, manifest, &hash, row);
            *sha256 = Some(hash);
            let eligible = matches!(
                status,
                PluginStatus::Trusted | PluginStatus::Faulted(_) | PluginStatus::Incompatible(_)
            );
            (status, eligible)
        }
    }
}

/// Loads the eligible bundles of `reports` into this process (on the calling thread: for the
/// workbench that is the GTK main thread, where `init` must run) and updates their status. A
/// plugin loaded by an earlier call is not loaded again. Margin rules are registered with the
/// margin check. Failures are kept in the reports for [`record`].
pub fn load_eligible(env: &PluginEnv, reports: &mut [PluginReport]) -> Vec<LoadedPlugin> {
    if let Err(e) = journal::start(&env.journal_dir) {
        tracing::warn!(
            dir = %env.journal_dir.display(),
            "plugin crash journal unavailable ({e}): a crash in a plugin will not disable it"
        );
    }
    let mut out = Vec::new();
    for report in reports.iter_mut().filter(|r| r.eligible) {
        if let Some(done) = loaded_by_id(&report.id) {
            report.status = PluginStatus::Loaded;
            out.push(done);
            continue;
        }
        let (Some(manifest), Some(sha256)) = (&report.manifest, &report.sha256) else {
            continue;
        };
        let request = LoadRequest {
            dir: &report.dir,
            manifest,
            sha256,
            granted: &report.granted,
            cache_dir: Some(&env.cache_dir),
            gtk_minor: env.gtk_minor,
        };
        match library::load(&request) {
            Ok(plugin) => {
                for rule in &plugin.margin_rules {
                    if let Err(e) = margin_rule::register(rule) {
                        tracing::error!(plugin = %report.id, "margin rule not registered: {e}");
                    }
                }
                tracing::info!(
                    plugin = %report.id,
                    version = %plugin.provider.plugin_version,
                    build = %plugin.build_info,
                    strategies = plugin.strategies.len(),
                    margin_rules = plugin.margin_rules.len(),
                    panels = plugin.panels.len(),
                    panels_skipped = plugin.panels_skipped,
                    "plugin loaded"
                );
                report.status = PluginStatus::Loaded;
                report.failed = None;
                LOADED
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(plugin.clone());
                out.push(plugin);
            }
            Err(e) => {
                tracing::warn!(plugin = %report.id, "plugin not loaded: {}: {e}", e.kind());
                report.status = e.status();
                report.failed = Some(e);
            }
        }
    }
    out
}

/// Stores what [`load_eligible`] found: a failure is remembered (a fault counts towards
/// disabling the plugin, which the report then shows), a success forgets the last failure.
pub async fn record(pool: &PgPool, reports: &mut [PluginReport]) -> Result<(), StoreError> {
    for report in reports.iter_mut() {
        match (&report.status, report.failed.take()) {
            (PluginStatus::Loaded, _) => store::clear_error(pool, &report.id).await?,
            (_, Some(failure)) => {
                let outcome =
                    store::record_error(pool, &report.id, failure.kind(), &failure.to_string())
                        .await?;
                if let FaultOutcome::Disabled(n) = outcome {
                    report.status =
                        PluginStatus::Disabled(format!("faulted {n} times; last: {failure}"));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Scans, loads the eligible plugins and records the outcome: what `tickwork headless` and the
/// workbench call at start-up.
pub async fn load_all(pool: &PgPool, env: &PluginEnv) -> Result<LoadedPlugins, StoreError> {
    let mut reports = scan(pool, env).await?;
    let plugins = load_eligible(env, &mut reports);
    record(pool, &mut reports).await?;
    Ok(LoadedPlugins { reports, plugins })
}

/// Counts a fault of a loaded plugin (a strategy instance that panicked): after
/// [`store::MAX_FAULTS`] the plugin is disabled for the next start, and the log says so.
pub async fn record_fault(
    pool: &PgPool,
    plugin_id: &str,
    reason: &str,
) -> Result<FaultOutcome, StoreError> {
    let outcome = store::record_error(pool, plugin_id, "faulted", reason).await?;
    if let FaultOutcome::Disabled(n) = outcome {
        tracing::error!(
            plugin = plugin_id,
            "plugin disabled after {n} faults; last: {reason}"
        );
    }
    Ok(outcome)
}

/// Calls every loaded plugin's `shutdown` once and marks the crash journal clean: call at an
/// orderly exit (the libraries stay loaded).
pub fn shutdown_all() {
    let mut done = SHUT_DOWN.lock().unwrap_or_else(|p| p.into_inner());
    if !*done {
        for plugin in loaded() {
            plugin.shutdown();
        }
        *done = true;
    }
    journal::finish_clean();
}

/// Loads the bundle in `dir` in this process without the allowlist, the cache or the journal,
/// and without granting any permission: what `tickwork plugins verify` runs in a throwaway
/// child process. Returns a one-line summary, or the one-line reason it fails.
pub fn probe(dir: &Path) -> Result<String, String> {
    let manifest = manifest::load(&dir.join(MANIFEST_FILE)).map_err(|e| e.to_string())?;
    trust::check_compatible(&manifest, None)?;
    let sha256 = trust::library_hash(dir, &manifest)?;
    let none = Permissions::default();
    let request = LoadRequest {
        dir,
        manifest: &manifest,
        sha256: &sha256,
        granted: &none,
        cache_dir: None,
        gtk_minor: None,
    };
    let plugin = library::load(&request).map_err(|e| format!("{}: {e}", e.kind()))?;
    plugin.shutdown();
    let mut offers: Vec<String> = Vec::new();
    offers.extend(
        plugin
            .strategies
            .iter()
            .map(|s| format!("strategy {}", s.type_id)),
    );
    offers.extend(
        plugin
            .margin_rules
            .iter()
            .map(|r| format!("margin rule {}", r.rule_id)),
    );
    if plugin.panels_skipped {
        offers.extend(
            manifest
                .provides
                .panels
                .iter()
                .map(|p| format!("panel {p} (not created)")),
        );
    }
    Ok(format!(
        "{} {} (ABI {}, {}) loads: {}",
        manifest.id,
        manifest.version,
        manifest.abi,
        plugin.build_info,
        if offers.is_empty() {
            "offers nothing".to_owned()
        } else {
            offers.join(", ")
        }
    ))
}
