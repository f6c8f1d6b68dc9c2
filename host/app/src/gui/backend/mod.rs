//! Everything the window needs that is not drawing, running on the core runtime: the database,
//! the TWS session (or, in demo mode, an in-process simulator with a session on it) and the one
//! order path. It serves the window's [`Command`]s and answers with [`Notification`]s; nothing
//! here runs on the GTK main thread.
//!
//! Commands that change the session or send orders are carried out one at a time, in the order
//! the trader gave them; lookups (search, history, margin, records, scripts) run concurrently so
//! that a slow download never holds up a cancel.

mod account;
pub mod backtest;
mod margin;
mod market;
mod orders;
pub mod plugins;
mod records;
pub mod scripts;
mod session;
mod strategies;
#[cfg(test)]
mod test_support;

use std::sync::Arc;

use sqlx::PgPool;
use tickwork_core::config::redact_urls;
use tickwork_core::hub::Hub;
use tickwork_core::risk::OrderRouter;
use tickwork_core::session::SessionHandle;
use tickwork_core::store::profiles::ConnectionProfile;
use tickwork_core::store::{DatabaseTarget, OpenStore, open};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::boundary::{Command, Notification, QuoteBoard, SessionEvent};

/// How the backend reaches the window: cheap, non-blocking (it posts to the window's queue).
pub type Notify = Arc<dyn Fn(Notification) + Send + Sync>;

/// What a command handler may use: a snapshot taken when the command arrived.
#[derive(Clone)]
pub struct Services {
    pub pool: PgPool,
    notify: Notify,
    /// The connected session, if any.
    pub live: Option<Live>,
}

/// A running session and its order path.
#[derive(Clone)]
pub struct Live {
    pub profile: ConnectionProfile,
    pub demo: bool,
    pub session: SessionHandle,
    pub router: OrderRouter,
    pub hub: Arc<Hub>,
    /// Quotes, positions and account values as the gate sees them.
    pub view: tickwork_core::risk::RiskView,
    /// Strategies running on this connection (paper or live).
    pub host: tickwork_core::scripting::host::StrategyHost,
    /// Plugin strategies running on this connection, on the same feed and order path.
    pub plugin_strategies: tickwork_core::plugins::strategy::PluginStrategies,
}

impl Live {
    /// A session's order path and views, with a strategy host of its own on them.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        profile: ConnectionProfile,
        demo: bool,
        session: SessionHandle,
        router: OrderRouter,
        hub: Arc<Hub>,
        view: tickwork_core::risk::RiskView,
        pool: PgPool,
    ) -> Self {
        let deps = tickwork_core::scripting::host::HostDeps {
            hub: hub.clone(),
            router: router.clone(),
            session: Some(session.clone()),
            pool,
            view: view.clone(),
            simulator: demo,
        };
        let plugin_strategies =
            tickwork_core::plugins::strategy::PluginStrategies::new(deps.clone());
        let host = tickwork_core::scripting::host::StrategyHost::new(scripts::engine(), deps);
        Self {
            profile,
            demo,
            session,
            router,
            hub,
            view,
            host,
            plugin_strategies,
        }
    }
}

impl Services {
    pub fn tell(&self, notification: impl Into<Notification>) {
        (self.notify)(notification.into());
    }

    /// The live session, or tells the window why the command cannot be carried out.
    pub fn live_or_refuse(&self) -> Option<&Live> {
        if self.live.is_none() {
            self.tell(SessionEvent::Refused(
                "not connected to TWS: choose a profile and connect first".into(),
            ));
        }
        self.live.as_ref()
    }

    /// Reports a failed lookup as a problem the trader can act on.
    pub fn problem(&self, what: &str, error: impl std::fmt::Display) {
        let message = redact_urls(&format!("{what}: {error}"));
        tracing::warn!(%message);
        self.tell(Notification::Problem(message));
    }
}

/// How the window was started.
#[derive(Debug, Clone)]
pub struct StartOptions {
    pub target: DatabaseTarget,
    /// Start the built-in simulator and connect to it.
    pub demo: bool,
    /// Connect to this stored profile at start.
    pub profile: Option<String>,
    /// Where native plugins are looked for; `None` runs the window without plugins.
    pub plugins: Option<tickwork_core::plugins::PluginEnv>,
}

/// The backend's task and the way to stop it.
pub struct Running {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Running {
    /// Stops the session, then the simulator, then the database (the embedded server is
    /// stopped here, awaited, never by a drop inside the runtime).
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// Opens the database and, as asked, connects; then serves `commands` until stopped.
pub fn start(
    options: StartOptions,
    board: Arc<QuoteBoard>,
    commands: mpsc::UnboundedReceiver<Command>,
    notify: impl Fn(Notification) + Send + Sync + 'static,
) -> Running {
    let notify: Notify = Arc::new(notify);
    let (stop, stopped) = oneshot::channel();
    let task = tokio::spawn(serve(options, board, commands, notify, stopped));
    Running { stop, task }
}

async fn serve(
    options: StartOptions,
    board: Arc<QuoteBoard>,
    mut commands: mpsc::UnboundedReceiver<Command>,
    notify: Notify,
    mut stopped: oneshot::Receiver<()>,
) {
    notify(
        SessionEvent::Progress {
            task: "Opening the database".into(),
            done: false,
        }
        .into(),
    );
    let opened = open_database(options.target, &notify).await;
    notify(
        SessionEvent::Progress {
            task: "Opening the database".into(),
            done: true,
        }
        .into(),
    );
    let Some(opened) = opened else {
        // Without a database nothing can be served; refuse every command until the window
        // closes.
        loop {
            tokio::select! {
                _ = &mut stopped => return,
                command = commands.recv() => match command {
                    Some(_) => notify(SessionEvent::Refused(
                        "the database is unavailable: fix the configuration and restart".into(),
                    ).into()),
                    None => return,
                },
            }
        }
    };
    if let Some(env) = options.plugins {
        plugins::discover(opened.store.pool(), env, &notify).await;
    }
    let mut backend = session::Backend::new(opened.store.pool().clone(), board, notify);
    backend.announce_profiles().await;
    backend.announce_ticket_defaults().await;
    if options.demo {
        backend.connect_demo().await;
    } else if let Some(profile) = options.profile {
        backend.connect(&profile).await;
    }
    loop {
        let command = tokio::select! {
            // Commands already sent (the layout saved at close) are served before stopping.
            biased;
            command = commands.recv() => match command {
                Some(command) => command,
                None => break,
            },
            _ = &mut stopped => break,
        };
        let services = backend.services();
        match command {
            Command::Session(command) => backend.handle(command).await,
            Command::Orders(command) => orders::handle(services, command).await,
            Command::Market(command) => {
                tokio::spawn(market::handle(services, command));
            }
            Command::Margin(command) => {
                tokio::spawn(margin::handle(services, command));
            }
            Command::Records(command) => {
                tokio::spawn(records::handle(services, command));
            }
            Command::Account(command) => {
                tokio::spawn(account::handle(services, command));
            }
            Command::Scripts(command) => {
                tokio::spawn(scripts::handle(services, command));
            }
            Command::Plugins(command) => {
                tokio::spawn(plugins::handle(services, command));
            }
        }
    }
    backend.disconnect().await;
    if let Err(err) = opened.close().await {
        tracing::error!(error = %err, "closing the database");
    }
}

async fn open_database(target: DatabaseTarget, notify: &Notify) -> Option<OpenStore> {
    let opened = match open(target, true).await {
        Ok(opened) => opened,
        Err(err) => {
            // Shown in the window and logged: never with a URL's password.
            notify(SessionEvent::DatabaseFailed(redact_urls(&err.to_string())).into());
            return None;
        }
    };
    let describe = redact_urls(opened.describe());
    match opened.store.status().await {
        Ok(status) => notify(SessionEvent::DatabaseOpened { describe, status }.into()),
        Err(err) => notify(SessionEvent::DatabaseFailed(redact_urls(&err.to_string())).into()),
    }
    Some(opened)
}
