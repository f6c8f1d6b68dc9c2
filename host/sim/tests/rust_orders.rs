//! The real Rust `ibapi` client: accounts, positions, orders (market fill, resting limit,
//! modify, cancel, duplicate id, bracket), executions, open/completed orders and what-if,
//! at 226 and 213.

mod common;

use common::{acknowledged_limit, addr, bounded, start, step};
use ibapi::accounts::types::{AccountGroup, AccountId};
use ibapi::accounts::{AccountSummaryResult, AccountSummaryTags, AccountUpdate, PositionUpdate};
use ibapi::orders::order_builder::{limit_order, market_order};
use ibapi::orders::{
    Action, CancelOrder, ExecutionFilter, Executions, OrderStatusKind, Orders, PlaceOrder,
};
use ibapi::prelude::*;

async fn connect(sim: &tickwork_sim::SimHandle, id: i32) -> Client {
    step("connect", Client::connect(&addr(sim), id))
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"))
}

/// Positions as (symbol, quantity) after PositionEnd.
async fn positions(client: &Client) -> Vec<(String, f64)> {
    let mut sub = step("positions", client.positions())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut out = Vec::new();
    while let Some(item) = step("position", sub.next()).await {
        match item {
            Ok(SubscriptionItem::Data(PositionUpdate::Position(p))) => {
                out.push((p.contract.symbol.to_string(), p.position))
            }
            Ok(SubscriptionItem::Data(PositionUpdate::PositionEnd)) => break,
            Ok(_) => {}
            Err(e) => panic!("positions: {e}"),
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_summary_updates_and_positions() {
    bounded(async {
        for version in [226, 213] {
            let sim = start(version).await;
            let account = sim.accounts()[0].clone();
            let client = connect(&sim, 1).await;
            let pos = positions(&client).await;
            assert!(
                pos.contains(&("AAPL".to_string(), 100.0))
                    && pos.contains(&("SPY".to_string(), 50.0)),
                "{pos:?}"
            );

            let tags = &[
                AccountSummaryTags::NET_LIQUIDATION,
                AccountSummaryTags::TOTAL_CASH_VALUE,
                AccountSummaryTags::BUYING_POWER,
            ];
            let mut sum = step(
                "summary",
                client.account_summary(&AccountGroup("All".into()), tags),
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
            let mut seen = Vec::new();
            while let Some(item) = step("summary item", sum.next()).await {
                match item {
                    Ok(SubscriptionItem::Data(AccountSummaryResult::Summary(s))) => {
                        assert_eq!(s.account, account);
                        assert!(s.value.parse::<f64>().is_ok(), "{s:?}");
                        seen.push(s.tag);
                    }
                    Ok(SubscriptionItem::Data(AccountSummaryResult::End)) => break,
                    Ok(_) => {}
                    Err(e) => panic!("summary: {e}"),
                }
            }
            assert_eq!(seen.len(), 3, "{seen:?}");
            drop(sum);

            let mut upd = step(
                "updates",
                client.account_updates(&AccountId(account.clone())),
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
            let (mut values, mut portfolio, mut time) = (0, 0, false);
            while let Some(item) = step("update item", upd.next()).await {
                match item {
                    Ok(SubscriptionItem::Data(AccountUpdate::AccountValue(_))) => values += 1,
                    Ok(SubscriptionItem::Data(AccountUpdate::PortfolioValue(p))) => {
                        assert!(p.position != 0.0);
                        portfolio += 1;
                    }
                    Ok(SubscriptionItem::Data(AccountUpdate::UpdateTime(_))) => time = true,
                    Ok(SubscriptionItem::Data(AccountUpdate::End)) => break,
                    Ok(_) => {}
                    Err(e) => panic!("updates: {e}"),
                }
            }
            assert!(
                values > 20 && portfolio == 2 && time,
                "values {values} portfolio {portfolio} time {time}"
            );
            drop(upd);
            drop(client);
            sim.shutdown().await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_fill_rest_modify_cancel_and_query() {
    bounded(async {
        for version in [226, 213] {
            let sim = start(version).await;
            let client = connect(&sim, 9).await;
            let msft = Contract::stock("MSFT").build();

            // Market order: Submitted, execution, Filled, commission report.
            let id = step("next id", client.next_valid_order_id())
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let mut sub = step(
                "place MKT",
                client.place_order(id, &msft, &market_order(Action::Buy, 100.0)),
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
            let (mut filled, mut exec, mut commission) = (false, false, false);
            while !(filled && exec && commission) {
                match step("MKT event", sub.next()).await {
                    Some(Ok(SubscriptionItem::Data(PlaceOrder::OrderStatus(s)))) => {
                        filled |= s.status == OrderStatusKind::Filled && s.remaining == 0.0
                    }
                    Some(Ok(SubscriptionItem::Data(PlaceOrder::ExecutionData(e)))) => {
                        assert_eq!(e.execution.shares, 100.0);
                        exec = true;
                    }
                    Some(Ok(SubscriptionItem::Data(PlaceOrder::CommissionReport(c)))) => {
                        assert!(c.commission >= 1.0, "{c:?}");
                        commission = true;
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => panic!("MKT: {e}"),
                    None => panic!("order stream ended"),
                }
            }
            drop(sub);
            assert!(
                positions(&client)
                    .await
                    .contains(&("MSFT".to_string(), 100.0))
            );

            // Reusing the id is a duplicate (103).
            let mut dup = step(
                "dup",
                client.place_order(id, &msft, &market_order(Action::Buy, 1.0)),
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
            match step("dup answer", dup.next()).await {
                Some(Err(e)) => assert!(e.to_string().contains("103"), "{e}"),
                other => panic!("expected 103, got {other:?}"),
            }
            drop(dup);

            // Resting limit order, modified, then cancelled.
            let lmt_id = id + 1;
            let mut rest = step(
                "place LMT",
                client.place_order(lmt_id, &msft, &limit_order(Action::Buy, 10.0, 1.0)),
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
            loop {
                match step("LMT status", rest.next()).await {
                    Some(Ok(SubscriptionItem::Data(PlaceOrder::OrderStatus(s))))
                        if s.status == OrderStatusKind::Submitted =>
                    {
                        break;
                    }
                    Some(Ok(_)) => {}
                    other => panic!("LMT: {other:?}"),
                }
            }
            drop(rest);
            let mut modified = step(
                "modify",
                client.place_order(lmt_id, &msft, &limit_order(Action::Buy, 10.0, 2.0)),
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                acknowledged_limit("modify ack", &mut modified).await,
                Some(2.0)
            );
            drop(modified);
            let mut open = step("open orders", client.open_orders())
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let mut working = 0;
            while let Some(item) = step("open order", open.next()).await {
                match item {
                    Ok(SubscriptionItem::Data(Orders::OrderData(o))) => {
                        assert_eq!(o.order_id, lmt_id);
                        working += 1;
                    }
                    Ok(_) => {}
                    Err(e) => panic!("open orders: {e}"),
                }
            }
            assert_eq!(working, 1);
            let mut cancel = step("cancel", client.cancel_order(lmt_id, ""))
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let mut cancelled = false;
            while let Some(item) = step("cancel event", cancel.next()).await {
                match item {
                    Ok(SubscriptionItem::Data(CancelOrder::OrderStatus(s)))
                        if s.status == OrderStatusKind::Cancelled =>
                    {
                        cancelled = true;
                    }
                    Ok(SubscriptionItem::Notice(n)) if n.code == 202 => break,
                    Ok(_) => {}
                    Err(e) => panic!("cancel: {e}"),
                }
            }
            assert!(cancelled);
            drop(cancel);

            // Executions with commission reports; completed orders.
            let mut execs = step("executions", client.executions(ExecutionFilter::default()))
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let (mut n_exec, mut n_comm) = (0, 0);
            while let Some(item) = step("execution", execs.next()).await {
                match item {
                    Ok(SubscriptionItem::Data(Executions::ExecutionData(_))) => n_exec += 1,
                    Ok(SubscriptionItem::Data(Executions::CommissionReport(_))) => n_comm += 1,
                    Ok(_) => {}
                    Err(e) => panic!("executions: {e}"),
                }
            }
            assert!(
                n_exec >= 1 && n_exec == n_comm,
                "{n_exec} executions, {n_comm} reports"
            );
            let mut done = step("completed", client.completed_orders(false))
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let mut statuses = Vec::new();
            while let Some(item) = step("completed order", done.next()).await {
                match item {
                    Ok(SubscriptionItem::Data(Orders::OrderData(o))) => {
                        statuses.push(o.order_state.status)
                    }
                    Ok(_) => {}
                    Err(e) => panic!("completed: {e}"),
                }
            }
            assert!(
                statuses.contains(&OrderStatusKind::Filled)
                    && statuses.contains(&OrderStatusKind::Cancelled),
                "{statuses:?}"
            );
            drop(client);
            sim.shutdown().await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_if_order_returns_margins() {
    bounded(async {
        for version in [226, 213] {
            let sim = start(version).await;
            let client = connect(&sim, 11).await;
            let aapl = Contract::stock("AAPL").build();
            let state = step("analyze", client.order(&aapl).buy(100).market().analyze())
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let init_after = state
                .initial_margin_after
                .unwrap_or_else(|| panic!("no initial margin after: {state:?}"));
            let init_before = state.initial_margin_before.unwrap_or_default();
            let change = state.initial_margin_change.unwrap_or_default();
            assert!(
                init_after > init_before && (init_before + change - init_after).abs() < 0.02,
                "{state:?}"
            );
            assert!(
                state.equity_with_loan_after.is_some() && state.maintenance_margin_after.is_some()
            );
            assert!(state.commission.is_some_and(|c| c > 0.0));
            // An order the account cannot carry is rejected with 201 (margin from tickwork-margin).
            let big_id = step("next id", client.next_valid_order_id())
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let mut big = step(
                "big order",
                client.place_order(big_id, &aapl, &market_order(Action::Buy, 1_000_000.0)),
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
            match step("201", big.next()).await {
                Some(Err(e)) => assert!(e.to_string().contains("201"), "{e}"),
                other => panic!("expected 201, got {other:?}"),
            }
            drop(big);
            // A what-if never becomes a working order.
            let mut open = step("open orders", client.open_orders())
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            while let Some(item) = step("open order", open.next()).await {
                if let Ok(SubscriptionItem::Data(Orders::OrderData(o))) = item {
                    panic!("what-if left a working order: {o:?}");
                }
            }
            drop(client);
            sim.shutdown().await;
        }
    })
    .await;
}

/// Waits for an order's status on a place-order stream, panicking on errors.
async fn wait_status(
    sub: &mut ibapi::subscriptions::Subscription<PlaceOrder>,
    status: OrderStatusKind,
) -> usize {
    let mut executions = 0;
    loop {
        match step("order event", sub.next()).await {
            Some(Ok(SubscriptionItem::Data(PlaceOrder::OrderStatus(s)))) if s.status == status => {
                return executions;
            }
            Some(Ok(SubscriptionItem::Data(PlaceOrder::ExecutionData(_)))) => executions += 1,
            Some(Ok(_)) => {}
            Some(Err(e)) => panic!("order stream: {e}"),
            None => panic!("order stream ended before {status:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_fills_and_bracket_with_oca_children() {
    bounded(async {
        let sim = start(226).await;
        let client = connect(&sim, 12).await;
        let xom = Contract::stock("XOM").build();

        // Larger than any displayed ask size (at most 2,000 shares): fills in several executions.
        let id = step("next id", client.next_valid_order_id())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mut big = step(
            "big",
            client.place_order(id, &xom, &market_order(Action::Buy, 5000.0)),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        let executions = wait_status(&mut big, OrderStatusKind::Filled).await;
        assert!(
            executions >= 2,
            "5,000 shares filled in {executions} execution(s)"
        );
        drop(big);

        // Bracket: parent held until the last child is transmitted, children wait for the fill.
        let parent_id = id + 1;
        let mut parent = market_order(Action::Buy, 10.0);
        parent.transmit = false;
        let mut take_profit = limit_order(Action::Sell, 10.0, 100_000.0);
        take_profit.parent_id = parent_id;
        take_profit.transmit = false;
        let mut stop_loss = ibapi::orders::order_builder::stop(Action::Sell, 10.0, 1.0);
        stop_loss.parent_id = parent_id;
        stop_loss.transmit = true;
        let mut p = step("parent", client.place_order(parent_id, &xom, &parent))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let _tp = step(
            "take profit",
            client.place_order(parent_id + 1, &xom, &take_profit),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        let _sl = step(
            "stop loss",
            client.place_order(parent_id + 2, &xom, &stop_loss),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        wait_status(&mut p, OrderStatusKind::Filled).await;
        let mut open = step("open orders", client.open_orders())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mut children = Vec::new();
        while let Some(item) = step("open order", open.next()).await {
            if let Ok(SubscriptionItem::Data(Orders::OrderData(o))) = item {
                assert_eq!(o.order.parent_id, parent_id);
                children.push(o.order_id);
            }
        }
        // Unsolicited OpenOrder frames of the promotion may interleave with the answer.
        children.sort_unstable();
        children.dedup();
        assert_eq!(children, [parent_id + 1, parent_id + 2]);
        drop(open);

        // Make the take-profit marketable: it fills and the stop-loss is cancelled (OCA).
        take_profit.limit_price = Some(1.0);
        let mut tp = step(
            "modify tp",
            client.place_order(parent_id + 1, &xom, &take_profit),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        wait_status(&mut tp, OrderStatusKind::Filled).await;
        drop(tp);
        let mut open = step("open orders", client.open_orders())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        while let Some(item) = step("open order", open.next()).await {
            if let Ok(SubscriptionItem::Data(Orders::OrderData(o))) = item {
                panic!("order {} still working after the OCA fill", o.order_id);
            }
        }
        drop(client);
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn working_orders_and_ids_survive_a_reconnect() {
    bounded(async {
        let sim = start(213).await;
        let msft = Contract::stock("MSFT").build();
        let client = connect(&sim, 13).await;
        let id = step("next id", client.next_valid_order_id())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mut rest = step(
            "rest",
            client.place_order(id, &msft, &limit_order(Action::Buy, 1.0, 1.0)),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        wait_status(&mut rest, OrderStatusKind::Submitted).await;
        drop(rest);
        client.disconnect().await;
        drop(client);
        let client = connect(&sim, 13).await;
        let next = step("next id", client.next_valid_order_id())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            next > id,
            "next valid id {next} must follow the used id {id}"
        );
        let mut open = step("open orders", client.open_orders())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mut ids = Vec::new();
        while let Some(item) = step("open order", open.next()).await {
            if let Ok(SubscriptionItem::Data(Orders::OrderData(o))) = item {
                ids.push(o.order_id);
            }
        }
        assert_eq!(ids, [id]);
        drop(open);

        // reqGlobalCancel cancels every working order.
        step("global cancel", client.global_cancel())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        step("cancelled", async {
            loop {
                let mut open = client.open_orders().await.unwrap_or_else(|e| panic!("{e}"));
                let mut any = false;
                while let Some(item) = open.next().await {
                    any |= matches!(item, Ok(SubscriptionItem::Data(Orders::OrderData(_))));
                }
                if !any {
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        })
        .await;
        drop(client);
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_updates_refresh_periodically() {
    bounded(async {
        let cfg = tickwork_sim::SimConfig {
            account_refresh: std::time::Duration::from_millis(300),
            ..common::config(226)
        };
        let sim = common::start_with(cfg).await;
        let account = sim.accounts()[0].clone();
        let client = connect(&sim, 14).await;
        let mut upd = step("updates", client.account_updates(&AccountId(account)))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mut after_end = 0;
        let mut ended = false;
        while after_end < 3 {
            match step("update", upd.next()).await {
                Some(Ok(SubscriptionItem::Data(AccountUpdate::End))) => ended = true,
                Some(Ok(SubscriptionItem::Data(AccountUpdate::PortfolioValue(_)))) if ended => {
                    after_end += 1
                }
                Some(Ok(_)) => {}
                other => panic!("account updates: {other:?}"),
            }
        }
        drop(upd);
        drop(client);
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_and_position_pnl_stream() {
    use ibapi::accounts::types::ContractId;
    bounded(async {
        for version in [226, 213] {
            let sim = start(version).await;
            let account = AccountId(sim.accounts()[0].clone());
            let client = connect(&sim, 15).await;
            let mut pnl = step("pnl", client.pnl(&account, None))
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let mut updates = 0;
            while updates < 2 {
                match step("pnl update", pnl.next()).await {
                    Some(Ok(SubscriptionItem::Data(p))) => {
                        assert!(
                            p.unrealized_pnl.is_some_and(|u| u > 0.0),
                            "seeded positions were bought below market: {p:?}"
                        );
                        updates += 1;
                    }
                    Some(Ok(_)) => {}
                    other => panic!("pnl: {other:?}"),
                }
            }
            drop(pnl);
            let aapl = step(
                "details",
                client.contract_details(&Contract::stock("AAPL").build()),
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
            let con_id = aapl[0].contract.contract_id;
            let mut single = step(
                "pnl single",
                client.pnl_single(&account, ContractId(con_id), None),
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
            match step("pnl single update", single.next()).await {
                Some(Ok(SubscriptionItem::Data(p))) => {
                    assert!(p.position == 100.0 && p.value > 0.0, "{p:?}")
                }
                other => panic!("pnl single: {other:?}"),
            }
            drop(single);
            drop(client);
            sim.shutdown().await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn positions_multi() {
    use ibapi::accounts::PositionUpdateMulti;
    bounded(async {
        for version in [226, 213] {
            let sim = start(version).await;
            let account = AccountId(sim.accounts()[0].clone());
            let client = connect(&sim, 16).await;
            let mut sub = step(
                "positions multi",
                client.positions_multi(Some(&account), None),
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
            let mut symbols = Vec::new();
            loop {
                match step("position multi", sub.next()).await {
                    Some(Ok(SubscriptionItem::Data(PositionUpdateMulti::Position(p)))) => {
                        symbols.push(p.contract.symbol.to_string())
                    }
                    Some(Ok(SubscriptionItem::Data(PositionUpdateMulti::PositionEnd))) => break,
                    Some(Ok(_)) => {}
                    other => panic!("positions multi: {other:?}"),
                }
            }
            symbols.sort();
            assert_eq!(symbols, ["AAPL", "SPY"]);
            drop(sub);
            drop(client);
            sim.shutdown().await;
        }
    })
    .await;
}
