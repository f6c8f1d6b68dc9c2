//! A database password goes to the OS keyring and nowhere else: a URL carrying one is refused
//! (without repeating it), and after a whole session — `db status`, `risk set`, `headless`
//! recording from the simulator — no file under the user's XDG directories (config, data,
//! state: logs, recorder journal) and no row in the database contains it.
//!
//! Needs the keyring and the test PostgreSQL server: run under dev/test.sh.

mod common;

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use common::{KillOnDrop, Sandbox, TestDatabase, error_line};
use tickwork_sim::{SimConfig, Simulator};

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Every regular file under `dir`, recursively.
fn files_under(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            files_under(&path, out);
        } else if kind.is_file() {
            out.push(path);
        }
    }
}

fn assert_not_in_output(output: &Output, secret: &str, what: &str) {
    assert!(
        !contains(&output.stdout, secret) && !contains(&output.stderr, secret),
        "{what} printed the secret:\n{}",
        common::stderr(output)
    );
}

fn ticks(sandbox: &Sandbox) -> i64 {
    let output = sandbox.run(&["db", "status", "--json"]);
    assert!(output.status.success(), "{}", common::stderr(&output));
    let status: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    status["tables"]["ticks"].as_i64().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_password_never_reaches_files_logs_or_the_database() {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let secret = format!("tw-S3cret-{}-{nanos}", std::process::id());
    let sandbox = Sandbox::new();
    let db = TestDatabase::create("secret");
    let url = db.url();
    let sep = if url.contains('?') { '&' } else { '?' };
    let in_query = format!("{url}{sep}password={secret}");

    // 1. A password in the URL is refused, as a query parameter just like as user:password@,
    //    from the environment or the config file, and the refusal does not repeat it.
    let mut attempts = vec![("TICKWORK_DATABASE_URL ?password=", in_query.clone())];
    if let Some((scheme_user, rest)) = url.split_once('@') {
        attempts.push((
            "TICKWORK_DATABASE_URL user:password@",
            format!("{scheme_user}:{secret}@{rest}"),
        ));
    }
    for (what, bad_url) in attempts {
        let output = sandbox
            .command()
            .env("TICKWORK_DATABASE_URL", bad_url)
            .args(["db", "status"])
            .output()
            .unwrap();
        let line = error_line(&output);
        assert!(
            line.contains("TICKWORK_DATABASE_URL: contains a password"),
            "{what}: {line}"
        );
        assert_not_in_output(&output, &secret, what);
    }
    sandbox.write_config(&format!(
        "[database]\nurl = \"{in_query}\"\npassword_from_keyring = true\n"
    ));
    let output = sandbox.run(&["db", "status"]);
    let line = error_line(&output);
    assert!(
        line.contains(":2: database.url: contains a password"),
        "{line}"
    );
    assert_not_in_output(&output, &secret, "config url");

    // 2. Where it belongs: the keyring. The config names the server without a password, and
    //    logs at debug level to the state directory.
    sandbox.write_config(&format!(
        "[database]\nurl = \"{url}\"\npassword_from_keyring = true\n\n[logging]\nlevel = \"debug\"\nfile = true\n"
    ));
    let mut set = sandbox
        .command()
        .args(["secret", "set", "database-password"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        &mut set.stdin.take().unwrap(),
        format!("{secret}\n").as_bytes(),
    )
    .unwrap();
    let set = set.wait_with_output().unwrap();
    assert!(set.status.success(), "{}", common::stderr(&set));
    assert_not_in_output(&set, &secret, "secret set");

    // 3. A session with it: status, a risk change (audited), and headless recording.
    let status = sandbox.run(&["db", "status"]);
    assert!(status.status.success(), "{}", common::stderr(&status));
    assert_not_in_output(&status, &secret, "db status");
    let stdout = String::from_utf8_lossy(&status.stdout);
    assert!(
        stdout.starts_with(&format!("Database  {url}\n")),
        "{stdout}"
    );
    let risk = sandbox.run(&["risk", "set", "DU1", "max_quantity=10"]);
    assert!(risk.status.success(), "{}", common::stderr(&risk));
    assert_not_in_output(&risk, &secret, "risk set");

    let sim = Simulator::start(SimConfig {
        port: 0,
        tick_rate: 20.0,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let port = sim.local_addr().port().to_string();
    // Its terminal output (debug logs) goes to a file in the sandbox, searched with the rest: a
    // pipe nobody drains would stall the process once full.
    let terminal = sandbox.path().join("headless-terminal.txt");
    let terminal_file = std::fs::File::create(&terminal).unwrap();
    let child = sandbox
        .command()
        .args(["headless", "--port", &port, "--watch", "AAPL,MSFT"])
        .stdout(terminal_file.try_clone().unwrap())
        .stderr(terminal_file)
        .spawn()
        .unwrap();
    let mut headless = KillOnDrop(child);
    tokio::task::block_in_place(|| {
        let deadline = Instant::now() + Duration::from_secs(60);
        while ticks(&sandbox) == 0 {
            assert!(Instant::now() < deadline, "no ticks recorded within 60 s");
            std::thread::sleep(Duration::from_millis(300));
        }
    });
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(headless.0.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = tokio::task::block_in_place(|| {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = headless.0.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "headless did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let printed = std::fs::read_to_string(&terminal).unwrap();
    assert!(status.success(), "{printed}");
    assert!(printed.contains("tickwork: stopped; received"), "{printed}");
    sim.shutdown().await;

    // 4. Nowhere on disk: every file under the sandbox's XDG directories.
    let mut files = Vec::new();
    files_under(sandbox.path(), &mut files);
    let logs: Vec<_> = files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "log"))
        .collect();
    assert!(
        !logs.is_empty(),
        "the log files must be there to be searched: {files:?}"
    );
    let logged: String = logs
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect();
    assert!(
        logged.contains("loaded stored risk limits") && logged.contains("recorder stopped"),
        "the searched logs are the session's: {logged}"
    );
    assert!(
        files.iter().any(|f| f.ends_with("tickwork/config.toml")),
        "{files:?}"
    );
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        assert!(
            !contains(&bytes, &secret),
            "{} contains the secret",
            file.display()
        );
    }

    // 5. Nowhere in the database: a full dump (audit log details, settings, sync reports, …).
    let dump = db.dump();
    assert!(
        dump.contains("risk.limits_set") && dump.contains("COPY public.ticks"),
        "the dump must hold the session's data to be a real search"
    );
    assert!(
        db.psql("SELECT count(*) > 0 FROM sync_reports") == "t",
        "the session synchronised"
    );
    assert!(!dump.contains(&secret), "the database holds the secret");

    let deleted = sandbox.run(&["secret", "delete", "database-password"]);
    assert!(deleted.status.success(), "{}", common::stderr(&deleted));
}
