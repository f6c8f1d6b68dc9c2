//! The safe Rust SDK over [`crate::abi`]: implement [`Strategy`], [`MarginRule`] or (feature
//! `gtk`) [`panel::Panel`], list the types in [`crate::export_plugin!`], and the SDK generates
//! the entry symbol, the descriptor and guarded thunks. With feature `testing`,
//! [`testing::FakeHost`] runs the plugin in-process.

pub mod convert;
pub mod event;
pub mod export;
pub mod gtype;
pub mod guard;
pub mod host;
pub mod margin;
pub mod order;
#[cfg(feature = "gtk")]
pub mod panel;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod traits;

pub use convert::{decimal_from_tw, decimal_to_tw, str_from_tw, str_to_tw};
pub use event::{Bar, Event, Fill, OrderStatus, OrderUpdate, Side, Tick};
pub use export::PluginHost;
pub use host::{MarketData, PanelCtx, ServiceError, StrategyCtx};
pub use margin::{LegKind, MarginInput, MarginLeg, MarginOutcome, Right};
pub use order::{OrderRequest, TimeInForce};
pub use traits::{MarginRule, Strategy};

/// The GTK crate the SDK was built with, for panels (so a plugin uses the very same copy).
#[cfg(feature = "gtk")]
pub use gtk;

#[cfg(test)]
mod tests;
