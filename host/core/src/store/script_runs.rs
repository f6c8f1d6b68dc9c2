//! What running strategies leave in PostgreSQL: the live-trading grants (per script and
//! account, pinned to the script's content hash) and each instance's parameters, `state`,
//! status and fault, so an instance can go on after a restart.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::StoreError;

/// The user's grant for a script to trade an account live, for one version of its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub script: String,
    pub account: String,
    pub content_sha256: String,
    pub granted_by: String,
    pub granted_at: DateTime<Utc>,
}

/// Grants `script` live trading on `account` for the text with this hash (replacing an
/// earlier grant, which an edit has made worthless anyway).
pub async fn grant(
    pool: &PgPool,
    script: &str,
    account: &str,
    content_sha256: &str,
    granted_by: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO script_grants (script, account, content_sha256, granted_by) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (script, account) DO UPDATE \
         SET content_sha256 = $3, granted_by = $4, granted_at = now()",
    )
    .bind(script)
    .bind(account)
    .bind(content_sha256)
    .bind(granted_by)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn revoke(pool: &PgPool, script: &str, account: &str) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM script_grants WHERE script = $1 AND account = $2")
        .bind(script)
        .bind(account)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn grant_for(
    pool: &PgPool,
    script: &str,
    account: &str,
) -> Result<Option<Grant>, StoreError> {
    let row: Option<(String, String, String, String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT script, account, content_sha256, granted_by, granted_at FROM script_grants \
         WHERE script = $1 AND account = $2",
    )
    .bind(script)
    .bind(account)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(
        |(script, account, content_sha256, granted_by, granted_at)| Grant {
            script,
            account,
            content_sha256,
            granted_by,
            granted_at,
        },
    ))
}

/// Paper or live: which an instance is (one row per script, account and mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunMode {
    Paper,
    Live,
}

crate::domain::spelled_enum!(RunMode, "run mode", { Paper => "paper", Live => "live" });

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceStatus {
    Running,
    Stopped,
    Faulted,
}

crate::domain::spelled_enum!(InstanceStatus, "instance status", {
    Running => "running", Stopped => "stopped", Faulted => "faulted",
});

/// One instance as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceRow {
    pub script: String,
    pub account: String,
    pub mode: RunMode,
    pub content_sha256: String,
    pub params: serde_json::Value,
    pub state: serde_json::Value,
    pub next_intent: i64,
    pub status: InstanceStatus,
    pub fault: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// What is saved of an instance as it runs.
#[derive(Debug, Clone, Copy)]
pub struct SavedState<'a> {
    pub content_sha256: &'a str,
    pub params: &'a serde_json::Value,
    pub state: &'a serde_json::Value,
    /// The next intent id, so ids never repeat after a restart.
    pub next_intent: i64,
}

/// Saves an instance's parameters and state, marking it running.
pub async fn save_state(
    pool: &PgPool,
    script: &str,
    account: &str,
    mode: RunMode,
    saved: SavedState<'_>,
) -> Result<(), StoreError> {
    let state = serde_json::json!({ "state": saved.state, "next_intent": saved.next_intent });
    sqlx::query(
        "INSERT INTO script_instances (script, account, mode, content_sha256, params, state, status) \
         VALUES ($1, $2, $3, $4, $5, $6, 'running') ON CONFLICT (script, account, mode) DO UPDATE \
         SET content_sha256 = $4, params = $5, state = $6, status = 'running', fault = NULL, \
         updated_at = now()",
    )
    .bind(script)
    .bind(account)
    .bind(mode.as_str())
    .bind(saved.content_sha256)
    .bind(saved.params)
    .bind(state)
    .execute(pool)
    .await?;
    Ok(())
}

/// Records whether the instance runs, stopped, or faulted (with the error).
pub async fn set_status(
    pool: &PgPool,
    script: &str,
    account: &str,
    mode: RunMode,
    status: InstanceStatus,
    fault: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE script_instances SET status = $4, fault = $5, updated_at = now() \
         WHERE script = $1 AND account = $2 AND mode = $3",
    )
    .bind(script)
    .bind(account)
    .bind(mode.as_str())
    .bind(status.as_str())
    .bind(fault)
    .execute(pool)
    .await?;
    Ok(())
}

type Row = (
    String,
    String,
    String,
    String,
    serde_json::Value,
    serde_json::Value,
    String,
    Option<String>,
    DateTime<Utc>,
);

const COLUMNS: &str =
    "script, account, mode, content_sha256, params, state, status, fault, updated_at";

fn from_row(
    (script, account, mode, content_sha256, params, saved, status, fault, updated_at): Row,
) -> Result<InstanceRow, StoreError> {
    let corrupt = || StoreError::Corrupt {
        what: "strategy instance state",
        message: format!("{script} on {account}: not {{state, next_intent}}"),
    };
    let next_intent = saved
        .get("next_intent")
        .and_then(serde_json::Value::as_i64)
        .ok_or_else(corrupt)?;
    let state = saved.get("state").cloned().ok_or_else(corrupt)?;
    Ok(InstanceRow {
        mode: super::parse_column(&mode)?,
        status: super::parse_column(&status)?,
        script,
        account,
        content_sha256,
        params,
        state,
        next_intent,
        fault,
        updated_at,
    })
}

pub async fn get(
    pool: &PgPool,
    script: &str,
    account: &str,
    mode: RunMode,
) -> Result<Option<InstanceRow>, StoreError> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM script_instances WHERE script = $1 AND account = $2 AND mode = $3"
    ))
    .bind(script)
    .bind(account)
    .bind(mode.as_str())
    .fetch_optional(pool)
    .await?;
    row.map(from_row).transpose()
}

pub async fn list(pool: &PgPool) -> Result<Vec<InstanceRow>, StoreError> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM script_instances ORDER BY script, account, mode"
    ))
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(from_row).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[sqlx::test(migrations = "../../migrations")]
    async fn grants_follow_the_content_hash(pool: PgPool) {
        let (a, b) = ("a".repeat(64), "b".repeat(64));
        assert!(grant_for(&pool, "sma", "DU1").await.unwrap().is_none());
        grant(&pool, "sma", "DU1", &a, "ui").await.unwrap();
        grant(&pool, "sma", "DU1", &b, "ui").await.unwrap();
        assert_eq!(
            grant_for(&pool, "sma", "DU1")
                .await
                .unwrap()
                .unwrap()
                .content_sha256,
            b
        );
        assert!(
            grant(&pool, "sma", "DU1", "not-a-hash", "ui")
                .await
                .is_err()
        );
        assert!(revoke(&pool, "sma", "DU1").await.unwrap());
        assert!(grant_for(&pool, "sma", "DU1").await.unwrap().is_none());
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn instance_state_and_status_round_trip(pool: PgPool) {
        let hash = "c".repeat(64);
        let state = json!({ "n": 3, "px": { "$decimal": "1.25" } });
        let saved = SavedState {
            content_sha256: &hash,
            params: &json!({"fast": 5}),
            state: &state,
            next_intent: 7,
        };
        save_state(&pool, "sma", "DU1", RunMode::Paper, saved)
            .await
            .unwrap();
        set_status(
            &pool,
            "sma",
            "DU1",
            RunMode::Paper,
            InstanceStatus::Faulted,
            Some("3:5: boom"),
        )
        .await
        .unwrap();
        let row = get(&pool, "sma", "DU1", RunMode::Paper)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((row.state, row.next_intent), (state, 7));
        assert_eq!(
            (row.status, row.fault.as_deref()),
            (InstanceStatus::Faulted, Some("3:5: boom"))
        );
        assert!(
            get(&pool, "sma", "DU1", RunMode::Live)
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(list(&pool).await.unwrap().len(), 1);
    }
}
