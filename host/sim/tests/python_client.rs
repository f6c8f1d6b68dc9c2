//! The same flows through the official IB Python API (`ibapi-stable` 10.50.2), a client nobody
//! here wrote: at 226, at 213 (`MAX_CLIENT_VER = 213`) and at 178 (`MAX_CLIENT_VER = 178`, the
//! text codec), plus every fault triggered through the control port, historical pacing across
//! clients and a bracket with held members. The interpreter comes from
//! `TICKWORK_TEST_PYTHON`; without it these tests fail.

mod common;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use common::{bounded, start};

fn python() -> String {
    match std::env::var("TICKWORK_TEST_PYTHON") {
        Ok(p) if !p.is_empty() => p,
        _ => panic!(
            "TICKWORK_TEST_PYTHON is not set: point it at a Python with ibapi-stable==10.50.2 \
             (python3 -m venv V && V/bin/pip install ibapi-stable==10.50.2; TICKWORK_TEST_PYTHON=V/bin/python)"
        ),
    }
}

/// Runs `tests/python/<script>` with `args`, bounded, and asserts it printed OK.
async fn run_script(script: &str, args: &[String], expected: u32) {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(script);
    let mut cmd = tokio::process::Command::new(python());
    cmd.arg(&script).args(args);
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python()));
    let out = match tokio::time::timeout(Duration::from_secs(40), child.wait_with_output()).await {
        Ok(Ok(o)) => o,
        Ok(Err(e)) => panic!("python driver failed: {e}"),
        Err(_) => panic!("{} timed out (version {expected})", script.display()),
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("OK "),
        "{} at {expected} failed ({}):\n{stdout}\n{stderr}",
        script.display(),
        out.status
    );
}

fn version_args(expected: u32, max_client: Option<u32>) -> Vec<String> {
    let mut v = vec![expected.to_string()];
    v.extend(max_client.map(|m| m.to_string()));
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_client_flows_at_226_213_and_178() {
    let _ = python();
    bounded(async {
        for (expected, max_client) in [(226, None), (213, Some(213)), (178, Some(178))] {
            let sim = start(226).await;
            let mut args = vec![sim.local_addr().port().to_string()];
            args.extend(version_args(expected, max_client));
            run_script("flows.py", &args, expected).await;
            sim.shutdown().await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_client_faults_at_226_and_178() {
    let _ = python();
    bounded(async {
        for (expected, max_client) in [(226, None), (178, Some(178))] {
            let sim = start(226).await;
            let control = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let control_port = control
                .local_addr()
                .map(|a| a.port())
                .unwrap_or_else(|e| panic!("{e}"));
            let server = tokio::spawn(tickwork_sim::serve_control(control, sim.injector()));
            let mut args = vec![
                sim.local_addr().port().to_string(),
                control_port.to_string(),
            ];
            args.extend(version_args(expected, max_client));
            run_script("faults.py", &args, expected).await;
            server.abort();
            sim.shutdown().await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_client_history_pacing_at_226_and_178() {
    let _ = python();
    bounded(async {
        for (expected, max_client) in [(226, None), (178, Some(178))] {
            let sim = start(226).await;
            let mut args = vec![sim.local_addr().port().to_string()];
            args.extend(version_args(expected, max_client));
            run_script("pacing.py", &args, expected).await;
            sim.shutdown().await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_client_bracket_waits_for_its_last_child_at_226_and_178() {
    let _ = python();
    bounded(async {
        for (expected, max_client) in [(226, None), (178, Some(178))] {
            let sim = start(226).await;
            let mut args = vec![sim.local_addr().port().to_string()];
            args.extend(version_args(expected, max_client));
            run_script("bracket.py", &args, expected).await;
            sim.shutdown().await;
        }
    })
    .await;
}
