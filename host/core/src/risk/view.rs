//! What the risk gate knows about the market and the account: a view kept up to date from the
//! hub (quotes, positions, account values), from which a [`RiskContext`] is built for an intent —
//! with our margin what-if and, when the caller has it, TWS's own.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::PgPool;

use super::daily_pnl::{PnlValues, daily_pnl};
use super::margin::{self, Holding, MarginAfter, MarginInputs};
use super::router::ContextSource;
use super::rules::{MarginImpact, RiskContext};
use crate::domain::{InstrumentSpec, OrderIntent, Origin, Quote, TwsWhatIf};
use crate::hub::{AccountValue, Hub};
use crate::scripting::margin_rule::MarginRuleLoader;
use crate::store::{StoreError, instruments};

#[derive(Debug, Default)]
struct State {
    quotes: HashMap<i64, Quote>,
    /// (account, instrument id) → signed quantity.
    positions: HashMap<(String, i64), Decimal>,
    /// account → equity with loan value.
    equity: HashMap<String, Decimal>,
    /// account → P&L values by currency.
    pnl: HashMap<String, PnlValues>,
    /// The local day the start-of-day values belong to.
    day: Option<NaiveDate>,
}

impl State {
    fn account_value(&mut self, v: AccountValue, today: NaiveDate) {
        if self.day != Some(today) {
            // A new day: what is unrealised now is the start of the new day's change.
            for pnl in self.pnl.values_mut() {
                pnl.unrealized_at_start = pnl.unrealized.clone();
            }
            self.day = Some(today);
        }
        let Ok(value) = Decimal::from_str(&v.value) else {
            return;
        };
        let pnl = self.pnl.entry(v.account.clone()).or_default();
        match v.key.as_str() {
            EQUITY_WITH_LOAN => {
                self.equity.insert(v.account, value);
            }
            REALIZED_PNL => {
                pnl.realized.insert(v.currency, value);
            }
            UNREALIZED_PNL => {
                pnl.unrealized_at_start
                    .entry(v.currency.clone())
                    .or_insert(value);
                pnl.unrealized.insert(v.currency, value);
            }
            EXCHANGE_RATE => {
                pnl.exchange_rates.insert(v.currency, value);
            }
            _ => {}
        }
    }
}

/// Account value tags the gate uses (IB's `updateAccountValue` keys).
const EQUITY_WITH_LOAN: &str = "EquityWithLoanValue";
const REALIZED_PNL: &str = "RealizedPnL";
const UNREALIZED_PNL: &str = "UnrealizedPnL";
const EXCHANGE_RATE: &str = "ExchangeRate";

/// Our margin what-if of an intent (the order ticket's preview).
#[derive(Debug, Clone, PartialEq)]
pub struct MarginPreview {
    /// The price the order was valued at: its limit or stop, else the last quote.
    pub price: Decimal,
    pub what_if: tickwork_margin::WhatIf,
    /// The account's equity with loan value, when TWS reported it.
    pub equity_with_loan: Option<Decimal>,
}

/// A live view of quotes, positions and account values; cheap to clone. Its margin figures
/// include the enabled custom margin rules, read from the store for each decision (compiled
/// again only when one changed), so an edited or switched rule applies to the next order.
#[derive(Debug, Clone)]
pub struct RiskView {
    state: Arc<Mutex<State>>,
    margin_rules: Arc<MarginRuleLoader>,
}

impl RiskView {
    /// Starts following the hub (tasks on the current runtime, ending with the hub).
    pub fn follow(hub: &Hub) -> Self {
        let state = Arc::new(Mutex::new(State::default()));
        let quotes = hub.subscribe_quotes();
        let into = state.clone();
        tokio::spawn(async move {
            loop {
                let changed = quotes.changed().await;
                let mut state = into.lock().unwrap_or_else(|p| p.into_inner());
                state.quotes.extend(changed);
            }
        });
        let mut positions = hub.subscribe_positions();
        let into = state.clone();
        tokio::spawn(async move {
            while let Some(event) = positions.recv().await {
                // After an overflow the next synchronisation republishes every position.
                if let Ok(p) = event {
                    let mut state = into.lock().unwrap_or_else(|p| p.into_inner());
                    state
                        .positions
                        .insert((p.account, p.instrument_id), p.quantity);
                }
            }
        });
        let mut values = hub.subscribe_account();
        let into = state.clone();
        tokio::spawn(async move {
            while let Some(event) = values.recv().await {
                if let Ok(v) = event {
                    let today = chrono::Local::now().date_naive();
                    let mut state = into.lock().unwrap_or_else(|p| p.into_inner());
                    state.account_value(v, today);
                }
            }
        });
        Self {
            state,
            margin_rules: Arc::default(),
        }
    }

    /// The latest quote of an instrument, if it streams.
    pub fn quote(&self, instrument_id: i64) -> Option<Quote> {
        self.snapshot(|s| s.quotes.get(&instrument_id).cloned())
    }

    /// The account's equity with loan value, as TWS last reported it.
    pub fn equity(&self, account: &str) -> Option<Decimal> {
        self.snapshot(|s| s.equity.get(account).copied())
    }

    /// The account's non-zero positions: (instrument id, signed quantity).
    pub fn positions(&self, account: &str) -> Vec<(i64, Decimal)> {
        self.snapshot(|s| {
            let mut held: Vec<(i64, Decimal)> = s
                .positions
                .iter()
                .filter(|((a, _), q)| a == account && !q.is_zero())
                .map(|((_, id), q)| (*id, *q))
                .collect();
            held.sort_by_key(|(id, _)| *id);
            held
        })
    }

    fn snapshot<T>(&self, read: impl FnOnce(&State) -> T) -> T {
        read(&self.state.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// The context for `intent`. `origin_may_trade` is the caller's knowledge of the grant
    /// (scripts and plugins); `tws` is TWS's what-if for the order when the caller has one.
    pub async fn context_for(
        &self,
        pool: &PgPool,
        intent: &OrderIntent,
        origin_may_trade: bool,
        tws: Option<TwsWhatIf>,
    ) -> Result<RiskContext, StoreError> {
        let instrument_id = match instruments::equivalent(pool, &intent.instrument).await? {
            Some(found) => found.id,
            None => instruments::upsert(pool, &intent.instrument).await?.id,
        };
        let account = intent.account.clone();
        let (quote, position, pnl, equity, held) = self.snapshot(|s| {
            let held: Vec<(i64, Decimal, Option<Decimal>)> = s
                .positions
                .iter()
                .filter(|((a, _), q)| *a == account && !q.is_zero())
                .map(|((_, id), q)| (*id, *q, s.quotes.get(id).and_then(Quote::reference_price)))
                .collect();
            (
                s.quotes.get(&instrument_id).cloned(),
                s.positions
                    .get(&(account.clone(), instrument_id))
                    .copied()
                    .unwrap_or_default(),
                s.pnl.get(&account).cloned(),
                s.equity.get(&account).copied(),
                held,
            )
        });
        let last_price = quote.as_ref().and_then(Quote::reference_price);
        let quote_age = quote
            .as_ref()
            .and_then(|q| q.updated_at)
            .map(|at| (chrono::Utc::now() - at).to_std().unwrap_or_default());
        let daily_pnl = match pnl.as_ref().map(daily_pnl) {
            Some(Ok(pnl)) => Some(pnl),
            Some(Err(why)) => {
                tracing::warn!(account = %account, %why, "today's P&L is unknown");
                None
            }
            None => None,
        };
        let ours = match (equity, intent.reference_price().or(last_price)) {
            (Some(_), Some(price)) => self.local_margin(pool, intent, price, equity, held).await?,
            _ => None,
        };
        let margin = match (ours, equity) {
            (Some(ours), Some(equity_with_loan)) => Some(MarginImpact {
                initial_after: ours.initial,
                custom_rules: ours.custom_rules,
                equity_with_loan,
                tws_initial_after: tws.as_ref().and_then(|w| w.initial_margin_after),
                tws_equity_with_loan_after: tws.as_ref().and_then(|w| w.equity_with_loan_after),
            }),
            _ => None,
        };
        Ok(RiskContext {
            last_price,
            quote_age,
            quote_delayed: quote.as_ref().is_some_and(|q| q.delayed),
            position,
            daily_pnl,
            origin_may_trade,
            margin,
        })
    }

    /// A context source for the router's own decisions (resends): the ticket (`ui`) is always
    /// granted; scripts and plugins are not, until their hosts grant them, so their orders are
    /// not resent automatically.
    pub fn context_source(&self, pool: PgPool) -> ContextSource {
        let view = self.clone();
        Arc::new(move |intent: OrderIntent| {
            let (view, pool) = (view.clone(), pool.clone());
            Box::pin(async move {
                let granted = intent.origin == Origin::Ui;
                view.context_for(&pool, &intent, granted, None)
                    .await
                    .map_err(|e| e.to_string())
            })
        })
    }

    async fn local_margin(
        &self,
        pool: &PgPool,
        intent: &OrderIntent,
        price: Decimal,
        equity: Option<Decimal>,
        held: Vec<(i64, Decimal, Option<Decimal>)>,
    ) -> Result<Option<MarginAfter>, StoreError> {
        let Ok(inputs) = self.margin_inputs(pool, intent, equity, held).await? else {
            return Ok(None);
        };
        let rules = self.margin_rules.load(pool).await?;
        match margin::initial_after(&inputs, intent, price, &rules) {
            Ok(after) => Ok(Some(after)),
            Err(err) => {
                tracing::warn!(error = %err, "margin what-if unavailable");
                Ok(None)
            }
        }
    }

    /// The account as the margin engine sees it; `Err` with the symbols of the holdings that
    /// have no quote (their marks, and so the margin, are unknown).
    async fn margin_inputs(
        &self,
        pool: &PgPool,
        intent: &OrderIntent,
        equity: Option<Decimal>,
        held: Vec<(i64, Decimal, Option<Decimal>)>,
    ) -> Result<Result<MarginInputs, Vec<String>>, StoreError> {
        let mut unquoted = Vec::new();
        let mut inputs = MarginInputs {
            as_of: Some(chrono::Utc::now().date_naive()),
            equity,
            ..MarginInputs::default()
        };
        for (id, quantity, mark) in held {
            let Some(instrument) = instruments::get(pool, id).await? else {
                continue;
            };
            // No quote for a holding: its mark is unknown, so the margin is unknown.
            let Some(mark) = mark else {
                unquoted.push(instrument.spec.symbol);
                continue;
            };
            inputs.holdings.push(Holding {
                spec: instrument.spec,
                quantity,
                mark,
            });
        }
        let underlyings: Vec<String> = inputs
            .holdings
            .iter()
            .map(|h| &h.spec)
            .chain(std::iter::once(&intent.instrument))
            .filter(|s| s.sec_type == crate::domain::SecType::Option)
            .map(|s| s.symbol.clone())
            .collect();
        // Options need their underlying's price: the quote of the stock, if it is watched.
        for symbol in underlyings {
            let Some(stock) =
                instruments::equivalent(pool, &InstrumentSpec::stock(&symbol)).await?
            else {
                continue;
            };
            if let Some(price) =
                self.snapshot(|s| s.quotes.get(&stock.id).and_then(Quote::reference_price))
            {
                inputs.underlying_prices.insert(symbol, price);
            }
        }
        if !unquoted.is_empty() {
            unquoted.sort();
            return Ok(Err(unquoted));
        }
        Ok(Ok(inputs))
    }

    /// Our margin what-if for `intent` as the order ticket shows it: the account's initial and
    /// maintenance requirement before and after, with the explanation of the order's
    /// underlying (and of each custom margin rule, when some apply). `Ok(Err(why))` when it cannot be computed (no price, a holding without a
    /// quote, an instrument the engine does not margin).
    pub async fn margin_preview(
        &self,
        pool: &PgPool,
        intent: &OrderIntent,
    ) -> Result<Result<MarginPreview, String>, StoreError> {
        let instrument_id = match instruments::equivalent(pool, &intent.instrument).await? {
            Some(found) => found.id,
            None => instruments::upsert(pool, &intent.instrument).await?.id,
        };
        let account = intent.account.clone();
        let (last_price, equity, held) = self.snapshot(|s| {
            let held: Vec<(i64, Decimal, Option<Decimal>)> = s
                .positions
                .iter()
                .filter(|((a, _), q)| *a == account && !q.is_zero())
                .map(|((_, id), q)| (*id, *q, s.quotes.get(id).and_then(Quote::reference_price)))
                .collect();
            (
                s.quotes
                    .get(&instrument_id)
                    .and_then(Quote::reference_price),
                s.equity.get(&account).copied(),
                held,
            )
        });
        let Some(price) = intent.reference_price().or(last_price) else {
            return Ok(Err(format!(
                "no price for {}: no quote yet and no limit or stop price",
                intent.instrument.symbol
            )));
        };
        let inputs = match self.margin_inputs(pool, intent, equity, held).await? {
            Ok(inputs) => inputs,
            Err(unquoted) => {
                return Ok(Err(format!(
                    "no quote for the account's {} position{}: watch {} to value {}",
                    unquoted.join(", "),
                    if unquoted.len() == 1 { "" } else { "s" },
                    if unquoted.len() == 1 { "it" } else { "them" },
                    if unquoted.len() == 1 { "it" } else { "them" },
                )));
            }
        };
        let rules = self.margin_rules.load(pool).await?;
        Ok(margin::what_if(&inputs, intent, price, &rules)
            .map(|what_if| MarginPreview {
                price,
                what_if,
                equity_with_loan: equity,
            })
            .map_err(|e| e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::domain::{OrderType, TimeInForce};
    use crate::hub::PositionUpdate;

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn quote(instrument_id: i64, last: &str) -> Quote {
        Quote {
            instrument_id,
            last: Some(d(last)),
            updated_at: Some(chrono::Utc::now()),
            ..Quote::default()
        }
    }

    fn buy_aapl(limit: Option<&str>) -> OrderIntent {
        OrderIntent {
            origin: Origin::Ui,
            account: "DU1".into(),
            instrument: InstrumentSpec::stock("AAPL"),
            side: crate::domain::OrderSide::Buy,
            quantity: d("10"),
            order_type: if limit.is_some() {
                OrderType::Limit
            } else {
                OrderType::Market
            },
            limit_price: limit.map(d),
            stop_price: None,
            time_in_force: TimeInForce::Day,
            parent_ref: None,
        }
    }

    /// Previews until `done` accepts the answer (the view follows the hub in its own tasks).
    async fn preview_until(
        view: &RiskView,
        pool: &PgPool,
        intent: &OrderIntent,
        done: impl Fn(&Result<MarginPreview, String>) -> bool,
    ) -> Result<MarginPreview, String> {
        let give_up = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let answer = view.margin_preview(pool, intent).await.unwrap();
            if done(&answer) || std::time::Instant::now() > give_up {
                return answer;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn margin_preview_gives_before_and_after_or_says_what_is_missing(pool: PgPool) {
        let hub = Hub::new();
        let view = RiskView::follow(&hub);
        let spy = instruments::upsert(&pool, &InstrumentSpec::stock("SPY"))
            .await
            .unwrap();
        let aapl = instruments::upsert(&pool, &InstrumentSpec::stock("AAPL"))
            .await
            .unwrap();

        // No quote and no limit: no price to value the order at.
        let why = view
            .margin_preview(&pool, &buy_aapl(None))
            .await
            .unwrap()
            .unwrap_err();
        assert!(why.starts_with("no price for AAPL"), "{why}");

        // A holding without a quote is named.
        hub.publish_position(PositionUpdate {
            account: "DU1".into(),
            instrument_id: spy.id,
            quantity: d("10"),
            average_cost: d("400"),
        });
        let why = preview_until(&view, &pool, &buy_aapl(Some("187.5")), |a| {
            a.as_ref().is_err_and(|why| why.contains("SPY"))
        })
        .await
        .unwrap_err();
        assert_eq!(
            why,
            "no quote for the account's SPY position: watch it to value it"
        );

        // With its quote: before (the SPY holding) and after (plus the order at its limit).
        hub.publish_quote(quote(spy.id, "500"));
        hub.publish_quote(quote(aapl.id, "190"));
        preview_until(&view, &pool, &buy_aapl(None), |a| {
            a.as_ref().is_ok_and(|p| p.price == d("190"))
        })
        .await
        .unwrap();
        let preview = view
            .margin_preview(&pool, &buy_aapl(Some("187.5")))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(preview.price, d("187.5"));
        assert_eq!(preview.what_if.initial_before, d("1250.00"));
        assert_eq!(preview.what_if.initial_after, d("1718.75"));
        assert!(preview.what_if.group_after.is_some());
        assert_eq!(preview.equity_with_loan, None);
        // A market order is valued at the last price.
        let market = view
            .margin_preview(&pool, &buy_aapl(None))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(market.price, d("190"));

        // An enabled margin rule is in the figures and the ticket's explanation.
        crate::store::scripts::save(
            &pool,
            "house",
            crate::store::scripts::ScriptKind::MarginRule,
            "fn margin(input) { #{initial: 10, maintenance: 10, reason: \"house\"} }",
        )
        .await
        .unwrap();
        let ruled = view
            .margin_preview(&pool, &buy_aapl(Some("187.5")))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(ruled.what_if.initial_before, d("1260.00"));
        assert_eq!(ruled.what_if.initial_after, d("1728.75"));
        let explanation = ruled.what_if.group_after.unwrap();
        assert_eq!(
            explanation.children.last().unwrap().label,
            "custom rule script:house"
        );
    }
}
