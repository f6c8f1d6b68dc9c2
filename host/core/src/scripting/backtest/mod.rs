//! Backtests: a strategy script run over historical bars with a documented fill model, its
//! trades, equity curve and statistics, and sweeps over parameter sets. The script runs in the
//! same [`StrategyInstance`](crate::scripting::strategy::StrategyInstance) as on paper and live;
//! only the source of events differs (see `docs/scripting.md`, "Backtests" and "Parity between
//! modes").

pub mod bars;
pub mod fill;
pub mod reference;
mod run;
pub mod stats;
mod sweep;

pub use bars::{BarsError, load_csv, load_pg};
pub use fill::{FillModel, Match, OptionContract, OrderTerms, PriceBar};
pub use run::{
    BacktestError, BacktestStrategy, MAX_CONSOLE_LINES, MAX_EVENTS_PER_BAR, MAX_QUANTITY, backtest,
    run_strategy,
};
pub use stats::{BacktestReport, EXPIRY_TAG, Stats, Trade};
pub use sweep::{SweepResult, grid, parse_axis, sweep};

#[cfg(test)]
mod tests;
