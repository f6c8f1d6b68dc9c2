//! The order path through the real Rust `ibapi` client: stop trigger methods, held bracket
//! members over protobuf, and the order-path faults (injected rejections, held
//! acknowledgements) with the simulator's view of orders and cancels.

mod common;

use std::time::Duration;

use common::{acknowledged_limit, addr, bounded, config, start, start_with, step, until};
use ibapi::orders::conditions::TriggerMethod;
use ibapi::orders::order_builder::{limit_order, market_order, stop};
use ibapi::orders::{Action, CancelOrder, OrderStatusKind, Orders, PlaceOrder};
use ibapi::prelude::*;
use tickwork_sim::{CancelRecord, Fault, OrderSnapshot, SimConfig, SimHandle};

async fn connect(sim: &SimHandle, id: i32) -> Client {
    step("connect", Client::connect(&addr(sim), id))
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"))
}

/// The simulator's view of one order, waiting (bounded) until it has it.
async fn sim_order(sim: &SimHandle, client_id: i32, order_id: i32) -> OrderSnapshot {
    step("order reaches the simulator", async {
        loop {
            let found = sim
                .orders()
                .into_iter()
                .find(|o| o.client_id == client_id && o.order_id == order_id);
            if let Some(o) = found {
                return o;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
}

/// Waits (bounded) until the simulator reports `status` for an order.
async fn sim_status(sim: &SimHandle, client_id: i32, order_id: i32, status: &str) -> OrderSnapshot {
    step(&format!("order {order_id} {status}"), async {
        loop {
            let o = sim_order(sim, client_id, order_id).await;
            if o.status == status {
                return o;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
}

/// Waits for an order's status on a place-order stream, panicking on errors.
async fn wait_status(
    sub: &mut ibapi::subscriptions::Subscription<PlaceOrder>,
    status: OrderStatusKind,
) {
    loop {
        match step("order event", sub.next()).await {
            Some(Ok(SubscriptionItem::Data(PlaceOrder::OrderStatus(s)))) if s.status == status => {
                return;
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => panic!("order stream: {e}"),
            None => panic!("order stream ended before {status:?}"),
        }
    }
}

/// Working orders (id, limit price) from reqOpenOrders.
async fn open_orders(client: &Client) -> Vec<(i32, Option<f64>)> {
    let mut open = step("open orders", client.open_orders())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut out = Vec::new();
    while let Some(item) = step("open order", open.next()).await {
        match item {
            Ok(SubscriptionItem::Data(Orders::OrderData(o))) => {
                out.push((o.order_id, o.order.limit_price))
            }
            Ok(_) => {}
            Err(e) => panic!("open orders: {e}"),
        }
    }
    out.sort_by_key(|o| o.0);
    out.dedup();
    out
}

async fn next_id(client: &Client) -> i32 {
    step("next id", client.next_valid_order_id())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// A market that does not move during the test (one price step per ~1,000 s).
fn frozen() -> SimConfig {
    SimConfig {
        tick_rate: 0.001,
        ..config(226)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_orders_trigger_on_the_last_price_by_default() {
    bounded(async {
        let sim = start_with(frozen()).await;
        let client = connect(&sim, 21).await;
        // A stock whose last print lies strictly between bid and ask, so that the ask has
        // reached a buy stop the last has not.
        let (symbol, q) = ["AAPL", "MSFT", "AMZN", "NVDA", "TSLA", "JPM", "XOM", "SPY"]
            .into_iter()
            .find_map(|s| {
                let q = sim.stock_quote(s)?;
                (q.bid < q.last && q.last < q.ask).then_some((s, q))
            })
            .unwrap_or_else(|| panic!("no stock with bid < last < ask"));
        let contract = Contract::stock(symbol).build();
        let id = next_id(&client).await;

        // Default (last): a buy stop at the ask does not trigger while the last is below it.
        let mut held = step(
            "default stop",
            client.place_order(id, &contract, &stop(Action::Buy, 1.0, q.ask)),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        wait_status(&mut held, OrderStatusKind::Submitted).await;
        // The engine has matched the order against this quote at placement; give the clock a
        // moment as well.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let o = sim_order(&sim, 21, id).await;
        assert_eq!(
            (o.status.as_str(), o.trigger_method),
            ("Submitted", 0),
            "{o:?}"
        );
        drop(held);

        // Bid/ask (4): the same stop triggers on the ask at once and fills.
        let mut on_ask = stop(Action::Buy, 1.0, q.ask);
        on_ask.trigger_method = TriggerMethod::BidAsk;
        let mut sub = step(
            "bid/ask stop",
            client.place_order(id + 1, &contract, &on_ask),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        wait_status(&mut sub, OrderStatusKind::Filled).await;
        drop(sub);
        assert_eq!(sim_order(&sim, 21, id + 1).await.trigger_method, 4);

        // Default: a buy stop at the last price triggers (last >= stop).
        let mut sub = step(
            "stop at last",
            client.place_order(id + 2, &contract, &stop(Action::Buy, 1.0, q.last)),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        wait_status(&mut sub, OrderStatusKind::Filled).await;
        drop(sub);

        // Default: a sell stop at the bid waits, the last being above it; last (2) the same.
        for (n, method) in [(3, TriggerMethod::Default), (4, TriggerMethod::Last)] {
            let mut sell = stop(Action::Sell, 1.0, q.bid);
            sell.trigger_method = method;
            let mut sub = step("sell stop", client.place_order(id + n, &contract, &sell))
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            wait_status(&mut sub, OrderStatusKind::Submitted).await;
            drop(sub);
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        for n in [0, 3, 4] {
            assert_eq!(
                sim_order(&sim, 21, id + n).await.status,
                "Submitted",
                "order {}",
                id + n
            );
        }
        drop(client);
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bracket_members_without_transmit_are_held_over_protobuf() {
    bounded(async {
        let sim = start(226).await;
        let client = connect(&sim, 22).await;
        let xom = Contract::stock("XOM").build();
        let parent_id = next_id(&client).await;
        // ibapi leaves `transmit` out of the protobuf order when it is false.
        let mut parent = market_order(Action::Buy, 10.0);
        parent.transmit = false;
        let mut p = step("parent", client.place_order(parent_id, &xom, &parent))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let o = sim_order(&sim, 22, parent_id).await;
        assert_eq!(
            (o.status.as_str(), o.transmit),
            ("PreSubmitted", false),
            "{o:?}"
        );
        let mut take_profit = limit_order(Action::Sell, 10.0, 100_000.0);
        take_profit.parent_id = parent_id;
        take_profit.transmit = false;
        let _tp = step(
            "take profit",
            client.place_order(parent_id + 1, &xom, &take_profit),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        sim_order(&sim, 22, parent_id + 1).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let o = sim_order(&sim, 22, parent_id).await;
        assert_eq!(
            (o.status.as_str(), o.filled),
            ("PreSubmitted", 0.into()),
            "parent must wait for the last child"
        );
        let mut stop_loss = stop(Action::Sell, 10.0, 1.0);
        stop_loss.parent_id = parent_id;
        let _sl = step(
            "stop loss",
            client.place_order(parent_id + 2, &xom, &stop_loss),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        wait_status(&mut p, OrderStatusKind::Filled).await;
        for child in [parent_id + 1, parent_id + 2] {
            let o = sim_status(&sim, 22, child, "Submitted").await;
            assert!(o.transmit, "{o:?}");
        }
        drop(client);
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_rejections_hit_new_orders_only() {
    bounded(async {
        let sim = start(226).await;
        let client = connect(&sim, 23).await;
        let msft = Contract::stock("MSFT").build();
        let id = next_id(&client).await;
        let mut rest = step(
            "resting",
            client.place_order(id, &msft, &limit_order(Action::Buy, 5.0, 1.0)),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        wait_status(&mut rest, OrderStatusKind::Submitted).await;
        drop(rest);

        sim.inject(Fault::RejectOrders {
            count: 1,
            code: 201,
            reason: "insufficient margin".into(),
        });
        // A modification passes and does not use the rejection up.
        let mut modify = step(
            "modify",
            client.place_order(id, &msft, &limit_order(Action::Buy, 5.0, 2.0)),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        wait_status(&mut modify, OrderStatusKind::Submitted).await;
        drop(modify);
        assert_eq!(sim_order(&sim, 23, id).await.lmt_price, Some(2.0));

        // The next new order is rejected: 201 bound to its id, then Inactive.
        let mut rejected = step(
            "rejected",
            client.place_order(id + 1, &msft, &limit_order(Action::Buy, 5.0, 1.0)),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        match step("201", rejected.next()).await {
            Some(Err(e)) => {
                let text = e.to_string();
                assert!(
                    text.contains("201")
                        && text.contains("Order rejected - reason:insufficient margin"),
                    "{text}"
                );
            }
            other => panic!("expected 201, got {other:?}"),
        }
        drop(rejected);
        let o = sim_order(&sim, 23, id + 1).await;
        assert_eq!(
            (o.status.as_str(), o.filled),
            ("Inactive", 0.into()),
            "{o:?}"
        );

        // Only one was asked for: the following order works, and the used id stays used.
        let mut ok = step(
            "after",
            client.place_order(id + 2, &msft, &limit_order(Action::Buy, 5.0, 1.0)),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        wait_status(&mut ok, OrderStatusKind::Submitted).await;
        drop(ok);
        let mut dup = step(
            "reuse",
            client.place_order(id + 1, &msft, &limit_order(Action::Buy, 5.0, 1.0)),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        match step("103", dup.next()).await {
            Some(Err(e)) => assert!(e.to_string().contains("103"), "{e}"),
            other => panic!("expected 103, got {other:?}"),
        }
        drop(client);
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_modify_is_lost_with_the_connection_and_cancels_are_recorded() {
    bounded(async {
        let sim = start(226).await;
        let msft = Contract::stock("MSFT").build();
        let client = connect(&sim, 24).await;
        let id = next_id(&client).await;
        let mut rest = step(
            "resting",
            client.place_order(id, &msft, &limit_order(Action::Buy, 5.0, 1.0)),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        wait_status(&mut rest, OrderStatusKind::Submitted).await;
        drop(rest);

        // A modify sent while acknowledgements are held, then the connection drops.
        sim.inject(Fault::HoldAcks(Duration::from_secs(30)));
        step(
            "send modify",
            client.submit_order(id, &msft, &limit_order(Action::Buy, 5.0, 2.0)),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        until("modify held", || sim.held_order_requests() != 0).await;
        assert_eq!(sim_order(&sim, 24, id).await.lmt_price, Some(1.0));
        client.disconnect().await;
        drop(client);
        until("held modify dropped with its connection", || {
            sim.held_order_requests() == 0
        })
        .await;
        sim.inject(Fault::ReleaseAcks);

        // Reconnected, the client sees the order as TWS has it: unmodified.
        let client = connect(&sim, 24).await;
        assert_eq!(open_orders(&client).await, [(id, Some(1.0))]);
        assert_eq!(sim_order(&sim, 24, id).await.lmt_price, Some(1.0));

        // Released: a held modify is applied and acknowledged late.
        sim.inject(Fault::HoldAcks(Duration::from_secs(30)));
        let mut modify = step(
            "modify",
            client.place_order(id, &msft, &limit_order(Action::Buy, 5.0, 3.0)),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        until("modify held", || sim.held_order_requests() != 0).await;
        assert!(
            tokio::time::timeout(Duration::from_millis(300), modify.next())
                .await
                .is_err(),
            "no acknowledgement while held"
        );
        sim.inject(Fault::ReleaseAcks);
        assert_eq!(acknowledged_limit("late ack", &mut modify).await, Some(3.0));
        drop(modify);

        // A hold that runs out: the cancel sent during it is applied then, and recorded.
        sim.inject(Fault::HoldAcks(Duration::from_millis(300)));
        let mut cancel = step("cancel", client.cancel_order(id, ""))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(sim.cancels().is_empty(), "not applied while held");
        let mut cancelled = false;
        while let Some(item) = step("cancel event", cancel.next()).await {
            match item {
                Ok(SubscriptionItem::Data(CancelOrder::OrderStatus(s))) => {
                    cancelled |= s.status == OrderStatusKind::Cancelled
                }
                Ok(SubscriptionItem::Notice(n)) if n.code == 202 => break,
                Ok(_) => {}
                Err(e) => panic!("cancel: {e}"),
            }
        }
        assert!(cancelled);
        drop(cancel);
        assert_eq!(
            sim.cancels(),
            [CancelRecord {
                client_id: 24,
                order_id: id
            }]
        );
        assert_eq!(sim_order(&sim, 24, id).await.status, "Cancelled");

        assert_eq!(sim.global_cancels(), 0);
        step("global cancel", client.global_cancel())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        until("global cancel recorded", || sim.global_cancels() != 0).await;
        drop(client);
        sim.shutdown().await;
    })
    .await;
}
