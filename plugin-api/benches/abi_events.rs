//! Events per second delivered to a strategy through the plugin ABI, beside the same strategy
//! called as a Rust trait object, in the same run.
//!
//! The ABI side is what the host does for a native plugin: encode the event as its
//! size-prefixed record and call the table's `on_event`, whose SDK thunk checks the arguments,
//! decodes the record and runs the strategy under `catch_unwind`. The baseline calls the
//! strategy's `on_event` through `&mut dyn`, with the event already decoded. Two strategies:
//! `count` (adds the close: the bare per-call overhead) and `zscore` (z-score of the close
//! over 20 bars in exact decimals, as the mean-reversion example does: a realistic load).
//!
//! `cargo bench -p tickwork-plugin-api --bench abi_events`

use std::collections::VecDeque;
use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rust_decimal::{Decimal, MathematicalOps};
use tickwork_plugin_api::abi::TW_OK;
use tickwork_plugin_api::sdk::testing::FakeHost;
use tickwork_plugin_api::sdk::{Bar, Event, Strategy, StrategyCtx};

/// Events per measured batch.
const BATCH: usize = 10_000;

struct Count {
    sum: Decimal,
}

impl Strategy for Count {
    const TYPE_ID: &'static str = "org.tickwork.bench.count";
    fn create(_: &mut StrategyCtx, _: &str) -> Result<Self, String> {
        Ok(Self { sum: Decimal::ZERO })
    }
    fn on_event(&mut self, _: &mut StrategyCtx, event: &Event<'_>) -> Result<(), String> {
        if let Event::Bar(b) = event {
            self.sum += b.close;
        }
        Ok(())
    }
}

struct ZScore {
    closes: VecDeque<Decimal>,
    last_z: Option<Decimal>,
}

impl Strategy for ZScore {
    const TYPE_ID: &'static str = "org.tickwork.bench.zscore";
    fn create(_: &mut StrategyCtx, _: &str) -> Result<Self, String> {
        Ok(Self {
            closes: VecDeque::with_capacity(21),
            last_z: None,
        })
    }
    fn on_event(&mut self, _: &mut StrategyCtx, event: &Event<'_>) -> Result<(), String> {
        let Event::Bar(b) = event else {
            return Ok(());
        };
        if self.closes.len() == 20 {
            let n = Decimal::from(20);
            let mean = self.closes.iter().sum::<Decimal>() / n;
            let var = self
                .closes
                .iter()
                .map(|c| (c - mean) * (c - mean))
                .sum::<Decimal>()
                / n;
            self.last_z = var
                .sqrt()
                .filter(|sd| !sd.is_zero())
                .map(|sd| (b.close - mean) / sd);
            self.closes.pop_front();
        }
        self.closes.push_back(b.close);
        Ok(())
    }
}

tickwork_plugin_api::declare_plugin! {
    id: "org.tickwork.bench",
    version: "0.0.0",
    strategies: [Count, ZScore],
    margin_rules: [],
    panels: [],
}

/// The same strategy as a Rust trait object (`Strategy` itself has a constructor, so it is
/// not object-safe).
trait Handler {
    fn handle(&mut self, ctx: &mut StrategyCtx, event: &Event<'_>) -> Result<(), String>;
}

impl<S: Strategy> Handler for S {
    fn handle(&mut self, ctx: &mut StrategyCtx, event: &Event<'_>) -> Result<(), String> {
        self.on_event(ctx, event)
    }
}

/// Deterministic one-minute bars around 600.
fn bars() -> Vec<Event<'static>> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..BATCH)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let close = Decimal::new(60_000 + (x % 400) as i64 - 200, 2);
            Event::Bar(Bar {
                instrument_id: 1,
                ts_unix_ns: i as i64 * 60_000_000_000,
                period_secs: 60,
                open: close,
                high: close,
                low: close,
                close,
                volume: Decimal::ZERO,
            })
        })
        .collect()
}

fn group<S: Strategy>(c: &mut Criterion, name: &str) {
    let host = FakeHost::new();
    let plugin = host.load(tickwork_plugin_descriptor()).expect("loads");
    let mut native = plugin.strategy(S::TYPE_ID, "{}").expect("creates");
    let mut ctx = host.strategy_ctx();
    let mut boxed: Box<dyn Handler> = Box::new(S::create(&mut ctx, "{}").expect("creates"));
    let events = bars();

    let mut through_abi = || {
        for e in &events {
            assert_eq!(native.send(black_box(e)), TW_OK);
        }
    };
    let mut trait_object = || {
        for e in &events {
            boxed.handle(&mut ctx, black_box(e)).expect("handled");
        }
    };

    // Interleaved ratio: one batch of each per round, median over rounds, so load from other
    // processes hits both sides alike.
    let mut ratios = Vec::new();
    for _ in 0..40 {
        let t = Instant::now();
        through_abi();
        let abi = t.elapsed().as_secs_f64();
        let t = Instant::now();
        trait_object();
        let dynamic = t.elapsed().as_secs_f64();
        if dynamic > 0.0 {
            ratios.push(abi / dynamic);
        }
    }
    ratios.sort_by(f64::total_cmp);
    if let Some(m) = ratios.get(ratios.len() / 2) {
        eprintln!(
            "{name}: ABI / trait object = {m:.3} (interleaved, median of {} rounds of {BATCH} events)",
            ratios.len()
        );
    }

    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(BATCH as u64));
    g.sample_size(30);
    g.bench_function("abi", |b| b.iter(&mut through_abi));
    g.bench_function("trait_object", |b| b.iter(&mut trait_object));
    g.finish();
}

fn count(c: &mut Criterion) {
    group::<Count>(c, "count");
}

fn zscore(c: &mut Criterion) {
    group::<ZScore>(c, "zscore");
}

criterion_group!(benches, count, zscore);
criterion_main!(benches);
