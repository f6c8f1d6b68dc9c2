//! The key-value namespace of each native plugin: what `tickwork.host.kv-store/1` keeps.

use sqlx::PgPool;

use super::StoreError;

/// Longest key, in bytes (the schema checks it too).
pub const MAX_KEY_BYTES: usize = 256;
/// Largest value, in bytes (the schema checks it too).
pub const MAX_VALUE_BYTES: usize = 64 * 1024;

/// Stores `value` under `key` in `plugin`'s namespace, replacing what was there.
pub async fn put(pool: &PgPool, plugin: &str, key: &str, value: &[u8]) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO plugin_kv (plugin_id, key, value) VALUES ($1, $2, $3) \
         ON CONFLICT (plugin_id, key) DO UPDATE SET value = $3, updated_at = now()",
    )
    .bind(plugin)
    .bind(key)
    .bind(value)
    .execute(pool)
    .await?;
    Ok(())
}

/// The value of `key` in `plugin`'s namespace.
pub async fn get(pool: &PgPool, plugin: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT value FROM plugin_kv WHERE plugin_id = $1 AND key = $2")
            .bind(plugin)
            .bind(key)
            .fetch_optional(pool)
            .await?,
    )
}

/// Forgets every value of `plugin` (its data goes with it when the user removes it).
pub async fn clear(pool: &PgPool, plugin: &str) -> Result<u64, StoreError> {
    let done = sqlx::query("DELETE FROM plugin_kv WHERE plugin_id = $1")
        .bind(plugin)
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[sqlx::test(migrations = "../../migrations")]
    async fn namespaces_are_separate_and_limits_hold(pool: PgPool) {
        put(&pool, "org.a", "k", b"one").await.unwrap();
        put(&pool, "org.a", "k", b"two").await.unwrap();
        put(&pool, "org.b", "k", b"other").await.unwrap();
        assert_eq!(get(&pool, "org.a", "k").await.unwrap().unwrap(), b"two");
        assert_eq!(get(&pool, "org.b", "k").await.unwrap().unwrap(), b"other");
        assert!(get(&pool, "org.a", "missing").await.unwrap().is_none());
        let big = vec![b'x'; MAX_VALUE_BYTES + 1];
        assert!(put(&pool, "org.a", "big", &big).await.is_err());
        assert!(put(&pool, "org.a", "", b"v").await.is_err());
        assert_eq!(clear(&pool, "org.a").await.unwrap(), 1);
        assert!(get(&pool, "org.a", "k").await.unwrap().is_none());
    }
}
