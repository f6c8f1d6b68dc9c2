//! Running the real `tickwork` binary in a private XDG environment.

#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A throwaway home for one test: XDG dirs, a config file, an embedded-cluster directory.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        // The embedded server may run as another user (root runs it as `postgres`).
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let sandbox = Self { dir };
        sandbox.write_config(&format!(
            "[database]\nembedded_dir = \"{}\"\n",
            sandbox.pg_root().display()
        ));
        sandbox
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn pg_root(&self) -> PathBuf {
        self.path().join("pg")
    }

    pub fn config_file(&self) -> PathBuf {
        self.path().join("config/tickwork/config.toml")
    }

    pub fn write_config(&self, text: &str) {
        let file = self.config_file();
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }

    /// `tickwork` with this sandbox's XDG dirs and no database URL from the outside.
    pub fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tickwork"));
        command
            .env("XDG_CONFIG_HOME", self.path().join("config"))
            .env("XDG_DATA_HOME", self.path().join("data"))
            .env("XDG_STATE_HOME", self.path().join("state"))
            .env(
                "TICKWORK_KEYRING_SERVICE",
                format!("tickwork-test-{}", std::process::id()),
            )
            .env_remove("TICKWORK_DATABASE_URL")
            .env_remove("TICKWORK_CONFIG")
            .env_remove("RUST_LOG");
        command
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().unwrap()
    }

    /// Whether the embedded server of this sandbox is running.
    pub fn server_running(&self) -> bool {
        let Ok(text) = std::fs::read_to_string(self.pg_root().join("data/postmaster.pid")) else {
            return false;
        };
        text.lines()
            .next()
            .and_then(|pid| pid.trim().parse::<i32>().ok())
            .is_some_and(|pid| Path::new(&format!("/proc/{pid}/cmdline")).exists())
    }
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The single `tickwork: error:` line of a failed run.
pub fn error_line(output: &Output) -> String {
    assert!(
        !output.status.success(),
        "expected failure, got {:?}",
        output.status
    );
    let text = stderr(output);
    let errors: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("tickwork: error:"))
        .collect();
    assert_eq!(
        errors.len(),
        1,
        "exactly one error line expected in:\n{text}"
    );
    errors[0].to_owned()
}

/// A child process that is killed if the test ends early (a failed assertion), so no
/// workbench outlives its test.
pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// A fresh database on the test PostgreSQL server (`DATABASE_URL`, as for the core tests),
/// for tests that read what Tickwork wrote; dropped again at the end of the test.
pub struct TestDatabase {
    admin_url: String,
    pub name: String,
}

impl TestDatabase {
    pub fn create(tag: &str) -> Self {
        let admin_url = std::env::var("DATABASE_URL").expect(
            "DATABASE_URL must name a test PostgreSQL superuser connection (dev/test.sh sets it)",
        );
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!("tickwork_{tag}_{}_{nanos}", std::process::id());
        let db = Self { admin_url, name };
        db.psql_on(&db.admin_url, &format!("CREATE DATABASE {}", db.name));
        db
    }

    /// The URL of this database, as a user would configure it (no password).
    pub fn url(&self) -> String {
        with_database(&self.admin_url, &self.name)
    }

    /// Runs SQL with psql; returns its unaligned output.
    pub fn psql(&self, sql: &str) -> String {
        self.psql_on(&self.url(), sql)
    }

    /// Everything in the database as SQL text (schema and data).
    pub fn dump(&self) -> String {
        let output = Command::new("pg_dump")
            .arg("--no-password")
            .arg(self.url())
            .output()
            .expect("pg_dump must be installed (PostgreSQL client)");
        assert!(output.status.success(), "pg_dump: {}", stderr(&output));
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn psql_on(&self, url: &str, sql: &str) -> String {
        let output = Command::new("psql")
            .args([
                "--no-password",
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
            ])
            .arg(url)
            .arg("-c")
            .arg(sql)
            .output()
            .expect("psql must be installed (PostgreSQL client)");
        assert!(output.status.success(), "psql `{sql}`: {}", stderr(&output));
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .args(["--no-password", "-X", "-q"])
            .arg(&self.admin_url)
            .arg("-c")
            .arg(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .output();
    }
}

/// `url` with its database (the path) replaced by `name`, query kept.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(query) => format!("{host_part}/{name}?{query}"),
        None => format!("{host_part}/{name}"),
    }
}

/// A plugin library of the workspace (`cargo build -p PACKAGE`, next to the `tickwork` binary
/// under test), built once per test process; `file` is its `lib….so` name.
pub fn plugin_library(package: &str, file: &str) -> PathBuf {
    static BUILT: std::sync::Mutex<Vec<(String, PathBuf)>> = std::sync::Mutex::new(Vec::new());
    let mut built = BUILT.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, path)) = built.iter().find(|(p, _)| p == package) {
        return path.clone();
    }
    let workspace = concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.toml");
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_tickwork"));
    let profile_dir = exe.parent().unwrap().to_path_buf();
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo
        .args(["build", "--quiet", "-p", package, "--manifest-path"])
        .arg(workspace);
    if profile_dir.ends_with("release") {
        cargo.arg("--release");
    }
    let status = cargo
        .status()
        .expect("cargo must be runnable from the tests");
    assert!(status.success(), "building {package} failed");
    let library = profile_dir.join(file);
    assert!(library.is_file(), "{} missing", library.display());
    built.push((package.to_owned(), library.clone()));
    library
}

/// Packs `manifest` (a template without sha256) and `library` into `out` with
/// `tickwork plugins pack`.
pub fn pack_bundle(manifest: &Path, library: &Path, out: &Path) {
    let output = Command::new(env!("CARGO_BIN_EXE_tickwork"))
        .args(["plugins", "pack", "--manifest"])
        .arg(manifest)
        .arg("--library")
        .arg(library)
        .arg("--out")
        .arg(out)
        .env_remove("TICKWORK_DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "tickwork plugins pack: {}",
        stderr(&output)
    );
}
