/*
 * tickwork_plugin.h: the frozen C ABI between the Tickwork host and native plugins (ABI 1.x).
 *
 * Generated from plugin-api/src/abi.rs by cbindgen; do not edit. A test fails when this file
 * and abi.rs differ; refresh it with
 *     TICKWORK_BLESS=1 cargo test -p tickwork-plugin-api header
 *
 * A plugin exports one function, TW_ENTRY_V1 (see the declaration at the end of this file),
 * returning a static TwPluginDescriptor. Rules: structs start with struct_size and only grow
 * at the end; every function pointer may be NULL; decimals are the 16 bytes of
 * rust_decimal's Decimal::serialize() (TwDecimal); strings are borrowed UTF-8 (TwStr), not
 * NUL-terminated; whoever allocates frees.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#ifndef TICKWORK_PLUGIN_H
#define TICKWORK_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

/* Opaque handles: owned by the host (TwHostCtx, TwInstanceCtx) or by the plugin (TwInstance). */
typedef struct TwHostCtx TwHostCtx;
typedef struct TwInstanceCtx TwInstanceCtx;
typedef struct TwInstance TwInstance;

/* The entry point a plugin defines and exports (symbol name TW_ENTRY_V1): returns a static
   descriptor and has no side effects. */
#ifdef __cplusplus
extern "C" {
#endif
const struct TwPluginDescriptor *tickwork_plugin_entry_v1(void);
#ifdef __cplusplus
}
#endif
/*
 Name of the one exported entry symbol for ABI major 1 (no NUL; see [`TW_ENTRY_V1_NUL`]).
 */
#define TW_ENTRY_V1 "tickwork_plugin_entry_v1"

/*
 A GTK 4 panel created on the main thread ([`TwPanelGtk4V1`]).
 */
#define TW_CAP_PANEL_GTK4_V1 "tickwork.panel.gtk4/1"

/*
 A strategy fed events, trading through the host ([`TwStrategyV1`]).
 */
#define TW_CAP_STRATEGY_V1 "tickwork.strategy/1"

/*
 A pure custom margin rule ([`TwMarginRuleV1`]).
 */
#define TW_CAP_MARGIN_RULE_V1 "tickwork.margin-rule/1"

/*
 The host's order table ([`TwHostOrdersV1`]): the only way a plugin trades.
 */
#define TW_SVC_ORDERS_V1 "tickwork.host.orders/1"

/*
 The host's market data ([`TwHostMarketDataV1`]).
 */
#define TW_SVC_MARKET_DATA_V1 "tickwork.host.market-data/1"

/*
 A key-value store namespaced per plugin ([`TwHostKvV1`]).
 */
#define TW_SVC_KV_STORE_V1 "tickwork.host.kv-store/1"


/*
 The ABI major this crate describes; a new major is a new entry symbol.
 */
#define TW_ABI_MAJOR 1

/*
 The ABI minor this crate describes; minors only append fields, events, capabilities and services.
 */
#define TW_ABI_MINOR 0

/*
 Descriptor flag: the plugin was built with `panic = "unwind"`, so its guards can catch panics.
 The host refuses plugins without it (a `panic = "abort"` plugin would take the host down).
 */
#define TW_FLAG_PANIC_UNWIND (1 << 0)

/*
 Log level for [`TwHostApi::log`].
 */
#define TW_LOG_ERROR 1

/*
 Log level for [`TwHostApi::log`].
 */
#define TW_LOG_WARN 2

/*
 Log level for [`TwHostApi::log`].
 */
#define TW_LOG_INFO 3

/*
 Log level for [`TwHostApi::log`].
 */
#define TW_LOG_DEBUG 4

/*
 Side of an intent or fill.
 */
#define TW_SIDE_BUY 1

/*
 Side of an intent or fill.
 */
#define TW_SIDE_SELL 2

/*
 Order type of an intent.
 */
#define TW_ORDER_MARKET 1

/*
 Order type of an intent (needs `limit_price`).
 */
#define TW_ORDER_LIMIT 2

/*
 Order type of an intent (needs `stop_price`).
 */
#define TW_ORDER_STOP 3

/*
 Order type of an intent (needs both prices).
 */
#define TW_ORDER_STOP_LIMIT 4

/*
 Time in force of an intent.
 */
#define TW_TIF_DAY 1

/*
 Time in force of an intent.
 */
#define TW_TIF_GTC 2

/*
 Time in force of an intent.
 */
#define TW_TIF_IOC 3

/*
 `kinds` bit for [`TwHostMarketDataV1::subscribe`]: [`TW_EV_TICK`] events.
 */
#define TW_MD_TICKS (1 << 0)

/*
 `kinds` bit for [`TwHostMarketDataV1::subscribe`]: [`TW_EV_BAR`] events of `bar_secs`.
 */
#define TW_MD_BARS (1 << 1)

/*
 Event kind: a quote ([`TwTickEvent`]).
 */
#define TW_EV_TICK 1

/*
 Event kind: a completed bar ([`TwBarEvent`]).
 */
#define TW_EV_BAR 2

/*
 Event kind: an intent's status changed ([`TwOrderEvent`]).
 */
#define TW_EV_ORDER 3

/*
 Event kind: an execution of one of the instance's intents ([`TwFillEvent`]).
 */
#define TW_EV_FILL 4

/*
 [`TwTickEvent`] flag: `bid` and `bid_size` hold a value.
 */
#define TW_TICK_HAS_BID (1 << 0)

/*
 [`TwTickEvent`] flag: `ask` and `ask_size` hold a value.
 */
#define TW_TICK_HAS_ASK (1 << 1)

/*
 [`TwTickEvent`] flag: `last` and `last_size` hold a value.
 */
#define TW_TICK_HAS_LAST (1 << 2)

/*
 Intent status: passed the risk gate and sent to the broker.
 */
#define TW_ORDER_SUBMITTED 1

/*
 Intent status: refused by the risk gate (`reason` names the rule).
 */
#define TW_ORDER_DENIED 2

/*
 Intent status: the broker rejected it (`reason` says why).
 */
#define TW_ORDER_REJECTED 3

/*
 Intent status: cancelled.
 */
#define TW_ORDER_CANCELLED 4

/*
 Intent status: completely filled.
 */
#define TW_ORDER_FILLED 5

/*
 Intent status: working at the broker, partly filled or not.
 */
#define TW_ORDER_WORKING 6

/*
 [`TwMarginLeg::kind`]: shares.
 */
#define TW_LEG_STOCK 1

/*
 [`TwMarginLeg::kind`]: an equity or index option.
 */
#define TW_LEG_OPTION 2

/*
 [`TwMarginLeg::kind`]: a futures contract.
 */
#define TW_LEG_FUTURE 3

/*
 [`TwMarginLeg::kind`]: an option on a future.
 */
#define TW_LEG_FUTURE_OPTION 4

/*
 [`TwMarginLeg::right`]: a call.
 */
#define TW_RIGHT_CALL 1

/*
 [`TwMarginLeg::right`]: a put.
 */
#define TW_RIGHT_PUT 2

/*
 [`TwMarginInput::flags`]: `equity` holds the account's equity.
 */
#define TW_MARGIN_HAS_EQUITY (1 << 0)

/*
 [`TwMarginResult::outcome`]: leave the requirement as it is.
 */
#define TW_MARGIN_UNCHANGED 0

/*
 [`TwMarginResult::outcome`]: add `initial` and `maintenance`.
 */
#define TW_MARGIN_ADD_ON 1

/*
 [`TwMarginResult::outcome`]: replace the requirement (lowering needs the user's consent).
 */
#define TW_MARGIN_OVERRIDE 2

/*
 [`super::TwPluginDescriptor`].
 */
#define TW_V1_0_SIZE_DESCRIPTOR 88

/*
 [`super::TwHostApi`].
 */
#define TW_V1_0_SIZE_HOST_API 48

/*
 [`super::TwHostOrdersV1`].
 */
#define TW_V1_0_SIZE_HOST_ORDERS 24

/*
 [`super::TwHostMarketDataV1`].
 */
#define TW_V1_0_SIZE_HOST_MARKET_DATA 24

/*
 [`super::TwHostKvV1`].
 */
#define TW_V1_0_SIZE_HOST_KV 24

/*
 [`super::TwOrderIntent`].
 */
#define TW_V1_0_SIZE_ORDER_INTENT 88

/*
 [`super::TwStrategyV1`].
 */
#define TW_V1_0_SIZE_STRATEGY 48

/*
 [`super::TwMarginRuleV1`].
 */
#define TW_V1_0_SIZE_MARGIN_RULE 32

/*
 [`super::TwPanelGtk4V1`].
 */
#define TW_V1_0_SIZE_PANEL 64

/*
 [`super::TwMarginLeg`].
 */
#define TW_V1_0_SIZE_MARGIN_LEG 112

/*
 [`super::TwMarginInput`].
 */
#define TW_V1_0_SIZE_MARGIN_INPUT 80

/*
 [`super::TwMarginResult`].
 */
#define TW_V1_0_SIZE_MARGIN_RESULT 56

/*
 [`super::TwTickEvent`].
 */
#define TW_V1_0_SIZE_TICK_EVENT 120

/*
 [`super::TwBarEvent`].
 */
#define TW_V1_0_SIZE_BAR_EVENT 112

/*
 [`super::TwOrderEvent`].
 */
#define TW_V1_0_SIZE_ORDER_EVENT 104

/*
 [`super::TwFillEvent`].
 */
#define TW_V1_0_SIZE_FILL_EVENT 88

/*
 Result of a call across the boundary.
 */
typedef uint32_t TwStatus;

/*
 A borrowed UTF-8 string (not NUL-terminated), valid for the duration of the call. Descriptor
 and capability strings are `'static`: libraries are never unloaded.
 */
typedef struct TwStr {
  /*
   First byte; may be null only when `len` is 0.
   */
  const uint8_t *ptr;
  /*
   Length in bytes.
   */
  size_t len;
} TwStr;

/*
 A decimal as the 16 bytes of `rust_decimal::Decimal::serialize()`: little-endian `u32`
 flags (scale in bits 16–23, sign in bit 31), then the `lo`, `mid`, `hi` words of the 96-bit
 mantissa. Alignment 1, so it never depends on a crate feature.
 */
typedef struct TwDecimal {
  /*
   The serialised bytes.
   */
  uint8_t bytes[16];
} TwDecimal;

/*
 The caller's sink for data the callee hands back: the callee calls it (possibly several
 times) and the caller copies the bytes before it returns.
 */
typedef void (*TwWriteFn)(void *user, const uint8_t *data, size_t len);

/*
 The host's services, handed to `init` and to every `create`. Append-only.
 */
typedef struct TwHostApi {
  /*
   `size_of::<TwHostApi>()` as the host was built.
   */
  uint32_t struct_size;
  /*
   The host's ABI major.
   */
  uint16_t abi_major;
  /*
   The host's ABI minor.
   */
  uint16_t abi_minor;
  /*
   Passed back to `log` and `get_service`.
   */
  TwHostCtx *ctx;
  /*
   The host's version, e.g. `0.1.0`.
   */
  struct TwStr host_version;
  /*
   Writes a line to the host's log under the plugin's id (`TW_LOG_*` levels).
   */
  void (*log)(TwHostCtx *ctx, uint32_t level, struct TwStr msg);
  /*
   The table of a service id (`TW_SVC_*`), or null when unknown or not permitted.
   */
  const void *(*get_service)(TwHostCtx *ctx, struct TwStr id);
} TwHostApi;

/*
 What the entry point returns: identity, and the three calls that set the plugin up.
 */
typedef struct TwPluginDescriptor {
  /*
   `size_of::<TwPluginDescriptor>()` as the plugin was built.
   */
  uint32_t struct_size;
  /*
   Must equal the host's major.
   */
  uint16_t abi_major;
  /*
   Must not exceed the host's minor.
   */
  uint16_t abi_minor;
  /*
   `TW_FLAG_*` bits.
   */
  uint32_t flags;
  /*
   Zero.
   */
  uint32_t _reserved;
  /*
   The plugin id; must equal the manifest's.
   */
  struct TwStr id;
  /*
   The plugin version; must equal the manifest's.
   */
  struct TwStr version;
  /*
   Free text for diagnostics (compiler, SDK version).
   */
  struct TwStr build_info;
  /*
   Called once, on the main thread, before any capability is asked for.
   */
  TwStatus (*init)(const struct TwHostApi *host);
  /*
   Called once at exit; the library stays loaded.
   */
  void (*shutdown)(void);
  /*
   The table for a capability id (`TW_CAP_*`), or null when not provided.
   */
  const void *(*get_capability)(struct TwStr id);
} TwPluginDescriptor;

/*
 The entry point: returns a static descriptor and has no side effects.
 */
typedef const struct TwPluginDescriptor *(*TwEntryV1)(void);

/*
 An order a plugin wants; the host decides whether it becomes one.
 */
typedef struct TwOrderIntent {
  /*
   `size_of::<TwOrderIntent>()` as the plugin was built.
   */
  uint32_t struct_size;
  /*
   `TW_SIDE_*`.
   */
  uint32_t side;
  /*
   `TW_ORDER_*`.
   */
  uint32_t order_type;
  /*
   `TW_TIF_*`.
   */
  uint32_t time_in_force;
  /*
   From [`TwHostMarketDataV1::subscribe`].
   */
  uint32_t instrument_id;
  /*
   Zero.
   */
  uint32_t _pad;
  /*
   Positive quantity.
   */
  struct TwDecimal quantity;
  /*
   Zero unless the order type needs it.
   */
  struct TwDecimal limit_price;
  /*
   Zero unless the order type needs it.
   */
  struct TwDecimal stop_price;
  /*
   The plugin's own label, kept in the audit trail (may be empty).
   */
  struct TwStr tag;
} TwOrderIntent;

/*
 `tickwork.host.orders/1`. Intents go through the host's risk gate and audit like every other
 order; the answers arrive as [`TW_EV_ORDER`] and [`TW_EV_FILL`] events.
 */
typedef struct TwHostOrdersV1 {
  /*
   `size_of::<TwHostOrdersV1>()` as the host was built.
   */
  uint32_t struct_size;
  /*
   Zero.
   */
  uint32_t _reserved;
  /*
   Queues an intent for the risk gate: `TW_OK` with an id, or `TW_ERR_DENIED`/`BAD_ARG`.
   */
  TwStatus (*submit)(TwInstanceCtx *inst,
                     const struct TwOrderIntent *intent,
                     uint64_t *out_intent_id);
  /*
   Asks to cancel one of this instance's intents.
   */
  TwStatus (*cancel)(TwInstanceCtx *inst, uint64_t intent_id);
} TwHostOrdersV1;

/*
 `tickwork.host.market-data/1`: quotes and bars for an instrument, delivered as events.
 */
typedef struct TwHostMarketDataV1 {
  /*
   `size_of::<TwHostMarketDataV1>()` as the host was built.
   */
  uint32_t struct_size;
  /*
   Zero.
   */
  uint32_t _reserved;
  /*
   Subscribes to `symbol` (`SPY`, or an option `SPY 20261218 C 600`); the id names the
   instrument in events and intents.
   */
  TwStatus (*subscribe)(TwInstanceCtx *inst,
                        struct TwStr symbol,
                        uint32_t kinds,
                        uint32_t bar_secs,
                        uint32_t *out_instrument_id);
  /*
   Stops the events for an instrument.
   */
  TwStatus (*unsubscribe)(TwInstanceCtx *inst, uint32_t instrument_id);
} TwHostMarketDataV1;

/*
 `tickwork.host.kv-store/1`: small values kept in the host's database, namespaced per plugin.
 */
typedef struct TwHostKvV1 {
  /*
   `size_of::<TwHostKvV1>()` as the host was built.
   */
  uint32_t struct_size;
  /*
   Zero.
   */
  uint32_t _reserved;
  /*
   Stores `value` (at most 64 KiB) under `key` (at most 256 bytes).
   */
  TwStatus (*put)(TwInstanceCtx *inst, struct TwStr key, struct TwStr value);
  /*
   Writes the value of `key` through `write`, or answers `TW_ERR_NOT_FOUND`.
   */
  TwStatus (*get)(TwInstanceCtx *inst,
                  struct TwStr key,
                  void *user,
                  void (*write)(void *user, const uint8_t *data, size_t len));
} TwHostKvV1;

/*
 The start of every event.
 */
typedef struct TwEventHeader {
  /*
   Size of the whole event in bytes.
   */
  uint32_t size;
  /*
   `TW_EV_*`; unknown kinds are skipped.
   */
  uint16_t kind;
  /*
   Kind-specific bits (`TW_TICK_HAS_*`).
   */
  uint16_t flags;
  /*
   Event time, nanoseconds since the Unix epoch (UTC).
   */
  int64_t ts_unix_ns;
  /*
   The instrument from `subscribe` (0 when none).
   */
  uint32_t instrument_id;
  /*
   Zero.
   */
  uint32_t _reserved;
} TwEventHeader;

/*
 The latest quote of an instrument.
 */
typedef struct TwTickEvent {
  /*
   `kind == TW_EV_TICK`.
   */
  struct TwEventHeader header;
  /*
   Best bid.
   */
  struct TwDecimal bid;
  /*
   Best ask.
   */
  struct TwDecimal ask;
  /*
   Last trade.
   */
  struct TwDecimal last;
  /*
   Size at the bid.
   */
  struct TwDecimal bid_size;
  /*
   Size at the ask.
   */
  struct TwDecimal ask_size;
  /*
   Size of the last trade.
   */
  struct TwDecimal last_size;
} TwTickEvent;

/*
 A completed bar, built by the host from quotes.
 */
typedef struct TwBarEvent {
  /*
   `kind == TW_EV_BAR`; `ts_unix_ns` is the bar's start.
   */
  struct TwEventHeader header;
  /*
   Bar length in seconds.
   */
  uint32_t period_secs;
  /*
   Zero.
   */
  uint32_t _pad;
  /*
   Open.
   */
  struct TwDecimal open;
  /*
   High.
   */
  struct TwDecimal high;
  /*
   Low.
   */
  struct TwDecimal low;
  /*
   Close.
   */
  struct TwDecimal close;
  /*
   Volume (0 for bars from midpoints).
   */
  struct TwDecimal volume;
} TwBarEvent;

/*
 A change of an intent's status.
 */
typedef struct TwOrderEvent {
  /*
   `kind == TW_EV_ORDER`.
   */
  struct TwEventHeader header;
  /*
   The id `submit` returned.
   */
  uint64_t intent_id;
  /*
   `TW_ORDER_*`.
   */
  uint32_t status;
  /*
   Zero.
   */
  uint32_t _pad;
  /*
   Quantity filled so far.
   */
  struct TwDecimal filled;
  /*
   Quantity still working.
   */
  struct TwDecimal remaining;
  /*
   Average fill price (zero before the first fill).
   */
  struct TwDecimal avg_fill_price;
  /*
   Why it was denied, rejected or cancelled (may be empty); valid for the call.
   */
  struct TwStr reason;
} TwOrderEvent;

/*
 An execution of one of the instance's intents.
 */
typedef struct TwFillEvent {
  /*
   `kind == TW_EV_FILL`.
   */
  struct TwEventHeader header;
  /*
   The id `submit` returned.
   */
  uint64_t intent_id;
  /*
   `TW_SIDE_*`.
   */
  uint32_t side;
  /*
   Zero.
   */
  uint32_t _pad;
  /*
   Quantity of this execution.
   */
  struct TwDecimal quantity;
  /*
   Price of this execution.
   */
  struct TwDecimal price;
  /*
   Commission charged (zero until the broker reports it).
   */
  struct TwDecimal commission;
} TwFillEvent;

/*
 `tickwork.strategy/1`. Calls for one instance are serialised on a host-owned worker thread.
 */
typedef struct TwStrategyV1 {
  /*
   `size_of::<TwStrategyV1>()` as the plugin was built.
   */
  uint32_t struct_size;
  /*
   Zero.
   */
  uint32_t _reserved;
  /*
   The strategy's id, listed under `[provides] strategies` in the manifest.
   */
  struct TwStr type_id;
  /*
   Makes an instance from its parameters (a JSON object); null refuses.
   */
  TwInstance *(*create)(const struct TwHostApi *host, TwInstanceCtx *inst, struct TwStr params_json);
  /*
   Delivers one event; anything but `TW_OK` faults the instance.
   */
  TwStatus (*on_event)(TwInstance *instance, const struct TwEventHeader *ev);
  /*
   Frees the instance; no call follows.
   */
  void (*destroy)(TwInstance *instance);
} TwStrategyV1;

/*
 One position of the portfolio being margined.
 */
typedef struct TwMarginLeg {
  /*
   `size_of::<TwMarginLeg>()` as the host was built (also the array stride).
   */
  uint32_t struct_size;
  /*
   `TW_LEG_*`.
   */
  uint32_t kind;
  /*
   The underlying's symbol.
   */
  struct TwStr symbol;
  /*
   `TW_RIGHT_*` for options, 0 otherwise.
   */
  uint32_t right;
  /*
   Expiry as `YYYYMMDD` for options and futures, 0 otherwise.
   */
  uint32_t expiry_yyyymmdd;
  /*
   Signed quantity: shares, or contracts.
   */
  struct TwDecimal quantity;
  /*
   Mark per share or per unit.
   */
  struct TwDecimal price;
  /*
   Strike for options, zero otherwise.
   */
  struct TwDecimal strike;
  /*
   Units per contract (1 for shares).
   */
  struct TwDecimal multiplier;
  /*
   The underlying's price, zero when unknown.
   */
  struct TwDecimal underlying_price;
} TwMarginLeg;

/*
 What a margin rule sees: the portfolio and the requirement computed so far.
 */
typedef struct TwMarginInput {
  /*
   `size_of::<TwMarginInput>()` as the host was built.
   */
  uint32_t struct_size;
  /*
   Stride of `legs` in bytes.
   */
  uint32_t leg_size;
  /*
   `leg_count` legs, `leg_size` bytes apart.
   */
  const struct TwMarginLeg *legs;
  /*
   Number of legs.
   */
  size_t leg_count;
  /*
   `TW_MARGIN_*` bits.
   */
  uint32_t flags;
  /*
   Zero.
   */
  uint32_t _pad;
  /*
   Equity with loan value, when `TW_MARGIN_HAS_EQUITY`.
   */
  struct TwDecimal equity;
  /*
   The initial requirement so far (built-in rules and earlier custom rules).
   */
  struct TwDecimal initial;
  /*
   The maintenance requirement so far.
   */
  struct TwDecimal maintenance;
} TwMarginInput;

/*
 A margin rule's answer, filled in by the rule.
 */
typedef struct TwMarginResult {
  /*
   `size_of::<TwMarginResult>()` as the host was built.
   */
  uint32_t struct_size;
  /*
   `TW_MARGIN_*` outcome.
   */
  uint32_t outcome;
  /*
   The add-on or the new initial requirement.
   */
  struct TwDecimal initial;
  /*
   The add-on or the new maintenance requirement.
   */
  struct TwDecimal maintenance;
  /*
   Passed to `write_reason`.
   */
  void *reason_user;
  /*
   Takes the reason shown in the explanation tree (a [`TwWriteFn`]).
   */
  void (*write_reason)(void *user, const uint8_t *data, size_t len);
} TwMarginResult;

/*
 `tickwork.margin-rule/1`: pure, re-entrant, called on any thread; gets no host services.
 */
typedef struct TwMarginRuleV1 {
  /*
   `size_of::<TwMarginRuleV1>()` as the plugin was built.
   */
  uint32_t struct_size;
  /*
   Zero.
   */
  uint32_t _reserved;
  /*
   The rule's id, listed under `[provides] margin_rules` in the manifest.
   */
  struct TwStr rule_id;
  /*
   Decides the outcome; anything but `TW_OK` leaves the requirement unchanged with a warning.
   */
  TwStatus (*compute)(const struct TwMarginInput *input, struct TwMarginResult *out);
} TwMarginRuleV1;

/*
 `tickwork.panel.gtk4/1`: every call on the GTK main thread.
 */
typedef struct TwPanelGtk4V1 {
  /*
   `size_of::<TwPanelGtk4V1>()` as the plugin was built.
   */
  uint32_t struct_size;
  /*
   Smallest GTK 4 minor version the panel needs (e.g. 8).
   */
  uint32_t min_gtk_minor;
  /*
   The panel's id, listed under `[provides] panels` in the manifest.
   */
  struct TwStr panel_id;
  /*
   The tab title.
   */
  struct TwStr title;
  /*
   Builds the panel: writes a `GtkWidget*` (full reference) to `out_widget`.
   */
  TwInstance *(*create)(const struct TwHostApi *host, TwInstanceCtx *inst, void **out_widget);
  /*
   Delivers events of the panel's subscriptions, batched per frame.
   */
  TwStatus (*on_event)(TwInstance *instance, const struct TwEventHeader *ev);
  /*
   Frees the instance after its widget left the window.
   */
  void (*destroy)(TwInstance *instance);
} TwPanelGtk4V1;

/*
 Success.
 */
#define TW_OK 0

/*
 A failure the callee explained through the log.
 */
#define TW_ERR 1

/*
 The plugin panicked; the SDK caught it and the instance is now faulted.
 */
#define TW_ERR_PANICKED 2

/*
 A null pointer, bad UTF-8, an unknown enumeration value or a short struct.
 */
#define TW_ERR_BAD_ARG 3

/*
 The callee does not offer this.
 */
#define TW_ERR_UNSUPPORTED 4

/*
 The host refused: a permission the user did not grant, or the risk gate.
 */
#define TW_ERR_DENIED 5

/*
 The instance faulted earlier and takes no more calls.
 */
#define TW_ERR_FAULTED 6

/*
 The key or id asked for does not exist.
 */
#define TW_ERR_NOT_FOUND 7

#endif  /* TICKWORK_PLUGIN_H */
