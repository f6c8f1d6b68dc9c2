//! `tickwork plugins …` and the loader, with the zoo test plugin (`plugins/zoo`, built here with
//! cargo) packed into bundles: every misbehaviour refused or contained with a one-line reason,
//! a changed byte caught, trust then load (its margin rule in the explanation), faults counted
//! until the plugin is disabled, and an `abort()` in `init` that kills the process, after which
//! the next start disables the plugin and says why.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{Sandbox, TestDatabase};

const ZOO_ID: &str = "org.tickwork.zoo";
const ZOO_RULE: &str = "plugin:org.tickwork.zoo/org.tickwork.zoo.margin";

/// The zoo library, built once per test run next to the `tickwork` binary under test.
fn zoo_library() -> PathBuf {
    common::plugin_library("tickwork-plugin-zoo", "libtickwork_plugin_zoo.so")
}

/// A sandbox whose plugin search path is `<sandbox>/bundles`, with its own cache dir.
fn sandbox() -> (Sandbox, PathBuf) {
    let sandbox = Sandbox::new();
    let bundles = sandbox.path().join("bundles");
    std::fs::create_dir_all(&bundles).unwrap();
    (sandbox, bundles)
}

fn tickwork(sandbox: &Sandbox, db: Option<&TestDatabase>, zoo: &str, args: &[&str]) -> Output {
    let mut command = sandbox.command();
    command
        .env("XDG_CACHE_HOME", sandbox.path().join("cache"))
        .env("TICKWORK_PLUGIN_PATH", sandbox.path().join("bundles"))
        .env("TICKWORK_ZOO", zoo)
        .args(args);
    if let Some(db) = db {
        command.env("TICKWORK_DATABASE_URL", db.url());
    }
    command.output().unwrap()
}

fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{:?}: {}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        common::stderr(output)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `tickwork plugins pack` of the zoo's manifest template into `out`.
fn pack_zoo(sandbox: &Sandbox, out: &Path) {
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/../../plugins/zoo/plugin.toml");
    let packed = ok(&tickwork(
        sandbox,
        None,
        "ok",
        &[
            "plugins",
            "pack",
            "--manifest",
            manifest,
            "--library",
            zoo_library().to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    ));
    assert!(
        packed.starts_with("packed org.tickwork.zoo 0.1.0 into "),
        "{packed}"
    );
}

/// The one line a failed `verify` prints: `BUNDLE_DIR: reason`.
fn verify_failure(sandbox: &Sandbox, bundle: &Path, zoo: &str) -> String {
    let output = tickwork(
        sandbox,
        None,
        zoo,
        &["plugins", "verify", bundle.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(1), "{zoo}: {output:?}");
    let stderr = common::stderr(&output);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{zoo}: one line expected: {stderr}");
    let prefix = format!("{}: ", bundle.display());
    assert!(lines[0].starts_with(&prefix), "{zoo}: {stderr}");
    lines[0][prefix.len()..].to_owned()
}

#[test]
fn verify_loads_each_zoo_mode_in_a_child_and_refuses_or_contains_it() {
    let (sandbox, bundles) = sandbox();
    let bundle = bundles.join("zoo");
    pack_zoo(&sandbox, &bundle);

    for mode in ["ok", "big-descriptor"] {
        let out = ok(&tickwork(
            &sandbox,
            None,
            mode,
            &["plugins", "verify", bundle.to_str().unwrap()],
        ));
        assert!(
            out.contains(": ok: org.tickwork.zoo 0.1.0 (ABI 1.0, ")
                && out.contains(
                    "loads: strategy org.tickwork.zoo.strategy, margin rule \
                     org.tickwork.zoo.margin, panel org.tickwork.zoo.panel (not created)"
                ),
            "{mode}: {out}"
        );
    }
    let cases: &[(&str, &str)] = &[
        (
            "wrong-major",
            "incompatible: descriptor: built for ABI major 2; this host loads ABI 1",
        ),
        (
            "newer-minor",
            "incompatible: descriptor: built for ABI 1.99, newer than this host's 1.0",
        ),
        (
            "small-descriptor",
            "incompatible: descriptor: struct_size 40 is below the v1.0 size 88",
        ),
        (
            "small-strategy-table",
            "incompatible: `tickwork.strategy/1` table: struct_size 8 is below the v1.0 size 48",
        ),
        (
            "null-descriptor",
            "incompatible: the entry point returned a null descriptor",
        ),
        ("null-fn", "incompatible: descriptor: init is null"),
        (
            "bad-utf8-id",
            "incompatible: descriptor id is not valid UTF-8",
        ),
        (
            "id-mismatch",
            "incompatible: descriptor id `org.tickwork.zoo.other` differs from plugin.toml's \
             `org.tickwork.zoo`",
        ),
        (
            "panic-init",
            "faulted: init returned TW_ERR_PANICKED (the plugin panicked); it logged: panic in \
             init: zoo: panic in init, as asked",
        ),
        (
            "panic-get-capability",
            "faulted: get_capability(`tickwork.strategy/1`) returned null though plugin.toml \
             declares it; it logged: panic in get_capability: zoo: panic in get_capability",
        ),
        (
            "null-capability",
            "faulted: get_capability(`tickwork.strategy/1`) returned null though plugin.toml \
             declares it",
        ),
        (
            "abort",
            "the library killed the trial load process with signal 6 (SIGABRT)",
        ),
        ("no-such-mode", "faulted: init returned TW_ERR; it logged: "),
    ];
    for (mode, expected) in cases {
        let reason = verify_failure(&sandbox, &bundle, mode);
        assert!(reason.starts_with(expected), "{mode}: {reason}");
    }
}

#[test]
fn verify_catches_a_changed_byte_a_bad_manifest_and_a_missing_hash() {
    let (sandbox, bundles) = sandbox();
    let bundle = bundles.join("zoo");
    pack_zoo(&sandbox, &bundle);
    let library = bundle.join("libtickwork_plugin_zoo.so");
    let mut bytes = std::fs::read(&library).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&library, &bytes).unwrap();
    let reason = verify_failure(&sandbox, &bundle, "ok");
    assert!(
        reason.starts_with(&format!("library {} has sha256 ", library.display()))
            && reason.contains(", but plugin.toml says "),
        "{reason}"
    );

    let manifest = bundle.join("plugin.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replace("abi = \"1.0\"", "abi = \"2.0\"")).unwrap();
    let reason = verify_failure(&sandbox, &bundle, "ok");
    assert!(
        reason.starts_with("plugin.toml: abi: built for plugin ABI 2.0"),
        "{reason}"
    );
    std::fs::write(
        &manifest,
        text.replace("[permissions]", "[permissions]\nnetwork = []"),
    )
    .unwrap();
    let reason = verify_failure(&sandbox, &bundle, "ok");
    assert_eq!(
        reason,
        format!("{}: permissions.network: unknown key", manifest.display())
    );
    let without_hash: String = text
        .lines()
        .filter(|l| !l.starts_with("sha256"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&manifest, without_hash).unwrap();
    let reason = verify_failure(&sandbox, &bundle, "ok");
    assert!(
        reason.starts_with("plugin.toml: sha256: missing"),
        "{reason}"
    );
}

const BOOK: &str = r#"{
  "underlyings": {
    "AAPL": {"price": "187.20", "class": "equity"},
    "MSFT": {"price": "400", "class": "equity"}
  },
  "positions": [
    {"kind": "stock", "symbol": "AAPL", "qty": 100, "price": "187.20"},
    {"kind": "stock", "symbol": "MSFT", "qty": 10, "price": "400"}
  ]
}"#;

/// `tickwork margin BOOK --plugins --json`: the loader's start-up (as headless) and the rules.
fn margin_with_plugins(
    sandbox: &Sandbox,
    db: &TestDatabase,
    zoo: &str,
) -> (Output, Option<serde_json::Value>) {
    let book = sandbox.path().join("book.json");
    std::fs::write(&book, BOOK).unwrap();
    let output = tickwork(
        sandbox,
        Some(db),
        zoo,
        &["margin", book.to_str().unwrap(), "--plugins", "--json"],
    );
    let json = serde_json::from_slice(&output.stdout).ok();
    (output, json)
}

fn plugin_rule_node(result: &serde_json::Value) -> Option<serde_json::Value> {
    result["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["label"] == format!("custom rule {ZOO_RULE}"))
        .cloned()
}

fn listed(sandbox: &Sandbox, db: &TestDatabase) -> Vec<serde_json::Value> {
    let out = ok(&tickwork(
        sandbox,
        Some(db),
        "ok",
        &["plugins", "list", "--json"],
    ));
    serde_json::from_str::<serde_json::Value>(&out)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn status_of(sandbox: &Sandbox, db: &TestDatabase, dir: &Path) -> (String, String) {
    let all = listed(sandbox, db);
    let report = all
        .iter()
        .find(|r| r["dir"] == dir.to_str().unwrap())
        .unwrap_or_else(|| panic!("{} not listed: {all:?}", dir.display()));
    (
        report["status"].as_str().unwrap().to_owned(),
        report["reason"].as_str().unwrap_or("").to_owned(),
    )
}

#[test]
fn trust_then_load_puts_the_rule_in_the_explanation_and_a_changed_byte_untrusts() {
    let (sandbox, bundles) = sandbox();
    let db = TestDatabase::create("plugins_trust");
    let bundle = bundles.join("zoo");
    pack_zoo(&sandbox, &bundle);
    // A second bundle of the same id later on the path, and one with a broken manifest.
    let later = sandbox.path().join("later");
    pack_zoo(&sandbox, &later.join("zoo"));
    let broken = bundles.join("broken");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(
        broken.join("plugin.toml"),
        "id = \"org.x.y\"\nversion = 1\n",
    )
    .unwrap();
    let path = format!("{}:{}", bundles.display(), later.display());

    let mut list = sandbox.command();
    list.env("TICKWORK_DATABASE_URL", db.url())
        .env("XDG_CACHE_HOME", sandbox.path().join("cache"))
        .env("TICKWORK_PLUGIN_PATH", &path)
        .args(["plugins", "list"]);
    let text = ok(&list.output().unwrap());
    assert!(
        text.contains(&format!(
            "org.tickwork.zoo 0.1.0 (ABI 1.0): untrusted\n  bundle: {}\n  reason: not in the \
             allowlist; trust it with `tickwork plugins trust {}`",
            bundle.display(),
            bundle.display()
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "reason: duplicate: org.tickwork.zoo is already provided by {} (the first on the \
             search path wins)",
            bundle.display()
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "broken ? (ABI ?): incompatible\n  bundle: {}\n  reason: {}: version: expected a \
             string, found integer",
            broken.display(),
            broken.join("plugin.toml").display()
        )),
        "{text}"
    );
    std::fs::remove_dir_all(&broken).unwrap();

    // Untrusted: not loaded, the figure is the built-in one.
    let (output, result) = margin_with_plugins(&sandbox, &db, "ok");
    let baseline = result.expect("margin json")["initial"].clone();
    assert_eq!(baseline, "5680.00");
    assert!(common::stderr(&output).contains("plugin org.tickwork.zoo: untrusted"));

    let trusted = ok(&tickwork(
        &sandbox,
        Some(&db),
        "ok",
        &["plugins", "trust", bundle.to_str().unwrap()],
    ));
    assert!(
        trusted.starts_with("trusted org.tickwork.zoo 0.1.0 (sha256 ")
            && trusted.ends_with("; permissions: market_data:subscribe, orders:submit:paper\n"),
        "{trusted}"
    );
    assert_eq!(status_of(&sandbox, &db, &bundle).0, "trusted");
    let audited = db.psql("SELECT action FROM audit_log WHERE action LIKE 'plugin.%'");
    assert_eq!(audited, "plugin.trust");

    let (output, result) = margin_with_plugins(&sandbox, &db, "ok");
    let result = result.unwrap_or_else(|| panic!("{}", common::stderr(&output)));
    assert_eq!(result["initial"], "5681.00");
    let node = plugin_rule_node(&result).expect("the plugin's rule in the explanation");
    assert_eq!(node["rule"], "custom rule: add-on");
    assert!(
        node["detail"]
            .as_str()
            .unwrap()
            .contains("zoo: 1.00 on top")
    );
    // The library went to the cache under its hash, read-only.
    let cached: Vec<PathBuf> = std::fs::read_dir(sandbox.path().join("cache/tickwork/plugins"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(cached.len(), 1);
    assert!(
        std::fs::metadata(&cached[0])
            .unwrap()
            .permissions()
            .readonly()
    );

    // A panic in compute: the rule fails, the figure stays the baseline.
    let (output, result) = margin_with_plugins(&sandbox, &db, "panic-compute");
    let result = result.unwrap_or_else(|| panic!("{}", common::stderr(&output)));
    assert_eq!(result["initial"], baseline);
    let node = plugin_rule_node(&result).unwrap();
    assert_eq!(node["rule"], "custom rule failed: ignored");
    let detail = node["detail"].as_str().unwrap();
    assert!(
        detail.starts_with(
            "compute returned TW_ERR_PANICKED (the plugin panicked); it logged: panic in \
             margin.compute: zoo: panic in compute, as asked"
        ),
        "{detail}"
    );

    // Asking for more than was granted: untrusted until trusted again.
    let manifest = bundle.join("plugin.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replace(
            "orders = [\"submit:paper\"]",
            "orders = [\"submit:paper\", \"submit:live\"]",
        ),
    )
    .unwrap();
    let (status, reason) = status_of(&sandbox, &db, &bundle);
    assert_eq!(status, "untrusted");
    assert!(
        reason.starts_with("asks for permissions not granted (orders:submit:live)"),
        "{reason}"
    );
    std::fs::write(&manifest, &text).unwrap();

    // One changed byte: untrusted, not loaded.
    let library = bundle.join("libtickwork_plugin_zoo.so");
    let mut bytes = std::fs::read(&library).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x80;
    std::fs::write(&library, &bytes).unwrap();
    let (status, reason) = status_of(&sandbox, &db, &bundle);
    assert_eq!(status, "untrusted");
    assert!(reason.contains(", but plugin.toml says "), "{reason}");
    let (_, result) = margin_with_plugins(&sandbox, &db, "ok");
    assert_eq!(result.unwrap()["initial"], baseline);
}

#[test]
fn faults_are_counted_until_the_plugin_is_disabled_and_enable_forgets_them() {
    let (sandbox, bundles) = sandbox();
    let db = TestDatabase::create("plugins_faults");
    let bundle = bundles.join("zoo");
    pack_zoo(&sandbox, &bundle);
    ok(&tickwork(
        &sandbox,
        Some(&db),
        "ok",
        &["plugins", "trust", bundle.to_str().unwrap()],
    ));
    let (output, _) = margin_with_plugins(&sandbox, &db, "panic-init");
    assert!(
        common::stderr(&output).contains(
            "plugin org.tickwork.zoo: faulted: init returned TW_ERR_PANICKED (the plugin \
             panicked); it logged: panic in init"
        ),
        "{}",
        common::stderr(&output)
    );
    let (status, reason) = status_of(&sandbox, &db, &bundle);
    assert_eq!(status, "faulted");
    assert!(reason.starts_with("at the last start: init returned TW_ERR_PANICKED"));
    margin_with_plugins(&sandbox, &db, "panic-init");
    let (output, result) = margin_with_plugins(&sandbox, &db, "panic-init");
    assert_eq!(result.unwrap()["initial"], "5680.00");
    assert!(
        common::stderr(&output).contains("plugin org.tickwork.zoo: disabled: faulted 3 times"),
        "{}",
        common::stderr(&output)
    );
    let (status, reason) = status_of(&sandbox, &db, &bundle);
    assert_eq!(status, "disabled");
    assert!(
        reason.starts_with("faulted 3 times; last: init returned"),
        "{reason}"
    );

    let enabled = ok(&tickwork(
        &sandbox,
        Some(&db),
        "ok",
        &["plugins", "enable", ZOO_ID],
    ));
    assert!(enabled.starts_with("enabled org.tickwork.zoo"), "{enabled}");
    assert_eq!(status_of(&sandbox, &db, &bundle).0, "trusted");
    ok(&tickwork(
        &sandbox,
        Some(&db),
        "ok",
        &["plugins", "disable", ZOO_ID],
    ));
    assert_eq!(
        status_of(&sandbox, &db, &bundle),
        ("disabled".to_owned(), "disabled by the user".to_owned())
    );
    // Trusting it again does not switch it back on.
    let again = tickwork(
        &sandbox,
        Some(&db),
        "ok",
        &["plugins", "trust", bundle.to_str().unwrap()],
    );
    ok(&again);
    assert!(
        common::stderr(&again).contains(
            "note: org.tickwork.zoo stays disabled (disabled by the user); `tickwork plugins \
             enable org.tickwork.zoo` switches it on"
        ),
        "{}",
        common::stderr(&again)
    );
    ok(&tickwork(
        &sandbox,
        Some(&db),
        "ok",
        &["plugins", "revoke", ZOO_ID],
    ));
    assert_eq!(status_of(&sandbox, &db, &bundle).0, "untrusted");
    let unknown = tickwork(&sandbox, Some(&db), "ok", &["plugins", "enable", ZOO_ID]);
    assert!(!unknown.status.success());
    assert!(common::stderr(&unknown).contains("org.tickwork.zoo: not in the allowlist"));
    let actions = db.psql("SELECT string_agg(action, ',' ORDER BY id) FROM audit_log");
    assert_eq!(
        actions,
        "plugin.trust,plugin.enable,plugin.disable,plugin.trust,plugin.revoke"
    );
}

#[test]
fn an_abort_in_init_kills_the_process_and_the_next_start_disables_the_plugin() {
    let (sandbox, bundles) = sandbox();
    let db = TestDatabase::create("plugins_abort");
    let bundle = bundles.join("zoo");
    pack_zoo(&sandbox, &bundle);
    ok(&tickwork(
        &sandbox,
        Some(&db),
        "ok",
        &["plugins", "trust", bundle.to_str().unwrap()],
    ));
    let (output, _) = margin_with_plugins(&sandbox, &db, "abort");
    use std::os::unix::process::ExitStatusExt as _;
    assert_eq!(output.status.signal(), Some(6), "{output:?}");
    // The dead process's journal is left behind; the next start reads it.
    let journals = sandbox.path().join("state/tickwork/plugins");
    assert_eq!(std::fs::read_dir(&journals).unwrap().count(), 1);

    let (output, result) = margin_with_plugins(&sandbox, &db, "ok");
    assert_eq!(result.unwrap()["initial"], "5680.00", "not loaded");
    let stderr = common::stderr(&output);
    assert!(
        stderr.contains("plugin org.tickwork.zoo: disabled: crashed in `init` at "),
        "{stderr}"
    );
    let (status, reason) = status_of(&sandbox, &db, &bundle);
    assert_eq!(status, "disabled");
    assert!(
        reason.starts_with("crashed in `init` at ")
            && reason.ends_with(" UTC; re-enable with `tickwork plugins enable org.tickwork.zoo`"),
        "{reason}"
    );
    // A clean run leaves no journal behind.
    assert_eq!(std::fs::read_dir(&journals).unwrap().count(), 0);

    ok(&tickwork(
        &sandbox,
        Some(&db),
        "ok",
        &["plugins", "enable", ZOO_ID],
    ));
    let (_, result) = margin_with_plugins(&sandbox, &db, "ok");
    assert_eq!(result.unwrap()["initial"], "5681.00");
    assert_eq!(std::fs::read_dir(&journals).unwrap().count(), 0);
}

/// Waits (bounded) for `child` to exit.
fn wait_exit(child: &mut std::process::Child) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "tickwork did not exit"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn headless_loads_trusted_plugins_at_start_and_a_crash_there_disables_them_next_time() {
    let (sandbox, bundles) = sandbox();
    let db = TestDatabase::create("plugins_headless");
    let bundle = bundles.join("zoo");
    pack_zoo(&sandbox, &bundle);
    ok(&tickwork(
        &sandbox,
        Some(&db),
        "ok",
        &["plugins", "trust", bundle.to_str().unwrap()],
    ));
    let headless = |zoo: &str, log: &Path| {
        let mut command = sandbox.command();
        command
            .env("TICKWORK_DATABASE_URL", db.url())
            .env("XDG_CACHE_HOME", sandbox.path().join("cache"))
            .env("TICKWORK_PLUGIN_PATH", &bundles)
            .env("TICKWORK_ZOO", zoo)
            // Nothing listens on port 1: the session keeps reconnecting, which is all we need.
            .args(["headless", "--port", "1", "--client-id", "5"])
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(log).unwrap());
        common::KillOnDrop(command.spawn().unwrap())
    };
    let journals = sandbox.path().join("state/tickwork/plugins");

    let log = sandbox.path().join("ok.log");
    let mut child = headless("ok", &log);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("plugin loaded")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "no `plugin loaded` line: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert_eq!(
        std::fs::read_dir(&journals).unwrap().count(),
        1,
        "its journal"
    );
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.0.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = wait_exit(&mut child.0);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(status.success(), "{status:?}: {text}");
    assert_eq!(
        std::fs::read_dir(&journals).unwrap().count(),
        0,
        "a clean stop leaves no journal"
    );

    let log = sandbox.path().join("abort.log");
    let mut child = headless("abort", &log);
    use std::os::unix::process::ExitStatusExt as _;
    assert_eq!(wait_exit(&mut child.0).signal(), Some(6));
    let (status, reason) = status_of(&sandbox, &db, &bundle);
    assert_eq!(status, "disabled");
    assert!(reason.starts_with("crashed in `init` at "), "{reason}");
}
