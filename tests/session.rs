//! The session against the real simulator over TCP through the real `ibapi` client, with a
//! real PostgreSQL database per test.

use rust_decimal_macros::dec;
use sqlx::PgPool;
use tickwork_core::domain::{InstrumentSpec, OrderSide, OrderType, TimeInForce};
use tickwork_core::session::ConnectionState;
use tickwork_core::store::{orders, sync_reports};
use tickwork_e2e::{
    Workbench, bounded, eventually, market, passing_context, recorded, start_sim, truth,
};

#[sqlx::test(migrations = "../migrations")]
async fn connects_synchronises_and_matches_the_simulator(pool: PgPool) {
    let sim = start_sim().await;
    let bench = Workbench::live(&sim, &pool, 1).await;
    let report = bench
        .session
        .reports()
        .borrow()
        .clone()
        .expect("a report after connecting");
    assert_eq!(report.accounts, sim.accounts());
    assert!(report.positions > 0, "{report:?}");
    assert!(report.account_values > 10, "{report:?}");
    assert_eq!(recorded(&pool).await, truth(&sim, 90).await);
    let stored = sync_reports::recent(&pool, 1).await.unwrap();
    assert_eq!(stored[0].reason, "connect");
    bench.stop().await;
    sim.shutdown().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn read_only_sends_nothing_and_armed_orders_fill(pool: PgPool) {
    let sim = start_sim().await;
    let bench = Workbench::live(&sim, &pool, 2).await;
    let account = sim.accounts()[0].clone();

    let denied = bench
        .router
        .submit(
            market(&account, "MSFT", OrderSide::Buy, dec!(5)),
            &passing_context(dec!(400)),
        )
        .await;
    assert!(denied.is_err(), "the workbench starts read-only");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(
        truth(&sim, 91).await.executions.is_empty(),
        "nothing reached the simulator"
    );

    bench.router.arm(&account, "ui").await.unwrap();
    let order_ref = bench
        .router
        .submit(
            market(&account, "MSFT", OrderSide::Buy, dec!(5)),
            &passing_context(dec!(400)),
        )
        .await
        .unwrap();
    let filled = eventually("fill recorded", || {
        let pool = pool.clone();
        let order_ref = order_ref.clone();
        async move {
            let order = orders::get(&pool, &order_ref).await.unwrap()?;
            (order.status == "Filled").then_some(order)
        }
    })
    .await;
    assert_eq!(filled.filled_quantity, dec!(5));
    let commission: Option<rust_decimal::Decimal> = eventually("commission recorded", || {
        let pool = pool.clone();
        let order_ref = order_ref.clone();
        async move {
            sqlx::query_scalar::<_, Option<rust_decimal::Decimal>>(
                "SELECT commission FROM executions WHERE order_ref = $1",
            )
            .bind(order_ref)
            .fetch_optional(&pool)
            .await
            .unwrap()
            .flatten()
            .map(Some)
        }
    })
    .await;
    assert!(commission.unwrap() > dec!(0));
    bench.stop().await;
    sim.shutdown().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn quotes_stream_into_the_hub(pool: PgPool) {
    let sim = start_sim().await;
    let bench = Workbench::live(&sim, &pool, 3).await;
    let quotes = bench.hub.subscribe_quotes();
    let id = bench
        .session
        .watch(InstrumentSpec::stock("AAPL"))
        .await
        .unwrap();
    let quote = bounded("AAPL quote", async {
        loop {
            let changed = quotes.changed().await;
            if let Some(q) = changed.get(&id)
                && q.bid.is_some()
                && q.ask.is_some()
            {
                return q.clone();
            }
        }
    })
    .await;
    assert!(quote.bid.unwrap() <= quote.ask.unwrap(), "{quote:?}");
    bench.stop().await;
    sim.shutdown().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn stopping_disconnects(pool: PgPool) {
    let sim = start_sim().await;
    let bench = Workbench::live(&sim, &pool, 4).await;
    let watch = bench.hub.watch_connection();
    bench.stop().await;
    assert_eq!(*watch.borrow(), ConnectionState::Disconnected);
    sim.shutdown().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn margin_check_keeps_our_what_if_and_tws_what_if(pool: PgPool) {
    use tickwork_core::risk::RiskView;
    let sim = start_sim().await;
    let bench = Workbench::start(&sim, &pool, 5);
    let view = RiskView::follow(&bench.hub);
    bench.wait_live().await;
    let account = sim.accounts()[0].clone();
    // Quotes for what we will trade and what we hold, so every mark is known.
    let quotes = bench.hub.subscribe_quotes();
    let mut ids = Vec::new();
    for symbol in ["MSFT", "AAPL", "SPY"] {
        ids.push(
            bench
                .session
                .watch(InstrumentSpec::stock(symbol))
                .await
                .unwrap(),
        );
    }
    tickwork_e2e::bounded("quotes for all three", async {
        let mut seen = std::collections::HashSet::new();
        while seen.len() < ids.len() {
            seen.extend(
                quotes
                    .changed()
                    .await
                    .into_iter()
                    .filter(|(_, q)| q.last.is_some() || q.bid.is_some())
                    .map(|(id, _)| id),
            );
        }
    })
    .await;

    let intent = market(&account, "MSFT", OrderSide::Buy, dec!(10));
    let tws = bench.session.what_if(intent.clone()).await.unwrap();
    assert!(tws.initial_margin_after.is_some(), "{tws:?}");
    let ctx = eventually("a full margin context", || {
        let (view, pool, intent, session) = (
            view.clone(),
            pool.clone(),
            intent.clone(),
            bench.session.clone(),
        );
        async move {
            let tws = session.what_if(intent.clone()).await.ok();
            let ctx = view.context_for(&pool, &intent, true, tws).await.unwrap();
            ctx.margin
                .as_ref()
                .is_some_and(|m| m.tws_initial_after.is_some())
                .then_some(ctx)
        }
    })
    .await;
    let margin = ctx.margin.clone().unwrap();
    assert!(
        margin.initial_after > dec!(0) && margin.equity_with_loan > margin.initial_after,
        "{margin:?}"
    );

    bench.router.arm(&account, "ui").await.unwrap();
    let order_ref = bench.router.submit(intent, &ctx).await.unwrap();
    let audit = tickwork_core::store::audit::recent(&pool, 5).await.unwrap();
    let row = audit
        .iter()
        .find(|r| r.details["order_ref"] == order_ref.as_str())
        .unwrap();
    assert_eq!(
        row.details["margin_initial_after"],
        margin.initial_after.to_string()
    );
    assert_eq!(
        row.details["tws_initial_after"],
        margin.tws_initial_after.unwrap().to_string()
    );
    bench.stop().await;
    sim.shutdown().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn client_id_in_use_moves_to_the_next_free_one(pool: PgPool) {
    let sim = start_sim().await;
    let first = Workbench::start(&sim, &pool, 20);
    first.wait_live().await;
    let second = Workbench::start_with(&sim, &pool, 20, |c| c.profile.auto_client_id = true);
    second.wait_live().await;
    assert_eq!(
        sim.connections(),
        2,
        "both sessions are connected, on different client ids"
    );
    let strict = Workbench::start_with(&sim, &pool, 20, |c| c.profile.auto_client_id = false);
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    assert_ne!(
        *strict.hub.watch_connection().borrow(),
        ConnectionState::Live,
        "326 without auto client id"
    );
    for bench in [first, second, strict] {
        bench.stop().await;
    }
    sim.shutdown().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn market_data_lines_beyond_the_limit_wait_in_a_queue(pool: PgPool) {
    let sim = start_sim().await;
    let bench = Workbench::start_with(&sim, &pool, 21, |c| c.line_limit = 2);
    bench.wait_live().await;
    let quotes = bench.hub.subscribe_quotes();
    let aapl = bench
        .session
        .watch(InstrumentSpec::stock("AAPL"))
        .await
        .unwrap();
    let msft = bench
        .session
        .watch(InstrumentSpec::stock("MSFT"))
        .await
        .unwrap();
    let spy = bench
        .session
        .watch(InstrumentSpec::stock("SPY"))
        .await
        .unwrap();
    assert_eq!(bench.session.line_queue().await.unwrap(), vec![spy]);
    bench.session.unwatch(aapl).await.unwrap();
    assert!(bench.session.line_queue().await.unwrap().is_empty());
    tickwork_e2e::bounded("SPY streams once a line is free", async {
        while !quotes.changed().await.contains_key(&spy) {}
    })
    .await;
    let _ = msft;
    bench.stop().await;
    sim.shutdown().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn historical_bars_are_fetched_and_stored(pool: PgPool) {
    use tickwork_core::session::HistoryRequest;
    let sim = start_sim().await;
    let bench = Workbench::live(&sim, &pool, 22).await;
    let bars = bench
        .session
        .history(HistoryRequest {
            spec: InstrumentSpec::stock("AAPL"),
            bar_seconds: 300,
            days: 1,
        })
        .await
        .unwrap();
    assert!(bars.len() > 10, "{} bars", bars.len());
    assert!(bars.windows(2).all(|w| w[0].ts < w[1].ts), "ascending");
    assert!(
        bars.iter()
            .all(|b| b.low <= b.open && b.open <= b.high && b.low <= b.close && b.close <= b.high)
    );
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM bars")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored, bars.len() as i64);
    let refused = bench
        .session
        .history(HistoryRequest {
            spec: InstrumentSpec::stock("AAPL"),
            bar_seconds: 7,
            days: 1,
        })
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("7 s"), "{refused}");
    bench.stop().await;
    sim.shutdown().await;
}

/// The simulator's working orders by order ref: (order type, limit, aux price, parent id, id).
async fn sim_open_orders(
    sim: &tickwork_sim::SimHandle,
    client_id: i32,
) -> std::collections::HashMap<String, (String, Option<f64>, Option<f64>, i32, i32)> {
    use futures::StreamExt;
    let client = ibapi::Client::connect(&sim.local_addr().to_string(), client_id)
        .await
        .unwrap();
    let mut open = client.all_open_orders().await.unwrap();
    let mut out = std::collections::HashMap::new();
    while let Some(item) = tickwork_e2e::bounded("open orders", open.next()).await {
        if let Ok(ibapi::subscriptions::SubscriptionItem::Data(ibapi::orders::Orders::OrderData(
            o,
        ))) = item
        {
            out.insert(
                o.order.order_ref.clone(),
                (
                    o.order.order_type.clone(),
                    o.order.limit_price,
                    o.order.aux_price,
                    o.order.parent_id,
                    o.order_id,
                ),
            );
        }
    }
    client.disconnect().await;
    out
}

fn resting(
    account: &str,
    order_type: OrderType,
    side: OrderSide,
    limit: Option<rust_decimal::Decimal>,
    stop: Option<rust_decimal::Decimal>,
) -> tickwork_core::risk::OrderIntent {
    tickwork_core::risk::OrderIntent {
        order_type,
        limit_price: limit,
        stop_price: stop,
        time_in_force: TimeInForce::Gtc,
        ..market(account, "MSFT", side, dec!(10))
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn limit_stop_and_stop_limit_rest_modify_and_cancel(pool: PgPool) {
    use tickwork_core::risk::OrderChanges;
    let sim = start_sim().await;
    let bench = Workbench::live(&sim, &pool, 23).await;
    let account = sim.accounts()[0].clone();
    bench.router.arm(&account, "ui").await.unwrap();
    let ctx = passing_context(dec!(400));
    // Around MSFT ≈ 400, none of these can trade now: they rest.
    let limit = bench
        .router
        .submit(
            resting(
                &account,
                OrderType::Limit,
                OrderSide::Buy,
                Some(dec!(385)),
                None,
            ),
            &ctx,
        )
        .await
        .unwrap();
    let stop = bench
        .router
        .submit(
            resting(
                &account,
                OrderType::Stop,
                OrderSide::Buy,
                None,
                Some(dec!(415)),
            ),
            &ctx,
        )
        .await
        .unwrap();
    let stop_limit = bench
        .router
        .submit(
            resting(
                &account,
                OrderType::StopLimit,
                OrderSide::Sell,
                Some(dec!(384)),
                Some(dec!(385)),
            ),
            &ctx,
        )
        .await
        .unwrap();
    let open = eventually("three working orders", || async {
        let open = sim_open_orders(&sim, 93).await;
        (open.len() >= 3).then_some(open)
    })
    .await;
    assert_eq!(open[&limit].0, "LMT");
    assert_eq!(open[&stop].0, "STP");
    assert_eq!(open[&stop_limit].0, "STP LMT");
    assert_eq!(open[&stop_limit].2, Some(385.0));

    bench
        .router
        .modify(
            &limit,
            tickwork_core::risk::Origin::Ui,
            OrderChanges {
                limit_price: Some(dec!(386.5)),
                ..OrderChanges::default()
            },
            &ctx,
        )
        .await
        .unwrap();
    eventually("modified price at the simulator", || async {
        (sim_open_orders(&sim, 93)
            .await
            .get(&limit)
            .and_then(|o| o.1)
            == Some(386.5))
        .then_some(())
    })
    .await;
    // A modification is gated like a new order: far outside the collar is refused.
    let refused = bench
        .router
        .modify(
            &limit,
            tickwork_core::risk::Origin::Ui,
            OrderChanges {
                limit_price: Some(dec!(300)),
                ..OrderChanges::default()
            },
            &ctx,
        )
        .await;
    assert!(refused.is_err());

    for order_ref in [&limit, &stop, &stop_limit] {
        bench.router.cancel(order_ref, "ui").await.unwrap();
    }
    eventually("all cancelled", || {
        let pool = pool.clone();
        let refs = [limit.clone(), stop.clone(), stop_limit.clone()];
        async move {
            for r in &refs {
                if tickwork_core::store::orders::get(&pool, r)
                    .await
                    .unwrap()
                    .unwrap()
                    .status
                    != "Cancelled"
                {
                    return None;
                }
            }
            Some(())
        }
    })
    .await;
    assert!(sim_open_orders(&sim, 93).await.is_empty());
    bench.stop().await;
    sim.shutdown().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn bracket_children_are_attached_to_their_parent(pool: PgPool) {
    let sim = start_sim().await;
    let bench = Workbench::live(&sim, &pool, 24).await;
    let account = sim.accounts()[0].clone();
    bench.router.arm(&account, "ui").await.unwrap();
    let ctx = passing_context(dec!(400));
    let parent = resting(
        &account,
        OrderType::Limit,
        OrderSide::Buy,
        Some(dec!(385)),
        None,
    );
    let take_profit = resting(
        &account,
        OrderType::Limit,
        OrderSide::Sell,
        Some(dec!(415)),
        None,
    );
    let stop_loss = resting(
        &account,
        OrderType::Stop,
        OrderSide::Sell,
        None,
        Some(dec!(381)),
    );
    let [p, tp, sl] = bench
        .router
        .submit_bracket(parent, take_profit, stop_loss, &ctx)
        .await
        .unwrap();
    let open = eventually("bracket at the simulator", || async {
        let open = sim_open_orders(&sim, 94).await;
        (open.len() >= 3).then_some(open)
    })
    .await;
    let parent_id = open[&p].4;
    assert_eq!(
        (open[&tp].3, open[&sl].3),
        (parent_id, parent_id),
        "{open:?}"
    );
    let child = tickwork_core::store::orders::get(&pool, &sl)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(child.parent_ref.as_deref(), Some(p.as_str()));
    bench.router.cancel(&p, "ui").await.unwrap();
    eventually("children cancelled with the parent", || async {
        sim_open_orders(&sim, 94).await.is_empty().then_some(())
    })
    .await;
    bench.stop().await;
    sim.shutdown().await;
}
