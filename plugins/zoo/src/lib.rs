//! The plugin zoo: one test plugin, `org.tickwork.zoo`, that misbehaves in the way the
//! environment variable `TICKWORK_ZOO` names, read when the entry symbol is called. The host's
//! tests load it in each mode and check that it is refused or contained with a clear message.
//!
//! It offers the strategy `org.tickwork.zoo.strategy` (params `{"symbol":"SPY"}`), the margin
//! rule `org.tickwork.zoo.margin` and, with feature `gtk` (on by default), the panel
//! `org.tickwork.zoo.panel`.
//!
//! | `TICKWORK_ZOO` | behaviour |
//! |---|---|
//! | `ok` (or unset) | well-behaved: the strategy subscribes to its `symbol` and buys 1 on the first bar or tick; the margin rule adds 1.00 to both requirements; the panel shows the last price |
//! | `panic-init` | `init` panics (→ `TW_ERR_PANICKED`) |
//! | `panic-get-capability` | `get_capability` panics (→ null, logged) |
//! | `panic-create` | strategy `create` panics (→ null, logged) |
//! | `panic-on-event` | strategy `on_event` panics (→ `TW_ERR_PANICKED`, then `TW_ERR_FAULTED`) |
//! | `panic-destroy` | strategy `destroy` panics (logged, instance leaked) |
//! | `panic-compute` | margin `compute` panics (→ `TW_ERR_PANICKED`) |
//! | `panic-panel-create` | panel `create` panics (→ null, logged) |
//! | `null-descriptor` | the entry returns null |
//! | `null-capability` | `get_capability` returns null for every id |
//! | `null-create` | strategy and panel `create` return null without a word |
//! | `null-fn` | the descriptor's `init` is null |
//! | `wrong-major` | descriptor `abi_major` 2 |
//! | `newer-minor` | descriptor `abi_minor` 99 |
//! | `small-descriptor` | descriptor `struct_size` 40 |
//! | `small-strategy-table` | the strategy table's `struct_size` is 8 |
//! | `big-descriptor` | descriptor 32 bytes longer than v1.0, trailing bytes zero (must load) |
//! | `bad-utf8-id` | the descriptor's id is not UTF-8 |
//! | `id-mismatch` | the descriptor's id is `org.tickwork.zoo.other`, not the manifest's |
//! | `bad-status` | strategy `on_event` returns status 77 |
//! | `busy-loop` | strategy `on_event` spins for ever |
//! | `abort` | `init` calls `std::process::abort()` |
//! | `no-permission-trade` | as `ok`; meant for a manifest without `orders`, so the submit is denied (the strategy logs the denial and carries on) |
//! | `segfault` | strategy `on_event` writes through a null pointer |
//!
//! Any other value makes `init` fail with `TW_ERR` and a log line listing the modes.

mod descriptor;
mod mode;
#[cfg(feature = "gtk")]
mod panel;
mod rules;

pub use mode::Mode;

use tickwork_plugin_api::abi::TwPluginDescriptor;

/// The zoo's plugin id (the manifest's).
pub const PLUGIN_ID: &str = "org.tickwork.zoo";

#[cfg(feature = "gtk")]
tickwork_plugin_api::declare_plugin! {
    id: PLUGIN_ID,
    version: env!("CARGO_PKG_VERSION"),
    init: rules::init,
    strategies: [rules::ZooStrategy],
    margin_rules: [rules::ZooMargin],
    panels: [panel::ZooPanel],
}

#[cfg(not(feature = "gtk"))]
tickwork_plugin_api::declare_plugin! {
    id: PLUGIN_ID,
    version: env!("CARGO_PKG_VERSION"),
    init: rules::init,
    strategies: [rules::ZooStrategy],
    margin_rules: [rules::ZooMargin],
    panels: [],
}

/// The ABI v1 entry point: reads `TICKWORK_ZOO` and returns the descriptor of that mode.
#[unsafe(no_mangle)]
pub extern "C" fn tickwork_plugin_entry_v1() -> *const TwPluginDescriptor {
    let raw = std::env::var("TICKWORK_ZOO").unwrap_or_default();
    descriptor::for_mode(mode::select(&raw))
}

#[cfg(test)]
mod tests;
