//! Methods and results.

use crate::explain::Node;
use rust_decimal::Decimal;
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// How the securities positions are margined. Futures and futures options are always margined by
/// the futures rules (IB keeps them in a separate commodities segment).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Reg T strategy-based margin with optimal grouping.
    RegT,
    /// Risk-based portfolio margin (TIMS-style scenarios + IB concentration stress).
    Portfolio,
    /// Only the futures segment (exchange per-contract rates or SPAN).
    Futures,
}

impl Method {
    /// The CLI spelling: `regt`, `portfolio`, `futures`.
    pub fn name(self) -> &'static str {
        match self {
            Method::RegT => "regt",
            Method::Portfolio => "portfolio",
            Method::Futures => "futures",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown method name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown margin method {0:?}: expected regt, portfolio or futures")]
pub struct UnknownMethod(pub String);

impl FromStr for Method {
    type Err = UnknownMethod;

    fn from_str(s: &str) -> Result<Method, UnknownMethod> {
        match s.to_ascii_lowercase().as_str() {
            "regt" | "reg_t" | "reg-t" => Ok(Method::RegT),
            "portfolio" | "pm" => Ok(Method::Portfolio),
            "futures" | "span" => Ok(Method::Futures),
            _ => Err(UnknownMethod(s.to_string())),
        }
    }
}

/// The account requirement with its explanation tree.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MarginResult {
    /// The method used.
    pub method: Method,
    /// Initial requirement (IB's time-of-trade figure under Reg T).
    pub initial: Decimal,
    /// Maintenance requirement.
    pub maintenance: Decimal,
    /// Reg T end-of-day (50%) initial figure; `Some` only under Reg T.
    pub reg_t_end_of_day: Option<Decimal>,
    /// One node per group (underlying / class group / commodity), plus account-level nodes.
    pub groups: Vec<Node>,
}
