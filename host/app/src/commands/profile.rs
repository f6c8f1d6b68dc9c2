//! `tickwork profile add|list|remove`: connection profiles (where TWS or IB Gateway listens).

use tickwork_core::store::open;
use tickwork_core::store::profiles::{self, ConnectionProfile};

use crate::cli::ProfileCommand;
use crate::context::{Context, runtime};

pub fn run(ctx: &Context, command: ProfileCommand) -> anyhow::Result<()> {
    let target = ctx.database_target()?;
    runtime()?.block_on(async move {
        let opened = open(target, true).await?;
        let pool = opened.store.pool().clone();
        let result = async {
            match command {
                ProfileCommand::Add(args) => {
                    let profile = ConnectionProfile {
                        name: args.name,
                        host: args.host,
                        port: i32::from(args.port),
                        client_id: args.client_id,
                        account: args.account,
                        read_only: !args.allow_trading,
                        allow_remote: args.allow_remote,
                        auto_client_id: args.auto_client_id,
                    };
                    profiles::save(&pool, &profile).await?;
                    println!(
                        "profile {}: {}:{} client id {}{}",
                        profile.name,
                        profile.host,
                        profile.port,
                        profile.client_id,
                        if profile.read_only {
                            ", read-only"
                        } else {
                            ", trading may be armed"
                        }
                    );
                }
                ProfileCommand::List => {
                    for p in profiles::list(&pool).await? {
                        println!(
                            "{:<16} {}:{:<6} client {:<4} {}{}{}",
                            p.name,
                            p.host,
                            p.port,
                            p.client_id,
                            if p.read_only { "read-only" } else { "trading" },
                            if p.auto_client_id {
                                " auto-client-id"
                            } else {
                                ""
                            },
                            p.account
                                .map(|a| format!(" account {a}"))
                                .unwrap_or_default(),
                        );
                    }
                }
                ProfileCommand::Remove { name } => {
                    anyhow::ensure!(
                        profiles::delete(&pool, &name).await?,
                        "no profile named {name}"
                    );
                    println!("profile {name} removed");
                }
            }
            anyhow::Ok(())
        }
        .await;
        opened.close().await?;
        result
    })
}
