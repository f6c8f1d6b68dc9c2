//! Parameter sweeps: the same script over the same bars once per parameter set, on a pool of
//! worker threads. Each run has its own instance (its own `state`), so runs cannot see each
//! other, and a run that faults does not stop the others.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use rhai::Engine;
use rust_decimal::Decimal;

use super::fill::FillModel;
use super::run::{BacktestError, backtest, panic_message};
use super::stats::BacktestReport;
use crate::scripting::strategy::{ParamValues, ScriptBar, StrategyScript};

/// One run of a sweep: its parameters and what it gave.
pub type SweepResult = (ParamValues, Result<BacktestReport, BacktestError>);

/// Runs [`backtest`] once per parameter set on `workers` threads (at least one, at most one
/// per set) and returns the results in the order of `param_sets`. Workers take the next set
/// as they finish one, so a slow run does not hold up a whole share of the sets.
pub fn sweep(
    engine: Arc<Engine>,
    script: Arc<StrategyScript>,
    param_sets: Vec<ParamValues>,
    bars: &[ScriptBar],
    model: &FillModel,
    initial_cash: Decimal,
    workers: usize,
) -> Vec<SweepResult> {
    let count = param_sets.len();
    let slots: Vec<Mutex<Option<Result<BacktestReport, BacktestError>>>> =
        (0..count).map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let workers = workers.clamp(1, count.max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(params) = param_sets.get(index) else {
                        break;
                    };
                    let run = catch_unwind(AssertUnwindSafe(|| {
                        backtest(
                            engine.clone(),
                            script.clone(),
                            params.clone(),
                            bars,
                            model,
                            initial_cash,
                        )
                    }))
                    .unwrap_or_else(|panic| Err(BacktestError::Internal(panic_message(&panic))));
                    *slots[index].lock().unwrap_or_else(|p| p.into_inner()) = Some(run);
                }
            });
        }
    });
    param_sets
        .into_iter()
        .zip(slots)
        .map(|(params, slot)| {
            let result = slot
                .into_inner()
                .unwrap_or_else(|p| p.into_inner())
                .unwrap_or_else(|| Err(BacktestError::Internal("the run did not finish".into())));
            (params, result)
        })
        .collect()
}

/// Every combination of the values given per parameter (`fast` × `slow` × …), each applied
/// over `base`; names in order, the last varying fastest. No axes gives `base` alone.
pub fn grid(
    base: &ParamValues,
    axes: &[(String, Vec<crate::scripting::strategy::ParamValue>)],
) -> Vec<ParamValues> {
    let mut sets = vec![base.clone()];
    for (name, values) in axes {
        sets = sets
            .into_iter()
            .flat_map(|set| {
                values.iter().map(move |value| {
                    let mut set = set.clone();
                    set.insert(name.clone(), value.clone());
                    set
                })
            })
            .collect();
    }
    sets
}
