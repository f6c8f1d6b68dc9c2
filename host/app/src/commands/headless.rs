//! `tickwork headless`: the session and the recorder without a window, for a machine that
//! records all day. Survives TWS going away (the session reconnects) and stops cleanly on
//! SIGINT/SIGTERM with everything flushed.
//!
//! On stop it prints one line with how many ticks it received and what the recorder did with
//! them, e.g. `tickwork: stopped; received 1234 ticks; recorded 1234 ticks, 0 lost, 0 journal
//! segments left`: after a clean stop every received tick is a row in `ticks`.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use tickwork_core::domain::InstrumentSpec;
use tickwork_core::hub::Hub;
use tickwork_core::plugins::PluginEnv;
use tickwork_core::recorder::{Recorder, RecorderConfig};
use tickwork_core::risk::{RiskGate, RiskLimits, RiskView, order_path};
use tickwork_core::scripting::host::HostDeps;
use tickwork_core::session::{self, SessionConfig};
use tickwork_core::store::profiles::{self, ConnectionProfile};
use tickwork_core::store::{OpenStore, open, risk_limits};
use tokio::signal::unix::{SignalKind, signal};
use tokio::task::JoinHandle;

use crate::cli::HeadlessArgs;
use crate::context::{Context, runtime};

pub fn run(ctx: &Context, args: HeadlessArgs) -> anyhow::Result<()> {
    if args.profile.is_none() && args.port.is_none() {
        bail!("give --profile NAME, or --port P (with --host and --client-id)");
    }
    let target = ctx.database_target()?;
    let journal_dir = ctx.paths.state_dir.join("recorder");
    // No display: plugin panels are skipped.
    let plugin_env = PluginEnv::from_paths(&ctx.paths, None);
    let rt = runtime()?;
    rt.block_on(async move {
        let opened = open(target, true).await?;
        // Whatever happens next, the database (and the embedded server) is closed explicitly.
        let result = record(&opened, args, journal_dir, plugin_env).await;
        let closed = opened.close().await;
        result?;
        closed?;
        anyhow::Ok(())
    })
}

async fn record(
    opened: &OpenStore,
    args: HeadlessArgs,
    journal_dir: std::path::PathBuf,
    plugin_env: PluginEnv,
) -> anyhow::Result<()> {
    let pool = opened.store.pool().clone();
    let profile = match (&args.profile, args.port) {
        (Some(name), _) => profiles::get(&pool, name)
            .await?
            .with_context(|| format!("--profile {name}: no such connection profile"))?,
        (None, Some(port)) => ConnectionProfile {
            name: "headless".into(),
            host: args.host.clone(),
            port: i32::from(port),
            client_id: args.client_id,
            account: None,
            read_only: !args.allow_trading,
            allow_remote: args.allow_remote,
            auto_client_id: true,
        },
        (None, None) => bail!("give --profile NAME, or --port P (with --host and --client-id)"),
    };
    profile.validate()?;
    // Strategies are checked before anything connects: a bad script stops here.
    let planned = super::headless_strategies::plan(&args, profile.account.as_deref())?;
    if (planned.is_some() || !args.plugin_strategies.is_empty()) && args.arm && profile.read_only {
        bail!(
            "--arm: profile {} is read-only; strategies cannot trade through it (an ad hoc --port connection needs --allow-trading)",
            profile.name
        );
    }
    let plugins = load_plugins(&pool, &plugin_env).await?;
    // Plugin strategies are checked once their plugins are loaded, still before connecting.
    let planned_plugins =
        super::headless_plugins::plan(&args, profile.account.as_deref(), &plugins)?;

    // Headless mode trades only through strategies (none yet): the gate stays disarmed, but it
    // carries every account's stored limits from the start.
    // A read-only profile's gate can never be armed.
    let mut gate = RiskGate::for_profile(profile.read_only, RiskLimits::default());
    let stored = risk_limits::load_all(&pool, &mut gate)
        .await
        .context("cannot load the stored risk limits")?;
    tracing::info!(accounts = stored, "loaded stored risk limits");
    let recorder = Recorder::start(pool.clone(), RecorderConfig::new(&journal_dir))?;
    let hub = Arc::new(Hub::new());
    let received = count_ticks(&hub);
    let (router, inbox) = order_path(gate, pool.clone());
    // Resends after a reconnect decide on the live view of quotes, positions and account.
    let view = RiskView::follow(&hub);
    router.set_context_source(view.context_source(pool.clone()));
    let (session, task) = session::spawn(
        SessionConfig::new(profile.clone()),
        hub.clone(),
        pool.clone(),
        inbox,
        Some(recorder.clone()),
    );
    for symbol in &args.watch {
        session.watch(InstrumentSpec::stock(symbol)).await?;
    }
    eprintln!(
        "tickwork: recording {} from {}:{} (client id {}); Ctrl-C to stop",
        if args.watch.is_empty() {
            "account and fills".to_owned()
        } else {
            args.watch.join(",")
        },
        profile.host,
        profile.port,
        profile.client_id
    );
    // Made per manager, so that without strategies nothing outlives the session holding the hub.
    let deps = || HostDeps {
        hub: hub.clone(),
        router: router.clone(),
        session: Some(session.clone()),
        pool: pool.clone(),
        view: view.clone(),
        simulator: false,
    };
    // Both kinds trade the same account (`--account` or the profile's).
    let account = planned
        .as_ref()
        .map(|p| p.account().to_owned())
        .or_else(|| planned_plugins.as_ref().map(|p| p.account().to_owned()));
    if let (true, Some(account)) = (args.arm, account) {
        router.arm(&account, "headless").await.context("--arm")?;
    }
    let strategies = match planned {
        Some(planned) => Some(super::headless_strategies::start(planned, deps()).await?),
        None => None,
    };
    let plugin_strategies = match planned_plugins {
        Some(planned) => Some(super::headless_plugins::start(planned, deps()).await?),
        None => None,
    };
    let mut sigterm = signal(SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = sigterm.recv() => {}
    }
    if let Some(strategies) = strategies {
        // Strategies stop first: `on_stop`, and their working orders cancelled while the
        // session can still send the cancels.
        strategies.stop_all().await;
    }
    if let Some(plugin_strategies) = plugin_strategies {
        // The same for plugin strategies: `destroy`, then their working orders cancelled.
        plugin_strategies.stop_all().await;
    }
    // The plugins' own shutdown, and the crash journal marked clean.
    drop(plugins);
    tickwork_core::plugins::shutdown_all();
    tracing::info!("stopping: disconnecting and flushing the recorder");
    session.stop().await;
    task.await.context("the session task failed")?;
    drop(session);
    // The session is gone, and with it every other holder of the hub: once ours goes too, the
    // tick counter sees the end of the stream after the last tick published.
    drop(hub);
    let received = match tokio::time::timeout(Duration::from_secs(10), received).await {
        Ok(Ok(count)) => Some(count),
        _ => {
            tracing::warn!("the tick counter did not finish; the received count is unknown");
            None
        }
    };
    let report = recorder.shutdown().await?;
    let s = report.stats;
    tracing::info!(
        received = received.unwrap_or_default(),
        written = s.written.ticks,
        lost = s.lost,
        journal_segments = s.journal_segments,
        "headless stopped"
    );
    eprintln!(
        "tickwork: stopped; received {} ticks; recorded {} ticks, {} lost, {} journal segments left",
        received.map_or_else(|| "an unknown number of".to_owned(), |n| n.to_string()),
        s.written.ticks,
        s.lost,
        s.journal_segments
    );
    Ok(())
}

/// Loads the trusted, enabled native plugins (a plugin that crashed the last run is disabled
/// first, with the reason): their margin rules count in the gate's margin check from here on.
/// Every bundle that is not loaded is named on the console with the reason.
async fn load_plugins(
    pool: &sqlx::PgPool,
    env: &PluginEnv,
) -> anyhow::Result<tickwork_core::plugins::LoadedPlugins> {
    let loaded = tickwork_core::plugins::load_all(pool, env)
        .await
        .context("cannot load the plugins")?;
    for report in &loaded.reports {
        match report.status.reason() {
            None => tracing::info!(plugin = %report.id, "plugin {}", report.status.name()),
            Some(reason) => eprintln!(
                "tickwork: plugin {} {}: {reason}",
                report.id,
                report.status.name()
            ),
        }
    }
    Ok(loaded)
}

/// Counts the ticks the session publishes: the same ticks, in the same numbers, that it hands
/// to the recorder. Ends when the hub does; ticks a slow counter missed are counted from the
/// hub's overflow report, so the count stays exact.
fn count_ticks(hub: &Hub) -> JoinHandle<u64> {
    let mut ticks = hub.subscribe_ticks();
    tokio::spawn(async move {
        let mut count = 0u64;
        while let Some(tick) = ticks.recv().await {
            count += match tick {
                Ok(_) => 1,
                Err(overflow) => overflow.missed,
            };
        }
        count
    })
}
