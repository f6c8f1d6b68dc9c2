//! Orders between the workbench and TWS: sending with our `order_ref`, and applying what TWS
//! reports (status, executions, commissions) to PostgreSQL and the hub.

use std::collections::HashMap;

use ibapi::Client;
use ibapi::orders::{
    Action, CommissionReport, ExecutionData, ExecutionSide, Order, OrderStatus,
    TimeInForce as IbTif,
};
use sqlx::PgPool;

use super::convert::{self, decimal, spec_from_contract, wire_f64};
use super::order_ids::OrderIds;
use crate::domain::{ExecSide, Execution, InstrumentSpec, OrderSide, TimeInForce};
use crate::domain::{OrderIntent, TwsWhatIf};
use crate::hub::{Hub, OrderUpdate};
use crate::recorder::Recorder;
use crate::store::{StoreError, executions, instruments, orders};

/// The instrument ids of contracts seen, so that a fill can still be journaled while
/// PostgreSQL is unreachable.
#[derive(Debug, Default)]
pub struct InstrumentCache {
    instruments: HashMap<InstrumentSpec, i64>,
}

impl InstrumentCache {
    /// The instrument id of `spec`: stored (and remembered) when the database answers, else
    /// from memory.
    pub async fn instrument_id(
        &mut self,
        pool: &PgPool,
        spec: &InstrumentSpec,
    ) -> Result<i64, StoreError> {
        match instruments::upsert(pool, spec).await {
            Ok(instrument) => {
                self.instruments.insert(spec.clone(), instrument.id);
                Ok(instrument.id)
            }
            Err(err) => self.instruments.get(spec).copied().ok_or(err),
        }
    }
}

/// The `ibapi` order for an intent, carrying our reference.
pub fn wire_order(intent: &OrderIntent, order_ref: &str, parent_id: i32, transmit: bool) -> Order {
    Order {
        action: match intent.side {
            OrderSide::Buy => Action::Buy,
            OrderSide::Sell => Action::Sell,
        },
        total_quantity: wire_f64(intent.quantity),
        order_type: intent.order_type.as_str().to_owned(),
        limit_price: intent.limit_price.map(wire_f64),
        aux_price: intent.stop_price.map(wire_f64),
        tif: match intent.time_in_force {
            TimeInForce::Day => IbTif::Day,
            TimeInForce::Gtc => IbTif::GoodTillCanceled,
            TimeInForce::Ioc => IbTif::ImmediateOrCancel,
        },
        account: intent.account.clone(),
        order_ref: order_ref.to_owned(),
        parent_id,
        transmit,
        ..Order::default()
    }
}

/// Quantity, limit and stop price of an order as TWS holds it, read the way our order type
/// uses them (TWS fills unused price fields with zero or a sentinel).
pub fn acknowledged_terms(
    order_type: crate::domain::OrderType,
    at_tws: &Order,
) -> (
    Option<rust_decimal::Decimal>,
    Option<rust_decimal::Decimal>,
    Option<rust_decimal::Decimal>,
) {
    use crate::domain::OrderType::*;
    let (limit, stop) = match order_type {
        Market => (false, false),
        Limit => (true, false),
        Stop => (false, true),
        StopLimit => (true, true),
    };
    (
        decimal(at_tws.total_quantity),
        at_tws.limit_price.and_then(decimal).filter(|_| limit),
        at_tws.aux_price.and_then(decimal).filter(|_| stop),
    )
}

/// Sends a new order (or a modification, when `order_id` is a working order of ours).
/// The id is stored before sending so that every status TWS reports can be attributed.
pub async fn send(
    client: &Client,
    pool: &PgPool,
    ids: &mut OrderIds,
    order_ref: &str,
    intent: &OrderIntent,
    order_id: i32,
    transmit: bool,
) -> Result<(), SendError> {
    let parent_id = match &intent.parent_ref {
        Some(parent) => ids
            .order_id(client.client_id(), parent)
            .ok_or_else(|| SendError::UnknownParent(parent.clone()))?,
        None => 0,
    };
    orders::set_tws_ids(pool, order_ref, order_id, None, client.client_id()).await?;
    ids.link(client.client_id(), order_id, order_ref);
    let contract = convert::contract_for(&intent.instrument);
    client
        .submit_order(
            order_id,
            &contract,
            &wire_order(intent, order_ref, parent_id, transmit),
        )
        .await
        .map_err(|e| SendError::Tws(e.to_string()))
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("bracket parent {0} is not known to this session")]
    UnknownParent(String),
    #[error("TWS: {0}")]
    Tws(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Applies an order status report to the orders table and the hub.
pub async fn apply_status(
    pool: &PgPool,
    hub: &Hub,
    ids: &mut OrderIds,
    status: &OrderStatus,
) -> Result<(), StoreError> {
    ids.set_status(status.client_id, status.order_id, status.status.as_str());
    let order_ref = ids
        .order_ref(status.client_id, status.order_id)
        .map(str::to_owned);
    let filled = decimal(status.filled).unwrap_or_default();
    let average = status
        .average_fill_price
        .and_then(decimal)
        .filter(|p| !p.is_zero());
    if let Some(order_ref) = &order_ref {
        orders::update_status(pool, order_ref, status.status.as_str(), filled, average).await?;
        if status.perm_id != 0 {
            orders::set_tws_ids(
                pool,
                order_ref,
                status.order_id,
                Some(status.perm_id),
                status.client_id,
            )
            .await?;
        }
    }
    hub.publish_order(OrderUpdate {
        order_ref,
        tws_order_id: status.order_id,
        status: status.status.as_str().to_owned(),
        filled,
        remaining: decimal(status.remaining).unwrap_or_default(),
        average_fill_price: average,
    });
    Ok(())
}

/// Stores an execution (idempotently) and publishes it; `true` if it was new.
pub async fn record_execution(
    pool: &PgPool,
    hub: &Hub,
    recorder: Option<&Recorder>,
    cache: &mut InstrumentCache,
    data: &ExecutionData,
) -> Result<bool, StoreError> {
    let exec = &data.execution;
    let spec = spec_from_contract(&data.contract).map_err(|e| StoreError::Corrupt {
        what: "execution contract",
        message: e.to_string(),
    })?;
    let instrument_id = cache.instrument_id(pool, &spec).await?;
    let executed_at = convert::tws_time(&exec.time).map_err(|e| StoreError::Corrupt {
        what: "execution time",
        message: e.to_string(),
    })?;
    let fill = Execution {
        exec_id: exec.execution_id.clone(),
        order_ref: Some(exec.order_reference.clone()).filter(|r| !r.is_empty()),
        tws_order_id: Some(exec.order_id),
        tws_perm_id: Some(exec.perm_id).filter(|p| *p != 0),
        account: exec.account_number.clone(),
        instrument_id,
        side: match exec.side {
            ExecutionSide::Bought => ExecSide::Bought,
            _ => ExecSide::Sold,
        },
        quantity: decimal(exec.shares).unwrap_or_default(),
        price: decimal(exec.price).unwrap_or_default(),
        commission: None,
        commission_currency: None,
        realized_pnl: None,
        executed_at,
    };
    let new = match executions::record(pool, &fill).await {
        Ok(new) => new,
        // PostgreSQL is unreachable: the recorder journals the fill and writes it (idempotently,
        // by exec id) once the database is back.
        Err(err) => match recorder {
            Some(recorder) => {
                tracing::warn!(error = %err, exec_id = %fill.exec_id, "journaling a fill");
                recorder
                    .record_execution(fill.clone())
                    .await
                    .map_err(|e| StoreError::Database(e.to_string()))?;
                true
            }
            None => return Err(err),
        },
    };
    if new {
        hub.publish_fill(fill);
    }
    Ok(new)
}

pub async fn record_commission(
    pool: &PgPool,
    recorder: Option<&Recorder>,
    report: &CommissionReport,
) -> Result<(), StoreError> {
    let Some(commission) = decimal(report.commission) else {
        return Ok(());
    };
    let realized_pnl = report.realized_pnl.and_then(decimal);
    let stored = executions::set_commission(
        pool,
        &report.execution_id,
        commission,
        &report.currency,
        realized_pnl,
    )
    .await;
    match (stored, recorder) {
        // Not stored (database down, or the fill itself is still in the journal): the recorder
        // applies it after the fill.
        (Ok(false) | Err(_), Some(recorder)) => recorder
            .record_commission(crate::recorder::CommissionReport {
                exec_id: report.execution_id.clone(),
                commission,
                currency: report.currency.clone(),
                realized_pnl,
            })
            .await
            .map_err(|e| StoreError::Database(e.to_string())),
        (Ok(_), _) => Ok(()),
        (Err(err), None) => Err(err),
    }
}

/// Asks TWS what the order would do to the account, without placing it.
pub async fn what_if(client: &Client, intent: &OrderIntent) -> Result<TwsWhatIf, String> {
    use futures::StreamExt;
    use ibapi::subscriptions::SubscriptionItem;
    let order_id = client.next_order_id();
    let mut order = wire_order(intent, "", 0, true);
    order.what_if = true;
    let contract = convert::contract_for(&intent.instrument);
    let mut answers = client
        .place_order(order_id, &contract, &order)
        .await
        .map_err(|e| e.to_string())?;
    let wait = std::time::Duration::from_secs(10);
    loop {
        match tokio::time::timeout(wait, answers.next()).await {
            Err(_) => return Err(format!("no what-if answer from TWS within {wait:?}")),
            Ok(None) => return Err("TWS ended the what-if without an answer".into()),
            Ok(Some(Err(err))) => return Err(err.to_string()),
            Ok(Some(Ok(SubscriptionItem::Data(ibapi::orders::PlaceOrder::OpenOrder(data)))))
                if data.order_id == order_id =>
            {
                let state = data.order_state;
                return Ok(TwsWhatIf {
                    initial_margin_after: state.initial_margin_after.and_then(decimal),
                    maintenance_margin_after: state.maintenance_margin_after.and_then(decimal),
                    equity_with_loan_after: state.equity_with_loan_after.and_then(decimal),
                    commission: state.commission.and_then(decimal),
                });
            }
            Ok(Some(Ok(_))) => {}
        }
    }
}
