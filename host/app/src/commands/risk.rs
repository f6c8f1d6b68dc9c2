//! `tickwork risk show [ACCOUNT] [--json]` and `tickwork risk set ACCOUNT KEY=VALUE …`:
//! per-account risk limits in the database. Every change is written to the audit log in the
//! same transaction as the change (actor `cli`, action `risk.limits_set`).

use std::io::Write as _;

use anyhow::bail;
use serde_json::{Value, json};
use tickwork_core::risk::RiskLimits;
use tickwork_core::store::risk_limits::{self, StoredRiskLimits, UpdateError};
use tickwork_core::store::{Store, open};

use crate::cli::RiskCommand;
use crate::context::{Context, runtime};

pub fn run(ctx: &Context, command: RiskCommand) -> anyhow::Result<()> {
    // Arguments first: a typo is reported without starting a database.
    let changes = match &command {
        RiskCommand::Set { changes, .. } => parse_changes(changes)?,
        RiskCommand::Show { .. } => Vec::new(),
    };
    let target = ctx.database_target()?;
    runtime()?.block_on(async move {
        let opened = open(target, true).await?;
        let result = match command {
            RiskCommand::Show { account, json } => show(&opened.store, account, json).await,
            RiskCommand::Set { account, .. } => set(&opened.store, &account, changes).await,
        };
        opened.close().await?;
        result
    })
}

/// `KEY=VALUE` arguments, split; a missing `=` or key is an error naming the argument.
fn parse_changes(args: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    args.iter()
        .map(|arg| match arg.split_once('=') {
            Some((key, value)) if !key.trim().is_empty() => {
                Ok((key.trim().to_owned(), value.to_owned()))
            }
            _ => bail!(
                "`{}`: expected KEY=VALUE, e.g. max_quantity=200",
                arg.escape_default()
            ),
        })
        .collect()
}

async fn set(store: &Store, account: &str, changes: Vec<(String, String)>) -> anyhow::Result<()> {
    let change = risk_limits::update_audited(store.pool(), account, "cli", move |limits| {
        for (key, value) in &changes {
            limits.apply(key, value)?;
        }
        Ok(())
    })
    .await;
    let change = match change {
        Ok(change) => change,
        Err(UpdateError::Invalid(message)) => bail!("risk set {account}: {message}"),
        Err(UpdateError::Store(err)) => return Err(err.into()),
    };
    let defaults = RiskLimits::default();
    let before = change.old.as_ref().unwrap_or(&defaults);
    let mut out = std::io::stdout().lock();
    let mut changed = 0;
    for ((key, old), (_, new)) in before.entries().into_iter().zip(change.new.entries()) {
        if old != new {
            writeln!(out, "{account}: {key} {old} -> {new}")?;
            changed += 1;
        }
    }
    if changed == 0 {
        writeln!(out, "{account}: limits stored, no value changed")?;
    }
    if change.old.is_none() {
        writeln!(
            out,
            "{account}: now has stored limits (the other keys keep the defaults' values)"
        )?;
    }
    Ok(())
}

async fn show(store: &Store, account: Option<String>, json: bool) -> anyhow::Result<()> {
    let pool = store.pool();
    let mut out = std::io::stdout().lock();
    match account {
        Some(account) => {
            let stored = risk_limits::get_stored(pool, &account).await?;
            if json {
                serde_json::to_writer_pretty(&mut out, &account_json(&account, stored.as_ref()))?;
                writeln!(out)?;
                return Ok(());
            }
            let (limits, header) = match &stored {
                Some(s) => (
                    s.limits.clone(),
                    format!(
                        "{account}: stored limits (updated {})",
                        s.updated_at.format("%Y-%m-%d %H:%M:%S UTC")
                    ),
                ),
                None => (
                    RiskLimits::default(),
                    format!("{account}: defaults (no limits stored for this account)"),
                ),
            };
            writeln!(out, "{header}")?;
            for (key, value) in limits.entries() {
                writeln!(out, "  {key:<22} {value}")?;
            }
        }
        None => {
            let stored = risk_limits::list(pool).await?;
            if json {
                let accounts: Vec<Value> = stored
                    .iter()
                    .map(|s| account_json(&s.account, Some(s)))
                    .collect();
                let all = json!({"defaults": RiskLimits::default(), "accounts": accounts});
                serde_json::to_writer_pretty(&mut out, &all)?;
                writeln!(out)?;
                return Ok(());
            }
            write!(out, "{}", table(&stored))?;
            if stored.is_empty() {
                writeln!(
                    out,
                    "No account has stored limits: every account trades under the defaults. \
                     `tickwork risk set ACCOUNT KEY=VALUE` stores some."
                )?;
            }
        }
    }
    Ok(())
}

/// `{"account", "source": "stored" | "defaults", "updated_at", "limits"}`.
fn account_json(account: &str, stored: Option<&StoredRiskLimits>) -> Value {
    match stored {
        Some(s) => json!({
            "account": account,
            "source": "stored",
            "updated_at": s.updated_at,
            "limits": s.limits,
        }),
        None => json!({
            "account": account,
            "source": "defaults",
            "updated_at": null,
            "limits": RiskLimits::default(),
        }),
    }
}

/// One row per key; a DEFAULTS column, then one column per account with stored limits.
fn table(stored: &[StoredRiskLimits]) -> String {
    let defaults = RiskLimits::default();
    let mut columns: Vec<(String, Vec<(&'static str, String)>)> =
        vec![("DEFAULTS".to_owned(), defaults.entries())];
    columns.extend(
        stored
            .iter()
            .map(|s| (s.account.clone(), s.limits.entries())),
    );
    let widths: Vec<usize> = columns
        .iter()
        .map(|(name, entries)| {
            entries
                .iter()
                .map(|(_, v)| v.len())
                .chain([name.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = format!("{:<22}", "KEY");
    for ((name, _), width) in columns.iter().zip(&widths) {
        out.push_str(&format!("  {name:<width$}"));
    }
    out = out.trim_end().to_owned();
    out.push('\n');
    for (row, (key, _)) in defaults.entries().iter().enumerate() {
        let mut line = format!("{key:<22}");
        for ((_, entries), width) in columns.iter().zip(&widths) {
            line.push_str(&format!("  {:<width$}", entries[row].1));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
