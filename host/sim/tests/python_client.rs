//! The same flows through the official IB Python API (`ibapi-stable` 10.50.2), a client nobody
//! here wrote: at 226, at 213 (`MAX_CLIENT_VER = 213`) and at 178 (`MAX_CLIENT_VER = 178`, the
//! text codec). The interpreter comes from `TICKWORK_TEST_PYTHON`; without it the test fails.

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

async fn run_flows(port: u16, expected: u32, max_client: Option<u32>) {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/flows.py");
    let mut cmd = tokio::process::Command::new(python());
    cmd.arg(&script)
        .arg(port.to_string())
        .arg(expected.to_string());
    if let Some(v) = max_client {
        cmd.arg(v.to_string());
    }
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python()));
    let out = match tokio::time::timeout(Duration::from_secs(90), child.wait_with_output()).await {
        Ok(Ok(o)) => o,
        Ok(Err(e)) => panic!("python driver failed: {e}"),
        Err(_) => panic!("python driver timed out (version {expected})"),
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("OK server version"),
        "python flows at {expected} failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_client_flows_at_226_213_and_178() {
    let py = python();
    bounded(async move {
        let _ = py;
        for (expected, max_client) in [(226, None), (213, Some(213)), (178, Some(178))] {
            let sim = start(226).await;
            run_flows(sim.local_addr().port(), expected, max_client).await;
            sim.shutdown().await;
        }
    })
    .await;
}
