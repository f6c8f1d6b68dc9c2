//! Tickwork's TWS protocol simulator: a TCP server that behaves like Trader Workstation / IB
//! Gateway for the messages the workbench and common TWS API clients use. It is the demo
//! backend of the app and the peer of every end-to-end test. See docs/simulator.md.
//!
//! ```no_run
//! # async fn demo() -> Result<(), tickwork_sim::SimError> {
//! use tickwork_sim::{Fault, SimConfig, Simulator};
//! let sim = Simulator::start(SimConfig { port: 0, ..SimConfig::default() }).await?;
//! println!("TWS API on {}", sim.local_addr());
//! sim.inject(Fault::FarmDown);
//! sim.shutdown().await;
//! # Ok(()) }
//! ```

pub mod accounts;
pub mod cli;
pub mod codec;
pub mod config;
pub mod faults;
pub mod handshake;
pub mod limits;
pub mod livebars;
pub mod lookup;
pub mod margin;
pub mod marketdata;
pub mod matching;
pub mod msg;
pub mod orderpath;
pub mod probe;
pub mod refresh;
pub mod reports;
pub mod server;
pub mod session;
pub mod state;
pub mod stops;
pub mod whatif;
pub mod world;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use cli::{SimArgs, run_cli, serve_control};
pub use config::{SimConfig, SimError};
pub use faults::Fault;
pub use orderpath::{CancelRecord, OrderSnapshot};

use server::Shared;
use state::Core;

/// Entry point: starts simulator instances.
#[derive(Debug)]
pub struct Simulator;

impl Simulator {
    /// Binds `cfg.bind:cfg.port` and serves on the current tokio runtime until
    /// [`SimHandle::shutdown`] (or until the handle is dropped).
    pub async fn start(cfg: SimConfig) -> Result<SimHandle, SimError> {
        cfg.validate()?;
        let addr = SocketAddr::new(cfg.bind, cfg.port);
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| SimError::Bind {
                addr: addr.to_string(),
                source,
            })?;
        let local = listener.local_addr()?;
        let today = chrono::Utc::now().date_naive();
        let shared = Shared::new(Core::new(cfg, today));
        let accept = tokio::spawn(server::accept_loop(shared.clone(), listener));
        let clock = tokio::spawn(server::clock(shared.clone()));
        tracing::info!(%local, "simulator listening");
        Ok(SimHandle {
            shared,
            local,
            tasks: vec![accept, clock],
        })
    }
}

/// A running simulator.
#[derive(Debug)]
pub struct SimHandle {
    shared: Arc<Shared>,
    local: SocketAddr,
    tasks: Vec<JoinHandle<()>>,
}

impl SimHandle {
    /// The address clients connect to (the real port when 0 was asked).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Injects a fault; see [`Fault`].
    pub fn inject(&self, fault: Fault) {
        faults::inject(&self.shared, fault);
    }

    /// A cloneable fault injector for control ports, UI actions and test drivers.
    pub fn injector(&self) -> FaultInjector {
        FaultInjector(self.shared.clone())
    }

    /// Number of open API connections (handshake done).
    pub fn connections(&self) -> usize {
        self.shared.lock().conns.len()
    }

    /// API sessions started since launch (grows by one per successful StartApi, so tests can
    /// observe a client's reconnect).
    pub fn sessions_started(&self) -> u64 {
        self.shared
            .sessions
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The managed account codes.
    pub fn accounts(&self) -> Vec<String> {
        self.shared.lock().accounts.ids()
    }

    /// Every order the simulator holds (working, filled, cancelled or rejected), in placement
    /// order: what TWS received, to compare with what a client believes.
    pub fn orders(&self) -> Vec<OrderSnapshot> {
        self.shared.lock().order_snapshot()
    }

    /// Every cancelOrder request applied, in order (including those for unknown orders).
    pub fn cancels(&self) -> Vec<CancelRecord> {
        self.shared.lock().order_path.cancels.clone()
    }

    /// reqGlobalCancel requests applied.
    pub fn global_cancels(&self) -> u64 {
        self.shared.lock().order_path.global_cancels
    }

    /// The current quote of a stock or ETF, as market data would show it now.
    pub fn stock_quote(&self, symbol: &str) -> Option<world::prices::Quote> {
        let core = self.shared.lock();
        let spec = msg::ContractSpec {
            symbol: symbol.into(),
            sec_type: "STK".into(),
            ..msg::ContractSpec::default()
        };
        let inst = core.universe.resolve(&spec)?;
        core.market.quote(&core.universe, inst, core.now())
    }

    /// Order requests received but not applied because of [`Fault::HoldAcks`].
    pub fn held_order_requests(&self) -> usize {
        self.shared.lock().order_path.held.queue.len()
    }

    /// Stops accepting, closes every connection and waits for the server tasks.
    pub async fn shutdown(mut self) {
        self.stop();
        for t in self.tasks.drain(..) {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), t).await;
        }
    }

    fn stop(&self) {
        let _ = self.shared.shutdown.send(true);
    }
}

/// Injects faults into a running simulator; cheap to clone and send to other tasks.
#[derive(Debug, Clone)]
pub struct FaultInjector(Arc<Shared>);

impl FaultInjector {
    /// Injects a fault; see [`Fault`]. Timed faults need a tokio runtime.
    pub fn inject(&self, fault: Fault) {
        faults::inject(&self.0, fault);
    }

    /// Number of open API connections.
    pub fn connections(&self) -> usize {
        self.0.lock().conns.len()
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.stop();
    }
}
