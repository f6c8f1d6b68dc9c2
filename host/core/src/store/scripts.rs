//! User Rhai scripts, kept with their source so a run can be reproduced.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::StoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptKind {
    Strategy,
    MarginRule,
}

crate::domain::spelled_enum!(ScriptKind, "script kind", {
    Strategy => "strategy", MarginRule => "margin_rule",
});

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredScript {
    pub name: String,
    pub kind: ScriptKind,
    pub source: String,
    /// Scripts may place orders only when the user granted it.
    pub trading_granted: bool,
    /// A margin rule applies only while enabled, so the user can switch one off without
    /// deleting it (strategies ignore the flag).
    pub enabled: bool,
    pub updated_at: DateTime<Utc>,
}

/// Saves the source; a changed source keeps its trading grant only if the kind is unchanged.
pub async fn save(
    pool: &PgPool,
    name: &str,
    kind: ScriptKind,
    source: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO scripts (name, kind, source) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO UPDATE SET source = $3, kind = $2, updated_at = now(), \
         trading_granted = scripts.trading_granted AND scripts.kind = $2",
    )
    .bind(name)
    .bind(kind.as_str())
    .bind(source)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn set_trading_granted(
    pool: &PgPool,
    name: &str,
    granted: bool,
) -> Result<bool, StoreError> {
    let done = sqlx::query("UPDATE scripts SET trading_granted = $2 WHERE name = $1")
        .bind(name)
        .bind(granted)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Switches a stored script on or off (for margin rules: whether it applies); `false` when
/// there is no such script.
pub async fn set_enabled(pool: &PgPool, name: &str, enabled: bool) -> Result<bool, StoreError> {
    let done = sqlx::query("UPDATE scripts SET enabled = $2 WHERE name = $1")
        .bind(name)
        .bind(enabled)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

type Row = (String, String, String, bool, bool, DateTime<Utc>);

const COLUMNS: &str = "name, kind, source, trading_granted, enabled, updated_at";

fn from_row(
    (name, kind, source, trading_granted, enabled, updated_at): Row,
) -> Result<StoredScript, StoreError> {
    Ok(StoredScript {
        name,
        kind: super::parse_column(&kind)?,
        source,
        trading_granted,
        enabled,
        updated_at,
    })
}

pub async fn get(pool: &PgPool, name: &str) -> Result<Option<StoredScript>, StoreError> {
    let row: Option<Row> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM scripts WHERE name = $1"))
            .bind(name)
            .fetch_optional(pool)
            .await?;
    row.map(from_row).transpose()
}

pub async fn list(pool: &PgPool) -> Result<Vec<StoredScript>, StoreError> {
    let rows: Vec<Row> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM scripts ORDER BY name"))
        .fetch_all(pool)
        .await?;
    rows.into_iter().map(from_row).collect()
}

/// The margin rules that apply: enabled, of kind `margin_rule`, by name (the order they are
/// applied in, each seeing the result of the ones before).
pub async fn enabled_margin_rules(pool: &PgPool) -> Result<Vec<StoredScript>, StoreError> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM scripts WHERE kind = 'margin_rule' AND enabled ORDER BY name"
    ))
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(from_row).collect()
}

pub async fn delete(pool: &PgPool, name: &str) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM scripts WHERE name = $1")
        .bind(name)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[sqlx::test(migrations = "../../migrations")]
    async fn save_grant_resave_delete(pool: PgPool) {
        save(&pool, "sma", ScriptKind::Strategy, "fn on_bar(ctx, bar) {}")
            .await
            .unwrap();
        assert!(set_trading_granted(&pool, "sma", true).await.unwrap());
        save(
            &pool,
            "sma",
            ScriptKind::Strategy,
            "fn on_bar(ctx, bar) { 1 }",
        )
        .await
        .unwrap();
        let stored = get(&pool, "sma").await.unwrap().unwrap();
        assert!(stored.trading_granted, "editing the source keeps the grant");
        assert_eq!(stored.source, "fn on_bar(ctx, bar) { 1 }");
        save(&pool, "sma", ScriptKind::MarginRule, "fn rule(p) { 0 }")
            .await
            .unwrap();
        assert!(
            !get(&pool, "sma").await.unwrap().unwrap().trading_granted,
            "a kind change drops it"
        );
        save(&pool, "floor", ScriptKind::MarginRule, "fn rule(p) { 0 }")
            .await
            .unwrap();
        assert_eq!(
            list(&pool)
                .await
                .unwrap()
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>(),
            ["floor", "sma"]
        );
        assert!(delete(&pool, "sma").await.unwrap());
        assert!(get(&pool, "sma").await.unwrap().is_none());
        assert!(!set_trading_granted(&pool, "sma", true).await.unwrap());
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn only_enabled_margin_rules_apply(pool: PgPool) {
        for (name, kind) in [
            ("floor", ScriptKind::MarginRule),
            ("concentration", ScriptKind::MarginRule),
            ("sma", ScriptKind::Strategy),
        ] {
            save(&pool, name, kind, "fn margin(input) { () }")
                .await
                .unwrap();
        }
        let names =
            |rules: Vec<StoredScript>| rules.into_iter().map(|s| s.name).collect::<Vec<String>>();
        assert!(get(&pool, "floor").await.unwrap().unwrap().enabled);
        assert_eq!(
            names(enabled_margin_rules(&pool).await.unwrap()),
            ["concentration", "floor"]
        );
        assert!(set_enabled(&pool, "concentration", false).await.unwrap());
        assert!(!get(&pool, "concentration").await.unwrap().unwrap().enabled);
        assert_eq!(names(enabled_margin_rules(&pool).await.unwrap()), ["floor"]);
        assert!(!set_enabled(&pool, "nope", true).await.unwrap());
    }
}
