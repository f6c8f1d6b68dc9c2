//! Finding plugin bundles: directories holding a `plugin.toml`, on the search path
//! `TICKWORK_PLUGIN_PATH` (colon-separated, first), the user's data directory, then the system
//! directory. The first bundle of an id wins; later ones are reported as duplicates. Nothing
//! of a plugin runs here: only its manifest is read.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use super::manifest::{self, MANIFEST_FILE, Manifest, ManifestError};
use crate::paths::AppPaths;

/// The environment variable holding extra bundle directories, searched first.
pub const PLUGIN_PATH_ENV: &str = "TICKWORK_PLUGIN_PATH";

/// The system-wide bundle directory (distribution packages install plugins here).
pub const SYSTEM_PLUGIN_DIR: &str = "/usr/lib/tickwork/plugins";

/// The directories searched for bundles, in order: each entry of `TICKWORK_PLUGIN_PATH`
/// (`env`), the user's `…/tickwork/plugins`, then [`SYSTEM_PLUGIN_DIR`]. Empty entries are
/// skipped.
pub fn search_path(paths: &AppPaths, env: Option<&OsStr>) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = env
        .map(|v| {
            std::env::split_paths(v)
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        })
        .unwrap_or_default();
    dirs.push(paths.plugin_dir());
    dirs.push(PathBuf::from(SYSTEM_PLUGIN_DIR));
    dirs
}

/// One bundle found on the search path.
#[derive(Debug, Clone)]
pub struct Found {
    /// The bundle directory.
    pub dir: PathBuf,
    /// Its manifest, or why it cannot be used.
    pub manifest: Result<Manifest, ManifestError>,
    /// Set when an earlier bundle on the search path has the same id: that one wins.
    pub shadowed_by: Option<PathBuf>,
}

impl Found {
    /// The plugin id, or the directory's name when the manifest is unreadable.
    pub fn id(&self) -> String {
        match &self.manifest {
            Ok(m) => m.id.clone(),
            Err(_) => self.dir.file_name().map_or_else(
                || self.dir.display().to_string(),
                |n| n.to_string_lossy().into(),
            ),
        }
    }
}

/// Every bundle on `search` in order: a directory on the path that holds `plugin.toml` is a
/// bundle itself; otherwise each of its sub-directories holding one is (in name order). Missing
/// directories are skipped quietly (the system one usually does not exist).
pub fn discover(search: &[PathBuf]) -> Vec<Found> {
    let mut found: Vec<Found> = Vec::new();
    for dir in search {
        for bundle in bundles_in(dir) {
            let manifest = manifest::load(&bundle.join(MANIFEST_FILE));
            let shadowed_by = manifest.as_ref().ok().and_then(|m| {
                found
                    .iter()
                    .find(|f| f.manifest.as_ref().is_ok_and(|e| e.id == m.id))
                    .map(|f| f.dir.clone())
            });
            found.push(Found {
                dir: bundle,
                manifest,
                shadowed_by,
            });
        }
    }
    found
}

fn bundles_in(dir: &Path) -> Vec<PathBuf> {
    if dir.join(MANIFEST_FILE).is_file() {
        return vec![dir.to_path_buf()];
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut bundles: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join(MANIFEST_FILE).is_file())
        .collect();
    bundles.sort();
    bundles
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle(dir: &Path, name: &str, id: &str) -> PathBuf {
        let b = dir.join(name);
        std::fs::create_dir_all(&b).unwrap();
        std::fs::write(
            b.join(MANIFEST_FILE),
            format!("id = \"{id}\"\nversion = \"1.0\"\nabi = \"1.0\"\nlibrary = \"lib.so\"\n"),
        )
        .unwrap();
        b
    }

    #[test]
    fn the_env_path_comes_first_then_user_then_system() {
        let paths = AppPaths {
            config_dir: "/c".into(),
            data_dir: "/d/tickwork".into(),
            state_dir: "/s".into(),
            cache_dir: "/k".into(),
        };
        let dirs = search_path(&paths, Some(OsStr::new("/a::/b")));
        assert_eq!(
            dirs,
            [
                PathBuf::from("/a"),
                "/b".into(),
                "/d/tickwork/plugins".into(),
                SYSTEM_PLUGIN_DIR.into()
            ]
        );
        assert_eq!(search_path(&paths, None).len(), 2);
    }

    #[test]
    fn first_bundle_of_an_id_wins_and_duplicates_are_reported() {
        let tmp = tempfile::tempdir().unwrap();
        let first = tmp.path().join("first");
        let second = tmp.path().join("second");
        let a = bundle(&first, "b-pairs", "com.example.pairs");
        bundle(&first, "a-rule", "com.example.rule");
        let dup = bundle(&second, "pairs", "com.example.pairs");
        // A directory on the path that is itself a bundle.
        let direct = bundle(tmp.path(), "direct", "com.example.direct");
        std::fs::create_dir_all(second.join("not-a-bundle")).unwrap();
        let bad = second.join("broken");
        std::fs::create_dir_all(&bad).unwrap();
        std::fs::write(bad.join(MANIFEST_FILE), "id = 3").unwrap();

        let found = discover(&[
            first.clone(),
            second.clone(),
            direct.clone(),
            tmp.path().join("missing"),
        ]);
        let ids: Vec<String> = found.iter().map(Found::id).collect();
        assert_eq!(
            ids,
            [
                "com.example.rule",
                "com.example.pairs",
                "broken",
                "com.example.pairs",
                "com.example.direct"
            ]
        );
        assert_eq!(found[1].dir, a);
        assert!(found[1].shadowed_by.is_none());
        assert_eq!(found[3].dir, dup);
        assert_eq!(found[3].shadowed_by.as_deref(), Some(a.as_path()));
        let err = found[2].manifest.as_ref().unwrap_err().to_string();
        assert!(err.contains("broken/plugin.toml: id: "), "{err}");
        assert_eq!(found[4].dir, direct);
    }
}
