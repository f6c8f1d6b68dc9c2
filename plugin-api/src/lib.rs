//! The contract between the Tickwork host and native plugins.
//!
//! [`abi`] is the frozen C ABI (also published as `include/tickwork_plugin.h` for C plugins);
//! [`sdk`] is the safe Rust layer plugin authors write against: traits, the
//! [`export_plugin!`] macro whose thunks guard every call, decimal and string conversion, and
//! (feature `testing`) a fake host that runs a plugin in-process.

pub mod abi;
pub mod sdk;

/// `rust_decimal`, re-exported so plugins convert with the same version the SDK uses.
pub use rust_decimal;
