//! `tickwork margin PORTFOLIO.json [--method regt|portfolio|futures] [--json] [--rule FILE.rhai]…
//! [--plugins]`: the margin engine on a portfolio file (format: `docs/margin.md`), with
//! margin-rule scripts applied on top (`docs/scripting.md`), then, with `--plugins`, the margin
//! rules of the trusted native plugins (`docs/operations.md`, "Plugins").

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use tickwork_core::risk::margin::{MarginRules, SharedRule};
use tickwork_core::scripting::ScriptMarginRule;
use tickwork_margin::{
    Method, OverridePolicy, compute, parse_portfolio, render_json_text, render_table,
};

use tickwork_core::plugins::{PluginEnv, margin_rule, registry};
use tickwork_core::store::open;

use crate::cli::MarginArgs;
use crate::context::{Context, runtime};

/// Compiles a rule file; a script error is the one line editors jump to, `FILE:LINE:COL: …`,
/// and the command exits 1 before computing anything.
fn compile_rule(path: &Path) -> anyhow::Result<SharedRule> {
    let source = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    let name = path.file_stem().map_or_else(
        || path.display().to_string(),
        |s| s.to_string_lossy().into(),
    );
    match ScriptMarginRule::compile(&name, &source) {
        Ok(rule) => Ok(Arc::new(rule)),
        Err(err) => {
            let separator = if err.line.is_some() { ":" } else { ": " };
            eprintln!("{}{separator}{err}", path.display());
            std::process::exit(1);
        }
    }
}

pub fn run(args: MarginArgs) -> anyhow::Result<()> {
    compute_and_print(args, Vec::new())
}

/// `--plugins`: loads the trusted, enabled plugins (as `tickwork headless` does) and applies
/// their margin rules after the scripts; a plugin that is not loaded is named on stderr.
pub fn run_with_plugins(ctx: &Context, args: MarginArgs) -> anyhow::Result<()> {
    let env = PluginEnv::from_paths(&ctx.paths, None);
    let target = ctx.database_target()?;
    let loaded = runtime()?.block_on(async move {
        let opened = open(target, true).await?;
        let loaded = registry::load_all(opened.store.pool(), &env).await;
        opened.close().await?;
        anyhow::Ok(loaded?)
    })?;
    for report in &loaded.reports {
        if let Some(reason) = report.status.reason() {
            eprintln!("plugin {}: {}: {reason}", report.id, report.status.name());
        }
    }
    let result = compute_and_print(args, margin_rule::registered());
    registry::shutdown_all();
    result
}

fn compute_and_print(args: MarginArgs, plugin_rules: Vec<SharedRule>) -> anyhow::Result<()> {
    let path = args.portfolio.display().to_string();
    let text =
        std::fs::read_to_string(&args.portfolio).with_context(|| format!("{path}: cannot read"))?;
    let method: Method = args
        .method
        .parse()
        .map_err(|e| anyhow::anyhow!("--method: {e}"))?;
    let rules = args
        .rules
        .iter()
        .map(|rule| compile_rule(rule))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let portfolio = parse_portfolio(&text).map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
    let result = compute(&portfolio, method).map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
    // A portfolio file has no equity: rules see `input.equity` as `()`.
    let first_rule = result.groups.len();
    let result = MarginRules::new(rules, OverridePolicy::OnlyRaise)
        .chain(plugin_rules)
        .apply(&portfolio, result, None);
    let mut out = std::io::stdout().lock();
    if args.json {
        // Keys in the documented order: method, initial, maintenance, reg_t_end_of_day, groups.
        writeln!(out, "{}", render_json_text(&result))?;
    } else {
        write!(out, "{}", render_table(&result))?;
        // The table shows each rule's amounts; what it said (or why it failed) follows.
        for node in &result.groups[first_rule..] {
            let name = node
                .label
                .strip_prefix("custom rule ")
                .unwrap_or(&node.label);
            match node.detail.as_str() {
                "" => writeln!(out, "{name}: {}", node.rule)?,
                detail => writeln!(out, "{name}: {}: {detail}", node.rule)?,
            }
        }
    }
    Ok(())
}
