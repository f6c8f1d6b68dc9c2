//! `tickwork.host.orders/1`: a plugin's intents, checked here (well-formed, on an instrument it
//! subscribed to, within its permission for the account's mode) and then queued for its
//! driver, which sends them through the order router like every other origin. A permission
//! denial is answered at once and written to the audit log.

use rust_decimal::Decimal;
use tickwork_plugin_api::abi::{
    self, TW_ERR_BAD_ARG, TW_ERR_DENIED, TW_ERR_FAULTED, TW_ERR_NOT_FOUND, TW_ERR_UNSUPPORTED,
    TW_OK, TwHostOrdersV1, TwInstanceCtx, TwOrderIntent, TwStatus, v1_0_size,
};

use super::ctx::{INTENTS_PER_CALL, InstanceCtx, Request};
use super::guarded;
use super::values::{decimal_from_abi, read_str};
use crate::domain::{OrderSide, OrderType, TimeInForce};
use crate::risk::{Denial, RiskRule};
use crate::scripting::host::intent_of;
use crate::scripting::strategy::{OrderRequest, symbols};
use crate::store::audit::{self, AuditEntry};
use crate::store::script_runs::RunMode;

/// Longest tag kept (bytes).
const MAX_TAG_BYTES: usize = 256;

pub(super) const TABLE: TwHostOrdersV1 = TwHostOrdersV1 {
    struct_size: size_of::<TwHostOrdersV1>() as u32,
    _reserved: 0,
    submit: Some(submit),
    cancel: Some(cancel),
};

unsafe extern "C" fn submit(
    inst: *mut TwInstanceCtx,
    intent: *const TwOrderIntent,
    out_intent_id: *mut u64,
) -> TwStatus {
    guarded(|| {
        // SAFETY: the host's context pointers stay valid while the plugin may call.
        let Some(ctx) = (unsafe { InstanceCtx::from_raw(inst) }) else {
            return TW_ERR_BAD_ARG;
        };
        if out_intent_id.is_null() {
            return TW_ERR_BAD_ARG;
        }
        if !ctx.life.accepts_calls() {
            return TW_ERR_FAULTED;
        }
        let Some(trading) = &ctx.trading else {
            return TW_ERR_UNSUPPORTED;
        };
        // SAFETY: the plugin passes a struct of at least its `struct_size` (checked ≥ v1.0).
        let Ok(intent) = (unsafe { abi::read_prefixed(intent, v1_0_size::ORDER_INTENT) }) else {
            return TW_ERR_BAD_ARG;
        };
        let order = match read_intent(ctx, &intent) {
            Ok(order) => order,
            Err(status) => return status,
        };
        let granted = match trading.mode {
            RunMode::Paper => ctx.permissions.orders_paper,
            RunMode::Live => ctx.permissions.orders_live,
        };
        if !granted {
            audit_denial(ctx, &trading.account, trading.mode, &order);
            return TW_ERR_DENIED;
        }
        if !ctx.life.count_intent() {
            tracing::warn!(
                origin = %ctx.origin(),
                "more than {INTENTS_PER_CALL} intents in one call: refused"
            );
            return TW_ERR_DENIED;
        }
        let intent_id = ctx.next_intent_id();
        let order = OrderRequest {
            intent_id: i64::try_from(intent_id).unwrap_or(i64::MAX),
            ..order
        };
        if !ctx.send(Request::Place {
            intent_id,
            instrument_id: intent.instrument_id,
            order,
        }) {
            return TW_ERR_FAULTED;
        }
        // SAFETY: checked non-null; the plugin owns the u64 it points at.
        unsafe { out_intent_id.write_unaligned(intent_id) };
        TW_OK
    })
}

unsafe extern "C" fn cancel(inst: *mut TwInstanceCtx, intent_id: u64) -> TwStatus {
    guarded(|| {
        // SAFETY: the host's context pointers stay valid while the plugin may call.
        let Some(ctx) = (unsafe { InstanceCtx::from_raw(inst) }) else {
            return TW_ERR_BAD_ARG;
        };
        if !ctx.life.accepts_calls() {
            return TW_ERR_FAULTED;
        }
        if ctx.trading.is_none() {
            return TW_ERR_UNSUPPORTED;
        }
        if !ctx.issued_intent(intent_id) {
            return TW_ERR_NOT_FOUND;
        }
        if ctx.send(Request::Cancel { intent_id }) {
            TW_OK
        } else {
            TW_ERR_FAULTED
        }
    })
}

/// The order an intent asks for (its id still 0), or the status that refuses it.
fn read_intent(ctx: &InstanceCtx, intent: &TwOrderIntent) -> Result<OrderRequest, TwStatus> {
    let side = match intent.side {
        abi::TW_SIDE_BUY => OrderSide::Buy,
        abi::TW_SIDE_SELL => OrderSide::Sell,
        _ => return Err(TW_ERR_BAD_ARG),
    };
    let order_type = match intent.order_type {
        abi::TW_ORDER_MARKET => OrderType::Market,
        abi::TW_ORDER_LIMIT => OrderType::Limit,
        abi::TW_ORDER_STOP => OrderType::Stop,
        abi::TW_ORDER_STOP_LIMIT => OrderType::StopLimit,
        _ => return Err(TW_ERR_BAD_ARG),
    };
    let time_in_force = match intent.time_in_force {
        abi::TW_TIF_DAY => TimeInForce::Day,
        abi::TW_TIF_GTC => TimeInForce::Gtc,
        abi::TW_TIF_IOC => TimeInForce::Ioc,
        _ => return Err(TW_ERR_BAD_ARG),
    };
    let quantity = decimal_from_abi(&intent.quantity).ok_or(TW_ERR_BAD_ARG)?;
    if quantity <= Decimal::ZERO {
        return Err(TW_ERR_BAD_ARG);
    }
    let limit_needed = matches!(order_type, OrderType::Limit | OrderType::StopLimit);
    let stop_needed = matches!(order_type, OrderType::Stop | OrderType::StopLimit);
    let limit = price(&intent.limit_price, limit_needed)?;
    let stop = price(&intent.stop_price, stop_needed)?;
    // SAFETY: the plugin's tag is valid for the call.
    let tag = unsafe { read_str(intent.tag) }.ok_or(TW_ERR_BAD_ARG)?;
    if tag.len() > MAX_TAG_BYTES {
        return Err(TW_ERR_BAD_ARG);
    }
    let symbol = ctx
        .symbol_of(intent.instrument_id)
        .ok_or(TW_ERR_NOT_FOUND)?;
    Ok(OrderRequest {
        intent_id: 0,
        symbol,
        side,
        quantity,
        order_type,
        limit,
        stop,
        time_in_force,
        tag: tag.to_owned(),
    })
}

/// A price the order type needs (positive) or does not (zero).
fn price(value: &abi::TwDecimal, needed: bool) -> Result<Option<Decimal>, TwStatus> {
    let price = decimal_from_abi(value).ok_or(TW_ERR_BAD_ARG)?;
    match (needed, price > Decimal::ZERO) {
        (true, true) => Ok(Some(price)),
        (false, _) if price.is_zero() => Ok(None),
        _ => Err(TW_ERR_BAD_ARG),
    }
}

/// Writes the denial of an intent the plugin has no permission for, as the gate writes its own.
fn audit_denial(ctx: &InstanceCtx, account: &str, mode: RunMode, order: &OrderRequest) {
    let denial = Denial {
        rule: RiskRule::OriginNotGranted,
        reason: format!(
            "plugin {} has no `orders:submit:{}` permission",
            ctx.plugin_id,
            mode.as_str()
        ),
    };
    let details = match symbols::spec_of(&order.symbol) {
        Ok(instrument) => intent_of(order, ctx.origin(), account, instrument).audit_details(),
        Err(_) => serde_json::json!({ "account": account, "symbol": order.symbol }),
    };
    let entry = AuditEntry {
        actor: ctx.origin().to_string(),
        action: "order.intent".into(),
        decision: Some("denied".into()),
        reason: Some(denial.to_string()),
        details,
    };
    let pool = ctx.pool.clone();
    match ctx.block_on(async move { audit::append(&pool, &entry).await }) {
        Some(Ok(_)) => {}
        Some(Err(e)) => tracing::error!(plugin = %ctx.plugin_id, error = %e, "denial not audited"),
        None => {
            tracing::error!(plugin = %ctx.plugin_id, "denial not audited: the database did not answer")
        }
    }
    tracing::warn!(origin = %ctx.origin(), %denial, "plugin intent denied");
}
