//! Brokerage accounts seen from TWS (managed accounts).

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::StoreError;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Account {
    pub code: String,
    pub alias: Option<String>,
    pub base_currency: String,
    pub is_paper: bool,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

/// IB paper accounts start with `D` (`DU…`, `DF…`); live ones do not.
pub fn is_paper_code(code: &str) -> bool {
    code.starts_with('D')
}

/// Records that TWS reported `code` now; keeps the user's alias.
pub async fn seen(pool: &PgPool, code: &str) -> Result<Account, StoreError> {
    Ok(sqlx::query_as(
        "INSERT INTO accounts (code, is_paper) VALUES ($1, $2) \
         ON CONFLICT (code) DO UPDATE SET last_seen_at = now() RETURNING *",
    )
    .bind(code)
    .bind(is_paper_code(code))
    .fetch_one(pool)
    .await?)
}

pub async fn set_alias(pool: &PgPool, code: &str, alias: Option<&str>) -> Result<bool, StoreError> {
    let done = sqlx::query("UPDATE accounts SET alias = $2 WHERE code = $1")
        .bind(code)
        .bind(alias)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn list(pool: &PgPool) -> Result<Vec<Account>, StoreError> {
    Ok(sqlx::query_as("SELECT * FROM accounts ORDER BY code")
        .fetch_all(pool)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[sqlx::test(migrations = "../../migrations")]
    async fn seen_twice_keeps_first_seen_and_alias(pool: PgPool) {
        let first = seen(&pool, "DU9000001").await.unwrap();
        assert!(first.is_paper);
        assert!(set_alias(&pool, "DU9000001", Some("paper")).await.unwrap());
        let again = seen(&pool, "DU9000001").await.unwrap();
        assert_eq!(again.first_seen_at, first.first_seen_at);
        assert!(again.last_seen_at >= first.last_seen_at);
        assert_eq!(again.alias.as_deref(), Some("paper"));
        seen(&pool, "U1234567").await.unwrap();
        let all = list(&pool).await.unwrap();
        assert_eq!(all.len(), 2);
        assert!(!all.iter().find(|a| a.code == "U1234567").unwrap().is_paper);
        assert!(!set_alias(&pool, "NOPE", None).await.unwrap());
    }
}
