//! `tickwork headless`: the session and the recorder without a window, for a machine that
//! records all day. Survives TWS going away (the session reconnects) and stops cleanly on
//! SIGINT/SIGTERM with everything flushed.

use std::sync::Arc;

use anyhow::{Context as _, bail};
use tickwork_core::domain::InstrumentSpec;
use tickwork_core::hub::Hub;
use tickwork_core::recorder::{Recorder, RecorderConfig};
use tickwork_core::risk::{OrderRouter, RiskGate, RiskLimits};
use tickwork_core::session::{self, SessionConfig};
use tickwork_core::store::open;
use tickwork_core::store::profiles::{self, ConnectionProfile};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use crate::cli::HeadlessArgs;
use crate::context::{Context, runtime};

pub fn run(ctx: &Context, args: HeadlessArgs) -> anyhow::Result<()> {
    if args.profile.is_none() && args.port.is_none() {
        bail!("give --profile NAME, or --port P (with --host and --client-id)");
    }
    let target = ctx.database_target()?;
    let journal_dir = ctx.paths.state_dir.join("recorder");
    let rt = runtime()?;
    rt.block_on(async move {
        let opened = open(target, true).await?;
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
                read_only: true,
                allow_remote: args.allow_remote,
                auto_client_id: true,
            },
            (None, None) => bail!("give --profile NAME, or --port P (with --host and --client-id)"),
        };
        profile.validate()?;
        let recorder = Recorder::start(pool.clone(), RecorderConfig::new(&journal_dir))?;
        let hub = Arc::new(Hub::new());
        // Headless mode trades only through strategies (none yet): the gate stays disarmed.
        let (orders_tx, orders_rx) = mpsc::channel(64);
        let _router = OrderRouter::new(
            RiskGate::new(RiskLimits::default()),
            pool.clone(),
            orders_tx,
        );
        let (session, task) = session::spawn(
            SessionConfig::new(profile.clone()),
            hub,
            pool.clone(),
            orders_rx,
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
        let mut sigterm = signal(SignalKind::terminate())?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = sigterm.recv() => {}
        }
        tracing::info!("stopping: disconnecting and flushing the recorder");
        session.stop().await;
        task.await.context("the session task failed")?;
        let report = recorder.shutdown().await?;
        eprintln!("tickwork: stopped; {:?}", report.stats);
        opened.close().await?;
        anyhow::Ok(())
    })
}
