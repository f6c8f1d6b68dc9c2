//! `tickwork script check FILE`: compile a script with the limits it runs under;
//! `tickwork script backtest FILE …` (in [`super::backtest`]).

use anyhow::Context as _;
use tickwork_core::scripting::{check, strategy_engine};

use crate::cli::ScriptCommand;
use crate::context::Context;

pub fn run(ctx: &Context, command: ScriptCommand) -> anyhow::Result<()> {
    match command {
        ScriptCommand::Backtest(args) => super::backtest::run(ctx, args),
        ScriptCommand::Check { file } => {
            let source = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            match check(&strategy_engine(), &source) {
                Ok(_) => {
                    println!("{}: ok", file.display());
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
