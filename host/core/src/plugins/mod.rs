//! Native plugins on the host side: finding bundles, checking them before any of their code
//! runs, loading them for good, and plugging their capabilities into the panel registry, the
//! strategy manager and the margin engine. The C ABI itself lives in `tickwork-plugin-api`.
//!
//! The order of things: [`discovery`] finds bundles and reads their [`manifest`]; [`trust`]
//! checks versions, hashes and the allowlist; [`library`] loads one (with [`host_api`] as its
//! host table, every call noted in the [`journal`]); [`registry`] does all of it for the
//! installation; [`margin_rule`] plugs loaded margin rules into the margin check; [`services`] are the host
//! tables plugins call, and [`strategy`] runs plugin strategies beside the scripts.

pub mod capability;
pub mod discovery;
pub mod grant;
pub mod host_api;
pub mod journal;
pub mod library;
pub mod manifest;
pub mod margin_rule;
pub mod panel;
pub mod permissions;
pub mod registry;
pub mod services;
pub mod strategy;
pub mod trust;

pub use registry::{
    LoadedPlugins, PluginEnv, PluginReport, load_all, load_eligible, probe, record, scan,
    shutdown_all,
};
pub use trust::PluginStatus;
