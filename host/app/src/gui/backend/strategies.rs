//! Strategy runs on paper or live for the Scripts panel: through the connection's
//! [`StrategyHost`] (built with the session, stopped before it), the live grant recorded when
//! the trader confirms, hot reload that leaves the running version alone when the new text
//! does not compile, and the host's console lines and status changes forwarded to the window.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use tickwork_core::scripting::ScriptError;
use tickwork_core::scripting::host::{
    Feed, HostEvent, InstanceStatus, RunRequest as HostRun, StrategyHost,
};
use tickwork_core::scripting::strategy::StrategyScript;
use tickwork_core::store::audit::{self, AuditEntry};
use tickwork_core::store::script_runs;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::task::JoinHandle;

use super::scripts::engine;
use super::{Live, Services};
use crate::gui::boundary::{RunMode, RunRequest, RunStatus, RunningInstance, ScriptsEvent};

fn tell(services: &Services, instance: Option<String>, status: RunStatus) {
    services.tell(ScriptsEvent::Status { instance, status });
}

fn host(services: &Services) -> Option<&StrategyHost> {
    services.live.as_ref().map(|live| &live.host)
}

/// Compiles on a blocking thread (`fn params()` runs).
async fn compile(name: String, source: String) -> Result<Arc<StrategyScript>, ScriptError> {
    tokio::task::spawn_blocking(move || StrategyScript::compile(&engine(), &name, &source))
        .await
        .unwrap_or_else(|e| Err(ScriptError::message(format!("the check stopped: {e}"))))
        .map(Arc::new)
}

/// Records the trader's grant for `name` with this text to trade `account` live, audited.
async fn grant(services: &Services, name: &str, account: &str, sha: &str) -> Result<(), String> {
    script_runs::grant(&services.pool, name, account, sha, "ui")
        .await
        .map_err(|e| e.to_string())?;
    audit::append(
        &services.pool,
        &AuditEntry {
            actor: "ui".into(),
            action: "script.grant".into(),
            decision: Some("allowed".into()),
            reason: None,
            details: json!({"account": account, "script": name, "content_sha256": sha}),
        },
    )
    .await
    .map(|_| ())
    .map_err(|e| e.to_string())
}

pub async fn run(services: &Services, request: RunRequest) {
    let Some(host) = host(services) else {
        return tell(
            services,
            None,
            RunStatus::Refused("not connected: connect to TWS or start the demo first".into()),
        );
    };
    let script = match compile(request.name.clone(), request.source.clone()).await {
        Ok(script) => script,
        Err(error) => {
            let why = format!("the script does not compile ({error})");
            return tell(services, None, RunStatus::Refused(why));
        }
    };
    if request.grant && request.mode == RunMode::Live {
        let sha = &script.content_sha256;
        if let Err(why) = grant(services, &script.name, &request.account, sha).await {
            return tell(services, None, RunStatus::Refused(why));
        }
    }
    let running = RunStatus::Running {
        name: script.name.clone(),
        mode: request.mode,
        account: request.account.clone(),
        content_sha256: script.content_sha256.clone(),
    };
    let started = host
        .start(HostRun {
            script,
            params: request.params,
            account: request.account,
            mode: request.mode,
            symbols: request.symbols,
            feed: Feed::Live {
                bar_seconds: request.bar_seconds,
            },
        })
        .await;
    match started {
        Ok(id) => tell(services, Some(id), running),
        Err(why) => tell(services, None, RunStatus::Refused(why)),
    }
}

pub async fn stop(services: &Services, instance: String) {
    let Some(host) = host(services) else {
        return tell(services, Some(instance), RunStatus::Stopped);
    };
    // The host says "stopped" itself, with what stopping cancelled.
    if let Err(why) = host.stop(&instance).await {
        services.problem(&format!("stopping {instance}"), why);
        tell(services, Some(instance), RunStatus::Stopped);
    }
}

pub async fn reload(
    services: &Services,
    instance: String,
    (name, source): (String, String),
    keep_state: bool,
) {
    let Some(host) = host(services) else {
        let why = ScriptError::message("not connected: nothing is running");
        return tell(services, Some(instance), RunStatus::ReloadFailed(why));
    };
    let script = match compile(name, source).await {
        Ok(script) => script,
        Err(error) => return tell(services, Some(instance), RunStatus::ReloadFailed(error)),
    };
    let sha = script.content_sha256.clone();
    match host.reload(&instance, script, keep_state).await {
        Ok(()) => tell(
            services,
            Some(instance),
            RunStatus::Reloaded {
                content_sha256: sha,
            },
        ),
        Err(why) => tell(
            services,
            Some(instance),
            RunStatus::ReloadFailed(ScriptError::message(why)),
        ),
    }
}

pub async fn granted(services: &Services, name: String, account: String, sha: String) {
    let result = grant(services, &name, &account, &sha).await;
    services.tell(ScriptsEvent::Granted {
        name,
        account,
        result,
    });
}

pub fn instances(services: &Services) {
    let list = host(services).map(StrategyHost::list).unwrap_or_default();
    services.tell(ScriptsEvent::Instances(
        list.into_iter()
            .map(|i| RunningInstance {
                id: i.id,
                name: i.script,
                mode: i.mode,
                account: i.account,
                content_sha256: i.content_sha256,
            })
            .collect(),
    ));
}

/// The error of a fault as the host words it: `script: LINE:COL: message (in hook; …)`.
pub fn fault_error(instance: &str, detail: &str) -> ScriptError {
    let script = instance.split('@').next().unwrap_or(instance);
    let text = detail
        .strip_prefix(&format!("{script}: "))
        .unwrap_or(detail);
    let mut parts = text.splitn(3, ':');
    let (line, column) = (
        parts.next().and_then(|l| l.trim().parse().ok()),
        parts.next().and_then(|c| c.trim().parse().ok()),
    );
    match (line, column, parts.next()) {
        (Some(line), Some(column), Some(rest)) => ScriptError {
            line: Some(line),
            column: Some(column),
            message: rest.trim().to_owned(),
        },
        _ => ScriptError::message(text),
    }
}

/// Forwards the host's console lines (a batch at most every 100 ms: a script printing on
/// every tick never floods the window) and its stops and faults.
pub fn follow(services: &Services, live: &Live) -> Vec<JoinHandle<()>> {
    let mut events = live.host.events();
    let services = services.clone();
    vec![tokio::spawn(async move {
        loop {
            let first = match events.recv().await {
                Ok(event) => event,
                Err(RecvError::Lagged(missed)) => {
                    let line = format!("… {missed} console lines were dropped (too many)");
                    services.tell(ScriptsEvent::Console {
                        instance: None,
                        lines: vec![(Utc::now(), line)],
                    });
                    continue;
                }
                Err(RecvError::Closed) => return,
            };
            let mut batch = vec![first];
            loop {
                match events.try_recv() {
                    Ok(event) => batch.push(event),
                    Err(TryRecvError::Lagged(_)) => continue,
                    Err(_) => break,
                }
            }
            forward(&services, batch);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })]
}

/// Console lines with when they were printed.
type Lines = Vec<(chrono::DateTime<Utc>, String)>;

fn forward(services: &Services, batch: Vec<HostEvent>) {
    let mut lines: Vec<(String, Lines)> = Vec::new();
    let flush = |lines: &mut Vec<(String, Vec<_>)>| {
        for (instance, lines) in lines.drain(..) {
            services.tell(ScriptsEvent::Console {
                instance: Some(instance),
                lines,
            });
        }
    };
    for event in batch {
        match event {
            HostEvent::Console { instance, line } => match lines.last_mut() {
                Some((last, batch)) if *last == instance => batch.push((Utc::now(), line)),
                _ => lines.push((instance, vec![(Utc::now(), line)])),
            },
            HostEvent::Status {
                instance,
                status,
                detail,
            } => {
                flush(&mut lines);
                let status = match status {
                    // Announced by `run`, which knows what started.
                    InstanceStatus::Running => continue,
                    InstanceStatus::Stopped => RunStatus::Stopped,
                    InstanceStatus::Faulted => RunStatus::Faulted(fault_error(
                        &instance,
                        detail.as_deref().unwrap_or("faulted"),
                    )),
                };
                tell(services, Some(instance), status);
            }
        }
    }
    flush(&mut lines);
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use sqlx::PgPool;

    use super::*;
    use crate::gui::backend::market::tests::services;
    use crate::gui::backend::test_support::OnSimulator;
    use crate::gui::boundary::{Notification, ScriptsCommand};

    #[test]
    fn a_fault_is_read_back_at_its_line_and_column() {
        let error = fault_error(
            "sma@DU1/paper",
            "sma: 13:6: Division by zero (in on_bar; the strategy is stopped)",
        );
        assert_eq!((error.line, error.column), (Some(13), Some(6)));
        assert_eq!(
            error.message,
            "Division by zero (in on_bar; the strategy is stopped)"
        );
        let error = fault_error(
            "sma@DU1/paper",
            "sma: in `on_bar`: stopped: too many operations",
        );
        assert_eq!(error.line, None);
        assert_eq!(error.message, "in `on_bar`: stopped: too many operations");
    }

    const HELLO: &str = "fn params() { #{ greeting: \"hello\" } }\n\
        fn on_start(ctx) { print(`${params.greeting} from v1`); }\n\
        fn on_bar(ctx, bar) { }\n";

    /// Waits until the window was told something `wanted` picks.
    async fn told<T>(
        told: &Mutex<Vec<Notification>>,
        what: &str,
        wanted: impl Fn(&ScriptsEvent) -> Option<T>,
    ) -> T {
        for _ in 0..300 {
            let found = told.lock().unwrap().iter().find_map(|n| match n {
                Notification::Scripts(e) => wanted(e),
                _ => None,
            });
            if let Some(found) = found {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("never told {what}: {:?}", told.lock().unwrap());
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn runs_on_the_simulator_reload_and_stop(pool: PgPool) {
        let on_sim = OnSimulator::start(&pool, "scripts").await;
        let (live, account, session) = (
            on_sim.live.clone(),
            on_sim.account.clone(),
            on_sim.live.session.clone(),
        );
        let (services, said) = services(&pool, Some(live.clone()));
        let followers = follow(&services, &live);
        let request = RunRequest {
            name: "hello".into(),
            source: HELLO.into(),
            params: [(
                "greeting".to_owned(),
                tickwork_core::scripting::strategy::ParamValue::Text("hi".into()),
            )]
            .into(),
            account: account.clone(),
            mode: RunMode::Paper,
            symbols: vec!["MSFT".into()],
            bar_seconds: 60,
            grant: false,
        };
        super::super::scripts::handle(
            services.clone(),
            ScriptsCommand::Run(Box::new(request.clone())),
        )
        .await;
        let id = told(&said, "running", |e| match e {
            ScriptsEvent::Status {
                instance: Some(id),
                status: RunStatus::Running { .. },
            } => Some(id.clone()),
            _ => None,
        })
        .await;
        assert_eq!(id, format!("hello@{account}/paper"));
        told(&said, "the console line", |e| match e {
            ScriptsEvent::Console {
                instance: Some(i),
                lines,
            } if *i == id => lines.iter().any(|(_, l)| l == "hi from v1").then_some(()),
            _ => None,
        })
        .await;

        // A reload that does not compile leaves v1 running; one that does replaces it.
        let reload = |source: &str| ScriptsCommand::Reload {
            instance: id.clone(),
            name: "hello".into(),
            source: source.into(),
            keep_state: true,
        };
        super::super::scripts::handle(
            services.clone(),
            reload("fn on_bar(ctx, bar) { let x = ; }"),
        )
        .await;
        let error = told(&said, "the failed reload", |e| match e {
            ScriptsEvent::Status {
                status: RunStatus::ReloadFailed(error),
                ..
            } => Some(error.clone()),
            _ => None,
        })
        .await;
        assert_eq!(error.line, Some(1), "{error}");
        assert_eq!(live.host.list().len(), 1, "v1 goes on");
        let v2 = HELLO.replace("v1", "v2");
        super::super::scripts::handle(services.clone(), reload(&v2)).await;
        let sha = told(&said, "the reload", |e| match e {
            ScriptsEvent::Status {
                status: RunStatus::Reloaded { content_sha256 },
                ..
            } => Some(content_sha256.clone()),
            _ => None,
        })
        .await;
        assert_eq!(live.host.list()[0].content_sha256, sha);

        // Live without a grant is refused; confirmed, the grant is recorded and audited.
        let mut live_run = request.clone();
        live_run.mode = RunMode::Live;
        super::super::scripts::handle(
            services.clone(),
            ScriptsCommand::Run(Box::new(live_run.clone())),
        )
        .await;
        let why = told(&said, "the refusal", |e| match e {
            ScriptsEvent::Status {
                status: RunStatus::Refused(why),
                ..
            } => Some(why.clone()),
            _ => None,
        })
        .await;
        assert!(why.contains("may not trade"), "{why}");
        live_run.grant = true;
        super::super::scripts::handle(services.clone(), ScriptsCommand::Run(Box::new(live_run)))
            .await;
        let live_id = format!("hello@{account}/live");
        told(&said, "the live run", |e| match e {
            ScriptsEvent::Status {
                instance: Some(i),
                status:
                    RunStatus::Running {
                        mode: RunMode::Live,
                        ..
                    },
            } if *i == live_id => Some(()),
            _ => None,
        })
        .await;
        let grant = script_runs::grant_for(&pool, "hello", &account)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(grant.granted_by, "ui");
        let audited: i64 =
            sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'script.grant'")
                .fetch_one(&pool)
                .await
                .unwrap();
        assert_eq!(audited, 1);
        super::super::scripts::handle(services.clone(), ScriptsCommand::Instances).await;
        let listed = told(&said, "the instances", |e| match e {
            ScriptsEvent::Instances(list) => Some(list.len()),
            _ => None,
        })
        .await;
        assert_eq!(listed, 2);

        // Stopping: the host says so through the follower.
        for instance in [id.clone(), live_id.clone()] {
            super::super::scripts::handle(services.clone(), ScriptsCommand::Stop { instance })
                .await;
        }
        for instance in [id, live_id] {
            told(&said, "stopped", |e| match e {
                ScriptsEvent::Status {
                    instance: Some(i),
                    status: RunStatus::Stopped,
                } if *i == instance => Some(()),
                _ => None,
            })
            .await;
        }
        assert!(live.host.list().is_empty());
        for follower in followers {
            follower.abort();
        }
        drop(session);
        on_sim.stop().await;
    }
}
