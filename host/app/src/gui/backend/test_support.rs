//! For the backend's tests: a session on a real simulator over TCP, and the connection's
//! `Live` on it, as the window's backend builds them.

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use tickwork_core::hub::Hub;
use tickwork_core::risk::{RiskGate, RiskLimits, RiskView, order_path};
use tickwork_core::session::{self, ConnectionState, SessionConfig};
use tickwork_core::store::profiles::ConnectionProfile;
use tickwork_sim::{SimConfig, SimHandle, Simulator};
use tokio::task::JoinHandle;

use super::Live;

/// A simulator, a live session on it and the connection's `Live`.
pub struct OnSimulator {
    pub sim: SimHandle,
    pub live: Live,
    /// The simulator's first (paper) account.
    pub account: String,
    task: JoinHandle<()>,
}

impl OnSimulator {
    /// Starts the simulator and connects a profile named `name` to it (live within 30 s).
    pub async fn start(pool: &PgPool, name: &str) -> Self {
        let sim = Simulator::start(SimConfig {
            port: 0,
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let account = sim.accounts()[0].clone();
        let mut profile = ConnectionProfile::local_paper(name);
        profile.port = i32::from(sim.local_addr().port());
        profile.auto_client_id = true;
        let hub = Arc::new(Hub::new());
        let (router, inbox) = order_path(RiskGate::new(RiskLimits::default()), pool.clone());
        let view = RiskView::follow(&hub);
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
        let live = Live::new(profile, true, session, router, hub, view, pool.clone());
        Self {
            sim,
            live,
            account,
            task,
        }
    }

    /// Stops the session, then the simulator.
    pub async fn stop(self) {
        self.live.session.stop().await;
        let _ = tokio::time::timeout(Duration::from_secs(5), self.task).await;
        self.sim.shutdown().await;
    }
}
