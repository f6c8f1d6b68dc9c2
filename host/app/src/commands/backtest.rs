//! `tickwork script backtest FILE --symbol S …`: a strategy over bars from a CSV file or the
//! database, its trades and statistics printed (or as JSON), and the results stored.
//!
//! Errors a trader fixes in a file are one line an editor can jump to, exit status 1:
//! `FILE:LINE:COL: message` for the script, `FILE:LINE: message` for the bars.

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Utc};
use serde_json::{Value, json};
use tickwork_core::scripting::backtest::{
    self, BacktestError, BacktestReport, FillModel, SweepResult, bars,
};
use tickwork_core::scripting::strategy::{
    ParamValue, ParamValues, ScriptBar, StrategyScript, params,
};
use tickwork_core::scripting::{ScriptError, strategy_engine};
use tickwork_core::store::backtests::{self, NewBacktest};
use tickwork_core::store::{OpenStore, open};

use crate::cli::BacktestArgs;
use crate::context::{Context, runtime};

/// Prints `message` alone on stderr and exits with status 1 (the editor-friendly form).
fn fail(message: impl std::fmt::Display) -> ! {
    eprintln!("{message}");
    std::process::exit(1);
}

fn script_error(file: &Path, err: &ScriptError) -> String {
    match err.line {
        Some(_) => format!("{}:{err}", file.display()),
        None => format!("{}: {err}", file.display()),
    }
}

pub fn run(ctx: &Context, args: BacktestArgs) -> anyhow::Result<()> {
    let source = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let name = args.file.file_name().map_or_else(
        || args.file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let engine = Arc::new(strategy_engine());
    let script = match StrategyScript::compile(&engine, &name, &source) {
        Ok(script) => Arc::new(script),
        Err(err) => fail(script_error(&args.file, &err)),
    };
    for warning in &script.warnings {
        eprintln!("{}: warning: {warning}", args.file.display());
    }
    let base = params::resolve(&script.params, &args.params).map_err(anyhow::Error::msg)?;
    let axes = args
        .sweep
        .iter()
        .map(|text| backtest::parse_axis(&script.params, text))
        .collect::<Result<Vec<_>, _>>()
        .map_err(anyhow::Error::msg)?;
    if let (Some(from), Some(to)) = (args.from, args.to)
        && to < from
    {
        bail!("--to {to} is before --from {from}");
    }
    let runtime = runtime()?;
    // Bars first: a CSV mistake is reported before anything is started.
    let (bars, source_name, mut store) = match &args.bars {
        Some(path) => {
            let bars = match bars::load_csv(path, &args.symbol) {
                Ok(bars) => bars,
                Err(err @ bars::BarsError::Csv { .. }) => fail(err),
                Err(err) => return Err(err.into()),
            };
            let bars = within(bars, args.from, args.to);
            let file = path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            (bars, format!("csv:{file}"), None)
        }
        None => {
            let (Some(from), Some(to)) = (args.from, args.to) else {
                bail!(
                    "--from and --to are needed to read bars from the database (or give --bars FILE.csv)"
                );
            };
            let target = ctx.database_target()?;
            let opened = runtime.block_on(open(target, true))?;
            let loaded = runtime.block_on(bars::load_pg(
                opened.store.pool(),
                &args.symbol,
                args.bar_seconds,
                midnight(from),
                midnight(to) + Duration::days(1),
            ));
            let bars = match loaded {
                Ok(bars) => bars,
                Err(err) => {
                    close(&runtime, opened);
                    return Err(err.into());
                }
            };
            (bars, "postgres".to_owned(), Some(opened))
        }
    };
    if bars.is_empty() {
        if let Some(opened) = store.take() {
            close(&runtime, opened);
        }
        bail!(
            "no {} bars of {} {}",
            if args.bars.is_some() {
                "CSV".to_owned()
            } else {
                format!("{}-second", args.bar_seconds)
            },
            args.symbol.to_uppercase(),
            match (args.from, args.to) {
                (Some(from), Some(to)) => format!("from {from} to {to}"),
                (Some(from), None) => format!("from {from}"),
                (None, Some(to)) => format!("up to {to}"),
                (None, None) => "in the file".to_owned(),
            }
        );
    }
    let model = FillModel::default();
    let param_sets = backtest::grid(&base, &axes);
    let sweeping = !args.sweep.is_empty();
    let results: Vec<SweepResult> = if sweeping {
        let workers = args.workers.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
        });
        backtest::sweep(
            engine,
            script.clone(),
            param_sets,
            &bars,
            &model,
            args.cash,
            workers,
        )
    } else {
        let result = backtest::backtest(
            engine,
            script.clone(),
            base.clone(),
            &bars,
            &model,
            args.cash,
        );
        vec![(base, result)]
    };

    // Store what finished; with a CSV, a database that cannot be opened is only a warning.
    if !args.no_save && store.is_none() {
        match ctx.database_target() {
            Ok(target) => match runtime.block_on(open(target, true)) {
                Ok(opened) => store = Some(opened),
                Err(err) => eprintln!("tickwork: warning: results not stored: {err:#}"),
            },
            Err(err) => eprintln!("tickwork: warning: results not stored: {err:#}"),
        }
    }
    let mut ids: Vec<Option<i64>> = vec![None; results.len()];
    let mut stored_in = None;
    if let Some(opened) = store {
        if !args.no_save {
            let saved = runtime.block_on(async {
                for (slot, (values, result)) in ids.iter_mut().zip(&results) {
                    if let Ok(report) = result {
                        let run = NewBacktest {
                            script: &script.name,
                            content_sha256: &script.content_sha256,
                            source: &source_name,
                            params: values,
                            fill_model: &model,
                            report,
                        };
                        *slot = Some(backtests::save(opened.store.pool(), &run).await?);
                    }
                }
                Ok::<_, tickwork_core::store::StoreError>(())
            });
            if let Err(err) = saved {
                eprintln!("tickwork: warning: results not stored: {err}");
            }
        }
        stored_in = Some(opened.describe().to_owned());
        close(&runtime, opened);
    }

    let printed = if sweeping {
        print_sweep(&args, &results, &ids)
    } else {
        let (values, result) = &results[0];
        match result {
            Ok(report) => print_report(&args, &script, &source_name, values, report, ids[0]),
            Err(err) => report_failure(&args.file, err),
        }
    };
    let stored: Vec<String> = ids.iter().flatten().map(i64::to_string).collect();
    if !args.json
        && let Some(describe) = stored_in
        && !stored.is_empty()
    {
        println!(
            "stored as backtest{} {} in {describe}",
            if stored.len() == 1 { "" } else { "s" },
            stored.join(", ")
        );
    }
    printed
}

fn close(runtime: &tokio::runtime::Runtime, opened: OpenStore) {
    if let Err(err) = runtime.block_on(opened.close()) {
        eprintln!("tickwork: warning: {err}");
    }
}

fn midnight(date: NaiveDate) -> DateTime<Utc> {
    date.and_time(chrono::NaiveTime::MIN).and_utc()
}

/// The bars starting on `from` or later and before the day after `to`.
fn within(bars: Vec<ScriptBar>, from: Option<NaiveDate>, to: Option<NaiveDate>) -> Vec<ScriptBar> {
    let start = from.map(midnight);
    let end = to.map(|d| midnight(d) + Duration::days(1));
    bars.into_iter()
        .filter(|b| start.is_none_or(|s| b.time >= s) && end.is_none_or(|e| b.time < e))
        .collect()
}

fn iso(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A fault: what the script printed, then `FILE:LINE:COL: message (in HOOK …)`, status 1.
fn report_failure(file: &Path, err: &BacktestError) -> anyhow::Result<()> {
    match err {
        BacktestError::Fault {
            fault,
            time,
            console,
        } => {
            for line in console {
                println!("> {line}");
            }
            // Without a position the message already names the hook.
            let mut context = Vec::new();
            if fault.error.line.is_some() {
                context.push(format!("in {}", fault.hook));
            }
            if let Some(time) = time {
                context.push(format!("bar of {}", iso(*time)));
            }
            context.push("the backtest stopped".to_owned());
            fail(format!(
                "{} ({})",
                script_error(file, &fault.error),
                context.join(", ")
            ))
        }
        other => bail!("{}: {other}", file.display()),
    }
}

fn print_report(
    args: &BacktestArgs,
    script: &StrategyScript,
    source: &str,
    values: &ParamValues,
    report: &BacktestReport,
    id: Option<i64>,
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if args.json {
        let mut value = report.to_json();
        value["script"] = json!(script.name);
        value["source"] = json!(source);
        value["params"] = params::to_json(values);
        value["console"] = json!(report.console);
        value["backtest_id"] = json!(id);
        // Text first: a closed pipe is then an io::Error, which `main` ignores.
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
        return Ok(());
    }
    for line in &report.console {
        writeln!(out, "> {line}")?;
    }
    writeln!(
        out,
        "{} on {}: {} bars of {} s from {} to {} ({source})",
        script.name,
        report.symbol,
        report.stats.bar_count,
        report.bar_seconds,
        iso(report.from),
        iso(report.to)
    )?;
    writeln!(out, "trades")?;
    for t in &report.trades {
        writeln!(
            out,
            "  {:>4}  {}  {:<4} {:>8} {} @ {}  commission {}{}",
            t.seq,
            iso(t.time),
            t.side.as_str(),
            t.quantity.to_string(),
            t.symbol,
            t.price,
            t.commission,
            if t.tag.is_empty() {
                String::new()
            } else {
                format!("  ({})", t.tag)
            }
        )?;
    }
    if report.trades.is_empty() {
        writeln!(out, "  none")?;
    }
    writeln!(out, "statistics")?;
    for (name, value) in stat_lines(&report.stats) {
        writeln!(out, "  {name:<18} {value}")?;
    }
    Ok(())
}

fn value_text(value: &ParamValue) -> String {
    match value {
        ParamValue::Int(i) => i.to_string(),
        ParamValue::Decimal(d) => d.to_string(),
        ParamValue::Bool(b) => b.to_string(),
        ParamValue::Text(t) => t.clone(),
    }
}

fn stat_lines(stats: &backtest::Stats) -> Vec<(&'static str, String)> {
    vec![
        ("initial cash", stats.initial_cash.to_string()),
        ("final equity", stats.final_equity.to_string()),
        ("net P&L", stats.net_pnl.to_string()),
        ("gross P&L", stats.gross_pnl.to_string()),
        ("commission", stats.total_commission.to_string()),
        ("return %", stats.return_pct.to_string()),
        ("trades", stats.trade_count.to_string()),
        ("max drawdown", stats.max_drawdown.to_string()),
        ("max drawdown %", stats.max_drawdown_pct.to_string()),
        (
            "Sharpe",
            stats
                .sharpe
                .map_or_else(|| "n/a".to_owned(), |s| s.to_string()),
        ),
        ("exposure", stats.exposure.to_string()),
        ("bars", stats.bar_count.to_string()),
    ]
}

/// One line (or JSON object) per parameter set; a faulted run says why. Exit status 1 if
/// every run failed.
fn print_sweep(
    args: &BacktestArgs,
    results: &[SweepResult],
    ids: &[Option<i64>],
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if args.json {
        let runs: Vec<Value> = results
            .iter()
            .zip(ids)
            .map(|((values, result), id)| match result {
                Ok(report) => json!({
                    "params": params::to_json(values),
                    "stats": report.stats,
                    "trades": backtest::stats::trades_json(&report.trades),
                    "backtest_id": id,
                }),
                Err(err) => json!({ "params": params::to_json(values), "error": err.to_string() }),
            })
            .collect();
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&json!({ "runs": runs }))?
        )?;
    } else {
        for ((values, result), id) in results.iter().zip(ids) {
            let label = values
                .iter()
                .map(|(k, v)| format!("{k}={}", value_text(v)))
                .collect::<Vec<_>>()
                .join(" ");
            match result {
                Ok(report) => {
                    let s = &report.stats;
                    writeln!(
                        out,
                        "{label}: trades {} net P&L {} return % {} max drawdown {} Sharpe {}{}",
                        s.trade_count,
                        s.net_pnl,
                        s.return_pct,
                        s.max_drawdown,
                        s.sharpe.map_or_else(|| "n/a".to_owned(), |v| v.to_string()),
                        id.map(|id| format!(" (backtest {id})")).unwrap_or_default()
                    )?;
                }
                Err(err) => writeln!(out, "{label}: failed: {err}")?,
            }
        }
    }
    if results.iter().all(|(_, r)| r.is_err()) {
        bail!("{}: every run of the sweep failed", args.file.display());
    }
    Ok(())
}
