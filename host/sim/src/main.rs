//! `tickwork-sim`: the TWS protocol simulator as a standalone program.

use clap::Parser;

#[derive(Parser, Debug)]
#[command(
    name = "tickwork-sim",
    version,
    about = "TWS / IB Gateway protocol simulator"
)]
struct Cli {
    #[command(flatten)]
    sim: tickwork_sim::SimArgs,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match tickwork_sim::run_cli(cli.sim) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tickwork-sim: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
