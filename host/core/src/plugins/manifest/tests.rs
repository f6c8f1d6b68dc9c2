use super::*;

const GOOD: &str = r#"
id = "com.example.pairs"
version = "1.4.2"
abi = "1.0"
library = "libpairs.so"
sha256 = "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"

[requires]
gtk = "4.8"

[provides]
strategies = ["com.example.pairs.spread"]
margin_rules = []

[permissions]
market_data = ["subscribe"]
orders = ["submit:paper", "submit:live"]
storage = ["own-namespace"]
margin = ["override"]
"#;

fn parse_err(text: &str) -> String {
    parse(Path::new("/b/plugin.toml"), text)
        .unwrap_err()
        .to_string()
}

#[test]
fn a_full_manifest_parses() {
    let m = parse(Path::new("plugin.toml"), GOOD).unwrap();
    assert_eq!(m.id, "com.example.pairs");
    assert_eq!(m.abi, AbiVersion { major: 1, minor: 0 });
    assert_eq!(
        m.sha256.as_deref(),
        Some("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
    );
    assert_eq!(m.gtk_minor, Some(8));
    assert_eq!(m.provides.strategies, ["com.example.pairs.spread"]);
    assert!(m.provides.margin_rules.is_empty());
    assert_eq!(
        m.permissions,
        Permissions {
            market_data: true,
            orders_paper: true,
            orders_live: true,
            storage: true,
            margin_override: true,
        }
    );
}

#[test]
fn the_minimal_manifest_asks_for_nothing() {
    let m = parse(
        Path::new("plugin.toml"),
        "id = \"org.x.y\"\nversion = \"0.1\"\nabi = \"1.0\"\nlibrary = \"liby.so\"\n",
    )
    .unwrap();
    assert_eq!(m.permissions, Permissions::default());
    assert!(m.provides.is_empty() && m.sha256.is_none() && m.gtk_minor.is_none());
}

/// Every error is one line naming the file and the field.
#[test]
fn every_error_names_the_file_and_the_field() {
    let cases: &[(&str, &str, &str)] = &[
        ("id = \"com.example.pairs\"", "id = \"Pairs\"", ": id: "),
        ("id = \"com.example.pairs\"", "id = \"pairs\"", ": id: "),
        ("id = \"com.example.pairs\"", "", ": id: missing"),
        ("version = \"1.4.2\"", "version = \"1 4\"", ": version: "),
        (
            "version = \"1.4.2\"",
            "version = 1",
            ": version: expected a string, found integer",
        ),
        (
            "abi = \"1.0\"",
            "abi = \"1\"",
            ": abi: `1`: expected MAJOR.MINOR",
        ),
        ("abi = \"1.0\"", "abi = \"1.x\"", ": abi: "),
        (
            "library = \"libpairs.so\"",
            "library = \"../libpairs.so\"",
            ": library: ",
        ),
        ("library = \"libpairs.so\"", "", ": library: missing"),
        (
            "sha256 = \"9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08\"",
            "sha256 = \"abc\"",
            ": sha256: `abc` is not 64 hex digits",
        ),
        ("gtk = \"4.8\"", "gtk = \"3.24\"", ": requires.gtk: "),
        ("gtk = \"4.8\"", "qt = \"6\"", ": requires.qt: unknown key"),
        (
            "margin_rules = []",
            "margin_rule = []",
            ": provides.margin_rule: unknown key",
        ),
        (
            "margin_rules = []",
            "margin_rules = [\"a\", \"b\"]",
            ": provides.margin_rules: 2 ids listed",
        ),
        (
            "margin_rules = []",
            "margin_rules = \"a\"",
            ": provides.margin_rules: expected an array of strings, found string",
        ),
        (
            "orders = [\"submit:paper\", \"submit:live\"]",
            "orders = [\"submit:everything\"]",
            ": permissions.orders: unknown permission `submit:everything`",
        ),
        (
            "storage = [\"own-namespace\"]",
            "storage = [\"own-namespace\", \"own-namespace\"]",
            ": permissions.storage: `own-namespace` listed twice",
        ),
        (
            "margin = [\"override\"]",
            "network = [\"any\"]",
            ": permissions.network: unknown key",
        ),
        (
            "abi = \"1.0\"",
            "abi = \"1.0\"\nauthor = \"me\"",
            ": author: unknown key",
        ),
        (
            "[requires]",
            "requires = 4",
            ": requires: expected a table, found integer",
        ),
        ("abi = \"1.0\"", "abi = \"1.0", ": line 4: "),
    ];
    for (from, to, expected) in cases {
        assert!(GOOD.contains(from), "{from}");
        let text = GOOD.replacen(from, to, 1);
        let message = parse_err(&text);
        assert!(
            message.starts_with("/b/plugin.toml: ") && message.contains(expected),
            "{to}: {message}"
        );
        assert!(!message.contains('\n'), "{message}");
    }
}

#[test]
fn an_unreadable_file_is_named() {
    let message = load(Path::new("/nonexistent/plugin.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        message.starts_with("/nonexistent/plugin.toml: file: cannot read"),
        "{message}"
    );
}
