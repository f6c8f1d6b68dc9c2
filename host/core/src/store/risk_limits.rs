//! Per-account risk limits in the `risk_limits` table. An account without a row trades under
//! [`RiskLimits::default`]; the gate is filled from here at start ([`load_all`]).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use sqlx::{PgConnection, PgPool};

use super::StoreError;
use crate::risk::{RiskGate, RiskLimits};

/// One account's stored limits and when they last changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRiskLimits {
    pub account: String,
    pub limits: RiskLimits,
    pub updated_at: DateTime<Utc>,
}

type Row = (
    String,
    Decimal,
    Decimal,
    Decimal,
    Decimal,
    i32,
    Decimal,
    i32,
    bool,
    DateTime<Utc>,
);

const COLUMNS: &str = "account, max_quantity, max_notional, price_collar, max_position, \
                       max_orders_per_minute, max_daily_loss, max_quote_age_ms, \
                       allow_delayed_quotes, updated_at";

fn from_row(row: Row) -> Result<StoredRiskLimits, StoreError> {
    let (
        account,
        max_quantity,
        max_notional,
        price_collar,
        max_position,
        orders,
        loss,
        age,
        delayed,
        updated_at,
    ) = row;
    let corrupt = |message: String| StoreError::Corrupt {
        what: "risk limits",
        message: format!("account {account}: {message}"),
    };
    let limits = RiskLimits {
        max_quantity,
        max_notional,
        price_collar,
        max_position,
        max_orders_per_minute: u32::try_from(orders)
            .map_err(|_| corrupt(format!("max_orders_per_minute {orders}")))?,
        max_daily_loss: loss,
        max_quote_age_ms: u64::try_from(age)
            .map_err(|_| corrupt(format!("max_quote_age_ms {age}")))?,
        allow_delayed_quotes: delayed,
    };
    limits.validate().map_err(corrupt)?;
    Ok(StoredRiskLimits {
        account,
        limits,
        updated_at,
    })
}

/// The limits stored for `account`, or `None` (it trades under the defaults).
pub async fn get(pool: &PgPool, account: &str) -> Result<Option<RiskLimits>, StoreError> {
    Ok(get_stored(pool, account).await?.map(|s| s.limits))
}

/// [`get`] with the time of the last change.
pub async fn get_stored(
    pool: &PgPool,
    account: &str,
) -> Result<Option<StoredRiskLimits>, StoreError> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM risk_limits WHERE account = $1"
    ))
    .bind(account)
    .fetch_optional(pool)
    .await?;
    row.map(from_row).transpose()
}

/// Every account with stored limits, by account.
pub async fn all(pool: &PgPool) -> Result<Vec<(String, RiskLimits)>, StoreError> {
    Ok(list(pool)
        .await?
        .into_iter()
        .map(|s| (s.account, s.limits))
        .collect())
}

/// [`all`] with the time of each last change.
pub async fn list(pool: &PgPool) -> Result<Vec<StoredRiskLimits>, StoreError> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM risk_limits ORDER BY account"
    ))
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(from_row).collect()
}

/// Stores `limits` for `account`, replacing what was there. The table's checks refuse values
/// [`RiskLimits::apply`] would refuse.
pub async fn set(pool: &PgPool, account: &str, limits: &RiskLimits) -> Result<(), StoreError> {
    let mut conn = pool.acquire().await?;
    upsert(&mut conn, account, limits).await
}

async fn upsert(
    conn: &mut PgConnection,
    account: &str,
    limits: &RiskLimits,
) -> Result<(), StoreError> {
    let age = i32::try_from(limits.max_quote_age_ms).map_err(|_| {
        StoreError::Database(format!(
            "max_quote_age_ms {} is too large",
            limits.max_quote_age_ms
        ))
    })?;
    let orders = i32::try_from(limits.max_orders_per_minute).map_err(|_| {
        StoreError::Database(format!(
            "max_orders_per_minute {} is too large",
            limits.max_orders_per_minute
        ))
    })?;
    sqlx::query(
        "INSERT INTO risk_limits (account, max_quantity, max_notional, price_collar, \
         max_position, max_orders_per_minute, max_daily_loss, max_quote_age_ms, \
         allow_delayed_quotes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (account) DO UPDATE SET max_quantity = $2, max_notional = $3, \
         price_collar = $4, max_position = $5, max_orders_per_minute = $6, \
         max_daily_loss = $7, max_quote_age_ms = $8, allow_delayed_quotes = $9, \
         updated_at = now()",
    )
    .bind(account)
    .bind(limits.max_quantity)
    .bind(limits.max_notional)
    .bind(limits.price_collar)
    .bind(limits.max_position)
    .bind(orders)
    .bind(limits.max_daily_loss)
    .bind(age)
    .bind(limits.allow_delayed_quotes)
    .execute(conn)
    .await?;
    Ok(())
}

/// Why [`update_audited`] changed nothing.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    /// The change itself was refused (a bad key or value): the message names it.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What [`update_audited`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitsChange {
    /// The stored limits before, or `None` when the account was on the defaults.
    pub old: Option<RiskLimits>,
    pub new: RiskLimits,
    /// The audit log entry that records the change.
    pub audit_id: i64,
}

/// Reads `account`'s limits (the defaults if none are stored), lets `change` edit them, stores
/// the result and appends an audit entry (`risk.limits_set`, details with old and new values),
/// all in one transaction: the change and its audit record are kept together or not at all.
/// Concurrent updates are serialised, so none is lost.
pub async fn update_audited(
    pool: &PgPool,
    account: &str,
    actor: &str,
    change: impl FnOnce(&mut RiskLimits) -> Result<(), String>,
) -> Result<LimitsChange, UpdateError> {
    if account.is_empty() || account.chars().any(char::is_whitespace) {
        return Err(UpdateError::Invalid(format!(
            "account `{}`: must be a non-empty name without spaces",
            account.escape_default()
        )));
    }
    let mut tx = pool.begin().await.map_err(StoreError::from)?;
    // Writers wait for each other (readers do not): a read-modify-write cannot interleave.
    sqlx::query("LOCK TABLE risk_limits IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from)?;
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM risk_limits WHERE account = $1"
    ))
    .bind(account)
    .fetch_optional(&mut *tx)
    .await
    .map_err(StoreError::from)?;
    let old = row.map(from_row).transpose()?.map(|s| s.limits);
    let mut new = old.clone().unwrap_or_default();
    change(&mut new).map_err(UpdateError::Invalid)?;
    new.validate().map_err(UpdateError::Invalid)?;
    upsert(&mut tx, account, &new).await?;
    // The statement of `store::audit::append`, here inside this transaction.
    let audit_id: i64 = sqlx::query_scalar(
        "INSERT INTO audit_log (actor, action, decision, reason, details) \
         VALUES ($1, $2, NULL, NULL, $3) RETURNING id",
    )
    .bind(actor)
    .bind("risk.limits_set")
    .bind(audit_details(account, old.as_ref(), &new))
    .fetch_one(&mut *tx)
    .await
    .map_err(StoreError::from)?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(LimitsChange { old, new, audit_id })
}

/// `{"account", "old", "old_was_default", "new", "changed": [keys]}`; `old` is the defaults
/// when nothing was stored.
fn audit_details(account: &str, old: Option<&RiskLimits>, new: &RiskLimits) -> Value {
    let defaults = RiskLimits::default();
    let before = old.unwrap_or(&defaults);
    let changed: Vec<&str> = before
        .entries()
        .into_iter()
        .zip(new.entries())
        .filter(|((_, a), (_, b))| a != b)
        .map(|((key, _), _)| key)
        .collect();
    json!({
        "account": account,
        "old": before,
        "old_was_default": old.is_none(),
        "new": new,
        "changed": changed,
    })
}

/// Gives `gate` the stored limits of every account (the others keep the gate's defaults).
/// Returns how many accounts have stored limits. Call before the gate is handed to the router.
pub async fn load_all(pool: &PgPool, gate: &mut RiskGate) -> Result<usize, StoreError> {
    let stored = all(pool).await?;
    let count = stored.len();
    for (account, limits) in stored {
        gate.set_limits(&account, limits);
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;
    use crate::store::audit;

    fn tight() -> RiskLimits {
        RiskLimits {
            max_quantity: dec!(10),
            price_collar: dec!(0.01),
            max_quote_age_ms: 750,
            allow_delayed_quotes: true,
            ..RiskLimits::default()
        }
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn set_get_all_round_trip(pool: PgPool) {
        assert_eq!(get(&pool, "DU1").await.unwrap(), None);
        assert!(all(&pool).await.unwrap().is_empty());
        set(&pool, "DU2", &RiskLimits::default()).await.unwrap();
        set(&pool, "DU1", &tight()).await.unwrap();
        assert_eq!(get(&pool, "DU1").await.unwrap(), Some(tight()));
        let stored = all(&pool).await.unwrap();
        assert_eq!(
            stored,
            vec![
                ("DU1".to_owned(), tight()),
                ("DU2".to_owned(), RiskLimits::default())
            ]
        );
        // Replacing keeps one row per account.
        set(&pool, "DU1", &RiskLimits::default()).await.unwrap();
        assert_eq!(
            get(&pool, "DU1").await.unwrap(),
            Some(RiskLimits::default())
        );
        assert_eq!(all(&pool).await.unwrap().len(), 2);
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn the_table_refuses_nonsense_written_by_hand(pool: PgPool) {
        for limits in [
            RiskLimits {
                price_collar: dec!(1.5),
                ..RiskLimits::default()
            },
            RiskLimits {
                max_quantity: dec!(-1),
                ..RiskLimits::default()
            },
            RiskLimits {
                max_quote_age_ms: 0,
                ..RiskLimits::default()
            },
        ] {
            let err = set(&pool, "DU1", &limits).await.unwrap_err();
            assert!(err.to_string().contains("check constraint"), "{err}");
        }
        assert!(set(&pool, "", &RiskLimits::default()).await.is_err());
        assert_eq!(get(&pool, "DU1").await.unwrap(), None);
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn update_audited_records_old_and_new_in_the_audit_log(pool: PgPool) {
        let first = update_audited(&pool, "DU1", "cli", |l| l.apply("max_quantity", "10"))
            .await
            .unwrap();
        assert_eq!(first.old, None);
        assert_eq!(first.new.max_quantity, dec!(10));
        let second = update_audited(&pool, "DU1", "cli", |l| {
            l.apply("price_collar", "0.02")?;
            l.apply("allow_delayed_quotes", "true")
        })
        .await
        .unwrap();
        assert_eq!(second.old.as_ref().unwrap().max_quantity, dec!(10));
        assert_eq!(second.new.max_quantity, dec!(10), "other keys are kept");
        assert_eq!(get(&pool, "DU1").await.unwrap(), Some(second.new.clone()));

        let entries = audit::recent(&pool, 10).await.unwrap();
        assert_eq!(entries.len(), 2);
        let newest = &entries[0];
        assert_eq!(newest.id, second.audit_id);
        assert_eq!(
            (newest.actor.as_str(), newest.action.as_str()),
            ("cli", "risk.limits_set")
        );
        assert_eq!(newest.details["account"], "DU1");
        assert_eq!(newest.details["old"]["price_collar"], "0.05");
        assert_eq!(newest.details["new"]["price_collar"], "0.02");
        assert_eq!(newest.details["old_was_default"], false);
        assert_eq!(
            newest.details["changed"],
            json!(["price_collar", "allow_delayed_quotes"])
        );
        assert_eq!(entries[1].details["old_was_default"], true);
        assert_eq!(entries[1].details["changed"], json!(["max_quantity"]));
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn a_refused_change_stores_and_audits_nothing(pool: PgPool) {
        let err = update_audited(&pool, "DU1", "cli", |l| {
            l.apply("max_quantity", "5")?;
            l.apply("price_collar", "2")
        })
        .await
        .unwrap_err();
        assert!(matches!(err, UpdateError::Invalid(_)), "{err:?}");
        assert!(err.to_string().starts_with("price_collar: `2`"), "{err}");
        let err = update_audited(&pool, "has space", "cli", |_| Ok(()))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("account `has space`"), "{err}");
        assert_eq!(get(&pool, "DU1").await.unwrap(), None);
        assert!(audit::recent(&pool, 10).await.unwrap().is_empty());
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn load_all_fills_the_gate(pool: PgPool) {
        set(&pool, "DU1", &tight()).await.unwrap();
        let mut gate = RiskGate::new(RiskLimits::default());
        assert_eq!(load_all(&pool, &mut gate).await.unwrap(), 1);
        assert_eq!(gate.limits("DU1"), &tight());
        assert_eq!(gate.limits("DU2"), &RiskLimits::default());
    }
}
