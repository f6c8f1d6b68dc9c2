//! Native plugins on the host side: finding bundles, checking them before any of their code
//! runs, loading them for good, and plugging their capabilities into the panel registry, the
//! strategy manager and the margin engine. The C ABI itself lives in `tickwork-plugin-api`.

pub mod capability;
pub mod journal;
pub mod permissions;
pub mod services;
pub mod strategy;
