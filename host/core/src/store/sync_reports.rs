//! Reconciliation reports written after every (re)synchronisation with TWS.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgPool;

use super::StoreError;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SyncReportRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub profile: String,
    pub reason: String,
    pub report: Value,
}

pub async fn insert(
    pool: &PgPool,
    profile: &str,
    reason: &str,
    report: &Value,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO sync_reports (profile, reason, report) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(profile)
    .bind(reason)
    .bind(report)
    .fetch_one(pool)
    .await?)
}

/// The newest reports first.
pub async fn recent(pool: &PgPool, limit: i64) -> Result<Vec<SyncReportRow>, StoreError> {
    Ok(
        sqlx::query_as("SELECT * FROM sync_reports ORDER BY id DESC LIMIT $1")
            .bind(limit)
            .fetch_all(pool)
            .await?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[sqlx::test(migrations = "../../migrations")]
    async fn insert_and_read_newest_first(pool: PgPool) {
        insert(
            &pool,
            "paper",
            "connect",
            &serde_json::json!({"orders_unknown": []}),
        )
        .await
        .unwrap();
        let id = insert(
            &pool,
            "paper",
            "1101",
            &serde_json::json!({"executions_added": 2}),
        )
        .await
        .unwrap();
        let rows = recent(&pool, 5).await.unwrap();
        assert_eq!(rows[0].id, id);
        assert_eq!(rows[0].report["executions_added"], 2);
        assert_eq!(rows.len(), 2);
    }
}
