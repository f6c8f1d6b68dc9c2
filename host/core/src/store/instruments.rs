//! Contracts: one row per instrument, found again by IB's con_id or by its natural key.

use rust_decimal::Decimal;
use sqlx::{PgPool, Row};

use super::{StoreError, parse_column};
use crate::domain::{Instrument, InstrumentSpec};

const COLUMNS: &str = "id, con_id, symbol, sec_type, exchange, primary_exchange, currency, expiry, \
                       strike, option_right, multiplier, local_symbol, trading_class, description";

/// Stores `spec` (or finds the existing row) and returns it with its id.
///
/// A known con_id wins; otherwise the natural key (symbol, type, exchange, currency, expiry,
/// strike, right, multiplier) identifies the contract, and a con_id learnt later is filled in.
pub async fn upsert(pool: &PgPool, spec: &InstrumentSpec) -> Result<Instrument, StoreError> {
    if let Some(con_id) = spec.con_id
        && let Some(found) = by_con_id(pool, con_id).await?
    {
        return Ok(found);
    }
    let row = sqlx::query(&format!(
        "INSERT INTO instruments (con_id, symbol, sec_type, exchange, primary_exchange, currency, \
         expiry, strike, option_right, multiplier, local_symbol, trading_class, description) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (symbol, sec_type, exchange, currency, COALESCE(expiry, DATE '0001-01-01'), \
                      COALESCE(strike, -1), COALESCE(option_right, '-'), multiplier) \
         DO UPDATE SET con_id = COALESCE(instruments.con_id, EXCLUDED.con_id), \
                       description = COALESCE(EXCLUDED.description, instruments.description) \
         RETURNING {COLUMNS}"
    ))
    .bind(spec.con_id)
    .bind(&spec.symbol)
    .bind(spec.sec_type.as_str())
    .bind(&spec.exchange)
    .bind(&spec.primary_exchange)
    .bind(&spec.currency)
    .bind(spec.expiry)
    .bind(spec.strike)
    .bind(spec.right.map(|r| r.as_str()))
    .bind(spec.multiplier)
    .bind(&spec.local_symbol)
    .bind(&spec.trading_class)
    .bind(&spec.description)
    .fetch_one(pool)
    .await?;
    from_row(&row)
}

pub async fn get(pool: &PgPool, id: i64) -> Result<Option<Instrument>, StoreError> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM instruments WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn by_con_id(pool: &PgPool, con_id: i64) -> Result<Option<Instrument>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM instruments WHERE con_id = $1"
    ))
    .bind(con_id)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// The stored instrument that is the same contract as `spec` whatever exchange it was reported
/// on (TWS reports positions on the primary exchange, orders go SMART), preferring the row that
/// has IB's con_id.
pub async fn equivalent(
    pool: &PgPool,
    spec: &InstrumentSpec,
) -> Result<Option<Instrument>, StoreError> {
    if let Some(con_id) = spec.con_id
        && let Some(found) = by_con_id(pool, con_id).await?
    {
        return Ok(Some(found));
    }
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM instruments WHERE symbol = $1 AND sec_type = $2 AND currency = $3 \
         AND expiry IS NOT DISTINCT FROM $4 AND strike IS NOT DISTINCT FROM $5 \
         AND option_right IS NOT DISTINCT FROM $6 AND multiplier = $7 \
         ORDER BY con_id IS NULL, id LIMIT 1"
    ))
    .bind(&spec.symbol)
    .bind(spec.sec_type.as_str())
    .bind(&spec.currency)
    .bind(spec.expiry)
    .bind(spec.strike)
    .bind(spec.right.map(|r| r.as_str()))
    .bind(spec.multiplier)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Instruments whose symbol starts with `prefix` (case-insensitive), for search boxes.
pub async fn search(
    pool: &PgPool,
    prefix: &str,
    limit: i64,
) -> Result<Vec<Instrument>, StoreError> {
    let pattern = format!("{}%", prefix.to_uppercase().replace(['%', '_'], ""));
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM instruments WHERE upper(symbol) LIKE $1 \
         ORDER BY symbol, expiry NULLS FIRST, strike NULLS FIRST, sec_type, id LIMIT $2"
    ))
    .bind(pattern)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter().map(from_row).collect()
}

fn from_row(row: &sqlx::postgres::PgRow) -> Result<Instrument, StoreError> {
    let sec_type: String = row.try_get("sec_type")?;
    let right: Option<String> = row.try_get("option_right")?;
    let multiplier: Decimal = row.try_get("multiplier")?;
    Ok(Instrument {
        id: row.try_get("id")?,
        spec: InstrumentSpec {
            con_id: row.try_get("con_id")?,
            symbol: row.try_get("symbol")?,
            sec_type: parse_column(&sec_type)?,
            exchange: row.try_get("exchange")?,
            primary_exchange: row.try_get("primary_exchange")?,
            currency: row.try_get("currency")?,
            expiry: row.try_get("expiry")?,
            strike: row.try_get("strike")?,
            right: right.as_deref().map(parse_column).transpose()?,
            multiplier,
            local_symbol: row.try_get("local_symbol")?,
            trading_class: row.try_get("trading_class")?,
            description: row.try_get("description")?,
        },
    })
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use rust_decimal_macros::dec;

    use super::*;
    use crate::domain::{OptionRight, SecType};

    fn aapl_call() -> InstrumentSpec {
        InstrumentSpec {
            sec_type: SecType::Option,
            expiry: NaiveDate::from_ymd_opt(2026, 12, 18),
            strike: Some(dec!(190)),
            right: Some(OptionRight::Call),
            multiplier: dec!(100),
            ..InstrumentSpec::stock("AAPL")
        }
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn upsert_is_idempotent_and_learns_con_id(pool: PgPool) {
        let first = upsert(&pool, &aapl_call()).await.unwrap();
        let again = upsert(&pool, &aapl_call()).await.unwrap();
        assert_eq!(first.id, again.id);
        assert_eq!(first.spec.con_id, None);

        let with_id = InstrumentSpec {
            con_id: Some(4242),
            ..aapl_call()
        };
        let learnt = upsert(&pool, &with_id).await.unwrap();
        assert_eq!(learnt.id, first.id);
        assert_eq!(learnt.spec.con_id, Some(4242));
        assert_eq!(by_con_id(&pool, 4242).await.unwrap().unwrap().spec, with_id);
        assert_eq!(get(&pool, first.id).await.unwrap().unwrap().spec, with_id);
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn stock_and_option_are_distinct_and_searchable(pool: PgPool) {
        let stock = upsert(&pool, &InstrumentSpec::stock("AAPL")).await.unwrap();
        let call = upsert(&pool, &aapl_call()).await.unwrap();
        upsert(&pool, &InstrumentSpec::stock("MSFT")).await.unwrap();
        assert_ne!(stock.id, call.id);
        let listed = InstrumentSpec {
            exchange: "NASDAQ".into(),
            con_id: Some(265598),
            ..InstrumentSpec::stock("AAPL")
        };
        let on_nasdaq = upsert(&pool, &listed).await.unwrap();
        assert_eq!(
            equivalent(&pool, &InstrumentSpec::stock("AAPL"))
                .await
                .unwrap()
                .unwrap()
                .id,
            on_nasdaq.id,
            "the row with a con_id wins"
        );
        assert!(
            equivalent(&pool, &InstrumentSpec::stock("NVDA"))
                .await
                .unwrap()
                .is_none()
        );
        let found = search(&pool, "aa", 10).await.unwrap();
        assert_eq!(
            found.iter().map(|i| i.id).collect::<Vec<_>>(),
            vec![stock.id, on_nasdaq.id, call.id]
        );
        assert_eq!(found[2].spec.strike, Some(dec!(190)));
        assert!(get(&pool, 999_999).await.unwrap().is_none());
    }
}
