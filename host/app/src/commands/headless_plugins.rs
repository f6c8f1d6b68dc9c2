//! Plugin strategies in `tickwork headless`: each `--plugin-strategy` names a strategy type of a
//! trusted, loaded plugin, with its `--plugin-params` (a JSON object). They are checked once the
//! plugins are loaded and before the session starts, run by the plugin strategy manager on the
//! session's hub, router and risk view, and stopped before the session (and before the
//! plugins' `shutdown`). Their console and statuses go to stderr.

use anyhow::{Context as _, bail};
use tickwork_core::plugins::LoadedPlugins;
use tickwork_core::plugins::capability::PluginStrategy;
use tickwork_core::plugins::strategy::{PluginStrategies, PluginStrategyEvent};
use tickwork_core::scripting::host::{HostDeps, RunMode};

use crate::cli::HeadlessArgs;

/// The plugin strategies to run, checked.
pub struct PlannedPlugins {
    runs: Vec<(PluginStrategy, String)>,
    account: String,
    mode: RunMode,
}

impl PlannedPlugins {
    /// The account the strategies trade.
    pub fn account(&self) -> &str {
        &self.account
    }
}

/// Finds each `--plugin-strategy` among the loaded plugins and checks its parameters.
pub fn plan(
    args: &HeadlessArgs,
    profile_account: Option<&str>,
    loaded: &LoadedPlugins,
) -> anyhow::Result<Option<PlannedPlugins>> {
    if args.plugin_strategies.is_empty() {
        return Ok(None);
    }
    if args.plugin_params.len() > args.plugin_strategies.len() {
        bail!(
            "--plugin-params {}: more parameters than --plugin-strategy options",
            args.plugin_params[args.plugin_strategies.len()]
        );
    }
    let (account, mode) = super::headless_strategies::account_and_mode(args, profile_account)?;
    let offered = loaded.strategies();
    let mut runs = Vec::new();
    for (i, type_id) in args.plugin_strategies.iter().enumerate() {
        let strategy = offered
            .iter()
            .find(|s| &s.type_id == type_id)
            .cloned()
            .with_context(|| {
                format!(
                    "--plugin-strategy {type_id}: no trusted, enabled plugin offers it (see `tickwork plugins list`)"
                )
            })?;
        let params = args
            .plugin_params
            .get(i)
            .cloned()
            .unwrap_or_else(|| "{}".into());
        match serde_json::from_str::<serde_json::Value>(&params) {
            Ok(serde_json::Value::Object(_)) => {}
            Ok(_) => bail!("--plugin-params {params}: not a JSON object"),
            Err(e) => bail!("--plugin-params {params}: {e}"),
        }
        runs.push((strategy, params));
    }
    Ok(Some(PlannedPlugins {
        runs,
        account,
        mode,
    }))
}

/// Starts the planned plugin strategies; their console goes to stderr.
pub async fn start(planned: PlannedPlugins, deps: HostDeps) -> anyhow::Result<PluginStrategies> {
    let manager = PluginStrategies::new(deps);
    super::headless_strategies::print_events(manager.events(), |event| match event {
        PluginStrategyEvent::Console { instance, line } => format!("{instance}: {line}"),
        PluginStrategyEvent::Status {
            instance,
            status,
            detail,
        } => super::headless_strategies::status_line(&instance, status.as_str(), detail),
    });
    for (strategy, params) in planned.runs {
        let type_id = strategy.type_id.clone();
        manager
            .start(strategy, &params, &planned.account, planned.mode)
            .await
            .map_err(|e| anyhow::anyhow!("plugin strategy {type_id}: {e}"))?;
    }
    Ok(manager)
}
