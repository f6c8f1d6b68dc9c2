//! Native plugins for the window: the start-up scan (the window then loads the eligible
//! bundles on the GTK main thread), and the Plugins panel's list, trust, revoke, enable and
//! disable, all on the allowlist in PostgreSQL.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use sqlx::PgPool;
use tickwork_core::plugins::{self, PluginEnv, PluginReport, PluginStatus, grant};

use tickwork_core::plugins::strategy::PluginStrategyEvent;
use tickwork_core::scripting::host::RunMode;
use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinHandle;

use super::{Live, Notify, Services};
use crate::gui::boundary::{PluginsCommand, PluginsEvent, PluginsFound};

/// Who the audit log names for the trader's changes in the window.
const ACTOR: &str = "ui";

/// Where this window's plugins are looked for; set once at start (plugins off when unset).
static ENV: OnceLock<PluginEnv> = OnceLock::new();

/// Scans the search path once the database is open and hands the result to the window.
pub async fn discover(pool: &PgPool, env: PluginEnv, notify: &Notify) {
    let _ = ENV.set(env.clone());
    match plugins::scan(pool, &env).await {
        Ok(reports) => notify(
            PluginsEvent::Discovered(Arc::new(PluginsFound {
                env,
                reports,
                pool: pool.clone(),
            }))
            .into(),
        ),
        Err(err) => notify(crate::gui::boundary::Notification::Problem(format!(
            "plugins were not loaded: the allowlist is unreadable ({err})"
        ))),
    }
}

pub async fn handle(services: Services, command: PluginsCommand) {
    let Some(env) = ENV.get() else {
        services.tell(PluginsEvent::Changed(
            "plugins are off in this window".into(),
        ));
        return;
    };
    handle_with(env, &services, command).await;
}

/// [`handle`] with an explicit environment (the panel's tests use their own folders).
pub async fn handle_with(env: &PluginEnv, services: &Services, command: PluginsCommand) {
    let pool = &services.pool;
    let outcome = match command {
        PluginsCommand::RunStrategy {
            type_id,
            params_json,
            account,
        } => {
            run_strategy(services, &type_id, &params_json, &account).await;
            return;
        }
        PluginsCommand::StopStrategy { id } => {
            if let Some(live) = services.live_or_refuse() {
                if let Err(err) = live.plugin_strategies.stop(&id).await {
                    services.tell(PluginsEvent::Changed(format!("{id}: {err}")));
                }
                tell_running(services, live, None);
            }
            return;
        }
        PluginsCommand::List => Ok(None),
        PluginsCommand::Loaded(mut reports) => plugins::record(pool, &mut reports)
            .await
            .map(|()| None)
            .map_err(|e| e.to_string()),
        PluginsCommand::Trust { bundle } => trust(pool, env, &bundle).await.map(Some),
        PluginsCommand::Revoke { id } => match grant::revoke(pool, &id, ACTOR).await {
            Ok(true) => Ok(Some(restart_note(&id, "no longer trusted"))),
            Ok(false) => Err(format!("{id} was not trusted")),
            Err(e) => Err(e),
        },
        PluginsCommand::SetEnabled { id, enabled } => {
            match grant::set_enabled(pool, &id, enabled, ACTOR).await {
                Ok(true) if enabled => {
                    Ok(Some(format!("{id} is enabled; it loads at the next start")))
                }
                Ok(true) => Ok(Some(restart_note(&id, "disabled"))),
                Ok(false) => Err(format!("{id} is not trusted yet: trust it first")),
                Err(e) => Err(e),
            }
        }
    };
    match outcome {
        Ok(Some(message)) => services.tell(PluginsEvent::Changed(message)),
        Ok(None) => {}
        Err(err) => services.tell(PluginsEvent::Changed(format!("Plugins: {err}"))),
    }
    list(env, services).await;
}

/// Sends the list, with the plugins running in this process shown as loaded.
async fn list(env: &PluginEnv, services: &Services) {
    match plugins::scan(&services.pool, env).await {
        Ok(mut reports) => {
            mark_loaded(&mut reports);
            services.tell(PluginsEvent::Listed {
                search_path: env.search_path.clone(),
                reports,
            });
        }
        Err(err) => services.tell(PluginsEvent::Changed(format!(
            "Plugins: the allowlist is unreadable ({err})"
        ))),
    }
}

/// A scan runs no plugin code, so it reports a trusted bundle as "loads at next start"; the
/// ones this process did load (the same library) are loaded.
fn mark_loaded(reports: &mut [PluginReport]) {
    let loaded = plugins::registry::loaded();
    for report in reports {
        let here = loaded.iter().any(|p| p.provider.plugin_id == report.id);
        if here && report.status == PluginStatus::Trusted {
            report.status = PluginStatus::Loaded;
        }
    }
}

fn restart_note(id: &str, what: &str) -> String {
    let running = plugins::registry::loaded()
        .iter()
        .any(|p| p.provider.plugin_id == id);
    if running {
        format!("{id} is {what}; it stays loaded until you restart (native code is never unloaded)")
    } else {
        format!("{id} is {what}")
    }
}

async fn trust(pool: &PgPool, env: &PluginEnv, bundle: &Path) -> Result<String, String> {
    let trusted = grant::trust_bundle(pool, bundle, env.gtk_minor, ACTOR).await?;
    Ok(format!(
        "{} {} is trusted; it loads at the next start",
        trusted.id, trusted.version
    ))
}

/// Answers one command with an explicit environment and database, collecting what the
/// backend would tell the window (for tests of the Plugins panel).
pub async fn answer(
    env: &PluginEnv,
    pool: PgPool,
    command: PluginsCommand,
) -> Vec<crate::gui::boundary::Notification> {
    let told = Arc::new(std::sync::Mutex::new(Vec::new()));
    let into = told.clone();
    let services = Services {
        pool,
        notify: Arc::new(move |n| into.lock().unwrap_or_else(|p| p.into_inner()).push(n)),
        live: None,
    };
    handle_with(env, &services, command).await;
    std::mem::take(&mut *told.lock().unwrap_or_else(|p| p.into_inner()))
}

/// Starts a loaded plugin's strategy on paper through the connection's manager (the same
/// feed, risk gate and audit as scripts; live runs are for `tickwork headless`).
async fn run_strategy(services: &Services, type_id: &str, params_json: &str, account: &str) {
    let Some(live) = services.live_or_refuse() else {
        return;
    };
    let Some(strategy) = plugins::registry::loaded()
        .iter()
        .flat_map(|p| p.strategies.clone())
        .find(|s| s.type_id == type_id)
    else {
        services.tell(PluginsEvent::Changed(format!(
            "{type_id} is not loaded in this window"
        )));
        return;
    };
    let params = if params_json.trim().is_empty() {
        "{}"
    } else {
        params_json
    };
    let message = match live
        .plugin_strategies
        .start(strategy, params, account, RunMode::Paper)
        .await
    {
        Ok(id) => format!("{id} runs on paper"),
        Err(err) => format!("{type_id} did not start: {err}"),
    };
    services.tell(PluginsEvent::Changed(message));
    tell_running(services, live, None);
}

fn tell_running(services: &Services, live: &Live, latest: Option<String>) {
    services.tell(PluginsEvent::Strategies {
        running: live.plugin_strategies.list(),
        latest,
    });
}

/// Forwards what the connection's plugin strategies report (their orders, faults, stops).
pub fn follow(services: &Services, live: &Live) -> Vec<JoinHandle<()>> {
    let mut events = live.plugin_strategies.events();
    let services = services.clone();
    let live = live.clone();
    vec![tokio::spawn(async move {
        loop {
            let latest = match events.recv().await {
                Ok(PluginStrategyEvent::Console { instance, line }) => {
                    format!("{instance}: {line}")
                }
                Ok(PluginStrategyEvent::Status {
                    instance,
                    status,
                    detail,
                }) => match detail {
                    Some(detail) => format!("{instance}: {} — {detail}", status.as_str()),
                    None => format!("{instance}: {}", status.as_str()),
                },
                Err(RecvError::Lagged(missed)) => {
                    format!("{missed} plugin strategy events skipped")
                }
                Err(RecvError::Closed) => return,
            };
            tell_running(&services, &live, Some(latest));
        }
    })]
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::sync::Mutex;
    use std::time::Duration;

    use tickwork_core::plugins::strategy::PluginInstanceInfo;
    use tickwork_core::store::audit;

    use super::*;
    use crate::gui::backend::market::tests::services;
    use crate::gui::backend::test_support::OnSimulator;
    use crate::gui::boundary::Notification;

    /// The zoo test plugin (`plugins/zoo`), built next to this test binary.
    fn zoo_library() -> PathBuf {
        // target/<profile>/deps/<this test> → target/<profile>
        let exe = std::env::current_exe().unwrap();
        let dir = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut build = std::process::Command::new(cargo);
        build.args(["build", "--quiet", "-p", "tickwork-plugin-zoo"]);
        if dir.ends_with("release") {
            build.arg("--release");
        }
        assert!(build.status().unwrap().success(), "building the zoo");
        dir.join("libtickwork_plugin_zoo.so")
    }

    async fn running(
        told: &Mutex<Vec<Notification>>,
        wanted: impl Fn(&[PluginInstanceInfo]) -> bool,
    ) {
        for _ in 0..400 {
            let seen = told.lock().unwrap().iter().any(|n| {
                matches!(n, Notification::Plugins(PluginsEvent::Strategies { running, .. }) if wanted(running))
            });
            if seen {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("never told: {:?}", told.lock().unwrap());
    }

    /// A trusted, loaded plugin strategy started from the Plugins panel trades on paper
    /// through the risk gate (audited as the plugin's instance) and stops on request.
    #[sqlx::test(migrations = "../../migrations")]
    async fn a_plugin_strategy_runs_on_paper_from_the_window(pool: PgPool) {
        let home = tempfile::tempdir().unwrap();
        let bundle = home.path().join("bundles/zoo");
        std::fs::create_dir_all(&bundle).unwrap();
        std::fs::copy(zoo_library(), bundle.join("libtickwork_plugin_zoo.so")).unwrap();
        let template = concat!(env!("CARGO_MANIFEST_DIR"), "/../../plugins/zoo/plugin.toml");
        std::fs::copy(template, bundle.join("plugin.toml")).unwrap();
        let env = PluginEnv {
            search_path: vec![home.path().join("bundles")],
            cache_dir: home.path().join("cache"),
            journal_dir: home.path().join("journal"),
            gtk_minor: None,
        };
        grant::trust_bundle(&pool, &bundle, None, "test")
            .await
            .unwrap();
        let mut reports = plugins::scan(&pool, &env).await.unwrap();
        plugins::load_eligible(&env, &mut reports);
        assert!(
            reports.iter().any(|r| r.status == PluginStatus::Loaded),
            "{reports:?}"
        );

        let on_sim = OnSimulator::start(&pool, "plugins").await;
        let (services, told) = services(&pool, Some(on_sim.live.clone()));
        let followers = follow(&services, &on_sim.live);
        handle_with(
            &env,
            &services,
            PluginsCommand::RunStrategy {
                type_id: "org.tickwork.zoo.strategy".into(),
                params_json: r#"{"symbol":"MSFT"}"#.into(),
                account: on_sim.account.clone(),
            },
        )
        .await;
        running(&told, |r| r.len() == 1).await;
        let id = on_sim.live.plugin_strategies.list()[0].id.clone();
        assert!(id.starts_with("org.tickwork.zoo/"), "{id}");

        // Its first order passes the gate, attributed to the instance.
        let actor = format!("plugin:{id}");
        let mut audited = false;
        for _ in 0..400 {
            let filter = audit::AuditFilter {
                origin: Some(actor.clone()),
                action: Some("order.intent".into()),
                limit: 50,
                ..audit::AuditFilter::default()
            };
            let entries = audit::filtered(&pool, &filter).await.unwrap();
            if entries
                .iter()
                .any(|e| e.actor == actor && e.action == "order.intent")
            {
                audited = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(audited, "an order.intent by {actor} in the audit log");

        handle_with(&env, &services, PluginsCommand::StopStrategy { id }).await;
        running(&told, <[PluginInstanceInfo]>::is_empty).await;
        for follower in followers {
            follower.abort();
        }
        on_sim.stop().await;
    }
}
