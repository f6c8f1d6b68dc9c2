//! Strategy script commands: checks and backtests (CPU work, off the runtime's workers), the
//! stored scripts; runs on paper or live go to the strategy host (`strategies.rs`).

use std::sync::{Arc, OnceLock};

use rhai::Engine;
use tickwork_core::scripting::ScriptError;
use tickwork_core::scripting::strategy::StrategyScript;
use tickwork_core::store::scripts::{self, ScriptKind};

use super::Services;
use crate::gui::boundary::{CheckedScript, ScriptSummary, ScriptsCommand, ScriptsEvent};

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
        ScriptsCommand::Run(request) => super::strategies::run(&services, *request).await,
        ScriptsCommand::Stop { instance } => super::strategies::stop(&services, instance).await,
        ScriptsCommand::Reload {
            instance,
            name,
            source,
            keep_state,
        } => super::strategies::reload(&services, instance, (name, source), keep_state).await,
        ScriptsCommand::Instances => super::strategies::instances(&services),
        ScriptsCommand::Grant {
            name,
            account,
            content_sha256,
        } => super::strategies::granted(&services, name, account, content_sha256).await,
    }
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

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use chrono::{DateTime, Utc};
    use rust_decimal::Decimal;
    use sqlx::PgPool;
    use tickwork_core::scripting::strategy::params;

    use super::*;
    use crate::gui::backend::records::tests::services;
    use crate::gui::boundary::{BacktestRequest, BarSource, Notification, RunStatus};

    fn events(told: &Mutex<Vec<Notification>>) -> Vec<ScriptsEvent> {
        told.lock()
            .unwrap()
            .drain(..)
            .filter_map(|n| match n {
                Notification::Scripts(e) => Some(e),
                _ => None,
            })
            .collect()
    }

    const SMA: &str = include_str!("../../../../../scripts/sma_cross.rhai");

    #[sqlx::test(migrations = "../../migrations")]
    async fn scripts_are_saved_listed_loaded_and_deleted(pool: PgPool) {
        scripts::save(&pool, "floor", ScriptKind::MarginRule, "fn rule(p) { 0 }")
            .await
            .unwrap();
        let (services, told) = services(pool);
        let save = |name: &str| ScriptsCommand::Save {
            name: name.into(),
            source: SMA.into(),
        };
        handle(services.clone(), save(" sma ")).await;
        let got = events(&told);
        assert!(
            matches!(&got[0], ScriptsEvent::Saved { result: Ok(()), .. }),
            "{got:?}"
        );
        let ScriptsEvent::Listed(listed) = &got[1] else {
            panic!("{got:?}")
        };
        let names: Vec<_> = listed.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["floor", "sma"]);
        handle(services.clone(), save("floor")).await;
        let got = events(&told);
        let ScriptsEvent::Saved {
            result: Err(why), ..
        } = &got[0]
        else {
            panic!("{got:?}")
        };
        assert_eq!(why, "`floor` is a margin_rule script: choose another name");
        handle(
            services.clone(),
            ScriptsCommand::Load { name: "sma".into() },
        )
        .await;
        let got = events(&told);
        assert!(
            matches!(&got[0], ScriptsEvent::Loaded { name, source } if name == "sma" && source == SMA)
        );
        handle(
            services.clone(),
            ScriptsCommand::Delete { name: "sma".into() },
        )
        .await;
        let got = events(&told);
        assert!(matches!(&got[0], ScriptsEvent::Deleted { name } if name == "sma"));
        assert!(matches!(&got[1], ScriptsEvent::Listed(l) if l.len() == 1));
        handle(
            services,
            ScriptsCommand::Run(Box::new(crate::gui::boundary::RunRequest {
                name: "sma".into(),
                source: SMA.into(),
                params: Default::default(),
                account: "DU1".into(),
                mode: crate::gui::boundary::RunMode::Paper,
                symbols: vec!["SPY".into()],
                bar_seconds: 60,
                grant: false,
            })),
        )
        .await;
        let got = events(&told);
        assert!(
            matches!(&got[0], ScriptsEvent::Status { status: RunStatus::Refused(why), .. } if why.starts_with("not connected"))
        );
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn a_backtest_is_run_and_stored(pool: PgPool) {
        let (services, told) = services(pool.clone());
        let checked = check("sma", SMA).unwrap();
        assert_eq!(checked.hooks, ["on_start", "on_bar", "on_fill"]);
        let request = BacktestRequest {
            request: 3,
            name: "sma".into(),
            source: SMA.into(),
            params: params::resolve(&checked.params, &["fast=5".into()]).unwrap(),
            symbol: "spy".into(),
            bars: BarSource::Csv(
                concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../../scripts/data/spy_daily.csv"
                )
                .into(),
            ),
            from: chrono::NaiveDate::from_ymd_opt(2025, 3, 1),
            to: chrono::NaiveDate::from_ymd_opt(2025, 12, 31),
            initial_cash: Decimal::from(50_000),
        };
        handle(
            services.clone(),
            ScriptsCommand::Backtest(Box::new(request.clone())),
        )
        .await;
        let got = events(&told);
        let ScriptsEvent::BacktestDone {
            request: 3,
            result: Ok(outcome),
        } = &got[0]
        else {
            panic!("{got:?}")
        };
        assert_eq!(outcome.symbol, "SPY");
        assert!(outcome.from >= "2025-03-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap());
        let last = outcome.equity.last().unwrap().0;
        assert!(last < "2026-01-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap());
        assert_eq!(outcome.stats.initial_cash, Decimal::from(50_000));
        assert_eq!(outcome.trades.len() as u32, outcome.stats.trade_count);
        let id = *outcome.saved.as_ref().unwrap();
        let (script, trades): (String, i64) = sqlx::query_as(
            "SELECT script, (SELECT count(*) FROM backtest_trades WHERE backtest_id = $1) \
             FROM backtests WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(script, "sma");
        assert_eq!(trades as usize, outcome.trades.len());

        // A script that fails while running: the error at its line, what it printed.
        let failing = SMA.replace(
            "let held = ctx.position(bar.symbol).qty;",
            "let held = ctx.position(bar.symbol).qty / 0;",
        );
        let line = failing.lines().position(|l| l.contains("/ 0")).unwrap() + 1;
        let mut broken = request.clone();
        broken.source = failing;
        handle(services.clone(), ScriptsCommand::Backtest(Box::new(broken))).await;
        let got = events(&told);
        let ScriptsEvent::BacktestDone {
            result: Err(failure),
            ..
        } = &got[0]
        else {
            panic!("{got:?}")
        };
        assert_eq!(failure.error.line, Some(line), "{failure:?}");
        assert!(
            failure.error.message.contains("in on_bar at the bar of"),
            "{failure:?}"
        );
        assert!(
            failure.console[0].starts_with("sma_cross: fast 5"),
            "{failure:?}"
        );

        // Bars the database does not have.
        let mut missing = request;
        missing.bars = BarSource::Database {
            bar_seconds: 86_400,
        };
        handle(services, ScriptsCommand::Backtest(Box::new(missing))).await;
        let got = events(&told);
        let ScriptsEvent::BacktestDone {
            result: Err(failure),
            ..
        } = &got[0]
        else {
            panic!("{got:?}")
        };
        assert!(failure.error.message.contains("SPY"), "{failure:?}");
    }
}
