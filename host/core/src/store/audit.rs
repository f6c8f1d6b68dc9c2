//! The audit log: every order intent, risk decision and sensitive action. Append-only — the
//! schema refuses UPDATE, DELETE and TRUNCATE for every role, so history cannot be rewritten.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgPool;

use super::StoreError;

/// What to append.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// Who acted: `ui`, `script:<name>`, `plugin:<id>/<instance>`, `system`.
    pub actor: String,
    /// What was attempted, e.g. `order.intent`, `trading.arm`, `plugin.trust`.
    pub action: String,
    /// `allowed` / `denied` for gate decisions; `None` for plain records.
    pub decision: Option<String>,
    pub reason: Option<String>,
    pub details: Value,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AuditRecord {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub decision: Option<String>,
    pub reason: Option<String>,
    pub details: Value,
}

/// Appends an entry and returns its id.
pub async fn append(pool: &PgPool, entry: &AuditEntry) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO audit_log (actor, action, decision, reason, details) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(&entry.actor)
    .bind(&entry.action)
    .bind(&entry.decision)
    .bind(&entry.reason)
    .bind(&entry.details)
    .fetch_one(pool)
    .await?)
}

/// The newest `limit` entries, newest first.
pub async fn recent(pool: &PgPool, limit: i64) -> Result<Vec<AuditRecord>, StoreError> {
    Ok(
        sqlx::query_as("SELECT * FROM audit_log ORDER BY id DESC LIMIT $1")
            .bind(limit)
            .fetch_all(pool)
            .await?,
    )
}

/// Entries after `id`, oldest first: how a viewer follows the log.
pub async fn after(pool: &PgPool, id: i64, limit: i64) -> Result<Vec<AuditRecord>, StoreError> {
    Ok(
        sqlx::query_as("SELECT * FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(id)
            .bind(limit)
            .fetch_all(pool)
            .await?,
    )
}

/// Every entry about one order (its intent, modifications, cancels, resends), oldest first:
/// the entries whose details carry that `order_ref`.
pub async fn for_order(pool: &PgPool, order_ref: &str) -> Result<Vec<AuditRecord>, StoreError> {
    Ok(
        sqlx::query_as("SELECT * FROM audit_log WHERE details->>'order_ref' = $1 ORDER BY id")
            .bind(order_ref)
            .fetch_all(pool)
            .await?,
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn denied() -> AuditEntry {
        AuditEntry {
            actor: "script:sma".into(),
            action: "order.intent".into(),
            decision: Some("denied".into()),
            reason: Some("max quantity 100 exceeded by 250".into()),
            details: json!({"symbol": "AAPL", "qty": "250"}),
        }
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn append_and_read_back(pool: PgPool) {
        let first = append(&pool, &denied()).await.unwrap();
        let second = append(
            &pool,
            &AuditEntry {
                decision: None,
                reason: None,
                ..denied()
            },
        )
        .await
        .unwrap();
        assert!(second > first);
        let newest = recent(&pool, 1).await.unwrap();
        assert_eq!(newest[0].id, second);
        let followed = after(&pool, first, 10).await.unwrap();
        assert_eq!(followed.len(), 1);
        let all = after(&pool, 0, 10).await.unwrap();
        assert_eq!(all[0].details, json!({"symbol": "AAPL", "qty": "250"}));
        assert_eq!(
            all[0].reason.as_deref(),
            Some("max quantity 100 exceeded by 250")
        );
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn for_order_finds_every_entry_of_that_order_only(pool: PgPool) {
        let entry = |action: &str, details| AuditEntry {
            actor: "ui".into(),
            action: action.into(),
            decision: None,
            reason: None,
            details,
        };
        let intent = append(
            &pool,
            &entry(
                "order.intent",
                json!({"symbol": "AAPL", "order_ref": "tw-a"}),
            ),
        )
        .await
        .unwrap();
        append(&pool, &entry("order.intent", json!({"order_ref": "tw-b"})))
            .await
            .unwrap();
        append(&pool, &entry("trading.arm", json!({"account": "DU1"})))
            .await
            .unwrap();
        let cancel = append(&pool, &entry("order.cancel", json!({"order_ref": "tw-a"})))
            .await
            .unwrap();
        let found = for_order(&pool, "tw-a").await.unwrap();
        assert_eq!(
            found.iter().map(|r| r.id).collect::<Vec<_>>(),
            vec![intent, cancel]
        );
        assert_eq!(found[1].action, "order.cancel");
        assert!(for_order(&pool, "tw-none").await.unwrap().is_empty());
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn history_cannot_be_rewritten(pool: PgPool) {
        let id = append(&pool, &denied()).await.unwrap();
        for statement in [
            "UPDATE audit_log SET decision = 'allowed'",
            "DELETE FROM audit_log",
            "TRUNCATE audit_log",
        ] {
            let err = sqlx::query(statement).execute(&pool).await.unwrap_err();
            assert!(
                err.to_string().contains("append-only"),
                "{statement}: {err}"
            );
        }
        assert_eq!(recent(&pool, 10).await.unwrap()[0].id, id);
        assert_eq!(
            recent(&pool, 10).await.unwrap()[0].decision.as_deref(),
            Some("denied")
        );
    }
}
