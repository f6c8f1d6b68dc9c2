//! Historical bars, requested within IB's pacing rules so TWS never answers with error 162.

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use ibapi::Client;
use ibapi::market_data::historical::{BarSize, BarTimestamp, Duration as IbDuration, WhatToShow};
use tokio::sync::Mutex;

use super::convert::{self, decimal};
use super::pacing::{HistoricalKey, HistoricalPacer};
use crate::domain::{Bar, InstrumentSpec};

/// Bars of one instrument: `days` of `bar_seconds` bars ending now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRequest {
    pub spec: InstrumentSpec,
    pub bar_seconds: i32,
    pub days: i32,
}

fn bar_size(seconds: i32) -> Result<BarSize, String> {
    Ok(match seconds {
        1 => BarSize::Sec,
        5 => BarSize::Sec5,
        10 => BarSize::Sec10,
        15 => BarSize::Sec15,
        30 => BarSize::Sec30,
        60 => BarSize::Min,
        120 => BarSize::Min2,
        180 => BarSize::Min3,
        300 => BarSize::Min5,
        900 => BarSize::Min15,
        1800 => BarSize::Min30,
        3600 => BarSize::Hour,
        86_400 => BarSize::Day,
        other => return Err(format!("bar size of {other} s is not one TWS offers")),
    })
}

fn bar_start(date: &BarTimestamp) -> Option<DateTime<Utc>> {
    match date {
        BarTimestamp::DateTime(at) => DateTime::from_timestamp(at.unix_timestamp(), 0),
        BarTimestamp::Date(day) => {
            let midnight = day.midnight().assume_utc();
            DateTime::from_timestamp(midnight.unix_timestamp(), 0)
        }
    }
}

/// Fetches the bars, waiting first for as long as the pacing rules require.
pub async fn fetch(
    client: &Client,
    pacer: &Arc<Mutex<HistoricalPacer>>,
    instrument_id: i64,
    request: &HistoryRequest,
) -> Result<Vec<Bar>, String> {
    let size = bar_size(request.bar_seconds)?;
    if !(1..=365).contains(&request.days) {
        return Err(format!("{} days: ask for 1 to 365", request.days));
    }
    let key = HistoricalKey {
        con_id: request.spec.con_id.unwrap_or(instrument_id),
        exchange: request.spec.exchange.clone(),
        what_to_show: "TRADES".into(),
        window: format!("{} D {}", request.days, size),
    };
    loop {
        let admitted = pacer.lock().await.admit(&key, Instant::now());
        match admitted {
            Ok(()) => break,
            Err(wait) => {
                tracing::info!(symbol = %request.spec.symbol, ?wait, "historical data paced");
                tokio::time::sleep(wait).await;
            }
        }
    }
    let contract = convert::contract_for(&request.spec);
    let answer = client
        .historical_data(&contract, size)
        .what_to_show(WhatToShow::Trades)
        .duration(IbDuration::days(request.days))
        .fetch()
        .await;
    pacer.lock().await.finished();
    let data = answer.map_err(|e| format!("{}: {e}", request.spec.symbol))?;
    data.bars
        .iter()
        .map(|bar| {
            let field = |name: &str, v: f64| {
                decimal(v).ok_or_else(|| {
                    format!("{}: bar {name} {v} is not a price", request.spec.symbol)
                })
            };
            Ok(Bar {
                instrument_id,
                bar_seconds: request.bar_seconds,
                ts: bar_start(&bar.date)
                    .ok_or_else(|| format!("{}: bar time out of range", request.spec.symbol))?,
                open: field("open", bar.open)?,
                high: field("high", bar.high)?,
                low: field("low", bar.low)?,
                close: field("close", bar.close)?,
                volume: decimal(bar.volume).unwrap_or_default(),
            })
        })
        .collect()
}
