//! One module per subcommand family; each returns `anyhow::Result` and prints its own output.

pub mod backtest;
pub mod db;
pub mod headless;
mod headless_plugins;
mod headless_strategies;
pub mod margin;
pub mod plugins;
pub mod profile;
pub mod risk;
pub mod script;
pub mod secret;
