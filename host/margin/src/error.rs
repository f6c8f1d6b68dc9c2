//! Errors. Both carry a path (`positions[3].strike`) so that the CLI can print one line that says
//! exactly where the problem is.

use thiserror::Error;

/// A malformed portfolio file: `path: message`, one line.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("{path}: {message}")]
pub struct PortfolioError {
    /// Where in the file, e.g. `positions[3].strike`.
    pub path: String,
    /// What is wrong, e.g. `expected a decimal, got "abc"`.
    pub message: String,
}

impl PortfolioError {
    pub(crate) fn new(path: impl Into<String>, message: impl Into<String>) -> PortfolioError {
        PortfolioError {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// A snapshot the engine cannot margin (missing underlying, missing futures rate, ...).
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("{path}: {message}")]
pub struct MarginError {
    /// The offending input, e.g. `positions[2].symbol` or `futures_margins.ES`.
    pub path: String,
    /// What is missing or inconsistent.
    pub message: String,
}

impl MarginError {
    pub(crate) fn new(path: impl Into<String>, message: impl Into<String>) -> MarginError {
        MarginError {
            path: path.into(),
            message: message.into(),
        }
    }
}
