//! User scripts in Rhai: one engine factory with every limit set, exact decimals (`no_float`:
//! a literal with a decimal point is a `Decimal`), a wall-clock deadline per call, errors at
//! line and column, and the `ta` module of incremental indicators written in Rust.
//!
//! Strategies and margin rules are built on this (the strategy host comes with strategies;
//! [`margin_rule`] is the margin-rule engine); `tickwork script check` uses [`check`].

pub mod backtest;
mod engine;
mod error;
pub mod host;
pub mod margin_rule;
pub mod strategy;
pub mod ta;

pub use engine::{
    DEADLINE, MARGIN_OPERATIONS, STRATEGY_OPERATIONS, base_engine, check, strategy_engine,
    with_deadline,
};
pub use error::ScriptError;
pub use margin_rule::{ScriptMarginRule, load_margin_rules, margin_engine};
