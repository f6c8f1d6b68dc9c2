//! Native plugins the user trusted (the allowlist), pinned by the SHA-256 of the library they
//! approved and the permissions they granted; whether each is switched on, and why not.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::StoreError;

/// How many faults switch a plugin off (a panic contained by its guard, a failed `init`): a
/// plugin that keeps failing stops being loaded until the user enables it again.
pub const MAX_FAULTS: i32 = 3;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TrustedPlugin {
    pub id: String,
    pub version: String,
    /// Lower-case hex SHA-256 of the library file that was trusted.
    pub library_sha256: String,
    /// Permissions granted, as `Permissions::to_strings` writes them (`orders:submit:paper`).
    pub permissions: Vec<String>,
    pub enabled: bool,
    pub trusted_at: DateTime<Utc>,
    /// Why `enabled` is false: the user, a crash, repeated faults.
    pub disabled_reason: Option<String>,
    /// Faults since it was trusted or last enabled.
    pub faults: i32,
    /// The last load failure, shown by `tickwork plugins list` without loading anything.
    pub last_error: Option<String>,
    /// `faulted` or `incompatible`, with `last_error`.
    pub last_error_kind: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
}

/// Records trust in this exact library (replacing any earlier trust of the same plugin id); a
/// new trust forgets earlier faults and load errors, but not a user's or a crash's disable.
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
         trusted_at = now(), faults = 0, last_error = NULL, last_error_kind = NULL, \
         last_error_at = NULL RETURNING *",
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

/// Switches a plugin on (forgetting its faults and the reason it was off) or off with a reason.
/// `false` when the id is not in the allowlist.
pub async fn set_enabled(
    pool: &PgPool,
    id: &str,
    enabled: bool,
    reason: Option<&str>,
) -> Result<bool, StoreError> {
    let done = if enabled {
        sqlx::query(
            "UPDATE plugins SET enabled = TRUE, disabled_reason = NULL, faults = 0, \
             last_error = NULL, last_error_kind = NULL, last_error_at = NULL WHERE id = $1",
        )
        .bind(id)
        .execute(pool)
        .await?
    } else {
        sqlx::query("UPDATE plugins SET enabled = FALSE, disabled_reason = $2 WHERE id = $1")
            .bind(id)
            .bind(reason)
            .execute(pool)
            .await?
    };
    Ok(done.rows_affected() == 1)
}

/// What became of a recorded fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultOutcome {
    /// Counted; the plugin stays enabled.
    Counted(i32),
    /// The fault reached [`MAX_FAULTS`]: the plugin is now disabled.
    Disabled(i32),
    /// The id is not in the allowlist.
    Unknown,
}

/// Records a load failure or a fault of a trusted plugin (`kind` `faulted` or `incompatible`).
/// A fault counts towards [`MAX_FAULTS`]; an incompatibility is only remembered.
pub async fn record_error(
    pool: &PgPool,
    id: &str,
    kind: &str,
    message: &str,
) -> Result<FaultOutcome, StoreError> {
    let counts = i32::from(kind == "faulted");
    let row: Option<(i32, bool)> = sqlx::query_as(
        "UPDATE plugins SET faults = faults + $3, last_error = $4, last_error_kind = $2, \
         last_error_at = now(), \
         enabled = enabled AND faults + $3 < $5, \
         disabled_reason = CASE WHEN enabled AND faults + $3 >= $5 \
             THEN 'faulted ' || (faults + $3) || ' times; last: ' || $4 \
             ELSE disabled_reason END \
         WHERE id = $1 RETURNING faults, enabled",
    )
    .bind(id)
    .bind(kind)
    .bind(counts)
    .bind(message)
    .bind(MAX_FAULTS)
    .fetch_optional(pool)
    .await?;
    Ok(match row {
        None => FaultOutcome::Unknown,
        Some((faults, true)) => FaultOutcome::Counted(faults),
        Some((faults, false)) => FaultOutcome::Disabled(faults),
    })
}

/// Forgets the last load error after a successful load (faults stay counted).
pub async fn clear_error(pool: &PgPool, id: &str) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE plugins SET last_error = NULL, last_error_kind = NULL, last_error_at = NULL \
         WHERE id = $1 AND last_error IS NOT NULL",
    )
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}

/// The ids of the enabled plugins: what the margin check applies while their rules are loaded.
pub async fn enabled_ids(pool: &PgPool) -> Result<Vec<String>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT id FROM plugins WHERE enabled ORDER BY id")
            .fetch_all(pool)
            .await?,
    )
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
        let perms = vec!["market_data:subscribe".to_owned()];
        let first = trust(&pool, "org.example.panel", "1.0.0", HASH_A, &perms)
            .await
            .unwrap();
        assert_eq!(first.library_sha256, HASH_A.to_ascii_lowercase());
        assert_eq!((first.faults, first.disabled_reason), (0, None));
        let perms = vec![
            "market_data:subscribe".to_owned(),
            "orders:submit:paper".to_owned(),
        ];
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
            set_enabled(
                &pool,
                "org.example.panel",
                false,
                Some("disabled by the user")
            )
            .await
            .unwrap()
        );
        let off = &list(&pool).await.unwrap()[0];
        assert!(!off.enabled);
        assert_eq!(off.disabled_reason.as_deref(), Some("disabled by the user"));
        assert!(enabled_ids(&pool).await.unwrap().is_empty());
        assert!(
            set_enabled(&pool, "org.example.panel", true, None)
                .await
                .unwrap()
        );
        let on = get(&pool, "org.example.panel").await.unwrap().unwrap();
        assert!(on.enabled && on.disabled_reason.is_none());
        assert!(revoke(&pool, "org.example.panel").await.unwrap());
        assert!(list(&pool).await.unwrap().is_empty());
        assert!(
            !set_enabled(&pool, "org.example.panel", true, None)
                .await
                .unwrap()
        );
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn faults_disable_after_the_limit_and_enable_forgets_them(pool: PgPool) {
        trust(&pool, "org.example.rule", "1.0.0", HASH_B, &[])
            .await
            .unwrap();
        let outcome = record_error(&pool, "org.example.rule", "incompatible", "too small")
            .await
            .unwrap();
        assert_eq!(outcome, FaultOutcome::Counted(0));
        for n in 1..MAX_FAULTS {
            let outcome = record_error(&pool, "org.example.rule", "faulted", "init failed")
                .await
                .unwrap();
            assert_eq!(outcome, FaultOutcome::Counted(n));
        }
        let outcome = record_error(&pool, "org.example.rule", "faulted", "init failed")
            .await
            .unwrap();
        assert_eq!(outcome, FaultOutcome::Disabled(MAX_FAULTS));
        let stored = get(&pool, "org.example.rule").await.unwrap().unwrap();
        assert!(!stored.enabled);
        assert_eq!(
            stored.disabled_reason.as_deref(),
            Some("faulted 3 times; last: init failed")
        );
        assert_eq!(stored.last_error_kind.as_deref(), Some("faulted"));
        set_enabled(&pool, "org.example.rule", true, None)
            .await
            .unwrap();
        let stored = get(&pool, "org.example.rule").await.unwrap().unwrap();
        assert_eq!((stored.faults, stored.last_error), (0, None));
        assert_eq!(
            record_error(&pool, "nobody", "faulted", "x").await.unwrap(),
            FaultOutcome::Unknown
        );
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn malformed_hash_is_refused(pool: PgPool) {
        assert!(trust(&pool, "x", "1", "not-a-hash", &[]).await.is_err());
        assert!(get(&pool, "x").await.unwrap().is_none());
    }
}
