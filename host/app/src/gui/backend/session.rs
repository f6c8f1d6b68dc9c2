//! The backend's own state: the database pool and the connected session, if any. Connecting,
//! disconnecting, profiles, trading and settings are handled here, one at a time.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::PgPool;
use tickwork_core::hub::Hub;
use tickwork_core::risk::{OrderRouter, RiskGate, RiskLimits, RiskView, order_path};
use tickwork_core::session::{self, SessionConfig, SessionHandle};
use tickwork_core::store::profiles::{self, ConnectionProfile};
use tickwork_core::store::{risk_limits, settings};
use tickwork_sim::{SimConfig, SimHandle, Simulator};
use tokio::task::JoinHandle;

use super::{Live, Notify, Services};
use crate::gui::boundary::{
    Notification, QuoteBoard, SessionCommand, SessionEvent, TICKET_DEFAULTS_KEY, TicketDefaults,
    TradingState,
};

/// The settings key under which a profile's layout is stored.
pub fn layout_key(profile: &str) -> String {
    format!("workbench.layout.{profile}")
}

/// The profile name the demo session runs under (its layout is stored under it too).
pub const DEMO_PROFILE: &str = "demo";

struct Connection {
    live: Live,
    task: JoinHandle<()>,
    sim: Option<SimHandle>,
    /// Forwarders from the hub to the window; aborted on disconnect.
    forwarders: Vec<JoinHandle<()>>,
    /// Accounts TWS manages, as of the last synchronisation.
    accounts: Arc<Mutex<Vec<String>>>,
}

pub struct Backend {
    pool: PgPool,
    board: Arc<QuoteBoard>,
    notify: Notify,
    connection: Option<Connection>,
}

impl Backend {
    pub fn new(pool: PgPool, board: Arc<QuoteBoard>, notify: Notify) -> Self {
        Self {
            pool,
            board,
            notify,
            connection: None,
        }
    }

    fn tell(&self, notification: impl Into<Notification>) {
        (self.notify)(notification.into());
    }

    pub fn services(&self) -> Services {
        Services {
            pool: self.pool.clone(),
            notify: self.notify.clone(),
            live: self.connection.as_ref().map(|c| c.live.clone()),
        }
    }

    pub async fn handle(&mut self, command: SessionCommand) {
        match command {
            SessionCommand::Connect { profile } => {
                if profile == DEMO_PROFILE && self.is_demo() {
                    return;
                }
                self.connect(&profile).await
            }
            SessionCommand::Disconnect => {
                self.disconnect().await;
                self.tell(SessionEvent::Connection(
                    tickwork_core::session::ConnectionState::Disconnected,
                ));
            }
            SessionCommand::SaveProfile(profile) => {
                match profiles::save(&self.pool, &profile).await {
                    Ok(()) => self.announce_profiles().await,
                    Err(err) => self.refuse(format!("profile {}: {err}", profile.name)),
                }
            }
            SessionCommand::DeleteProfile(name) => {
                match profiles::delete(&self.pool, &name).await {
                    Ok(true) => self.announce_profiles().await,
                    Ok(false) => self.refuse(format!("no profile named {name}")),
                    Err(err) => self.refuse(format!("profile {name}: {err}")),
                }
            }
            SessionCommand::Arm { account } => {
                self.trade(|router| async move { router.arm(&account, "ui").await })
                    .await
            }
            SessionCommand::Disarm { account } => {
                self.trade(|router| async move { router.disarm(&account, "ui").await })
                    .await
            }
            SessionCommand::KillSwitch { global_cancel } => {
                self.trade(|router| async move { router.kill_switch("ui", global_cancel) })
                    .await
            }
            SessionCommand::SaveLimits { account, limits } => {
                self.save_limits(account, limits).await
            }
            SessionCommand::SaveTicketDefaults(defaults) => {
                if let Err(reason) = defaults.validate() {
                    return self.refuse(reason);
                }
                match settings::put(&self.pool, TICKET_DEFAULTS_KEY, &defaults).await {
                    Ok(()) => self.tell(SessionEvent::TicketDefaults(defaults)),
                    Err(err) => self.refuse(format!("ticket defaults: {err}")),
                }
            }
            SessionCommand::SaveLayout { profile, layout } => {
                let value: serde_json::Value = match serde_json::from_str(&layout) {
                    Ok(value) => value,
                    Err(err) => return self.refuse(format!("layout of {profile}: {err}")),
                };
                if let Err(err) = settings::put(&self.pool, &layout_key(&profile), &value).await {
                    self.tell(Notification::Problem(format!(
                        "the layout could not be saved ({err}); it will be lost at exit"
                    )));
                }
            }
        }
    }

    fn refuse(&self, reason: String) {
        tracing::warn!(%reason, "refused");
        self.tell(SessionEvent::Refused(reason));
    }

    fn is_demo(&self) -> bool {
        self.connection.as_ref().is_some_and(|c| c.live.demo)
    }

    /// Carries out a trading command on the order path, then tells the window the new state.
    async fn trade<F, Fut>(&self, act: F)
    where
        F: FnOnce(OrderRouter) -> Fut,
        Fut: std::future::Future<Output = Result<(), tickwork_core::risk::SubmitError>>,
    {
        let Some(connection) = &self.connection else {
            return self.refuse("not connected to TWS: connect a profile first".into());
        };
        if let Err(err) = act(connection.live.router.clone()).await {
            self.refuse(err.to_string());
        }
        self.announce_trading().await;
    }

    /// What the order ticket starts with; a stored value of the wrong shape is reported and
    /// the defaults are used (nothing is overwritten until the trader saves).
    pub async fn announce_ticket_defaults(&self) {
        let defaults = match settings::get::<TicketDefaults>(&self.pool, TICKET_DEFAULTS_KEY).await
        {
            Ok(stored) => stored.unwrap_or_default(),
            Err(err) => {
                self.tell(Notification::Problem(format!(
                    "stored ticket defaults unreadable ({err}); the built-in ones are used"
                )));
                TicketDefaults::default()
            }
        };
        self.tell(SessionEvent::TicketDefaults(defaults));
    }

    pub async fn announce_profiles(&self) {
        match profiles::list(&self.pool).await {
            Ok(list) => self.tell(SessionEvent::Profiles(list)),
            Err(err) => self.tell(Notification::Problem(format!(
                "stored profiles unreadable: {err}"
            ))),
        }
    }

    async fn announce_trading(&self) {
        if let Some(connection) = &self.connection {
            let accounts = connection
                .accounts
                .lock()
                .map(|a| a.clone())
                .unwrap_or_default();
            let state = trading_state(
                &connection.live.router,
                &accounts,
                connection.live.profile.read_only,
            )
            .await;
            self.tell(SessionEvent::Trading(state));
        }
    }

    async fn announce_limits(&self) {
        let Some(connection) = &self.connection else {
            return;
        };
        let accounts = connection
            .accounts
            .lock()
            .map(|a| a.clone())
            .unwrap_or_default();
        let stored = match risk_limits::all(&self.pool).await {
            Ok(stored) => stored,
            Err(err) => {
                return self.tell(Notification::Problem(format!(
                    "stored risk limits unreadable: {err}"
                )));
            }
        };
        let mut limits: Vec<(String, RiskLimits)> = stored;
        for account in accounts {
            if !limits.iter().any(|(a, _)| *a == account) {
                limits.push((account, RiskLimits::default()));
            }
        }
        limits.sort_by(|a, b| a.0.cmp(&b.0));
        self.tell(SessionEvent::Limits(limits));
    }

    async fn save_limits(&self, account: String, limits: RiskLimits) {
        if let Err(reason) = limits.validate() {
            return self.refuse(format!("limits of {account}: {reason}"));
        }
        let new = limits.clone();
        let change = risk_limits::update_audited(&self.pool, &account, "ui", move |stored| {
            *stored = new;
            Ok(())
        });
        if let Err(err) = change.await {
            return self.refuse(format!("limits of {account}: {err}"));
        }
        if let Some(connection) = &self.connection {
            connection.live.router.set_limits(&account, limits).await;
        }
        self.announce_limits().await;
    }

    /// Starts the built-in simulator and connects to it: the demo needs no broker account.
    pub async fn connect_demo(&mut self) {
        self.disconnect().await;
        let progress = "Starting the demo simulator";
        self.tell(SessionEvent::Progress {
            task: progress.into(),
            done: false,
        });
        let sim = Simulator::start(SimConfig {
            port: 0,
            option_spread: true,
            ..SimConfig::default()
        })
        .await;
        self.tell(SessionEvent::Progress {
            task: progress.into(),
            done: true,
        });
        let sim = match sim {
            Ok(sim) => sim,
            Err(err) => return self.refuse(format!("demo backend: {err}")),
        };
        let mut profile = ConnectionProfile::local_paper(DEMO_PROFILE);
        profile.port = i32::from(sim.local_addr().port());
        profile.auto_client_id = true;
        // The simulator is a sandbox: trading may be armed there (it still starts disarmed).
        profile.read_only = false;
        let accounts = sim.accounts();
        self.start_session(profile, true, Some(sim), accounts).await;
    }

    /// Connects to TWS / IB Gateway with a stored profile.
    pub async fn connect(&mut self, name: &str) {
        if name == DEMO_PROFILE {
            return self.connect_demo().await;
        }
        let profile = match profiles::get(&self.pool, name).await {
            Ok(Some(profile)) => profile,
            Ok(None) => return self.refuse(format!("no profile named {name}")),
            Err(err) => return self.refuse(format!("profile {name}: {err}")),
        };
        if let Err(err) = profile.validate() {
            return self.refuse(format!("profile {name}: {err}"));
        }
        self.disconnect().await;
        self.start_session(profile, false, None, Vec::new()).await;
    }

    async fn start_session(
        &mut self,
        profile: ConnectionProfile,
        demo: bool,
        sim: Option<SimHandle>,
        accounts: Vec<String>,
    ) {
        let hub = Arc::new(Hub::new());
        // The gate starts disarmed. It carries every account's stored limits; if they cannot be
        // read, no order may pass at all (the defaults could be looser than what was stored).
        let mut gate = RiskGate::for_profile(profile.read_only, RiskLimits::default());
        if let Err(err) = risk_limits::load_all(&self.pool, &mut gate).await {
            self.tell(Notification::Problem(format!(
                "stored risk limits unreadable, trading disabled: {err}"
            )));
            gate = RiskGate::read_only(RiskLimits::default());
        }
        let (router, inbox) = order_path(gate, self.pool.clone());
        // Resends after a reconnect decide on the live view of quotes, positions and account.
        let view = RiskView::follow(&hub);
        router.set_context_source(view.context_source(self.pool.clone()));
        let (handle, task) = session::spawn(
            SessionConfig::new(profile.clone()),
            hub.clone(),
            self.pool.clone(),
            inbox,
            None,
        );
        let live = Live::new(
            profile.clone(),
            demo,
            handle.clone(),
            router,
            hub.clone(),
            view,
            self.pool.clone(),
        );
        let accounts = Arc::new(Mutex::new(accounts));
        let mut connection = Connection {
            live,
            task,
            sim,
            forwarders: Vec::new(),
            accounts: accounts.clone(),
        };
        self.tell(SessionEvent::Connected {
            profile: profile.clone(),
            demo,
        });
        let layout = settings::get::<serde_json::Value>(&self.pool, &layout_key(&profile.name))
            .await
            .unwrap_or_else(|err| {
                self.tell(Notification::Problem(format!(
                    "the saved layout is unreadable ({err}); the default layout is shown"
                )));
                None
            });
        self.tell(SessionEvent::Layout {
            profile: profile.name.clone(),
            layout: layout.map(|l| l.to_string()),
        });
        connection
            .forwarders
            .push(forward_connection(&hub, self.notify.clone()));
        connection.forwarders.push(forward_quotes(
            &hub,
            self.board.clone(),
            self.notify.clone(),
        ));
        connection.forwarders.push(forward_reports(
            handle,
            connection.live.router.clone(),
            accounts,
            profile.read_only,
            self.notify.clone(),
        ));
        self.connection = Some(connection);
        let services = self.services();
        if let Some(live) = &services.live {
            let mut followers = super::orders::follow(&services, live);
            followers.extend(super::market::follow(&services, live));
            followers.extend(super::account::follow(&services, live));
            followers.extend(super::margin::follow(&services, live));
            followers.extend(super::records::follow(&services, live));
            followers.extend(super::strategies::follow(&services, live));
            followers.extend(super::plugins::follow(&services, live));
            if let Some(connection) = &mut self.connection {
                connection.forwarders.extend(followers);
            }
        }
        self.announce_trading().await;
        self.announce_limits().await;
    }

    /// Ends the session (if any): strategies (their `on_stop`, their working orders
    /// cancelled), forwarders, then the session, then the simulator.
    pub async fn disconnect(&mut self) {
        let Some(connection) = self.connection.take() else {
            return;
        };
        connection.live.host.stop_all().await;
        connection.live.plugin_strategies.stop_all().await;
        // Let the forwarder carry the strategies' last lines and statuses to the window.
        tokio::time::sleep(Duration::from_millis(150)).await;
        for forwarder in connection.forwarders {
            forwarder.abort();
        }
        connection.live.session.stop().await;
        let _ = tokio::time::timeout(Duration::from_secs(5), connection.task).await;
        if let Some(sim) = connection.sim {
            sim.shutdown().await;
        }
        self.tell(SessionEvent::Disconnected);
    }
}

async fn trading_state(router: &OrderRouter, accounts: &[String], read_only: bool) -> TradingState {
    let mut armed = Vec::new();
    for account in accounts {
        if router.is_armed(account).await {
            armed.push(account.clone());
        }
    }
    TradingState {
        accounts: accounts.to_vec(),
        armed,
        halted: *router.halted().borrow(),
        read_only,
    }
}

fn forward_connection(hub: &Hub, notify: Notify) -> JoinHandle<()> {
    let mut state = hub.watch_connection();
    tokio::spawn(async move {
        loop {
            let now = state.borrow_and_update().clone();
            notify(SessionEvent::Connection(now).into());
            if state.changed().await.is_err() {
                return;
            }
        }
    })
}

/// Quotes go to the board, merged per instrument; the window is woken once per drain.
fn forward_quotes(hub: &Hub, board: Arc<QuoteBoard>, notify: Notify) -> JoinHandle<()> {
    let quotes = hub.subscribe_quotes();
    tokio::spawn(async move {
        loop {
            let changed = quotes.changed().await;
            if board.merge(changed.into_values()) {
                notify(Notification::QuotesPending);
            }
        }
    })
}

/// Each synchronisation report: to the window, and its accounts into the trading state.
fn forward_reports(
    session: SessionHandle,
    router: OrderRouter,
    accounts: Arc<Mutex<Vec<String>>>,
    read_only: bool,
    notify: Notify,
) -> JoinHandle<()> {
    let mut reports = session.reports();
    tokio::spawn(async move {
        loop {
            let report = reports.borrow_and_update().clone();
            if let Some(report) = report {
                let list = report.accounts.clone();
                if let Ok(mut accounts) = accounts.lock() {
                    *accounts = list.clone();
                }
                notify(SessionEvent::Synchronised(Box::new(report)).into());
                notify(
                    SessionEvent::Trading(trading_state(&router, &list, read_only).await).into(),
                );
            }
            if reports.changed().await.is_err() {
                return;
            }
        }
    })
}
