//! `tickwork db migrate` and `tickwork db status`.
//!
//! Both name the database they used: the server's URL with any secret redacted, or the
//! embedded cluster's directory.

use std::io::Write as _;

use tickwork_core::config::redact_urls;
use tickwork_core::store::{DbStatus, MigrationState, open};

use crate::cli::{DbCommand, DbStatusArgs};
use crate::context::{Context, runtime};

pub fn run(ctx: &Context, command: DbCommand) -> anyhow::Result<()> {
    let target = ctx.database_target()?;
    let rt = runtime()?;
    rt.block_on(async move {
        let migrate = !matches!(
            command,
            DbCommand::Status(DbStatusArgs {
                no_migrate: true,
                ..
            })
        );
        let opened = open(target, migrate).await?;
        let database = redact_urls(opened.describe());
        let result = async {
            let status = opened.store.status().await?;
            match &command {
                DbCommand::Migrate => {
                    let applied = status
                        .migrations
                        .iter()
                        .filter(|m| m.state == MigrationState::Applied)
                        .count();
                    println!("{database}: {applied} migrations applied; database is up to date");
                }
                DbCommand::Status(args) if args.json => {
                    let mut json = serde_json::to_value(&status)?;
                    json["database"] = database.clone().into();
                    let mut out = std::io::stdout().lock();
                    serde_json::to_writer_pretty(&mut out, &json)?;
                    writeln!(out)?;
                }
                DbCommand::Status(_) => print!("Database  {database}\n{}", render(&status)),
            }
            anyhow::Ok(())
        }
        .await;
        opened.close().await?;
        result
    })
}

fn render(status: &DbStatus) -> String {
    let mut out = String::from("Migrations\n");
    for m in &status.migrations {
        let state = match m.state {
            MigrationState::Applied => "applied",
            MigrationState::Pending => "pending",
            MigrationState::Unknown => "unknown to this build",
        };
        let at = m
            .applied_at
            .map(|t| t.format(" %Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_default();
        out.push_str(&format!(
            "  {:>14}  {:<8} {}{}\n",
            m.version, state, m.description, at
        ));
    }
    out.push_str("Tables (rows)\n");
    let width = status.tables.keys().map(String::len).max().unwrap_or(0);
    for (table, rows) in &status.tables {
        out.push_str(&format!("  {table:<width$}  {rows:>12}\n"));
    }
    out
}
