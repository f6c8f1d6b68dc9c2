//! Native plugins the user trusted, pinned by the SHA-256 of the library they approved.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::StoreError;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TrustedPlugin {
    pub id: String,
    pub version: String,
    /// Lower-case hex SHA-256 of the library file that was trusted.
    pub library_sha256: String,
    /// Permissions granted, e.g. `trade`, `market-data`.
    pub permissions: Vec<String>,
    pub enabled: bool,
    pub trusted_at: DateTime<Utc>,
}

/// Records trust in this exact library (replacing any earlier trust of the same plugin id).
pub async fn trust(
    pool: &PgPool,
    id: &str,
    version: &str,
    library_sha256: &str,
    permissions: &[String],
) -> Result<TrustedPlugin, StoreError> {
    Ok(sqlx::query_as(
        "INSERT INTO plugins (id, version, library_sha256, permissions) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (id) DO UPDATE SET version = $2, library_sha256 = $3, permissions = $4, \
         trusted_at = now() RETURNING *",
    )
    .bind(id)
    .bind(version)
    .bind(library_sha256.to_ascii_lowercase())
    .bind(permissions)
    .fetch_one(pool)
    .await?)
}

pub async fn get(pool: &PgPool, id: &str) -> Result<Option<TrustedPlugin>, StoreError> {
    Ok(sqlx::query_as("SELECT * FROM plugins WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?)
}

pub async fn list(pool: &PgPool) -> Result<Vec<TrustedPlugin>, StoreError> {
    Ok(sqlx::query_as("SELECT * FROM plugins ORDER BY id")
        .fetch_all(pool)
        .await?)
}

pub async fn set_enabled(pool: &PgPool, id: &str, enabled: bool) -> Result<bool, StoreError> {
    let done = sqlx::query("UPDATE plugins SET enabled = $2 WHERE id = $1")
        .bind(id)
        .bind(enabled)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Forgets the plugin; it will ask for trust again next time.
pub async fn revoke(pool: &PgPool, id: &str) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM plugins WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH_A: &str = "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08";
    const HASH_B: &str = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752";

    #[sqlx::test(migrations = "../../migrations")]
    async fn trust_retrust_disable_revoke(pool: PgPool) {
        let perms = vec!["market-data".to_owned()];
        let first = trust(&pool, "org.example.panel", "1.0.0", HASH_A, &perms)
            .await
            .unwrap();
        assert_eq!(first.library_sha256, HASH_A.to_ascii_lowercase());
        let perms = vec!["market-data".to_owned(), "trade".to_owned()];
        trust(&pool, "org.example.panel", "1.1.0", HASH_B, &perms)
            .await
            .unwrap();
        let stored = get(&pool, "org.example.panel").await.unwrap().unwrap();
        assert_eq!(
            (stored.version.as_str(), stored.library_sha256.as_str()),
            ("1.1.0", HASH_B)
        );
        assert_eq!(stored.permissions, perms);
        assert!(
            set_enabled(&pool, "org.example.panel", false)
                .await
                .unwrap()
        );
        assert!(!list(&pool).await.unwrap()[0].enabled);
        assert!(revoke(&pool, "org.example.panel").await.unwrap());
        assert!(list(&pool).await.unwrap().is_empty());
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn malformed_hash_is_refused(pool: PgPool) {
        assert!(trust(&pool, "x", "1", "not-a-hash", &[]).await.is_err());
        assert!(get(&pool, "x").await.unwrap().is_none());
    }
}
