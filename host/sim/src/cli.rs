//! Command line: `tickwork-sim` and `tickwork sim` share [`SimArgs`] and [`run_cli`]. Faults are
//! triggered while running through a line-based control port and Unix signals.

use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tracing::{info, warn};

use crate::config::{SimConfig, SimError};
use crate::faults::Fault;
use crate::{FaultInjector, SimHandle, Simulator};

/// Options of the standalone simulator.
#[derive(clap::Args, Debug, Clone)]
pub struct SimArgs {
    /// TCP port of the TWS API (7497 is TWS paper trading).
    #[arg(long, default_value_t = 7497)]
    pub port: u16,
    /// Seed of the instrument universe, prices and bars.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Highest server version to answer: 226, 213 or 178.
    #[arg(long = "max-version", value_name = "V", default_value_t = 226, value_parser = parse_max_version)]
    pub max_version: u32,
    /// Quote updates per second per subscribed instrument (raise it for throughput tests).
    #[arg(long = "tick-rate", value_name = "N", default_value_t = 4.0)]
    pub tick_rate: f64,
    /// Port of the fault-injection control port on 127.0.0.1 (one command per line,
    /// e.g. `stall 500`); disabled when absent.
    #[arg(long = "control-port", value_name = "P")]
    pub control_port: Option<u16>,
}

fn parse_max_version(s: &str) -> Result<u32, String> {
    match s.parse::<u32>() {
        Ok(v @ (226 | 213 | 178)) => Ok(v),
        _ => Err("must be 226, 213 or 178".into()),
    }
}

impl SimArgs {
    /// The configuration these options describe.
    pub fn config(&self) -> SimConfig {
        SimConfig {
            port: self.port,
            seed: self.seed,
            max_version: self.max_version,
            tick_rate: self.tick_rate,
            ..SimConfig::default()
        }
    }
}

/// Runs the simulator on its own runtime until SIGINT or SIGTERM.
pub fn run_cli(args: SimArgs) -> Result<(), SimError> {
    let cfg = args.config();
    cfg.validate()?;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .try_init();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let sim = Arc::new(Simulator::start(cfg).await?);
        println!(
            "tickwork-sim: TWS API on {} (max version {})",
            sim.local_addr(),
            args.max_version
        );
        if let Some(port) = args.control_port {
            let listener = TcpListener::bind(("127.0.0.1", port))
                .await
                .map_err(|source| SimError::Bind {
                    addr: format!("127.0.0.1:{port}"),
                    source,
                })?;
            println!("tickwork-sim: control port on 127.0.0.1:{port}");
            tokio::spawn(serve_control(listener, sim.injector()));
        }
        wait_for_signals(&sim).await?;
        info!("shutting down");
        if let Ok(sim) = Arc::try_unwrap(sim) {
            sim.shutdown().await;
        }
        Ok(())
    })
}

/// SIGUSR1 drops all connections, SIGUSR2 simulates a 1100/1102 outage of one second, SIGHUP a
/// TWS restart; SIGINT and SIGTERM return.
async fn wait_for_signals(sim: &SimHandle) -> Result<(), SimError> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut usr1 = signal(SignalKind::user_defined1())?;
    let mut usr2 = signal(SignalKind::user_defined2())?;
    let mut hup = signal(SignalKind::hangup())?;
    loop {
        tokio::select! {
            _ = term.recv() => return Ok(()),
            _ = int.recv() => return Ok(()),
            _ = usr1.recv() => sim.inject(Fault::DropConnections),
            _ = usr2.recv() => sim.inject(Fault::ConnectivityLoss {
                restore_after: std::time::Duration::from_secs(1),
                data_kept: true,
            }),
            _ = hup.recv() => sim.inject(Fault::Restart { down_for: std::time::Duration::from_secs(1) }),
        }
    }
}

/// Serves the line-based control port on `listener`: one command per line (see
/// [`Fault`]'s `FromStr`, plus `status`), answered with `ok` or `error: ...`.
pub async fn serve_control(listener: TcpListener, injector: FaultInjector) {
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            continue;
        };
        let injector = injector.clone();
        tokio::spawn(async move {
            let (rd, mut wr) = stream.into_split();
            let mut lines = BufReader::new(rd).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let line = line.trim();
                if line.is_empty() {
                    continue;
                }
                let reply = if line == "status" {
                    format!("ok connections={}\n", injector.connections())
                } else {
                    match line.parse::<Fault>() {
                        Ok(f) => {
                            injector.inject(f);
                            "ok\n".to_string()
                        }
                        Err(e) => {
                            warn!(%peer, "control: {e}");
                            format!("error: {e}\n")
                        }
                    }
                };
                if wr.write_all(reply.as_bytes()).await.is_err() {
                    break;
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct Cli {
        #[command(flatten)]
        sim: SimArgs,
    }

    #[test]
    fn defaults_and_max_version_values() {
        let cli = Cli::try_parse_from(["t"]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (cli.sim.port, cli.sim.seed, cli.sim.max_version),
            (7497, 1, 226)
        );
        assert!(cli.sim.config().validate().is_ok());
        for v in ["226", "213", "178"] {
            assert!(Cli::try_parse_from(["t", "--max-version", v]).is_ok());
        }
        let err = Cli::try_parse_from(["t", "--max-version", "200"])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.lines()
                .next()
                .is_some_and(|l| l.contains("must be 226, 213 or 178")),
            "{err}"
        );
        let bad_rate =
            Cli::try_parse_from(["t", "--tick-rate", "0"]).unwrap_or_else(|e| panic!("{e}"));
        assert!(bad_rate.sim.config().validate().is_err());
    }
}
