//! Recorder throughput into PostgreSQL, against raw `COPY` of the same rows in the same run.
//!
//! ```sh
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p tickwork-core --bench recorder
//! ```
//!
//! Creates a scratch database on that server, and for `RECORDER_BENCH_ROWS` ticks (default
//! 1,000,000) measures, `RECORDER_BENCH_ROUNDS` times (default 3), each on an emptied table:
//! - **copy (repository)**: `store::market_data::copy_ticks` in chunks of 10,000 rows, the way
//!   a caller without the recorder would write them;
//! - **copy (pre-formatted)**: one `COPY` stream of text formatted before the clock starts,
//!   i.e. what the server alone can ingest: the ceiling for any client;
//! - **recorder (burst)**: `Recorder::record_tick` for every row from one task as fast as it
//!   goes, then `shutdown()`; the clock stops when every row is committed. The producer is far
//!   faster than the database, so most rows spill to the journal and are replayed from it:
//!   this is the recorder's overload path.
//! - **recorder (waiting)**: the same with `record_tick_waiting`, which waits for room in the
//!   queue instead of spilling: the recorder's direct path at the database's pace.
//!
//! Prints rows/s and the recorder's ratio to each baseline (best of the rounds), then drops the
//! scratch database. A plain `harness = false` main: each measurement is seconds long, so
//! criterion's sampling adds nothing but time.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use rust_decimal::Decimal;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};
use tickwork_core::domain::{Tick, TickKind};
use tickwork_core::recorder::{Recorder, RecorderConfig};
use tickwork_core::store::{MIGRATOR, market_data};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    if let Err(err) = runtime.block_on(run()) {
        eprintln!("recorder bench: {err}");
        std::process::exit(1);
    }
}

fn env_number(name: &str, default: usize) -> Result<usize, BoxError> {
    match std::env::var(name) {
        Ok(text) => Ok(text.parse().map_err(|e| format!("{name}={text:?}: {e}"))?),
        Err(_) => Ok(default),
    }
}

async fn run() -> Result<(), BoxError> {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing and expects speed.
    if !std::env::args().any(|a| a == "--bench") {
        println!("recorder bench: skipped (run it with `cargo bench --bench recorder`)");
        return Ok(());
    }
    let url = std::env::var("DATABASE_URL")
        .map_err(|_| "DATABASE_URL is not set (postgres://user@host/db of a server to use)")?;
    let rows = env_number("RECORDER_BENCH_ROWS", 1_000_000)?;
    let rounds = env_number("RECORDER_BENCH_ROUNDS", 3)?.max(1);
    let admin_options: PgConnectOptions = url.parse()?;
    let scratch = format!("tickwork_bench_recorder_{}", std::process::id());
    let mut admin = admin_options.connect().await?;
    sqlx::query(&format!("CREATE DATABASE {scratch}"))
        .execute(&mut admin)
        .await?;
    let result = bench(admin_options.clone().database(&scratch), rows, rounds).await;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {scratch} WITH (FORCE)"))
        .execute(&mut admin)
        .await?;
    admin.close().await?;
    result
}

fn ticks(rows: usize) -> Vec<Tick> {
    let t0 = Utc.with_ymd_and_hms(2026, 11, 24, 14, 30, 0).unwrap();
    (0..rows as i64)
        .map(|i| Tick {
            instrument_id: 1 + i % 50,
            ts: t0 + chrono::Duration::microseconds(i * 7),
            kind: [TickKind::Bid, TickKind::Ask, TickKind::Last][(i % 3) as usize],
            price: Some(Decimal::new(18_700 + (i * 13) % 2_000, 2)),
            size: Some(Decimal::new(1 + (i * 7) % 500, 0)),
        })
        .collect()
}

struct Best {
    name: &'static str,
    seconds: f64,
}

impl Best {
    fn new(name: &'static str) -> Self {
        Self {
            name,
            seconds: f64::INFINITY,
        }
    }

    fn add(&mut self, took: Duration, rows: usize) {
        let s = took.as_secs_f64();
        println!(
            "  {:<24} {:>8.3} s  {:>10.0} rows/s",
            self.name,
            s,
            rows as f64 / s
        );
        self.seconds = self.seconds.min(s);
    }

    fn rate(&self, rows: usize) -> f64 {
        rows as f64 / self.seconds
    }
}

async fn bench(options: PgConnectOptions, rows: usize, rounds: usize) -> Result<(), BoxError> {
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options.clone())
        .await?;
    MIGRATOR.run(&pool).await?;
    let data = ticks(rows);
    println!("recorder bench: {rows} ticks, {rounds} rounds, best of each reported");
    let mut repo = Best::new("copy (repository)");
    let mut stream = Best::new("copy (pre-formatted)");
    let mut burst = Best::new("recorder (burst)");
    let mut waiting = Best::new("recorder (waiting)");
    for round in 1..=rounds {
        println!("round {round}");
        empty(&pool).await?;
        let start = Instant::now();
        for chunk in data.chunks(10_000) {
            market_data::copy_ticks(&pool, chunk).await?;
        }
        repo.add(start.elapsed(), rows);
        check(&pool, rows).await?;

        empty(&pool).await?;
        let text = copy_text(&data);
        let mut conn = PgConnection::connect_with(&options).await?;
        let start = Instant::now();
        let mut copy = conn
            .copy_in_raw("COPY ticks (instrument_id, ts, kind, price, size) FROM STDIN")
            .await?;
        copy.send(text.as_bytes()).await?;
        copy.finish().await?;
        stream.add(start.elapsed(), rows);
        conn.close().await?;
        check(&pool, rows).await?;

        for wait in [false, true] {
            empty(&pool).await?;
            let journal = tempfile::tempdir()?;
            let input = data.clone();
            let handle = Recorder::start(pool.clone(), RecorderConfig::new(journal.path()))?;
            let start = Instant::now();
            for tick in input {
                if wait {
                    handle.record_tick_waiting(tick).await?;
                } else {
                    handle.record_tick(tick)?;
                }
            }
            let report = handle.shutdown().await?;
            if wait { &mut waiting } else { &mut burst }.add(start.elapsed(), rows);
            check(&pool, rows).await?;
            let stats = report.stats;
            if stats.written.ticks != rows as u64 || stats.journal_segments != 0 {
                return Err(format!("recorder did not write every row: {stats:?}").into());
            }
            println!(
                "    spilled {} spooled {} replayed {} db_errors {}",
                stats.spilled, stats.spooled, stats.replayed, stats.db_errors
            );
        }
    }
    pool.close().await;
    println!("best:");
    println!("  copy (repository)    {:>10.0} rows/s", repo.rate(rows));
    println!("  copy (pre-formatted) {:>10.0} rows/s", stream.rate(rows));
    for recorder in [&burst, &waiting] {
        let rate = recorder.rate(rows);
        println!(
            "  {:<20} {:>10.0} rows/s = {:.2} x repository COPY, {:.2} x pre-formatted COPY",
            recorder.name,
            rate,
            rate / repo.rate(rows),
            rate / stream.rate(rows)
        );
    }
    Ok(())
}

async fn empty(pool: &PgPool) -> Result<(), BoxError> {
    sqlx::query("TRUNCATE ticks").execute(pool).await?;
    sqlx::query("CHECKPOINT").execute(pool).await.ok();
    Ok(())
}

async fn check(pool: &PgPool, rows: usize) -> Result<(), BoxError> {
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM ticks")
        .fetch_one(pool)
        .await?;
    if n != rows as i64 {
        return Err(format!("expected {rows} ticks, found {n}").into());
    }
    Ok(())
}

fn copy_text(ticks: &[Tick]) -> String {
    let mut text = String::with_capacity(ticks.len() * 64);
    for t in ticks {
        let _ = writeln!(
            text,
            "{}\t{}\t{}\t{}\t{}",
            t.instrument_id,
            t.ts.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            t.kind.code(),
            t.price.map_or("\\N".to_owned(), |d| d.to_string()),
            t.size.map_or("\\N".to_owned(), |d| d.to_string()),
        );
    }
    text
}
