//! Backtest throughput (issue 10): bars per second through `scripts/sma_cross.rhai`, beside
//! the same strategy written in Rust (`backtest::reference::SmaCross`) under the same loop and
//! fill model, which must trade identically (checked before measuring).
//!
//! ```sh
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p tickwork-core --bench backtest
//! ```
//!
//! Groups (criterion, throughput in bars):
//! - `memory`: `script` and `rust_baseline` over `BACKTEST_BENCH_BARS` (default 100,000)
//!   synthetic one-minute bars already in memory;
//! - `postgres`: the same bars stored in a scratch database (created and dropped on the
//!   `DATABASE_URL` server), `load` alone and `load_and_script` (read with
//!   `backtest::load_pg`, then run). Skipped with a note when `DATABASE_URL` is unset.
//!
//! Before the groups it prints bars/s of each side and the script / Rust time ratio measured
//! interleaved (one run of each per round, median), so that other load hits both alike.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rhai::Engine;
use rust_decimal::Decimal;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};
use tickwork_core::domain::{Bar, InstrumentSpec};
use tickwork_core::scripting::backtest::reference::SmaCross;
use tickwork_core::scripting::backtest::{self, BacktestReport, FillModel, bars};
use tickwork_core::scripting::strategy::{ParamValues, ScriptBar, StrategyScript, params};
use tickwork_core::scripting::strategy_engine;
use tickwork_core::store::{MIGRATOR, instruments, market_data};

const CASH: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);

fn bar_count() -> usize {
    std::env::var("BACKTEST_BENCH_BARS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

fn fixture(count: usize) -> Vec<ScriptBar> {
    bars::synthetic(
        "SPY",
        Utc.with_ymd_and_hms(2025, 1, 2, 14, 30, 0).unwrap(),
        count,
        60,
        Decimal::new(480, 0),
        42,
    )
}

struct Script {
    engine: Arc<Engine>,
    script: Arc<StrategyScript>,
    params: ParamValues,
}

impl Script {
    fn load() -> Self {
        let engine = Arc::new(strategy_engine());
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/sma_cross.rhai");
        let source = std::fs::read_to_string(path).expect("scripts/sma_cross.rhai");
        let script = Arc::new(StrategyScript::compile(&engine, "sma_cross.rhai", &source).unwrap());
        let params = params::resolve(&script.params, &[]).unwrap();
        Self {
            engine,
            script,
            params,
        }
    }

    fn run(&self, bars: &[ScriptBar]) -> BacktestReport {
        backtest::backtest(
            self.engine.clone(),
            self.script.clone(),
            self.params.clone(),
            bars,
            &FillModel::default(),
            CASH,
        )
        .expect("sma_cross runs")
    }
}

fn rust(bars: &[ScriptBar]) -> BacktestReport {
    backtest::run_strategy(
        SmaCross::new(10, 30, Decimal::ONE_HUNDRED, false),
        None,
        bars,
        &FillModel::default(),
        CASH,
    )
    .expect("the Rust twin runs")
}

/// Median script / Rust time ratio with one run of each per round, and each side's best rate.
fn interleaved(
    name: &str,
    rounds: usize,
    n: usize,
    mut script: impl FnMut(),
    mut rust: impl FnMut(),
) {
    let mut ratios = Vec::with_capacity(rounds);
    let (mut best_script, mut best_rust) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..rounds {
        let t = Instant::now();
        script();
        let s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        rust();
        let r = t.elapsed().as_secs_f64();
        best_script = best_script.min(s);
        best_rust = best_rust.min(r);
        ratios.push(s / r);
    }
    ratios.sort_by(f64::total_cmp);
    eprintln!(
        "{name}: script {:.0} bars/s, Rust {:.0} bars/s (best of {rounds}); script / Rust time = {:.2} (interleaved median)",
        n as f64 / best_script,
        n as f64 / best_rust,
        ratios[ratios.len() / 2]
    );
}

/// `cargo bench` passes `--bench`; `cargo test --benches` passes nothing and expects speed.
fn benchmarking() -> bool {
    let bench = std::env::args().any(|a| a == "--bench");
    if !bench {
        println!("backtest bench: skipped (run it with `cargo bench --bench backtest`)");
    }
    bench
}

fn memory(c: &mut Criterion) {
    if !benchmarking() {
        return;
    }
    let n = bar_count();
    let bars = fixture(n);
    let script = Script::load();
    let by_script = script.run(&bars);
    let by_rust = rust(&bars);
    assert_eq!(
        by_script.trades, by_rust.trades,
        "the script and its Rust twin must trade alike"
    );
    assert_eq!(by_script.equity, by_rust.equity);
    eprintln!(
        "memory: {n} one-minute bars, {} trades, net P&L {}",
        by_script.stats.trade_count, by_script.stats.net_pnl
    );
    interleaved(
        "memory",
        5,
        n,
        || {
            black_box(script.run(&bars));
        },
        || {
            black_box(rust(&bars));
        },
    );
    let mut group = c.benchmark_group("memory");
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function("script", |b| b.iter(|| script.run(black_box(&bars))));
    group.bench_function("rust_baseline", |b| b.iter(|| rust(black_box(&bars))));
    group.finish();
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A scratch database with the bars stored, dropped at the end.
struct Scratch {
    admin: PgConnectOptions,
    name: String,
    pool: PgPool,
}

async fn scratch(url: &str, bars: &[ScriptBar]) -> Result<Scratch, BoxError> {
    let admin: PgConnectOptions = url.parse()?;
    let name = format!("tickwork_bench_backtest_{}", std::process::id());
    let mut conn = admin.connect().await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(admin.clone().database(&name))
        .await?;
    MIGRATOR.run(&pool).await?;
    let spy = instruments::upsert(&pool, &InstrumentSpec::stock("SPY")).await?;
    let rows: Vec<Bar> = bars
        .iter()
        .map(|b| Bar {
            instrument_id: spy.id,
            bar_seconds: 60,
            ts: b.time,
            open: b.open,
            high: b.high,
            low: b.low,
            close: b.close,
            volume: b.volume,
        })
        .collect();
    for chunk in rows.chunks(20_000) {
        market_data::upsert_bars(&pool, chunk).await?;
    }
    Ok(Scratch { admin, name, pool })
}

impl Scratch {
    async fn drop_database(self) -> Result<(), BoxError> {
        self.pool.close().await;
        let mut conn = self.admin.connect().await?;
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&mut conn)
        .await?;
        conn.close().await?;
        Ok(())
    }
}

fn postgres(c: &mut Criterion) {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let Ok(url) = std::env::var("DATABASE_URL") else {
        eprintln!(
            "postgres: skipped (set DATABASE_URL to a server where a scratch database may be created)"
        );
        return;
    };
    let n = bar_count();
    let bars = fixture(n);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let scratch = match runtime.block_on(scratch(&url, &bars)) {
        Ok(s) => s,
        Err(err) => {
            eprintln!("postgres: skipped ({err})");
            return;
        }
    };
    let (from, to) = (
        bars[0].time,
        bars[n - 1].time + chrono::Duration::minutes(1),
    );
    let load = || {
        runtime
            .block_on(backtest::load_pg(&scratch.pool, "SPY", 60, from, to))
            .expect("bars load")
    };
    assert_eq!(load(), bars, "the stored bars read back exactly");
    let script = Script::load();
    interleaved(
        "postgres (load + run)",
        3,
        n,
        || {
            black_box(script.run(&load()));
        },
        || {
            black_box(rust(&load()));
        },
    );
    let mut group = c.benchmark_group("postgres");
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function("load", |b| b.iter(load));
    group.bench_function("load_and_script", |b| b.iter(|| script.run(&load())));
    group.finish();
    if let Err(err) = runtime.block_on(scratch.drop_database()) {
        eprintln!("postgres: could not drop the scratch database: {err}");
    }
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .measurement_time(Duration::from_secs(8))
        .warm_up_time(Duration::from_secs(1))
}

criterion_group! { name = benches; config = config(); targets = memory, postgres }
criterion_main!(benches);
