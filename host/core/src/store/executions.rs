//! Executions (fills). Keyed by IB's exec id, so a replay after a reconnect changes nothing.

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Row};

use super::{StoreError, parse_column};
use crate::domain::Execution;

/// Stores a fill; returns `false` if it was already recorded.
pub async fn record(pool: &PgPool, fill: &Execution) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO executions (exec_id, order_ref, tws_order_id, tws_perm_id, account, \
         instrument_id, side, quantity, price, commission, commission_currency, realized_pnl, \
         executed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (exec_id) DO NOTHING",
    )
    .bind(&fill.exec_id)
    .bind(&fill.order_ref)
    .bind(fill.tws_order_id)
    .bind(fill.tws_perm_id)
    .bind(&fill.account)
    .bind(fill.instrument_id)
    .bind(fill.side.as_str())
    .bind(fill.quantity)
    .bind(fill.price)
    .bind(fill.commission)
    .bind(&fill.commission_currency)
    .bind(fill.realized_pnl)
    .bind(fill.executed_at)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Commission reports arrive after the fill; attach them when they do.
pub async fn set_commission(
    pool: &PgPool,
    exec_id: &str,
    commission: rust_decimal::Decimal,
    currency: &str,
    realized_pnl: Option<rust_decimal::Decimal>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE executions SET commission = $2, commission_currency = $3, realized_pnl = $4 \
         WHERE exec_id = $1",
    )
    .bind(exec_id)
    .bind(commission)
    .bind(currency)
    .bind(realized_pnl)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The time of the newest recorded fill of an account: where a resync starts asking from.
pub async fn last_time(pool: &PgPool, account: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT max(executed_at) FROM executions WHERE account = $1")
            .bind(account)
            .fetch_one(pool)
            .await?,
    )
}

/// Fills of an account at or after `since`, oldest first.
pub async fn since(
    pool: &PgPool,
    account: &str,
    since: DateTime<Utc>,
) -> Result<Vec<Execution>, StoreError> {
    let rows = sqlx::query(
        "SELECT * FROM executions WHERE account = $1 AND executed_at >= $2 \
         ORDER BY executed_at, exec_id",
    )
    .bind(account)
    .bind(since)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let side: String = row.try_get("side")?;
            Ok(Execution {
                exec_id: row.try_get("exec_id")?,
                order_ref: row.try_get("order_ref")?,
                tws_order_id: row.try_get("tws_order_id")?,
                tws_perm_id: row.try_get("tws_perm_id")?,
                account: row.try_get("account")?,
                instrument_id: row.try_get("instrument_id")?,
                side: parse_column(&side)?,
                quantity: row.try_get("quantity")?,
                price: row.try_get("price")?,
                commission: row.try_get("commission")?,
                commission_currency: row.try_get("commission_currency")?,
                realized_pnl: row.try_get("realized_pnl")?,
                executed_at: row.try_get("executed_at")?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use rust_decimal_macros::dec;

    use super::*;
    use crate::domain::{ExecSide, InstrumentSpec};
    use crate::store::instruments;

    #[sqlx::test(migrations = "../../migrations")]
    async fn replayed_fill_is_recorded_once(pool: PgPool) {
        let aapl = instruments::upsert(&pool, &InstrumentSpec::stock("AAPL"))
            .await
            .unwrap();
        let at = Utc.with_ymd_and_hms(2026, 11, 24, 15, 30, 0).unwrap();
        let fill = Execution {
            exec_id: "0001f4e8.6743a1b2.01.01".into(),
            order_ref: Some("tw-1".into()),
            tws_order_id: Some(17),
            tws_perm_id: Some(9_000_001),
            account: "DU1".into(),
            instrument_id: aapl.id,
            side: ExecSide::Bought,
            quantity: dec!(60),
            price: dec!(187.2),
            commission: None,
            commission_currency: None,
            realized_pnl: None,
            executed_at: at,
        };
        assert!(record(&pool, &fill).await.unwrap());
        assert!(!record(&pool, &fill).await.unwrap());
        assert!(
            set_commission(&pool, &fill.exec_id, dec!(1.00), "USD", None)
                .await
                .unwrap()
        );
        assert_eq!(last_time(&pool, "DU1").await.unwrap(), Some(at));
        assert_eq!(last_time(&pool, "DU2").await.unwrap(), None);
        let stored = since(&pool, "DU1", at).await.unwrap();
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].commission, Some(dec!(1.00)));
        assert_eq!(stored[0].price, dec!(187.2));
        assert!(
            since(&pool, "DU1", at + chrono::Duration::seconds(1))
                .await
                .unwrap()
                .is_empty()
        );
    }
}
