//! Plugins this workspace did not build load into the current host: the C example
//! (`plugins/c-margin-rule`, compiled with `cc` against the checked-in header) and a Rust plugin
//! in its own Cargo project, with its own lockfile and target directory, depending on
//! `tickwork-plugin-api` as `cargo package` publishes it. Both are packed, trusted and loaded
//! by `tickwork margin --plugins`, and their rules show in the explanation.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{Sandbox, TestDatabase};

const BOOK: &str = r#"{
  "underlyings": {"AAPL": {"price": "187.20", "class": "equity"}},
  "positions": [{"kind": "stock", "symbol": "AAPL", "qty": 100, "price": "187.20"}]
}"#;

const EXTERNAL_LIB: &str = r#"//! A margin rule built outside the Tickwork workspace.

use rust_decimal::Decimal;
use tickwork_plugin_api::sdk::{MarginInput, MarginOutcome, MarginRule};

tickwork_plugin_api::export_plugin! {
    id: "org.example.external",
    version: env!("CARGO_PKG_VERSION"),
    strategies: [],
    margin_rules: [Flat],
    panels: [],
}

/// Adds 7.00 per leg.
pub struct Flat;

impl MarginRule for Flat {
    const RULE_ID: &'static str = "org.example.external.flat";

    fn compute(input: &MarginInput) -> Result<MarginOutcome, String> {
        let add = Decimal::new(700, 2) * Decimal::from(input.legs.len());
        Ok(MarginOutcome::AddOn {
            initial: add,
            maintenance: add,
            reason: format!("7.00 per leg, {} legs", input.legs.len()),
        })
    }
}
"#;

const EXTERNAL_MANIFEST: &str = r#"id = "org.example.external"
version = "0.3.0"
abi = "1.0"
library = "liborg_example_external.so"

[provides]
margin_rules = ["org.example.external.flat"]
"#;

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn ok(what: &str, output: &Output) -> String {
    assert!(
        output.status.success(),
        "{what}: {:?}\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        common::stderr(output)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `tickwork-plugin-api` as `cargo package` would publish it, unpacked under `dir`.
fn published_api(dir: &Path) -> PathBuf {
    let workspace = concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.toml");
    let target = dir.join("package-target");
    ok(
        "cargo package",
        &cargo()
            .args([
                "package",
                "--quiet",
                "--no-verify",
                "--allow-dirty",
                "-p",
                "tickwork-plugin-api",
                "--manifest-path",
                workspace,
                "--target-dir",
            ])
            .arg(&target)
            .output()
            .unwrap(),
    );
    let version = env!("CARGO_PKG_VERSION");
    let crate_file = target
        .join("package")
        .join(format!("tickwork-plugin-api-{version}.crate"));
    ok(
        "tar",
        &Command::new("tar")
            .arg("-xzf")
            .arg(&crate_file)
            .arg("-C")
            .arg(dir)
            .output()
            .unwrap(),
    );
    let unpacked = dir.join(format!("tickwork-plugin-api-{version}"));
    let manifest = std::fs::read_to_string(unpacked.join("Cargo.toml")).unwrap();
    let dependencies = manifest
        .split("\n[")
        .filter(|table| table.starts_with("dependencies"))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        !manifest.contains("workspace = true") && !dependencies.contains("path ="),
        "the published manifest stands alone:\n{manifest}"
    );
    unpacked
}

/// Builds the external plugin in its own project; answers its library.
fn external_plugin(dir: &Path) -> PathBuf {
    let api = published_api(dir);
    let project = dir.join("external");
    std::fs::create_dir_all(project.join("src")).unwrap();
    std::fs::write(
        project.join("Cargo.toml"),
        format!(
            "[package]\nname = \"org-example-external\"\nversion = \"0.3.0\"\nedition = \"2021\"\n\
             \n[lib]\nname = \"org_example_external\"\ncrate-type = [\"cdylib\"]\n\n\
             [dependencies]\ntickwork-plugin-api = {{ path = \"{}\" }}\nrust_decimal = \"1.43\"\n\n\
             # Not part of any workspace around it.\n[workspace]\n",
            api.display()
        ),
    )
    .unwrap();
    std::fs::write(project.join("src/lib.rs"), EXTERNAL_LIB).unwrap();
    ok(
        "building the external plugin",
        &cargo()
            .args(["build", "--quiet", "--manifest-path"])
            .arg(project.join("Cargo.toml"))
            .arg("--target-dir")
            .arg(dir.join("external-target"))
            .env_remove("RUSTFLAGS")
            .output()
            .unwrap(),
    );
    assert!(project.join("Cargo.lock").is_file(), "its own lockfile");
    std::fs::write(project.join("plugin.toml"), EXTERNAL_MANIFEST).unwrap();
    dir.join("external-target/debug/liborg_example_external.so")
}

/// The C example, compiled against the checked-in header.
fn c_plugin(dir: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let library = dir.join("libtickwork_example_c_margin_rule.so");
    ok(
        "cc",
        &Command::new("cc")
            .args(["-std=c11", "-shared", "-fPIC", "-Wall", "-Werror", "-I"])
            .arg(root.join("plugin-api/include"))
            .arg(root.join("plugins/c-margin-rule/margin_rule.c"))
            .arg("-o")
            .arg(&library)
            .output()
            .unwrap(),
    );
    library
}

#[test]
fn a_c_plugin_and_a_plugin_built_outside_the_workspace_load_into_the_host() {
    let sandbox = Sandbox::new();
    let db = TestDatabase::create("foreign_plugins");
    let work = sandbox.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let bundles = sandbox.path().join("bundles");
    let tickwork = |args: &[&str]| {
        sandbox
            .command()
            .env("TICKWORK_DATABASE_URL", db.url())
            .env("XDG_CACHE_HOME", sandbox.path().join("cache"))
            .env("TICKWORK_PLUGIN_PATH", &bundles)
            .args(args)
            .output()
            .unwrap()
    };

    let c_library = c_plugin(&work);
    let external_library = external_plugin(&work);
    let c_manifest =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../plugins/c-margin-rule/plugin.toml");
    let external_manifest = work.join("external/plugin.toml");
    for (name, manifest, library) in [
        ("c", c_manifest.as_path(), c_library.as_path()),
        (
            "external",
            external_manifest.as_path(),
            external_library.as_path(),
        ),
    ] {
        let out = bundles.join(name);
        let (manifest, library, out) = (
            manifest.to_str().unwrap(),
            library.to_str().unwrap(),
            out.to_str().unwrap(),
        );
        ok(
            "pack",
            &tickwork(&[
                "plugins",
                "pack",
                "--manifest",
                manifest,
                "--library",
                library,
                "--out",
                out,
            ]),
        );
        ok("verify", &tickwork(&["plugins", "verify", out]));
        ok("trust", &tickwork(&["plugins", "trust", out]));
    }

    let book = sandbox.path().join("book.json");
    std::fs::write(&book, BOOK).unwrap();
    let text = ok(
        "margin --plugins",
        &tickwork(&["margin", book.to_str().unwrap(), "--plugins", "--json"]),
    );
    let result: serde_json::Value = serde_json::from_str(&text).unwrap();
    let labels: Vec<String> = result["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["label"].as_str().unwrap_or("").to_owned())
        .collect();
    for rule in [
        "custom rule plugin:org.tickwork.example.c-margin-rule/org.tickwork.example.c-fixed-add-on",
        "custom rule plugin:org.example.external/org.example.external.flat",
    ] {
        assert!(labels.iter().any(|l| l == rule), "{rule} in {labels:?}");
    }
    assert!(text.contains("7.00 per leg, 1 legs"), "{text}");
    assert!(text.contains("fixed add-on of 250.00"), "{text}");
}
