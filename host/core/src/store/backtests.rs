//! Backtest results: what ran (script content, parameters, bars, fill model) and what it gave
//! (statistics, equity curve, trades), so runs can be listed, compared and reproduced. Amounts
//! stay exact: NUMERIC columns, and decimal strings inside the JSON columns.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value;
use sqlx::PgPool;

use super::{StoreError, parse_column};
use crate::domain::OrderSide;
use crate::scripting::backtest::{BacktestReport, EXPIRY_TAG, FillModel, Stats, Trade};
use crate::scripting::strategy::{ParamValues, params};

/// A finished backtest to store.
#[derive(Debug, Clone, Copy)]
pub struct NewBacktest<'a> {
    /// The script's name (its file name on the command line).
    pub script: &'a str,
    pub content_sha256: &'a str,
    /// Where the bars came from: `postgres` or `csv:<file name>`.
    pub source: &'a str,
    pub params: &'a ParamValues,
    pub fill_model: &'a FillModel,
    pub report: &'a BacktestReport,
}

/// One stored backtest without its curve and trades: what a list shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BacktestSummary {
    pub id: i64,
    pub script: String,
    pub content_sha256: String,
    pub symbol: String,
    pub bar_seconds: i32,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub source: String,
    /// The parameters as stored (integers as numbers, decimals and text as strings); their
    /// types come from the script, which may have changed since.
    pub params: Value,
    pub fill_model: FillModel,
    pub stats: Stats,
    pub created_at: DateTime<Utc>,
}

/// One stored backtest in full.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBacktest {
    pub summary: BacktestSummary,
    pub equity: Vec<(DateTime<Utc>, Decimal)>,
    pub trades: Vec<Trade>,
}

fn json_text<T: serde::Serialize>(what: &'static str, value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt {
        what,
        message: e.to_string(),
    })
}

fn from_json<T: serde::de::DeserializeOwned>(
    what: &'static str,
    text: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        what,
        message: e.to_string(),
    })
}

/// Stores a backtest and its trades in one transaction; returns its id.
pub async fn save(pool: &PgPool, run: &NewBacktest<'_>) -> Result<i64, StoreError> {
    let report = run.report;
    let equity: Vec<(DateTime<Utc>, String)> = report
        .equity
        .iter()
        .map(|(time, value)| (*time, value.to_string()))
        .collect();
    let mut tx = pool.begin().await?;
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO backtests (script, content_sha256, symbol, bar_seconds, from_ts, to_ts, \
         source, params, fill_model, stats, equity) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10::jsonb, $11::jsonb) \
         RETURNING id",
    )
    .bind(run.script)
    .bind(run.content_sha256)
    .bind(&report.symbol)
    .bind(report.bar_seconds)
    .bind(report.from)
    .bind(report.to)
    .bind(run.source)
    .bind(params::to_json(run.params).to_string())
    .bind(json_text("fill model", run.fill_model)?)
    .bind(json_text("statistics", &report.stats)?)
    .bind(json_text("equity curve", &equity)?)
    .fetch_one(&mut *tx)
    .await?;
    if !report.trades.is_empty() {
        let trades = &report.trades;
        sqlx::query(
            "INSERT INTO backtest_trades (backtest_id, seq, executed_at, symbol, side, quantity, \
             price, commission, intent_id) \
             SELECT $1, * FROM UNNEST($2::int4[], $3::timestamptz[], $4::text[], $5::text[], \
             $6::numeric[], $7::numeric[], $8::numeric[], $9::int8[])",
        )
        .bind(id)
        .bind(
            trades
                .iter()
                .map(|t| i32::try_from(t.seq).unwrap_or(i32::MAX))
                .collect::<Vec<_>>(),
        )
        .bind(trades.iter().map(|t| t.time).collect::<Vec<_>>())
        .bind(trades.iter().map(|t| t.symbol.clone()).collect::<Vec<_>>())
        .bind(
            trades
                .iter()
                .map(|t| t.side.as_str().to_owned())
                .collect::<Vec<_>>(),
        )
        .bind(trades.iter().map(|t| t.quantity).collect::<Vec<_>>())
        .bind(trades.iter().map(|t| t.price).collect::<Vec<_>>())
        .bind(trades.iter().map(|t| t.commission).collect::<Vec<_>>())
        .bind(trades.iter().map(|t| t.intent_id).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(id)
}

const SUMMARY: &str = "id, script, content_sha256, symbol, bar_seconds, from_ts, to_ts, source, \
                       params::text, fill_model::text, stats::text, created_at";

/// A `backtests` row without its equity curve; JSON columns read as text, parsed strictly.
#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: i64,
    script: String,
    content_sha256: String,
    symbol: String,
    bar_seconds: i32,
    from_ts: DateTime<Utc>,
    to_ts: DateTime<Utc>,
    source: String,
    params: String,
    fill_model: String,
    stats: String,
    created_at: DateTime<Utc>,
}

fn summary(row: SummaryRow) -> Result<BacktestSummary, StoreError> {
    Ok(BacktestSummary {
        id: row.id,
        script: row.script,
        content_sha256: row.content_sha256,
        symbol: row.symbol,
        bar_seconds: row.bar_seconds,
        from: row.from_ts,
        to: row.to_ts,
        source: row.source,
        params: from_json("backtest parameters", &row.params)?,
        fill_model: from_json("fill model", &row.fill_model)?,
        stats: from_json("statistics", &row.stats)?,
        created_at: row.created_at,
    })
}

/// The backtests of one script, newest first.
pub async fn list(pool: &PgPool, script: &str) -> Result<Vec<BacktestSummary>, StoreError> {
    let rows: Vec<SummaryRow> = sqlx::query_as(&format!(
        "SELECT {SUMMARY} FROM backtests WHERE script = $1 ORDER BY created_at DESC, id DESC"
    ))
    .bind(script)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(summary).collect()
}

/// One backtest with its equity curve and trades.
pub async fn get(pool: &PgPool, id: i64) -> Result<Option<StoredBacktest>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct FullRow {
        #[sqlx(flatten)]
        summary: SummaryRow,
        equity: String,
    }
    let row: Option<FullRow> = sqlx::query_as(&format!(
        "SELECT {SUMMARY}, equity::text AS equity FROM backtests WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?;
    let Some(FullRow {
        summary: row,
        equity,
    }) = row
    else {
        return Ok(None);
    };
    let equity: Vec<(DateTime<Utc>, Decimal)> = from_json("equity curve", &equity)?;
    type TradeRow = (
        i32,
        DateTime<Utc>,
        String,
        String,
        Decimal,
        Decimal,
        Decimal,
        i64,
    );
    let rows: Vec<TradeRow> = sqlx::query_as(
        "SELECT seq, executed_at, symbol, side, quantity, price, commission, intent_id \
         FROM backtest_trades WHERE backtest_id = $1 ORDER BY seq",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    let trades = rows
        .into_iter()
        .map(
            |(seq, time, symbol, side, quantity, price, commission, intent_id)| {
                Ok(Trade {
                    seq: u32::try_from(seq).unwrap_or_default(),
                    time,
                    intent_id,
                    symbol,
                    side: parse_column::<OrderSide>(&side)?,
                    quantity,
                    price,
                    commission,
                    // Only an expiry settlement has no intent (the table keeps no tag).
                    tag: if intent_id == 0 {
                        EXPIRY_TAG.to_owned()
                    } else {
                        String::new()
                    },
                })
            },
        )
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(Some(StoredBacktest {
        summary: summary(row)?,
        equity,
        trades,
    }))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::TimeZone;
    use rust_decimal_macros::dec;

    use super::*;
    use crate::scripting::backtest::{backtest, bars};
    use crate::scripting::strategy::{StrategyScript, params};
    use crate::scripting::strategy_engine;

    /// A short real run that trades stock and an option (settled at expiry), so every column
    /// and the expiry tag make the round trip.
    fn report() -> (StrategyScript, ParamValues, BacktestReport) {
        let engine = Arc::new(strategy_engine());
        let source = "fn params() { #{ qty: 3, k: 1.5 } }\n\
            fn on_bar(ctx, bar) {\n\
              if ctx.position(bar.symbol).qty == 0 { ctx.buy(bar.symbol, params.qty); }\n\
              else { ctx.sell(bar.symbol, params.qty); }\n\
              if ctx.today() == \"20250106\" { ctx.sell(ctx.option(\"SPY\", \"20250117\", \"P\", 700), 1); }\n\
            }";
        let script = StrategyScript::compile(&engine, "flip.rhai", source).unwrap();
        let values = params::resolve(&script.params, &["k=2.25".into()]).unwrap();
        let bars = bars::synthetic(
            "SPY",
            Utc.with_ymd_and_hms(2025, 1, 2, 14, 30, 0).unwrap(),
            20,
            86_400,
            dec!(480),
            3,
        );
        let report = backtest(
            engine,
            Arc::new(script.clone()),
            values.clone(),
            &bars,
            &FillModel::default(),
            dec!(25000.50),
        )
        .unwrap();
        (script, values, report)
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn a_saved_backtest_reads_back_exactly(pool: PgPool) {
        let (script, values, report) = report();
        assert!(
            report.trades.iter().any(|t| t.tag == EXPIRY_TAG),
            "{:?}",
            report.trades
        );
        let model = FillModel {
            slippage: dec!(0.02),
            ..FillModel::default()
        };
        let run = NewBacktest {
            script: &script.name,
            content_sha256: &script.content_sha256,
            source: "csv:spy.csv",
            params: &values,
            fill_model: &model,
            report: &report,
        };
        let first = save(&pool, &run).await.unwrap();
        let second = save(&pool, &run).await.unwrap();
        assert!(second > first);

        let listed = list(&pool, "flip.rhai").await.unwrap();
        assert_eq!(
            listed.iter().map(|s| s.id).collect::<Vec<_>>(),
            [second, first]
        );
        assert!(list(&pool, "other.rhai").await.unwrap().is_empty());

        let stored = get(&pool, first).await.unwrap().unwrap();
        let summary = &stored.summary;
        assert_eq!(summary.script, "flip.rhai");
        assert_eq!(summary.content_sha256, script.content_sha256);
        assert_eq!(
            (
                summary.symbol.as_str(),
                summary.bar_seconds,
                summary.from,
                summary.to
            ),
            ("SPY", 86_400, report.from, report.to)
        );
        assert_eq!(summary.source, "csv:spy.csv");
        assert_eq!(summary.params, serde_json::json!({ "qty": 3, "k": "2.25" }));
        assert_eq!(summary.fill_model, model);
        assert_eq!(summary.stats, report.stats);
        assert_eq!(summary.stats.initial_cash, dec!(25000.50));
        assert_eq!(stored.equity, report.equity);
        assert_eq!(stored.trades, report.trades);
        assert!(get(&pool, second + 1).await.unwrap().is_none());
    }
}
