//! Which orders TWS never received are sent again after a reconnect, and how.
//!
//! An order TWS never received (still `PendingSubmit`, in neither its open nor its completed
//! orders) is resent only if it is younger than the resend window; older ones end Inactive.
//! A bracket is resent whole: the never-received legs of one bracket form one group, decided
//! by the gate together, and sent with the transmit flags of a first send (only the last
//! child transmits), so the parent can never fill unprotected.

use std::time::Duration;

use sqlx::PgPool;

use crate::domain::Order;
use crate::risk::ResendLeg;
use crate::store::{audit, instruments, orders};

/// The legs to resend together (one order, or the unsent legs of one bracket).
#[derive(Debug)]
pub struct ResendGroup {
    pub legs: Vec<ResendLeg>,
}

/// Groups the never-received orders by bracket, expiring those older than `window`.
pub async fn groups(
    pool: &PgPool,
    never_received: &[String],
    window: Duration,
) -> Vec<ResendGroup> {
    let mut groups: Vec<(String, Vec<Order>)> = Vec::new();
    for order_ref in never_received {
        let order = match orders::get(pool, order_ref).await {
            Ok(Some(order)) => order,
            Ok(None) => continue,
            Err(err) => {
                tracing::error!(%order_ref, error = %err, "cannot read an order to resend");
                continue;
            }
        };
        let root = order
            .parent_ref
            .clone()
            .unwrap_or_else(|| order.order_ref.clone());
        match groups.iter_mut().find(|(r, _)| *r == root) {
            Some((_, legs)) => legs.push(order),
            None => groups.push((root, vec![order])),
        }
    }
    let mut out = Vec::new();
    for (root, legs) in groups {
        let young = legs.iter().all(|o| {
            (chrono::Utc::now() - o.created_at)
                .to_std()
                .is_ok_and(|age| age <= window)
        });
        if !young {
            for order in &legs {
                expire(pool, order, window).await;
            }
            continue;
        }
        // The last child of the bracket (sent or not) is the one that transmits.
        let last_child = match orders::children(pool, &root).await {
            Ok(children) => children.last().map(|c| c.order_ref.clone()),
            Err(err) => {
                tracing::error!(%root, error = %err, "cannot read a bracket's children");
                continue;
            }
        };
        let mut group = ResendGroup { legs: Vec::new() };
        for order in legs {
            let Ok(Some(instrument)) = instruments::get(pool, order.instrument_id).await else {
                tracing::error!(order_ref = %order.order_ref, "cannot read the instrument of an order to resend");
                group.legs.clear();
                break;
            };
            let transmit = match &last_child {
                Some(last) => *last == order.order_ref,
                None => true,
            };
            group.legs.push(ResendLeg {
                order,
                instrument: instrument.spec,
                transmit,
            });
        }
        if !group.legs.is_empty() {
            out.push(group);
        }
    }
    out
}

async fn expire(pool: &PgPool, order: &Order, window: Duration) {
    let reason = format!("never reached TWS and is older than {window:?}; not resent");
    let _ = orders::finish(pool, &order.order_ref, "Inactive", &reason).await;
    let _ = audit::append(
        pool,
        &audit::AuditEntry {
            actor: "system".into(),
            action: "order.expired".into(),
            decision: None,
            reason: Some(reason),
            details: serde_json::json!({ "order_ref": order.order_ref }),
        },
    )
    .await;
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;
    use crate::domain::{InstrumentSpec, OrderSide, OrderType, TimeInForce};
    use crate::store::orders::NewOrder;

    async fn insert(pool: &PgPool, order_ref: &str, parent: Option<&str>) {
        let aapl = instruments::upsert(pool, &InstrumentSpec::stock("AAPL"))
            .await
            .unwrap();
        orders::insert(
            pool,
            &NewOrder {
                order_ref: order_ref.into(),
                account: "DU1".into(),
                instrument_id: aapl.id,
                origin: "ui".into(),
                side: OrderSide::Buy,
                quantity: dec!(1),
                order_type: OrderType::Market,
                limit_price: None,
                stop_price: None,
                time_in_force: TimeInForce::Day,
                parent_ref: parent.map(str::to_owned),
            },
        )
        .await
        .unwrap();
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn a_bracket_is_one_group_and_only_its_last_child_transmits(pool: PgPool) {
        insert(&pool, "p", None).await;
        insert(&pool, "tp", Some("p")).await;
        insert(&pool, "sl", Some("p")).await;
        insert(&pool, "lone", None).await;
        let refs: Vec<String> = ["p", "tp", "sl", "lone"].map(String::from).to_vec();
        let groups = groups(&pool, &refs, Duration::from_secs(60)).await;
        let flags: Vec<Vec<(&str, bool)>> = groups
            .iter()
            .map(|g| {
                g.legs
                    .iter()
                    .map(|l| (l.order.order_ref.as_str(), l.transmit))
                    .collect()
            })
            .collect();
        assert_eq!(
            flags,
            vec![
                vec![("p", false), ("tp", false), ("sl", true)],
                vec![("lone", true)]
            ]
        );
        // Only the stop-loss never arrived: it still goes alone, and transmits the group.
        let groups = groups_of(&pool, &["sl"]).await;
        assert_eq!(groups, vec![vec![("sl".to_owned(), true)]]);
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn an_old_leg_expires_the_whole_bracket(pool: PgPool) {
        insert(&pool, "p", None).await;
        insert(&pool, "tp", Some("p")).await;
        let groups = groups(&pool, &["p".into(), "tp".into()], Duration::ZERO).await;
        assert!(groups.is_empty());
        for r in ["p", "tp"] {
            let o = orders::get(&pool, r).await.unwrap().unwrap();
            assert_eq!(o.status, "Inactive");
            assert!(o.status_reason.unwrap().contains("not resent"));
        }
    }

    async fn groups_of(pool: &PgPool, refs: &[&str]) -> Vec<Vec<(String, bool)>> {
        let refs: Vec<String> = refs.iter().map(|r| (*r).to_owned()).collect();
        groups(pool, &refs, Duration::from_secs(60))
            .await
            .into_iter()
            .map(|g| {
                g.legs
                    .into_iter()
                    .map(|l| (l.order.order_ref, l.transmit))
                    .collect()
            })
            .collect()
    }
}
