//! `tickwork.host.market-data/1`: a subscription names an instrument by the symbol scripts use
//! (`SPY`, `SPY 20261218 C 600`) and gets an id, unique within the instance, that its events
//! and intents carry. The line itself is opened by the instance's driver through the session.

use tickwork_plugin_api::abi::{
    TW_ERR_BAD_ARG, TW_ERR_DENIED, TW_ERR_FAULTED, TW_ERR_NOT_FOUND, TW_MD_BARS, TW_MD_TICKS,
    TW_OK, TwHostMarketDataV1, TwInstanceCtx, TwStatus, TwStr,
};

use super::ctx::{InstanceCtx, Request};
use super::guarded;
use super::values::read_str;
use crate::scripting::strategy::symbols;

/// Longest bar a subscription may ask for: a day.
pub const MAX_BAR_SECS: u32 = 86_400;

pub(super) const TABLE: TwHostMarketDataV1 = TwHostMarketDataV1 {
    struct_size: size_of::<TwHostMarketDataV1>() as u32,
    _reserved: 0,
    subscribe: Some(subscribe),
    unsubscribe: Some(unsubscribe),
};

unsafe extern "C" fn subscribe(
    inst: *mut TwInstanceCtx,
    symbol: TwStr,
    kinds: u32,
    bar_secs: u32,
    out_instrument_id: *mut u32,
) -> TwStatus {
    guarded(|| {
        // SAFETY: the host's context pointers stay valid while the plugin may call.
        let Some(ctx) = (unsafe { InstanceCtx::from_raw(inst) }) else {
            return TW_ERR_BAD_ARG;
        };
        if out_instrument_id.is_null() {
            return TW_ERR_BAD_ARG;
        }
        if !ctx.life.accepts_calls() {
            return TW_ERR_FAULTED;
        }
        if !ctx.permissions.market_data {
            return TW_ERR_DENIED;
        }
        // SAFETY: the plugin's string is valid for the call.
        let Some(symbol) = (unsafe { read_str(symbol) }) else {
            return TW_ERR_BAD_ARG;
        };
        let spec = match symbols::spec_of(symbol) {
            Ok(spec) => spec,
            Err(e) => {
                tracing::warn!(origin = %ctx.origin(), "subscribe refused: {e}");
                return TW_ERR_BAD_ARG;
            }
        };
        let known = TW_MD_TICKS | TW_MD_BARS;
        if kinds == 0 || kinds & !known != 0 {
            return TW_ERR_BAD_ARG;
        }
        if kinds & TW_MD_BARS != 0 && !(1..=MAX_BAR_SECS).contains(&bar_secs) {
            return TW_ERR_BAD_ARG;
        }
        let symbol = symbols::symbol_of(&spec);
        let instrument_id = ctx.add_instrument(symbol.clone());
        let bar_secs = if kinds & TW_MD_BARS != 0 { bar_secs } else { 0 };
        if !ctx.send(Request::Subscribe {
            instrument_id,
            symbol,
            kinds,
            bar_secs,
        }) {
            ctx.remove_instrument(instrument_id);
            return TW_ERR_FAULTED;
        }
        // SAFETY: checked non-null; the plugin owns the u32 it points at.
        unsafe { out_instrument_id.write_unaligned(instrument_id) };
        TW_OK
    })
}

unsafe extern "C" fn unsubscribe(inst: *mut TwInstanceCtx, instrument_id: u32) -> TwStatus {
    guarded(|| {
        // SAFETY: the host's context pointers stay valid while the plugin may call.
        let Some(ctx) = (unsafe { InstanceCtx::from_raw(inst) }) else {
            return TW_ERR_BAD_ARG;
        };
        if !ctx.life.accepts_calls() {
            return TW_ERR_FAULTED;
        }
        if !ctx.remove_instrument(instrument_id) {
            return TW_ERR_NOT_FOUND;
        }
        if ctx.send(Request::Unsubscribe { instrument_id }) {
            TW_OK
        } else {
            TW_ERR_FAULTED
        }
    })
}
