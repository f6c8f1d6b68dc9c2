//! Market data commands: instrument search, watching, history.

use chrono::{Duration as Days, Utc};
use tickwork_core::session::HistoryRequest;
use tickwork_core::store::{instruments, market_data};
use tokio::task::JoinHandle;

use super::{Live, Services};
use crate::gui::boundary::{MarketCommand, MarketEvent};

/// Most search results shown.
const SEARCH_LIMIT: i64 = 25;

pub async fn handle(services: Services, command: MarketCommand) {
    match command {
        MarketCommand::Search { query } => {
            match instruments::search(&services.pool, &query, SEARCH_LIMIT).await {
                Ok(found) => services.tell(MarketEvent::SearchResults {
                    query,
                    results: found.into_iter().map(|i| i.spec).collect(),
                }),
                Err(err) => services.problem(&format!("searching {query}"), err),
            }
        }
        MarketCommand::Watch { spec } => {
            let Some(live) = services.live_or_refuse() else {
                return;
            };
            let symbol = spec.symbol.clone();
            let id = match live.session.watch(spec).await {
                Ok(id) => id,
                Err(err) => return services.problem(&format!("watching {symbol}"), err),
            };
            match instruments::get(&services.pool, id).await {
                Ok(Some(instrument)) => services.tell(MarketEvent::Watching(instrument)),
                Ok(None) => services.problem(&format!("watching {symbol}"), "not stored"),
                Err(err) => services.problem(&format!("watching {symbol}"), err),
            }
        }
        MarketCommand::Unwatch { instrument_id } => {
            if let Some(live) = &services.live {
                let _ = live.session.unwatch(instrument_id).await;
            }
        }
        MarketCommand::LoadHistory {
            instrument_id,
            bar_seconds,
            days,
        } => load_history(&services, instrument_id, bar_seconds, days).await,
    }
}

/// Stored bars first (instant), then a download from TWS when connected (paced by the
/// session, stored, and sent again in full).
async fn load_history(services: &Services, instrument_id: i64, bar_seconds: i32, days: u32) {
    let to = Utc::now();
    let from = to - Days::days(i64::from(days));
    match market_data::bars_between(&services.pool, instrument_id, bar_seconds, from, to).await {
        Ok(bars) => services.tell(MarketEvent::History {
            instrument_id,
            bar_seconds,
            bars,
        }),
        Err(err) => return services.problem("stored bars", err),
    }
    let Some(live) = &services.live else {
        return;
    };
    let spec = match instruments::get(&services.pool, instrument_id).await {
        Ok(Some(instrument)) => instrument.spec,
        Ok(None) => return services.problem("history", format!("no instrument {instrument_id}")),
        Err(err) => return services.problem("history", err),
    };
    let task = format!("Downloading {} history", spec.symbol);
    services.tell(crate::gui::boundary::SessionEvent::Progress {
        task: task.clone(),
        done: false,
    });
    let request = HistoryRequest {
        spec,
        bar_seconds,
        days: i32::try_from(days).unwrap_or(i32::MAX),
    };
    let result = live.session.history(request).await;
    services.tell(crate::gui::boundary::SessionEvent::Progress { task, done: true });
    match result {
        Ok(bars) => services.tell(MarketEvent::History {
            instrument_id,
            bar_seconds,
            bars,
        }),
        Err(err) => services.problem("downloading history", err),
    }
}

/// Completed live bars, for the chart.
pub fn follow(services: &Services, live: &Live) -> Vec<JoinHandle<()>> {
    let mut bars = live.hub.subscribe_bars();
    let services = services.clone();
    vec![tokio::spawn(async move {
        while let Some(bar) = bars.recv().await {
            if let Ok(bar) = bar {
                services.tell(MarketEvent::Bar(bar));
            }
        }
    })]
}
