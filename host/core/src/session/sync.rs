//! Synchronisation after every (re)connect: read what TWS knows, reconcile it with what
//! PostgreSQL holds, and say what changed while we were away.
//!
//! Order reconciliation is what keeps an order from being lost or sent twice: every order we
//! send carries our `order_ref` as TWS's `orderRef`, so after a gap each of our unfinished
//! orders is looked up in TWS's open and completed orders. Found: its status is brought up to
//! date. Not found and never acknowledged (`PendingSubmit`): TWS never received it, so it may be
//! resent. Not found but acknowledged before: its outcome is unknown, and the report says so.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::Utc;
use futures::StreamExt;
use ibapi::Client;
use ibapi::accounts::types::AccountId;
use ibapi::accounts::{AccountUpdate, PositionUpdate};
use ibapi::orders::{ExecutionFilter, Executions, Orders};
use ibapi::subscriptions::SubscriptionItem;
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::PgPool;

use super::convert::decimal;
use super::order_flow::{self, InstrumentCache};
use super::order_ids::OrderIds;
use super::positions::{Holdings, PositionStream};
use crate::domain::{Order, Position};
use crate::hub::{AccountValue, Hub};
use crate::recorder::Recorder;
use crate::store::{accounts, orders, positions};

/// How long one synchronisation step may take before it counts as failed.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("TWS: {0}")]
    Tws(String),
    #[error("{0} did not finish within {STEP_TIMEOUT:?}")]
    Timeout(&'static str),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl From<ibapi::Error> for SyncError {
    fn from(err: ibapi::Error) -> Self {
        SyncError::Tws(err.to_string())
    }
}

/// One of our orders whose status changed while we were away.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderChange {
    pub order_ref: String,
    pub before: String,
    pub after: String,
}

/// One of our orders whose quantity or prices TWS holds differently from what we stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderAmended {
    pub order_ref: String,
    /// (quantity, limit price, stop price) before and after.
    pub before: (Decimal, Option<Decimal>, Option<Decimal>),
    pub after: (Decimal, Option<Decimal>, Option<Decimal>),
}

/// A position that differs from the last snapshot we stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PositionChange {
    pub account: String,
    pub instrument_id: i64,
    pub before: Decimal,
    pub after: Decimal,
}

/// What a synchronisation found; stored as JSON in `sync_reports`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    pub accounts: Vec<String>,
    pub next_order_id: i32,
    pub positions: usize,
    pub positions_changed: Vec<PositionChange>,
    pub account_values: usize,
    pub open_orders: usize,
    pub orders_updated: Vec<OrderChange>,
    /// Ours, acknowledged by TWS before, now in neither its open nor its completed orders.
    pub orders_unknown: Vec<String>,
    /// Ours, never acknowledged and not known to TWS: safe to send (the session decides).
    pub orders_never_received: Vec<String>,
    /// Ours, whose quantity or prices at TWS differ from what we had stored (a modification
    /// acknowledged while we were away); the stored order now holds TWS's.
    pub orders_amended: Vec<OrderAmended>,
    /// Modifications TWS never acknowledged: dropped, the order stays as TWS has it.
    pub modifications_lost: Vec<String>,
    pub executions_added: usize,
}

/// The outcome of a synchronisation: the report, the positions, and the positions subscription
/// to keep following.
pub struct Synchronised {
    pub report: SyncReport,
    pub holdings: Holdings,
    pub positions_stream: PositionStream,
}

async fn bounded<T>(
    what: &'static str,
    fut: impl std::future::Future<Output = T>,
) -> Result<T, SyncError> {
    tokio::time::timeout(STEP_TIMEOUT, fut)
        .await
        .map_err(|_| SyncError::Timeout(what))
}

/// Reads everything from TWS and reconciles. `ids` learns which TWS order is which of ours.
pub async fn synchronise(
    client: &Client,
    pool: &PgPool,
    hub: &Hub,
    recorder: Option<&Recorder>,
    ids: &mut OrderIds,
    cache: &mut InstrumentCache,
) -> Result<Synchronised, SyncError> {
    let mut report = SyncReport {
        accounts: bounded("managed accounts", client.managed_accounts()).await??,
        next_order_id: client.next_order_id(),
        ..SyncReport::default()
    };
    for account in &report.accounts {
        accounts::seen(pool, account).await?;
    }
    let (holdings, positions_stream) = sync_positions(client, pool, hub, &mut report).await?;
    for account in report.accounts.clone() {
        sync_account_values(client, hub, recorder, &account, &mut report).await?;
    }
    let seen = sync_orders(client, pool, hub, ids, &mut report).await?;
    sync_executions(client, pool, hub, recorder, cache, &mut report).await?;
    reconcile_missing(pool, &report.accounts.clone(), &seen, &mut report).await?;
    Ok(Synchronised {
        report,
        holdings,
        positions_stream,
    })
}

async fn sync_positions(
    client: &Client,
    pool: &PgPool,
    hub: &Hub,
    report: &mut SyncReport,
) -> Result<(Holdings, PositionStream), SyncError> {
    let mut stream = client.positions().await?;
    let mut holdings = Holdings::default();
    loop {
        match bounded("positions", stream.next()).await? {
            Some(Ok(SubscriptionItem::Data(PositionUpdate::Position(p)))) => {
                holdings.apply(pool, hub, &p).await?;
            }
            Some(Ok(SubscriptionItem::Data(PositionUpdate::PositionEnd))) => break,
            Some(Ok(SubscriptionItem::Notice(_))) => {}
            Some(Err(err)) => return Err(err.into()),
            None => return Err(SyncError::Tws("positions ended before PositionEnd".into())),
        }
    }
    let mut by_account: BTreeMap<String, Vec<Position>> = holdings
        .by_account
        .iter()
        .map(|(account, held)| (account.clone(), held.values().cloned().collect()))
        .collect();
    for account in &report.accounts {
        let now = by_account.remove(account).unwrap_or_default();
        let before: HashMap<i64, Decimal> = positions::latest(pool, account)
            .await?
            .map(|(_, held)| {
                held.into_iter()
                    .map(|p| (p.instrument_id, p.quantity))
                    .collect()
            })
            .unwrap_or_default();
        let after: HashMap<i64, Decimal> =
            now.iter().map(|p| (p.instrument_id, p.quantity)).collect();
        let mut ids: Vec<i64> = before.keys().chain(after.keys()).copied().collect();
        ids.sort_unstable();
        ids.dedup();
        for id in ids {
            let (b, a) = (
                before.get(&id).copied().unwrap_or_default(),
                after.get(&id).copied().unwrap_or_default(),
            );
            if b != a {
                report.positions_changed.push(PositionChange {
                    account: account.clone(),
                    instrument_id: id,
                    before: b,
                    after: a,
                });
            }
        }
        report.positions += now.len();
        positions::record_snapshot(pool, account, "sync", &now).await?;
    }
    Ok((holdings, stream))
}

async fn sync_account_values(
    client: &Client,
    hub: &Hub,
    recorder: Option<&Recorder>,
    account: &str,
    report: &mut SyncReport,
) -> Result<(), SyncError> {
    let taken_at = Utc::now();
    let mut stream = client
        .account_updates(&AccountId(account.to_owned()))
        .await?;
    loop {
        match bounded("account updates", stream.next()).await? {
            Some(Ok(SubscriptionItem::Data(AccountUpdate::AccountValue(v)))) => {
                report.account_values += 1;
                let value = AccountValue {
                    account: v.account.unwrap_or_else(|| account.to_owned()),
                    key: v.key,
                    value: v.value,
                    currency: v.currency,
                };
                if let Some(recorder) = recorder {
                    let row = crate::store::account_values::AccountValue {
                        account: value.account.clone(),
                        taken_at,
                        key: value.key.clone(),
                        currency: value.currency.clone(),
                        value: value.value.clone(),
                    };
                    if let Err(err) = recorder.record_account_value(row).await {
                        tracing::error!(error = %err, "cannot record an account value");
                    }
                }
                hub.publish_account(value);
            }
            Some(Ok(SubscriptionItem::Data(AccountUpdate::End))) => return Ok(()),
            Some(Ok(_)) => {}
            Some(Err(err)) => return Err(err.into()),
            None => {
                return Err(SyncError::Tws(
                    "account updates ended before AccountDownloadEnd".into(),
                ));
            }
        }
    }
}

/// Open and completed orders; returns the order refs TWS knows.
async fn sync_orders(
    client: &Client,
    pool: &PgPool,
    hub: &Hub,
    ids: &mut OrderIds,
    report: &mut SyncReport,
) -> Result<HashMap<String, String>, SyncError> {
    let mut seen: HashMap<String, String> = HashMap::new();
    for completed in [false, true] {
        let mut stream = if completed {
            client.completed_orders(false).await?
        } else {
            client.all_open_orders().await?
        };
        loop {
            let item = match bounded(
                if completed {
                    "completed orders"
                } else {
                    "open orders"
                },
                stream.next(),
            )
            .await?
            {
                Some(Ok(SubscriptionItem::Data(item))) => item,
                Some(Ok(SubscriptionItem::Notice(_))) => continue,
                Some(Err(err)) => return Err(err.into()),
                None => break,
            };
            match item {
                Orders::OrderData(data) => {
                    if !completed {
                        report.open_orders += 1;
                    }
                    let order_ref = data.order.order_ref.clone();
                    if order_ref.is_empty() {
                        continue;
                    }
                    let status = data.order_state.status.as_str().to_owned();
                    let stored = orders::get(pool, &order_ref).await?;
                    if !completed {
                        ids.link(data.order.client_id, data.order_id, &order_ref);
                        ids.set_status(data.order.client_id, data.order_id, &status);
                        if let Some(stored) = &stored {
                            acknowledged(pool, stored, &data.order, report).await?;
                        }
                        orders::set_tws_ids(
                            pool,
                            &order_ref,
                            data.order_id,
                            Some(data.order.perm_id).filter(|p| *p != 0),
                            data.order.client_id,
                        )
                        .await?;
                    }
                    if let Some(before) = stored.map(|o| o.status)
                        && before != status
                    {
                        report.orders_updated.push(OrderChange {
                            order_ref: order_ref.clone(),
                            before,
                            after: status.clone(),
                        });
                        orders::update_status(
                            pool,
                            &order_ref,
                            &status,
                            decimal(data.order.filled_quantity).unwrap_or_default(),
                            None,
                        )
                        .await?;
                    }
                    seen.insert(order_ref, status);
                }
                Orders::OrderStatus(status) => {
                    order_flow::apply_status(pool, hub, ids, &status).await?;
                }
            }
        }
    }
    Ok(seen)
}

/// Compares the quantity and prices TWS holds for one of our open orders with what we stored:
/// TWS's are the truth; a requested modification they do not match never reached TWS.
async fn acknowledged(
    pool: &PgPool,
    stored: &Order,
    at_tws: &ibapi::orders::Order,
    report: &mut SyncReport,
) -> Result<(), SyncError> {
    let order_ref = stored.order_ref.as_str();
    let (Some(quantity), limit, stop) = order_flow::acknowledged_terms(stored.order_type, at_tws)
    else {
        return Ok(());
    };
    let outcome = orders::acknowledge(pool, stored, quantity, limit, stop).await?;
    if outcome.changed {
        report.orders_amended.push(OrderAmended {
            order_ref: order_ref.to_owned(),
            before: (stored.quantity, stored.limit_price, stored.stop_price),
            after: (quantity, limit, stop),
        });
    }
    if outcome.requested_pending {
        tracing::warn!(
            order_ref,
            requested = ?stored.requested,
            "a modification TWS never acknowledged is dropped"
        );
        orders::clear_requested_change(pool, order_ref).await?;
        report.modifications_lost.push(order_ref.to_owned());
    }
    Ok(())
}

async fn sync_executions(
    client: &Client,
    pool: &PgPool,
    hub: &Hub,
    recorder: Option<&Recorder>,
    cache: &mut InstrumentCache,
    report: &mut SyncReport,
) -> Result<(), SyncError> {
    let mut since = None;
    for account in &report.accounts {
        if let Some(last) = crate::store::executions::last_time(pool, account).await? {
            since = Some(since.map_or(last, |s: chrono::DateTime<Utc>| s.min(last)));
        }
    }
    let filter = ExecutionFilter {
        // A minute of overlap: recording is idempotent by exec id, a gap is not.
        time: since
            .map(|t| {
                (t - chrono::Duration::seconds(60))
                    .format("%Y%m%d-%H:%M:%S")
                    .to_string()
            })
            .unwrap_or_default(),
        ..ExecutionFilter::default()
    };
    let mut stream = client.executions(filter).await?;
    loop {
        match bounded("executions", stream.next()).await? {
            Some(Ok(SubscriptionItem::Data(Executions::ExecutionData(data)))) => {
                if order_flow::record_execution(pool, hub, recorder, cache, &data).await? {
                    report.executions_added += 1;
                }
            }
            Some(Ok(SubscriptionItem::Data(Executions::CommissionReport(commission)))) => {
                order_flow::record_commission(pool, recorder, &commission).await?;
            }
            Some(Ok(SubscriptionItem::Notice(_))) => {}
            Some(Err(err)) => return Err(err.into()),
            None => return Ok(()),
        }
    }
}

async fn reconcile_missing(
    pool: &PgPool,
    accounts: &[String],
    seen: &HashMap<String, String>,
    report: &mut SyncReport,
) -> Result<(), SyncError> {
    for account in accounts {
        for order in orders::working(pool, account).await? {
            if seen.contains_key(&order.order_ref) {
                continue;
            }
            if order.status == orders::STATUS_PENDING_SUBMIT {
                report.orders_never_received.push(order.order_ref);
            } else {
                report.orders_unknown.push(order.order_ref);
            }
        }
    }
    Ok(())
}
