//! The C example (`plugins/c-margin-rule`) compiles against the checked-in header with `cc`,
//! exports the entry symbol, and computes through the same FakeHost as a Rust plugin.

use std::path::Path;
use std::process::Command;

use rust_decimal_macros::dec;
use tickwork_plugin_api::abi::{TW_ENTRY_V1_NUL, TwEntryV1};
use tickwork_plugin_api::sdk::testing::FakeHost;
use tickwork_plugin_api::sdk::{MarginInput, MarginLeg, MarginOutcome};

#[test]
fn the_c_margin_rule_builds_and_adds_its_fixed_amount() {
    let api = Path::new(env!("CARGO_MANIFEST_DIR"));
    let source = api.join("../plugins/c-margin-rule/margin_rule.c");
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("libtickwork_example_c_margin_rule.so");
    let out = Command::new("cc")
        .args([
            "-std=c11", "-shared", "-fPIC", "-Wall", "-Wextra", "-Werror", "-I",
        ])
        .arg(api.join("include"))
        .arg(&source)
        .arg("-o")
        .arg(&lib)
        .output()
        .expect("cc runs");
    assert!(
        out.status.success(),
        "cc failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // SAFETY: the library just built; its initialisers do nothing. It is leaked, as the host
    // never unloads plugins.
    let library = Box::leak(Box::new(unsafe { libloading::Library::new(&lib) }.unwrap()));
    // SAFETY: the symbol has the ABI's entry type.
    let entry: TwEntryV1 = *unsafe { library.get::<TwEntryV1>(TW_ENTRY_V1_NUL) }.unwrap();

    let host = FakeHost::new();
    // SAFETY: a v1 entry returning a static descriptor.
    let plugin = unsafe { host.load_entry(entry) }.unwrap();
    assert_eq!(plugin.id(), "org.tickwork.example.c-margin-rule");
    assert!(host.logged("C margin rule ready"));
    let rule = plugin
        .margin_rule("org.tickwork.example.c-fixed-add-on")
        .unwrap();
    let input = MarginInput {
        legs: vec![MarginLeg::stock("SPY", dec!(10), dec!(600))],
        equity: None,
        initial: dec!(1500),
        maintenance: dec!(1200),
    };
    assert_eq!(
        rule.compute(&input),
        Ok(MarginOutcome::AddOn {
            initial: dec!(250.00),
            maintenance: dec!(250.00),
            reason: "fixed add-on of 250.00 from the C example plugin".to_owned(),
        })
    );
    assert_eq!(
        rule.compute(&MarginInput::default()),
        Ok(MarginOutcome::Unchanged)
    );
}
