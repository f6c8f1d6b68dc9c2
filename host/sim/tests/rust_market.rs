//! The real Rust `ibapi` client: contract details, snapshot and streaming market data,
//! delayed data, the line limit and historical bars, at 226 and 213.

mod common;

use common::{addr, bounded, config, start, start_with, step};
use ibapi::contracts::tick_types::TickType;
use ibapi::prelude::*;

async fn connect(sim: &tickwork_sim::SimHandle, id: i32) -> Client {
    step("connect", Client::connect(&addr(sim), id))
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contract_details_known_unknown_and_chains() {
    bounded(async {
        for version in [226, 213] {
            let sim = start(version).await;
            let client = connect(&sim, 1).await;
            let aapl = Contract::stock("AAPL").build();
            let details = step("details", client.contract_details(&aapl))
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(details.len(), 1);
            assert_eq!(details[0].contract.symbol.to_string(), "AAPL");
            assert_eq!(details[0].long_name, "APPLE INC");
            assert!(details[0].contract.contract_id > 0);
            let unknown = Contract::stock("NOSUCH").build();
            assert!(
                step("unknown", client.contract_details(&unknown))
                    .await
                    .is_err(),
                "unknown symbol must fail (200)"
            );
            let mut chain = Contract::stock("AAPL").build();
            chain.security_type = SecurityType::Option;
            let options = step("chain", client.contract_details(&chain))
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            assert!(
                options.len() >= 30,
                "option chain has {} contracts",
                options.len()
            );
            let mut fut = Contract::stock("ES").build();
            fut.security_type = SecurityType::Future;
            fut.exchange = Exchange::from("CME");
            let futs = step("futures", client.contract_details(&fut))
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(futs.len(), 3);
            drop(client);
            sim.shutdown().await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_and_streaming_market_data() {
    bounded(async {
        for version in [226, 213] {
            let sim = start(version).await;
            let client = connect(&sim, 2).await;
            let aapl = Contract::stock("AAPL").build();
            let mut snap = step("snapshot", client.market_data(&aapl).snapshot().subscribe())
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let (mut bid, mut ask, mut ended) = (0.0, 0.0, false);
            while let Some(item) = step("snapshot tick", snap.next()).await {
                match item {
                    Ok(SubscriptionItem::Data(TickTypes::Price(p)))
                        if p.tick_type == TickType::Bid =>
                    {
                        bid = p.price
                    }
                    Ok(SubscriptionItem::Data(TickTypes::Price(p)))
                        if p.tick_type == TickType::Ask =>
                    {
                        ask = p.price
                    }
                    Ok(SubscriptionItem::Data(TickTypes::PriceSize(p)))
                        if p.price_tick_type == TickType::Bid =>
                    {
                        bid = p.price
                    }
                    Ok(SubscriptionItem::Data(TickTypes::PriceSize(p)))
                        if p.price_tick_type == TickType::Ask =>
                    {
                        ask = p.price
                    }
                    Ok(SubscriptionItem::Data(TickTypes::SnapshotEnd)) => {
                        ended = true;
                        break;
                    }
                    Ok(_) => {}
                    Err(e) => panic!("snapshot error: {e}"),
                }
            }
            assert!(ended, "snapshot must end with TickSnapshotEnd");
            assert!(bid > 0.0 && ask > bid, "bid {bid} ask {ask}");

            let mut stream = step("stream", client.market_data(&aapl).subscribe())
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let mut prices = 0;
            while prices < 30 {
                match step("stream tick", stream.next()).await {
                    Some(Ok(SubscriptionItem::Data(
                        TickTypes::Price(_) | TickTypes::PriceSize(_),
                    ))) => prices += 1,
                    Some(Ok(_)) => {}
                    Some(Err(e)) => panic!("stream error: {e}"),
                    None => panic!("stream ended early"),
                }
            }
            stream.cancel().await;
            drop(stream);
            drop(client);
            sim.shutdown().await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delayed_data_and_line_limit() {
    bounded(async {
        let sim = start_with(tickwork_sim::SimConfig {
            max_market_data_lines: 2,
            ..config(226)
        })
        .await;
        let client = connect(&sim, 3).await;
        step(
            "md type",
            client.switch_market_data_type(MarketDataType::Delayed),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        let spy = Contract::stock("SPY").build();
        let mut snap = step("snapshot", client.market_data(&spy).snapshot().subscribe())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mut delayed = false;
        while let Some(item) = step("tick", snap.next()).await {
            match item {
                Ok(SubscriptionItem::Data(TickTypes::Price(p)))
                    if p.tick_type == TickType::DelayedBid =>
                {
                    delayed = true
                }
                Ok(SubscriptionItem::Data(TickTypes::PriceSize(p)))
                    if p.price_tick_type == TickType::DelayedBid =>
                {
                    delayed = true
                }
                Ok(SubscriptionItem::Data(TickTypes::SnapshotEnd)) => break,
                Ok(_) => {}
                Err(e) => panic!("{e}"),
            }
        }
        assert!(delayed, "reqMarketDataType(3) must give delayed tick types");
        let a = step("line 1", client.market_data(&spy).subscribe())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let b = step(
            "line 2",
            client
                .market_data(&Contract::stock("QQQ").build())
                .subscribe(),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        let mut c = step(
            "line 3",
            client
                .market_data(&Contract::stock("IWM").build())
                .subscribe(),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        let mut got_101 = false;
        while let Some(item) = step("line 3 answer", c.next()).await {
            if let Err(e) = item {
                got_101 = e.to_string().contains("101");
                break;
            }
        }
        assert!(got_101, "the line beyond the limit must get 101");
        drop((a, b, c));
        drop(client);
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn historical_bars_daily_and_intraday() {
    bounded(async {
        for version in [226, 213] {
            let sim = start(version).await;
            let client = connect(&sim, 4).await;
            let aapl = Contract::stock("AAPL").build();
            let daily = step(
                "daily",
                client
                    .historical_data(&aapl, HistoricalBarSize::Day)
                    .duration(1.months())
                    .fetch(),
            )
            .await
            .unwrap_or_else(|e| panic!("daily: {e}"));
            assert!(daily.bars.len() >= 15, "{} daily bars", daily.bars.len());
            let intraday = step(
                "intraday",
                client
                    .historical_data(&aapl, HistoricalBarSize::Min5)
                    .duration(2.days())
                    .what_to_show(HistoricalWhatToShow::Trades)
                    .fetch(),
            )
            .await
            .unwrap_or_else(|e| panic!("intraday: {e}"));
            assert!(
                intraday.bars.len() > 100,
                "{} intraday bars",
                intraday.bars.len()
            );
            assert!(
                intraday
                    .bars
                    .iter()
                    .all(|b| b.low <= b.high && b.low <= b.close && b.close <= b.high)
            );
            assert!(intraday.end > intraday.start);
            // IB paces only bars of 30 s or less: an identical daily request is answered.
            let again = step(
                "identical daily",
                client
                    .historical_data(&aapl, HistoricalBarSize::Day)
                    .duration(1.months())
                    .fetch(),
            )
            .await;
            assert!(again.is_ok_and(|d| d.bars.len() == daily.bars.len()));
            let small = || {
                client
                    .historical_data(&aapl, HistoricalBarSize::Sec5)
                    .duration(3600.seconds())
                    .fetch()
            };
            let first = step("5-second bars", small()).await;
            assert!(first.is_ok(), "{first:?}");
            let paced = step("identical 5-second bars", small()).await;
            assert!(
                paced.is_err_and(|e| e.to_string().contains("162")),
                "an identical small-bar request within 15 s must get 162"
            );
            drop(client);
            sim.shutdown().await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minute_bars_are_not_paced_across_clients() {
    bounded(async {
        let sim = start(226).await;
        let aapl = Contract::stock("AAPL").build();
        // Before the change the second client's identical request got 162.
        for client_id in [41, 42] {
            let client = connect(&sim, client_id).await;
            step(
                "5-minute bars",
                client
                    .historical_data(&aapl, HistoricalBarSize::Min5)
                    .duration(2.days())
                    .fetch(),
            )
            .await
            .unwrap_or_else(|e| panic!("client {client_id}: {e}"));
            drop(client);
        }
        // The same pair with 5-second bars: the second client's identical request is paced
        // (TWS paces per session, across clients).
        let mut outcomes = Vec::new();
        for client_id in [43, 44] {
            let client = connect(&sim, client_id).await;
            let r = step(
                "5-second bars",
                client
                    .historical_data(&aapl, HistoricalBarSize::Sec5)
                    .duration(1800.seconds())
                    .fetch(),
            )
            .await;
            outcomes.push(r.map(|d| d.bars.len()).map_err(|e| e.to_string()));
            drop(client);
        }
        assert!(outcomes[0].is_ok(), "{outcomes:?}");
        assert!(
            outcomes[1].as_ref().is_err_and(|e| e.contains("162")),
            "{outcomes:?}"
        );
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_up_to_date_bars_stream_updates() {
    use ibapi::market_data::historical::HistoricalBarUpdate;
    bounded(async {
        for version in [226, 213] {
            let sim = start(version).await;
            let client = connect(&sim, 5).await;
            let spy = Contract::stock("SPY").build();
            let mut sub = step(
                "stream",
                client
                    .historical_data(&spy, HistoricalBarSize::Min)
                    .duration(1.days())
                    .stream(),
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
            let (mut history, mut updates) = (false, 0);
            while updates < 2 {
                match step("bar update", sub.next()).await {
                    Some(Ok(SubscriptionItem::Data(HistoricalBarUpdate::Historical(h)))) => {
                        history = !h.bars.is_empty()
                    }
                    Some(Ok(SubscriptionItem::Data(HistoricalBarUpdate::Update(b)))) => {
                        assert!(b.low <= b.close && b.close <= b.high, "{b:?}");
                        updates += 1;
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => panic!("stream: {e}"),
                    None => panic!("stream ended"),
                }
            }
            assert!(history, "the bars come before the updates");
            drop(sub);
            drop(client);
            sim.shutdown().await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsupported_requests_fail_fast_instead_of_hanging() {
    bounded(async {
        for version in [226, 213] {
            let sim = start(version).await;
            let client = connect(&sim, 6).await;
            let aapl = Contract::stock("AAPL").build();
            let mut bars = step("market depth", client.market_depth(&aapl, 5).subscribe())
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            match step("market depth answer", bars.next()).await {
                Some(Err(e)) => assert!(e.to_string().contains("321"), "{e}"),
                None => {}
                Some(Ok(item)) => panic!("unexpected market depth item {item:?}"),
            }
            // The connection is still fine.
            step("time", client.server_time())
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            drop(bars);
            drop(client);
            sim.shutdown().await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn symbol_search_option_chain_and_head_timestamp() {
    bounded(async {
        for version in [226, 213] {
            let sim = start(version).await;
            let client = connect(&sim, 7).await;
            let found = step("matching symbols", client.matching_symbols("AAP"))
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let aapl_found = found.iter().any(|d| {
                d.contract.symbol == "AAPL"
                    && d.derivative_security_types.contains(&"OPT".to_string())
            });
            assert!(aapl_found, "{found:?}");
            let mut chain = step(
                "option chain",
                client
                    .option_chain("AAPL", SecurityType::Stock, 0)
                    .subscribe(),
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
            let mut rows = Vec::new();
            while let Some(item) = step("chain row", chain.next()).await {
                match item {
                    Ok(SubscriptionItem::Data(row)) => rows.push(row),
                    Ok(_) => {}
                    Err(e) => panic!("option chain: {e}"),
                }
            }
            assert_eq!(rows.len(), 1, "{rows:?}");
            assert_eq!(
                (
                    rows[0].expirations.len(),
                    rows[0].strikes.len(),
                    rows[0].multiplier.as_str()
                ),
                (3, 11, "100")
            );
            let aapl = Contract::stock("AAPL").build();
            let head = step(
                "head timestamp",
                client.head_timestamp(&aapl, HistoricalWhatToShow::Trades, TradingHours::Regular),
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(head.unix_timestamp(), 1_136_298_600);
            drop(chain);
            drop(client);
            sim.shutdown().await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn realtime_five_second_bars() {
    bounded(async {
        for version in [226, 213] {
            let sim = start(version).await;
            let client = connect(&sim, 8).await;
            let spy = Contract::stock("SPY").build();
            let mut bars = step("realtime bars", client.realtime_bars(&spy).subscribe())
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let bar = loop {
                match step("realtime bar", bars.next()).await {
                    Some(Ok(SubscriptionItem::Data(b))) => break b,
                    Some(Ok(_)) => {}
                    other => panic!("realtime bars: {other:?}"),
                }
            };
            assert_eq!(
                bar.date.unix_timestamp() % 5,
                0,
                "bars start on 5-second boundaries"
            );
            assert!(
                bar.low <= bar.open
                    && bar.open <= bar.high
                    && bar.low <= bar.close
                    && bar.close <= bar.high,
                "{bar:?}"
            );
            drop(bars);
            drop(client);
            sim.shutdown().await;
        }
    })
    .await;
}
