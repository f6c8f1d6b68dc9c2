//! `tickwork headless` against the in-process simulator, on the embedded database: it records,
//! survives a TWS restart, and stops cleanly on SIGTERM with everything flushed: every tick it
//! received is a row in `ticks`, exactly once.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::Sandbox;
use tickwork_sim::{Fault, SimConfig, Simulator};

fn table_rows(sandbox: &Sandbox, table: &str) -> i64 {
    let output = sandbox.run(&["db", "status", "--json"]);
    assert!(output.status.success(), "{}", common::stderr(&output));
    let status: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    status["tables"][table].as_i64().unwrap_or(0)
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "timed out: {what}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Sends SIGTERM and waits (bounded) for the process to exit.
fn stop_with_sigterm(child: &mut std::process::Child) -> std::process::ExitStatus {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "headless did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// N from the stop line `tickwork: stopped; received N ticks; …`.
fn received_ticks(stderr: &str) -> i64 {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("tickwork: stopped; received "))
        .unwrap_or_else(|| panic!("no stop line in:\n{stderr}"));
    line.trim_start_matches("tickwork: stopped; received ")
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no tick count in `{line}`"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_survives_a_restart_and_stops_cleanly_on_sigterm() {
    let sim = Simulator::start(SimConfig {
        port: 0,
        tick_rate: 20.0,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let port = sim.local_addr().port().to_string();
    let sandbox = Sandbox::new();
    let headless = sandbox
        .command()
        .args([
            "headless",
            "--port",
            &port,
            "--client-id",
            "7",
            "--watch",
            "AAPL,MSFT",
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut headless = common::KillOnDrop(headless);
    let sandbox_ref = &sandbox;
    tokio::task::block_in_place(|| {
        wait_for("ticks recorded", || table_rows(sandbox_ref, "ticks") > 0);
        wait_for("first synchronisation", || {
            table_rows(sandbox_ref, "sync_reports") >= 1
        });
    });
    sim.inject(Fault::Restart {
        down_for: Duration::from_millis(1000),
    });
    tokio::task::block_in_place(|| {
        wait_for("reconnected after the restart", || {
            table_rows(sandbox_ref, "sync_reports") >= 2
        });
        // Ticks flow again after the reconnect, so some are in flight when SIGTERM comes.
        let after_reconnect = table_rows(sandbox_ref, "ticks");
        wait_for("ticks recorded after the reconnect", || {
            table_rows(sandbox_ref, "ticks") > after_reconnect
        });
    });
    let status = tokio::task::block_in_place(|| stop_with_sigterm(&mut headless.0));
    let mut stderr = String::new();
    std::io::Read::read_to_string(headless.0.stderr.as_mut().unwrap(), &mut stderr).unwrap();

    assert!(status.success(), "{stderr}");
    let received = received_ticks(&stderr);
    assert!(received > 0, "{stderr}");
    assert!(
        stderr.contains(", 0 lost, 0 journal segments left"),
        "{stderr}"
    );
    // Everything received before SIGTERM — including what was still queued in the recorder —
    // is in PostgreSQL after the exit, once: the table holds exactly the ticks received.
    let rows = tokio::task::block_in_place(|| table_rows(&sandbox, "ticks"));
    assert_eq!(
        rows, received,
        "ticks received by the session vs rows in `ticks`"
    );
    assert!(
        !sandbox.server_running(),
        "the last user stopped the embedded server"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_strategy_trades_beside_the_recorder_and_survives_a_restart() {
    let sim = Simulator::start(SimConfig {
        port: 0,
        tick_rate: 20.0,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let account = sim.accounts()[0].clone();
    let port = sim.local_addr().port().to_string();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/sma_cross.rhai");
    let sandbox = Sandbox::new();
    let args = [
        "headless",
        "--port",
        &port,
        "--client-id",
        "8",
        "--watch",
        "MSFT",
        "--strategy",
        script,
        "--param",
        "fast=2",
        "--param",
        "slow=3",
        "--param",
        "qty=1",
        "--bar-seconds",
        "1",
        "--account",
        &account,
        "--arm",
        "--allow-trading",
    ];
    // Bad input stops before anything connects, naming what is wrong.
    let mut unknown = args.to_vec();
    unknown.extend(["--param", "nope=1"]);
    let output = sandbox.run(&unknown);
    assert!(!output.status.success());
    assert!(
        common::stderr(&output).contains("--param nope=1: no strategy declares this parameter"),
        "{}",
        common::stderr(&output)
    );
    let log = sandbox.path().join("headless.log");
    let headless = sandbox
        .command()
        .args(args)
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut headless = common::KillOnDrop(headless);
    let sandbox_ref = &sandbox;
    tokio::task::block_in_place(|| {
        let started = Instant::now();
        wait_for("the strategy's first order", || {
            let rows = table_rows(sandbox_ref, "orders");
            if rows == 0 && started.elapsed() > Duration::from_secs(50) {
                panic!(
                    "no order; headless said:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            rows > 0
        });
    });
    sim.inject(Fault::Restart {
        down_for: Duration::from_millis(1000),
    });
    tokio::task::block_in_place(|| {
        wait_for("reconnected after the restart", || {
            table_rows(sandbox_ref, "sync_reports") >= 2
        });
        let before = table_rows(sandbox_ref, "orders");
        wait_for("the strategy trades after the reconnect", || {
            table_rows(sandbox_ref, "orders") > before
        });
    });
    let status = tokio::task::block_in_place(|| stop_with_sigterm(&mut headless.0));
    let stderr = std::fs::read_to_string(&log).unwrap();
    assert!(status.success(), "{stderr}");
    let prefix = format!("tickwork: sma_cross@{account}/paper: ");
    assert!(
        stderr.contains(&format!("{prefix}sma_cross: fast 2, slow 3, qty 1")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{prefix}stopped: 0 working order(s) cancelled")),
        "{stderr}"
    );
    assert!(!stderr.contains("faulted"), "{stderr}");
    sim.shutdown().await;
}

/// The built zoo plugin (`plugins/zoo`).
fn zoo_library() -> std::path::PathBuf {
    common::plugin_library("tickwork-plugin-zoo", "libtickwork_plugin_zoo.so")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_strategy_trades_from_headless_and_stops_with_it() {
    let sim = Simulator::start(SimConfig {
        port: 0,
        tick_rate: 20.0,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let account = sim.accounts()[0].clone();
    let port = sim.local_addr().port().to_string();
    let sandbox = Sandbox::new();
    let bundles = sandbox.path().join("bundles");
    let bundle = bundles.join("zoo");
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/../../plugins/zoo/plugin.toml");
    let library = zoo_library();
    let bundle_arg = bundle.to_str().unwrap();
    for args in [
        vec![
            "plugins",
            "pack",
            "--manifest",
            manifest,
            "--library",
            library.to_str().unwrap(),
            "--out",
            bundle_arg,
        ],
        vec!["plugins", "trust", bundle_arg],
    ] {
        let output = sandbox.run(&args);
        assert!(
            output.status.success(),
            "{args:?}: {}",
            common::stderr(&output)
        );
    }
    let args = [
        "headless",
        "--port",
        &port,
        "--client-id",
        "9",
        "--watch",
        "MSFT",
        "--plugin-strategy",
        "org.tickwork.zoo.strategy",
        "--plugin-params",
        r#"{"symbol":"MSFT"}"#,
        "--account",
        &account,
        "--arm",
        "--allow-trading",
    ];
    let headless = |args: &[&str]| {
        let mut command = sandbox.command();
        command
            .env("TICKWORK_PLUGIN_PATH", &bundles)
            .env("TICKWORK_ZOO", "ok")
            .args(args);
        command
    };
    // Bad parameters and unknown types stop before anything connects, naming what is wrong.
    let mut bad = args.to_vec();
    bad[10] = "[1]";
    let output = headless(&bad).output().unwrap();
    assert!(!output.status.success());
    assert!(
        common::stderr(&output).contains("--plugin-params [1]: not a JSON object"),
        "{}",
        common::stderr(&output)
    );
    let mut unknown = args.to_vec();
    unknown[8] = "org.tickwork.nope";
    let output = headless(&unknown).output().unwrap();
    assert!(!output.status.success());
    assert!(
        common::stderr(&output)
            .contains("--plugin-strategy org.tickwork.nope: no trusted, enabled plugin offers it"),
        "{}",
        common::stderr(&output)
    );
    let log = sandbox.path().join("headless.log");
    let child = headless(&args)
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut child = common::KillOnDrop(child);
    let sandbox_ref = &sandbox;
    tokio::task::block_in_place(|| {
        wait_for("the plugin strategy's order", || {
            table_rows(sandbox_ref, "orders") > 0
        });
    });
    let status = tokio::task::block_in_place(|| stop_with_sigterm(&mut child.0));
    let stderr = std::fs::read_to_string(&log).unwrap();
    assert!(status.success(), "{stderr}");
    let prefix = format!("tickwork: org.tickwork.zoo/strategy@{account}/paper: ");
    assert!(stderr.contains(&format!("{prefix}running")), "{stderr}");
    // The plugin's tag ("zoo") follows the order ref.
    let sent = format!("{prefix}#1 BUY 1 MSFT MKT sent as ");
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with(&sent) && l.ends_with(" [zoo]")),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("{prefix}stopped: ")), "{stderr}");
    assert!(!stderr.contains("faulted"), "{stderr}");
    sim.shutdown().await;
}
