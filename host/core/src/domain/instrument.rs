//! Contracts as IB identifies them.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::spelled_enum;

/// IB's security types that Tickwork handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecType {
    Stock,
    Etf,
    Index,
    Option,
    Future,
    FutureOption,
    Cash,
}

spelled_enum!(SecType, "security type", {
    Stock => "STK", Etf => "ETF", Index => "IND", Option => "OPT",
    Future => "FUT", FutureOption => "FOP", Cash => "CASH",
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OptionRight {
    Call,
    Put,
}

spelled_enum!(OptionRight, "option right", { Call => "C", Put => "P" });

/// What identifies a contract before it has a database id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InstrumentSpec {
    /// IB's contract id, when known.
    pub con_id: Option<i64>,
    pub symbol: String,
    pub sec_type: SecType,
    pub exchange: String,
    pub primary_exchange: Option<String>,
    pub currency: String,
    pub expiry: Option<NaiveDate>,
    pub strike: Option<Decimal>,
    pub right: Option<OptionRight>,
    pub multiplier: Decimal,
    pub local_symbol: Option<String>,
    pub trading_class: Option<String>,
    pub description: Option<String>,
}

impl InstrumentSpec {
    /// A US stock routed SMART in USD, the most common case.
    pub fn stock(symbol: &str) -> Self {
        Self {
            con_id: None,
            symbol: symbol.to_owned(),
            sec_type: SecType::Stock,
            exchange: "SMART".to_owned(),
            primary_exchange: None,
            currency: "USD".to_owned(),
            expiry: None,
            strike: None,
            right: None,
            multiplier: Decimal::ONE,
            local_symbol: None,
            trading_class: None,
            description: None,
        }
    }
}

/// A stored contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instrument {
    pub id: i64,
    pub spec: InstrumentSpec,
}
