//! Order commands: preview, place, modify, cancel, the blotter's data and an order's audit trail.
//!
//! Place and cancel are carried out in the backend's sequential loop (in the order the trader
//! gave them). Previews and modifications wait for TWS (a what-if, a modification's answer), so
//! they run in their own tasks and never hold up a cancel.

use std::collections::BTreeSet;

use chrono::{DateTime, Local, TimeZone, Utc};
use sqlx::PgPool;
use tickwork_core::domain::{Execution, Instrument, Order, OrderIntent, Origin};
use tickwork_core::risk::OrderChanges;
use tickwork_core::store::{StoreError, audit, executions, instruments, orders};
use tokio::task::JoinHandle;

use super::{Live, Services};
use crate::gui::boundary::{OrderCommand, OrderEvent, OurMargin, SessionEvent};

pub async fn handle(services: Services, command: OrderCommand) {
    match command {
        OrderCommand::Preview { intent } => {
            tokio::spawn(preview(services, intent));
        }
        OrderCommand::Place { intent } => {
            place(&services, intent).await;
            refresh(&services).await;
        }
        OrderCommand::Modify {
            order_ref,
            quantity,
            limit_price,
            stop_price,
        } => {
            let changes = OrderChanges {
                quantity,
                limit_price,
                stop_price,
            };
            tokio::spawn(async move {
                modify(&services, order_ref, changes).await;
                refresh(&services).await;
            });
        }
        OrderCommand::Cancel { order_ref } => {
            let Some(live) = services.live_or_refuse() else {
                return;
            };
            if let Err(err) = live.router.cancel(&order_ref, "ui").await {
                services.tell(SessionEvent::Refused(err.to_string()));
            }
            refresh(&services).await;
        }
        OrderCommand::Refresh => refresh(&services).await,
        OrderCommand::Audit { order_ref } => {
            tokio::spawn(async move {
                match audit::for_order(&services.pool, &order_ref).await {
                    Ok(entries) => services.tell(OrderEvent::Audit { order_ref, entries }),
                    Err(err) => services.problem(&format!("audit trail of {order_ref}"), err),
                }
            });
        }
    }
}

/// The gate's verdict and our margin at once, then TWS's what-if when it answers.
async fn preview(services: Services, intent: Box<OrderIntent>) {
    let Some(live) = services.live_or_refuse() else {
        return;
    };
    let refusal = match live
        .view
        .context_for(&services.pool, &intent, true, None)
        .await
    {
        Ok(ctx) => live
            .router
            .preview(&intent, &ctx)
            .await
            .err()
            .map(|d| d.to_string()),
        Err(err) => Some(format!("the risk context is unavailable: {err}")),
    };
    let ours = match live.view.margin_preview(&services.pool, &intent).await {
        Ok(Ok(preview)) => Ok(OurMargin {
            price: preview.price,
            initial_before: preview.what_if.initial_before,
            initial_after: preview.what_if.initial_after,
            maintenance_before: preview.what_if.maintenance_before,
            maintenance_after: preview.what_if.maintenance_after,
            equity_with_loan: preview.equity_with_loan,
            explanation: preview.what_if.group_after,
        }),
        Ok(Err(why)) => Err(why),
        Err(err) => Err(format!("the database did not answer: {err}")),
    };
    services.tell(OrderEvent::Preview {
        intent: intent.clone(),
        refusal,
        ours,
    });
    let tws = live
        .session
        .what_if((*intent).clone())
        .await
        .map_err(|err| err.to_string());
    services.tell(OrderEvent::PreviewTws { intent, tws });
}

async fn place(services: &Services, intent: Box<OrderIntent>) {
    let Some(live) = services.live_or_refuse() else {
        return;
    };
    let ctx = match live
        .view
        .context_for(&services.pool, &intent, true, None)
        .await
    {
        Ok(ctx) => ctx,
        Err(err) => return services.problem("the risk context is unavailable", err),
    };
    match live.router.submit((*intent).clone(), &ctx).await {
        Ok(order_ref) => services.tell(OrderEvent::Placed { order_ref, intent }),
        Err(err) => services.tell(OrderEvent::PlaceRefused {
            intent,
            reason: err.to_string(),
        }),
    }
}

/// The modified intent passes the gate with a fresh context; the router waits for TWS.
async fn modify(services: &Services, order_ref: String, changes: OrderChanges) {
    let Some(live) = services.live_or_refuse() else {
        return;
    };
    let refused = |reason: String| {
        services.tell(OrderEvent::ModifyRefused {
            order_ref: order_ref.clone(),
            reason,
        })
    };
    let intent = match modified_intent(&services.pool, &order_ref, &changes).await {
        Ok(Some(intent)) => intent,
        Ok(None) => return refused(format!("order {order_ref} is not a working order")),
        Err(err) => return refused(format!("the database did not answer: {err}")),
    };
    let ctx = match live
        .view
        .context_for(&services.pool, &intent, true, None)
        .await
    {
        Ok(ctx) => ctx,
        Err(err) => return refused(format!("the risk context is unavailable: {err}")),
    };
    match live
        .router
        .modify(&order_ref, Origin::Ui, changes, &ctx)
        .await
    {
        Ok(()) => services.tell(OrderEvent::Modified {
            order_ref: order_ref.clone(),
        }),
        Err(err) => refused(err.to_string()),
    }
}

/// The intent a working order becomes with `changes` (what the gate's context is built for).
async fn modified_intent(
    pool: &PgPool,
    order_ref: &str,
    changes: &OrderChanges,
) -> Result<Option<OrderIntent>, StoreError> {
    let Some(order) = orders::get(pool, order_ref)
        .await?
        .filter(|o| !orders::FINAL_STATUSES.contains(&o.status.as_str()))
    else {
        return Ok(None);
    };
    let Some(instrument) = instruments::get(pool, order.instrument_id).await? else {
        return Ok(None);
    };
    let mut intent = OrderIntent::from_order(&order, instrument.spec, Origin::Ui);
    intent.quantity = changes.quantity.unwrap_or(intent.quantity);
    intent.limit_price = changes.limit_price.or(intent.limit_price);
    intent.stop_price = changes.stop_price.or(intent.stop_price);
    Ok(Some(intent))
}

/// The start of today, local time, as a UTC instant (executions are "today's" from there).
pub fn start_of_local_day(now: DateTime<Local>) -> DateTime<Utc> {
    let midnight = now.date_naive().and_hms_opt(0, 0, 0).unwrap_or_default();
    Local
        .from_local_datetime(&midnight)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        // A day that starts inside a DST gap: the last 24 hours are the safe superset.
        .unwrap_or_else(|| now.with_timezone(&Utc) - chrono::Duration::hours(24))
}

/// What the blotter shows.
#[derive(Debug, Default)]
struct Blotter {
    orders: Vec<Order>,
    executions: Vec<Execution>,
    instruments: Vec<Instrument>,
}

/// Working orders of every account, fills of `accounts` (plus the working orders' accounts)
/// since `since`, newest fill first, and the instruments both refer to.
async fn blotter(
    pool: &PgPool,
    accounts: &[String],
    since: DateTime<Utc>,
) -> Result<Blotter, StoreError> {
    let working = orders::all_working(pool).await?;
    let accounts: BTreeSet<&str> = working
        .iter()
        .map(|o| o.account.as_str())
        .chain(accounts.iter().map(String::as_str))
        .collect();
    let mut fills = Vec::new();
    for account in accounts {
        fills.extend(executions::since(pool, account, since).await?);
    }
    fills.sort_by(|a, b| {
        b.executed_at
            .cmp(&a.executed_at)
            .then(b.exec_id.cmp(&a.exec_id))
    });
    let ids: BTreeSet<i64> = working
        .iter()
        .map(|o| o.instrument_id)
        .chain(fills.iter().map(|f| f.instrument_id))
        .collect();
    let mut found = Vec::new();
    for id in ids {
        if let Some(instrument) = instruments::get(pool, id).await? {
            found.push(instrument);
        }
    }
    Ok(Blotter {
        orders: working,
        executions: fills,
        instruments: found,
    })
}

/// The accounts whose fills the blotter shows: every account the session reported at its last
/// synchronisation, and the profile's own.
fn session_accounts(live: &Live) -> Vec<String> {
    let reported = live
        .session
        .reports()
        .borrow()
        .as_ref()
        .map(|r| r.accounts.clone())
        .unwrap_or_default();
    reported
        .into_iter()
        .chain(live.profile.account.clone())
        .collect()
}

async fn refresh(services: &Services) {
    let accounts = services
        .live
        .as_ref()
        .map(session_accounts)
        .unwrap_or_default();
    match blotter(&services.pool, &accounts, start_of_local_day(Local::now())).await {
        Ok(found) => services.tell(OrderEvent::Blotter {
            orders: found.orders,
            executions: found.executions,
            instruments: found.instruments,
        }),
        Err(err) => services.problem("working orders and executions", err),
    }
}

/// Order updates and fills refresh the blotter.
pub fn follow(services: &Services, live: &Live) -> Vec<JoinHandle<()>> {
    let mut updates = live.hub.subscribe_orders();
    let mut fills = live.hub.subscribe_fills();
    let services = services.clone();
    vec![tokio::spawn(async move {
        loop {
            tokio::select! {
                update = updates.recv() => if update.is_none() { return },
                fill = fills.recv() => if fill.is_none() { return },
            }
            refresh(&services).await;
        }
    })]
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    /// An exact decimal from its text (the app has no decimal macro).
    fn d(text: &str) -> rust_decimal::Decimal {
        text.parse().expect("a decimal")
    }
    use tickwork_core::domain::{ExecSide, InstrumentSpec, OrderSide, OrderType, TimeInForce};
    use tickwork_core::store::orders::NewOrder;

    use super::*;

    async fn order(pool: &PgPool, order_ref: &str, account: &str, symbol: &str) {
        let instrument = instruments::upsert(pool, &InstrumentSpec::stock(symbol))
            .await
            .unwrap();
        orders::insert(
            pool,
            &NewOrder {
                order_ref: order_ref.into(),
                account: account.into(),
                instrument_id: instrument.id,
                origin: "ui".into(),
                side: OrderSide::Buy,
                quantity: d("10"),
                order_type: OrderType::Limit,
                limit_price: Some(d("187.5")),
                stop_price: None,
                time_in_force: TimeInForce::Day,
                parent_ref: None,
            },
        )
        .await
        .unwrap();
    }

    async fn fill(pool: &PgPool, exec_id: &str, account: &str, symbol: &str, at: DateTime<Utc>) {
        let instrument = instruments::upsert(pool, &InstrumentSpec::stock(symbol))
            .await
            .unwrap();
        executions::record(
            pool,
            &Execution {
                exec_id: exec_id.into(),
                order_ref: None,
                tws_order_id: None,
                tws_perm_id: None,
                account: account.into(),
                instrument_id: instrument.id,
                side: ExecSide::Bought,
                quantity: d("5"),
                price: d("187.25"),
                commission: Some(d("1.00")),
                commission_currency: Some("USD".into()),
                realized_pnl: None,
                executed_at: at,
            },
        )
        .await
        .unwrap();
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn blotter_has_working_orders_and_todays_fills_across_accounts(pool: PgPool) {
        let now = Utc::now();
        let since = start_of_local_day(Local::now());
        order(&pool, "tw-1", "DU1", "AAPL").await;
        order(&pool, "tw-2", "DU3", "MSFT").await;
        orders::finish(&pool, "tw-2", "Cancelled", "by the trader")
            .await
            .unwrap();
        // DU1 (session), DU2 (session, no orders), DU9 (not reported): only the first two.
        fill(&pool, "e-1", "DU1", "AAPL", now).await;
        fill(&pool, "e-2", "DU2", "IBM", now).await;
        fill(&pool, "e-9", "DU9", "AAPL", now).await;
        fill(&pool, "e-old", "DU1", "AAPL", since - Duration::minutes(1)).await;
        let accounts = vec!["DU1".to_owned(), "DU2".to_owned()];
        let found = blotter(&pool, &accounts, since).await.unwrap();
        assert_eq!(
            found
                .orders
                .iter()
                .map(|o| o.order_ref.as_str())
                .collect::<Vec<_>>(),
            vec!["tw-1"],
            "only working orders"
        );
        let mut fills: Vec<&str> = found
            .executions
            .iter()
            .map(|e| e.exec_id.as_str())
            .collect();
        fills.sort_unstable();
        assert_eq!(
            fills,
            vec!["e-1", "e-2"],
            "today's fills of the session's accounts"
        );
        let mut symbols: Vec<&str> = found
            .instruments
            .iter()
            .map(|i| i.spec.symbol.as_str())
            .collect();
        symbols.sort_unstable();
        assert_eq!(symbols, vec!["AAPL", "IBM"]);
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn a_working_orders_account_shows_its_fills_even_if_not_reported(pool: PgPool) {
        let now = Utc::now();
        order(&pool, "tw-7", "DU7", "AAPL").await;
        fill(&pool, "e-7", "DU7", "AAPL", now).await;
        let found = blotter(&pool, &[], start_of_local_day(Local::now()))
            .await
            .unwrap();
        assert_eq!(found.executions.len(), 1);
        assert_eq!(found.executions[0].account, "DU7");
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn a_modification_applies_only_what_changed(pool: PgPool) {
        order(&pool, "tw-1", "DU1", "AAPL").await;
        let changes = OrderChanges {
            quantity: Some(d("20")),
            ..OrderChanges::default()
        };
        let intent = modified_intent(&pool, "tw-1", &changes)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(intent.quantity, d("20"));
        assert_eq!(intent.limit_price, Some(d("187.5")));
        assert_eq!(intent.instrument.symbol, "AAPL");
        assert_eq!(intent.origin, Origin::Ui);
        orders::finish(&pool, "tw-1", "Cancelled", "gone")
            .await
            .unwrap();
        assert!(
            modified_intent(&pool, "tw-1", &changes)
                .await
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn the_day_starts_at_local_midnight() {
        let now = Local::now();
        let start = start_of_local_day(now);
        assert!(start <= now.with_timezone(&Utc));
        assert!(now.with_timezone(&Utc) - start <= Duration::hours(25));
        assert_eq!(start.with_timezone(&Local).date_naive(), now.date_naive());
    }
}
