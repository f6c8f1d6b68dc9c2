//! Strategies in `tickwork headless`: compiled and checked before the session starts (a script
//! that does not compile, a parameter no strategy declares, or a live run without the grant
//! stops the command with the reason), run by the same strategy host as in the workbench, and
//! stopped before the session when headless stops. Their console goes to stderr.

use std::sync::Arc;

use anyhow::{Context as _, bail};
use tickwork_core::scripting::host::{
    Feed, HostDeps, HostEvent, RunMode, RunRequest, StrategyHost,
};
use tickwork_core::scripting::strategy::{ParamValues, StrategyScript, params};
use tickwork_core::scripting::strategy_engine;

use crate::cli::HeadlessArgs;

/// The strategies to run, checked.
pub struct Planned {
    runs: Vec<(Arc<StrategyScript>, ParamValues)>,
    account: String,
    mode: RunMode,
    bar_seconds: i32,
    symbols: Vec<String>,
}

impl Planned {
    /// The account the strategies trade.
    pub fn account(&self) -> &str {
        &self.account
    }
}

/// The account and mode strategies (scripts and plugins) trade.
pub fn account_and_mode(
    args: &HeadlessArgs,
    profile_account: Option<&str>,
) -> anyhow::Result<(String, RunMode)> {
    let mode: RunMode = args
        .mode
        .parse()
        .map_err(|_| anyhow::anyhow!("--mode {}: expected paper or live", args.mode))?;
    let account = args
        .account
        .clone()
        .or_else(|| profile_account.map(str::to_owned))
        .context("a strategy needs --account (or a profile with an account)")?;
    Ok((account, mode))
}

/// Compiles every `--strategy` and resolves its parameters; errors name the file.
pub fn plan(args: &HeadlessArgs, profile_account: Option<&str>) -> anyhow::Result<Option<Planned>> {
    if args.strategies.is_empty() {
        return Ok(None);
    }
    let (account, mode) = account_and_mode(args, profile_account)?;
    if args.watch.is_empty() {
        bail!("--strategy needs --watch SYMBOLS: the instruments it receives bars of and trades");
    }
    let engine = strategy_engine();
    let mut runs = Vec::new();
    let mut used = vec![false; args.params.len()];
    for path in &args.strategies {
        let file = path.display().to_string();
        let source =
            std::fs::read_to_string(path).with_context(|| format!("{file}: cannot read"))?;
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .with_context(|| format!("{file}: the file name is not a script name"))?;
        let script = StrategyScript::compile(&engine, name, &source)
            .map_err(|e| anyhow::anyhow!("{file}:{e}"))?;
        for warning in &script.warnings {
            eprintln!("tickwork: {file}: warning: {warning}");
        }
        let mut mine = Vec::new();
        for (i, text) in args.params.iter().enumerate() {
            let key = text
                .split_once('=')
                .map_or(text.as_str(), |(k, _)| k)
                .trim();
            if script.params.iter().any(|p| p.name == key) {
                mine.push(text.clone());
                used[i] = true;
            }
        }
        let values =
            params::resolve(&script.params, &mine).map_err(|e| anyhow::anyhow!("{file}: {e}"))?;
        runs.push((Arc::new(script), values));
    }
    if let Some(i) = used.iter().position(|u| !u) {
        bail!(
            "--param {}: no strategy declares this parameter",
            args.params[i]
        );
    }
    Ok(Some(Planned {
        runs,
        account,
        mode,
        bar_seconds: args.bar_seconds,
        symbols: args.watch.clone(),
    }))
}

/// Prints what a strategy manager reports to stderr, one line each, until it is gone.
pub fn print_events<E: Clone + Send + 'static>(
    mut events: tokio::sync::broadcast::Receiver<E>,
    line: impl Fn(E) -> String + Send + 'static,
) {
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(event) => eprintln!("tickwork: {}", line(event)),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    eprintln!("tickwork: {n} strategy console lines skipped")
                }
                Err(_) => return,
            }
        }
    });
}

/// `instance: status: detail` as a status line reads.
pub fn status_line(instance: &str, status: &str, detail: Option<String>) -> String {
    format!(
        "{instance}: {status}{}",
        detail.map(|d| format!(": {d}")).unwrap_or_default()
    )
}

/// Starts the planned strategies on the running session; their console goes to stderr.
pub async fn start(planned: Planned, deps: HostDeps) -> anyhow::Result<StrategyHost> {
    let host = StrategyHost::new(Arc::new(strategy_engine()), deps);
    print_events(host.events(), |event| match event {
        HostEvent::Console { instance, line } => format!("{instance}: {line}"),
        HostEvent::Status {
            instance,
            status,
            detail,
        } => status_line(&instance, status.as_str(), detail),
    });
    for (script, values) in planned.runs {
        let name = script.name.clone();
        host.start(RunRequest {
            script,
            params: values,
            account: planned.account.clone(),
            mode: planned.mode,
            symbols: planned.symbols.clone(),
            feed: Feed::Live {
                bar_seconds: planned.bar_seconds,
            },
        })
        .await
        .map_err(|e| anyhow::anyhow!("strategy {name}: {e}"))?;
    }
    Ok(host)
}
