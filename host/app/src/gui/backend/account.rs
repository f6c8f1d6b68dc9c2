//! Account commands: positions and account values.
//!
//! Positions come from the latest stored snapshot (the session records one at every
//! synchronisation and every change), resolved to instruments. Account values are not stored
//! by the workbench (it runs without the recorder), so the follower keeps the latest value of
//! every key of the running session and a refresh answers from that.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use sqlx::PgPool;
use tickwork_core::hub::{AccountValue, Hub};
use tickwork_core::store::{StoreError, instruments, positions};
use tokio::task::JoinHandle;

use super::{Live, Services};
use crate::gui::boundary::{AccountCommand, AccountEvent, Holding};

/// (key, currency) → the latest value, per account.
type Values = HashMap<String, BTreeMap<(String, String), AccountValue>>;

/// Each running session's hub with its latest values.
type Sessions = Mutex<Vec<(Weak<Hub>, Arc<Mutex<Values>>)>>;

/// The latest account values of each running session, found by its hub. A session's entry
/// goes when its hub does.
fn latest_values() -> &'static Sessions {
    static LATEST: OnceLock<Sessions> = OnceLock::new();
    LATEST.get_or_init(Mutex::default)
}

fn values_of(hub: &Arc<Hub>) -> Arc<Mutex<Values>> {
    let mut all = latest_values().lock().unwrap_or_else(|p| p.into_inner());
    all.retain(|(weak, _)| weak.strong_count() > 0);
    if let Some((_, values)) = all
        .iter()
        .find(|(weak, _)| std::ptr::eq(weak.as_ptr(), Arc::as_ptr(hub)))
    {
        return values.clone();
    }
    let values = Arc::new(Mutex::new(Values::new()));
    all.push((Arc::downgrade(hub), values.clone()));
    values
}

pub async fn handle(services: Services, command: AccountCommand) {
    match command {
        AccountCommand::Refresh { account } => {
            match holdings(&services.pool, &account).await {
                Ok(positions) => services.tell(AccountEvent::Positions {
                    account: account.clone(),
                    positions,
                }),
                Err(err) => return services.problem(&format!("positions of {account}"), err),
            }
            if let Some(live) = &services.live {
                let values: Vec<AccountValue> = values_of(&live.hub)
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get(&account)
                    .map(|held| held.values().cloned().collect())
                    .unwrap_or_default();
                services.tell(AccountEvent::Values { account, values });
            }
        }
    }
}

/// The latest stored positions of an account, with their instruments.
pub async fn holdings(pool: &PgPool, account: &str) -> Result<Vec<Holding>, StoreError> {
    let Some((_, held)) = positions::latest(pool, account).await? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(held.len());
    for position in held {
        if position.quantity.is_zero() {
            continue;
        }
        if let Some(instrument) = instruments::get(pool, position.instrument_id).await? {
            out.push(Holding {
                instrument,
                quantity: position.quantity,
                average_cost: position.average_cost,
            });
        }
    }
    Ok(out)
}

/// Position and account value updates, for the positions panel.
pub fn follow(services: &Services, live: &Live) -> Vec<JoinHandle<()>> {
    let mut updates = live.hub.subscribe_positions();
    let pool = services.pool.clone();
    let positions_to = services.clone();
    let positions = tokio::spawn(async move {
        while let Some(update) = updates.recv().await {
            let Ok(update) = update else {
                // Missed some: the next synchronisation publishes every position again.
                continue;
            };
            match instruments::get(&pool, update.instrument_id).await {
                Ok(Some(instrument)) => positions_to.tell(AccountEvent::Position {
                    account: update.account,
                    holding: Box::new(Holding {
                        instrument,
                        quantity: update.quantity,
                        average_cost: update.average_cost,
                    }),
                }),
                Ok(None) => {}
                Err(err) => positions_to.problem("a position update", err),
            }
        }
    });
    let mut values = live.hub.subscribe_account();
    let latest = values_of(&live.hub);
    let values_to = services.clone();
    let values = tokio::spawn(async move {
        while let Some(value) = values.recv().await {
            let Ok(value) = value else { continue };
            latest
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .entry(value.account.clone())
                .or_default()
                .insert((value.key.clone(), value.currency.clone()), value.clone());
            values_to.tell(AccountEvent::Values {
                account: value.account.clone(),
                values: vec![value],
            });
        }
    });
    vec![positions, values]
}

#[cfg(test)]
mod tests {
    use sqlx::PgPool;
    use tickwork_core::domain::{InstrumentSpec, Position};
    use tickwork_core::store::accounts;

    use super::*;
    use crate::gui::boundary::Notification;

    #[sqlx::test(migrations = "../../migrations")]
    async fn refresh_returns_the_stored_positions(pool: PgPool) {
        accounts::seen(&pool, "DU1").await.unwrap();
        let aapl = instruments::upsert(&pool, &InstrumentSpec::stock("AAPL"))
            .await
            .unwrap();
        let held = [Position {
            instrument_id: aapl.id,
            quantity: "100".parse().unwrap(),
            average_cost: "180.25".parse().unwrap(),
        }];
        positions::record_snapshot(&pool, "DU1", "sync", &held)
            .await
            .unwrap();
        let (services, told) = super::super::market::tests::services(&pool, None);
        handle(
            services.clone(),
            AccountCommand::Refresh {
                account: "DU1".into(),
            },
        )
        .await;
        let told = told.lock().unwrap();
        match told.first() {
            Some(Notification::Account(AccountEvent::Positions { account, positions })) => {
                assert_eq!(account, "DU1");
                assert_eq!(positions.len(), 1);
                assert_eq!(positions[0].instrument, aapl);
                assert_eq!(positions[0].quantity, held[0].quantity);
                assert_eq!(positions[0].average_cost, held[0].average_cost);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(told.len(), 1, "no values without a session");
    }
}
