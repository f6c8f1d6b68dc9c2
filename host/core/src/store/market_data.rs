//! Ticks and bars: bulk-written with `COPY`, read back by instrument and time range.

use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat, Utc};
use rust_decimal::Decimal;
use sqlx::PgPool;

use super::StoreError;
use crate::domain::{Bar, Tick, TickKind};

/// Appends ticks with one `COPY`; all or none are stored.
pub async fn copy_ticks(pool: &PgPool, ticks: &[Tick]) -> Result<u64, StoreError> {
    if ticks.is_empty() {
        return Ok(0);
    }
    let mut text = String::with_capacity(ticks.len() * 64);
    for tick in ticks {
        let _ = writeln!(
            text,
            "{}\t{}\t{}\t{}\t{}",
            tick.instrument_id,
            copy_time(tick.ts),
            tick.kind.code(),
            copy_decimal(tick.price),
            copy_decimal(tick.size),
        );
    }
    let mut conn = pool.acquire().await?;
    let mut copy = conn
        .copy_in_raw("COPY ticks (instrument_id, ts, kind, price, size) FROM STDIN")
        .await?;
    copy.send(text.into_bytes()).await?;
    Ok(copy.finish().await?)
}

/// Ticks of one instrument in `[from, to)`, oldest first.
pub async fn ticks_between(
    pool: &PgPool,
    instrument_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Tick>, StoreError> {
    type Row = (DateTime<Utc>, i16, Option<Decimal>, Option<Decimal>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT ts, kind, price, size FROM ticks WHERE instrument_id = $1 AND ts >= $2 AND ts < $3 \
         ORDER BY ts",
    )
    .bind(instrument_id)
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|(ts, kind, price, size)| {
            let kind = TickKind::from_code(kind).ok_or_else(|| StoreError::Corrupt {
                what: "tick kind",
                message: kind.to_string(),
            })?;
            Ok(Tick {
                instrument_id,
                ts,
                kind,
                price,
                size,
            })
        })
        .collect()
}

/// Stores bars with one `COPY` into a staging table; a bar already stored for the same
/// instrument, size and start is replaced (the latest revision of a bar wins).
pub async fn upsert_bars(pool: &PgPool, bars: &[Bar]) -> Result<u64, StoreError> {
    if bars.is_empty() {
        return Ok(0);
    }
    let mut text = String::with_capacity(bars.len() * 96);
    for bar in bars {
        let _ = writeln!(
            text,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            bar.instrument_id,
            bar.bar_seconds,
            copy_time(bar.ts),
            bar.open,
            bar.high,
            bar.low,
            bar.close,
            bar.volume,
        );
    }
    let mut tx = pool.begin().await?;
    sqlx::query("CREATE TEMP TABLE bars_staging (LIKE bars) ON COMMIT DROP")
        .execute(&mut *tx)
        .await?;
    let mut copy = tx
        .copy_in_raw(
            "COPY bars_staging (instrument_id, bar_seconds, ts, open, high, low, close, volume) \
             FROM STDIN",
        )
        .await?;
    copy.send(text.into_bytes()).await?;
    copy.finish().await?;
    // DISTINCT ON keeps the last occurrence if one batch holds the same bar twice.
    let done = sqlx::query(
        "INSERT INTO bars SELECT DISTINCT ON (instrument_id, bar_seconds, ts) * FROM bars_staging \
         ORDER BY instrument_id, bar_seconds, ts, ctid DESC \
         ON CONFLICT (instrument_id, bar_seconds, ts) DO UPDATE SET open = EXCLUDED.open, \
         high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close, volume = EXCLUDED.volume",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(done.rows_affected())
}

/// The close of the newest stored bar of an instrument (any bar size) and when that bar
/// started: the stored price when no quote streams.
pub async fn last_close(
    pool: &PgPool,
    instrument_id: i64,
) -> Result<Option<(DateTime<Utc>, Decimal)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT ts, close FROM bars WHERE instrument_id = $1 \
         ORDER BY ts + make_interval(secs => bar_seconds) DESC, bar_seconds LIMIT 1",
    )
    .bind(instrument_id)
    .fetch_optional(pool)
    .await?)
}

/// Bars of one instrument and size with start in `[from, to)`, oldest first.
pub async fn bars_between(
    pool: &PgPool,
    instrument_id: i64,
    bar_seconds: i32,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Bar>, StoreError> {
    type Row = (DateTime<Utc>, Decimal, Decimal, Decimal, Decimal, Decimal);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT ts, open, high, low, close, volume FROM bars \
         WHERE instrument_id = $1 AND bar_seconds = $2 AND ts >= $3 AND ts < $4 ORDER BY ts",
    )
    .bind(instrument_id)
    .bind(bar_seconds)
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(ts, open, high, low, close, volume)| Bar {
            instrument_id,
            bar_seconds,
            ts,
            open,
            high,
            low,
            close,
            volume,
        })
        .collect())
}

fn copy_time(ts: DateTime<Utc>) -> String {
    ts.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn copy_decimal(value: Option<Decimal>) -> String {
    value.map_or_else(|| "\\N".to_owned(), |d| d.to_string())
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};
    use rust_decimal_macros::dec;

    use super::*;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 14, 30, 0).unwrap()
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn ticks_round_trip_exactly(pool: PgPool) {
        let ticks: Vec<Tick> = (0..1000)
            .map(|i| Tick {
                instrument_id: 1 + i % 2,
                ts: t0() + Duration::microseconds(i * 1500),
                kind: if i % 3 == 0 {
                    TickKind::BidSize
                } else {
                    TickKind::Last
                },
                price: (i % 3 != 0).then(|| dec!(187.01) + Decimal::new(i, 4)),
                size: Some(Decimal::new(i + 1, 0)),
            })
            .collect();
        assert_eq!(copy_ticks(&pool, &ticks).await.unwrap(), 1000);
        assert_eq!(copy_ticks(&pool, &[]).await.unwrap(), 0);
        let back = ticks_between(&pool, 1, t0(), t0() + Duration::hours(1))
            .await
            .unwrap();
        let expected: Vec<Tick> = ticks
            .iter()
            .filter(|t| t.instrument_id == 1)
            .cloned()
            .collect();
        assert_eq!(back, expected);
        let window = ticks_between(&pool, 2, t0(), t0() + Duration::microseconds(3000))
            .await
            .unwrap();
        assert_eq!(
            window.len(),
            1,
            "half-open range: [t0, t0+3ms) holds only tick 1 of instrument 2"
        );
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn bars_upsert_replaces_revised_bar(pool: PgPool) {
        let bar = |minute: i64, close: Decimal| Bar {
            instrument_id: 7,
            bar_seconds: 60,
            ts: t0() + Duration::minutes(minute),
            open: dec!(100),
            high: dec!(101.5),
            low: dec!(99.25),
            close,
            volume: dec!(1200),
        };
        upsert_bars(&pool, &[bar(0, dec!(100.5)), bar(1, dec!(101))])
            .await
            .unwrap();
        // The same bar twice in one batch, and a revision of a stored one.
        upsert_bars(
            &pool,
            &[
                bar(1, dec!(100.75)),
                bar(2, dec!(99.5)),
                bar(2, dec!(99.75)),
            ],
        )
        .await
        .unwrap();
        let back = bars_between(&pool, 7, 60, t0(), t0() + Duration::hours(1))
            .await
            .unwrap();
        assert_eq!(
            back,
            vec![
                bar(0, dec!(100.5)),
                bar(1, dec!(100.75)),
                bar(2, dec!(99.75))
            ]
        );
        assert!(
            bars_between(&pool, 7, 300, t0(), t0() + Duration::hours(1))
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn last_close_is_the_bar_that_ended_last(pool: PgPool) {
        let bar = |bar_seconds: i32, minute: i64, close: Decimal| Bar {
            instrument_id: 7,
            bar_seconds,
            ts: t0() + Duration::minutes(minute),
            open: close,
            high: close,
            low: close,
            close,
            volume: dec!(1),
        };
        assert_eq!(last_close(&pool, 7).await.unwrap(), None);
        // A daily bar that started earlier but ends later than the minute bars.
        upsert_bars(&pool, &[bar(60, 0, dec!(100)), bar(60, 5, dec!(101))])
            .await
            .unwrap();
        assert_eq!(
            last_close(&pool, 7).await.unwrap(),
            Some((t0() + Duration::minutes(5), dec!(101)))
        );
        upsert_bars(&pool, &[bar(86_400, 0, dec!(99))])
            .await
            .unwrap();
        assert_eq!(last_close(&pool, 7).await.unwrap(), Some((t0(), dec!(99))));
    }
}
