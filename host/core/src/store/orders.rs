//! Orders: written before they are sent, updated as TWS reports on them.

use rust_decimal::Decimal;
use sqlx::{PgPool, Row};

use super::{StoreError, parse_column};
use crate::domain::Order;

/// A new order as the risk gate approved it, before TWS has seen it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    pub order_ref: String,
    pub account: String,
    pub instrument_id: i64,
    pub origin: String,
    pub side: crate::domain::OrderSide,
    pub quantity: Decimal,
    pub order_type: crate::domain::OrderType,
    pub limit_price: Option<Decimal>,
    pub stop_price: Option<Decimal>,
    pub time_in_force: crate::domain::TimeInForce,
    pub parent_ref: Option<String>,
}

/// The status TWS reports for an order before we know anything else.
pub const STATUS_PENDING_SUBMIT: &str = "PendingSubmit";
/// Statuses after which an order can no longer fill.
pub const FINAL_STATUSES: &[&str] = &[
    "Filled",
    "Cancelled",
    "ApiCancelled",
    "Inactive",
    "Rejected",
];

/// Inserts the order; the unique `order_ref` makes a second insert of the same order fail.
pub async fn insert(pool: &PgPool, order: &NewOrder) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO orders (order_ref, account, instrument_id, origin, side, quantity, order_type, \
         limit_price, stop_price, time_in_force, parent_ref, status) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&order.order_ref)
    .bind(&order.account)
    .bind(order.instrument_id)
    .bind(&order.origin)
    .bind(order.side.as_str())
    .bind(order.quantity)
    .bind(order.order_type.as_str())
    .bind(order.limit_price)
    .bind(order.stop_price)
    .bind(order.time_in_force.as_str())
    .bind(&order.parent_ref)
    .bind(STATUS_PENDING_SUBMIT)
    .execute(pool)
    .await?;
    Ok(())
}

/// Links our order to the ids TWS gave it.
pub async fn set_tws_ids(
    pool: &PgPool,
    order_ref: &str,
    order_id: i32,
    perm_id: Option<i64>,
    client_id: i32,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE orders SET tws_order_id = $2, tws_perm_id = COALESCE($3, tws_perm_id), \
         tws_client_id = $4, updated_at = now() WHERE order_ref = $1",
    )
    .bind(order_ref)
    .bind(order_id)
    .bind(perm_id)
    .bind(client_id)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Applies an order status report. Filled quantity never goes backwards, whatever order the
/// reports arrive in.
pub async fn update_status(
    pool: &PgPool,
    order_ref: &str,
    status: &str,
    filled: Decimal,
    average_fill_price: Option<Decimal>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE orders SET status = $2, filled_quantity = GREATEST(filled_quantity, $3), \
         average_fill_price = COALESCE($4, average_fill_price), updated_at = now() \
         WHERE order_ref = $1",
    )
    .bind(order_ref)
    .bind(status)
    .bind(filled)
    .bind(average_fill_price)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a modification the gate allowed, before TWS acknowledges it: the acknowledged
/// quantity and prices stay as they are.
pub async fn request_change(
    pool: &PgPool,
    order_ref: &str,
    quantity: Decimal,
    limit_price: Option<Decimal>,
    stop_price: Option<Decimal>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE orders SET requested_quantity = $2, requested_limit_price = $3, \
         requested_stop_price = $4, requested_at = now(), updated_at = now() \
         WHERE order_ref = $1",
    )
    .bind(order_ref)
    .bind(quantity)
    .bind(limit_price)
    .bind(stop_price)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Drops a requested modification (refused, rejected, or not acknowledged by TWS).
pub async fn clear_requested_change(pool: &PgPool, order_ref: &str) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE orders SET requested_quantity = NULL, requested_limit_price = NULL, \
         requested_stop_price = NULL, requested_at = NULL, updated_at = now() \
         WHERE order_ref = $1",
    )
    .bind(order_ref)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// What [`acknowledge`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Acknowledgement {
    /// The stored quantity or prices were different and now are TWS's.
    pub changed: bool,
    /// A requested modification TWS's terms do not match is still pending.
    pub requested_pending: bool,
}

/// What TWS acknowledged for `stored` (its open-order report): the stored quantity and prices
/// become these. A requested change they match is done and cleared; one they do not match
/// stays pending.
pub async fn acknowledge(
    pool: &PgPool,
    stored: &Order,
    quantity: Decimal,
    limit_price: Option<Decimal>,
    stop_price: Option<Decimal>,
) -> Result<Acknowledgement, StoreError> {
    let done = stored.requested.as_ref().is_some_and(|r| {
        r.quantity == quantity && r.limit_price == limit_price && r.stop_price == stop_price
    });
    let same = stored.quantity == quantity
        && stored.limit_price == limit_price
        && stored.stop_price == stop_price;
    let outcome = Acknowledgement {
        changed: !same,
        requested_pending: stored.requested.is_some() && !done,
    };
    if same && !done {
        return Ok(outcome);
    }
    sqlx::query(
        "UPDATE orders SET quantity = $2, limit_price = $3, stop_price = $4, \
         requested_quantity = CASE WHEN $5 THEN NULL ELSE requested_quantity END, \
         requested_limit_price = CASE WHEN $5 THEN NULL ELSE requested_limit_price END, \
         requested_stop_price = CASE WHEN $5 THEN NULL ELSE requested_stop_price END, \
         requested_at = CASE WHEN $5 THEN NULL ELSE requested_at END, updated_at = now() \
         WHERE order_ref = $1",
    )
    .bind(&stored.order_ref)
    .bind(quantity)
    .bind(limit_price)
    .bind(stop_price)
    .bind(done)
    .execute(pool)
    .await?;
    Ok(outcome)
}

/// Ends an order with a reason (a rejection, or ours: expired, not resent, cancelled locally).
pub async fn finish(
    pool: &PgPool,
    order_ref: &str,
    status: &str,
    reason: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE orders SET status = $2, status_reason = $3, requested_quantity = NULL, \
         requested_limit_price = NULL, requested_stop_price = NULL, requested_at = NULL, \
         updated_at = now() WHERE order_ref = $1",
    )
    .bind(order_ref)
    .bind(status)
    .bind(reason)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Notes that the trader asked to cancel, so the request survives a restart.
pub async fn request_cancel(pool: &PgPool, order_ref: &str) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE orders SET cancel_requested_at = COALESCE(cancel_requested_at, now()), \
         updated_at = now() WHERE order_ref = $1",
    )
    .bind(order_ref)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Every order that may still fill, of any account (the kill switch's list).
pub async fn all_working(pool: &PgPool) -> Result<Vec<Order>, StoreError> {
    let rows = sqlx::query("SELECT * FROM orders WHERE status <> ALL($1) ORDER BY created_at, id")
        .bind(FINAL_STATUSES)
        .fetch_all(pool)
        .await?;
    rows.iter().map(from_row).collect()
}

/// The children of a bracket parent, in the order they were sent.
pub async fn children(pool: &PgPool, parent_ref: &str) -> Result<Vec<Order>, StoreError> {
    let rows = sqlx::query("SELECT * FROM orders WHERE parent_ref = $1 ORDER BY created_at, id")
        .bind(parent_ref)
        .fetch_all(pool)
        .await?;
    rows.iter().map(from_row).collect()
}

pub async fn get(pool: &PgPool, order_ref: &str) -> Result<Option<Order>, StoreError> {
    let row = sqlx::query("SELECT * FROM orders WHERE order_ref = $1")
        .bind(order_ref)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Orders of an account that may still fill: what a reconnect must reconcile.
pub async fn working(pool: &PgPool, account: &str) -> Result<Vec<Order>, StoreError> {
    let rows = sqlx::query(
        "SELECT * FROM orders WHERE account = $1 AND status <> ALL($2) ORDER BY created_at, id",
    )
    .bind(account)
    .bind(FINAL_STATUSES)
    .fetch_all(pool)
    .await?;
    rows.iter().map(from_row).collect()
}

fn from_row(row: &sqlx::postgres::PgRow) -> Result<Order, StoreError> {
    let side: String = row.try_get("side")?;
    let order_type: String = row.try_get("order_type")?;
    let tif: String = row.try_get("time_in_force")?;
    Ok(Order {
        order_ref: row.try_get("order_ref")?,
        account: row.try_get("account")?,
        instrument_id: row.try_get("instrument_id")?,
        origin: row.try_get("origin")?,
        side: parse_column(&side)?,
        quantity: row.try_get("quantity")?,
        order_type: parse_column(&order_type)?,
        limit_price: row.try_get("limit_price")?,
        stop_price: row.try_get("stop_price")?,
        time_in_force: parse_column(&tif)?,
        parent_ref: row.try_get("parent_ref")?,
        tws_order_id: row.try_get("tws_order_id")?,
        tws_perm_id: row.try_get("tws_perm_id")?,
        tws_client_id: row.try_get("tws_client_id")?,
        status: row.try_get("status")?,
        status_reason: row.try_get("status_reason")?,
        requested: match row.try_get::<Option<Decimal>, _>("requested_quantity")? {
            Some(quantity) => Some(crate::domain::RequestedChange {
                quantity,
                limit_price: row.try_get("requested_limit_price")?,
                stop_price: row.try_get("requested_stop_price")?,
                at: row
                    .try_get::<Option<chrono::DateTime<chrono::Utc>>, _>("requested_at")?
                    .unwrap_or_else(chrono::Utc::now),
            }),
            None => None,
        },
        cancel_requested_at: row.try_get("cancel_requested_at")?,
        filled_quantity: row.try_get("filled_quantity")?,
        average_fill_price: row.try_get("average_fill_price")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;
    use crate::domain::{InstrumentSpec, OrderSide, OrderType, TimeInForce};
    use crate::store::instruments;

    async fn limit_buy(pool: &PgPool, order_ref: &str) -> NewOrder {
        let aapl = instruments::upsert(pool, &InstrumentSpec::stock("AAPL"))
            .await
            .unwrap();
        NewOrder {
            order_ref: order_ref.to_owned(),
            account: "DU1".to_owned(),
            instrument_id: aapl.id,
            origin: "ui".to_owned(),
            side: OrderSide::Buy,
            quantity: dec!(100),
            order_type: OrderType::Limit,
            limit_price: Some(dec!(187.25)),
            stop_price: None,
            time_in_force: TimeInForce::Day,
            parent_ref: None,
        }
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn lifecycle_and_duplicate_ref(pool: PgPool) {
        let order = limit_buy(&pool, "tw-1").await;
        insert(&pool, &order).await.unwrap();
        assert!(
            insert(&pool, &order).await.is_err(),
            "same order_ref twice must fail"
        );
        assert!(
            set_tws_ids(&pool, "tw-1", 17, Some(9_000_001), 1)
                .await
                .unwrap()
        );
        update_status(&pool, "tw-1", "Submitted", dec!(0), None)
            .await
            .unwrap();
        assert_eq!(working(&pool, "DU1").await.unwrap().len(), 1);
        update_status(
            &pool,
            "tw-1",
            "PartiallyFilled",
            dec!(60),
            Some(dec!(187.20)),
        )
        .await
        .unwrap();
        // A late report with less filled must not undo the fill.
        update_status(&pool, "tw-1", "Filled", dec!(40), Some(dec!(187.21)))
            .await
            .unwrap();
        let stored = get(&pool, "tw-1").await.unwrap().unwrap();
        assert_eq!(stored.filled_quantity, dec!(60));
        assert_eq!(stored.average_fill_price, Some(dec!(187.21)));
        assert_eq!(stored.tws_perm_id, Some(9_000_001));
        assert_eq!(stored.limit_price, Some(dec!(187.25)));
        assert!(working(&pool, "DU1").await.unwrap().is_empty());
        assert!(
            !update_status(&pool, "nope", "Filled", dec!(1), None)
                .await
                .unwrap()
        );
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn bracket_child_references_parent(pool: PgPool) {
        let parent = limit_buy(&pool, "tw-p").await;
        insert(&pool, &parent).await.unwrap();
        let child = NewOrder {
            order_ref: "tw-c".into(),
            side: OrderSide::Sell,
            order_type: OrderType::Stop,
            limit_price: None,
            stop_price: Some(dec!(180)),
            time_in_force: TimeInForce::Gtc,
            parent_ref: Some("tw-p".into()),
            ..parent.clone()
        };
        insert(&pool, &child).await.unwrap();
        let orphan = NewOrder {
            order_ref: "tw-o".into(),
            parent_ref: Some("missing".into()),
            ..child
        };
        assert!(insert(&pool, &orphan).await.is_err());
        assert_eq!(
            get(&pool, "tw-c")
                .await
                .unwrap()
                .unwrap()
                .parent_ref
                .as_deref(),
            Some("tw-p")
        );
    }
}
