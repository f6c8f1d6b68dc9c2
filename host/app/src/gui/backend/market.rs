//! Market data commands: instrument search, watching, watchlists, history.

use chrono::{Duration as Days, Utc};
use tickwork_core::domain::InstrumentSpec;
use tickwork_core::session::HistoryRequest;
use tickwork_core::store::{StoreError, instruments, market_data, settings};
use tokio::task::JoinHandle;

use super::{Live, Services};
use crate::gui::boundary::{MarketCommand, MarketEvent, WATCHLISTS_KEY, WatchEntry, Watchlist};

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
        let live = Live {
            profile,
            demo: true,
            session: session.clone(),
            router,
            hub: hub.clone(),
            view,
        };
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
