//! The margin calculator: the live portfolio of an account or a hypothetical one, margined by
//! the `tickwork-margin` engine (the same engine and file format as `tickwork margin`).

use std::path::PathBuf;

use rust_decimal::Decimal;
use tickwork_margin::{MarginResult, Method, Portfolio};

#[derive(Debug, Clone)]
pub enum MarginCommand {
    /// Reg T requirement of the live portfolio of an account; answered with
    /// [`MarginEvent::LiveSummary`] (the positions panel shows it beside TWS's figures).
    Live { account: String },
    /// The live portfolio of an account as the engine's snapshot; answered with
    /// [`MarginEvent::LivePortfolio`].
    LoadLive { account: String },
    /// Margin `portfolio` by `method`; answered with [`MarginEvent::Calculated`] carrying the
    /// same `request` number (the panel drops stale answers).
    Calculate {
        request: u64,
        portfolio: Box<Portfolio>,
        method: Method,
    },
    /// Read a portfolio file; answered with [`MarginEvent::Imported`].
    Import { path: PathBuf },
    /// Write a portfolio file; answered with [`MarginEvent::Exported`].
    Export {
        path: PathBuf,
        portfolio: Box<Portfolio>,
    },
}

#[derive(Debug, Clone)]
pub enum MarginEvent {
    /// Our Reg T figures for an account's live portfolio.
    LiveSummary {
        account: String,
        initial: Decimal,
        maintenance: Decimal,
    },
    LivePortfolio {
        account: String,
        portfolio: Box<Portfolio>,
        /// Equity with loan value, as TWS reported it.
        equity: Option<Decimal>,
        /// Holdings left out, and why (no price, unsupported kind…), one line each.
        left_out: Vec<String>,
    },
    Calculated {
        request: u64,
        /// The engine's result, or its one-line error naming the input.
        result: Result<Box<MarginResult>, String>,
    },
    Imported {
        path: PathBuf,
        /// The portfolio, or one line naming the file, the line and the field.
        portfolio: Result<Box<Portfolio>, String>,
    },
    Exported {
        path: PathBuf,
        outcome: Result<(), String>,
    },
}
