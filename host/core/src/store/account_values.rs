//! Account values (IB's `accountSummary`/`updateAccountValue` pairs): bulk-written with `COPY`,
//! read back by account and time range.
//!
//! A value is keyed by `(account, taken_at, key, currency)`. IB sends values as strings, and not
//! all of them are numbers (`AccountType`, `Cushion` as a ratio, …), so `value` stays text; a
//! reader that needs an amount parses it into a `Decimal` where it knows the key is one.
//! Writing the same key twice is not an error: the later value replaces the earlier one, so a
//! replayed batch (the recorder's journal) changes nothing.

use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::{PgConnection, PgPool};

use super::StoreError;

/// One account value at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountValue {
    pub account: String,
    pub taken_at: DateTime<Utc>,
    pub key: String,
    /// Empty when the value has no currency (IB sends `""`).
    pub currency: String,
    pub value: String,
}

/// Stores values with one `COPY` into a staging table and one upsert, all or none; returns the
/// number of rows inserted or replaced.
pub async fn copy_values(pool: &PgPool, values: &[AccountValue]) -> Result<u64, StoreError> {
    if values.is_empty() {
        return Ok(0);
    }
    let mut tx = pool.begin().await?;
    let done = copy_values_in(&mut tx, values).await?;
    tx.commit().await?;
    Ok(done)
}

/// [`copy_values`] on a connection that is already inside a transaction (the recorder writes
/// several kinds of rows in one transaction). The staging table lives until that transaction
/// ends, so this may be called several times in one transaction.
pub async fn copy_values_in(
    conn: &mut PgConnection,
    values: &[AccountValue],
) -> Result<u64, sqlx::Error> {
    if values.is_empty() {
        return Ok(0);
    }
    let mut text = String::with_capacity(values.len() * 64);
    for (seq, value) in values.iter().enumerate() {
        let _ = writeln!(
            text,
            "{seq}\t{}\t{}\t{}\t{}\t{}",
            copy_text(&value.account),
            value.taken_at.to_rfc3339_opts(SecondsFormat::Micros, true),
            copy_text(&value.key),
            copy_text(&value.currency),
            copy_text(&value.value),
        );
    }
    sqlx::query(
        "CREATE TEMP TABLE IF NOT EXISTS account_values_staging \
         (seq BIGINT, LIKE account_values) ON COMMIT DROP",
    )
    .execute(&mut *conn)
    .await?;
    let mut copy = conn
        .copy_in_raw(
            "COPY account_values_staging (seq, account, taken_at, key, currency, value) \
             FROM STDIN",
        )
        .await?;
    copy.send(text.into_bytes()).await?;
    copy.finish().await?;
    // DISTINCT ON keeps the last occurrence when one batch holds the same key twice.
    let done = sqlx::query(
        "INSERT INTO account_values (account, taken_at, key, currency, value) \
         SELECT DISTINCT ON (account, taken_at, key, currency) account, taken_at, key, currency, \
         value FROM account_values_staging ORDER BY account, taken_at, key, currency, seq DESC \
         ON CONFLICT (account, taken_at, key, currency) DO UPDATE SET value = EXCLUDED.value",
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query("TRUNCATE account_values_staging")
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}

/// Values of one account taken in `[from, to)`, oldest first, then by key and currency.
pub async fn between(
    pool: &PgPool,
    account: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<AccountValue>, StoreError> {
    type Row = (DateTime<Utc>, String, String, String);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT taken_at, key, currency, value FROM account_values \
         WHERE account = $1 AND taken_at >= $2 AND taken_at < $3 \
         ORDER BY taken_at, key, currency",
    )
    .bind(account)
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(taken_at, key, currency, value)| AccountValue {
            account: account.to_owned(),
            taken_at,
            key,
            currency,
            value,
        })
        .collect())
}

/// Escapes a string for `COPY … FROM STDIN` text format.
pub(crate) fn copy_text(value: &str) -> std::borrow::Cow<'_, str> {
    if !value.contains(['\\', '\t', '\n', '\r']) {
        return std::borrow::Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 21, 0, 0).unwrap()
    }

    fn value(account: &str, minutes: i64, key: &str, currency: &str, v: &str) -> AccountValue {
        AccountValue {
            account: account.into(),
            taken_at: t0() + Duration::minutes(minutes),
            key: key.into(),
            currency: currency.into(),
            value: v.into(),
        }
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn values_round_trip_and_latest_write_wins(pool: PgPool) {
        let first = vec![
            value("DU1", 0, "NetLiquidation", "USD", "100250.75"),
            value("DU1", 0, "AccountType", "", "INDIVIDUAL"),
            value("DU1", 1, "NetLiquidation", "USD", "100300.10"),
            value("DU2", 0, "NetLiquidation", "EUR", "5000"),
            // Tabs, newlines and backslashes survive COPY's text format.
            value("DU1", 0, "Odd\tKey", "", "a\\b\nc"),
        ];
        assert_eq!(copy_values(&pool, &first).await.unwrap(), 5);
        assert_eq!(copy_values(&pool, &[]).await.unwrap(), 0);
        // A replay of the same batch, a revision, and a duplicate inside one batch.
        let second = vec![
            value("DU1", 1, "NetLiquidation", "USD", "100300.11"),
            value("DU1", 2, "NetLiquidation", "USD", "1"),
            value("DU1", 2, "NetLiquidation", "USD", "2"),
        ];
        copy_values(&pool, &first[..4]).await.unwrap();
        copy_values(&pool, &second).await.unwrap();
        let back = between(&pool, "DU1", t0(), t0() + Duration::minutes(2))
            .await
            .unwrap();
        assert_eq!(
            back,
            vec![
                value("DU1", 0, "AccountType", "", "INDIVIDUAL"),
                value("DU1", 0, "NetLiquidation", "USD", "100250.75"),
                value("DU1", 0, "Odd\tKey", "", "a\\b\nc"),
                value("DU1", 1, "NetLiquidation", "USD", "100300.11"),
            ],
            "half-open range, ordered by time then key; the revision replaced the value"
        );
        let later = between(
            &pool,
            "DU1",
            t0() + Duration::minutes(2),
            t0() + Duration::hours(1),
        )
        .await
        .unwrap();
        assert_eq!(later, vec![value("DU1", 2, "NetLiquidation", "USD", "2")]);
        let other = between(&pool, "DU2", t0(), t0() + Duration::hours(1))
            .await
            .unwrap();
        assert_eq!(other.len(), 1);
        assert_eq!(other[0].currency, "EUR");
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn two_copies_in_one_transaction(pool: PgPool) {
        let mut tx = pool.begin().await.unwrap();
        copy_values_in(&mut tx, &[value("DU1", 0, "A", "", "1")])
            .await
            .unwrap();
        copy_values_in(&mut tx, &[value("DU1", 0, "B", "", "2")])
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let back = between(&pool, "DU1", t0(), t0() + Duration::hours(1))
            .await
            .unwrap();
        assert_eq!(back.len(), 2);
    }

    #[test]
    fn copy_text_escapes_only_when_needed() {
        assert!(matches!(copy_text("plain"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(copy_text("a\tb\\c\nd\re"), "a\\tb\\\\c\\nd\\re");
    }
}
