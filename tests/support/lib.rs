//! Shared pieces of the end-to-end tests: a simulator on an ephemeral port, a session wired to
//! a test database, the simulator's own view of the truth, and bounded waits.

pub mod plugins;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use ibapi::Client;
use ibapi::accounts::PositionUpdate;
use ibapi::orders::{ExecutionFilter, Executions, Orders};
use ibapi::subscriptions::SubscriptionItem;
use rust_decimal::Decimal;
use sqlx::PgPool;
use tickwork_core::hub::Hub;
use tickwork_core::risk::{OrderRouter, RiskGate, RiskLimits, order_path};
use tickwork_core::session::{self, ConnectionState, SessionConfig, SessionHandle};
use tickwork_core::store::profiles::ConnectionProfile;
use tickwork_sim::{SimConfig, SimHandle, Simulator};
use tokio::task::JoinHandle;

/// A live session on a fresh simulator with its first account armed, and what a strategy
/// host needs of it, once the risk view knows the account's values (so the gate decides on
/// them). Answers the simulator, the session, the host's dependencies and the account.
pub async fn paper_deps(
    pool: &PgPool,
    client_id: i32,
) -> (
    SimHandle,
    Workbench,
    tickwork_core::scripting::host::HostDeps,
    String,
) {
    use tickwork_core::risk::RiskView;
    let sim = start_sim().await;
    let bench = Workbench::start(&sim, pool, client_id);
    // Following the hub before the first synchronisation, which publishes the account values.
    let view = RiskView::follow(&bench.hub);
    bench.wait_live().await;
    let account = sim.accounts()[0].clone();
    bench.router.arm(&account, "ui").await.unwrap();
    let deps = tickwork_core::scripting::host::HostDeps {
        hub: bench.hub.clone(),
        router: bench.router.clone(),
        session: Some(bench.session.clone()),
        pool: pool.clone(),
        view,
        simulator: true,
    };
    let probe = market(
        &account,
        "MSFT",
        tickwork_core::domain::OrderSide::Buy,
        rust_decimal_macros::dec!(1),
    );
    bench.session.watch(probe.instrument.clone()).await.unwrap();
    eventually("the risk view knows the account", || {
        let (view, pool, probe) = (deps.view.clone(), pool.clone(), probe.clone());
        async move {
            let ctx = view.context_for(&pool, &probe, true, None).await.unwrap();
            (ctx.daily_pnl.is_some() && ctx.last_price.is_some()).then_some(())
        }
    })
    .await;
    (sim, bench, deps, account)
}

/// Waits until the simulator has cancelled an order for `symbol`.
pub async fn cancelled_at_the_simulator(sim: &SimHandle, symbol: &str) {
    eventually("an order cancelled at the simulator", || {
        let orders = sim.orders();
        async move {
            orders
                .iter()
                .any(|o| o.symbol == symbol && o.status == "Cancelled")
                .then_some(())
        }
    })
    .await;
}

/// Upper bound for any single wait in a test.
pub const WAIT: Duration = Duration::from_secs(30);

pub async fn start_sim() -> SimHandle {
    Simulator::start(SimConfig {
        port: 0,
        tick_rate: 20.0,
        ..SimConfig::default()
    })
    .await
    .unwrap_or_else(|e| panic!("simulator: {e}"))
}

/// A session, its hub and its order router, connected to `sim`.
pub struct Workbench {
    pub hub: Arc<Hub>,
    pub session: SessionHandle,
    pub router: OrderRouter,
    pub task: JoinHandle<()>,
    /// The router's own connections to the test database (separate from the session's, so a
    /// test can take the database away from the router alone).
    router_pool: PgPool,
}

impl Workbench {
    pub fn start(sim: &SimHandle, pool: &PgPool, client_id: i32) -> Self {
        Self::start_with(sim, pool, client_id, |_| {})
    }

    /// Like [`Workbench::start`], with the session configuration adjusted by `tweak`.
    pub fn start_with(
        sim: &SimHandle,
        pool: &PgPool,
        client_id: i32,
        tweak: impl FnOnce(&mut SessionConfig),
    ) -> Self {
        let mut profile = ConnectionProfile::local_paper("e2e");
        profile.port = i32::from(sim.local_addr().port());
        profile.client_id = client_id;
        let mut config = SessionConfig::new(profile);
        config.initial_backoff = Duration::from_millis(200);
        config.max_backoff = Duration::from_secs(2);
        tweak(&mut config);
        let hub = Arc::new(Hub::new());
        let router_pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(4)
            .connect_lazy_with((*pool.connect_options()).clone());
        let (router, inbox) = order_path(RiskGate::new(RiskLimits::default()), router_pool.clone());
        // Resends decide on a context in which a modest order passes every rule (its own price
        // as the quote), like the tests' own submissions; the gate's state (armed, kill switch,
        // limits) is real.
        router.set_context_source(Arc::new(|intent| {
            let last = intent
                .reference_price()
                .unwrap_or(rust_decimal_macros::dec!(100));
            Box::pin(async move { Ok(passing_context(last)) })
        }));
        let (session, task) = session::spawn(config, hub.clone(), pool.clone(), inbox, None);
        Self {
            hub,
            session,
            router,
            task,
            router_pool,
        }
    }

    /// The pool the router writes through.
    pub fn router_pool(&self) -> PgPool {
        self.router_pool.clone()
    }

    /// Starts a session on `sim` and waits until it is live.
    pub async fn live(sim: &SimHandle, pool: &PgPool, client_id: i32) -> Self {
        let bench = Self::start(sim, pool, client_id);
        bench.wait_live().await;
        bench
    }

    /// Waits until the session state satisfies `done`.
    pub async fn wait_state(&self, what: &str, done: impl Fn(&ConnectionState) -> bool) {
        let mut watch = self.hub.watch_connection();
        bounded(what, async {
            loop {
                if done(&watch.borrow_and_update()) {
                    return;
                }
                watch.changed().await.expect("hub gone");
            }
        })
        .await;
    }

    pub async fn wait_live(&self) {
        self.wait_state("live", |s| *s == ConnectionState::Live)
            .await;
    }

    pub async fn stop(self) {
        self.session.stop().await;
        bounded("session stop", self.task)
            .await
            .expect("session task panicked");
    }
}

/// Awaits `fut` for at most [`WAIT`], failing the test with `what` on timeout.
pub async fn bounded<T>(what: &str, fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(WAIT, fut)
        .await
        .unwrap_or_else(|_| panic!("timed out: {what}"))
}

/// Polls `check` every 100 ms until it returns `Some`, for at most [`WAIT`].
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    bounded(what, async {
        loop {
            if let Some(value) = check().await {
                return value;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
}

/// What the simulator itself says, through a separate plain `ibapi` client.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Truth {
    /// (account, symbol, quantity), sorted.
    pub positions: Vec<(String, String, Decimal)>,
    /// exec ids, sorted.
    pub executions: Vec<String>,
    /// the order ref of each execution, sorted (one entry per execution).
    pub execution_refs: Vec<String>,
    /// order refs of working orders, sorted.
    pub open_order_refs: Vec<String>,
}

pub async fn truth(sim: &SimHandle, client_id: i32) -> Truth {
    let client = bounded(
        "truth connect",
        Client::connect(&sim.local_addr().to_string(), client_id),
    )
    .await
    .unwrap_or_else(|e| panic!("truth client: {e}"));
    let mut truth = Truth::default();
    let mut positions = client.positions().await.unwrap();
    while let Some(item) = bounded("truth positions", positions.next()).await {
        match item {
            Ok(SubscriptionItem::Data(PositionUpdate::Position(p))) => {
                let quantity = Decimal::try_from(p.position).unwrap();
                if !quantity.is_zero() {
                    truth
                        .positions
                        .push((p.account, p.contract.symbol.to_string(), quantity));
                }
            }
            Ok(SubscriptionItem::Data(PositionUpdate::PositionEnd)) => break,
            Ok(_) => {}
            Err(e) => panic!("truth positions: {e}"),
        }
    }
    drop(positions);
    let mut executions = client.executions(ExecutionFilter::default()).await.unwrap();
    while let Some(item) = bounded("truth executions", executions.next()).await {
        match item {
            Ok(SubscriptionItem::Data(Executions::ExecutionData(e))) => {
                truth.executions.push(e.execution.execution_id);
                truth.execution_refs.push(e.execution.order_reference);
            }
            Ok(_) => {}
            Err(e) => panic!("truth executions: {e}"),
        }
    }
    let mut open = client.all_open_orders().await.unwrap();
    while let Some(item) = bounded("truth open orders", open.next()).await {
        match item {
            Ok(SubscriptionItem::Data(Orders::OrderData(o))) => {
                if !o.order.order_ref.is_empty() {
                    truth.open_order_refs.push(o.order.order_ref);
                }
            }
            Ok(_) => {}
            Err(e) => panic!("truth open orders: {e}"),
        }
    }
    client.disconnect().await;
    truth.positions.sort();
    truth.executions.sort();
    truth.execution_refs.sort();
    truth.open_order_refs.sort();
    truth
}

/// The same view from PostgreSQL, as the session recorded it.
pub async fn recorded(pool: &PgPool) -> Truth {
    let mut truth = Truth::default();
    let accounts: Vec<String> = sqlx::query_scalar("SELECT code FROM accounts")
        .fetch_all(pool)
        .await
        .unwrap();
    for account in accounts {
        if let Some((_, held)) = tickwork_core::store::positions::latest(pool, &account)
            .await
            .unwrap()
        {
            for p in held {
                let symbol: String =
                    sqlx::query_scalar("SELECT symbol FROM instruments WHERE id = $1")
                        .bind(p.instrument_id)
                        .fetch_one(pool)
                        .await
                        .unwrap();
                if !p.quantity.is_zero() {
                    truth.positions.push((account.clone(), symbol, p.quantity));
                }
            }
        }
    }
    truth.executions = sqlx::query_scalar("SELECT exec_id FROM executions ORDER BY exec_id")
        .fetch_all(pool)
        .await
        .unwrap();
    truth.execution_refs =
        sqlx::query_scalar("SELECT COALESCE(order_ref, '') FROM executions ORDER BY 1")
            .fetch_all(pool)
            .await
            .unwrap();
    truth.open_order_refs = sqlx::query_scalar(
        "SELECT order_ref FROM orders WHERE status <> ALL($1) ORDER BY order_ref",
    )
    .bind(tickwork_core::store::orders::FINAL_STATUSES)
    .fetch_all(pool)
    .await
    .unwrap();
    truth.positions.sort();
    truth
}

/// Number of synchronisation reports stored so far (one per connect or restore).
pub async fn sync_count(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM sync_reports")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Waits until more than `before` synchronisations have been stored and the session is live.
pub async fn wait_resynced(bench: &Workbench, pool: &PgPool, before: i64) {
    eventually("a new synchronisation", || {
        let pool = pool.clone();
        async move { (sync_count(&pool).await > before).then_some(()) }
    })
    .await;
    bench.wait_live().await;
}

/// A market order from the ticket.
pub fn market(
    account: &str,
    symbol: &str,
    side: tickwork_core::domain::OrderSide,
    quantity: Decimal,
) -> tickwork_core::risk::OrderIntent {
    use tickwork_core::domain::{InstrumentSpec, OrderType, TimeInForce};
    tickwork_core::risk::OrderIntent {
        origin: tickwork_core::risk::Origin::Ui,
        account: account.into(),
        instrument: InstrumentSpec::stock(symbol),
        side,
        quantity,
        order_type: OrderType::Market,
        limit_price: None,
        stop_price: None,
        time_in_force: TimeInForce::Day,
        parent_ref: None,
    }
}

/// A risk context in which a modest order passes every rule.
pub fn passing_context(last: Decimal) -> tickwork_core::risk::RiskContext {
    use rust_decimal_macros::dec;
    tickwork_core::risk::RiskContext {
        last_price: Some(last),
        quote_age: Some(Duration::from_millis(100)),
        daily_pnl: Some(Decimal::ZERO),
        origin_may_trade: true,
        margin: Some(tickwork_core::risk::MarginImpact {
            initial_after: dec!(1000),
            equity_with_loan: dec!(1000000),
            tws_initial_after: None,
            tws_equity_with_loan_after: None,
            custom_rules: None,
        }),
        ..tickwork_core::risk::RiskContext::default()
    }
}

/// Drops every connection, waits for the session to resynchronise, and checks that PostgreSQL
/// holds what the simulator holds.
pub async fn drop_and_compare(
    sim: &SimHandle,
    bench: &Workbench,
    pool: &PgPool,
    truth_client_id: i32,
) {
    let before = sync_count(pool).await;
    sim.inject(tickwork_sim::Fault::DropConnections);
    wait_resynced(bench, pool, before).await;
    assert_eq!(recorded(pool).await, truth(sim, truth_client_id).await);
}
