//! The `tickwork` command line against a real embedded PostgreSQL cluster.

mod common;

use common::{Sandbox, error_line};

#[test]
fn db_status_creates_the_embedded_cluster_and_reports_json() {
    let sandbox = Sandbox::new();
    let output = sandbox.run(&["db", "status", "--json"]);
    assert!(output.status.success(), "{}", common::stderr(&output));
    let status: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let migrations = status["migrations"].as_array().unwrap();
    assert!(!migrations.is_empty());
    assert!(
        migrations.iter().all(|m| m["state"] == "applied"),
        "{status}"
    );
    for table in [
        "ticks",
        "bars",
        "executions",
        "orders",
        "audit_log",
        "connection_profiles",
    ] {
        assert_eq!(status["tables"][table], 0, "{table} in {status}");
    }
    assert!(sandbox.pg_root().join("data/PG_VERSION").exists());
    assert!(
        !sandbox.server_running(),
        "the command stops the server it started"
    );

    let text = sandbox.run(&["db", "status"]);
    assert!(text.status.success());
    let stdout = String::from_utf8(text.stdout).unwrap();
    assert!(
        stdout.contains("applied") && stdout.contains("audit_log"),
        "{stdout}"
    );
}

#[test]
fn db_status_without_migrating_shows_pending() {
    let sandbox = Sandbox::new();
    let output = sandbox.run(&["db", "status", "--json", "--no-migrate"]);
    assert!(output.status.success(), "{}", common::stderr(&output));
    let status: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(
        status["migrations"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["state"] == "pending")
    );
    assert_eq!(status["tables"], serde_json::json!({}));
    assert!(sandbox.run(&["db", "migrate"]).status.success());
    let output = sandbox.run(&["db", "status", "--json", "--no-migrate"]);
    let status: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(
        status["migrations"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["state"] == "applied")
    );
}

#[test]
fn bad_config_value_is_one_line_naming_file_line_and_key() {
    let sandbox = Sandbox::new();
    sandbox.write_config("[database]\nembedded_dir = \"/tmp/x\"\n\n[logging]\nfile = \"yes\"\n");
    let line = error_line(&sandbox.run(&["db", "status"]));
    let file = sandbox.config_file();
    assert!(
        line.contains(&format!("{}:5: logging.file:", file.display())),
        "{line}"
    );
    assert!(
        !sandbox.pg_root().exists(),
        "nothing is started on a bad config"
    );
}

#[test]
fn unknown_config_key_is_an_error() {
    let sandbox = Sandbox::new();
    sandbox.write_config("[database]\nembeded_dir = \"/tmp/x\"\n");
    let line = error_line(&sandbox.run(&["db", "migrate"]));
    assert!(
        line.contains(":2: database.embeded_dir: unknown field"),
        "{line}"
    );
}

#[test]
fn unreachable_keyring_is_a_clear_error_not_a_plaintext_fallback() {
    let sandbox = Sandbox::new();
    sandbox.write_config(
        "[database]\nurl = \"postgres://trader@127.0.0.1:5432/tickwork\"\npassword_from_keyring = true\n",
    );
    let output = sandbox
        .command()
        .args(["db", "status"])
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/tickwork-test-bus",
        )
        .output()
        .unwrap();
    let line = error_line(&output);
    assert!(line.contains("cannot reach the OS keyring"), "{line}");
    let secret = sandbox
        .command()
        .args(["secret", "set", "database-password"])
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/tickwork-test-bus",
        )
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(!secret.status.success());
}

#[test]
fn secret_round_trip_through_the_real_keyring() {
    use std::io::Write;
    let sandbox = Sandbox::new();
    let mut child = sandbox
        .command()
        .args(["secret", "set", "database-password"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"hunter2\n").unwrap();
    let set = child.wait_with_output().unwrap();
    assert!(set.status.success(), "{}", common::stderr(&set));
    let check = sandbox.run(&["secret", "check", "database-password"]);
    assert!(check.status.success(), "{}", common::stderr(&check));
    assert!(!String::from_utf8_lossy(&check.stdout).contains("hunter2"));
    assert!(
        sandbox
            .run(&["secret", "delete", "database-password"])
            .status
            .success()
    );
    let gone = sandbox.run(&["secret", "check", "database-password"]);
    assert!(error_line(&gone).contains("not stored"));
    let unknown = sandbox.run(&["secret", "set", "api-token"]);
    assert!(error_line(&unknown).contains("unknown secret `api-token`"));
}

#[test]
fn bad_arguments_are_refused_by_clap() {
    let sandbox = Sandbox::new();
    let output = sandbox.run(&["db", "status", "--jsn"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(common::stderr(&output).contains("--jsn"));
    let version = sandbox.run(&["--version"]);
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("tickwork "));
}

const INTERLEAVED_SPREADS: &str = r#"{
  "as_of": "2026-11-24",
  "underlyings": {"XYZ": {"price": "600", "class": "equity"}},
  "positions": [
    {"kind": "option", "symbol": "XYZ", "right": "C", "strike": "598", "expiry": "2026-12-18", "multiplier": 100, "qty": 1, "price": "10"},
    {"kind": "option", "symbol": "XYZ", "right": "C", "strike": "603", "expiry": "2026-12-18", "multiplier": 100, "qty": -1, "price": "8"},
    {"kind": "option", "symbol": "XYZ", "right": "C", "strike": "600", "expiry": "2026-12-18", "multiplier": 100, "qty": 1, "price": "9"},
    {"kind": "option", "symbol": "XYZ", "right": "C", "strike": "605", "expiry": "2026-12-18", "multiplier": 100, "qty": -1, "price": "7"}
  ]
}"#;

#[test]
fn margin_json_for_interleaved_bull_call_spreads_is_zero() {
    let sandbox = Sandbox::new();
    let file = sandbox.path().join("spreads.json");
    std::fs::write(&file, INTERLEAVED_SPREADS).unwrap();
    let output = sandbox
        .command()
        .arg("margin")
        .arg(&file)
        .arg("--json")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", common::stderr(&output));
    let result: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result["method"], "regt");
    assert_eq!(result["initial"], "0.00");
    assert_eq!(result["maintenance"], "0.00");
    assert!(result["reg_t_end_of_day"].is_string());
    assert!(!result["groups"].as_array().unwrap().is_empty());
    let table = sandbox.command().arg("margin").arg(&file).output().unwrap();
    assert!(String::from_utf8_lossy(&table.stdout).contains("spread"));
}

#[test]
fn malformed_portfolio_names_file_position_and_field() {
    let sandbox = Sandbox::new();
    let file = sandbox.path().join("bad.json");
    std::fs::write(
        &file,
        INTERLEAVED_SPREADS.replace("\"strike\": \"603\"", "\"strike\": \"6o3\""),
    )
    .unwrap();
    let line = error_line(&sandbox.command().arg("margin").arg(&file).output().unwrap());
    assert!(
        line.contains(&format!("{}: positions[1].strike", file.display())),
        "{line}"
    );
    let line = error_line(
        &sandbox
            .command()
            .arg("margin")
            .arg(&file)
            .args(["--method", "bogus"])
            .output()
            .unwrap(),
    );
    assert!(line.contains("--method"), "{line}");
    let missing = sandbox.path().join("missing.json");
    let line = error_line(
        &sandbox
            .command()
            .arg("margin")
            .arg(&missing)
            .output()
            .unwrap(),
    );
    assert!(line.contains("missing.json: cannot read"), "{line}");
}

#[test]
fn connection_profiles_are_added_listed_refused_and_removed() {
    let sandbox = Sandbox::new();
    let added = sandbox.run(&[
        "profile",
        "add",
        "gateway",
        "--port",
        "4002",
        "--client-id",
        "17",
        "--auto-client-id",
    ]);
    assert!(added.status.success(), "{}", common::stderr(&added));
    assert!(
        String::from_utf8_lossy(&added.stdout).contains("read-only"),
        "profiles start read-only"
    );
    let listed = String::from_utf8(sandbox.run(&["profile", "list"]).stdout).unwrap();
    assert!(
        listed.contains("gateway")
            && listed.contains("127.0.0.1:4002")
            && listed.contains("auto-client-id"),
        "{listed}"
    );
    let remote = error_line(&sandbox.run(&["profile", "add", "office", "--host", "10.0.0.8"]));
    assert!(remote.contains("--allow-remote"), "{remote}");
    assert!(
        sandbox
            .run(&["profile", "remove", "gateway"])
            .status
            .success()
    );
    let gone = error_line(&sandbox.run(&["profile", "remove", "gateway"]));
    assert!(gone.contains("no profile named gateway"), "{gone}");
    let missing = error_line(&sandbox.run(&["headless", "--profile", "gateway"]));
    assert!(
        missing.contains("--profile gateway: no such connection profile"),
        "{missing}"
    );
}

#[test]
fn script_check_names_file_line_and_column_and_exits_1() {
    let sandbox = Sandbox::new();
    let bad = sandbox.path().join("bad.rhai");
    std::fs::write(
        &bad,
        "let fast = ta::sma(20);\nlet x = undefined_name + 1;\n",
    )
    .unwrap();
    let output = sandbox.run(&["script", "check", bad.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1), "{}", common::stderr(&output));
    let stderr = common::stderr(&output);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!("{}:2:9: ", bad.display()))
            && stderr.contains("undefined_name"),
        "{stderr}"
    );

    let good = sandbox.path().join("good.rhai");
    std::fs::write(
        &good,
        "state.fast = ta::sma(20);\nfn on_bar(ctx, bar) { state.fast.update(bar); }\n",
    )
    .unwrap();
    let output = sandbox.run(&["script", "check", good.to_str().unwrap()]);
    assert!(output.status.success(), "{}", common::stderr(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("ok (strategy)"));

    // A likely typo in a hook's name is a warning; a hook with the wrong parameters an error.
    let typo = sandbox.path().join("typo.rhai");
    std::fs::write(&typo, "fn on_bars(ctx, bar) { }\n").unwrap();
    let output = sandbox.run(&["script", "check", typo.to_str().unwrap()]);
    assert!(output.status.success());
    assert!(common::stderr(&output).contains("warning: `on_bars` is not a hook"));
    std::fs::write(&typo, "fn on_bar(bar) { }\n").unwrap();
    let output = sandbox.run(&["script", "check", typo.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(common::stderr(&output).contains("`on_bar` takes 2 parameters"));
    // Every example checks clean, as its kind.
    let scripts = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts");
    for (file, kind) in [
        ("sma_cross.rhai", "strategy"),
        ("bollinger_reversion.rhai", "strategy"),
        ("covered_call.rhai", "strategy"),
        ("margin/concentration.rhai", "margin rule"),
        ("margin/short_option_floor.rhai", "margin rule"),
    ] {
        let output = sandbox.run(&["script", "check", &format!("{scripts}/{file}")]);
        assert!(
            output.status.success(),
            "{file}: {}",
            common::stderr(&output)
        );
        assert!(
            common::stderr(&output).is_empty(),
            "{file}: {}",
            common::stderr(&output)
        );
        assert!(
            String::from_utf8_lossy(&output.stdout).contains(&format!("ok ({kind})")),
            "{file}"
        );
    }

    let missing = sandbox.run(&["script", "check", "/nonexistent/x.rhai"]);
    assert!(!missing.status.success());
    assert!(common::stderr(&missing).contains("cannot read /nonexistent/x.rhai"));
}

const CONCENTRATED: &str = r#"{
  "underlyings": {
    "AAPL": {"price": "187.20", "class": "equity"},
    "MSFT": {"price": "400", "class": "equity"}
  },
  "positions": [
    {"kind": "stock", "symbol": "AAPL", "qty": 100, "price": "187.20"},
    {"kind": "stock", "symbol": "MSFT", "qty": 10, "price": "400"}
  ]
}"#;

#[test]
fn margin_rules_add_to_the_figure_and_a_bad_rule_names_file_line_and_column() {
    let sandbox = Sandbox::new();
    let book = sandbox.path().join("book.json");
    std::fs::write(&book, CONCENTRATED).unwrap();
    let example = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scripts/margin/concentration.rhai"
    );
    let failing = sandbox.path().join("failing.rhai");
    std::fs::write(&failing, "fn margin(input) { loop { } }").unwrap();
    let output = sandbox
        .command()
        .arg("margin")
        .arg(&book)
        .args(["--json", "--rule", example, "--rule"])
        .arg(&failing)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", common::stderr(&output));
    let result: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    // Reg T 25% of 18,720 + 4,000, then 10% of AAPL's exposure above 30% of 22,720.
    assert_eq!(result["initial"], "6870.40");
    let groups = result["groups"].as_array().unwrap();
    let rules: Vec<(&str, &str, &str)> = groups[groups.len() - 2..]
        .iter()
        .map(|g| {
            (
                g["label"].as_str().unwrap(),
                g["rule"].as_str().unwrap(),
                g["initial"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rules,
        [
            (
                "custom rule script:concentration",
                "custom rule: add-on",
                "1190.40"
            ),
            (
                "custom rule script:failing",
                "custom rule failed: ignored",
                "0.00"
            ),
        ]
    );
    assert!(
        groups[groups.len() - 1]["detail"]
            .as_str()
            .unwrap()
            .contains("too many operations")
    );
    // The table says what each rule did.
    let table = sandbox
        .command()
        .arg("margin")
        .arg(&book)
        .args(["--rule", example])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&table.stdout).into_owned();
    assert!(table.contains("6870.40"), "{table}");
    assert!(
        table.contains("script:concentration: custom rule: add-on: AAPL above"),
        "{table}"
    );

    let bad = sandbox.path().join("bad.rhai");
    std::fs::write(&bad, "fn margin(input) {\n  input.initial * rate\n}\n").unwrap();
    let output = sandbox
        .command()
        .arg("margin")
        .arg(&book)
        .arg("--rule")
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", common::stderr(&output));
    assert!(output.stdout.is_empty());
    let stderr = common::stderr(&output);
    assert_eq!(
        stderr.trim_end(),
        format!("{}:2:19: Undefined variable: rate", bad.display())
    );
}

fn repo_file(path: &str) -> String {
    format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn script_backtest_prints_json_and_stores_the_run() {
    let sandbox = Sandbox::new();
    let db = common::TestDatabase::create("backtest_csv");
    let fixture = repo_file("scripts/data/spy_daily.csv");
    let script = repo_file("scripts/sma_cross.rhai");
    let output = sandbox
        .command()
        .args([
            "script", "backtest", &script, "--symbol", "SPY", "--bars", &fixture, "--json",
        ])
        .env("TICKWORK_DATABASE_URL", db.url())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", common::stderr(&output));
    let run: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    // The regression values of the core tests, as decimal strings.
    assert_eq!(run["stats"]["trade_count"], 7, "{run}");
    assert_eq!(run["stats"]["net_pnl"], "13742.00");
    assert_eq!(run["stats"]["sharpe"], "1.0695");
    assert_eq!(run["trades"][0]["price"], "468.93");
    assert_eq!(run["trades"][0]["side"], "BUY");
    assert_eq!(run["source"], "csv:spy_daily.csv");
    let id = run["backtest_id"].as_i64().expect("stored");
    assert_eq!(
        db.psql(&format!(
            "SELECT script || ' ' || source || ' ' || (stats->>'net_pnl') || ' ' || \
             (SELECT count(*) FROM backtest_trades WHERE backtest_id = {id}) FROM backtests WHERE id = {id}"
        )),
        "sma_cross.rhai csv:spy_daily.csv 13742.00 7"
    );

    // The text form, a window of the file, and a parameter.
    let output = sandbox
        .command()
        .args([
            "script",
            "backtest",
            &script,
            "--symbol",
            "SPY",
            "--bars",
            &fixture,
            "--from",
            "2025-06-01",
            "--to",
            "2025-12-31",
            "--param",
            "fast=5",
        ])
        .env("TICKWORK_DATABASE_URL", db.url())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", common::stderr(&output));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("> sma_cross: fast 5, slow 30, qty 100"),
        "{text}"
    );
    assert!(
        text.contains("from 2025-06-02T14:30:00Z to 2026-01-01T14:30:00Z (csv:spy_daily.csv)"),
        "{text}"
    );
    assert!(text.contains("net P&L"), "{text}");
    assert!(
        text.contains(&format!("stored as backtest {} in", id + 1)),
        "{text}"
    );
}

#[test]
fn script_backtest_without_a_database_prints_and_warns() {
    let sandbox = Sandbox::new();
    let output = sandbox
        .command()
        .args([
            "script",
            "backtest",
            &repo_file("scripts/covered_call.rhai"),
            "--symbol",
            "SPY",
            "--bars",
            &repo_file("scripts/data/spy_daily.csv"),
        ])
        .env(
            "TICKWORK_DATABASE_URL",
            "postgres://tickwork@127.0.0.1:1/none",
        )
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", common::stderr(&output));
    let text = String::from_utf8(output.stdout.clone()).unwrap();
    assert!(text.contains("net P&L            14570.00"), "{text}");
    assert!(
        text.contains("SELL        1 SPY 20250221 C 530 @ 4.68"),
        "{text}"
    );
    assert!(!text.contains("stored as"), "{text}");
    let stderr = common::stderr(&output);
    assert!(
        stderr.contains("tickwork: warning: results not stored: cannot connect"),
        "{stderr}"
    );
    assert!(
        !sandbox.pg_root().exists(),
        "no embedded cluster for a server URL"
    );

    // A sweep, not stored, as JSON: one run per combination, in order.
    let output = sandbox
        .command()
        .args([
            "script",
            "backtest",
            &repo_file("scripts/sma_cross.rhai"),
            "--symbol",
            "SPY",
            "--bars",
            &repo_file("scripts/data/spy_daily.csv"),
            "--sweep",
            "fast=5,10",
            "--sweep",
            "slow=30",
            "--workers",
            "2",
            "--no-save",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", common::stderr(&output));
    let sweep: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let runs = sweep["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0]["params"]["fast"], 5);
    assert_eq!(runs[1]["params"]["fast"], 10);
    assert_eq!(runs[1]["stats"]["net_pnl"], "13742.00");
    assert!(runs[1]["backtest_id"].is_null());
}

#[test]
fn script_backtest_errors_name_the_file_and_line() {
    let sandbox = Sandbox::new();
    let script = repo_file("scripts/sma_cross.rhai");
    let bad_csv = sandbox.path().join("bars.csv");
    std::fs::write(
        &bad_csv,
        "time,open,high,low,close,volume\n2026-01-02,1,1,1,1,0\n2026-01-05,1,1,x,1,0\n",
    )
    .unwrap();
    let output = sandbox.run(&[
        "script",
        "backtest",
        &script,
        "--symbol",
        "SPY",
        "--bars",
        bad_csv.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        common::stderr(&output).trim_end(),
        format!("{}:3: low: `x` is not a number", bad_csv.display())
    );

    let bad_script = sandbox.path().join("bad.rhai");
    std::fs::write(&bad_script, "fn on_bar(ctx, bar) {\n  let x = nope;\n}\n").unwrap();
    let output = sandbox.run(&[
        "script",
        "backtest",
        bad_script.to_str().unwrap(),
        "--symbol",
        "SPY",
        "--bars",
        bad_csv.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = common::stderr(&output);
    assert!(
        stderr.starts_with(&format!("{}:2:11: ", bad_script.display())) && stderr.contains("nope"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");

    // A script that faults mid-run: what it printed, then the fault; nothing stored.
    let looping = sandbox.path().join("loop.rhai");
    std::fs::write(
        &looping,
        "fn on_bar(ctx, bar) {\n  print(bar.close);\n  if bar.close > 500 { let x = bar.close / 0; }\n}\n",
    )
    .unwrap();
    let output = sandbox.run(&[
        "script",
        "backtest",
        looping.to_str().unwrap(),
        "--symbol",
        "SPY",
        "--bars",
        &repo_file("scripts/data/spy_daily.csv"),
        "--no-save",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = common::stderr(&output);
    assert!(
        stderr.starts_with(&format!("{}:3:", looping.display()))
            && stderr.contains("(in on_bar, bar of 2025-01-03T14:30:00Z, the backtest stopped)"),
        "{stderr}"
    );
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "> 495.09\n> 502.11\n"
    );

    // Bars from the database need a range.
    let line = error_line(&sandbox.run(&["script", "backtest", &script, "--symbol", "SPY"]));
    assert!(line.contains("--from and --to are needed"), "{line}");
    assert!(
        !sandbox.pg_root().exists(),
        "nothing is started before the arguments are checked"
    );
}

#[test]
fn script_backtest_reads_bars_from_the_database() {
    let sandbox = Sandbox::new();
    let db = common::TestDatabase::create("backtest_pg");
    let migrate = sandbox
        .command()
        .args(["db", "migrate"])
        .env("TICKWORK_DATABASE_URL", db.url())
        .output()
        .unwrap();
    assert!(migrate.status.success(), "{}", common::stderr(&migrate));
    // 2 days of 60-second bars, rising 1 cent a minute, and a day of 5-minute bars to ignore.
    db.psql(
        "INSERT INTO instruments (symbol, sec_type) VALUES ('SPY', 'STK');
         INSERT INTO bars SELECT i.id, 60, t, 100 + n * 0.01, 100.05 + n * 0.01, 99.95 + n * 0.01,
                                100 + n * 0.01, 1000
           FROM instruments i,
                generate_series(0, 389) AS n,
                LATERAL (VALUES (TIMESTAMPTZ '2026-03-02 14:30:00+00' + n * INTERVAL '1 minute'),
                                (TIMESTAMPTZ '2026-03-03 14:30:00+00' + n * INTERVAL '1 minute')) AS d(t);
         INSERT INTO bars SELECT id, 300, TIMESTAMPTZ '2026-03-02 14:30:00+00', 1, 1, 1, 1, 1 FROM instruments;",
    );
    let script = sandbox.path().join("buy.rhai");
    std::fs::write(
        &script,
        "fn on_bar(ctx, bar) { if ctx.position(bar.symbol).qty == 0 { ctx.buy(bar.symbol, 10); } }\n",
    )
    .unwrap();
    let output = sandbox
        .command()
        .args([
            "script",
            "backtest",
            script.to_str().unwrap(),
            "--symbol",
            "SPY",
            "--from",
            "2026-03-03",
            "--to",
            "2026-03-03",
            "--json",
        ])
        .env("TICKWORK_DATABASE_URL", db.url())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", common::stderr(&output));
    let run: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(run["source"], "postgres");
    assert_eq!(run["bar_seconds"], 60);
    assert_eq!(run["stats"]["bar_count"], 390, "{run}");
    assert_eq!(run["from"], "2026-03-03T14:30:00Z");
    // Bought at the second bar's open (100.01) plus a cent; marked at the last close (103.89).
    assert_eq!(run["trades"][0]["price"], "100.02");
    assert_eq!(run["stats"]["net_pnl"], "37.70");
    let id = run["backtest_id"].as_i64().unwrap();
    assert_eq!(
        db.psql(&format!(
            "SELECT source || ' ' || bar_seconds FROM backtests WHERE id = {id}"
        )),
        "postgres 60"
    );
}
