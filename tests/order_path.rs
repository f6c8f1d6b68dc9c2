//! The order path across disconnects, rejections and client ids, against the real simulator
//! and PostgreSQL: each test checks what TWS (the simulator) received and what PostgreSQL holds.

use std::time::Duration;

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use sqlx::PgPool;
use tickwork_core::domain::{OrderSide, OrderType};
use tickwork_core::risk::{OrderChanges, OrderIntent, Origin, SubmitError};
use tickwork_core::session::ConnectionState;
use tickwork_core::store::{audit, orders, sync_reports};
use tickwork_e2e::{
    Workbench, eventually, market, passing_context, start_sim, sync_count, wait_resynced,
};
use tickwork_sim::{Fault, OrderSnapshot, SimHandle};

/// A buy limit 3 % under the market: it rests.
fn resting_buy(sim: &SimHandle, account: &str, symbol: &str, quantity: Decimal) -> OrderIntent {
    let bid = sim.stock_quote(symbol).expect("a quote").bid;
    let price = Decimal::try_from(bid * 0.97).unwrap().round_dp(2);
    OrderIntent {
        order_type: OrderType::Limit,
        limit_price: Some(price),
        ..market(account, symbol, OrderSide::Buy, quantity)
    }
}

/// The context that passes every rule for `intent` (its own limit price as the last quote).
fn ctx_for(intent: &OrderIntent) -> tickwork_core::risk::RiskContext {
    passing_context(intent.limit_price.unwrap_or(dec!(100)))
}

/// What the simulator holds for one of our orders.
fn at_tws(sim: &SimHandle, order_ref: &str) -> Vec<OrderSnapshot> {
    sim.orders()
        .into_iter()
        .filter(|o| o.order_ref == order_ref)
        .collect()
}

async fn stored(pool: &PgPool, order_ref: &str) -> tickwork_core::domain::Order {
    orders::get(pool, order_ref).await.unwrap().unwrap()
}

async fn armed(sim: &SimHandle, pool: &PgPool, client_id: i32) -> (Workbench, String) {
    let bench = Workbench::live(sim, pool, client_id).await;
    let account = sim.accounts()[0].clone();
    bench.router.arm(&account, "ui").await.unwrap();
    (bench, account)
}

/// Places a resting order and waits until TWS has it working.
async fn working_order(sim: &SimHandle, bench: &Workbench, account: &str, qty: Decimal) -> String {
    let intent = resting_buy(sim, account, "MSFT", qty);
    let ctx = ctx_for(&intent);
    let order_ref = bench.router.submit(intent, &ctx).await.unwrap();
    eventually("TWS works the order", || {
        let found = at_tws(sim, &order_ref);
        async move { found.iter().any(|o| o.status == "Submitted").then_some(()) }
    })
    .await;
    order_ref
}

/// Restarts TWS (down for 1.5 s) and waits until the session sees the connection gone.
async fn take_tws_down(sim: &SimHandle, bench: &Workbench, pool: &PgPool) -> i64 {
    let before = sync_count(pool).await;
    sim.inject(Fault::Restart {
        down_for: Duration::from_millis(1500),
    });
    bench
        .wait_state("lost", |s| *s == ConnectionState::Lost)
        .await;
    before
}

/// Asks to change a working order's quantity, at its own limit price as the quote.
async fn change_quantity(
    bench: &Workbench,
    pool: &PgPool,
    order_ref: &str,
    quantity: Decimal,
) -> Result<(), SubmitError> {
    let row = stored(pool, order_ref).await;
    let changes = OrderChanges {
        quantity: Some(quantity),
        ..OrderChanges::default()
    };
    let ctx = passing_context(row.limit_price.unwrap());
    bench
        .router
        .modify(order_ref, Origin::Ui, changes, &ctx)
        .await
}

async fn actions(pool: &PgPool) -> Vec<(String, Option<String>, Option<String>)> {
    audit::recent(pool, 50)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.action, r.decision, r.reason))
        .collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn cancels_while_disconnected_are_carried_out_not_dropped(pool: PgPool) {
    let sim = start_sim().await;
    let (bench, account) = armed(&sim, &pool, 40).await;
    // One order TWS has, one it never receives.
    let held = working_order(&sim, &bench, &account, dec!(5)).await;
    let before = take_tws_down(&sim, &bench, &pool).await;
    let unsent_intent = resting_buy(&sim, &account, "MSFT", dec!(3));
    let unsent = bench
        .router
        .submit(unsent_intent.clone(), &ctx_for(&unsent_intent))
        .await
        .unwrap();
    bench.router.cancel(&held, "ui").await.unwrap();
    bench.router.cancel(&unsent, "ui").await.unwrap();
    wait_resynced(&bench, &pool, before).await;

    // TWS got the cancel of its order; the other was never sent at all.
    let held_at_tws = eventually("the cancel reaches TWS", || {
        let found = at_tws(&sim, &held);
        async move {
            found
                .iter()
                .any(|o| o.status == "Cancelled")
                .then_some(found)
        }
    })
    .await;
    assert!(
        sim.cancels()
            .iter()
            .any(|c| c.order_id == held_at_tws[0].order_id && c.client_id == 40)
    );
    assert!(
        at_tws(&sim, &unsent).is_empty(),
        "a cancelled order is never sent"
    );
    let unsent_row = stored(&pool, &unsent).await;
    assert_eq!(unsent_row.status, "Cancelled");
    assert_eq!(
        unsent_row.status_reason.as_deref(),
        Some("cancelled before it reached TWS")
    );
    eventually("the cancel is recorded", || {
        let pool = pool.clone();
        let held = held.clone();
        async move { (stored(&pool, &held).await.status == "Cancelled").then_some(()) }
    })
    .await;
    assert!(
        actions(&pool)
            .await
            .iter()
            .any(|(a, _, _)| a == "order.cancelled_locally")
    );
    bench.stop().await;
    sim.shutdown().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_modify_while_disconnected_is_refused_and_changes_nothing(pool: PgPool) {
    let sim = start_sim().await;
    let (bench, account) = armed(&sim, &pool, 41).await;
    let order_ref = working_order(&sim, &bench, &account, dec!(5)).await;
    let before = take_tws_down(&sim, &bench, &pool).await;
    let err = change_quantity(&bench, &pool, &order_ref, dec!(7))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SubmitError::Refused(why) if why.contains("not connected to TWS")),
        "{err}"
    );
    let after = stored(&pool, &order_ref).await;
    assert_eq!((after.quantity, after.requested.clone()), (dec!(5), None));
    wait_resynced(&bench, &pool, before).await;
    assert_eq!(at_tws(&sim, &order_ref)[0].quantity, dec!(5));
    assert!(
        actions(&pool)
            .await
            .iter()
            .any(|(a, _, r)| a == "order.modify_refused"
                && r.as_deref().is_some_and(|r| r.contains("not connected")))
    );
    bench.stop().await;
    sim.shutdown().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_modify_tws_never_acknowledged_leaves_the_order_as_tws_has_it(pool: PgPool) {
    let sim = start_sim().await;
    let (bench, account) = armed(&sim, &pool, 42).await;
    let order_ref = working_order(&sim, &bench, &account, dec!(5)).await;
    // TWS receives nothing it acknowledges for a while; the modification is sent into that.
    sim.inject(Fault::HoldAcks(Duration::from_secs(20)));
    change_quantity(&bench, &pool, &order_ref, dec!(8))
        .await
        .unwrap();
    let pending = stored(&pool, &order_ref).await;
    assert_eq!(
        pending.quantity,
        dec!(5),
        "not changed before TWS acknowledges"
    );
    assert_eq!(
        pending.requested.as_ref().map(|r| r.quantity),
        Some(dec!(8))
    );

    let before = sync_count(&pool).await;
    sim.inject(Fault::DropConnections);
    wait_resynced(&bench, &pool, before).await;
    sim.inject(Fault::ReleaseAcks);
    let after = stored(&pool, &order_ref).await;
    assert_eq!((after.quantity, after.requested), (dec!(5), None));
    assert_eq!(at_tws(&sim, &order_ref)[0].quantity, dec!(5));
    let report = &sync_reports::recent(&pool, 1).await.unwrap()[0].report;
    assert_eq!(report["modifications_lost"], serde_json::json!([order_ref]));

    // A modification TWS does acknowledge becomes the stored order.
    change_quantity(&bench, &pool, &order_ref, dec!(9))
        .await
        .unwrap();
    eventually("the acknowledged modification", || {
        let pool = pool.clone();
        let order_ref = order_ref.clone();
        async move {
            let o = stored(&pool, &order_ref).await;
            (o.quantity == dec!(9) && o.requested.is_none()).then_some(())
        }
    })
    .await;
    assert_eq!(at_tws(&sim, &order_ref)[0].quantity, dec!(9));
    bench.stop().await;
    sim.shutdown().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_resend_passes_the_gate_again(pool: PgPool) {
    let sim = start_sim().await;
    let (bench, account) = armed(&sim, &pool, 43).await;
    let before = take_tws_down(&sim, &bench, &pool).await;
    let order_ref = bench
        .router
        .submit(
            market(&account, "MSFT", OrderSide::Buy, dec!(2)),
            &passing_context(dec!(400)),
        )
        .await
        .unwrap();
    // Allowed when it was entered; disarmed before TWS is back: the resend is refused.
    bench.router.disarm(&account, "ui").await.unwrap();
    wait_resynced(&bench, &pool, before).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(at_tws(&sim, &order_ref).is_empty(), "nothing sent");
    let row = stored(&pool, &order_ref).await;
    assert_eq!(row.status, "Inactive");
    assert!(
        row.status_reason
            .as_deref()
            .is_some_and(|r| r.starts_with("not resent: not_armed")),
        "{row:?}"
    );
    let resend = actions(&pool)
        .await
        .into_iter()
        .find(|(a, _, _)| a == "order.resend")
        .expect("the resend decision is audited");
    assert_eq!(resend.1.as_deref(), Some("denied"));
    bench.stop().await;
    sim.shutdown().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_kill_switch_offline_cancels_at_the_first_chance_and_nothing_is_resent(pool: PgPool) {
    let sim = start_sim().await;
    let (bench, account) = armed(&sim, &pool, 44).await;
    let working = working_order(&sim, &bench, &account, dec!(5)).await;
    let before = take_tws_down(&sim, &bench, &pool).await;
    let unsent = bench
        .router
        .submit(
            market(&account, "MSFT", OrderSide::Buy, dec!(2)),
            &passing_context(dec!(400)),
        )
        .await
        .unwrap();
    bench.router.kill_switch("ui", false).unwrap();
    assert!(!bench.router.is_armed(&account).await, "disarmed at once");
    wait_resynced(&bench, &pool, before).await;
    eventually("the working order is cancelled at TWS", || {
        let found = at_tws(&sim, &working);
        async move { found.iter().any(|o| o.status == "Cancelled").then_some(()) }
    })
    .await;
    assert!(
        at_tws(&sim, &unsent).is_empty(),
        "nothing is resent after the kill switch"
    );
    let row = stored(&pool, &unsent).await;
    assert_eq!(row.status, "Cancelled");
    assert!(row.status_reason.unwrap().starts_with("kill switch"));
    assert_eq!(sim.global_cancels(), 0, "global cancel only when asked");
    bench.stop().await;
    sim.shutdown().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_kill_switch_works_without_the_database_and_offers_global_cancel(pool: PgPool) {
    let sim = start_sim().await;
    let (bench, account) = armed(&sim, &pool, 45).await;
    let working = working_order(&sim, &bench, &account, dec!(5)).await;
    // An order entered by hand in TWS (another client).
    let manual = tickwork_e2e::bounded(
        "manual client",
        ibapi::Client::connect(&sim.local_addr().to_string(), 0),
    )
    .await
    .unwrap();
    let contract = ibapi::contracts::Contract::stock("MSFT").build();
    let price = (sim.stock_quote("MSFT").unwrap().bid * 0.9 * 100.0).round() / 100.0;
    let manual_id = manual.next_order_id();
    manual
        .submit_order(
            manual_id,
            &contract,
            &ibapi::orders::order_builder::limit_order(ibapi::orders::Action::Buy, 1.0, price),
        )
        .await
        .unwrap();
    eventually("the manual order works", || {
        let orders = sim.orders();
        async move {
            orders
                .iter()
                .any(|o| o.client_id == 0 && o.status == "Submitted")
                .then_some(())
        }
    })
    .await;

    // The router's database is gone: the kill switch must not need it.
    let router_pool = bench.router_pool();
    router_pool.close().await;
    bench.router.kill_switch("ui", true).unwrap();
    assert!(!bench.router.is_armed(&account).await);
    eventually("every order at TWS is cancelled", || {
        let orders = sim.orders();
        let working = working.clone();
        async move {
            let ours = orders
                .iter()
                .any(|o| o.order_ref == working && o.status == "Cancelled");
            let theirs = orders
                .iter()
                .any(|o| o.client_id == 0 && o.status == "Cancelled");
            (ours && theirs).then_some(())
        }
    })
    .await;
    assert_eq!(sim.global_cancels(), 1);
    manual.disconnect().await;
    bench.stop().await;
    sim.shutdown().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_rejected_order_ends_with_the_reason_and_is_never_resent(pool: PgPool) {
    let sim = start_sim().await;
    let (bench, account) = armed(&sim, &pool, 46).await;
    sim.inject(Fault::RejectOrders {
        count: 1,
        code: 201,
        reason: "Order rejected - reason: insufficient margin".into(),
    });
    let order_ref = bench
        .router
        .submit(
            market(&account, "MSFT", OrderSide::Buy, dec!(2)),
            &passing_context(dec!(400)),
        )
        .await
        .unwrap();
    let row = eventually("the rejection is recorded", || {
        let pool = pool.clone();
        let order_ref = order_ref.clone();
        async move {
            let o = stored(&pool, &order_ref).await;
            o.status_reason.is_some().then_some(o)
        }
    })
    .await;
    assert_eq!(row.status, "Inactive");
    let reason = row.status_reason.unwrap();
    assert!(
        reason.starts_with("TWS 201:") && reason.contains("insufficient margin"),
        "{reason}"
    );
    assert!(
        actions(&pool)
            .await
            .iter()
            .any(|(a, _, r)| a == "order.rejected" && r.as_deref() == Some(reason.as_str()))
    );
    let before = sync_count(&pool).await;
    sim.inject(Fault::DropConnections);
    wait_resynced(&bench, &pool, before).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(at_tws(&sim, &order_ref).len(), 1, "never sent again");
    assert_eq!(stored(&pool, &order_ref).await.status, "Inactive");
    bench.stop().await;
    sim.shutdown().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_bracket_is_resent_whole_with_its_children_attached(pool: PgPool) {
    let sim = start_sim().await;
    let (bench, account) = armed(&sim, &pool, 47).await;
    let before = take_tws_down(&sim, &bench, &pool).await;
    let last = Decimal::try_from(sim.stock_quote("MSFT").unwrap().last)
        .unwrap()
        .round_dp(2);
    let parent = market(&account, "MSFT", OrderSide::Buy, dec!(3));
    let take_profit = OrderIntent {
        side: OrderSide::Sell,
        order_type: OrderType::Limit,
        limit_price: Some((last * dec!(1.03)).round_dp(2)),
        ..parent.clone()
    };
    let stop_loss = OrderIntent {
        side: OrderSide::Sell,
        order_type: OrderType::Stop,
        stop_price: Some((last * dec!(0.97)).round_dp(2)),
        ..parent.clone()
    };
    let refs = bench
        .router
        .submit_bracket(parent, take_profit, stop_loss, &passing_context(last))
        .await
        .unwrap();
    wait_resynced(&bench, &pool, before).await;
    let legs = eventually("the whole bracket at TWS, the parent filled", || {
        let legs: Vec<Vec<OrderSnapshot>> = refs.iter().map(|r| at_tws(&sim, r)).collect();
        async move {
            (legs.iter().all(|l| l.len() == 1) && legs[0][0].status == "Filled").then_some(legs)
        }
    })
    .await;
    let parent_id = legs[0][0].order_id;
    for child in &legs[1..] {
        assert_eq!(
            child[0].parent_id, parent_id,
            "each child is attached to the parent"
        );
        assert_eq!(
            child[0].status, "Submitted",
            "the parent is protected: {child:?}"
        );
    }
    let report = &sync_reports::recent(&pool, 1).await.unwrap()[0].report;
    assert_eq!(report["orders_never_received"], serde_json::json!(refs));
    bench.stop().await;
    sim.shutdown().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn orders_of_another_client_id_are_followed_read_only(pool: PgPool) {
    let sim = start_sim().await;
    let bench = Workbench::start_with(&sim, &pool, 48, |c| c.profile.auto_client_id = true);
    bench.wait_live().await;
    let account = sim.accounts()[0].clone();
    bench.router.arm(&account, "ui").await.unwrap();
    let old = working_order(&sim, &bench, &account, dec!(5)).await;

    // Someone takes client id 48 while we reconnect: a 326 moves the session to 49.
    let before = sync_count(&pool).await;
    sim.inject(Fault::DropConnections);
    let squatter = tickwork_e2e::bounded(
        "squatter",
        ibapi::Client::connect(&sim.local_addr().to_string(), 48),
    )
    .await
    .unwrap();
    wait_resynced(&bench, &pool, before).await;
    let new = working_order(&sim, &bench, &account, dec!(6)).await;
    assert_eq!(at_tws(&sim, &new)[0].client_id, 49);

    // The old order is ours but belongs to client 48: never cancelled by id from client 49.
    bench.router.cancel(&old, "ui").await.unwrap();
    bench.router.cancel(&new, "ui").await.unwrap();
    eventually("the new order is cancelled", || {
        let found = at_tws(&sim, &new);
        async move { found.iter().any(|o| o.status == "Cancelled").then_some(()) }
    })
    .await;
    assert_eq!(at_tws(&sim, &old)[0].status, "Submitted", "left alone");
    assert!(sim.cancels().iter().all(|c| c.client_id == 49));
    let refused = eventually("the refusal is audited", || {
        let pool = pool.clone();
        async move {
            actions(&pool)
                .await
                .into_iter()
                .find(|(a, _, _)| a == "order.cancel_refused")
        }
    })
    .await;
    assert!(refused.2.unwrap().contains("client id 48"));
    squatter.disconnect().await;
    bench.stop().await;
    sim.shutdown().await;
}
