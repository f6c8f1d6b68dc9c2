//! A backtest for the Scripts panel: compile, load the bars (PostgreSQL or a CSV file), run the
//! script over them with the default fill model on a blocking thread, store the result, and
//! answer with what the panel draws.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use sqlx::PgPool;
use tickwork_core::scripting::ScriptError;
use tickwork_core::scripting::backtest::{
    BacktestError, BacktestReport, FillModel, backtest, load_csv, load_pg,
};
use tickwork_core::scripting::strategy::{ScriptBar, StrategyScript};
use tickwork_core::store::backtests::{self, NewBacktest};

use super::scripts::engine;
use crate::gui::boundary::{
    BacktestFailure, BacktestOutcome, BacktestRequest, BarSource, ScriptsEvent,
};

fn failure(error: ScriptError) -> BacktestFailure {
    BacktestFailure {
        error,
        console: Vec::new(),
    }
}

fn start_of(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(NaiveTime::MIN).and_utc()
}

/// Runs `request`; `pool` loads database bars and stores the result (without one, database
/// bars are refused and nothing is stored). Never fails: a failure is the answer.
pub async fn run(pool: Option<PgPool>, request: BacktestRequest) -> ScriptsEvent {
    let id = request.request;
    let result = match run_inner(pool, request).await {
        Ok(outcome) => Ok(Box::new(outcome)),
        Err(failure) => Err(failure),
    };
    ScriptsEvent::BacktestDone {
        request: id,
        result,
    }
}

async fn run_inner(
    pool: Option<PgPool>,
    request: BacktestRequest,
) -> Result<BacktestOutcome, BacktestFailure> {
    let engine = engine();
    let script = StrategyScript::compile(&engine, &request.name, &request.source)
        .map(Arc::new)
        .map_err(failure)?;
    let symbol = request.symbol.trim().to_owned();
    if symbol.is_empty() {
        return Err(failure(ScriptError::message("choose a symbol to test on")));
    }
    // The last day is included: bars up to the start of the next one.
    let from = request.from.map(start_of);
    let to = request.to.and_then(|d| d.succ_opt()).map(start_of);
    let (bars, source) = match &request.bars {
        BarSource::Csv(path) => {
            let (file, csv_symbol) = (path.clone(), symbol.clone());
            let loaded = tokio::task::spawn_blocking(move || load_csv(&file, &csv_symbol))
                .await
                .map_err(|e| failure(ScriptError::message(format!("reading bars: {e}"))))?
                .map_err(|e| failure(ScriptError::message(e.to_string())))?;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| path.display().to_string());
            let within =
                |b: &ScriptBar| from.is_none_or(|f| b.time >= f) && to.is_none_or(|t| b.time < t);
            let bars: Vec<ScriptBar> = loaded.into_iter().filter(within).collect();
            (bars, format!("csv:{name}"))
        }
        BarSource::Database { bar_seconds } => {
            let Some(pool) = pool.as_ref() else {
                return Err(failure(ScriptError::message(
                    "bars from the database need the database",
                )));
            };
            let from = from.unwrap_or(DateTime::UNIX_EPOCH);
            let to = to.unwrap_or_else(|| Utc::now() + chrono::Duration::days(1));
            let bars = load_pg(pool, &symbol, *bar_seconds, from, to)
                .await
                .map_err(|e| failure(ScriptError::message(e.to_string())))?;
            (bars, "postgres".to_owned())
        }
    };
    if bars.is_empty() {
        return Err(failure(ScriptError::message(format!(
            "no bars of {symbol} in the chosen period"
        ))));
    }
    let model = FillModel::default();
    let (params, cash) = (request.params.clone(), request.initial_cash);
    let (run_script, run_model) = (script.clone(), model.clone());
    let report = tokio::task::spawn_blocking(move || {
        backtest(engine, run_script, params, &bars, &run_model, cash)
    })
    .await
    .map_err(|e| failure(ScriptError::message(format!("the backtest stopped: {e}"))))?
    .map_err(from_error)?;
    let saved = match pool.as_ref() {
        Some(pool) => backtests::save(
            pool,
            &NewBacktest {
                script: &request.name,
                content_sha256: &script.content_sha256,
                source: &source,
                params: &request.params,
                fill_model: &model,
                report: &report,
            },
        )
        .await
        .map_err(|e| e.to_string()),
        None => Err("no database".into()),
    };
    Ok(outcome(report, saved))
}

fn from_error(err: BacktestError) -> BacktestFailure {
    match err {
        BacktestError::Fault {
            fault,
            time,
            console,
        } => {
            let mut error = fault.error;
            let at = time
                .map(|t| format!(" at the bar of {}", t.format("%Y-%m-%d %H:%M")))
                .unwrap_or_default();
            error.message = format!("{} (in {}{at})", error.message, fault.hook);
            BacktestFailure { error, console }
        }
        other => failure(ScriptError::message(other.to_string())),
    }
}

fn outcome(report: BacktestReport, saved: Result<i64, String>) -> BacktestOutcome {
    BacktestOutcome {
        trades: report.trades,
        symbol: report.symbol,
        bar_seconds: report.bar_seconds,
        from: report.from,
        to: report.to,
        equity: report.equity,
        stats: report.stats,
        console: report.console,
        saved,
    }
}
