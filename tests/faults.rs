//! Faults injected into the simulator while the session runs: afterwards PostgreSQL holds what
//! the simulator holds, and no order is lost or sent twice.

use std::time::Duration;

use rust_decimal_macros::dec;
use sqlx::PgPool;
use tickwork_core::domain::{InstrumentSpec, OrderSide};
use tickwork_core::session::ConnectionState;
use tickwork_core::store::sync_reports;
use tickwork_e2e::{
    Workbench, drop_and_compare, eventually, market, passing_context, recorded, start_sim,
    sync_count, truth, wait_resynced,
};
use tickwork_sim::Fault;

async fn armed(
    sim: &tickwork_sim::SimHandle,
    pool: &PgPool,
    client_id: i32,
) -> (Workbench, String) {
    let bench = Workbench::start(sim, pool, client_id);
    bench.wait_live().await;
    let account = sim.accounts()[0].clone();
    bench.router.arm(&account, "ui").await.unwrap();
    (bench, account)
}

async fn fills_recorded(pool: &PgPool, n: i64) {
    eventually("fills recorded", || {
        let pool = pool.clone();
        async move {
            let count: i64 = sqlx::query_scalar("SELECT count(*) FROM executions")
                .fetch_one(&pool)
                .await
                .unwrap();
            (count >= n).then_some(())
        }
    })
    .await;
}

#[sqlx::test(migrations = "../migrations")]
async fn dropped_connection_reconnects_and_matches(pool: PgPool) {
    let sim = start_sim().await;
    let (bench, account) = armed(&sim, &pool, 11).await;
    bench
        .router
        .submit(
            market(&account, "MSFT", OrderSide::Buy, dec!(7)),
            &passing_context(dec!(400)),
        )
        .await
        .unwrap();
    fills_recorded(&pool, 1).await;
    let before = sync_count(&pool).await;
    sim.inject(Fault::DropConnections);
    wait_resynced(&bench, &pool, before).await;
    // A fill while we were connected again after the drop, too.
    bench
        .router
        .submit(
            market(&account, "MSFT", OrderSide::Sell, dec!(2)),
            &passing_context(dec!(400)),
        )
        .await
        .unwrap();
    fills_recorded(&pool, 2).await;
    drop_and_compare(&sim, &bench, &pool, 95).await;
    bench.stop().await;
    sim.shutdown().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn order_in_flight_across_a_disconnect_fills_exactly_once(pool: PgPool) {
    let sim = start_sim().await;
    let (bench, account) = armed(&sim, &pool, 12).await;
    let before = sync_count(&pool).await;
    let order_ref = bench
        .router
        .submit(
            market(&account, "MSFT", OrderSide::Buy, dec!(3)),
            &passing_context(dec!(400)),
        )
        .await
        .unwrap();
    sim.inject(Fault::DropConnections);
    wait_resynced(&bench, &pool, before).await;
    fills_recorded(&pool, 1).await;
    // Let any duplicate show up if there were one.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let truth = truth(&sim, 96).await;
    assert_eq!(
        truth
            .execution_refs
            .iter()
            .filter(|r| **r == order_ref)
            .count(),
        1,
        "{truth:?}"
    );
    assert_eq!(recorded(&pool).await, truth);
    bench.stop().await;
    sim.shutdown().await;
}

/// 1100, then 1101 (data lost) or 1102 (data kept): Lost, then a resynchronisation whose report
/// names the notice, and PostgreSQL equal to the simulator afterwards.
async fn connectivity_loss(
    sim: &tickwork_sim::SimHandle,
    bench: &Workbench,
    pool: &PgPool,
    data_kept: bool,
) {
    let before = sync_count(pool).await;
    sim.inject(Fault::ConnectivityLoss {
        restore_after: Duration::from_millis(300),
        data_kept,
    });
    bench
        .wait_state("lost", |s| *s == ConnectionState::Lost)
        .await;
    wait_resynced(bench, pool, before).await;
    let reason = if data_kept { "1102" } else { "1101" };
    assert_eq!(
        sync_reports::recent(pool, 1).await.unwrap()[0].reason,
        reason
    );
    assert_eq!(recorded(pool).await, truth(sim, 94).await);
}

async fn next_quote_of(
    quotes: &tickwork_core::hub::CoalescedReceiver<i64, tickwork_core::domain::Quote>,
    id: i64,
    what: &str,
) {
    tickwork_e2e::bounded(what, async {
        while !quotes.changed().await.contains_key(&id) {}
    })
    .await;
}

#[sqlx::test(migrations = "../migrations")]
async fn connectivity_loss_with_data_lost_resubscribes(pool: PgPool) {
    let sim = start_sim().await;
    let bench = Workbench::live(&sim, &pool, 13).await;
    let quotes = bench.hub.subscribe_quotes();
    let id = bench
        .session
        .watch(InstrumentSpec::stock("AAPL"))
        .await
        .unwrap();
    next_quote_of(&quotes, id, "first quote").await;
    connectivity_loss(&sim, &bench, &pool, false).await;
    quotes.take_changed();
    next_quote_of(&quotes, id, "quotes after 1101").await;
    bench.stop().await;
    sim.shutdown().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn connectivity_loss_with_data_kept_resyncs(pool: PgPool) {
    let sim = start_sim().await;
    let bench = Workbench::live(&sim, &pool, 14).await;
    connectivity_loss(&sim, &bench, &pool, true).await;
    bench.stop().await;
    sim.shutdown().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn farm_notices_degrade_and_recover(pool: PgPool) {
    let sim = start_sim().await;
    let bench = Workbench::live(&sim, &pool, 15).await;
    sim.inject(Fault::FarmDown);
    bench
        .wait_state("degraded", |s| {
            matches!(s, ConnectionState::Degraded { .. })
        })
        .await;
    sim.inject(Fault::FarmUp);
    bench.wait_live().await;
    bench.stop().await;
    sim.shutdown().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn tws_restart_and_stall_are_survived(pool: PgPool) {
    let sim = start_sim().await;
    let (bench, account) = armed(&sim, &pool, 16).await;
    let before = sync_count(&pool).await;
    sim.inject(Fault::Restart {
        down_for: Duration::from_millis(800),
    });
    wait_resynced(&bench, &pool, before).await;
    sim.inject(Fault::Stall(Duration::from_millis(1500)));
    bench
        .router
        .submit(
            market(&account, "MSFT", OrderSide::Buy, dec!(1)),
            &passing_context(dec!(400)),
        )
        .await
        .unwrap();
    fills_recorded(&pool, 1).await;
    drop_and_compare(&sim, &bench, &pool, 98).await;
    bench.stop().await;
    sim.shutdown().await;
}

async fn submitted_while_tws_is_down(
    pool: &PgPool,
    resend_window: Duration,
    client_id: i32,
) -> (tickwork_sim::SimHandle, Workbench, String) {
    let sim = start_sim().await;
    let bench = Workbench::start_with(&sim, pool, client_id, |c| c.resend_window = resend_window);
    bench.wait_live().await;
    let account = sim.accounts()[0].clone();
    bench.router.arm(&account, "ui").await.unwrap();
    let before = sync_count(pool).await;
    sim.inject(Fault::Restart {
        down_for: Duration::from_millis(1500),
    });
    bench
        .wait_state("lost", |s| *s == ConnectionState::Lost)
        .await;
    let order_ref = bench
        .router
        .submit(
            market(&account, "MSFT", OrderSide::Buy, dec!(4)),
            &passing_context(dec!(400)),
        )
        .await
        .unwrap();
    wait_resynced(&bench, pool, before).await;
    (sim, bench, order_ref)
}

#[sqlx::test(migrations = "../migrations")]
async fn order_placed_while_disconnected_is_sent_once_after_reconnect(pool: PgPool) {
    let (sim, bench, order_ref) =
        submitted_while_tws_is_down(&pool, Duration::from_secs(30), 17).await;
    fills_recorded(&pool, 1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let truth = truth(&sim, 99).await;
    assert_eq!(truth.execution_refs, vec![order_ref.clone()]);
    let report = &sync_reports::recent(&pool, 1).await.unwrap()[0].report;
    assert_eq!(
        report["orders_never_received"],
        serde_json::json!([order_ref])
    );
    bench.stop().await;
    sim.shutdown().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn stale_unsent_order_is_expired_not_sent(pool: PgPool) {
    let (sim, bench, order_ref) = submitted_while_tws_is_down(&pool, Duration::ZERO, 18).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        truth(&sim, 100).await.executions.is_empty(),
        "a stale order must not be sent"
    );
    let order = tickwork_core::store::orders::get(&pool, &order_ref)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(order.status, "Inactive");
    let audit = tickwork_core::store::audit::recent(&pool, 1).await.unwrap();
    assert_eq!(audit[0].action, "order.expired");
    bench.stop().await;
    sim.shutdown().await;
}
