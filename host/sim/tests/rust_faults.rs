//! Fault injection observed through the real Rust `ibapi` client: dropped connections and
//! reconnect, stall, 1100/1101/1102, farm notices, pacing, malformed and oversized frames,
//! and a TWS restart.

mod common;

use std::time::{Duration, Instant};

use common::{addr, bounded, start, step};
use ibapi::prelude::*;
use tickwork_sim::{Fault, SimHandle};

async fn connect(sim: &SimHandle, id: i32) -> Client {
    step("connect", Client::connect(&addr(sim), id))
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"))
}

/// Waits until the simulator has seen more API sessions than `before` (the client reconnected).
async fn wait_reconnect(sim: &SimHandle, before: u64) {
    step("reconnect", async {
        while sim.sessions_started() <= before {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
}

/// Waits (bounded) for a notice with `code` on a notice stream.
macro_rules! wait_notice {
    ($stream:expr, $code:expr) => {
        step(&format!("notice {}", $code), async {
            loop {
                match $stream.next().await {
                    Some(n) if n.code == $code => break n,
                    Some(_) => {}
                    None => panic!("notice stream closed while waiting for {}", $code),
                }
            }
        })
        .await
    };
}

/// Server time, retried while the client is between connections.
async fn server_time_eventually(client: &Client) {
    step("server time after fault", async {
        loop {
            if client.server_time().await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_stall_malformed_and_oversized() {
    bounded(async {
        for version in [226, 213] {
            let sim = start(version).await;
            let client = connect(&sim, 1).await;
            let id_before = step("id", client.next_valid_order_id())
                .await
                .unwrap_or_else(|e| panic!("{e}"));

            sim.inject(Fault::Stall(Duration::from_millis(600)));
            let t0 = Instant::now();
            step("time during stall", client.server_time())
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            assert!(
                t0.elapsed() >= Duration::from_millis(400),
                "stall was not observed: {:?}",
                t0.elapsed()
            );

            sim.inject(Fault::MalformedFrame);
            step("time after malformed", client.server_time())
                .await
                .unwrap_or_else(|e| panic!("{e}"));

            let before = sim.sessions_started();
            sim.inject(Fault::DropConnections);
            wait_reconnect(&sim, before).await;
            server_time_eventually(&client).await;
            let id_after = step("id after reconnect", client.next_valid_order_id())
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            assert!(id_after >= id_before);

            let before = sim.sessions_started();
            sim.inject(Fault::OversizedFrame);
            wait_reconnect(&sim, before).await;
            server_time_eventually(&client).await;
            drop(client);
            sim.shutdown().await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connectivity_loss_farm_notices_and_pacing() {
    bounded(async {
        for version in [226, 213] {
            let sim = start(version).await;
            let client = connect(&sim, 2).await;
            let mut notices = client.notice_stream().unwrap_or_else(|e| panic!("{e}"));
            let aapl = Contract::stock("AAPL").build();

            // 1100 then 1102: streaming continues.
            let mut kept = step("stream", client.market_data(&aapl).subscribe())
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            sim.inject(Fault::ConnectivityLoss {
                restore_after: Duration::from_millis(200),
                data_kept: true,
            });
            wait_notice!(notices, 1100);
            wait_notice!(notices, 1102);
            let _ = kept.collect_for(Duration::from_millis(200)).await;
            let after = kept.collect_for(Duration::from_millis(800)).await;
            assert!(
                after
                    .iter()
                    .any(|t| matches!(t, TickTypes::Price(_) | TickTypes::PriceSize(_))),
                "ticks must continue after 1102"
            );
            kept.cancel().await;
            drop(kept);

            // 1100 then 1101: data lost, the line stops until the client resubscribes.
            let mut lost = step("stream", client.market_data(&aapl).subscribe())
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let _ = lost.collect_for(Duration::from_millis(200)).await;
            sim.inject(Fault::ConnectivityLoss {
                restore_after: Duration::from_millis(200),
                data_kept: false,
            });
            wait_notice!(notices, 1100);
            wait_notice!(notices, 1101);
            let _ = lost.collect_for(Duration::from_millis(500)).await;
            let after = lost.collect_for(Duration::from_millis(700)).await;
            assert!(
                !after
                    .iter()
                    .any(|t| matches!(t, TickTypes::Price(_) | TickTypes::PriceSize(_))),
                "no ticks after 1101"
            );
            drop(lost);

            sim.inject(Fault::FarmDown);
            wait_notice!(notices, 2103);
            sim.inject(Fault::FarmUp);
            wait_notice!(notices, 2104);

            sim.inject(Fault::PacingViolation(1));
            let paced = step(
                "paced",
                client
                    .historical_data(&aapl, HistoricalBarSize::Hour)
                    .duration(1.days())
                    .fetch(),
            )
            .await;
            assert!(
                paced.is_err_and(|e| e.to_string().contains("162")),
                "forced pacing must give 162"
            );
            drop(client);
            sim.shutdown().await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tws_restart_drops_subscriptions_and_client_reconnects() {
    bounded(async {
        for version in [226, 213] {
            let sim = start(version).await;
            let client = connect(&sim, 3).await;
            let aapl = Contract::stock("AAPL").build();
            let mut stream = step("stream", client.market_data(&aapl).subscribe())
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let before = sim.sessions_started();
            sim.inject(Fault::Restart {
                down_for: Duration::from_millis(1500),
            });
            let ended = step("stream ends on restart", async {
                loop {
                    match stream.next().await {
                        Some(Err(_)) | None => return true,
                        Some(Ok(_)) => {}
                    }
                }
            })
            .await;
            assert!(ended);
            wait_reconnect(&sim, before).await;
            server_time_eventually(&client).await;
            drop(client);
            sim.shutdown().await;
        }
    })
    .await;
}
