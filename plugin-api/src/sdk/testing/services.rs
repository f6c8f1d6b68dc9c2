//! The fake host's table and its three services, recording everything a plugin asks for.

use core::ffi::c_void;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use rust_decimal::Decimal;

use crate::abi::{
    TW_ABI_MAJOR, TW_ABI_MINOR, TW_ERR_BAD_ARG, TW_ERR_DENIED, TW_ERR_NOT_FOUND, TW_OK,
    TW_SVC_KV_STORE_V1, TW_SVC_MARKET_DATA_V1, TW_SVC_ORDERS_V1, TwHostApi, TwHostCtx, TwHostKvV1,
    TwHostMarketDataV1, TwHostOrdersV1, TwInstanceCtx, TwOrderIntent, TwStatus, TwStr, TwWriteFn,
    read_prefixed, v1_0_size,
};
use crate::sdk::convert::{decimal_from_tw, str_from_tw, str_to_tw};
use crate::sdk::event::Side;
use crate::sdk::export::Static;

/// Which services the fake host hands out (all by default), like a user's grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FakePermissions {
    pub market_data: bool,
    pub orders: bool,
    pub storage: bool,
}

impl Default for FakePermissions {
    fn default() -> Self {
        Self {
            market_data: true,
            orders: true,
            storage: true,
        }
    }
}

/// A line the plugin logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// `TW_LOG_*`.
    pub level: u32,
    pub message: String,
}

/// An intent a plugin submitted, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedIntent {
    pub intent_id: u64,
    /// The instance that submitted it (1, 2, … in creation order).
    pub instance: u32,
    pub side: Option<Side>,
    /// `TW_ORDER_*`.
    pub order_type: u32,
    /// `TW_TIF_*`.
    pub time_in_force: u32,
    pub instrument_id: u32,
    pub quantity: Decimal,
    pub limit_price: Decimal,
    pub stop_price: Decimal,
    pub tag: String,
}

/// A market-data subscription; instrument ids are handed out per symbol, from 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub instance: u32,
    pub symbol: String,
    pub instrument_id: u32,
    /// `TW_MD_*` bits.
    pub kinds: u32,
    pub bar_secs: u32,
    pub active: bool,
}

#[derive(Default)]
pub(super) struct Shared {
    permissions: Mutex<FakePermissions>,
    log: Mutex<Vec<LogLine>>,
    intents: Mutex<Vec<RecordedIntent>>,
    cancels: Mutex<Vec<u64>>,
    instruments: Mutex<Vec<String>>,
    subscriptions: Mutex<Vec<Subscription>>,
    kv: Mutex<HashMap<String, String>>,
    next_intent: AtomicU64,
    next_instance: AtomicU32,
}

/// One instance's context, as the host hands it to `create`.
pub(super) struct InstanceRec {
    pub(super) shared: &'static Shared,
    pub(super) number: u32,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// An in-process host for tests. Its table and contexts are leaked (a few hundred bytes per
/// host) so a plugin may keep them, as it may with the real host's.
pub struct FakeHost {
    pub(super) shared: &'static Shared,
    pub(super) api: &'static TwHostApi,
}

impl Default for FakeHost {
    fn default() -> Self {
        Self::new()
    }
}

impl FakeHost {
    /// A host granting every service.
    pub fn new() -> Self {
        Self::with_permissions(FakePermissions::default())
    }

    /// A host granting only `permissions`.
    pub fn with_permissions(permissions: FakePermissions) -> Self {
        let shared: &'static Shared = Box::leak(Box::default());
        *lock(&shared.permissions) = permissions;
        let api: &'static TwHostApi = Box::leak(Box::new(TwHostApi {
            struct_size: core::mem::size_of::<TwHostApi>() as u32,
            abi_major: TW_ABI_MAJOR,
            abi_minor: TW_ABI_MINOR,
            ctx: (shared as *const Shared).cast_mut().cast::<TwHostCtx>(),
            host_version: str_to_tw("0.0.0-fake"),
            log: Some(fake_log),
            get_service: Some(fake_get_service),
        }));
        Self { shared, api }
    }

    /// The host table, as handed to `init` and `create`.
    pub fn api(&self) -> *const TwHostApi {
        self.api
    }

    /// Changes what later `get_service` calls hand out.
    pub fn set_permissions(&self, permissions: FakePermissions) {
        *lock(&self.shared.permissions) = permissions;
    }

    /// Every line logged so far.
    pub fn log_lines(&self) -> Vec<LogLine> {
        lock(&self.shared.log).clone()
    }

    /// Whether a logged line contains `needle`.
    pub fn logged(&self, needle: &str) -> bool {
        lock(&self.shared.log)
            .iter()
            .any(|l| l.message.contains(needle))
    }

    /// Every intent submitted so far, in order.
    pub fn intents(&self) -> Vec<RecordedIntent> {
        lock(&self.shared.intents).clone()
    }

    /// Intent ids asked to be cancelled, in order.
    pub fn cancels(&self) -> Vec<u64> {
        lock(&self.shared.cancels).clone()
    }

    /// Every subscription made so far.
    pub fn subscriptions(&self) -> Vec<Subscription> {
        lock(&self.shared.subscriptions).clone()
    }

    /// The instrument id handed out for `symbol`, if it was subscribed.
    pub fn instrument_id(&self, symbol: &str) -> Option<u32> {
        lock(&self.shared.instruments)
            .iter()
            .position(|s| s == symbol)
            .map(|i| i as u32 + 1)
    }

    /// A value of the kv store.
    pub fn kv(&self, key: &str) -> Option<String> {
        lock(&self.shared.kv).get(key).cloned()
    }

    /// A new instance context (as the host makes one per `create`).
    pub fn new_instance(&self) -> (*mut TwInstanceCtx, u32) {
        let number = self.shared.next_instance.fetch_add(1, Ordering::Relaxed) + 1;
        let rec: &'static InstanceRec = Box::leak(Box::new(InstanceRec {
            shared: self.shared,
            number,
        }));
        ((rec as *const InstanceRec).cast_mut().cast(), number)
    }
}

unsafe extern "C" fn fake_log(ctx: *mut TwHostCtx, level: u32, msg: TwStr) {
    // SAFETY: `ctx` is the `Shared` this host put in its table.
    let Some(shared) = (unsafe { ctx.cast::<Shared>().as_ref() }) else {
        return;
    };
    // SAFETY: borrowed for the call.
    let message = match unsafe { str_from_tw(msg) } {
        Ok(s) => s.to_owned(),
        Err(_) => "<log line not UTF-8>".to_owned(),
    };
    lock(&shared.log).push(LogLine { level, message });
}

static ORDERS: Static<TwHostOrdersV1> = Static(TwHostOrdersV1 {
    struct_size: core::mem::size_of::<TwHostOrdersV1>() as u32,
    _reserved: 0,
    submit: Some(fake_submit),
    cancel: Some(fake_cancel),
});

static MARKET_DATA: Static<TwHostMarketDataV1> = Static(TwHostMarketDataV1 {
    struct_size: core::mem::size_of::<TwHostMarketDataV1>() as u32,
    _reserved: 0,
    subscribe: Some(fake_subscribe),
    unsubscribe: Some(fake_unsubscribe),
});

static KV: Static<TwHostKvV1> = Static(TwHostKvV1 {
    struct_size: core::mem::size_of::<TwHostKvV1>() as u32,
    _reserved: 0,
    put: Some(fake_kv_put),
    get: Some(fake_kv_get),
});

unsafe extern "C" fn fake_get_service(ctx: *mut TwHostCtx, id: TwStr) -> *const c_void {
    // SAFETY: `ctx` is the `Shared` this host put in its table.
    let Some(shared) = (unsafe { ctx.cast::<Shared>().as_ref() }) else {
        return core::ptr::null();
    };
    let perms = *lock(&shared.permissions);
    // SAFETY: borrowed for the call.
    match unsafe { str_from_tw(id) } {
        Ok(TW_SVC_ORDERS_V1) if perms.orders => (&ORDERS.0 as *const TwHostOrdersV1).cast(),
        Ok(TW_SVC_MARKET_DATA_V1) if perms.market_data => {
            (&MARKET_DATA.0 as *const TwHostMarketDataV1).cast()
        }
        Ok(TW_SVC_KV_STORE_V1) if perms.storage => (&KV.0 as *const TwHostKvV1).cast(),
        _ => core::ptr::null(),
    }
}

/// The instance record behind a context.
///
/// # Safety
/// `inst` must be null or a context made by [`FakeHost::new_instance`].
unsafe fn instance<'a>(inst: *mut TwInstanceCtx) -> Option<&'a InstanceRec> {
    // SAFETY: the caller's contract; records are leaked, so live for ever.
    unsafe { inst.cast::<InstanceRec>().as_ref() }
}

unsafe extern "C" fn fake_submit(
    inst: *mut TwInstanceCtx,
    intent: *const TwOrderIntent,
    out_intent_id: *mut u64,
) -> TwStatus {
    // SAFETY: the plugin passes back the context it was given.
    let Some(rec) = (unsafe { instance(inst) }) else {
        return TW_ERR_BAD_ARG;
    };
    if !lock(&rec.shared.permissions).orders {
        return TW_ERR_DENIED;
    }
    if out_intent_id.is_null() {
        return TW_ERR_BAD_ARG;
    }
    // SAFETY: the plugin's intent, valid for the call; a short one is refused.
    let Ok(raw) = (unsafe { read_prefixed(intent, v1_0_size::ORDER_INTENT) }) else {
        return TW_ERR_BAD_ARG;
    };
    // SAFETY: borrowed for the call.
    let Ok(tag) = (unsafe { str_from_tw(raw.tag) }) else {
        return TW_ERR_BAD_ARG;
    };
    let quantity = decimal_from_tw(raw.quantity);
    let side = Side::from_raw(raw.side);
    if quantity <= Decimal::ZERO || side.is_none() {
        return TW_ERR_BAD_ARG;
    }
    let intent_id = rec.shared.next_intent.fetch_add(1, Ordering::Relaxed) + 1;
    lock(&rec.shared.intents).push(RecordedIntent {
        intent_id,
        instance: rec.number,
        side,
        order_type: raw.order_type,
        time_in_force: raw.time_in_force,
        instrument_id: raw.instrument_id,
        quantity,
        limit_price: decimal_from_tw(raw.limit_price),
        stop_price: decimal_from_tw(raw.stop_price),
        tag: tag.to_owned(),
    });
    // SAFETY: non-null, and the plugin's out pointer.
    unsafe { out_intent_id.write(intent_id) };
    TW_OK
}

unsafe extern "C" fn fake_cancel(inst: *mut TwInstanceCtx, intent_id: u64) -> TwStatus {
    // SAFETY: the plugin passes back the context it was given.
    let Some(rec) = (unsafe { instance(inst) }) else {
        return TW_ERR_BAD_ARG;
    };
    let known = lock(&rec.shared.intents)
        .iter()
        .any(|i| i.intent_id == intent_id && i.instance == rec.number);
    if !known {
        return TW_ERR_NOT_FOUND;
    }
    lock(&rec.shared.cancels).push(intent_id);
    TW_OK
}

unsafe extern "C" fn fake_subscribe(
    inst: *mut TwInstanceCtx,
    symbol: TwStr,
    kinds: u32,
    bar_secs: u32,
    out_instrument_id: *mut u32,
) -> TwStatus {
    // SAFETY: the plugin passes back the context it was given.
    let Some(rec) = (unsafe { instance(inst) }) else {
        return TW_ERR_BAD_ARG;
    };
    // SAFETY: borrowed for the call.
    let Ok(symbol) = (unsafe { str_from_tw(symbol) }) else {
        return TW_ERR_BAD_ARG;
    };
    if symbol.trim().is_empty() || out_instrument_id.is_null() {
        return TW_ERR_BAD_ARG;
    }
    let instrument_id = {
        let mut instruments = lock(&rec.shared.instruments);
        match instruments.iter().position(|s| s == symbol) {
            Some(i) => i as u32 + 1,
            None => {
                instruments.push(symbol.to_owned());
                instruments.len() as u32
            }
        }
    };
    lock(&rec.shared.subscriptions).push(Subscription {
        instance: rec.number,
        symbol: symbol.to_owned(),
        instrument_id,
        kinds,
        bar_secs,
        active: true,
    });
    // SAFETY: non-null, and the plugin's out pointer.
    unsafe { out_instrument_id.write(instrument_id) };
    TW_OK
}

unsafe extern "C" fn fake_unsubscribe(inst: *mut TwInstanceCtx, instrument_id: u32) -> TwStatus {
    // SAFETY: the plugin passes back the context it was given.
    let Some(rec) = (unsafe { instance(inst) }) else {
        return TW_ERR_BAD_ARG;
    };
    let mut subs = lock(&rec.shared.subscriptions);
    let mut found = false;
    for s in subs
        .iter_mut()
        .filter(|s| s.instance == rec.number && s.instrument_id == instrument_id)
    {
        s.active = false;
        found = true;
    }
    if found { TW_OK } else { TW_ERR_NOT_FOUND }
}

unsafe extern "C" fn fake_kv_put(inst: *mut TwInstanceCtx, key: TwStr, value: TwStr) -> TwStatus {
    // SAFETY: the plugin passes back the context it was given.
    let Some(rec) = (unsafe { instance(inst) }) else {
        return TW_ERR_BAD_ARG;
    };
    // SAFETY: both borrowed for the call.
    let (Ok(key), Ok(value)) = (unsafe { str_from_tw(key) }, unsafe { str_from_tw(value) }) else {
        return TW_ERR_BAD_ARG;
    };
    if key.is_empty() || key.len() > 256 || value.len() > 64 * 1024 {
        return TW_ERR_BAD_ARG;
    }
    lock(&rec.shared.kv).insert(key.to_owned(), value.to_owned());
    TW_OK
}

unsafe extern "C" fn fake_kv_get(
    inst: *mut TwInstanceCtx,
    key: TwStr,
    user: *mut c_void,
    write: Option<TwWriteFn>,
) -> TwStatus {
    // SAFETY: the plugin passes back the context it was given.
    let Some(rec) = (unsafe { instance(inst) }) else {
        return TW_ERR_BAD_ARG;
    };
    let Some(write) = write else {
        return TW_ERR_BAD_ARG;
    };
    // SAFETY: borrowed for the call.
    let Ok(key) = (unsafe { str_from_tw(key) }) else {
        return TW_ERR_BAD_ARG;
    };
    let value = lock(&rec.shared.kv).get(key).cloned();
    match value {
        Some(v) => {
            // SAFETY: the plugin's sink copies the bytes during the call.
            unsafe { write(user, v.as_ptr(), v.len()) };
            TW_OK
        }
        None => TW_ERR_NOT_FOUND,
    }
}
