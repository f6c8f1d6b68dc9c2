//! `tickwork risk show|set` against a database on the test PostgreSQL server: limits per
//! account, validated, every change in the audit log.

mod common;

use std::process::Output;

use common::{Sandbox, TestDatabase, error_line};

fn risk(sandbox: &Sandbox, db: &TestDatabase, args: &[&str]) -> Output {
    sandbox
        .command()
        .env("TICKWORK_DATABASE_URL", db.url())
        .arg("risk")
        .args(args)
        .output()
        .unwrap()
}

fn ok(output: Output) -> String {
    assert!(output.status.success(), "{}", common::stderr(&output));
    String::from_utf8(output.stdout).unwrap()
}

fn json(output: Output) -> serde_json::Value {
    serde_json::from_str(&ok(output)).unwrap()
}

#[test]
fn show_marks_defaults_set_stores_and_audits_old_and_new() {
    let sandbox = Sandbox::new();
    let db = TestDatabase::create("risk_set");

    let shown = ok(risk(&sandbox, &db, &["show", "DU1"]));
    assert!(
        shown.starts_with("DU1: defaults (no limits stored"),
        "{shown}"
    );
    assert!(shown.contains("max_quantity           500"), "{shown}");
    assert!(shown.contains("max_quote_age_ms       5000"), "{shown}");
    assert!(shown.contains("allow_delayed_quotes   false"), "{shown}");
    let before = json(risk(&sandbox, &db, &["show", "DU1", "--json"]));
    assert_eq!(before["source"], "defaults");
    assert_eq!(before["updated_at"], serde_json::Value::Null);
    assert_eq!(before["limits"]["price_collar"], "0.05");

    let set = ok(risk(
        &sandbox,
        &db,
        &[
            "set",
            "DU1",
            "max_quantity=100",
            "price_collar=2%",
            "max_quote_age_ms=1500",
            "allow_delayed_quotes=true",
        ],
    ));
    assert!(set.contains("DU1: max_quantity 500 -> 100"), "{set}");
    assert!(set.contains("DU1: price_collar 0.05 -> 0.02"), "{set}");
    assert!(
        !set.contains("max_notional"),
        "only changed keys are listed: {set}"
    );

    let after = json(risk(&sandbox, &db, &["show", "DU1", "--json"]));
    assert_eq!(after["source"], "stored");
    assert!(after["updated_at"].is_string());
    assert_eq!(after["limits"]["max_quantity"], "100");
    assert_eq!(after["limits"]["price_collar"], "0.02");
    assert_eq!(after["limits"]["max_quote_age_ms"], 1500);
    assert_eq!(after["limits"]["allow_delayed_quotes"], true);
    assert_eq!(
        after["limits"]["max_notional"], "50000",
        "untouched keys keep the defaults"
    );

    // A second change starts from the stored values.
    ok(risk(&sandbox, &db, &["set", "DU1", "max_daily_loss=750.5"]));
    let all = json(risk(&sandbox, &db, &["show", "--json"]));
    assert_eq!(all["defaults"]["max_quantity"], "500");
    let accounts = all["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0]["account"], "DU1");
    assert_eq!(accounts[0]["limits"]["max_quantity"], "100");
    assert_eq!(accounts[0]["limits"]["max_daily_loss"], "750.5");
    let table = ok(risk(&sandbox, &db, &["show"]));
    let header = table.lines().next().unwrap();
    assert!(
        header.starts_with("KEY") && header.contains("DEFAULTS") && header.ends_with("DU1"),
        "{table}"
    );
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("max_quantity") && l.ends_with("100")),
        "{table}"
    );

    // Both changes are audited, by the CLI, with the values before and after.
    let audit = db.psql(
        "SELECT actor || '|' || action || '|' || (details->>'old_was_default') || '|' || \
         (details->'old'->>'max_quantity') || '|' || (details->'new'->>'max_quantity') || '|' || \
         (details->'changed')::text FROM audit_log ORDER BY id",
    );
    let lines: Vec<&str> = audit.lines().collect();
    assert_eq!(
        lines,
        [
            r#"cli|risk.limits_set|true|500|100|["max_quantity", "price_collar", "max_quote_age_ms", "allow_delayed_quotes"]"#,
            r#"cli|risk.limits_set|false|100|100|["max_daily_loss"]"#,
        ],
        "{audit}"
    );
}

#[test]
fn bad_changes_are_one_line_errors_and_change_nothing() {
    let sandbox = Sandbox::new();
    let db = TestDatabase::create("risk_bad");
    ok(risk(&sandbox, &db, &["set", "DU1", "max_quantity=100"]));

    for (args, says) in [
        (
            vec!["set", "DU1", "max_qty=5"],
            "risk set DU1: unknown risk limit `max_qty` (known: max_quantity,",
        ),
        (
            vec!["set", "DU1", "max_quantity=50", "price_collar=1.5"],
            "risk set DU1: price_collar: `1.5` must be more than 0 and at most 1",
        ),
        (
            vec!["set", "DU1", "max_quantity=-3"],
            "risk set DU1: max_quantity: `-3` must be greater than 0",
        ),
        (
            vec!["set", "DU1", "max_orders_per_minute=2.5"],
            "risk set DU1: max_orders_per_minute: `2.5` is not a whole number",
        ),
        (
            vec!["set", "DU1", "allow_delayed_quotes=yes"],
            "risk set DU1: allow_delayed_quotes: `yes` is not true or false",
        ),
        (
            vec!["set", "DU1", "max_quantity"],
            "`max_quantity`: expected KEY=VALUE",
        ),
        (vec!["set", "DU1", "=5"], "`=5`: expected KEY=VALUE"),
        (
            vec!["set", "DU 1", "max_quantity=5"],
            "account `DU 1`: must be a non-empty name without spaces",
        ),
    ] {
        let line = error_line(&risk(&sandbox, &db, &args));
        assert!(line.contains(says), "{args:?}: {line}");
    }
    // Nothing was stored by the refused commands (not even their valid parts), nor audited.
    let shown = json(risk(&sandbox, &db, &["show", "DU1", "--json"]));
    assert_eq!(shown["limits"]["max_quantity"], "100");
    assert_eq!(shown["limits"]["price_collar"], "0.05");
    assert_eq!(db.psql("SELECT count(*) FROM audit_log"), "1");
    assert_eq!(db.psql("SELECT count(*) FROM risk_limits"), "1");

    let usage = risk(&sandbox, &db, &["set", "DU1"]);
    assert_eq!(usage.status.code(), Some(2), "KEY=VALUE is required");
}
