//! Plugin strategies in end-to-end tests: bundles packed from the workspace's plugin crates and
//! trusted, a plugin strategy manager on a live paper session, and its final statuses.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::PgPool;
use tickwork_core::plugins::permissions::Permissions;
use tickwork_core::plugins::strategy::{
    PluginStrategies, PluginStrategyEvent, PluginStrategyStatus,
};
use tickwork_core::plugins::{PluginEnv, trust};
use tokio::sync::broadcast;

use crate::bounded;

/// The built library of a workspace plugin crate, built now if it is not there yet.
pub fn built_library(package: &str, file: &str) -> PathBuf {
    // target/<profile>/deps/<this test> → target/<profile>
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap();
    let path = dir.join(file);
    if !path.is_file() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = std::process::Command::new(cargo)
            .args(["build", "-p", package])
            .status()
            .unwrap();
        assert!(status.success(), "cargo build -p {package}");
    }
    assert!(path.is_file(), "{} was not built", path.display());
    path
}

/// A bundle of `plugin_dir`'s manifest template (with `edits`: text replacements) and its
/// built library under `root`, with the library's hash added, trusted with `permissions`;
/// answers the bundle's search path entry.
pub async fn trusted_bundle(
    pool: &PgPool,
    root: &Path,
    plugin_dir: &str,
    package: &str,
    permissions: &Permissions,
    edits: &[(&str, &str)],
) -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut template = std::fs::read_to_string(repo.join(plugin_dir).join("plugin.toml")).unwrap();
    for (from, to) in edits {
        assert!(
            template.contains(from),
            "{plugin_dir}/plugin.toml has no `{from}`"
        );
        template = template.replace(from, to);
    }
    let manifest: toml::Table = toml::from_str(&template).unwrap();
    let library_file = manifest["library"].as_str().unwrap();
    let library = built_library(package, library_file);
    let sha256 = trust::sha256_file(&library).unwrap();
    let bundles = root.join("bundles");
    let bundle = bundles.join(plugin_dir.rsplit('/').next().unwrap());
    std::fs::create_dir_all(&bundle).unwrap();
    std::fs::copy(&library, bundle.join(library_file)).unwrap();
    let packed = template.replace(
        &format!("library = \"{library_file}\"\n"),
        &format!("library = \"{library_file}\"\nsha256 = \"{sha256}\"\n"),
    );
    std::fs::write(bundle.join("plugin.toml"), packed).unwrap();
    let id = manifest["id"].as_str().unwrap();
    let version = manifest["version"].as_str().unwrap();
    tickwork_core::store::plugins::trust(pool, id, version, &sha256, &permissions.to_strings())
        .await
        .unwrap();
    bundles
}

pub fn plugin_env(root: &Path, search: PathBuf) -> PluginEnv {
    PluginEnv {
        search_path: vec![search],
        cache_dir: root.join("cache"),
        journal_dir: root.join("journal"),
        gtk_minor: None,
    }
}

/// The manager on a live paper session; the watchdog allows each call 500 ms.
pub async fn paper_manager(
    pool: &PgPool,
    client_id: i32,
) -> (
    tickwork_sim::SimHandle,
    crate::Workbench,
    PluginStrategies,
    String,
) {
    let (sim, bench, deps, account) = crate::paper_deps(pool, client_id).await;
    let manager = PluginStrategies::with_call_limit(deps, Duration::from_millis(500));
    (sim, bench, manager, account)
}

/// Waits for the instance's status other than running.
pub async fn final_status(
    events: &mut broadcast::Receiver<PluginStrategyEvent>,
    name: &str,
) -> (PluginStrategyStatus, String) {
    bounded("plugin strategy ends", async {
        loop {
            match events.recv().await {
                Ok(PluginStrategyEvent::Status {
                    instance,
                    status,
                    detail,
                }) if instance == name && status != PluginStrategyStatus::Running => {
                    return (status, detail.unwrap_or_default());
                }
                Ok(_) => {}
                Err(e) => panic!("manager events: {e}"),
            }
        }
    })
    .await
}
