//! The gate's rules on live data: the context comes from `RiskView` following the session's hub
//! (real positions, quotes and TWS's what-if from the simulator), and each test checks what
//! the simulator received and what PostgreSQL holds.

use std::time::Duration;

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use sqlx::PgPool;
use tickwork_core::domain::{InstrumentSpec, OrderSide, OrderType};
use tickwork_core::risk::{OrderIntent, RiskLimits, RiskRule, RiskView, SubmitError};
use tickwork_core::store::{audit, risk_limits};
use tickwork_e2e::{Workbench, eventually, market};
use tickwork_sim::SimHandle;

fn orders_at_tws(sim: &SimHandle, symbol: &str) -> usize {
    sim.orders().iter().filter(|o| o.symbol == symbol).count()
}

fn denial(err: SubmitError) -> (RiskRule, String) {
    match err {
        SubmitError::Denied(d) => (d.rule, d.reason),
        other => panic!("expected a denial, got {other}"),
    }
}

/// A live session on a fresh simulator, its risk view, the first account armed, MSFT watched.
async fn armed_watching_msft(
    pool: &PgPool,
    client_id: i32,
) -> (SimHandle, Workbench, RiskView, String) {
    let sim = tickwork_e2e::start_sim().await;
    let bench = Workbench::live(&sim, pool, client_id).await;
    let view = RiskView::follow(&bench.hub);
    let account = sim.accounts()[0].clone();
    bench
        .session
        .watch(InstrumentSpec::stock("MSFT"))
        .await
        .unwrap();
    bench.router.arm(&account, "ui").await.unwrap();
    (sim, bench, view, account)
}

#[sqlx::test(migrations = "../migrations")]
async fn a_flip_opens_a_position_that_faces_the_daily_loss_rule(pool: PgPool) {
    let (sim, bench, view, account) = armed_watching_msft(&pool, 60).await;
    let buy = market(&account, "MSFT", OrderSide::Buy, dec!(40));
    let ctx = tickwork_e2e::passing_context(dec!(400));
    bench.router.submit(buy, &ctx).await.unwrap();

    // The position the gate sees is the simulator's, through the hub.
    let sell = market(&account, "MSFT", OrderSide::Sell, dec!(50));
    let mut ctx = eventually("long 40 in the view", || {
        let (view, pool, sell) = (view.clone(), pool.clone(), sell.clone());
        async move {
            let ctx = view.context_for(&pool, &sell, true, None).await.unwrap();
            (ctx.position == dec!(40) && ctx.last_price.is_some()).then_some(ctx)
        }
    })
    .await;
    let sent_before = orders_at_tws(&sim, "MSFT");
    // Today's loss is over the limit: closing 40 passes, opening 10 short does not.
    ctx.daily_pnl = Some(dec!(-5000));
    let (rule, reason) = denial(bench.router.submit(sell.clone(), &ctx).await.unwrap_err());
    assert_eq!(rule, RiskRule::DailyLoss);
    assert!(reason.contains("opens 10)"), "{reason}");
    assert_eq!(orders_at_tws(&sim, "MSFT"), sent_before, "nothing sent");
    let close = market(&account, "MSFT", OrderSide::Sell, dec!(40));
    bench.router.submit(close, &ctx).await.unwrap();
    eventually("flat at the simulator", || {
        let (view, pool, sell) = (view.clone(), pool.clone(), sell.clone());
        async move {
            let ctx = view.context_for(&pool, &sell, true, None).await.unwrap();
            ctx.position.is_zero().then_some(())
        }
    })
    .await;
    bench.stop().await;
    sim.shutdown().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_quote_that_stopped_updating_cannot_pass_a_price_rule(pool: PgPool) {
    let sim = tickwork_e2e::start_sim().await;
    let bench = Workbench::live(&sim, &pool, 61).await;
    let view = RiskView::follow(&bench.hub);
    let account = sim.accounts()[0].clone();
    bench.router.arm(&account, "ui").await.unwrap();
    let id = bench
        .session
        .watch(InstrumentSpec::stock("AAPL"))
        .await
        .unwrap();
    let last = Decimal::try_from(sim.stock_quote("AAPL").unwrap().last)
        .unwrap()
        .round_dp(2);
    let intent = OrderIntent {
        order_type: OrderType::Limit,
        limit_price: Some(last),
        ..market(&account, "AAPL", OrderSide::Buy, dec!(1))
    };
    let fresh = eventually("a fresh quote", || {
        let (view, pool, intent) = (view.clone(), pool.clone(), intent.clone());
        async move {
            let ctx = view.context_for(&pool, &intent, true, None).await.unwrap();
            ctx.quote_age
                .is_some_and(|age| age < Duration::from_secs(2))
                .then_some(ctx)
        }
    })
    .await;
    assert!(!fresh.quote_delayed);
    // The line stops; the last quote ages past the limit (500 ms here).
    bench.session.unwatch(id).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let mut limits = RiskLimits::default();
    limits.apply("max_quote_age_ms", "500").unwrap();
    bench.router.set_limits(&account, limits).await;
    let mut stale = view.context_for(&pool, &intent, true, None).await.unwrap();
    stale.margin = fresh.margin.clone();
    stale.daily_pnl = Some(Decimal::ZERO);
    let sent_before = orders_at_tws(&sim, "AAPL");
    let (rule, reason) = denial(bench.router.submit(intent, &stale).await.unwrap_err());
    assert_eq!(rule, RiskRule::StaleQuote);
    assert!(
        reason.contains("s old; prices older than 0.5 s"),
        "{reason}"
    );
    assert_eq!(orders_at_tws(&sim, "AAPL"), sent_before);
    let row = &audit::recent(&pool, 1).await.unwrap()[0];
    assert_eq!(row.decision.as_deref(), Some("denied"));
    assert!(row.reason.as_deref().unwrap().starts_with("stale_quote:"));
    bench.stop().await;
    sim.shutdown().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn tws_what_if_takes_part_in_the_margin_rule(pool: PgPool) {
    let (sim, bench, view, account) = armed_watching_msft(&pool, 62).await;
    let mut limits = RiskLimits::default();
    for (key, value) in [
        ("max_quantity", "10000000"),
        ("max_notional", "100000000000"),
        ("max_position", "10000000"),
    ] {
        limits.apply(key, value).unwrap();
    }
    bench.router.set_limits(&account, limits).await;
    // Far more than the account can carry: TWS's own what-if says so.
    let huge = market(&account, "MSFT", OrderSide::Buy, dec!(2000000));
    let tws = bench.session.what_if(huge.clone()).await.unwrap();
    let mut ctx = eventually("a full context", || {
        let (view, pool, huge, tws) = (view.clone(), pool.clone(), huge.clone(), tws.clone());
        async move {
            let ctx = view
                .context_for(&pool, &huge, true, Some(tws))
                .await
                .unwrap();
            ctx.last_price.is_some().then_some(ctx)
        }
    })
    .await;
    ctx.daily_pnl = Some(Decimal::ZERO);
    let tws_initial = tws.initial_margin_after.expect("TWS answered");
    // Were our own figure to say the order fits, TWS's answer alone denies it.
    ctx.margin = Some(tickwork_core::risk::MarginImpact {
        initial_after: dec!(1),
        equity_with_loan: dec!(1000000000),
        tws_initial_after: Some(tws_initial),
        tws_equity_with_loan_after: tws.equity_with_loan_after,
        custom_rules: None,
    });
    let sent_before = orders_at_tws(&sim, "MSFT");
    let (rule, reason) = denial(bench.router.submit(huge, &ctx).await.unwrap_err());
    assert_eq!(rule, RiskRule::Margin);
    assert!(
        reason.starts_with(&format!(
            "TWS's what-if: initial margin after the order {tws_initial}"
        )),
        "{reason}"
    );
    assert_eq!(orders_at_tws(&sim, "MSFT"), sent_before);
    let row = &audit::recent(&pool, 1).await.unwrap()[0];
    assert_eq!(row.details["tws_initial_after"], tws_initial.to_string());
    bench.stop().await;
    sim.shutdown().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn stored_limits_are_what_the_gate_enforces(pool: PgPool) {
    let sim = tickwork_e2e::start_sim().await;
    let account = sim.accounts()[0].clone();
    let mut limits = RiskLimits::default();
    limits.apply("max_quantity", "3").unwrap();
    risk_limits::set(&pool, &account, &limits).await.unwrap();
    let bench = Workbench::live(&sim, &pool, 63).await;
    bench.router.load_stored_limits().await.unwrap();
    bench.router.arm(&account, "ui").await.unwrap();
    let ctx = tickwork_e2e::passing_context(dec!(400));
    let (rule, _) = denial(
        bench
            .router
            .submit(market(&account, "MSFT", OrderSide::Buy, dec!(4)), &ctx)
            .await
            .unwrap_err(),
    );
    assert_eq!(rule, RiskRule::MaxQuantity);
    bench
        .router
        .submit(market(&account, "MSFT", OrderSide::Buy, dec!(3)), &ctx)
        .await
        .unwrap();
    eventually("the allowed order reaches TWS", || {
        let n = orders_at_tws(&sim, "MSFT");
        async move { (n == 1).then_some(()) }
    })
    .await;
    bench.stop().await;
    sim.shutdown().await;
}
