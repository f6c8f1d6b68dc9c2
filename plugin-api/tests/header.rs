//! The checked-in C header must be exactly what cbindgen makes of `src/abi.rs`.

use std::path::Path;

const REFRESH: &str = "TICKWORK_BLESS=1 cargo test -p tickwork-plugin-api header";

/// `#define`s for the `pub const TW_…: &str = "…";` items of abi.rs, with their doc lines
/// (cbindgen 0.29 has no string literals).
fn string_defines(abi: &str) -> String {
    let mut out = String::new();
    let mut docs: Vec<&str> = Vec::new();
    for line in abi.lines().map(str::trim) {
        if let Some(doc) = line.strip_prefix("///") {
            docs.push(doc.trim());
            continue;
        }
        if let Some(rest) = line.strip_prefix("pub const ")
            && let Some((name, value)) = rest.split_once(": &str = ")
            && let Some(value) = value.strip_suffix(';')
        {
            out.push_str(&format!(
                "\n/*\n {}\n */\n#define {name} {value}\n",
                docs.join("\n ")
            ));
        }
        docs.clear();
    }
    out
}

fn generate() -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let abi = std::fs::read_to_string(dir.join("src/abi.rs")).expect("src/abi.rs");
    let after = config.after_includes.get_or_insert_with(String::new);
    after.push_str(&string_defines(&abi));
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(dir.join("src/abi.rs"))
        .generate()
        .expect("cbindgen reads src/abi.rs");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("UTF-8 header")
}

#[test]
fn header_matches_abi() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("include/tickwork_plugin.h");
    let fresh = generate();
    if std::env::var_os("TICKWORK_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &fresh).expect("header written");
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    if checked_in != fresh {
        let line = checked_in
            .lines()
            .zip(fresh.lines())
            .position(|(a, b)| a != b)
            .map_or_else(
                || "the lengths differ".to_owned(),
                |i| format!("first difference at line {}", i + 1),
            );
        panic!(
            "{} differs from what src/abi.rs generates ({line}); refresh it with `{REFRESH}` and commit it",
            path.display()
        );
    }
}

#[test]
fn header_names_the_entry_symbol_and_the_capability_ids() {
    let header = generate();
    for needle in [
        "#ifndef TICKWORK_PLUGIN_H",
        "#define TW_ENTRY_V1 \"tickwork_plugin_entry_v1\"",
        "#define TW_CAP_STRATEGY_V1 \"tickwork.strategy/1\"",
        "#define TW_CAP_MARGIN_RULE_V1 \"tickwork.margin-rule/1\"",
        "#define TW_CAP_PANEL_GTK4_V1 \"tickwork.panel.gtk4/1\"",
        "#define TW_SVC_ORDERS_V1 \"tickwork.host.orders/1\"",
        "const struct TwPluginDescriptor *tickwork_plugin_entry_v1(void);",
        "typedef struct TwInstance TwInstance;",
        "typedef struct TwPluginDescriptor {",
        "#define TW_V1_0_SIZE_DESCRIPTOR 88",
    ] {
        assert!(header.contains(needle), "header lacks `{needle}`");
    }
}
