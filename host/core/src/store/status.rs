//! What `tickwork db status` reports: migrations applied or pending, and table sizes.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

use super::{MAIN_TABLES, MIGRATOR, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MigrationState {
    Applied,
    Pending,
    /// In the database but not in this build: a newer Tickwork migrated it.
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MigrationStatus {
    pub version: i64,
    pub description: String,
    pub state: MigrationState,
    pub applied_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DbStatus {
    pub migrations: Vec<MigrationStatus>,
    pub tables: BTreeMap<String, i64>,
}

pub(super) async fn read(pool: &PgPool) -> Result<DbStatus, StoreError> {
    let has_history: bool =
        sqlx::query_scalar("SELECT to_regclass('public._sqlx_migrations') IS NOT NULL")
            .fetch_one(pool)
            .await?;
    let applied: Vec<(i64, String, DateTime<Utc>)> = if has_history {
        sqlx::query_as(
            "SELECT version, description, installed_on FROM _sqlx_migrations \
             WHERE success ORDER BY version",
        )
        .fetch_all(pool)
        .await?
    } else {
        Vec::new()
    };

    let mut migrations: Vec<MigrationStatus> = MIGRATOR
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .map(|m| {
            let applied_at = applied
                .iter()
                .find(|(v, _, _)| *v == m.version)
                .map(|(_, _, at)| *at);
            MigrationStatus {
                version: m.version,
                description: m.description.to_string(),
                state: if applied_at.is_some() {
                    MigrationState::Applied
                } else {
                    MigrationState::Pending
                },
                applied_at,
            }
        })
        .collect();
    for (version, description, at) in &applied {
        if !migrations.iter().any(|m| m.version == *version) {
            migrations.push(MigrationStatus {
                version: *version,
                description: description.clone(),
                state: MigrationState::Unknown,
                applied_at: Some(*at),
            });
        }
    }
    migrations.sort_by_key(|m| m.version);

    let mut tables = BTreeMap::new();
    for table in MAIN_TABLES {
        let exists: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
            .bind(format!("public.{table}"))
            .fetch_one(pool)
            .await?;
        if exists {
            // The names come from our own constant list, never from input.
            let count: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
                .fetch_one(pool)
                .await?;
            tables.insert((*table).to_owned(), count);
        }
    }
    Ok(DbStatus { migrations, tables })
}
