//! Settings and saved layouts: small JSON documents by key, shared by every workbench that
//! uses the same database.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sqlx::PgPool;

use super::StoreError;

pub async fn put<T: Serialize>(pool: &PgPool, key: &str, value: &T) -> Result<(), StoreError> {
    let json = serde_json::to_value(value).map_err(|e| StoreError::Corrupt {
        what: "setting",
        message: format!("{key}: {e}"),
    })?;
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES ($1, $2) \
         ON CONFLICT (key) DO UPDATE SET value = $2, updated_at = now()",
    )
    .bind(key)
    .bind(json)
    .execute(pool)
    .await?;
    Ok(())
}

/// The stored value, or `None`; a stored value of the wrong shape is an error, not a default.
pub async fn get<T: DeserializeOwned>(pool: &PgPool, key: &str) -> Result<Option<T>, StoreError> {
    let value: Option<Value> = sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
        .bind(key)
        .fetch_optional(pool)
        .await?;
    value
        .map(|v| {
            serde_json::from_value(v).map_err(|e| StoreError::Corrupt {
                what: "setting",
                message: format!("{key}: {e}"),
            })
        })
        .transpose()
}

pub async fn delete(pool: &PgPool, key: &str) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM settings WHERE key = $1")
        .bind(key)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Layout {
        panels: Vec<String>,
        sidebar_width: u32,
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn put_get_replace_delete(pool: PgPool) {
        let layout = Layout {
            panels: vec!["watchlist".into(), "orders".into()],
            sidebar_width: 240,
        };
        put(&pool, "layout.main", &layout).await.unwrap();
        assert_eq!(
            get::<Layout>(&pool, "layout.main").await.unwrap(),
            Some(layout)
        );
        put(
            &pool,
            "layout.main",
            &Layout {
                panels: vec![],
                sidebar_width: 200,
            },
        )
        .await
        .unwrap();
        assert_eq!(
            get::<Layout>(&pool, "layout.main")
                .await
                .unwrap()
                .unwrap()
                .sidebar_width,
            200
        );
        let wrong = get::<u32>(&pool, "layout.main").await.unwrap_err();
        assert!(wrong.to_string().contains("layout.main"), "{wrong}");
        assert!(delete(&pool, "layout.main").await.unwrap());
        assert_eq!(get::<Layout>(&pool, "layout.main").await.unwrap(), None);
    }
}
