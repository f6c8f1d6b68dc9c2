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

/// Which entries the audit viewer shows. Every field is optional; all given ones must match.
/// Values are bound as parameters, never spliced into the SQL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// The actor: exact (`ui`, `system`), or every actor of a kind when it ends with `*`
    /// (`script:*`, `plugin:*`).
    pub origin: Option<String>,
    /// `details->>'account'`.
    pub account: Option<String>,
    /// The action: exact (`order.intent`), or a prefix when it ends with `*` (`trading.*`).
    pub action: Option<String>,
    /// Entries at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Paging back: entries older than this id.
    pub before_id: Option<i64>,
    /// Following: entries newer than this id.
    pub after_id: Option<i64>,
    /// Most entries returned (newest first).
    pub limit: i64,
}

/// `(exact, prefix)` for a pattern that may end with `*`.
fn pattern(value: Option<&str>) -> (Option<&str>, Option<&str>) {
    match value {
        None => (None, None),
        Some(v) => match v.strip_suffix('*') {
            Some(prefix) => (None, Some(prefix)),
            None => (Some(v), None),
        },
    }
}

/// The entries matching `filter`, newest first.
pub async fn filtered(pool: &PgPool, filter: &AuditFilter) -> Result<Vec<AuditRecord>, StoreError> {
    let (actor, actor_prefix) = pattern(filter.origin.as_deref());
    let (action, action_prefix) = pattern(filter.action.as_deref());
    Ok(sqlx::query_as(
        "SELECT * FROM audit_log \
         WHERE ($1::text IS NULL OR actor = $1) \
           AND ($2::text IS NULL OR left(actor, length($2)) = $2) \
           AND ($3::text IS NULL OR action = $3) \
           AND ($4::text IS NULL OR left(action, length($4)) = $4) \
           AND ($5::text IS NULL OR details->>'account' = $5) \
           AND ($6::timestamptz IS NULL OR at >= $6) \
           AND ($7::bigint IS NULL OR id < $7) \
           AND ($8::bigint IS NULL OR id > $8) \
         ORDER BY id DESC LIMIT $9",
    )
    .bind(actor)
    .bind(actor_prefix)
    .bind(action)
    .bind(action_prefix)
    .bind(filter.account.as_deref())
    .bind(filter.since)
    .bind(filter.before_id)
    .bind(filter.after_id)
    .bind(filter.limit.max(0))
    .fetch_all(pool)
    .await?)
}

/// What the viewer's filters can offer: the distinct actors, actions and accounts logged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFacets {
    pub actors: Vec<String>,
    pub actions: Vec<String>,
    pub accounts: Vec<String>,
}

pub async fn facets(pool: &PgPool) -> Result<AuditFacets, StoreError> {
    let distinct = |column: &'static str| async move {
        sqlx::query_scalar::<_, String>(column)
            .fetch_all(pool)
            .await
    };
    Ok(AuditFacets {
        actors: distinct("SELECT DISTINCT actor FROM audit_log ORDER BY 1").await?,
        actions: distinct("SELECT DISTINCT action FROM audit_log ORDER BY 1").await?,
        accounts: distinct(
            "SELECT DISTINCT details->>'account' FROM audit_log \
             WHERE details->>'account' IS NOT NULL ORDER BY 1",
        )
        .await?,
    })
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

    fn entry(actor: &str, action: &str, account: Option<&str>) -> AuditEntry {
        AuditEntry {
            actor: actor.into(),
            action: action.into(),
            decision: None,
            reason: None,
            details: match account {
                Some(a) => json!({"account": a}),
                None => json!({}),
            },
        }
    }

    async fn seed(pool: &PgPool) -> Vec<i64> {
        let mut ids = Vec::new();
        for e in [
            entry("ui", "trading.arm", Some("DU1")),
            entry("script:sma", "order.intent", Some("DU1")),
            entry("script:breakout", "order.intent", Some("DU2")),
            entry("plugin:ladder/1", "order.cancel", Some("DU2")),
            entry("system", "session.kill_switch", None),
        ] {
            ids.push(append(pool, &e).await.unwrap());
        }
        ids
    }

    fn actors(rows: &[AuditRecord]) -> Vec<&str> {
        rows.iter().map(|r| r.actor.as_str()).collect()
    }

    fn all() -> AuditFilter {
        AuditFilter {
            limit: 100,
            ..AuditFilter::default()
        }
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn no_filter_is_everything_newest_first(pool: PgPool) {
        let ids = seed(&pool).await;
        let rows = filtered(&pool, &all()).await.unwrap();
        assert_eq!(rows.len(), 5);
        assert_eq!(rows[0].id, ids[4]);
        let limited = filtered(&pool, &AuditFilter { limit: 2, ..all() })
            .await
            .unwrap();
        assert_eq!(actors(&limited), ["system", "plugin:ladder/1"]);
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn origin_exact_or_by_kind(pool: PgPool) {
        seed(&pool).await;
        let ui = AuditFilter {
            origin: Some("ui".into()),
            ..all()
        };
        assert_eq!(actors(&filtered(&pool, &ui).await.unwrap()), ["ui"]);
        let scripts = AuditFilter {
            origin: Some("script:*".into()),
            ..all()
        };
        assert_eq!(
            actors(&filtered(&pool, &scripts).await.unwrap()),
            ["script:breakout", "script:sma"]
        );
        // A LIKE wildcard in the value is matched literally, not as a pattern.
        let wild = AuditFilter {
            origin: Some("script%".into()),
            ..all()
        };
        assert!(filtered(&pool, &wild).await.unwrap().is_empty());
        let none = AuditFilter {
            origin: Some("'; DROP TABLE audit_log; --".into()),
            ..all()
        };
        assert!(filtered(&pool, &none).await.unwrap().is_empty());
        assert_eq!(filtered(&pool, &all()).await.unwrap().len(), 5);
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn by_account(pool: PgPool) {
        seed(&pool).await;
        let du2 = AuditFilter {
            account: Some("DU2".into()),
            ..all()
        };
        assert_eq!(
            actors(&filtered(&pool, &du2).await.unwrap()),
            ["plugin:ladder/1", "script:breakout"]
        );
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn by_action_exact_or_prefix(pool: PgPool) {
        seed(&pool).await;
        let intents = AuditFilter {
            action: Some("order.intent".into()),
            ..all()
        };
        assert_eq!(filtered(&pool, &intents).await.unwrap().len(), 2);
        let orders = AuditFilter {
            action: Some("order.*".into()),
            ..all()
        };
        assert_eq!(filtered(&pool, &orders).await.unwrap().len(), 3);
        let both = AuditFilter {
            action: Some("order.*".into()),
            account: Some("DU1".into()),
            ..all()
        };
        assert_eq!(
            actors(&filtered(&pool, &both).await.unwrap()),
            ["script:sma"]
        );
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn by_time(pool: PgPool) {
        seed(&pool).await;
        let recent = AuditFilter {
            since: Some(Utc::now() - chrono::Duration::hours(1)),
            ..all()
        };
        assert_eq!(filtered(&pool, &recent).await.unwrap().len(), 5);
        let future = AuditFilter {
            since: Some(Utc::now() + chrono::Duration::hours(1)),
            ..all()
        };
        assert!(filtered(&pool, &future).await.unwrap().is_empty());
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn pages_back_and_follows_forward(pool: PgPool) {
        let ids = seed(&pool).await;
        let first = filtered(&pool, &AuditFilter { limit: 2, ..all() })
            .await
            .unwrap();
        let next = AuditFilter {
            before_id: Some(first[1].id),
            limit: 2,
            ..all()
        };
        let second = filtered(&pool, &next).await.unwrap();
        assert_eq!(
            second.iter().map(|r| r.id).collect::<Vec<_>>(),
            [ids[2], ids[1]]
        );
        let newer = AuditFilter {
            after_id: Some(ids[3]),
            ..all()
        };
        assert_eq!(
            filtered(&pool, &newer)
                .await
                .unwrap()
                .iter()
                .map(|r| r.id)
                .collect::<Vec<_>>(),
            [ids[4]]
        );
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn facets_list_what_was_logged(pool: PgPool) {
        seed(&pool).await;
        let f = facets(&pool).await.unwrap();
        assert_eq!(f.accounts, ["DU1", "DU2"]);
        assert!(f.actors.contains(&"script:sma".to_string()));
        assert_eq!(f.actions.len(), 4);
    }
}
