//! Streaming throughput of the simulator, two ways, in one run:
//! 1. market-data messages per second delivered to a raw client that only reads and discards
//!    (frames counted by their length prefixes), and
//! 2. ticks per second delivered through the real Rust `ibapi` client,
//!
//! with the ratio between them. Run: `cargo bench -p tickwork-sim --bench throughput`.
//! Optional arguments: seconds per measurement (default 5) and tick rate per instrument.

use std::time::{Duration, Instant};

use ibapi::prelude::*;
use tickwork_sim::{SimConfig, Simulator};

const SYMBOLS: [&str; 4] = ["AAPL", "MSFT", "SPY", "QQQ"];

/// Ticks per second delivered to the application by the Rust `ibapi` client.
async fn ibapi_reader(
    addr: std::net::SocketAddr,
    secs: f64,
) -> Result<f64, Box<dyn std::error::Error>> {
    let client = Client::connect(&addr.to_string(), 91).await?;
    let mut subs = Vec::new();
    for sym in SYMBOLS {
        subs.push(
            client
                .market_data(&Contract::stock(sym).build())
                .subscribe()
                .await?,
        );
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<u64>();
    let mut tasks = Vec::new();
    for mut sub in subs {
        let tx = tx.clone();
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while let Some(item) = sub.next().await {
                if item.is_ok() {
                    n += 1;
                    if n.is_multiple_of(1024) {
                        let _ = tx.send(1024);
                    }
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    while rx.try_recv().is_ok() {}
    let start = Instant::now();
    let mut ticks = 0u64;
    while start.elapsed().as_secs_f64() < secs {
        if let Ok(Some(n)) = tokio::time::timeout(Duration::from_millis(100), rx.recv()).await {
            ticks += n;
        }
    }
    let rate = ticks as f64 / start.elapsed().as_secs_f64();
    for t in tasks {
        t.abort();
    }
    Ok(rate)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let secs: f64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(5.0);
    let tick_rate: f64 = args
        .get(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(400_000.0);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let cfg = SimConfig {
            port: 0,
            tick_rate,
            rate_limit: None,
            ..SimConfig::default()
        };
        let sim = Simulator::start(cfg).await?;
        let addr = sim.local_addr();
        let raw = tickwork_sim::probe::raw_market_data_rate(addr, &SYMBOLS, 90, secs).await?;
        sim.shutdown().await;
        let cfg = SimConfig {
            port: 0,
            tick_rate,
            rate_limit: None,
            ..SimConfig::default()
        };
        let sim = Simulator::start(cfg).await?;
        let e2e = ibapi_reader(sim.local_addr(), secs).await?;
        sim.shutdown().await;
        println!(
            "tick rate per instrument: {tick_rate:.0}/s, {} instruments, {secs} s per measurement",
            SYMBOLS.len()
        );
        println!("raw reader (read and discard): {raw:>12.0} market-data msgs/s");
        println!("Rust ibapi client end to end:  {e2e:>12.0} ticks/s");
        println!(
            "ratio raw / ibapi:             {:>12.1}",
            raw / e2e.max(1.0)
        );
        Ok::<(), Box<dyn std::error::Error>>(())
    })
}
