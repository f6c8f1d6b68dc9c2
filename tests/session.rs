//! The session against the real simulator over TCP through the real `ibapi` client, with a
//! real PostgreSQL database per test.

use rust_decimal_macros::dec;
use sqlx::PgPool;
use tickwork_core::domain::{InstrumentSpec, OrderSide};
use tickwork_core::session::ConnectionState;
use tickwork_core::store::{orders, sync_reports};
use tickwork_e2e::{
    Workbench, bounded, eventually, market, passing_context, recorded, start_sim, truth,
};

#[sqlx::test(migrations = "../migrations")]
async fn connects_synchronises_and_matches_the_simulator(pool: PgPool) {
    let sim = start_sim().await;
    let bench = Workbench::start(&sim, &pool, 1);
    bench.wait_live().await;
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
    let bench = Workbench::start(&sim, &pool, 2);
    bench.wait_live().await;
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
    let bench = Workbench::start(&sim, &pool, 3);
    bench.wait_live().await;
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
    let bench = Workbench::start(&sim, &pool, 4);
    bench.wait_live().await;
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
            let ctx = view
                .context_for(&pool, &intent, true, Some(&session))
                .await
                .unwrap();
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
    let bench = Workbench::start(&sim, &pool, 22);
    bench.wait_live().await;
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
