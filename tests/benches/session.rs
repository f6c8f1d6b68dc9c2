//! Session throughput and latency, against the simulator, in one run:
//! 1. the simulator's raw socket rate: market-data frames/s read by a client that only reads
//!    and discards (the baseline);
//! 2. ticks/s through the real `ibapi` client, the session and the hub to a consumer of the
//!    hub's bounded tick queue, as a ratio to (1);
//! 3. tick-to-consumer latency (from the session's receipt of a tick to the consumer) at
//!    about 20,000 ticks/s: p50, p99, max.
//!
//! Run: `DATABASE_URL=postgres://… cargo bench -p tickwork-e2e --bench session [SECONDS]`
//! (a scratch database is created and dropped on that server).

use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection};
use tickwork_core::domain::InstrumentSpec;
use tickwork_core::hub::Hub;
use tickwork_core::session::{self, ConnectionState, SessionConfig};
use tickwork_core::store::profiles::ConnectionProfile;
use tickwork_sim::{SimConfig, Simulator};

const SYMBOLS: [&str; 4] = ["AAPL", "MSFT", "SPY", "QQQ"];
type BenchResult<T> = Result<T, Box<dyn std::error::Error>>;

/// A session on `sim` feeding a hub; returns the hub once the session is live and streaming.
async fn live_session(
    sim: &tickwork_sim::SimHandle,
    pool: sqlx::PgPool,
    client_id: i32,
) -> BenchResult<(Arc<Hub>, session::SessionHandle)> {
    let mut profile = ConnectionProfile::local_paper("bench");
    profile.port = i32::from(sim.local_addr().port());
    profile.client_id = client_id;
    let hub = Arc::new(Hub::new());
    let (_router, inbox) = tickwork_core::risk::order_path(
        tickwork_core::risk::RiskGate::new(tickwork_core::risk::RiskLimits::default()),
        pool.clone(),
    );
    let (handle, _task) =
        session::spawn(SessionConfig::new(profile), hub.clone(), pool, inbox, None);
    let mut state = hub.watch_connection();
    tokio::time::timeout(Duration::from_secs(30), async {
        while *state.borrow_and_update() != ConnectionState::Live {
            state.changed().await.ok();
        }
    })
    .await?;
    std::mem::forget(_router);
    for symbol in SYMBOLS {
        handle.watch(InstrumentSpec::stock(symbol)).await?;
    }
    Ok((hub, handle))
}

/// Ticks/s a hub consumer receives, and the latencies it saw.
async fn consume(hub: &Hub, secs: f64) -> (f64, Vec<Duration>, u64) {
    let mut ticks = hub.subscribe_ticks();
    let warm = Instant::now() + Duration::from_millis(500);
    while Instant::now() < warm {
        let _ = tokio::time::timeout(Duration::from_millis(50), ticks.recv()).await;
    }
    let start = Instant::now();
    let (mut n, mut overflowed) = (0u64, 0u64);
    let mut latencies = Vec::new();
    while start.elapsed().as_secs_f64() < secs {
        match tokio::time::timeout(Duration::from_millis(100), ticks.recv()).await {
            Ok(Some(Ok(tick))) => {
                n += 1;
                if n % 16 == 0 {
                    let age = chrono::Utc::now() - tick.ts;
                    latencies.push(age.to_std().unwrap_or_default());
                }
            }
            Ok(Some(Err(overflow))) => overflowed += overflow.missed,
            _ => {}
        }
    }
    (
        n as f64 / start.elapsed().as_secs_f64(),
        latencies,
        overflowed,
    )
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn scratch_pool() -> BenchResult<(sqlx::PgPool, String, String)> {
    let url =
        std::env::var("DATABASE_URL").map_err(|_| "set DATABASE_URL to a PostgreSQL server")?;
    let name = format!("tickwork_bench_{}", std::process::id());
    let mut admin = PgConnection::connect(&url).await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await?;
    let options: sqlx::postgres::PgConnectOptions = url
        .parse::<sqlx::postgres::PgConnectOptions>()?
        .database(&name);
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await?;
    tickwork_core::store::MIGRATOR.run(&pool).await?;
    Ok((pool, url, name))
}

fn main() -> BenchResult<()> {
    let secs: f64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5.0);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let (pool, url, name) = scratch_pool().await?;

        let fast = Simulator::start(SimConfig { port: 0, tick_rate: 400_000.0, ..SimConfig::default() }).await?;
        let raw = tickwork_sim::probe::raw_market_data_rate(fast.local_addr(), &SYMBOLS, 80, secs).await?;
        let (hub, handle) = live_session(&fast, pool.clone(), 81).await?;
        let (through, _, overflowed) = consume(&hub, secs).await;
        handle.stop().await;
        fast.shutdown().await;

        // A quote update carries about 7 ticks (prices and sizes): 4 instruments × 700 updates/s
        // ≈ 20,000 ticks/s; the rate actually seen is printed.
        let steady = Simulator::start(SimConfig { port: 0, tick_rate: 700.0, ..SimConfig::default() }).await?;
        let (hub, handle) = live_session(&steady, pool.clone(), 82).await?;
        let (rate, mut latencies, _) = consume(&hub, secs).await;
        handle.stop().await;
        steady.shutdown().await;
        latencies.sort();

        println!("simulator raw socket, market-data msgs/s:    {raw:>12.0}");
        println!("session + hub to a consumer, ticks/s:        {through:>12.0}  (consumer overflowed by {overflowed})");
        println!("ratio session / raw:                         {:>12.3}", through / raw);
        println!("latency at {rate:.0} ticks/s (session receipt → consumer), {} samples:", latencies.len());
        println!("  p50 {:?}  p99 {:?}  max {:?}", percentile(&latencies, 0.50), percentile(&latencies, 0.99), latencies.last().copied().unwrap_or_default());

        pool.close().await;
        let mut admin = PgConnection::connect(&url).await?;
        sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)")).execute(&mut admin).await?;
        Ok(())
    })
}
