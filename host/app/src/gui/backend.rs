//! Everything the window needs that is not drawing, running on the core runtime: the database,
//! and in demo mode an in-process simulator with a session on it. It talks to the window only
//! through [`Notification`]s (the boundary in `docs/architecture.md`).

use std::sync::Arc;
use std::time::Duration;

use tickwork_core::config::redact_urls;
use tickwork_core::domain::{InstrumentSpec, Quote};
use tickwork_core::hub::Hub;
use tickwork_core::risk::{OrderRouter, RiskGate, RiskLimits, RiskView, order_path};
use tickwork_core::session::{self, ConnectionState, SessionConfig, SessionHandle};
use tickwork_core::store::profiles::ConnectionProfile;
use tickwork_core::store::{DatabaseTarget, DbStatus, OpenStore, open, risk_limits};
use tickwork_sim::{SimConfig, SimHandle, Simulator};
use tokio::task::JoinHandle;

/// What the demo watchlist streams.
pub const DEMO_SYMBOLS: [&str; 5] = ["AAPL", "MSFT", "NVDA", "SPY", "QQQ"];
/// The window redraws quotes at most this often; in between, quotes coalesce.
const QUOTE_FRAME: Duration = Duration::from_millis(100);

/// From the backend to the window.
#[derive(Debug)]
pub enum Notification {
    DatabaseOpened {
        describe: String,
        status: DbStatus,
    },
    DatabaseFailed(String),
    Connection(ConnectionState),
    /// Watchlist rows: symbol and its latest quote.
    Quotes(Vec<(String, Quote)>),
    DemoFailed(String),
    /// Accounts, which are armed, and the kill switch.
    Trading(super::commands::TradingState),
    /// A command was refused; the reason, for a toast.
    Refused(String),
}

/// What must be shut down in order when the window closes.
#[derive(Default)]
pub struct Running {
    opened: Option<OpenStore>,
    session: Option<(SessionHandle, JoinHandle<()>)>,
    sim: Option<SimHandle>,
    /// The one order path of this window (the ticket arrives with the panels).
    router: Option<OrderRouter>,
    /// Serves the window's commands.
    commands: Option<JoinHandle<()>>,
}

impl Running {
    /// Session first, then the simulator, then the database: the embedded server is stopped
    /// here, awaited on a blocking thread, never by a drop inside the runtime.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        if let Some(commands) = self.commands {
            commands.abort();
        }
        drop(self.router);
        if let Some((session, task)) = self.session {
            session.stop().await;
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        }
        if let Some(sim) = self.sim {
            sim.shutdown().await;
        }
        if let Some(opened) = self.opened {
            opened.close().await?;
        }
        Ok(())
    }
}

/// Opens the database and, in demo mode, starts the simulator and a session on it; then serves
/// the window's `commands`. `notify` must be cheap and non-blocking (it posts to the window's
/// queue).
pub async fn start(
    target: DatabaseTarget,
    demo: bool,
    commands: tokio::sync::mpsc::UnboundedReceiver<super::commands::Command>,
    notify: impl Fn(Notification) + Send + Sync + 'static,
) -> Running {
    let notify: Arc<dyn Fn(Notification) + Send + Sync> = Arc::new(notify);
    let mut running = start_services(target, demo, notify.clone()).await;
    let accounts = running
        .sim
        .as_ref()
        .map(SimHandle::accounts)
        .unwrap_or_default();
    running.commands = Some(super::commands::serve(
        running.router.clone(),
        accounts,
        commands,
        notify,
    ));
    running
}

async fn start_services(
    target: DatabaseTarget,
    demo: bool,
    notify: Arc<dyn Fn(Notification) + Send + Sync>,
) -> Running {
    let mut running = Running::default();
    let opened = match open(target, true).await {
        Ok(opened) => opened,
        Err(err) => {
            // Shown in the window and logged: never with a URL's password.
            notify(Notification::DatabaseFailed(redact_urls(&err.to_string())));
            return running;
        }
    };
    let describe = redact_urls(opened.describe());
    match opened.store.status().await {
        Ok(status) => notify(Notification::DatabaseOpened { describe, status }),
        Err(err) => notify(Notification::DatabaseFailed(redact_urls(&err.to_string()))),
    }
    let pool = opened.store.pool().clone();
    running.opened = Some(opened);
    if !demo {
        return running;
    }
    let sim = match Simulator::start(SimConfig {
        port: 0,
        ..SimConfig::default()
    })
    .await
    {
        Ok(sim) => sim,
        Err(err) => {
            notify(Notification::DemoFailed(format!("demo backend: {err}")));
            return running;
        }
    };
    let mut profile = ConnectionProfile::local_paper("demo");
    profile.port = i32::from(sim.local_addr().port());
    profile.auto_client_id = true;
    // The simulator is a sandbox: trading may be armed there (it still starts disarmed).
    profile.read_only = false;
    let hub = Arc::new(Hub::new());
    // The gate starts disarmed: the demo shows data, it does not trade unless armed. It carries
    // every account's stored limits; if they cannot be read, no order may pass at all (the
    // defaults could be looser than what the user stored).
    let mut gate = RiskGate::for_profile(profile.read_only, RiskLimits::default());
    if let Err(err) = risk_limits::load_all(&pool, &mut gate).await {
        notify(Notification::DemoFailed(format!(
            "stored risk limits unreadable, trading disabled: {err}"
        )));
        gate = RiskGate::read_only(RiskLimits::default());
    }
    let (router, inbox) = order_path(gate, pool.clone());
    // Resends after a reconnect decide on the live view of quotes, positions and account.
    router.set_context_source(RiskView::follow(&hub).context_source(pool.clone()));
    running.router = Some(router);
    let (handle, task) =
        session::spawn(SessionConfig::new(profile), hub.clone(), pool, inbox, None);
    forward_connection(&hub, notify.clone());
    let mut symbols = std::collections::HashMap::new();
    for symbol in DEMO_SYMBOLS {
        match handle.watch(InstrumentSpec::stock(symbol)).await {
            Ok(id) => {
                symbols.insert(id, symbol.to_owned());
            }
            Err(err) => notify(Notification::DemoFailed(format!("{symbol}: {err}"))),
        }
    }
    forward_quotes(&hub, symbols, notify);
    running.session = Some((handle, task));
    running.sim = Some(sim);
    running
}

fn forward_connection(hub: &Hub, notify: Arc<dyn Fn(Notification) + Send + Sync>) {
    let mut state = hub.watch_connection();
    tokio::spawn(async move {
        loop {
            let now = state.borrow_and_update().clone();
            notify(Notification::Connection(now));
            if state.changed().await.is_err() {
                return;
            }
        }
    });
}

fn forward_quotes(
    hub: &Hub,
    symbols: std::collections::HashMap<i64, String>,
    notify: Arc<dyn Fn(Notification) + Send + Sync>,
) {
    let quotes = hub.subscribe_quotes();
    tokio::spawn(async move {
        loop {
            let changed = quotes.changed().await;
            let rows: Vec<(String, Quote)> = changed
                .into_iter()
                .filter_map(|(id, q)| symbols.get(&id).map(|s| (s.clone(), q)))
                .collect();
            if !rows.is_empty() {
                notify(Notification::Quotes(rows));
            }
            tokio::time::sleep(QUOTE_FRAME).await;
        }
    });
}
