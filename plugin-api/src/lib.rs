//! The contract between the Tickwork host and native plugins.
//!
//! [`abi`] is the frozen C ABI (also published as `include/tickwork_plugin.h` for C plugins);
//! the safe Rust SDK for plugin authors is built on top of it.

pub mod abi;
