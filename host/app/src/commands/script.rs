//! `tickwork script check FILE`: compile a script with the limits it runs under;
//! `tickwork script backtest FILE …` (in [`super::backtest`]).

use anyhow::Context as _;
use tickwork_core::scripting::strategy::StrategyScript;
use tickwork_core::scripting::{ScriptMarginRule, strategy_engine};

use crate::cli::ScriptCommand;
use crate::context::Context;

pub fn run(ctx: &Context, command: ScriptCommand) -> anyhow::Result<()> {
    match command {
        ScriptCommand::Backtest(args) => super::backtest::run(ctx, args),
        ScriptCommand::Check { file } => {
            let source = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let name = file
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("script");
            // A margin rule answers `fn margin(input)`; everything else is a strategy.
            let checked = if source.contains("fn margin(") {
                ScriptMarginRule::compile(name, &source).map(|_| ("margin rule", Vec::new()))
            } else {
                StrategyScript::compile(&strategy_engine(), name, &source)
                    .map(|script| ("strategy", script.warnings))
            };
            match checked {
                Ok((kind, warnings)) => {
                    for warning in warnings {
                        eprintln!("{}: warning: {warning}", file.display());
                    }
                    println!("{}: ok ({kind})", file.display());
                    Ok(())
                }
                Err(err) => {
                    // The one line editors and CI jobs jump to.
                    eprintln!("{}:{err}", file.display());
                    std::process::exit(1);
                }
            }
        }
    }
}
