//! Position snapshots: what TWS said an account held at each synchronisation.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::StoreError;
use crate::domain::Position;

/// Stores one snapshot of an account's positions atomically and returns its id.
pub async fn record_snapshot(
    pool: &PgPool,
    account: &str,
    source: &str,
    positions: &[Position],
) -> Result<i64, StoreError> {
    let mut tx = pool.begin().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO position_snapshots (account, source) VALUES ($1, $2) RETURNING id",
    )
    .bind(account)
    .bind(source)
    .fetch_one(&mut *tx)
    .await?;
    for position in positions {
        sqlx::query(
            "INSERT INTO positions (snapshot_id, instrument_id, quantity, average_cost) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(position.instrument_id)
        .bind(position.quantity)
        .bind(position.average_cost)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(id)
}

/// The most recent snapshot of an account: when it was taken and what it held.
pub async fn latest(
    pool: &PgPool,
    account: &str,
) -> Result<Option<(DateTime<Utc>, Vec<Position>)>, StoreError> {
    let Some((id, taken_at)): Option<(i64, DateTime<Utc>)> = sqlx::query_as(
        "SELECT id, taken_at FROM position_snapshots WHERE account = $1 \
         ORDER BY taken_at DESC, id DESC LIMIT 1",
    )
    .bind(account)
    .fetch_optional(pool)
    .await?
    else {
        return Ok(None);
    };
    let rows: Vec<(i64, rust_decimal::Decimal, rust_decimal::Decimal)> = sqlx::query_as(
        "SELECT instrument_id, quantity, average_cost FROM positions WHERE snapshot_id = $1 \
         ORDER BY instrument_id",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    let positions = rows
        .into_iter()
        .map(|(instrument_id, quantity, average_cost)| Position {
            instrument_id,
            quantity,
            average_cost,
        })
        .collect();
    Ok(Some((taken_at, positions)))
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;
    use crate::domain::InstrumentSpec;
    use crate::store::{accounts, instruments};

    #[sqlx::test(migrations = "../../migrations")]
    async fn latest_snapshot_wins(pool: PgPool) {
        accounts::seen(&pool, "DU1").await.unwrap();
        let aapl = instruments::upsert(&pool, &InstrumentSpec::stock("AAPL"))
            .await
            .unwrap();
        let msft = instruments::upsert(&pool, &InstrumentSpec::stock("MSFT"))
            .await
            .unwrap();
        assert!(latest(&pool, "DU1").await.unwrap().is_none());
        let old = [Position {
            instrument_id: aapl.id,
            quantity: dec!(100),
            average_cost: dec!(180.25),
        }];
        record_snapshot(&pool, "DU1", "sync", &old).await.unwrap();
        let new = vec![
            Position {
                instrument_id: aapl.id,
                quantity: dec!(-50),
                average_cost: dec!(181.10),
            },
            Position {
                instrument_id: msft.id,
                quantity: dec!(0.5),
                average_cost: dec!(410.000001),
            },
        ];
        record_snapshot(&pool, "DU1", "sync", &new).await.unwrap();
        let (_, held) = latest(&pool, "DU1").await.unwrap().unwrap();
        assert_eq!(held, new);
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn failed_snapshot_leaves_nothing(pool: PgPool) {
        accounts::seen(&pool, "DU1").await.unwrap();
        let bad = [Position {
            instrument_id: 12345,
            quantity: dec!(1),
            average_cost: dec!(1),
        }];
        assert!(record_snapshot(&pool, "DU1", "sync", &bad).await.is_err());
        assert!(latest(&pool, "DU1").await.unwrap().is_none());
    }
}
