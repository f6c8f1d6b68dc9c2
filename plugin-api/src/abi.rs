//! The frozen C ABI between the Tickwork host and native plugins (ABI major 1).
//!
//! Everything here is `#[repr(C)]` data and `extern "C"` function pointers, so a plugin built by
//! another compiler (another rustc, or a C compiler against `include/tickwork_plugin.h`) agrees
//! with the host on every byte. The rules that keep it stable:
//!
//! - Structs start with `struct_size` and only ever grow at the end; a reader rejects a size below
//!   the v1.0 size and reads fields past the writer's size as zero ([`read_prefixed`]).
//! - Every function pointer is nullable (`Option<…>`): a null slot is refused, never called.
//! - No Rust enums, `bool`s or `i128`s cross: enumerations are `u32` constants, decimals the 16
//!   bytes of `rust_decimal::Decimal::serialize()` ([`TwDecimal`]).
//! - Strings are borrowed UTF-8 slices ([`TwStr`]) valid for the call; data handed back goes
//!   through the caller's [`TwWriteFn`], so the producer always frees what it allocated.
//! - Events are size-prefixed ([`TwEventHeader::size`]); receivers skip kinds they do not know.
//!
//! The layout is frozen by the const assertions at the end of this file: changing it breaks the
//! build, not the plugins already shipped.

use core::ffi::c_void;

/// The ABI major this crate describes; a new major is a new entry symbol.
pub const TW_ABI_MAJOR: u16 = 1;
/// The ABI minor this crate describes; minors only append fields, events, capabilities and services.
pub const TW_ABI_MINOR: u16 = 0;

/// Name of the one exported entry symbol for ABI major 1 (no NUL; see [`TW_ENTRY_V1_NUL`]).
pub const TW_ENTRY_V1: &str = "tickwork_plugin_entry_v1";
/// [`TW_ENTRY_V1`] NUL-terminated, as `dlsym` wants it.
pub const TW_ENTRY_V1_NUL: &[u8] = b"tickwork_plugin_entry_v1\0";

/// The entry point: returns a static descriptor and has no side effects.
pub type TwEntryV1 = unsafe extern "C" fn() -> *const TwPluginDescriptor;

// ---------------------------------------------------------------------------------------------
// Status codes. Unknown codes count as `TW_ERR`.

/// Result of a call across the boundary.
pub type TwStatus = u32;
/// Success.
pub const TW_OK: TwStatus = 0;
/// A failure the callee explained through the log.
pub const TW_ERR: TwStatus = 1;
/// The plugin panicked; the SDK caught it and the instance is now faulted.
pub const TW_ERR_PANICKED: TwStatus = 2;
/// A null pointer, bad UTF-8, an unknown enumeration value or a short struct.
pub const TW_ERR_BAD_ARG: TwStatus = 3;
/// The callee does not offer this.
pub const TW_ERR_UNSUPPORTED: TwStatus = 4;
/// The host refused: a permission the user did not grant, or the risk gate.
pub const TW_ERR_DENIED: TwStatus = 5;
/// The instance faulted earlier and takes no more calls.
pub const TW_ERR_FAULTED: TwStatus = 6;
/// The key or id asked for does not exist.
pub const TW_ERR_NOT_FOUND: TwStatus = 7;

// ---------------------------------------------------------------------------------------------
// Flags and levels.

/// Descriptor flag: the plugin was built with `panic = "unwind"`, so its guards can catch panics.
/// The host refuses plugins without it (a `panic = "abort"` plugin would take the host down).
pub const TW_FLAG_PANIC_UNWIND: u32 = 1 << 0;

/// Log level for [`TwHostApi::log`].
pub const TW_LOG_ERROR: u32 = 1;
/// Log level for [`TwHostApi::log`].
pub const TW_LOG_WARN: u32 = 2;
/// Log level for [`TwHostApi::log`].
pub const TW_LOG_INFO: u32 = 3;
/// Log level for [`TwHostApi::log`].
pub const TW_LOG_DEBUG: u32 = 4;

// ---------------------------------------------------------------------------------------------
// Capability and service ids: a new incompatible version is a new id, never a changed one.

/// A GTK 4 panel created on the main thread ([`TwPanelGtk4V1`]).
pub const TW_CAP_PANEL_GTK4_V1: &str = "tickwork.panel.gtk4/1";
/// A strategy fed events, trading through the host ([`TwStrategyV1`]).
pub const TW_CAP_STRATEGY_V1: &str = "tickwork.strategy/1";
/// A pure custom margin rule ([`TwMarginRuleV1`]).
pub const TW_CAP_MARGIN_RULE_V1: &str = "tickwork.margin-rule/1";

/// The host's order table ([`TwHostOrdersV1`]): the only way a plugin trades.
pub const TW_SVC_ORDERS_V1: &str = "tickwork.host.orders/1";
/// The host's market data ([`TwHostMarketDataV1`]).
pub const TW_SVC_MARKET_DATA_V1: &str = "tickwork.host.market-data/1";
/// A key-value store namespaced per plugin ([`TwHostKvV1`]).
pub const TW_SVC_KV_STORE_V1: &str = "tickwork.host.kv-store/1";

// ---------------------------------------------------------------------------------------------
// Plain data.

/// A borrowed UTF-8 string (not NUL-terminated), valid for the duration of the call. Descriptor
/// and capability strings are `'static`: libraries are never unloaded.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TwStr {
    /// First byte; may be null only when `len` is 0.
    pub ptr: *const u8,
    /// Length in bytes.
    pub len: usize,
}

/// A decimal as the 16 bytes of `rust_decimal::Decimal::serialize()`: little-endian `u32`
/// flags (scale in bits 16–23, sign in bit 31), then the `lo`, `mid`, `hi` words of the 96-bit
/// mantissa. Alignment 1, so it never depends on a crate feature.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TwDecimal {
    /// The serialised bytes.
    pub bytes: [u8; 16],
}

/// The caller's sink for data the callee hands back: the callee calls it (possibly several
/// times) and the caller copies the bytes before it returns.
pub type TwWriteFn = unsafe extern "C" fn(user: *mut c_void, data: *const u8, len: usize);

/// Host-owned context of one plugin (identifies it in the log and the kv namespace).
#[repr(C)]
pub struct TwHostCtx {
    _opaque: [u8; 0],
}

/// Host-owned context of one plugin instance: passed back on every service call so the host
/// knows who asks (attribution `plugin:<id>/<instance>`, permissions, the instance's orders).
#[repr(C)]
pub struct TwInstanceCtx {
    _opaque: [u8; 0],
}

/// Plugin-owned state of one instance; the host only passes it back.
#[repr(C)]
pub struct TwInstance {
    _opaque: [u8; 0],
}

// ---------------------------------------------------------------------------------------------
// Descriptor and host table.

/// What the entry point returns: identity, and the three calls that set the plugin up.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct TwPluginDescriptor {
    /// `size_of::<TwPluginDescriptor>()` as the plugin was built.
    pub struct_size: u32,
    /// Must equal the host's major.
    pub abi_major: u16,
    /// Must not exceed the host's minor.
    pub abi_minor: u16,
    /// `TW_FLAG_*` bits.
    pub flags: u32,
    /// Zero.
    pub _reserved: u32,
    /// The plugin id; must equal the manifest's.
    pub id: TwStr,
    /// The plugin version; must equal the manifest's.
    pub version: TwStr,
    /// Free text for diagnostics (compiler, SDK version).
    pub build_info: TwStr,
    /// Called once, on the main thread, before any capability is asked for.
    pub init: Option<unsafe extern "C" fn(host: *const TwHostApi) -> TwStatus>,
    /// Called once at exit; the library stays loaded.
    pub shutdown: Option<unsafe extern "C" fn()>,
    /// The table for a capability id (`TW_CAP_*`), or null when not provided.
    pub get_capability: Option<unsafe extern "C" fn(id: TwStr) -> *const c_void>,
}

/// The host's services, handed to `init` and to every `create`. Append-only.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct TwHostApi {
    /// `size_of::<TwHostApi>()` as the host was built.
    pub struct_size: u32,
    /// The host's ABI major.
    pub abi_major: u16,
    /// The host's ABI minor.
    pub abi_minor: u16,
    /// Passed back to `log` and `get_service`.
    pub ctx: *mut TwHostCtx,
    /// The host's version, e.g. `0.1.0`.
    pub host_version: TwStr,
    /// Writes a line to the host's log under the plugin's id (`TW_LOG_*` levels).
    pub log: Option<unsafe extern "C" fn(ctx: *mut TwHostCtx, level: u32, msg: TwStr)>,
    /// The table of a service id (`TW_SVC_*`), or null when unknown or not permitted.
    pub get_service: Option<unsafe extern "C" fn(ctx: *mut TwHostCtx, id: TwStr) -> *const c_void>,
}

// ---------------------------------------------------------------------------------------------
// Host services.

/// `tickwork.host.orders/1`. Intents go through the host's risk gate and audit like every other
/// order; the answers arrive as [`TW_EV_ORDER`] and [`TW_EV_FILL`] events.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct TwHostOrdersV1 {
    /// `size_of::<TwHostOrdersV1>()` as the host was built.
    pub struct_size: u32,
    /// Zero.
    pub _reserved: u32,
    /// Queues an intent for the risk gate: `TW_OK` with an id, or `TW_ERR_DENIED`/`BAD_ARG`.
    pub submit: Option<
        unsafe extern "C" fn(
            inst: *mut TwInstanceCtx,
            intent: *const TwOrderIntent,
            out_intent_id: *mut u64,
        ) -> TwStatus,
    >,
    /// Asks to cancel one of this instance's intents.
    pub cancel: Option<unsafe extern "C" fn(inst: *mut TwInstanceCtx, intent_id: u64) -> TwStatus>,
}

/// Side of an intent or fill.
pub const TW_SIDE_BUY: u32 = 1;
/// Side of an intent or fill.
pub const TW_SIDE_SELL: u32 = 2;

/// Order type of an intent.
pub const TW_ORDER_MARKET: u32 = 1;
/// Order type of an intent (needs `limit_price`).
pub const TW_ORDER_LIMIT: u32 = 2;
/// Order type of an intent (needs `stop_price`).
pub const TW_ORDER_STOP: u32 = 3;
/// Order type of an intent (needs both prices).
pub const TW_ORDER_STOP_LIMIT: u32 = 4;

/// Time in force of an intent.
pub const TW_TIF_DAY: u32 = 1;
/// Time in force of an intent.
pub const TW_TIF_GTC: u32 = 2;
/// Time in force of an intent.
pub const TW_TIF_IOC: u32 = 3;

/// An order a plugin wants; the host decides whether it becomes one.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TwOrderIntent {
    /// `size_of::<TwOrderIntent>()` as the plugin was built.
    pub struct_size: u32,
    /// `TW_SIDE_*`.
    pub side: u32,
    /// `TW_ORDER_*`.
    pub order_type: u32,
    /// `TW_TIF_*`.
    pub time_in_force: u32,
    /// From [`TwHostMarketDataV1::subscribe`].
    pub instrument_id: u32,
    /// Zero.
    pub _pad: u32,
    /// Positive quantity.
    pub quantity: TwDecimal,
    /// Zero unless the order type needs it.
    pub limit_price: TwDecimal,
    /// Zero unless the order type needs it.
    pub stop_price: TwDecimal,
    /// The plugin's own label, kept in the audit trail (may be empty).
    pub tag: TwStr,
}

/// `kinds` bit for [`TwHostMarketDataV1::subscribe`]: [`TW_EV_TICK`] events.
pub const TW_MD_TICKS: u32 = 1 << 0;
/// `kinds` bit for [`TwHostMarketDataV1::subscribe`]: [`TW_EV_BAR`] events of `bar_secs`.
pub const TW_MD_BARS: u32 = 1 << 1;

/// `tickwork.host.market-data/1`: quotes and bars for an instrument, delivered as events.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct TwHostMarketDataV1 {
    /// `size_of::<TwHostMarketDataV1>()` as the host was built.
    pub struct_size: u32,
    /// Zero.
    pub _reserved: u32,
    /// Subscribes to `symbol` (`SPY`, or an option `SPY 20261218 C 600`); the id names the
    /// instrument in events and intents.
    pub subscribe: Option<
        unsafe extern "C" fn(
            inst: *mut TwInstanceCtx,
            symbol: TwStr,
            kinds: u32,
            bar_secs: u32,
            out_instrument_id: *mut u32,
        ) -> TwStatus,
    >,
    /// Stops the events for an instrument.
    pub unsubscribe:
        Option<unsafe extern "C" fn(inst: *mut TwInstanceCtx, instrument_id: u32) -> TwStatus>,
}

/// `tickwork.host.kv-store/1`: small values kept in the host's database, namespaced per plugin.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct TwHostKvV1 {
    /// `size_of::<TwHostKvV1>()` as the host was built.
    pub struct_size: u32,
    /// Zero.
    pub _reserved: u32,
    /// Stores `value` (at most 64 KiB) under `key` (at most 256 bytes).
    pub put: Option<
        unsafe extern "C" fn(inst: *mut TwInstanceCtx, key: TwStr, value: TwStr) -> TwStatus,
    >,
    /// Writes the value of `key` through `write`, or answers `TW_ERR_NOT_FOUND`.
    pub get: Option<
        unsafe extern "C" fn(
            inst: *mut TwInstanceCtx,
            key: TwStr,
            user: *mut c_void,
            // A `TwWriteFn`, spelt out so the C header shows a nullable function pointer.
            write: Option<unsafe extern "C" fn(user: *mut c_void, data: *const u8, len: usize)>,
        ) -> TwStatus,
    >,
}

// ---------------------------------------------------------------------------------------------
// Events: a header, then the kind's fields. `size` covers the whole event.

/// Event kind: a quote ([`TwTickEvent`]).
pub const TW_EV_TICK: u16 = 1;
/// Event kind: a completed bar ([`TwBarEvent`]).
pub const TW_EV_BAR: u16 = 2;
/// Event kind: an intent's status changed ([`TwOrderEvent`]).
pub const TW_EV_ORDER: u16 = 3;
/// Event kind: an execution of one of the instance's intents ([`TwFillEvent`]).
pub const TW_EV_FILL: u16 = 4;

/// The start of every event.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TwEventHeader {
    /// Size of the whole event in bytes.
    pub size: u32,
    /// `TW_EV_*`; unknown kinds are skipped.
    pub kind: u16,
    /// Kind-specific bits (`TW_TICK_HAS_*`).
    pub flags: u16,
    /// Event time, nanoseconds since the Unix epoch (UTC).
    pub ts_unix_ns: i64,
    /// The instrument from `subscribe` (0 when none).
    pub instrument_id: u32,
    /// Zero.
    pub _reserved: u32,
}

/// [`TwTickEvent`] flag: `bid` and `bid_size` hold a value.
pub const TW_TICK_HAS_BID: u16 = 1 << 0;
/// [`TwTickEvent`] flag: `ask` and `ask_size` hold a value.
pub const TW_TICK_HAS_ASK: u16 = 1 << 1;
/// [`TwTickEvent`] flag: `last` and `last_size` hold a value.
pub const TW_TICK_HAS_LAST: u16 = 1 << 2;

/// The latest quote of an instrument.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TwTickEvent {
    /// `kind == TW_EV_TICK`.
    pub header: TwEventHeader,
    /// Best bid.
    pub bid: TwDecimal,
    /// Best ask.
    pub ask: TwDecimal,
    /// Last trade.
    pub last: TwDecimal,
    /// Size at the bid.
    pub bid_size: TwDecimal,
    /// Size at the ask.
    pub ask_size: TwDecimal,
    /// Size of the last trade.
    pub last_size: TwDecimal,
}

/// A completed bar, built by the host from quotes.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TwBarEvent {
    /// `kind == TW_EV_BAR`; `ts_unix_ns` is the bar's start.
    pub header: TwEventHeader,
    /// Bar length in seconds.
    pub period_secs: u32,
    /// Zero.
    pub _pad: u32,
    /// Open.
    pub open: TwDecimal,
    /// High.
    pub high: TwDecimal,
    /// Low.
    pub low: TwDecimal,
    /// Close.
    pub close: TwDecimal,
    /// Volume (0 for bars from midpoints).
    pub volume: TwDecimal,
}

/// Intent status: passed the risk gate and sent to the broker.
pub const TW_ORDER_SUBMITTED: u32 = 1;
/// Intent status: refused by the risk gate (`reason` names the rule).
pub const TW_ORDER_DENIED: u32 = 2;
/// Intent status: the broker rejected it (`reason` says why).
pub const TW_ORDER_REJECTED: u32 = 3;
/// Intent status: cancelled.
pub const TW_ORDER_CANCELLED: u32 = 4;
/// Intent status: completely filled.
pub const TW_ORDER_FILLED: u32 = 5;
/// Intent status: working at the broker, partly filled or not.
pub const TW_ORDER_WORKING: u32 = 6;

/// A change of an intent's status.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TwOrderEvent {
    /// `kind == TW_EV_ORDER`.
    pub header: TwEventHeader,
    /// The id `submit` returned.
    pub intent_id: u64,
    /// `TW_ORDER_*`.
    pub status: u32,
    /// Zero.
    pub _pad: u32,
    /// Quantity filled so far.
    pub filled: TwDecimal,
    /// Quantity still working.
    pub remaining: TwDecimal,
    /// Average fill price (zero before the first fill).
    pub avg_fill_price: TwDecimal,
    /// Why it was denied, rejected or cancelled (may be empty); valid for the call.
    pub reason: TwStr,
}

/// An execution of one of the instance's intents.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TwFillEvent {
    /// `kind == TW_EV_FILL`.
    pub header: TwEventHeader,
    /// The id `submit` returned.
    pub intent_id: u64,
    /// `TW_SIDE_*`.
    pub side: u32,
    /// Zero.
    pub _pad: u32,
    /// Quantity of this execution.
    pub quantity: TwDecimal,
    /// Price of this execution.
    pub price: TwDecimal,
    /// Commission charged (zero until the broker reports it).
    pub commission: TwDecimal,
}

// ---------------------------------------------------------------------------------------------
// Capabilities.

/// `tickwork.strategy/1`. Calls for one instance are serialised on a host-owned worker thread.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct TwStrategyV1 {
    /// `size_of::<TwStrategyV1>()` as the plugin was built.
    pub struct_size: u32,
    /// Zero.
    pub _reserved: u32,
    /// The strategy's id, listed under `[provides] strategies` in the manifest.
    pub type_id: TwStr,
    /// Makes an instance from its parameters (a JSON object); null refuses.
    pub create: Option<
        unsafe extern "C" fn(
            host: *const TwHostApi,
            inst: *mut TwInstanceCtx,
            params_json: TwStr,
        ) -> *mut TwInstance,
    >,
    /// Delivers one event; anything but `TW_OK` faults the instance.
    pub on_event: Option<
        unsafe extern "C" fn(instance: *mut TwInstance, ev: *const TwEventHeader) -> TwStatus,
    >,
    /// Frees the instance; no call follows.
    pub destroy: Option<unsafe extern "C" fn(instance: *mut TwInstance)>,
}

/// [`TwMarginLeg::kind`]: shares.
pub const TW_LEG_STOCK: u32 = 1;
/// [`TwMarginLeg::kind`]: an equity or index option.
pub const TW_LEG_OPTION: u32 = 2;
/// [`TwMarginLeg::kind`]: a futures contract.
pub const TW_LEG_FUTURE: u32 = 3;
/// [`TwMarginLeg::kind`]: an option on a future.
pub const TW_LEG_FUTURE_OPTION: u32 = 4;

/// [`TwMarginLeg::right`]: a call.
pub const TW_RIGHT_CALL: u32 = 1;
/// [`TwMarginLeg::right`]: a put.
pub const TW_RIGHT_PUT: u32 = 2;

/// One position of the portfolio being margined.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TwMarginLeg {
    /// `size_of::<TwMarginLeg>()` as the host was built (also the array stride).
    pub struct_size: u32,
    /// `TW_LEG_*`.
    pub kind: u32,
    /// The underlying's symbol.
    pub symbol: TwStr,
    /// `TW_RIGHT_*` for options, 0 otherwise.
    pub right: u32,
    /// Expiry as `YYYYMMDD` for options and futures, 0 otherwise.
    pub expiry_yyyymmdd: u32,
    /// Signed quantity: shares, or contracts.
    pub quantity: TwDecimal,
    /// Mark per share or per unit.
    pub price: TwDecimal,
    /// Strike for options, zero otherwise.
    pub strike: TwDecimal,
    /// Units per contract (1 for shares).
    pub multiplier: TwDecimal,
    /// The underlying's price, zero when unknown.
    pub underlying_price: TwDecimal,
}

/// [`TwMarginInput::flags`]: `equity` holds the account's equity.
pub const TW_MARGIN_HAS_EQUITY: u32 = 1 << 0;

/// What a margin rule sees: the portfolio and the requirement computed so far.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TwMarginInput {
    /// `size_of::<TwMarginInput>()` as the host was built.
    pub struct_size: u32,
    /// Stride of `legs` in bytes.
    pub leg_size: u32,
    /// `leg_count` legs, `leg_size` bytes apart.
    pub legs: *const TwMarginLeg,
    /// Number of legs.
    pub leg_count: usize,
    /// `TW_MARGIN_*` bits.
    pub flags: u32,
    /// Zero.
    pub _pad: u32,
    /// Equity with loan value, when `TW_MARGIN_HAS_EQUITY`.
    pub equity: TwDecimal,
    /// The initial requirement so far (built-in rules and earlier custom rules).
    pub initial: TwDecimal,
    /// The maintenance requirement so far.
    pub maintenance: TwDecimal,
}

/// [`TwMarginResult::outcome`]: leave the requirement as it is.
pub const TW_MARGIN_UNCHANGED: u32 = 0;
/// [`TwMarginResult::outcome`]: add `initial` and `maintenance`.
pub const TW_MARGIN_ADD_ON: u32 = 1;
/// [`TwMarginResult::outcome`]: replace the requirement (lowering needs the user's consent).
pub const TW_MARGIN_OVERRIDE: u32 = 2;

/// A margin rule's answer, filled in by the rule.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct TwMarginResult {
    /// `size_of::<TwMarginResult>()` as the host was built.
    pub struct_size: u32,
    /// `TW_MARGIN_*` outcome.
    pub outcome: u32,
    /// The add-on or the new initial requirement.
    pub initial: TwDecimal,
    /// The add-on or the new maintenance requirement.
    pub maintenance: TwDecimal,
    /// Passed to `write_reason`.
    pub reason_user: *mut c_void,
    /// Takes the reason shown in the explanation tree (a [`TwWriteFn`]).
    pub write_reason: Option<unsafe extern "C" fn(user: *mut c_void, data: *const u8, len: usize)>,
}

/// `tickwork.margin-rule/1`: pure, re-entrant, called on any thread; gets no host services.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct TwMarginRuleV1 {
    /// `size_of::<TwMarginRuleV1>()` as the plugin was built.
    pub struct_size: u32,
    /// Zero.
    pub _reserved: u32,
    /// The rule's id, listed under `[provides] margin_rules` in the manifest.
    pub rule_id: TwStr,
    /// Decides the outcome; anything but `TW_OK` leaves the requirement unchanged with a warning.
    pub compute: Option<
        unsafe extern "C" fn(input: *const TwMarginInput, out: *mut TwMarginResult) -> TwStatus,
    >,
}

/// `tickwork.panel.gtk4/1`: every call on the GTK main thread.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct TwPanelGtk4V1 {
    /// `size_of::<TwPanelGtk4V1>()` as the plugin was built.
    pub struct_size: u32,
    /// Smallest GTK 4 minor version the panel needs (e.g. 8).
    pub min_gtk_minor: u32,
    /// The panel's id, listed under `[provides] panels` in the manifest.
    pub panel_id: TwStr,
    /// The tab title.
    pub title: TwStr,
    /// Builds the panel: writes a `GtkWidget*` (full reference) to `out_widget`.
    pub create: Option<
        unsafe extern "C" fn(
            host: *const TwHostApi,
            inst: *mut TwInstanceCtx,
            out_widget: *mut *mut c_void,
        ) -> *mut TwInstance,
    >,
    /// Delivers events of the panel's subscriptions, batched per frame.
    pub on_event: Option<
        unsafe extern "C" fn(instance: *mut TwInstance, ev: *const TwEventHeader) -> TwStatus,
    >,
    /// Frees the instance after its widget left the window.
    pub destroy: Option<unsafe extern "C" fn(instance: *mut TwInstance)>,
}

// ---------------------------------------------------------------------------------------------
// Reading size-prefixed structs written by another build.

/// Why a size-prefixed struct from the other side cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadError {
    /// The pointer was null.
    Null,
    /// `struct_size` is below the v1.0 size of the struct.
    TooSmall {
        /// What the other side wrote.
        found: u32,
        /// The v1.0 size.
        min: u32,
    },
}

impl core::fmt::Display for ReadError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ReadError::Null => f.write_str("null pointer"),
            ReadError::TooSmall { found, min } => {
                write!(f, "struct_size {found} is below the v1.0 size {min}")
            }
        }
    }
}

impl std::error::Error for ReadError {}

/// Copies a struct whose first field is a `u32` `struct_size`: at most `size_of::<T>()` bytes,
/// the rest zero, so fields the writer did not know read as absent.
///
/// # Safety
/// `ptr` must be null or point to at least `struct_size` readable bytes (and `T` must be one of
/// this module's structs, valid when zeroed: every pointer nullable, every enum a `u32`).
pub unsafe fn read_prefixed<T: Copy>(ptr: *const T, min_size: u32) -> Result<T, ReadError> {
    if ptr.is_null() {
        return Err(ReadError::Null);
    }
    // SAFETY: the caller guarantees at least the u32 prefix is readable.
    let found = unsafe { ptr.cast::<u32>().read_unaligned() };
    if found < min_size {
        return Err(ReadError::TooSmall {
            found,
            min: min_size,
        });
    }
    let take = (found as usize).min(core::mem::size_of::<T>());
    let mut out = core::mem::MaybeUninit::<T>::zeroed();
    // SAFETY: `take` bytes are readable (≤ struct_size) and fit in `out`; zero is a valid value
    // of every field of the module's structs.
    unsafe {
        core::ptr::copy_nonoverlapping(ptr.cast::<u8>(), out.as_mut_ptr().cast::<u8>(), take);
        Ok(out.assume_init())
    }
}

/// Sizes of the v1.0 structs: what readers require as the minimum `struct_size`.
pub mod v1_0_size {
    /// [`super::TwPluginDescriptor`].
    pub const DESCRIPTOR: u32 = 88;
    /// [`super::TwHostApi`].
    pub const HOST_API: u32 = 48;
    /// [`super::TwHostOrdersV1`].
    pub const HOST_ORDERS: u32 = 24;
    /// [`super::TwHostMarketDataV1`].
    pub const HOST_MARKET_DATA: u32 = 24;
    /// [`super::TwHostKvV1`].
    pub const HOST_KV: u32 = 24;
    /// [`super::TwOrderIntent`].
    pub const ORDER_INTENT: u32 = 88;
    /// [`super::TwStrategyV1`].
    pub const STRATEGY: u32 = 48;
    /// [`super::TwMarginRuleV1`].
    pub const MARGIN_RULE: u32 = 32;
    /// [`super::TwPanelGtk4V1`].
    pub const PANEL: u32 = 64;
    /// [`super::TwMarginLeg`].
    pub const MARGIN_LEG: u32 = 112;
    /// [`super::TwMarginInput`].
    pub const MARGIN_INPUT: u32 = 80;
    /// [`super::TwMarginResult`].
    pub const MARGIN_RESULT: u32 = 56;
    /// [`super::TwTickEvent`].
    pub const TICK_EVENT: u32 = 120;
    /// [`super::TwBarEvent`].
    pub const BAR_EVENT: u32 = 112;
    /// [`super::TwOrderEvent`].
    pub const ORDER_EVENT: u32 = 104;
    /// [`super::TwFillEvent`].
    pub const FILL_EVENT: u32 = 88;
}

// Layout freeze: a change here breaks the build, not the plugins already built.
#[cfg(target_pointer_width = "64")]
const _: () = {
    use core::mem::{align_of, offset_of, size_of};
    assert!(size_of::<TwStr>() == 16);
    assert!(size_of::<TwDecimal>() == 16 && align_of::<TwDecimal>() == 1);
    assert!(size_of::<TwEventHeader>() == 24 && align_of::<TwEventHeader>() == 8);
    assert!(offset_of!(TwEventHeader, ts_unix_ns) == 8);
    assert!(offset_of!(TwEventHeader, instrument_id) == 16);

    assert!(size_of::<TwPluginDescriptor>() == v1_0_size::DESCRIPTOR as usize);
    assert!(offset_of!(TwPluginDescriptor, id) == 16);
    assert!(offset_of!(TwPluginDescriptor, init) == 64);
    assert!(offset_of!(TwPluginDescriptor, get_capability) == 80);
    assert!(size_of::<TwHostApi>() == v1_0_size::HOST_API as usize);
    assert!(offset_of!(TwHostApi, host_version) == 16);
    assert!(offset_of!(TwHostApi, get_service) == 40);

    assert!(size_of::<TwHostOrdersV1>() == v1_0_size::HOST_ORDERS as usize);
    assert!(size_of::<TwHostMarketDataV1>() == v1_0_size::HOST_MARKET_DATA as usize);
    assert!(size_of::<TwHostKvV1>() == v1_0_size::HOST_KV as usize);
    assert!(size_of::<TwOrderIntent>() == v1_0_size::ORDER_INTENT as usize);
    assert!(offset_of!(TwOrderIntent, quantity) == 24);
    assert!(offset_of!(TwOrderIntent, tag) == 72);

    assert!(size_of::<TwTickEvent>() == v1_0_size::TICK_EVENT as usize);
    assert!(offset_of!(TwTickEvent, bid) == 24);
    assert!(size_of::<TwBarEvent>() == v1_0_size::BAR_EVENT as usize);
    assert!(offset_of!(TwBarEvent, open) == 32);
    assert!(size_of::<TwOrderEvent>() == v1_0_size::ORDER_EVENT as usize);
    assert!(offset_of!(TwOrderEvent, filled) == 40);
    assert!(offset_of!(TwOrderEvent, reason) == 88);
    assert!(size_of::<TwFillEvent>() == v1_0_size::FILL_EVENT as usize);
    assert!(offset_of!(TwFillEvent, quantity) == 40);

    assert!(size_of::<TwStrategyV1>() == v1_0_size::STRATEGY as usize);
    assert!(offset_of!(TwStrategyV1, create) == 24);
    assert!(size_of::<TwMarginRuleV1>() == v1_0_size::MARGIN_RULE as usize);
    assert!(size_of::<TwPanelGtk4V1>() == v1_0_size::PANEL as usize);
    assert!(offset_of!(TwPanelGtk4V1, create) == 40);

    assert!(size_of::<TwMarginLeg>() == v1_0_size::MARGIN_LEG as usize);
    assert!(offset_of!(TwMarginLeg, quantity) == 32);
    assert!(size_of::<TwMarginInput>() == v1_0_size::MARGIN_INPUT as usize);
    assert!(offset_of!(TwMarginInput, equity) == 32);
    assert!(size_of::<TwMarginResult>() == v1_0_size::MARGIN_RESULT as usize);
    assert!(offset_of!(TwMarginResult, reason_user) == 40);
};
