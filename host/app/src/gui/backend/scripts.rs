//! Strategy script commands: checks and backtests (CPU work, off the runtime's workers), the
//! stored scripts, and runs on paper or live through the strategy host.

use std::sync::{Arc, OnceLock};

use rhai::Engine;
use tickwork_core::scripting::ScriptError;
use tickwork_core::scripting::strategy::StrategyScript;
use tickwork_core::store::scripts::{self, ScriptKind};

use super::Services;
use crate::gui::boundary::{
    CheckedScript, RunStatus, ScriptSummary, ScriptsCommand, ScriptsEvent,
};

/// What a run answers until the strategy host is wired in.
pub const NO_HOST: &str = "live and paper runs need the strategy host";

/// The strategy engine, built once: it is immutable and shared by every check and backtest.
pub fn engine() -> Arc<Engine> {
    static ENGINE: OnceLock<Arc<Engine>> = OnceLock::new();
    ENGINE
        .get_or_init(|| Arc::new(tickwork_core::scripting::strategy_engine()))
        .clone()
}

/// Compiles `source` as the strategy `name`: its parameters, hooks and warnings, or the first
/// error at line and column. Runs `fn params()`, so call it off the async workers.
pub fn check(name: &str, source: &str) -> Result<CheckedScript, ScriptError> {
    let script = StrategyScript::compile(&engine(), name, source)?;
    let hooks = tickwork_core::scripting::strategy::HOOKS
        .iter()
        .map(|(hook, _)| *hook)
        .filter(|hook| {
            let h = &script.hooks;
            match *hook {
                "on_start" => h.on_start,
                "on_tick" => h.on_tick,
                "on_bar" => h.on_bar,
                "on_order" => h.on_order,
                "on_fill" => h.on_fill,
                "on_timer" => h.on_timer,
                "on_stop" => h.on_stop,
                _ => false,
            }
        })
        .map(str::to_owned)
        .collect();
    Ok(CheckedScript {
        params: script.params,
        hooks,
        warnings: script.warnings,
        content_sha256: script.content_sha256,
    })
}

/// [`check`] on a blocking thread.
pub async fn check_off_runtime(name: String, source: String) -> Result<CheckedScript, ScriptError> {
    tokio::task::spawn_blocking(move || check(&name, &source))
        .await
        .unwrap_or_else(|e| Err(ScriptError::message(format!("the check stopped: {e}"))))
}

pub async fn handle(services: Services, command: ScriptsCommand) {
    match command {
        ScriptsCommand::Check {
            request,
            name,
            source,
        } => {
            let result = check_off_runtime(name, source).await;
            services.tell(ScriptsEvent::Checked { request, result });
        }
        ScriptsCommand::List => list(&services).await,
        ScriptsCommand::Load { name } => match scripts::get(&services.pool, &name).await {
            Ok(Some(stored)) => services.tell(ScriptsEvent::Loaded {
                name,
                source: stored.source,
            }),
            Ok(None) => services.problem(&format!("script {name}"), "no such script"),
            Err(err) => services.problem(&format!("script {name}"), err),
        },
        ScriptsCommand::Save { name, source } => {
            let result = save(&services, &name, &source).await;
            services.tell(ScriptsEvent::Saved { name, result });
            list(&services).await;
        }
        ScriptsCommand::Delete { name } => {
            match scripts::delete(&services.pool, &name).await {
                Ok(_) => services.tell(ScriptsEvent::Deleted { name }),
                Err(err) => services.problem(&format!("deleting {name}"), err),
            }
            list(&services).await;
        }
        ScriptsCommand::Backtest(request) => {
            let event = super::backtest::run(Some(services.pool.clone()), *request).await;
            services.tell(event);
        }
        ScriptsCommand::Run(_) => refuse(&services, None),
        ScriptsCommand::Stop { instance } | ScriptsCommand::Reload { instance, .. } => {
            refuse(&services, Some(instance))
        }
        ScriptsCommand::Grant { name, account, .. } => services.tell(ScriptsEvent::Granted {
            name,
            account,
            result: Err(NO_HOST.into()),
        }),
    }
}

fn refuse(services: &Services, instance: Option<u64>) {
    services.tell(ScriptsEvent::Status {
        instance,
        status: RunStatus::Refused(NO_HOST.into()),
    });
}

async fn save(services: &Services, name: &str, source: &str) -> Result<(), String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("give the script a name".into());
    }
    let pool = &services.pool;
    match scripts::get(pool, name).await {
        Ok(Some(existing)) if existing.kind != ScriptKind::Strategy => {
            return Err(format!(
                "`{name}` is a {} script: choose another name",
                existing.kind.as_str()
            ));
        }
        Ok(_) => {}
        Err(err) => return Err(err.to_string()),
    }
    scripts::save(pool, name, ScriptKind::Strategy, source)
        .await
        .map_err(|e| e.to_string())
}

async fn list(services: &Services) {
    match scripts::list(&services.pool).await {
        Ok(stored) => services.tell(ScriptsEvent::Listed(
            stored
                .into_iter()
                .map(|s| ScriptSummary {
                    name: s.name,
                    kind: s.kind,
                    trading_granted: s.trading_granted,
                    updated_at: s.updated_at,
                })
                .collect(),
        )),
        Err(err) => services.problem("listing the scripts", err),
    }
}
