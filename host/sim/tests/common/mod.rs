//! Shared helpers of the end-to-end tests: start an in-process simulator on an ephemeral port
//! and bound every wait so a bug fails a test instead of hanging CI.

#![allow(dead_code)]

use std::future::Future;
use std::time::Duration;

use tickwork_sim::{SimConfig, SimHandle, Simulator};

/// Upper bound for one whole test.
pub const TEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Upper bound for one step (a request and its answer).
pub const STEP: Duration = Duration::from_secs(10);

pub fn config(max_version: u32) -> SimConfig {
    SimConfig {
        port: 0,
        max_version,
        tick_rate: 20.0,
        ..SimConfig::default()
    }
}

pub async fn start(max_version: u32) -> SimHandle {
    start_with(config(max_version)).await
}

pub async fn start_with(cfg: SimConfig) -> SimHandle {
    match Simulator::start(cfg).await {
        Ok(h) => h,
        Err(e) => panic!("simulator failed to start: {e}"),
    }
}

pub fn addr(sim: &SimHandle) -> String {
    sim.local_addr().to_string()
}

/// Awaits `fut` for at most [`STEP`], panicking with `what` on timeout.
pub async fn step<T>(what: &str, fut: impl Future<Output = T>) -> T {
    match tokio::time::timeout(STEP, fut).await {
        Ok(v) => v,
        Err(_) => panic!("timed out: {what}"),
    }
}

/// Runs a whole test body under [`TEST_TIMEOUT`].
pub async fn bounded(fut: impl Future<Output = ()>) {
    if tokio::time::timeout(TEST_TIMEOUT, fut).await.is_err() {
        panic!("test exceeded {TEST_TIMEOUT:?}");
    }
}

/// Polls `done` every 20 ms until it holds, for at most [`STEP`].
pub async fn until(what: &str, done: impl Fn() -> bool) {
    step(what, async {
        while !done() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
}

/// The limit price in the first openOrder acknowledgement of a place/modify subscription.
pub async fn acknowledged_limit(
    what: &str,
    answers: &mut ibapi::subscriptions::Subscription<ibapi::orders::PlaceOrder>,
) -> Option<f64> {
    use ibapi::orders::PlaceOrder;
    use ibapi::prelude::*;
    use ibapi::subscriptions::SubscriptionItem;
    loop {
        match step(what, answers.next()).await {
            Some(Ok(SubscriptionItem::Data(PlaceOrder::OpenOrder(o)))) => {
                return o.order.limit_price;
            }
            Some(Ok(_)) => {}
            other => panic!("{what}: {other:?}"),
        }
    }
}
