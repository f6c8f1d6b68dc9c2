//! Recorder tests against a real PostgreSQL (`#[sqlx::test]`: a fresh database per test).
//! The outage itself (the server stopped for 30 s) is `tests/recorder_outage.rs`.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::batch::Batch;
use super::journal::{CommitMarker, Journal};
use super::segment::{SegmentEnd, read_segment};
use super::*;
use crate::domain::{ExecSide, InstrumentSpec, TickKind};
use crate::store::{account_values, executions, instruments};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 14, 30, 0).unwrap()
}

fn tick(i: i64) -> Tick {
    Tick {
        instrument_id: 1 + i % 3,
        ts: t0() + chrono::Duration::microseconds(i),
        kind: TickKind::Last,
        price: Some(dec!(187.01) + Decimal::new(i % 100, 2)),
        size: Some(Decimal::new(i % 7 + 1, 0)),
    }
}

fn fill(exec_id: &str, instrument_id: i64) -> Execution {
    Execution {
        exec_id: exec_id.into(),
        order_ref: Some("tw-1".into()),
        tws_order_id: Some(17),
        tws_perm_id: None,
        account: "DU1".into(),
        instrument_id,
        side: ExecSide::Bought,
        quantity: dec!(100),
        price: dec!(187.25),
        commission: None,
        commission_currency: None,
        realized_pnl: None,
        executed_at: t0(),
    }
}

fn config(dir: &Path) -> RecorderConfig {
    RecorderConfig {
        retry_initial: Duration::from_millis(50),
        retry_max: Duration::from_millis(200),
        db_timeout: Duration::from_secs(5),
        shutdown_timeout: Duration::from_secs(10),
        ..RecorderConfig::new(dir)
    }
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

/// Ticks stored, and distinct ticks stored: equal when nothing was written twice.
async fn tick_counts(pool: &PgPool) -> (i64, i64) {
    (
        count(pool, "SELECT count(*) FROM ticks").await,
        count(
            pool,
            "SELECT count(DISTINCT (instrument_id, ts)) FROM ticks",
        )
        .await,
    )
}

async fn wait_for(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !done().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn segments_in(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            let name = name.to_string_lossy();
            name.starts_with("segment-") && name.ends_with(".journal")
        })
        .count()
}

/// A pool that cannot connect: nothing listens on port 1.
fn dead_pool() -> PgPool {
    PgPoolOptions::new()
        .acquire_timeout(Duration::from_secs(2))
        .connect_lazy_with(PgConnectOptions::new().host("127.0.0.1").port(1))
}

#[sqlx::test(migrations = "../../migrations")]
async fn writes_full_batches_and_flushes_the_rest(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    let recorder = Recorder::start(
        pool.clone(),
        RecorderConfig {
            batch_rows: 100,
            batch_age: Duration::from_secs(3600),
            ..config(dir.path())
        },
    )
    .unwrap();
    for i in 0..250 {
        recorder.record_tick(tick(i)).unwrap();
    }
    // Two full batches go out on their own; the last 50 wait for the age threshold.
    wait_for("two batches", async || {
        recorder.stats().written.ticks == 200
    })
    .await;
    assert_eq!(count(&pool, "SELECT count(*) FROM ticks").await, 200);
    recorder.flush().await.unwrap();
    assert_eq!(count(&pool, "SELECT count(*) FROM ticks").await, 250);
    let report = recorder.shutdown().await.unwrap();
    assert_eq!(report.stats.written.ticks, 250);
    assert_eq!(report.stats.spooled, 0);
    assert_eq!(report.stats.journal_segments, 0);
    assert!(report.stats.db_available);
    assert!(matches!(
        recorder.record_tick(tick(0)),
        Err(RecorderError::Closed)
    ));
    assert!(matches!(
        recorder.shutdown().await,
        Err(RecorderError::Closed)
    ));
    let back = crate::store::market_data::ticks_between(
        &pool,
        1,
        t0(),
        t0() + chrono::Duration::seconds(1),
    )
    .await
    .unwrap();
    let expected: Vec<Tick> = (0..250)
        .map(tick)
        .filter(|t| t.instrument_id == 1)
        .collect();
    assert_eq!(back, expected, "ticks come back exactly");
}

#[sqlx::test(migrations = "../../migrations")]
async fn writes_a_small_batch_when_it_is_old_enough(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    let recorder = Recorder::start(
        pool.clone(),
        RecorderConfig {
            batch_age: Duration::from_millis(100),
            ..config(dir.path())
        },
    )
    .unwrap();
    for i in 0..10 {
        recorder.record_tick(tick(i)).unwrap();
    }
    wait_for("the age threshold", async || {
        count(&pool, "SELECT count(*) FROM ticks").await == 10
    })
    .await;
    recorder.shutdown().await.unwrap();
}

#[sqlx::test(migrations = "../../migrations")]
async fn executions_commissions_bars_and_account_values(pool: PgPool) {
    let aapl = instruments::upsert(&pool, &InstrumentSpec::stock("AAPL"))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let recorder = Recorder::start(pool.clone(), config(dir.path())).unwrap();
    let report = |exec_id: &str, commission| CommissionReport {
        exec_id: exec_id.into(),
        commission,
        currency: "USD".into(),
        realized_pnl: Some(dec!(-3.5)),
    };
    // A report queued before its execution still lands: executions are written first.
    recorder
        .record_commission(report("e1", dec!(1.00)))
        .await
        .unwrap();
    recorder
        .record_execution(fill("e1", aapl.id))
        .await
        .unwrap();
    recorder
        .record_execution(fill("e2", aapl.id))
        .await
        .unwrap();
    recorder
        .record_execution(fill("e2", aapl.id))
        .await
        .unwrap();
    recorder.flush().await.unwrap();
    // A report in a later batch, and one for an execution nobody recorded.
    recorder
        .record_commission(report("e2", dec!(0.35)))
        .await
        .unwrap();
    recorder
        .record_commission(report("nope", dec!(9)))
        .await
        .unwrap();
    let bar = |close| Bar {
        instrument_id: aapl.id,
        bar_seconds: 60,
        ts: t0(),
        open: dec!(187),
        high: dec!(188),
        low: dec!(186.5),
        close,
        volume: dec!(12000),
    };
    recorder.record_bar(bar(dec!(187.5))).await.unwrap();
    recorder.record_bar(bar(dec!(187.75))).await.unwrap();
    let value = |key: &str, v: &str| AccountValue {
        account: "DU1".into(),
        taken_at: t0(),
        key: key.into(),
        currency: "USD".into(),
        value: v.into(),
    };
    recorder
        .record_account_value(value("NetLiquidation", "100250.75"))
        .await
        .unwrap();
    recorder
        .record_account_value(value("BuyingPower", "400000"))
        .await
        .unwrap();
    let done = recorder.shutdown().await.unwrap().stats;

    let stored = executions::since(&pool, "DU1", t0()).await.unwrap();
    assert_eq!(stored.len(), 2, "e2 twice is stored once");
    assert_eq!(stored[0].commission, Some(dec!(1.00)));
    assert_eq!(stored[1].commission, Some(dec!(0.35)));
    assert_eq!(stored[1].realized_pnl, Some(dec!(-3.5)));
    assert_eq!(done.written.commissions, 2);
    assert_eq!(done.unmatched_commissions, 1);
    let bars = crate::store::market_data::bars_between(
        &pool,
        aapl.id,
        60,
        t0(),
        t0() + chrono::Duration::hours(1),
    )
    .await
    .unwrap();
    assert_eq!(bars, vec![bar(dec!(187.75))], "the revision wins");
    let values = account_values::between(&pool, "DU1", t0(), t0() + chrono::Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(
        values,
        vec![
            value("BuyingPower", "400000"),
            value("NetLiquidation", "100250.75")
        ]
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn refused_rows_are_set_aside_and_the_rest_is_written(pool: PgPool) {
    let aapl = instruments::upsert(&pool, &InstrumentSpec::stock("AAPL"))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let recorder = Recorder::start(pool.clone(), config(dir.path())).unwrap();
    for i in 0..500 {
        recorder.record_tick(tick(i)).unwrap();
    }
    recorder
        .record_execution(fill("good-1", aapl.id))
        .await
        .unwrap();
    // No such instrument: the foreign key refuses it.
    recorder
        .record_execution(fill("orphan", 999_999))
        .await
        .unwrap();
    recorder
        .record_execution(fill("good-2", aapl.id))
        .await
        .unwrap();
    let mut zero = fill("zero", aapl.id);
    zero.quantity = Decimal::ZERO; // CHECK (quantity > 0)
    recorder.record_execution(zero).await.unwrap();
    let done = recorder.shutdown().await.unwrap().stats;
    assert_eq!(done.rejected, 2);
    assert_eq!(done.written.executions, 2);
    assert_eq!(tick_counts(&pool).await, (500, 500));
    assert_eq!(count(&pool, "SELECT count(*) FROM executions").await, 2);
    let rejected = read_segment(&dir.path().join("rejected.journal")).unwrap();
    assert_eq!(rejected.end, SegmentEnd::Clean);
    let ids: Vec<String> = rejected
        .records
        .iter()
        .map(|r| match r {
            Record::Execution(e) => e.exec_id.clone(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(ids, ["orphan", "zero"]);
}

#[sqlx::test(migrations = "../../migrations")]
async fn spools_while_unreachable_and_replays_at_the_next_start(pool: PgPool) {
    let aapl = instruments::upsert(&pool, &InstrumentSpec::stock("AAPL"))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let down = Recorder::start(dead_pool(), config(dir.path())).unwrap();
    for i in 0..3000 {
        down.record_tick(tick(i)).unwrap();
    }
    down.record_execution(fill("e1", aapl.id)).await.unwrap();
    down.record_commission(CommissionReport {
        exec_id: "e1".into(),
        commission: dec!(1),
        currency: "USD".into(),
        realized_pnl: None,
    })
    .await
    .unwrap();
    down.record_bar(Bar {
        instrument_id: aapl.id,
        bar_seconds: 5,
        ts: t0(),
        open: dec!(1),
        high: dec!(2),
        low: dec!(0.5),
        close: dec!(1.5),
        volume: dec!(100),
    })
    .await
    .unwrap();
    down.record_account_value(AccountValue {
        account: "DU1".into(),
        taken_at: t0(),
        key: "NetLiquidation".into(),
        currency: "USD".into(),
        value: "1000.5".into(),
    })
    .await
    .unwrap();
    let report = tokio::time::timeout(Duration::from_secs(30), down.shutdown())
        .await
        .unwrap()
        .unwrap()
        .stats;
    assert_eq!(report.written.total(), 0);
    assert_eq!(report.spooled, 3004);
    assert!(!report.db_available);
    assert!(report.db_errors >= 1);
    assert!(report.journal_segments >= 1);
    assert!(segments_in(dir.path()) >= 1);

    // The next run (same journal directory, database back) replays before anything else.
    let up = Recorder::start(pool.clone(), config(dir.path())).unwrap();
    up.record_tick(tick(3000)).unwrap();
    let report = up.shutdown().await.unwrap().stats;
    // The new tick joins the journal if it arrives before the replay ends.
    assert!((3004..=3005).contains(&report.replayed), "{report:?}");
    assert_eq!(report.written.ticks, 3001);
    assert_eq!(report.journal_segments, 0);
    assert_eq!(segments_in(dir.path()), 0);
    assert_eq!(tick_counts(&pool).await, (3001, 3001));
    let stored = executions::since(&pool, "DU1", t0()).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].commission, Some(dec!(1)));
    assert_eq!(report.written.bars, 1);
    assert_eq!(report.written.account_values, 1);
    assert_eq!(count(&pool, "SELECT count(*) FROM bars").await, 1);
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM account_values WHERE value = '1000.5'"
        )
        .await,
        1
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn full_queue_spills_ticks_to_the_journal(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    let recorder = Recorder::start(
        pool.clone(),
        RecorderConfig {
            queue_capacity: 16,
            ..config(dir.path())
        },
    )
    .unwrap();
    // `#[sqlx::test]` runs on a current-thread runtime: the writer cannot run until this loop
    // yields, so the queue fills after 16 ticks and the rest must spill.
    for i in 0..5000 {
        recorder.record_tick(tick(i)).unwrap();
    }
    // Spills are appended by the journal thread; a flush returns once they are durable.
    recorder.flush().await.unwrap();
    let spilled = recorder.stats().spilled;
    assert_eq!(spilled, 5000 - 16);
    let done = recorder.shutdown().await.unwrap().stats;
    assert_eq!(done.written.ticks, 5000);
    // Once ticks wait in the journal, the queued ones join them there to keep the order.
    assert_eq!(done.spooled, 5000);
    assert_eq!(done.replayed, 5000);
    assert_eq!(tick_counts(&pool).await, (5000, 5000));
}

#[sqlx::test(migrations = "../../migrations")]
async fn leftover_journal_with_a_torn_tail_is_replayed(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut journal = Journal::open(dir.path(), 1 << 20).unwrap();
        let batch = Batch::from_records((0..100).map(|i| Record::Tick(tick(i))));
        journal.append_durable(&batch).unwrap();
        // The process dies here: the journal is never sealed.
    }
    // … in the middle of appending one more record.
    let path = dir.path().join(format!("segment-{:020}.journal", 1));
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_within(..20);
    std::fs::write(&path, &bytes).unwrap();

    let recorder = Recorder::start(pool.clone(), config(dir.path())).unwrap();
    let done = recorder.shutdown().await.unwrap().stats;
    assert_eq!(done.replayed, 100);
    assert_eq!(tick_counts(&pool).await, (100, 100));
    assert_eq!(segments_in(dir.path()), 0);
}

#[sqlx::test(migrations = "../../migrations")]
async fn commit_markers_make_replay_exactly_once(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    let committed = Batch::from_records((0..100).map(|i| Record::Tick(tick(i))));
    let aborted = Batch::from_records((100..150).map(|i| Record::Tick(tick(i))));
    {
        let mut journal = Journal::open(dir.path(), 1 << 20).unwrap();
        // Segment 1: its transaction committed, then the process died before deleting it.
        let prepared = sink::prepare(&pool, &committed).await.unwrap();
        let marker = prepared.marker.clone();
        prepared.commit().await.unwrap();
        journal.append_committing(&committed, &marker).unwrap();
        // Segment 2: its transaction never committed.
        let prepared = sink::prepare(&pool, &aborted).await.unwrap();
        let marker = prepared.marker.clone();
        drop(prepared);
        journal.append_committing(&aborted, &marker).unwrap();
        // Segment 3: a marker from another database is not trusted.
        journal
            .append_committing(
                &Batch::from_records([Record::Tick(tick(150))]),
                &CommitMarker {
                    txid: marker.txid,
                    server: marker.server,
                    database: "elsewhere".into(),
                },
            )
            .unwrap();
        // Segment 4: nor one from another server, even with a committed txid.
        let prepared = sink::prepare(&pool, &Batch::default()).await.unwrap();
        let mut marker = prepared.marker.clone();
        prepared.commit().await.unwrap();
        marker.server = marker.server.wrapping_add(1);
        journal
            .append_committing(&Batch::from_records([Record::Tick(tick(151))]), &marker)
            .unwrap();
    }
    assert_eq!(tick_counts(&pool).await, (100, 100));
    let recorder = Recorder::start(pool.clone(), config(dir.path())).unwrap();
    let done = recorder.shutdown().await.unwrap().stats;
    assert_eq!(done.replayed, 152);
    assert_eq!(
        tick_counts(&pool).await,
        (152, 152),
        "the committed segment is not copied again"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "only journal.lock is left"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn one_recorder_per_journal_directory(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    let first = Recorder::start(pool.clone(), config(dir.path())).unwrap();
    let second = Recorder::start(pool.clone(), config(dir.path()));
    assert!(
        matches!(
            second,
            Err(RecorderError::Journal(JournalError::InUse { .. }))
        ),
        "{second:?}"
    );
    first.shutdown().await.unwrap();
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_damaged_segment_is_replayed_up_to_the_damage_and_kept(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    let path = {
        let mut journal = Journal::open(dir.path(), 1 << 20).unwrap();
        for part in 0..3 {
            let batch =
                Batch::from_records((part * 10..part * 10 + 10).map(|i| Record::Tick(tick(i))));
            journal.append_durable(&batch).unwrap();
        }
        journal.segment_path(1)
    };
    // Flip one byte inside the payload of record 15 (of 30): a checksum mismatch with records
    // after it, so corruption rather than a torn tail.
    let mut bytes = std::fs::read(&path).unwrap();
    let mut offset = 0;
    for _ in 0..15 {
        let len = u32::from_le_bytes(bytes[offset + 4..offset + 8].try_into().unwrap());
        offset += 12 + len as usize;
    }
    bytes[offset + 12 + 3] ^= 0x20;
    std::fs::write(&path, &bytes).unwrap();

    let recorder = Recorder::start(pool.clone(), config(dir.path())).unwrap();
    let done = recorder.shutdown().await.unwrap().stats;
    assert_eq!(done.corrupt_segments, 1);
    assert_eq!(done.replayed, 15, "the records before the damage");
    assert_eq!(tick_counts(&pool).await, (15, 15));
    let mut kept = path.into_os_string();
    kept.push(".corrupt");
    assert!(
        std::path::PathBuf::from(kept).exists(),
        "the damaged segment is kept"
    );
    assert_eq!(segments_in(dir.path()), 0);
}

#[test]
fn the_handle_is_send_sync_and_cheap_to_clone() {
    fn shareable<T: Send + Sync + Clone + 'static>() {}
    shareable::<Recorder>();
    fn plain<T: Send + Sync + 'static>() {}
    plain::<RecorderStats>();
    plain::<RecorderError>();
}
