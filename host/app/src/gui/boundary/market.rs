//! Market data: instrument search, watching instruments, watchlists, historical bars.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tickwork_core::domain::{Bar, Instrument, InstrumentSpec, OptionRight, SecType};

// Commands are sent a few times a minute, not per tick: boxing the spec would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum MarketCommand {
    /// Look up instruments matching a symbol prefix or name: TWS's symbol search when
    /// connected, else (and in addition) the instruments already stored.
    Search {
        query: String,
    },
    /// Stream quotes for an instrument; answered with [`MarketEvent::Watching`].
    Watch {
        spec: InstrumentSpec,
    },
    Unwatch {
        instrument_id: i64,
    },
    /// Bars from PostgreSQL, then downloaded from TWS when the session is live: answered
    /// with one or two [`MarketEvent::History`] (the last one `complete`).
    LoadHistory {
        instrument_id: i64,
        bar_seconds: i32,
        days: u32,
    },
    /// The stored watchlists (the default list when none are stored); answered with
    /// [`MarketEvent::Watchlists`].
    LoadWatchlists,
    /// Store the watchlists (all of them, in order).
    SaveWatchlists(Vec<Watchlist>),
}

#[derive(Debug, Clone)]
pub enum MarketEvent {
    SearchResults {
        query: String,
        results: Vec<InstrumentSpec>,
    },
    /// An instrument is streaming; quotes for it arrive through the quote board.
    Watching(Instrument),
    /// Bars of one instrument and size, oldest first, unique by start time: first the stored
    /// ones, then (when connected) stored and downloaded merged, the download winning.
    History {
        instrument_id: i64,
        bar_seconds: i32,
        bars: Vec<Bar>,
        /// No more bars follow for this request (the download is done, failed, or there is no
        /// session to download from).
        complete: bool,
    },
    /// A completed live bar (the chart appends it).
    Bar(Bar),
    /// The stored watchlists, in order.
    Watchlists(Vec<Watchlist>),
}

/// A named list of instruments, stored in the settings table under [`WATCHLISTS_KEY`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Watchlist {
    pub name: String,
    pub entries: Vec<WatchEntry>,
}

/// The settings key of the watchlists.
pub const WATCHLISTS_KEY: &str = "workbench.watchlists";

/// The list of a first start (and of the demo).
pub const DEFAULT_LIST: &str = "Liquid names";
const DEFAULT_SYMBOLS: [&str; 8] = ["AAPL", "MSFT", "NVDA", "AMZN", "TSLA", "SPY", "QQQ", "IWM"];

impl Watchlist {
    pub fn default_lists() -> Vec<Watchlist> {
        vec![Watchlist {
            name: DEFAULT_LIST.into(),
            entries: DEFAULT_SYMBOLS
                .iter()
                .map(|s| WatchEntry::from_spec(&InstrumentSpec::stock(s)))
                .collect(),
        }]
    }
}

/// One row of a watchlist: enough of a contract to watch it again (serialisable, unlike
/// [`InstrumentSpec`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchEntry {
    pub symbol: String,
    /// IB's code (`STK`, `FUT`, `OPT`…).
    pub sec_type: String,
    pub exchange: String,
    pub currency: String,
    #[serde(default)]
    pub con_id: Option<i64>,
    #[serde(default)]
    pub primary_exchange: Option<String>,
    #[serde(default)]
    pub expiry: Option<NaiveDate>,
    #[serde(default)]
    pub strike: Option<Decimal>,
    /// `C` or `P`.
    #[serde(default)]
    pub right: Option<String>,
    #[serde(default = "one")]
    pub multiplier: Decimal,
    #[serde(default)]
    pub local_symbol: Option<String>,
    #[serde(default)]
    pub trading_class: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

fn one() -> Decimal {
    Decimal::ONE
}

impl WatchEntry {
    pub fn from_spec(spec: &InstrumentSpec) -> Self {
        Self {
            symbol: spec.symbol.clone(),
            sec_type: spec.sec_type.as_str().into(),
            exchange: spec.exchange.clone(),
            currency: spec.currency.clone(),
            con_id: spec.con_id,
            primary_exchange: spec.primary_exchange.clone(),
            expiry: spec.expiry,
            strike: spec.strike,
            right: spec.right.map(|r| r.as_str().into()),
            multiplier: spec.multiplier,
            local_symbol: spec.local_symbol.clone(),
            trading_class: spec.trading_class.clone(),
            description: spec.description.clone(),
        }
    }

    /// The spec to watch; an unknown security type or right (a hand-edited setting) is `None`.
    pub fn spec(&self) -> Option<InstrumentSpec> {
        Some(InstrumentSpec {
            con_id: self.con_id,
            symbol: self.symbol.clone(),
            sec_type: self.sec_type.parse().ok()?,
            exchange: self.exchange.clone(),
            primary_exchange: self.primary_exchange.clone(),
            currency: self.currency.clone(),
            expiry: self.expiry,
            strike: self.strike,
            right: match &self.right {
                Some(r) => Some(r.parse::<OptionRight>().ok()?),
                None => None,
            },
            multiplier: self.multiplier,
            local_symbol: self.local_symbol.clone(),
            trading_class: self.trading_class.clone(),
            description: self.description.clone(),
        })
    }

    /// Whether `spec` is this entry's contract (by contract id when both have one, else by
    /// its terms; ETFs and stocks are the same to TWS).
    pub fn is(&self, spec: &InstrumentSpec) -> bool {
        if let (Some(a), Some(b)) = (self.con_id, spec.con_id) {
            return a == b;
        }
        let kind = |s: &str| match s.parse::<SecType>() {
            Ok(SecType::Etf) => SecType::Stock,
            Ok(other) => other,
            Err(_) => SecType::Cash,
        };
        self.symbol.eq_ignore_ascii_case(&spec.symbol)
            && kind(&self.sec_type) == kind(spec.sec_type.as_str())
            && self.currency == spec.currency
            && self.expiry == spec.expiry
            && self.strike == spec.strike
            && self.right.as_deref() == spec.right.map(|r| r.as_str())
    }

    /// What the Symbol column shows: the symbol, with a future's expiry or an option's terms.
    pub fn label(&self) -> String {
        match self.spec() {
            Some(spec) => describe(&spec),
            None => self.symbol.clone(),
        }
    }
}

/// A contract in one line: `AAPL`, `ES Dec 2026`, `AAPL 18 Dec 2026 190 C`.
pub fn describe(spec: &InstrumentSpec) -> String {
    let mut text = spec.symbol.clone();
    if let Some(expiry) = spec.expiry {
        let format = if matches!(spec.sec_type, SecType::Future) {
            "%b %Y"
        } else {
            "%-d %b %Y"
        };
        text.push_str(&format!(" {}", expiry.format(format)));
    }
    if let Some(strike) = spec.strike {
        text.push_str(&format!(" {}", strike.normalize()));
    }
    if let Some(right) = spec.right {
        text.push_str(&format!(" {}", right.as_str()));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    #[test]
    fn entries_round_trip_through_json_and_specs() {
        let option = InstrumentSpec {
            con_id: Some(42),
            sec_type: SecType::Option,
            expiry: NaiveDate::from_ymd_opt(2026, 12, 18),
            strike: Some(dec("190")),
            right: Some(OptionRight::Call),
            multiplier: dec("100"),
            ..InstrumentSpec::stock("AAPL")
        };
        let entry = WatchEntry::from_spec(&option);
        let json = serde_json::to_string(&entry).unwrap();
        let back: WatchEntry = serde_json::from_str(&json).unwrap();
        assert_eq!(back.spec(), Some(option.clone()));
        assert!(back.is(&option));
        assert_eq!(back.label(), "AAPL 18 Dec 2026 190 C");
        let future = InstrumentSpec {
            sec_type: SecType::Future,
            expiry: NaiveDate::from_ymd_opt(2026, 12, 18),
            ..InstrumentSpec::stock("ES")
        };
        assert_eq!(describe(&future), "ES Dec 2026");
    }

    #[test]
    fn an_etf_is_the_stock_tws_reports() {
        let entry = WatchEntry::from_spec(&InstrumentSpec::stock("SPY"));
        let etf = InstrumentSpec {
            sec_type: SecType::Etf,
            con_id: Some(7),
            ..InstrumentSpec::stock("SPY")
        };
        assert!(entry.is(&etf));
        assert!(!entry.is(&InstrumentSpec::stock("QQQ")));
    }

    #[test]
    fn the_default_list_is_the_liquid_names() {
        let lists = Watchlist::default_lists();
        assert_eq!(lists[0].name, "Liquid names");
        let symbols: Vec<_> = lists[0].entries.iter().map(|e| e.symbol.as_str()).collect();
        assert_eq!(symbols, DEFAULT_SYMBOLS);
    }
}
