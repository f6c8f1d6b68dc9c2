//! The host's services as a plugin instance sees them: [`HostServices`] wraps the host table
//! and the instance's context; [`StrategyCtx`] and [`PanelCtx`] hand it to the trait methods.
//!
//! Each service table is fetched once through `get_service` and kept; a null answer means the
//! host does not offer it or the user did not grant it, and every call then returns
//! [`ServiceError::Unavailable`] naming the service.

use core::ffi::c_void;
use std::fmt;
use std::ops::{Deref, DerefMut};

use super::convert::{str_from_tw, str_to_tw};
use super::order::OrderRequest;
use crate::abi::{
    TW_ERR_DENIED, TW_ERR_NOT_FOUND, TW_LOG_DEBUG, TW_LOG_ERROR, TW_LOG_INFO, TW_LOG_WARN,
    TW_MD_BARS, TW_MD_TICKS, TW_OK, TW_SVC_KV_STORE_V1, TW_SVC_MARKET_DATA_V1, TW_SVC_ORDERS_V1,
    TwHostApi, TwHostKvV1, TwHostMarketDataV1, TwHostOrdersV1, TwInstanceCtx, TwStatus,
    read_prefixed, v1_0_size,
};

/// Why a host service call did not happen or did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceError {
    /// The host has no such service for this plugin: not granted in `[permissions]`, or unknown
    /// to this host.
    Unavailable(&'static str),
    /// The host refused (`TW_ERR_DENIED`): a permission or the risk gate.
    Denied(&'static str),
    /// Any other non-`TW_OK` status from a call.
    Status {
        call: &'static str,
        status: TwStatus,
    },
    /// The argument cannot cross the boundary (e.g. a value too large).
    BadArg(&'static str),
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceError::Unavailable(svc) => write!(
                f,
                "host service {svc} is not available (not granted in plugin.toml [permissions], or unknown to this host)"
            ),
            ServiceError::Denied(call) => write!(f, "{call}: denied by the host"),
            ServiceError::Status { call, status } => {
                write!(f, "{call}: host returned status {status}")
            }
            ServiceError::BadArg(what) => write!(f, "bad argument: {what}"),
        }
    }
}

impl std::error::Error for ServiceError {}

fn check(call: &'static str, status: TwStatus) -> Result<(), ServiceError> {
    match status {
        TW_OK => Ok(()),
        TW_ERR_DENIED => Err(ServiceError::Denied(call)),
        status => Err(ServiceError::Status { call, status }),
    }
}

/// What to subscribe to: ticks, bars of a period, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarketData {
    pub ticks: bool,
    /// Bar length in seconds, or `None` for no bars.
    pub bar_secs: Option<u32>,
}

impl MarketData {
    /// Quotes only.
    pub const TICKS: MarketData = MarketData {
        ticks: true,
        bar_secs: None,
    };

    /// Bars of `secs` seconds only.
    pub const fn bars(secs: u32) -> MarketData {
        MarketData {
            ticks: false,
            bar_secs: Some(secs),
        }
    }

    /// Quotes and bars of `secs` seconds.
    pub const fn ticks_and_bars(secs: u32) -> MarketData {
        MarketData {
            ticks: true,
            bar_secs: Some(secs),
        }
    }

    fn kinds(self) -> u32 {
        (if self.ticks { TW_MD_TICKS } else { 0 })
            | (if self.bar_secs.is_some() {
                TW_MD_BARS
            } else {
                0
            })
    }
}

/// A service table fetched lazily: `None` not asked yet, `Some(None)` refused.
type Lazy<T> = Option<Option<T>>;

/// The host table and the instance's context, with the service tables fetched so far.
pub struct HostServices {
    host: TwHostApi,
    inst: *mut TwInstanceCtx,
    orders: Lazy<TwHostOrdersV1>,
    market_data: Lazy<TwHostMarketDataV1>,
    kv: Lazy<TwHostKvV1>,
}

impl fmt::Debug for HostServices {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostServices")
            .field("inst", &self.inst)
            .finish_non_exhaustive()
    }
}

/// Fetches a service table through `get_service`, checking its `struct_size`.
fn fetch<T: Copy>(host: &TwHostApi, id: &'static str, min: u32) -> Option<T> {
    let get = host.get_service?;
    // SAFETY: the host table's functions take its own context and a borrowed string.
    let ptr = unsafe { get(host.ctx, str_to_tw(id)) };
    // SAFETY: a non-null answer points to the host's table of that service, at least its
    // `struct_size` long; `read_prefixed` refuses one below the v1.0 size.
    match unsafe { read_prefixed(ptr.cast::<T>(), min) } {
        Ok(t) => Some(t),
        Err(_) if ptr.is_null() => None,
        Err(e) => {
            log_with(
                host,
                TW_LOG_WARN,
                &format!("host service {id} refused by the SDK: {e}"),
            );
            None
        }
    }
}

/// Logs through a host table (nothing when its `log` slot is null).
pub(crate) fn log_with(host: &TwHostApi, level: u32, msg: &str) {
    if let Some(log) = host.log {
        // SAFETY: the host's log takes its own context and a string borrowed for the call.
        unsafe { log(host.ctx, level, str_to_tw(msg)) };
    }
}

impl HostServices {
    /// Wraps a host table already read (see `read_prefixed`) and the instance's context.
    pub(crate) fn new(host: TwHostApi, inst: *mut TwInstanceCtx) -> Self {
        Self {
            host,
            inst,
            orders: None,
            market_data: None,
            kv: None,
        }
    }

    /// A copy of the host table (for the SDK's log lines).
    pub(crate) fn table(&self) -> TwHostApi {
        self.host
    }

    /// The host's version string (empty if not valid UTF-8).
    pub fn host_version(&self) -> &str {
        // SAFETY: the host's version string lives as long as its table.
        unsafe { str_from_tw(self.host.host_version) }.unwrap_or("")
    }

    /// Writes a line to the host's log under the plugin's id.
    pub fn log(&self, level: u32, msg: &str) {
        log_with(&self.host, level, msg);
    }

    pub fn error(&self, msg: &str) {
        self.log(TW_LOG_ERROR, msg);
    }

    pub fn warn(&self, msg: &str) {
        self.log(TW_LOG_WARN, msg);
    }

    pub fn info(&self, msg: &str) {
        self.log(TW_LOG_INFO, msg);
    }

    pub fn debug(&self, msg: &str) {
        self.log(TW_LOG_DEBUG, msg);
    }

    fn orders(&mut self) -> Result<TwHostOrdersV1, ServiceError> {
        let host = &self.host;
        self.orders
            .get_or_insert_with(|| fetch(host, TW_SVC_ORDERS_V1, v1_0_size::HOST_ORDERS))
            .ok_or(ServiceError::Unavailable(TW_SVC_ORDERS_V1))
    }

    fn market_data(&mut self) -> Result<TwHostMarketDataV1, ServiceError> {
        let host = &self.host;
        self.market_data
            .get_or_insert_with(|| fetch(host, TW_SVC_MARKET_DATA_V1, v1_0_size::HOST_MARKET_DATA))
            .ok_or(ServiceError::Unavailable(TW_SVC_MARKET_DATA_V1))
    }

    fn kv(&mut self) -> Result<TwHostKvV1, ServiceError> {
        let host = &self.host;
        self.kv
            .get_or_insert_with(|| fetch(host, TW_SVC_KV_STORE_V1, v1_0_size::HOST_KV))
            .ok_or(ServiceError::Unavailable(TW_SVC_KV_STORE_V1))
    }

    /// Subscribes to `symbol` (`SPY`, or an option `SPY 20261218 C 600`); the answer is the
    /// instrument id used in events and orders.
    pub fn subscribe(&mut self, symbol: &str, what: MarketData) -> Result<u32, ServiceError> {
        let md = self.market_data()?;
        let f = md
            .subscribe
            .ok_or(ServiceError::Unavailable(TW_SVC_MARKET_DATA_V1))?;
        let mut id = 0u32;
        // SAFETY: the instance context is the host's, the symbol is borrowed for the call and
        // `id` is a valid out pointer.
        let status = unsafe {
            f(
                self.inst,
                str_to_tw(symbol),
                what.kinds(),
                what.bar_secs.unwrap_or(0),
                &mut id,
            )
        };
        check("market-data subscribe", status)?;
        Ok(id)
    }

    /// Stops the events of an instrument.
    pub fn unsubscribe(&mut self, instrument_id: u32) -> Result<(), ServiceError> {
        let md = self.market_data()?;
        let f = md
            .unsubscribe
            .ok_or(ServiceError::Unavailable(TW_SVC_MARKET_DATA_V1))?;
        // SAFETY: the instance context is the host's.
        check("market-data unsubscribe", unsafe {
            f(self.inst, instrument_id)
        })
    }

    /// Hands an intent to the host's risk gate; the answer is the intent id that later
    /// order and fill events carry.
    pub fn submit(&mut self, order: &OrderRequest) -> Result<u64, ServiceError> {
        let orders = self.orders()?;
        let f = orders
            .submit
            .ok_or(ServiceError::Unavailable(TW_SVC_ORDERS_V1))?;
        let intent = order.to_intent();
        let mut id = 0u64;
        // SAFETY: `intent` (and the tag it borrows from `order`) lives through the call; `id`
        // is a valid out pointer.
        check("orders submit", unsafe { f(self.inst, &intent, &mut id) })?;
        Ok(id)
    }

    /// Asks to cancel one of this instance's intents.
    pub fn cancel(&mut self, intent_id: u64) -> Result<(), ServiceError> {
        let orders = self.orders()?;
        let f = orders
            .cancel
            .ok_or(ServiceError::Unavailable(TW_SVC_ORDERS_V1))?;
        // SAFETY: the instance context is the host's.
        check("orders cancel", unsafe { f(self.inst, intent_id) })
    }

    /// Stores a value in the plugin's namespace.
    pub fn kv_put(&mut self, key: &str, value: &str) -> Result<(), ServiceError> {
        let kv = self.kv()?;
        let f = kv
            .put
            .ok_or(ServiceError::Unavailable(TW_SVC_KV_STORE_V1))?;
        // SAFETY: both strings are borrowed for the call.
        check("kv put", unsafe {
            f(self.inst, str_to_tw(key), str_to_tw(value))
        })
    }

    /// Reads a value of the plugin's namespace (`None` when the key is absent).
    pub fn kv_get(&mut self, key: &str) -> Result<Option<String>, ServiceError> {
        let kv = self.kv()?;
        let f = kv
            .get
            .ok_or(ServiceError::Unavailable(TW_SVC_KV_STORE_V1))?;
        let mut buf: Vec<u8> = Vec::new();
        // SAFETY: `buf` outlives the call; `collect` only appends what the host hands it.
        let status = unsafe {
            f(
                self.inst,
                str_to_tw(key),
                (&mut buf as *mut Vec<u8>).cast::<c_void>(),
                Some(collect),
            )
        };
        if status == TW_ERR_NOT_FOUND {
            return Ok(None);
        }
        check("kv get", status)?;
        String::from_utf8(buf)
            .map(Some)
            .map_err(|_| ServiceError::BadArg("kv value is not UTF-8"))
    }
}

/// A [`crate::abi::TwWriteFn`] appending to the `Vec<u8>` behind `user`.
///
/// # Safety
/// `user` must be a `*mut Vec<u8>`, and `data` null or `len` readable bytes.
pub unsafe extern "C" fn collect(user: *mut c_void, data: *const u8, len: usize) {
    if user.is_null() || (data.is_null() && len > 0) {
        return;
    }
    // SAFETY: per the contract, `user` is the caller's Vec.
    let buf = unsafe { &mut *user.cast::<Vec<u8>>() };
    if len > 0 {
        // SAFETY: `len` readable bytes, borrowed for the call.
        buf.extend_from_slice(unsafe { core::slice::from_raw_parts(data, len) });
    }
}

/// A strategy instance's view of the host (calls come on the instance's worker thread).
#[derive(Debug)]
pub struct StrategyCtx(pub(crate) HostServices);

/// A panel instance's view of the host (calls come on the GTK main thread).
#[derive(Debug)]
pub struct PanelCtx(pub(crate) HostServices);

impl Deref for StrategyCtx {
    type Target = HostServices;
    fn deref(&self) -> &HostServices {
        &self.0
    }
}

impl DerefMut for StrategyCtx {
    fn deref_mut(&mut self) -> &mut HostServices {
        &mut self.0
    }
}

impl Deref for PanelCtx {
    type Target = HostServices;
    fn deref(&self) -> &HostServices {
        &self.0
    }
}

impl DerefMut for PanelCtx {
    fn deref_mut(&mut self) -> &mut HostServices {
        &mut self.0
    }
}
