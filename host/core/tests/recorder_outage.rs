//! The recorder across a real database outage: a private PostgreSQL cluster is stopped for 30
//! seconds while ticks and executions keep arriving, then started again. Every tick and every
//! execution must end up in PostgreSQL exactly once.
//!
//! Runs as root in CI (the server then runs as `postgres`, so the tempdir is made traversable).

use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use tickwork_core::domain::{ExecSide, Execution, InstrumentSpec, Tick, TickKind};
use tickwork_core::recorder::{CommissionReport, Recorder, RecorderConfig, RecorderStats};
use tickwork_core::store::embedded::{EmbeddedCluster, EmbeddedConfig};
use tickwork_core::store::{MIGRATOR, instruments};

const OUTAGE: Duration = Duration::from_secs(30);
const TICKS_PER_STEP: i64 = 20;
const STEP: Duration = Duration::from_millis(10); // 2,000 ticks/s

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 14, 30, 0).unwrap()
}

async fn start_cluster(config: &EmbeddedConfig) -> EmbeddedCluster {
    let config = config.clone();
    let cluster = tokio::task::spawn_blocking(move || EmbeddedCluster::start(&config))
        .await
        .unwrap()
        .unwrap();
    cluster.ensure_database().await.unwrap();
    cluster
}

async fn stop_cluster(cluster: EmbeddedCluster) {
    let stopped = tokio::task::spawn_blocking(move || cluster.stop())
        .await
        .unwrap()
        .unwrap();
    assert!(
        stopped,
        "this test is the cluster's only user: it must stop"
    );
}

async fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + limit;
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Records ticks at a steady rate and an execution (with its commission report) every quarter
/// second until `stop` is set; returns how many of each it recorded.
async fn produce(recorder: Recorder, instrument_id: i64, stop: Arc<AtomicBool>) -> (i64, i64) {
    let mut ticks = 0i64;
    let mut fills = 0i64;
    let mut step = tokio::time::interval(STEP);
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        step.tick().await;
        for _ in 0..TICKS_PER_STEP {
            recorder
                .record_tick(Tick {
                    instrument_id,
                    ts: t0() + chrono::Duration::microseconds(ticks),
                    kind: if ticks % 2 == 0 {
                        TickKind::Bid
                    } else {
                        TickKind::Ask
                    },
                    price: Some(dec!(187) + Decimal::new(ticks % 1000, 3)),
                    size: Some(Decimal::new(ticks % 9 + 1, 0)),
                })
                .unwrap();
            ticks += 1;
        }
        n += 1;
        if n.is_multiple_of(25) {
            let exec_id = format!("0001f4e8.outage.{fills:05}");
            recorder
                .record_execution(Execution {
                    exec_id: exec_id.clone(),
                    order_ref: Some(format!("tw-{fills}")),
                    tws_order_id: Some(fills as i32),
                    tws_perm_id: None,
                    account: "DU1".into(),
                    instrument_id,
                    side: ExecSide::Bought,
                    quantity: dec!(10),
                    price: dec!(187.25),
                    commission: None,
                    commission_currency: None,
                    realized_pnl: None,
                    executed_at: t0() + chrono::Duration::milliseconds(fills),
                })
                .await
                .unwrap();
            recorder
                .record_commission(CommissionReport {
                    exec_id,
                    commission: dec!(1.00),
                    currency: "USD".into(),
                    realized_pnl: None,
                })
                .await
                .unwrap();
            fills += 1;
        }
    }
    (ticks, fills)
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_stopped_for_30_seconds_loses_no_tick_and_no_execution() {
    let dir = tempfile::tempdir().unwrap();
    // tempdirs are 0700; the server user must be able to traverse into it.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let config = EmbeddedConfig {
        root: dir.path().join("pg"),
        bin_dir: None,
        run_as: "postgres".to_owned(),
    };
    let cluster = start_cluster(&config).await;
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(Duration::from_secs(2))
        .connect_with(cluster.connect_options())
        .await
        .unwrap();
    MIGRATOR.run(&pool).await.unwrap();
    let aapl = instruments::upsert(&pool, &InstrumentSpec::stock("AAPL"))
        .await
        .unwrap();

    let recorder = Recorder::start(
        pool.clone(),
        RecorderConfig {
            batch_age: Duration::from_millis(100),
            retry_initial: Duration::from_millis(100),
            retry_max: Duration::from_secs(1),
            db_timeout: Duration::from_secs(5),
            shutdown_timeout: Duration::from_secs(30),
            ..RecorderConfig::new(dir.path().join("journal"))
        },
    )
    .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let producer = tokio::spawn(produce(recorder.clone(), aapl.id, stop.clone()));
    let stats = || recorder.stats();

    wait_until(
        "rows in PostgreSQL before the outage",
        Duration::from_secs(10),
        || stats().written.ticks > 0 && stats().written.executions > 0,
    )
    .await;
    // A few seconds of steady recording with the database up.
    tokio::time::sleep(Duration::from_secs(3)).await;

    stop_cluster(cluster).await;
    let before = stats();
    tokio::time::sleep(OUTAGE).await;
    let during: RecorderStats = stats();
    assert!(!during.db_available, "{during:?}");
    assert!(
        during.spooled > 40_000,
        "30 s at 2,000 ticks/s went to the journal: {during:?}"
    );
    assert!(
        during.written.ticks - before.written.ticks < 5_000,
        "{before:?} {during:?}"
    );

    let cluster = start_cluster(&config).await;
    wait_until("the journal to drain", Duration::from_secs(30), || {
        let s = stats();
        s.db_available && s.journal_segments == 0 && s.replayed > 0
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;

    stop.store(true, Ordering::Relaxed);
    let (ticks, fills) = tokio::time::timeout(Duration::from_secs(10), producer)
        .await
        .expect("producer stops")
        .unwrap();
    let report = tokio::time::timeout(Duration::from_secs(60), recorder.shutdown())
        .await
        .expect("shutdown within 60 s")
        .unwrap()
        .stats;
    eprintln!(
        "recorded {ticks} ticks and {fills} fills; during the outage: {during:?}; at shutdown: {report:?}"
    );

    assert_eq!(report.journal_segments, 0, "{report:?}");
    assert_eq!(report.lost, 0);
    assert_eq!(report.rejected, 0);
    assert_eq!(report.written.ticks, ticks as u64, "{report:?}");
    assert!(report.replayed >= during.spooled, "{report:?}");
    assert!(fills > 100, "a fill every 250 ms for over 30 s");

    assert_eq!(count(&pool, "SELECT count(*) FROM ticks").await, ticks);
    assert_eq!(
        count(&pool, "SELECT count(DISTINCT ts) FROM ticks").await,
        ticks,
        "no tick twice"
    );
    let in_range: i64 = sqlx::query_scalar("SELECT count(*) FROM ticks WHERE ts >= $1 AND ts < $2")
        .bind(t0())
        .bind(t0() + chrono::Duration::microseconds(ticks))
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        in_range, ticks,
        "n distinct ticks within the n microseconds: every one of them"
    );
    assert_eq!(count(&pool, "SELECT count(*) FROM executions").await, fills);
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM executions WHERE commission = 1.00"
        )
        .await,
        fills,
        "every commission report found its execution"
    );
    pool.close().await;
    stop_cluster(cluster).await;
}
