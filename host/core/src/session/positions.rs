//! Positions as TWS reports them: the snapshot read while synchronising, then every change on
//! the same subscription, each recorded as a new snapshot so PostgreSQL always holds what TWS
//! holds.

use std::collections::BTreeMap;

use ibapi::accounts::{Position as IbPosition, PositionUpdate};
use ibapi::subscriptions::Subscription;
use sqlx::PgPool;

use super::convert::{decimal, spec_from_contract};
use crate::domain::Position;
use crate::hub::{Hub, PositionUpdate as HubPosition};
use crate::store::{StoreError, instruments, positions};

/// Every account's positions, by instrument id.
#[derive(Debug, Default)]
pub struct Holdings {
    pub by_account: BTreeMap<String, BTreeMap<i64, Position>>,
}

impl Holdings {
    /// Applies one reported position (a zero quantity removes it) and publishes it.
    pub async fn apply(
        &mut self,
        pool: &PgPool,
        hub: &Hub,
        reported: &IbPosition,
    ) -> Result<String, StoreError> {
        let spec = spec_from_contract(&reported.contract).map_err(|e| StoreError::Corrupt {
            what: "position contract",
            message: e.to_string(),
        })?;
        let instrument = instruments::upsert(pool, &spec).await?;
        let position = Position {
            instrument_id: instrument.id,
            quantity: decimal(reported.position).unwrap_or_default(),
            average_cost: decimal(reported.average_cost).unwrap_or_default(),
        };
        hub.publish_position(HubPosition {
            account: reported.account.clone(),
            instrument_id: instrument.id,
            quantity: position.quantity,
            average_cost: position.average_cost,
        });
        let held = self.by_account.entry(reported.account.clone()).or_default();
        if position.quantity.is_zero() {
            held.remove(&instrument.id);
        } else {
            held.insert(instrument.id, position);
        }
        Ok(reported.account.clone())
    }

    /// Stores the account's current holdings as a snapshot.
    pub async fn record(
        &self,
        pool: &PgPool,
        account: &str,
        source: &str,
    ) -> Result<(), StoreError> {
        let held: Vec<Position> = self
            .by_account
            .get(account)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default();
        positions::record_snapshot(pool, account, source, &held)
            .await
            .map(drop)
    }
}

/// The live positions subscription, kept open after synchronising.
pub type PositionStream = Subscription<PositionUpdate>;
