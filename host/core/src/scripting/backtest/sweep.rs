//! Parameter sweeps: the same script over the same bars once per parameter set, on a pool of
//! worker threads. Each run has its own instance (its own `state`), so runs cannot see each
//! other, and a run that faults does not stop the others.

// A fault ends a backtest: it is returned once, never on a hot path, and carries the
// console the trader needs, so it is not boxed.
#![allow(clippy::result_large_err)]

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

/// One sweep axis from `NAME=V1,V2,…` (what `--sweep` takes): a declared parameter and its
/// values, each of the declared default's type; an unknown name or a bad value is an error
/// naming it.
pub fn parse_axis(
    specs: &[crate::scripting::strategy::ParamSpec],
    text: &str,
) -> Result<(String, Vec<crate::scripting::strategy::ParamValue>), String> {
    let (name, values) = text
        .split_once('=')
        .ok_or_else(|| format!("--sweep {text}: expected NAME=V1,V2,…"))?;
    let name = name.trim();
    let spec = specs.iter().find(|s| s.name == name).ok_or_else(|| {
        let known: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
        format!(
            "--sweep {text}: the script declares no parameter `{name}` (it declares: {})",
            if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            }
        )
    })?;
    let values = values
        .split(',')
        .map(|v| {
            spec.default
                .parse_like(v)
                .map_err(|e| format!("--sweep {text}: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((name.to_owned(), values))
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
