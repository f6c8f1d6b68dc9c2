//! The real Rust `ibapi` client against the simulator: negotiation, startup and one-shots at
//! 226 and 213; 178 refused by the client; client id in use.

mod common;

use common::{addr, bounded, start, step};
use ibapi::Client;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_current_time_and_accounts_at_226_and_213() {
    bounded(async {
        for version in [226, 213] {
            let sim = start(version).await;
            let client = step("connect", Client::connect(&addr(&sim), 7))
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(client.server_version(), version as i32);
            assert!(
                client.connection_time().is_some(),
                "handshake time must parse"
            );
            let t = step("server_time", client.server_time())
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64);
            assert!((now - t.unix_timestamp()).abs() < 5);
            let accounts = step("managed_accounts", client.managed_accounts())
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(accounts, sim.accounts());
            let next = step("next id", client.next_valid_order_id())
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            assert!(next >= 1);
            let ms = step("server_time_millis", client.server_time_millis())
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            assert!((now - ms.unix_timestamp()).abs() < 5);
            let codes = step("family codes", client.family_codes())
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            assert!(codes.is_empty());
            let tiers = step("soft dollar tiers", client.soft_dollar_tiers())
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            assert!(tiers.is_empty());
            drop(client);
            sim.shutdown().await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_178_listener_is_refused_by_the_rust_client() {
    bounded(async {
        let sim = start(178).await;
        let err = step("connect", Client::connect(&addr(&sim), 1)).await.err();
        match err {
            Some(ibapi::Error::ServerVersion(213, 178, _)) => {}
            other => panic!("expected ServerVersion(213, 178), got {other:?}"),
        }
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_client_id_gets_326() {
    bounded(async {
        let sim = start(226).await;
        let first = step("connect", Client::connect(&addr(&sim), 5))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let second = step("connect again", Client::connect(&addr(&sim), 5)).await;
        match second {
            Err(ibapi::Error::ClientIdInUse { client_id: 5 }) => {}
            other => panic!("expected ClientIdInUse, got {:?}", other.err()),
        }
        drop(first);
        sim.shutdown().await;
    })
    .await;
}
