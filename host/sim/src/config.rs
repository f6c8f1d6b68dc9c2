//! Simulator configuration and errors.

use std::net::{IpAddr, Ipv4Addr};

use rust_decimal::Decimal;

use crate::handshake::SUPPORTED_MAX_VERSIONS;

/// How a simulator instance behaves. `Default` is a TWS paper account on 127.0.0.1:7497.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub bind: IpAddr,
    /// 0 picks an ephemeral port (tests).
    pub port: u16,
    pub seed: u64,
    /// Highest server version answered: 226, 213 or 178.
    pub max_version: u32,
    /// Quote updates per second per subscribed instrument.
    pub tick_rate: f64,
    /// Managed accounts; the first holds the seeded positions.
    pub accounts: Vec<String>,
    pub starting_cash: Decimal,
    /// Inbound API messages per second shared by all clients (`None` disables the limit).
    pub rate_limit: Option<u32>,
    pub max_clients: usize,
    pub max_market_data_lines: usize,
    /// Largest accepted inbound frame.
    pub max_frame_len: usize,
    /// Enforce historical-data pacing (162).
    pub historical_pacing: bool,
    /// Responses queued for one client before it is disconnected as a slow consumer.
    pub max_queued: usize,
    /// Interval of unsolicited account-update and account-summary refreshes (TWS: 3 minutes).
    pub account_refresh: std::time::Duration,
    /// The first account also holds a SPY bull call spread (the workbench demo's portfolio,
    /// so that the positions and margin panels show a defined-risk strategy).
    pub option_spread: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 7497,
            seed: 1,
            max_version: 226,
            tick_rate: 4.0,
            accounts: vec!["DU1000001".into()],
            starting_cash: Decimal::from(1_000_000),
            rate_limit: Some(50),
            max_clients: 32,
            max_market_data_lines: 100,
            max_frame_len: crate::codec::frame::MAX_FRAME_LEN,
            historical_pacing: true,
            account_refresh: std::time::Duration::from_secs(180),
            max_queued: 100_000,
            option_spread: false,
        }
    }
}

impl SimConfig {
    /// Checks the values a user can get wrong.
    pub fn validate(&self) -> Result<(), SimError> {
        if !SUPPORTED_MAX_VERSIONS.contains(&self.max_version) {
            return Err(SimError::Config(format!(
                "--max-version must be 226, 213 or 178 (got {})",
                self.max_version
            )));
        }
        if !(self.tick_rate.is_finite() && self.tick_rate > 0.0) {
            return Err(SimError::Config(format!(
                "--tick-rate must be a positive number (got {})",
                self.tick_rate
            )));
        }
        if self.accounts.is_empty()
            || self
                .accounts
                .iter()
                .any(|a| a.is_empty() || a.contains(','))
        {
            return Err(SimError::Config(
                "accounts must be non-empty codes without commas".into(),
            ));
        }
        Ok(())
    }
}

/// Errors of the simulator API and CLI.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("the simulator is shut down")]
    Stopped,
}
