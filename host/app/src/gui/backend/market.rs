//! Market data commands: instrument search, watching, watchlists, history.

use chrono::{DateTime, Duration as Days, Utc};
use tickwork_core::domain::{Bar, InstrumentSpec};
use tickwork_core::session::HistoryRequest;
use tickwork_core::store::{StoreError, instruments, market_data, settings};
use tokio::task::JoinHandle;

use super::{Live, Services};
use crate::gui::boundary::{
    MarketCommand, MarketEvent, SessionEvent, WATCHLISTS_KEY, WatchEntry, Watchlist,
};

/// Most search results shown.
const SEARCH_LIMIT: i64 = 25;

pub async fn handle(services: Services, command: MarketCommand) {
    match command {
        MarketCommand::Search { query } => match search(&services, &query).await {
            Ok(results) => services.tell(MarketEvent::SearchResults { query, results }),
            Err(err) => services.problem(&format!("searching {query}"), err),
        },
        MarketCommand::LoadWatchlists => match load_watchlists(&services.pool).await {
            Ok(lists) => services.tell(MarketEvent::Watchlists(lists)),
            Err(err) => services.problem("the watchlists", err),
        },
        MarketCommand::SaveWatchlists(lists) => {
            if let Err(err) = settings::put(&services.pool, WATCHLISTS_KEY, &lists).await {
                services.problem("saving the watchlists", err);
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

/// TWS's symbol search when connected (a failure there is logged and the stored instruments
/// still answer), then the stored instruments; each contract once, at most [`SEARCH_LIMIT`].
async fn search(services: &Services, query: &str) -> Result<Vec<InstrumentSpec>, StoreError> {
    let query = query.trim();
    if query.is_empty() {
        return Ok(Vec::new());
    }
    let mut results: Vec<InstrumentSpec> = Vec::new();
    if let Some(live) = &services.live {
        match live.session.search(query).await {
            Ok(found) => results.extend(found),
            Err(err) => tracing::warn!(%query, error = %err, "symbol search at TWS failed"),
        }
    }
    let stored = instruments::search(&services.pool, query, SEARCH_LIMIT).await?;
    for instrument in stored {
        let entry = WatchEntry::from_spec(&instrument.spec);
        if !results.iter().any(|known| entry.is(known)) {
            results.push(instrument.spec);
        }
    }
    results.truncate(usize::try_from(SEARCH_LIMIT).unwrap_or(usize::MAX));
    Ok(results)
}

/// The stored watchlists, or the default list when none are stored.
pub async fn load_watchlists(pool: &sqlx::PgPool) -> Result<Vec<Watchlist>, StoreError> {
    Ok(settings::get::<Vec<Watchlist>>(pool, WATCHLISTS_KEY)
        .await?
        .filter(|lists| !lists.is_empty())
        .unwrap_or_else(Watchlist::default_lists))
}

/// Stored bars first (instant), then a download from TWS when connected (paced by the
/// session, which also stores what it downloads), merged with the stored ones and sent again in
/// full. Only the part the stored bars do not cover is downloaded.
async fn load_history(services: &Services, instrument_id: i64, bar_seconds: i32, days: u32) {
    let days = days.clamp(1, MAX_HISTORY_DAYS);
    let to = Utc::now();
    let from = to - Days::days(i64::from(days));
    let stored =
        match market_data::bars_between(&services.pool, instrument_id, bar_seconds, from, to).await
        {
            Ok(bars) => bars,
            Err(err) => {
                // A download can still fill the chart.
                services.problem("reading stored bars", err);
                Vec::new()
            }
        };
    let history = |bars: Vec<Bar>, complete: bool| MarketEvent::History {
        instrument_id,
        bar_seconds,
        bars,
        complete,
    };
    let Some(live) = &services.live else {
        return services.tell(history(stored, true));
    };
    let spec = match instruments::get(&services.pool, instrument_id).await {
        Ok(Some(instrument)) => instrument.spec,
        Ok(None) => {
            services.tell(history(stored, true));
            return services.problem("history", format!("no instrument {instrument_id}"));
        }
        Err(err) => {
            services.tell(history(stored, true));
            return services.problem("history", err);
        }
    };
    let download = download_days(&stored, from, to, days);
    if !stored.is_empty() {
        services.tell(history(stored.clone(), false));
    }
    let task = format!("Downloading {} history", spec.symbol);
    services.tell(SessionEvent::Progress {
        task: task.clone(),
        done: false,
    });
    let symbol = spec.symbol.clone();
    let request = HistoryRequest {
        spec,
        bar_seconds,
        days: i32::try_from(download).unwrap_or(1),
    };
    let result = live.session.history(request).await;
    services.tell(SessionEvent::Progress { task, done: true });
    match result {
        Ok(downloaded) => services.tell(history(merge_bars(stored, downloaded), true)),
        Err(err) => {
            services.tell(history(stored, true));
            services.problem(&format!("downloading {symbol} history"), err);
        }
    }
}

/// TWS answers at most a year of bars per request (the session refuses more).
const MAX_HISTORY_DAYS: u32 = 365;

/// Days to download: all `days` unless the stored bars already reach back to the start of the
/// range (allowing for a long weekend without bars); then only from the newest stored bar,
/// which is downloaded again because it may have been stored while it was still forming.
fn download_days(stored: &[Bar], from: DateTime<Utc>, to: DateTime<Utc>, days: u32) -> u32 {
    let (Some(first), Some(last)) = (stored.first(), stored.last()) else {
        return days;
    };
    if first.ts > from + Days::days(4) {
        return days;
    }
    let since = (to - last.ts).num_seconds().max(0);
    let needed = u32::try_from((since + 86_399) / 86_400).unwrap_or(days);
    needed.clamp(1, days)
}

/// Stored and downloaded bars of one instrument and size: unique by start time, oldest first,
/// a downloaded bar replacing the stored one.
fn merge_bars(stored: Vec<Bar>, downloaded: Vec<Bar>) -> Vec<Bar> {
    let mut by_time = std::collections::BTreeMap::new();
    for bar in stored.into_iter().chain(downloaded) {
        by_time.insert(bar.ts, bar);
    }
    by_time.into_values().collect()
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

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use sqlx::PgPool;
    use tickwork_core::hub::Hub;
    use tickwork_core::risk::{RiskGate, RiskLimits, order_path};
    use tickwork_core::session::{self, ConnectionState, SessionConfig};
    use tickwork_core::store::profiles::ConnectionProfile;
    use tickwork_sim::{SimConfig, Simulator};

    use super::*;
    use crate::gui::boundary::Notification;

    pub(crate) fn services(
        pool: &PgPool,
        live: Option<Live>,
    ) -> (Services, Arc<Mutex<Vec<Notification>>>) {
        let told = Arc::new(Mutex::new(Vec::new()));
        let into = told.clone();
        let services = Services {
            pool: pool.clone(),
            notify: Arc::new(move |n| into.lock().unwrap().push(n)),
            live,
        };
        (services, told)
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn watchlists_round_trip_through_the_settings_table(pool: PgPool) {
        let (services, told) = services(&pool, None);
        handle(services.clone(), MarketCommand::LoadWatchlists).await;
        let first = match told.lock().unwrap().pop() {
            Some(Notification::Market(MarketEvent::Watchlists(lists))) => lists,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            first,
            Watchlist::default_lists(),
            "the default on first start"
        );
        let mut lists = first;
        lists[0]
            .entries
            .push(WatchEntry::from_spec(&InstrumentSpec::stock("META")));
        lists.push(Watchlist {
            name: "Energy".into(),
            entries: vec![WatchEntry::from_spec(&InstrumentSpec::stock("XOM"))],
        });
        handle(
            services.clone(),
            MarketCommand::SaveWatchlists(lists.clone()),
        )
        .await;
        handle(services, MarketCommand::LoadWatchlists).await;
        match told.lock().unwrap().pop() {
            Some(Notification::Market(MarketEvent::Watchlists(back))) => assert_eq!(back, lists),
            other => panic!("{other:?}"),
        }
        let stored: Vec<Watchlist> = settings::get(&pool, WATCHLISTS_KEY).await.unwrap().unwrap();
        assert_eq!(stored[1].name, "Energy");
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn search_without_a_session_answers_from_stored_instruments(pool: PgPool) {
        instruments::upsert(&pool, &InstrumentSpec::stock("AAPL"))
            .await
            .unwrap();
        let (services, told) = services(&pool, None);
        handle(services, MarketCommand::Search { query: "aa".into() }).await;
        match told.lock().unwrap().pop() {
            Some(Notification::Market(MarketEvent::SearchResults { results, .. })) => {
                assert_eq!(results.len(), 1);
                assert_eq!(results[0].symbol, "AAPL");
            }
            other => panic!("{other:?}"),
        }
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn search_through_the_simulator(pool: PgPool) {
        let sim = Simulator::start(SimConfig {
            port: 0,
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let mut profile = ConnectionProfile::local_paper("search");
        profile.port = i32::from(sim.local_addr().port());
        profile.auto_client_id = true;
        let hub = Arc::new(Hub::new());
        let (router, inbox) = order_path(RiskGate::new(RiskLimits::default()), pool.clone());
        let (session, task) = session::spawn(
            SessionConfig::new(profile.clone()),
            hub.clone(),
            pool.clone(),
            inbox,
            None,
        );
        let mut state = hub.watch_connection();
        tokio::time::timeout(Duration::from_secs(30), async {
            while *state.borrow_and_update() != ConnectionState::Live {
                state.changed().await.unwrap();
            }
        })
        .await
        .expect("live within 30 s");

        let found = session.search("AA").await.unwrap();
        let aapl = found
            .iter()
            .find(|s| s.symbol == "AAPL")
            .expect("AAPL found");
        assert!(aapl.con_id.is_some(), "TWS gives the contract id");
        let mut keys: Vec<_> = found.iter().map(|s| (s.con_id, s.symbol.clone())).collect();
        keys.dedup();
        assert_eq!(keys.len(), found.len(), "each contract once");
        assert!(session.search("ZZQXJ").await.unwrap().is_empty());

        // The command answers from TWS when connected.
        let view = tickwork_core::risk::RiskView::follow(&hub);
        let live = Live::new(
            profile,
            true,
            session.clone(),
            router,
            hub.clone(),
            view,
            pool.clone(),
        );
        let (services, told) = services(&pool, Some(live));
        handle(services, MarketCommand::Search { query: "AA".into() }).await;
        match told.lock().unwrap().pop() {
            Some(Notification::Market(MarketEvent::SearchResults { results, .. })) => {
                assert!(
                    results
                        .iter()
                        .any(|s| s.symbol == "AAPL" && s.con_id.is_some())
                );
            }
            other => panic!("{other:?}"),
        }
        session.stop().await;
        let _ = task.await;
        sim.shutdown().await;
    }
}

#[cfg(test)]
mod load_history_tests {
    use chrono::TimeZone;
    use rust_decimal::Decimal;

    use super::*;

    fn at(hours: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap() + Days::hours(hours)
    }

    fn bar(hours: i64, close: i64) -> Bar {
        Bar {
            instrument_id: 1,
            bar_seconds: 3600,
            ts: at(hours),
            open: Decimal::from(close),
            high: Decimal::from(close),
            low: Decimal::from(close),
            close: Decimal::from(close),
            volume: Decimal::ONE,
        }
    }

    #[test]
    fn downloads_only_what_is_not_stored() {
        let to = at(24 * 30);
        let from = to - Days::days(30);
        // Nothing stored: everything.
        assert_eq!(download_days(&[], from, to, 30), 30);
        // Stored from the start up to 2.5 days ago: 3 days (the newest stored bar again).
        let stored = [bar(2, 1), bar(24 * 27 + 12, 2)];
        assert_eq!(download_days(&stored, from, to, 30), 3);
        // Stored up to the last hour: one day, never zero.
        let stored = [bar(2, 1), bar(24 * 30 - 1, 2)];
        assert_eq!(download_days(&stored, from, to, 30), 1);
        // The stored bars start well after the range does: everything.
        let stored = [bar(24 * 10, 1), bar(24 * 30 - 1, 2)];
        assert_eq!(download_days(&stored, from, to, 30), 30);
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn without_a_session_the_stored_bars_are_the_complete_answer(pool: sqlx::PgPool) {
        let id = instruments::upsert(&pool, &tickwork_core::domain::InstrumentSpec::stock("AAPL"))
            .await
            .unwrap()
            .id;
        let now = Utc::now();
        let start = now - Days::hours(3);
        let stored: Vec<Bar> = (0..3)
            .map(|i| Bar {
                instrument_id: id,
                ts: start + Days::hours(i),
                ..bar(0, 100 + i)
            })
            .collect();
        market_data::upsert_bars(&pool, &stored).await.unwrap();
        let told = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = told.clone();
        let services = Services {
            pool,
            notify: std::sync::Arc::new(move |n| sink.lock().unwrap().push(n)),
            live: None,
        };
        load_history(&services, id, 3600, 2).await;
        // Another size, nothing stored: an empty, complete answer.
        load_history(&services, id, 300, 2).await;
        let told = told.lock().unwrap();
        assert_eq!(told.len(), 2, "{told:?}");
        match &told[0] {
            crate::gui::boundary::Notification::Market(MarketEvent::History {
                instrument_id,
                bar_seconds: 3600,
                bars,
                complete: true,
            }) => {
                assert_eq!(*instrument_id, id);
                assert_eq!(bars.len(), 3);
                assert_eq!(bars[2].close, Decimal::from(102));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            &told[1],
            crate::gui::boundary::Notification::Market(MarketEvent::History {
                bar_seconds: 300,
                bars,
                complete: true,
                ..
            }) if bars.is_empty()
        ));
    }

    #[test]
    fn merged_bars_are_unique_and_ordered_and_the_download_wins() {
        let merged = merge_bars(
            vec![bar(0, 1), bar(1, 2), bar(2, 3)],
            vec![bar(3, 40), bar(2, 30)],
        );
        let closes: Vec<_> = merged.iter().map(|b| b.close).collect();
        assert_eq!(
            closes,
            [1, 2, 30, 40].map(Decimal::from).to_vec(),
            "{merged:?}"
        );
    }
}
