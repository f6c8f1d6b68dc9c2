//! Streaming quotes: one task per market data line, converting `ibapi` ticks to ours.

use chrono::Utc;
use futures::StreamExt;
use ibapi::Client;
use ibapi::contracts::tick_types::TickType;
use ibapi::market_data::realtime::TickTypes;
use ibapi::subscriptions::SubscriptionItem;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::convert::{self, decimal};
use crate::domain::{InstrumentSpec, Tick, TickKind};

/// What a market data task reports to the session.
#[derive(Debug)]
pub enum LineEvent {
    /// Ticks of one message; `delayed` when TWS sent them as delayed market data.
    Ticks { ticks: Vec<Tick>, delayed: bool },
    /// TWS refused the line (101: too many lines, or 354/200/...).
    Refused {
        instrument_id: i64,
        code: i32,
        message: String,
    },
    /// The stream ended (connection lost, cancelled).
    Ended { instrument_id: i64 },
}

/// Whether a tick is delayed market data (TWS sends those without a live subscription).
fn is_delayed(item: &TickTypes) -> bool {
    let delayed = |t: &TickType| {
        matches!(
            t,
            TickType::DelayedBid
                | TickType::DelayedAsk
                | TickType::DelayedLast
                | TickType::DelayedBidSize
                | TickType::DelayedAskSize
                | TickType::DelayedLastSize
                | TickType::DelayedVolume
                | TickType::DelayedClose
        )
    };
    match item {
        TickTypes::Price(p) => delayed(&p.tick_type),
        TickTypes::Size(s) => delayed(&s.tick_type),
        TickTypes::PriceSize(ps) => delayed(&ps.price_tick_type),
        _ => false,
    }
}

fn kind_of(tick_type: &TickType) -> Option<TickKind> {
    Some(match tick_type {
        TickType::Bid | TickType::DelayedBid => TickKind::Bid,
        TickType::Ask | TickType::DelayedAsk => TickKind::Ask,
        TickType::Last | TickType::DelayedLast => TickKind::Last,
        TickType::BidSize | TickType::DelayedBidSize => TickKind::BidSize,
        TickType::AskSize | TickType::DelayedAskSize => TickKind::AskSize,
        TickType::LastSize | TickType::DelayedLastSize => TickKind::LastSize,
        TickType::Volume | TickType::DelayedVolume => TickKind::Volume,
        TickType::Close | TickType::DelayedClose => TickKind::Close,
        _ => return None,
    })
}

/// Our ticks for one `ibapi` tick message (a price with its size gives two).
pub fn convert_ticks(instrument_id: i64, item: &TickTypes) -> Vec<Tick> {
    let ts = Utc::now();
    let price = |tick_type: &TickType, value: f64| {
        kind_of(tick_type).map(|kind| Tick {
            instrument_id,
            ts,
            kind,
            price: decimal(value),
            size: None,
        })
    };
    let size = |tick_type: &TickType, value: f64| {
        kind_of(tick_type).map(|kind| Tick {
            instrument_id,
            ts,
            kind,
            price: None,
            size: decimal(value),
        })
    };
    match item {
        TickTypes::Price(p) => price(&p.tick_type, p.price).into_iter().collect(),
        TickTypes::Size(s) => size(&s.tick_type, s.size).into_iter().collect(),
        TickTypes::PriceSize(ps) => price(&ps.price_tick_type, ps.price)
            .into_iter()
            .chain(size(&ps.size_tick_type, ps.size))
            .collect(),
        _ => Vec::new(),
    }
}

/// Starts streaming one instrument; the task ends when the subscription does, or when aborted
/// (dropping the subscription sends cancelMktData).
pub fn spawn_line(
    client: std::sync::Arc<Client>,
    instrument_id: i64,
    spec: InstrumentSpec,
    events: mpsc::Sender<LineEvent>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let contract = convert::contract_for(&spec);
        let mut stream = match client.market_data(&contract).subscribe().await {
            Ok(stream) => stream,
            Err(err) => {
                let _ = events
                    .send(LineEvent::Refused {
                        instrument_id,
                        code: 0,
                        message: err.to_string(),
                    })
                    .await;
                return;
            }
        };
        while let Some(item) = stream.next().await {
            match item {
                Ok(SubscriptionItem::Data(tick)) => {
                    let ticks = convert_ticks(instrument_id, &tick);
                    if !ticks.is_empty()
                        && events
                            .send(LineEvent::Ticks {
                                ticks,
                                delayed: is_delayed(&tick),
                            })
                            .await
                            .is_err()
                    {
                        return;
                    }
                }
                Ok(SubscriptionItem::Notice(notice)) => {
                    tracing::debug!(instrument_id, code = notice.code, message = %notice.message, "market data notice");
                }
                Err(ibapi::Error::Notice(notice)) => {
                    let _ = events
                        .send(LineEvent::Refused {
                            instrument_id,
                            code: notice.code,
                            message: notice.message,
                        })
                        .await;
                    return;
                }
                Err(err) => {
                    tracing::debug!(instrument_id, error = %err, "market data stream ended");
                    break;
                }
            }
        }
        let _ = events.send(LineEvent::Ended { instrument_id }).await;
    })
}
