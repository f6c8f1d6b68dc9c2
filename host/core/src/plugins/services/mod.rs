//! The host services a plugin reaches through `get_service`: order intents, market data and its
//! own key-value namespace. Each is a `'static` table of `extern "C"` functions; the permission
//! check happens both here (no table without the permission) and on every call.
//!
//! Every function takes the caller's [`InstanceCtx`] (host-owned, handed to `create`), checks
//! each pointer and enumeration and decimal it is given (`TW_ERR_BAD_ARG` otherwise), answers
//! `TW_ERR_FAULTED` once the instance has ended, and never unwinds into the plugin: its body
//! runs under `catch_unwind`.

mod ctx;
mod events;
mod feed;
mod kv;
mod market_data;
mod orders;
mod values;

use core::ffi::c_void;

use tickwork_plugin_api::abi::{
    TW_SVC_KV_STORE_V1, TW_SVC_MARKET_DATA_V1, TW_SVC_ORDERS_V1, TwHostKvV1, TwHostMarketDataV1,
    TwHostOrdersV1,
};

pub use ctx::{INTENTS_PER_CALL, InstanceCtx, Lifecycle, Request, State, Trading};
pub use events::{Event, FillData, OrderChange, QuoteState};
pub use feed::{MarketFeed, Subscription};
pub use kv::{MAX_KEY_BYTES, MAX_VALUE_BYTES};
pub use values::{decimal_from_abi, decimal_to_abi};

use super::permissions::Permissions;

/// `tickwork.host.orders/1`.
pub static ORDERS: TwHostOrdersV1 = orders::TABLE;
/// `tickwork.host.market-data/1`.
pub static MARKET_DATA: TwHostMarketDataV1 = market_data::TABLE;
/// `tickwork.host.kv-store/1`.
pub static KV_STORE: TwHostKvV1 = kv::TABLE;

/// The table of service `id` for a plugin holding `permissions`, or null (an unknown id, or a
/// service the user did not grant).
pub fn table(id: &str, permissions: &Permissions) -> *const c_void {
    match id {
        TW_SVC_ORDERS_V1 if permissions.orders_paper || permissions.orders_live => {
            (&raw const ORDERS).cast()
        }
        TW_SVC_MARKET_DATA_V1 if permissions.market_data => (&raw const MARKET_DATA).cast(),
        TW_SVC_KV_STORE_V1 if permissions.storage => (&raw const KV_STORE).cast(),
        _ => core::ptr::null(),
    }
}

/// Runs a service body; a host panic (a bug) answers `TW_ERR` instead of unwinding into the
/// plugin.
fn guarded(body: impl FnOnce() -> u32) -> u32 {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)).unwrap_or_else(|_| {
        tracing::error!("a plugin service call panicked in the host");
        tickwork_plugin_api::abi::TW_ERR
    })
}

#[cfg(test)]
mod tests;
