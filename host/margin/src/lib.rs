//! `tickwork-margin`: a pure margin engine (no I/O, no async, `rust_decimal` for every amount) that
//! reproduces Interactive Brokers' requirements for a portfolio snapshot, with an explanation tree
//! on every result. Rules, their sources, methodology and known differences from IB:
//! `docs/margin.md`.
//!
//! # Methods
//! - **Reg T** ([`Method::RegT`]): IB's strategy-based rules; the book of each underlying is
//!   carved into strategies by an exact search that minimises the requirement (not greedy).
//!   Reports initial (IB's time-of-trade figure), maintenance and the end-of-day Reg T 50% figure.
//! - **Portfolio margin** ([`Method::Portfolio`]): TIMS-style scenarios over the class range with
//!   Black-Scholes / Black-76 and a volatility-up stress, the $0.375 × multiplier minimum (a long
//!   option at most its value) and IB's concentration stress.
//! - **Futures** ([`Method::Futures`]): exchange per-contract rates from a dated table, or SPAN
//!   when risk arrays are given. Futures are margined this way under every method (IB's separate
//!   commodities segment).
//!
//! # API for `tickwork margin PORTFOLIO.json [--method regt|portfolio|futures] [--json]`
//! ```
//! use tickwork_margin::{Method, compute, parse_portfolio, render_json, render_table};
//! let file = r#"{"underlyings": {"AAPL": {"price": "187.20", "class": "equity"}},
//!                "positions": [{"kind": "stock", "symbol": "AAPL", "qty": 100, "price": "187.20"}]}"#;
//! let portfolio = parse_portfolio(file).expect("one-line error naming the field");
//! let method: Method = "regt".parse().expect("regt, portfolio or futures");
//! let result = compute(&portfolio, method).expect("one-line error naming the input");
//! assert_eq!(render_json(&result)["initial"], "4680.00");
//! let _table: String = render_table(&result);
//! ```
//! - [`parse_portfolio`]`(&str) -> Result<Portfolio, PortfolioError>`: errors display as one line,
//!   `positions[3].strike: expected a decimal, got "abc"`.
//! - [`compute`]`(&Portfolio, Method) -> Result<MarginResult, MarginError>`: errors display as one
//!   line naming the input (`futures_margins.ES: missing ...`).
//! - [`render_json`]`(&MarginResult) -> serde_json::Value`: exactly `{"method", "initial",
//!   "maintenance", "reg_t_end_of_day" (Reg T only), "groups": [...]}`, amounts as decimal strings
//!   rounded to the cent.
//! - [`render_json_text`]`(&MarginResult) -> String`: the same JSON pretty-printed with the keys in
//!   that order (what `--json` should print; `serde_json` would otherwise sort keys).
//! - [`render_table`]`(&MarginResult) -> String`: a human-readable table.
//!
//! # Other entry points
//! - [`MarginBook`]: cached per-underlying results; [`MarginBook::what_if`] prices a proposed
//!   order by recomputing only its underlying.
//! - [`CustomRule`] and [`apply_custom_rules`]: the extension point for scripts and plugins.
//! - [`compute_regt`] with a [`Grouping`]: the greedy / naked baselines used by tests and benchmarks.

#![warn(missing_docs)]

pub mod custom_rule;
pub mod date;
mod engine;
pub mod error;
pub mod explain;
mod futures;
mod group;
pub mod model;
pub mod portfolio_file;
pub mod portfolio_margin;
pub mod portfolio_write;
mod regt;
pub mod render;
pub mod result;
mod validate;

pub use custom_rule::{CustomRule, OverridePolicy, RuleOutcome, apply_custom_rules};
pub use date::Date;
pub use engine::{MarginBook, WhatIf};
pub use error::{MarginError, PortfolioError};
pub use explain::Node;
pub use model::{
    DatedMargin, Instrument, OptionSpec, Portfolio, Position, Right, RiskArray, SpanParams,
    Underlying, UnderlyingClass,
};
pub use portfolio_file::parse_portfolio;
pub use portfolio_write::{locate, write_portfolio};
pub use regt::Grouping;
pub use render::{render_json, render_json_text, render_table};
pub use result::{MarginResult, Method, UnknownMethod};

/// Computes the account requirement of `portfolio` by `method`.
pub fn compute(portfolio: &Portfolio, method: Method) -> Result<MarginResult, MarginError> {
    Ok(MarginBook::new(portfolio.clone(), method)?.result())
}

/// Reg T with a chosen grouping: [`Grouping::Optimal`] is what [`compute`] uses; `Greedy` and
/// `Naked` are baselines.
pub fn compute_regt(
    portfolio: &Portfolio,
    grouping: Grouping,
) -> Result<MarginResult, MarginError> {
    Ok(MarginBook::with_grouping(portfolio.clone(), Method::RegT, grouping)?.result())
}
