//! Native plugins for the window: the start-up scan (the window then loads the eligible
//! bundles on the GTK main thread), and the Plugins panel's list, trust, revoke, enable and
//! disable, all on the allowlist in PostgreSQL.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use sqlx::PgPool;
use tickwork_core::plugins::{self, PluginEnv, PluginReport, PluginStatus, grant};

use super::{Notify, Services};
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
