//! An observer outside the workbench's process: a screen reader reads the accessibility tree
//! over AT-SPI from another process, so the check runs in the test runner while the scenario's
//! window keeps running. The scenario asks with [`ask`] (a file `request` in the observer
//! directory) and waits for the answer file; the runner serves requests until the child exits.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::driver;

/// Runs in the runner: answers one request, if the scenario makes one within its lifetime.
/// Returns once the answer is written, or when the scenario wrote `done`.
pub fn serve(dir: &Path, pid: u32) {
    let request = dir.join("request");
    let deadline = Instant::now() + Duration::from_secs(180);
    while Instant::now() < deadline {
        if request.exists() {
            let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/workbench/a11y_tree.py");
            let output = std::process::Command::new("/usr/bin/python3")
                .arg(script)
                .arg(pid.to_string())
                .output();
            let answer = match output {
                Ok(out) => format!(
                    "{}\n{}\n---\n{}",
                    out.status.code().unwrap_or(-1),
                    String::from_utf8_lossy(&out.stderr)
                        .trim()
                        .replace('\n', " "),
                    String::from_utf8_lossy(&out.stdout)
                ),
                Err(err) => format!("-1\npython3: {err}\n---\n"),
            };
            let _ = std::fs::write(dir.join("answer.tmp"), answer);
            let _ = std::fs::rename(dir.join("answer.tmp"), dir.join("answer"));
            let _ = std::fs::remove_file(&request);
            return;
        }
        if dir.join("done").exists() || !Path::new(&format!("/proc/{pid}")).exists() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn observer_dir() -> Option<PathBuf> {
    std::env::var_os("TW_OBSERVER_DIR").map(PathBuf::from)
}

/// Tells the runner no request is coming (so it stops waiting).
pub fn finished() {
    if let Some(dir) = observer_dir() {
        let _ = std::fs::write(dir.join("done"), "");
    }
}

/// In the scenario: asks the runner to read this process's accessibility tree; the exit
/// status of the reader, its complaint, and the tree (ROLE\tNAME\tSHOWING lines).
pub async fn accessibility_tree() -> Result<(i32, String, String), String> {
    let dir = observer_dir().ok_or("TW_OBSERVER_DIR is not set")?;
    std::fs::write(dir.join("request"), "a11y").map_err(|e| e.to_string())?;
    let answer = driver::wait("the accessibility tree", 120, || {
        std::fs::read_to_string(dir.join("answer")).ok()
    })
    .await?;
    let (head, tree) = answer.split_once("\n---\n").unwrap_or((&answer, ""));
    let (code, complaint) = head.split_once('\n').unwrap_or((head, ""));
    Ok((
        code.trim().parse().unwrap_or(-1),
        complaint.to_owned(),
        tree.to_owned(),
    ))
}
