//! The portfolio snapshot the engine works on: underlyings with a class and a price, positions with
//! their marks, and the futures margin inputs. Every price, quantity and amount is a `Decimal`.

use crate::date::Date;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// The class of an underlying decides the Reg T percentages, the portfolio-margin price range and
/// whether the futures rules apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnderlyingClass {
    /// A single stock.
    Equity,
    /// An exchange-traded fund that is not leveraged.
    Etf,
    /// A broad-based index (15% naked option rate).
    BroadIndex,
    /// A narrow-based index (margined like equity).
    NarrowIndex,
    /// A leveraged ETF on a non-broad index or sector: equity/ETF percentages × `leverage`.
    LeveragedEtf,
    /// A futures contract: margined by the futures rules whatever the securities method.
    Future,
}

impl UnderlyingClass {
    /// Parses the file spelling (`equity`, `etf`, `broad_index`, `narrow_index`, `leveraged_etf`,
    /// `future`).
    pub fn from_name(name: &str) -> Option<UnderlyingClass> {
        Some(match name {
            "equity" => UnderlyingClass::Equity,
            "etf" => UnderlyingClass::Etf,
            "broad_index" => UnderlyingClass::BroadIndex,
            "narrow_index" => UnderlyingClass::NarrowIndex,
            "leveraged_etf" => UnderlyingClass::LeveragedEtf,
            "future" => UnderlyingClass::Future,
            _ => return None,
        })
    }
}

/// An underlying instrument and its current price.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Underlying {
    /// Ticker, the key positions refer to.
    pub symbol: String,
    /// Current price of the underlying (S in the rules).
    pub price: Decimal,
    /// Class of the underlying.
    pub class: UnderlyingClass,
    /// Leverage factor of a leveraged fund (1 otherwise). It multiplies the class's percentages
    /// (and portfolio-margin range) whatever the class, capped at 100%; not allowed on futures.
    pub leverage: Decimal,
    /// Non-marginable stocks are charged 100%.
    pub marginable: bool,
}

impl Underlying {
    /// An ordinary marginable underlying with leverage 1.
    pub fn new(symbol: &str, price: Decimal, class: UnderlyingClass) -> Underlying {
        Underlying {
            symbol: symbol.to_string(),
            price,
            class,
            leverage: Decimal::ONE,
            marginable: true,
        }
    }
}

/// Call or put.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Right {
    /// A call (`C`).
    #[serde(rename = "C")]
    Call,
    /// A put (`P`).
    #[serde(rename = "P")]
    Put,
}

impl fmt::Display for Right {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Right::Call => "C",
            Right::Put => "P",
        })
    }
}

/// The contract terms of an option (equity, index or futures option).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct OptionSpec {
    /// Expiry date; orders spreads and calendars.
    pub expiry: Date,
    /// Call or put.
    pub right: Right,
    /// Strike price.
    pub strike: Decimal,
    /// Units of the underlying per contract (stock covers options in lots of this size). A
    /// decimal: some real contracts have fractional multipliers (Micro Bitcoin: 0.1).
    pub multiplier: Decimal,
}

/// What a position holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Instrument {
    /// Shares of a stock or ETF; quantity in shares.
    Stock,
    /// An equity, ETF or index option; quantity in contracts.
    Option(OptionSpec),
    /// A futures contract; quantity in contracts.
    Future {
        /// Contract month (expiry) of the future.
        expiry: Date,
        /// Units per contract (125,000 for Euro FX, 0.1 for Micro Bitcoin).
        multiplier: Decimal,
    },
    /// An option on a future; quantity in contracts.
    FutureOption(OptionSpec),
}

/// One position: signed quantity (negative = short) and its current mark per unit.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Position {
    /// The underlying's symbol (for options and futures options, the underlying).
    pub symbol: String,
    /// The instrument held.
    pub instrument: Instrument,
    /// Signed quantity: shares for stock, contracts otherwise.
    pub qty: Decimal,
    /// Current mark per share / per unit of the underlying (never the entry price).
    pub price: Decimal,
    /// Implied volatility (annualised, e.g. 0.23); portfolio margin implies it from the mark if absent.
    pub iv: Option<Decimal>,
}

impl Position {
    /// A stock position.
    pub fn stock(symbol: &str, qty: Decimal, price: Decimal) -> Position {
        Position {
            symbol: symbol.to_string(),
            instrument: Instrument::Stock,
            qty,
            price,
            iv: None,
        }
    }

    /// An equity or index option position.
    pub fn option(symbol: &str, spec: OptionSpec, qty: Decimal, price: Decimal) -> Position {
        Position {
            symbol: symbol.to_string(),
            instrument: Instrument::Option(spec),
            qty,
            price,
            iv: None,
        }
    }

    /// The option terms, for options and futures options.
    pub fn option_spec(&self) -> Option<&OptionSpec> {
        match &self.instrument {
            Instrument::Option(s) | Instrument::FutureOption(s) => Some(s),
            _ => None,
        }
    }

    /// A short human description, e.g. `-3 AAPL 2026-12-18 190 C ×100`.
    pub fn describe(&self) -> String {
        match &self.instrument {
            Instrument::Stock => format!("{} {} shares", self.qty, self.symbol),
            Instrument::Option(s) | Instrument::FutureOption(s) => format!(
                "{} {} {} {} {} ×{}",
                self.qty, self.symbol, s.expiry, s.strike, s.right, s.multiplier
            ),
            Instrument::Future { expiry, multiplier } => {
                format!(
                    "{} {} {} future ×{}",
                    self.qty, self.symbol, expiry, multiplier
                )
            }
        }
    }
}

/// An exchange per-contract margin, effective from a date (CME performance-bond advisories).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DatedMargin {
    /// First day the rate applies; `None` = always.
    pub effective: Option<Date>,
    /// Initial margin per contract.
    pub initial: Decimal,
    /// Maintenance margin per contract.
    pub maintenance: Decimal,
}

/// A SPAN risk array for one contract in CME's standard layout: 16 losses (positive = loss, negative
/// = gain) per long contract, in currency. Scenarios 1–14 are the price moves 0, +1/3, −1/3, +2/3,
/// −2/3, +3/3, −3/3 of the price scan range, each with volatility up then down; 15 and 16 the
/// extreme moves up and down (CME: 3 × the range), published already weighted (35% of the loss).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RiskArray {
    /// Underlying future symbol.
    pub symbol: String,
    /// Contract expiry; `None` matches any expiry.
    pub expiry: Option<Date>,
    /// For futures options: the right (`None` for the future itself).
    pub right: Option<Right>,
    /// For futures options: the strike.
    pub strike: Option<Decimal>,
    /// The 16 scenario losses per long contract, in the layout above.
    pub scenarios: [Decimal; 16],
    /// Weight the engine applies to scenarios 15 and 16: 1 for arrays as CME publishes them (already
    /// weighted); 0.35 for arrays whose extreme losses are given at full size.
    pub extreme_fraction: Decimal,
    /// Short option minimum per short option contract (option arrays only).
    pub short_option_minimum: Decimal,
}

/// Per-commodity SPAN parameters.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SpanParams {
    /// Intra-commodity (calendar) spread charge per spread.
    pub spread_charge: Decimal,
    /// Initial / maintenance ratio (CME speculator: 1.10).
    pub initial_ratio: Decimal,
}

impl Default for SpanParams {
    fn default() -> SpanParams {
        SpanParams {
            spread_charge: Decimal::ZERO,
            initial_ratio: Decimal::new(110, 2),
        }
    }
}

/// A whole account snapshot: the input of every method.
#[derive(Clone, Debug, PartialEq, Serialize, Default)]
pub struct Portfolio {
    /// Valuation date: time to expiry for pricing models and the futures table date.
    pub as_of: Option<Date>,
    /// Risk-free rate for the pricing models (default 0).
    pub rate: Decimal,
    /// Underlyings by symbol.
    pub underlyings: BTreeMap<String, Underlying>,
    /// Positions, in file order.
    pub positions: Vec<Position>,
    /// Exchange margins by future symbol, possibly several dated rates.
    pub futures_margins: BTreeMap<String, Vec<DatedMargin>>,
    /// SPAN risk arrays (optional).
    pub risk_arrays: Vec<RiskArray>,
    /// SPAN parameters by future symbol (optional).
    pub span_params: BTreeMap<String, SpanParams>,
}

/// Largest accepted |quantity|, price, strike or per-contract amount: keeps every product and sum
/// far inside `Decimal`'s range so that no input can overflow (and panic).
pub const MAX_MAGNITUDE: Decimal = Decimal::from_parts(100_000_000, 0, 0, false, 0);

/// Largest accepted |quantity| × multiplier of one position, in units of the underlying (10¹³).
/// Every real contract fits (12,500,000 yen per 6J contract × 800,000 contracts) and, with prices
/// bounded by [`MAX_MAGNITUDE`], no product or sum of a realistic book can leave `Decimal`'s range.
pub const MAX_UNITS: Decimal = Decimal::from_parts(1_316_134_912, 2_328, 0, false, 0);

/// Checks one amount against [`MAX_MAGNITUDE`].
pub(crate) fn in_range(v: Decimal) -> bool {
    v.abs() <= MAX_MAGNITUDE
}
