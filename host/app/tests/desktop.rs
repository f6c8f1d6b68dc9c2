//! Desktop integration: the .desktop file and AppStream metainfo pass the freedesktop
//! validators, carry the app id the window uses, and `dev/install.sh` puts them (with the icon
//! and the binary) where the GNOME launcher finds them, and takes them away again.

use std::path::{Path, PathBuf};
use std::process::Command;

const APP_ID: &str = "org.tickwork.Tickwork";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn data(file: &str) -> PathBuf {
    repo().join("data").join(file)
}

fn run(command: &mut Command) -> String {
    let output = command.output().expect("the command runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{command:?}: {text}");
    text
}

#[test]
fn the_desktop_file_and_metainfo_are_valid_and_name_the_app_id() {
    let desktop = data(&format!("{APP_ID}.desktop"));
    let metainfo = data(&format!("{APP_ID}.metainfo.xml"));
    run(Command::new("desktop-file-validate").arg(&desktop));
    run(Command::new("appstreamcli")
        .args(["validate", "--no-net"])
        .arg(&metainfo));
    let desktop_text = std::fs::read_to_string(&desktop).unwrap();
    assert!(desktop_text.contains(&format!("\nIcon={APP_ID}\n")));
    let metainfo_text = std::fs::read_to_string(&metainfo).unwrap();
    assert!(metainfo_text.contains(&format!("<id>{APP_ID}</id>")));
    assert!(metainfo_text.contains(&format!("{APP_ID}.desktop</launchable>")));
    // The window names itself with the same id (and so finds the same icon).
    let gui = std::fs::read_to_string(repo().join("host/app/src/gui/mod.rs")).unwrap();
    assert!(gui.contains(&format!("pub const APP_ID: &str = \"{APP_ID}\";")));
}

#[test]
fn install_puts_everything_where_the_launcher_looks_and_uninstall_removes_it() {
    let prefix = tempfile::tempdir().unwrap();
    let script = repo().join("dev/install.sh");
    let installed = [
        "bin/tickwork".to_owned(),
        format!("share/applications/{APP_ID}.desktop"),
        format!("share/metainfo/{APP_ID}.metainfo.xml"),
        format!("share/icons/hicolor/scalable/apps/{APP_ID}.svg"),
    ];
    run(Command::new("bash")
        .arg(&script)
        .env("PREFIX", prefix.path())
        .env("TICKWORK_BIN", env!("CARGO_BIN_EXE_tickwork")));
    for file in &installed {
        assert!(prefix.path().join(file).is_file(), "{file} not installed");
    }
    let desktop = prefix
        .path()
        .join(format!("share/applications/{APP_ID}.desktop"));
    let text = std::fs::read_to_string(&desktop).unwrap();
    let exec = format!("\nExec={}/bin/tickwork\n", prefix.path().display());
    assert!(text.contains(&exec), "{text}");
    run(Command::new("desktop-file-validate").arg(&desktop));
    // The installed binary is the workbench.
    let version = run(Command::new(prefix.path().join("bin/tickwork")).arg("--version"));
    assert!(version.starts_with("tickwork "), "{version}");

    let bad = Command::new("bash")
        .arg(&script)
        .arg("--everything")
        .env("PREFIX", prefix.path())
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&bad.stderr).trim(),
        "dev/install.sh: unknown argument `--everything` (expected nothing or --uninstall)"
    );

    run(Command::new("bash")
        .arg(&script)
        .arg("--uninstall")
        .env("PREFIX", prefix.path()));
    for file in &installed {
        assert!(!prefix.path().join(file).exists(), "{file} left behind");
    }
}
