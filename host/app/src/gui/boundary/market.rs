//! Market data: instrument search, watching instruments, historical bars.

use tickwork_core::domain::{Bar, Instrument, InstrumentSpec};

#[derive(Debug, Clone)]
pub enum MarketCommand {
    /// Look up instruments matching a symbol prefix or name (contract details).
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
}
