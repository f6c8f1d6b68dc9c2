//! GTK-free services of the Tickwork workbench.
//!
//! Everything a window, a headless recorder or a test needs without a display lives here:
//! where files go ([`paths`]), what the user configured ([`config`]), secrets in the OS keyring
//! ([`secrets`]), logging ([`logging`]) and storage in PostgreSQL ([`store`]). The GUI crate
//! depends on this one; this one never depends on GTK.

pub mod config;
pub mod domain;
pub mod hub;
pub mod logging;
pub mod paths;
pub mod plugins;
pub mod recorder;
pub mod risk;
pub mod scripting;
pub mod secrets;
pub mod session;
pub mod store;
