//! `tickwork plugins …`: the native plugins of this installation (docs/operations.md,
//! "Plugins"). `list` shows every bundle on the search path with its status; `verify` checks a
//! bundle (manifest, ABI, library hash, and a trial load in a throwaway child process) without
//! loading it into the app; `trust`, `revoke`, `enable` and `disable` edit the allowlist (each
//! change audited); `pack` writes a bundle with its library's hash filled in.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use tickwork_core::plugins::manifest::{self, MANIFEST_FILE};
use tickwork_core::plugins::registry::{self, PluginEnv, PluginReport};
use tickwork_core::plugins::trust;
use tickwork_core::plugins::{discovery, grant};
use tickwork_core::store::{Store, open};

use crate::cli::PluginsCommand;
use crate::context::{Context, runtime};

/// How long the trial load of `verify` may take before the child is killed.
const PROBE_TIMEOUT: Duration = Duration::from_secs(20);

/// The running GTK 4 minor, as the workbench would check panels against it.
fn gtk_minor() -> Option<u32> {
    Some(gtk::minor_version())
}

/// The commands that need neither the config nor the database: `verify`, `pack` and the
/// hidden `probe`. `None` when `command` is one of the others.
pub fn run_offline(command: &PluginsCommand) -> Option<anyhow::Result<()>> {
    Some(match command {
        PluginsCommand::Verify { bundle } => verify(bundle),
        PluginsCommand::Pack {
            manifest,
            library,
            out,
        } => pack(manifest, library, out),
        PluginsCommand::Probe { bundle } => probe(bundle),
        _ => return None,
    })
}

pub fn run(ctx: &Context, command: PluginsCommand) -> anyhow::Result<()> {
    if let Some(result) = run_offline(&command) {
        return result;
    }
    let env = PluginEnv::from_paths(&ctx.paths, gtk_minor());
    let target = ctx.database_target()?;
    runtime()?.block_on(async move {
        let opened = open(target, true).await?;
        let result = match command {
            PluginsCommand::List { json } => list(&opened.store, &env, json).await,
            PluginsCommand::Trust { bundle } => trust_bundle(&opened.store, &env, &bundle).await,
            PluginsCommand::Revoke { id } => revoke(&opened.store, &id).await,
            PluginsCommand::Enable { id } => set_enabled(&opened.store, &id, true).await,
            PluginsCommand::Disable { id } => set_enabled(&opened.store, &id, false).await,
            PluginsCommand::Verify { .. }
            | PluginsCommand::Pack { .. }
            | PluginsCommand::Probe { .. } => Ok(()),
        };
        opened.close().await?;
        result
    })
}

async fn list(store: &Store, env: &PluginEnv, as_json: bool) -> anyhow::Result<()> {
    let reports = registry::scan(store.pool(), env).await?;
    let mut out = std::io::stdout().lock();
    if as_json {
        writeln!(out, "{}", serde_json::to_string_pretty(&reports)?)?;
        return Ok(());
    }
    if reports.is_empty() {
        writeln!(
            out,
            "no plugin bundles found in: {}",
            env.search_path
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )?;
        return Ok(());
    }
    for report in &reports {
        print_report(&mut out, report)?;
    }
    Ok(())
}

fn print_report(out: &mut impl std::io::Write, r: &PluginReport) -> std::io::Result<()> {
    writeln!(
        out,
        "{} {} (ABI {}): {}",
        r.id,
        r.version.as_deref().unwrap_or("?"),
        r.abi.as_deref().unwrap_or("?"),
        r.status.name()
    )?;
    writeln!(out, "  bundle: {}", r.dir.display())?;
    if let Some(reason) = r.status.reason() {
        writeln!(out, "  reason: {reason}")?;
    }
    if let Some(hash) = &r.sha256 {
        writeln!(out, "  sha256: {hash}")?;
    }
    let provides: Vec<String> = [
        ("panel", &r.provides.panels),
        ("strategy", &r.provides.strategies),
        ("margin rule", &r.provides.margin_rules),
    ]
    .iter()
    .flat_map(|(kind, ids)| ids.iter().map(move |id| format!("{kind} {id}")))
    .collect();
    if !provides.is_empty() {
        writeln!(out, "  provides: {}", provides.join(", "))?;
    }
    let asked = if r.permissions_asked.is_empty() {
        "none".to_owned()
    } else {
        r.permissions_asked.join(", ")
    };
    let granted = match &r.permissions_granted {
        None => "not trusted".to_owned(),
        Some(g) if g.is_empty() => "none".to_owned(),
        Some(g) => g.join(", "),
    };
    writeln!(out, "  permissions: asks {asked}; granted {granted}")
}

/// Fails `verify` with the one line `BUNDLE_DIR: reason`.
fn refuse(bundle: &Path, reason: &str) -> anyhow::Result<()> {
    let reason = reason.split_whitespace().collect::<Vec<_>>().join(" ");
    eprintln!("{}: {reason}", bundle.display());
    std::process::exit(1);
}

fn verify(bundle: &Path) -> anyhow::Result<()> {
    let manifest = match manifest::load(&bundle.join(MANIFEST_FILE)) {
        Ok(m) => m,
        Err(e) => return refuse(bundle, &e.to_string()),
    };
    if let Err(e) = trust::check_compatible(&manifest, gtk_minor()) {
        return refuse(bundle, &format!("plugin.toml: abi: {e}"));
    }
    if manifest.sha256.is_none() {
        return refuse(
            bundle,
            "plugin.toml: sha256: missing, so the library cannot be checked (`tickwork plugins \
             pack` writes a bundle with it)",
        );
    }
    let hash = match trust::library_hash(bundle, &manifest) {
        Ok(hash) => hash,
        Err(e) => return refuse(bundle, &e),
    };
    match trial_load(bundle) {
        Ok(summary) => {
            println!("{}: ok: {summary}; sha256 {hash}", bundle.display());
            Ok(())
        }
        Err(reason) => refuse(bundle, &reason),
    }
}

/// Runs `tickwork plugins probe BUNDLE` and reads its one line: the plugin's code runs in
/// that child, so a crash or a hang there is a verdict, not the end of this command.
fn trial_load(bundle: &Path) -> Result<String, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find tickwork itself: {e}"))?;
    let mut child = Command::new(exe)
        .args(["plugins", "probe"])
        .arg(bundle)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start the trial load: {e}"))?;
    let started = Instant::now();
    let status: ExitStatus = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > PROBE_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "the trial load did not finish within {} s (a busy loop in the entry point, \
                     init or get_capability?)",
                    PROBE_TIMEOUT.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("the trial load: {e}")),
        }
    };
    let mut stdout = String::new();
    let mut stderr = String::new();
    if let Some(mut s) = child.stdout.take() {
        let _ = s.read_to_string(&mut stdout);
    }
    if let Some(mut s) = child.stderr.take() {
        let _ = s.read_to_string(&mut stderr);
    }
    let line = stdout.lines().last().unwrap_or("").trim().to_owned();
    if status.success() {
        return Ok(line);
    }
    if !line.is_empty() {
        return Err(line);
    }
    use std::os::unix::process::ExitStatusExt as _;
    let last_words = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| format!(" (last output: {})", l.trim()))
        .unwrap_or_default();
    Err(match status.signal() {
        Some(signal) => format!(
            "the library killed the trial load process with signal {signal} ({}){last_words}",
            nix::sys::signal::Signal::try_from(signal).map_or("unknown", |s| s.as_str())
        ),
        None => format!("the trial load failed ({status}){last_words}"),
    })
}

/// The hidden child of `verify`: loads the bundle here and prints one line.
fn probe(bundle: &Path) -> anyhow::Result<()> {
    let _log = tickwork_core::logging::init(tickwork_core::config::LogLevel::Warn, None)?;
    match registry::probe(bundle) {
        Ok(summary) => {
            println!("{summary}");
            Ok(())
        }
        Err(reason) => {
            println!("{reason}");
            std::process::exit(1);
        }
    }
}

/// Whether `dir` is one of the bundles found on the search path.
fn on_search_path(env: &PluginEnv, dir: &Path) -> bool {
    let wanted = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    discovery::discover(&env.search_path)
        .iter()
        .any(|f| f.dir.canonicalize().is_ok_and(|d| d == wanted))
}

async fn trust_bundle(store: &Store, env: &PluginEnv, bundle: &Path) -> anyhow::Result<()> {
    let shown = bundle.display();
    let trusted = grant::trust_bundle(store.pool(), bundle, env.gtk_minor, "cli")
        .await
        .map_err(anyhow::Error::msg)?;
    println!(
        "trusted {} {} (sha256 {}) from {shown}; permissions: {}",
        trusted.id,
        trusted.version,
        trusted.library_sha256,
        if trusted.permissions.is_empty() {
            "none".to_owned()
        } else {
            trusted.permissions.join(", ")
        }
    );
    if !trusted.enabled {
        eprintln!(
            "note: {} stays disabled ({}); `tickwork plugins enable {}` switches it on",
            trusted.id,
            trusted.disabled_reason.as_deref().unwrap_or("disabled"),
            trusted.id
        );
    }
    if !on_search_path(env, bundle) {
        eprintln!(
            "note: {shown} is not on the plugin search path ({}); install it there or add it \
             to {}",
            env.search_path
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            discovery::PLUGIN_PATH_ENV
        );
    }
    Ok(())
}

async fn revoke(store: &Store, id: &str) -> anyhow::Result<()> {
    if !grant::revoke(store.pool(), id, "cli")
        .await
        .map_err(anyhow::Error::msg)?
    {
        bail!("{id}: not in the allowlist");
    }
    println!("revoked {id}: it is no longer loaded and asks for trust again");
    Ok(())
}

async fn set_enabled(store: &Store, id: &str, enabled: bool) -> anyhow::Result<()> {
    if !grant::set_enabled(store.pool(), id, enabled, "cli")
        .await
        .map_err(anyhow::Error::msg)?
    {
        bail!("{id}: not in the allowlist (trust it first with `tickwork plugins trust DIR`)");
    }
    println!(
        "{} {id}; this takes effect at the next start of the workbench or `tickwork headless`",
        if enabled { "enabled" } else { "disabled" }
    );
    Ok(())
}

/// The manifest's text with `sha256 = "HASH"` right after `library = …` (an earlier `sha256`
/// line removed); only the top-level keys, before the first `[table]`, are touched.
fn with_sha256(text: &str, hash: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len() + 80);
    let mut top_level = true;
    let mut placed = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            top_level = false;
        }
        let key = trimmed.split('=').next().unwrap_or("").trim();
        if top_level && key == "sha256" {
            continue;
        }
        out.push_str(line);
        out.push('\n');
        if top_level && key == "library" {
            out.push_str(&format!("sha256 = \"{hash}\"\n"));
            placed = true;
        }
    }
    placed.then_some(out)
}

fn pack(manifest_path: &Path, library: &Path, out: &Path) -> anyhow::Result<()> {
    let manifest = manifest::load(manifest_path)?;
    let text = std::fs::read_to_string(manifest_path)
        .with_context(|| format!("{}: cannot read", manifest_path.display()))?;
    if !library.is_file() {
        bail!("--library {}: no such file", library.display());
    }
    let hash = trust::sha256_file(library)
        .with_context(|| format!("--library {}: cannot read", library.display()))?;
    let packed = with_sha256(&text, &hash).with_context(|| {
        format!(
            "{}: library: expected a top-level `library = \"…\"` line",
            manifest_path.display()
        )
    })?;
    // What is written must read back as the same manifest with the hash.
    let check = manifest::parse(&out.join(MANIFEST_FILE), &packed)?;
    if check.sha256.as_deref() != Some(hash.as_str()) || check.id != manifest.id {
        bail!("{}: could not add sha256", manifest_path.display());
    }
    if out.exists() && std::fs::read_dir(out)?.next().is_some() {
        bail!("--out {}: exists and is not empty", out.display());
    }
    std::fs::create_dir_all(out).with_context(|| format!("--out {}", out.display()))?;
    let target: PathBuf = out.join(&manifest.library);
    std::fs::copy(library, &target)
        .with_context(|| format!("cannot copy the library to {}", target.display()))?;
    std::fs::write(out.join(MANIFEST_FILE), packed)
        .with_context(|| format!("cannot write {}", out.join(MANIFEST_FILE).display()))?;
    println!(
        "packed {} {} into {} (sha256 {hash})",
        manifest.id,
        manifest.version,
        out.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_goes_after_the_library_line_and_replaces_an_old_one() {
        let text = "id = \"a.b\"\nsha256 = \"old\"\nlibrary = \"liba.so\"\n\n[permissions]\nsha256 = [\"x\"]\n";
        let packed = with_sha256(text, "abc").unwrap();
        assert_eq!(
            packed,
            "id = \"a.b\"\nlibrary = \"liba.so\"\nsha256 = \"abc\"\n\n[permissions]\nsha256 = [\"x\"]\n"
        );
        assert!(with_sha256("[x]\nlibrary = \"a\"\n", "abc").is_none());
    }
}
