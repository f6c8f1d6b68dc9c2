//! The real window under Xvfb (the test command runs the suite inside `xvfb-run`), with
//! screenshots saved under `target/screenshots/`.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::Sandbox;

fn require_display() {
    assert!(
        std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some(),
        "GUI tests need a display: run them through dev/test.sh (Xvfb)"
    );
}

fn screenshot_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    (width, height)
}

#[test]
fn demo_window_opens_on_the_embedded_database_and_is_captured() {
    require_display();
    let sandbox = Sandbox::new();
    let shot = screenshot_dir().join("main-window-demo.png");
    let _ = std::fs::remove_file(&shot);
    let output = sandbox
        .command()
        .args(["--demo", "--screenshot"])
        .arg(&shot)
        .env("GSK_RENDERER", "cairo")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", common::stderr(&output));
    let (width, height) = png_size(&std::fs::read(&shot).unwrap());
    assert!(width >= 800 && height >= 500, "{width}x{height}");
    assert!(
        !sandbox.server_running(),
        "closing the window stops the embedded server"
    );
}

#[test]
fn workbench_killed_with_sigkill_leaves_a_usable_database() {
    require_display();
    let sandbox = Sandbox::new();
    let mut app = sandbox
        .command()
        .env("GSK_RENDERER", "cairo")
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !sandbox.server_running() {
        assert!(
            Instant::now() < deadline,
            "the workbench never started its database"
        );
        assert!(
            app.try_wait().unwrap().is_none(),
            "the workbench exited early"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    app.kill().unwrap(); // SIGKILL
    app.wait().unwrap();
    assert!(
        sandbox.server_running(),
        "SIGKILL gives the app no chance to stop the server"
    );

    // The next start reuses the orphaned server, and stops it as the last user.
    let output = sandbox.run(&["db", "status", "--json"]);
    assert!(output.status.success(), "{}", common::stderr(&output));
    let status: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(
        status["migrations"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["state"] == "applied")
    );
    assert!(!sandbox.server_running());
}

#[test]
fn a_window_that_shows_an_error_fails_the_screenshot_command() {
    require_display();
    let sandbox = Sandbox::new();
    sandbox.write_config("[database]\nurl = \"postgres://nobody@127.0.0.1:1/tickwork\"\n");
    let shot = screenshot_dir().join("main-window-database-error.png");
    let output = sandbox
        .command()
        .arg("--screenshot")
        .arg(&shot)
        .env("GSK_RENDERER", "cairo")
        .output()
        .unwrap();
    let stderr = common::stderr(&output);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("the window shows an error: database"),
        "{stderr}"
    );
    let (width, _) = png_size(&std::fs::read(&shot).unwrap());
    assert!(width >= 800, "the picture of the error is still taken");
}
