//! `tickwork`: the desktop workbench and its command line.

use std::process::ExitCode;

use clap::Parser;
use tickwork_core::config::LogLevel;

use tickwork::cli::{Cli, Command};
use tickwork::context::Context;
use tickwork::{commands, gui};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // `tickwork … | head` closing the pipe early is not an error.
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            // One line: the error and its causes, joined; any URL in it without its password.
            let text = tickwork_core::config::redact_urls(&format!("{err:#}"));
            eprintln!(
                "tickwork: error: {}",
                text.split_whitespace().collect::<Vec<_>>().join(" ")
            );
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let command = match cli.command {
        // The margin engine is pure: no config, database or logging needed (unless it applies
        // the plugins' rules, which the allowlist decides).
        Some(Command::Margin(args)) if !args.plugins => return commands::margin::run(args),
        // Checking or packing a bundle needs no config or database either.
        Some(Command::Plugins(command)) => match commands::plugins::run_offline(&command) {
            Some(result) => return result,
            None => Some(Command::Plugins(command)),
        },
        // The simulator sets up its own logging and runtime.
        Some(Command::Sim(args)) => return Ok(tickwork_sim::run_cli(args)?),
        other => other,
    };
    // Commands keep the terminal for their output; the window and headless mode log at the
    // configured level.
    let stderr_level = match &command {
        None | Some(Command::Headless(_)) => None,
        Some(_) => Some(LogLevel::Warn),
    };
    let ctx = Context::load(cli.config, stderr_level)?;
    match command {
        Some(Command::Db(command)) => commands::db::run(&ctx, command),
        Some(Command::Secret(command)) => commands::secret::run(&ctx, command),
        Some(Command::Headless(args)) => commands::headless::run(&ctx, args),
        Some(Command::Profile(command)) => commands::profile::run(&ctx, command),
        Some(Command::Risk(command)) => commands::risk::run(&ctx, command),
        Some(Command::Script(command)) => commands::script::run(&ctx, command),
        Some(Command::Plugins(command)) => commands::plugins::run(&ctx, command),
        Some(Command::Margin(args)) => commands::margin::run_with_plugins(&ctx, args),
        Some(Command::Sim(_)) => Ok(()),
        None => {
            let target = if cli.demo {
                ctx.embedded_target()
            } else {
                ctx.database_target()?
            };
            gui::run(target, cli.demo, cli.profile, cli.screenshot)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
