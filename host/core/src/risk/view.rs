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
use super::margin::{self, Holding, MarginInputs};
use super::router::ContextSource;
use super::rules::{MarginImpact, RiskContext};
use crate::domain::{InstrumentSpec, OrderIntent, Origin, Quote, TwsWhatIf};
use crate::hub::{AccountValue, Hub};
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

/// A live view of quotes, positions and account values; cheap to clone.
#[derive(Debug, Clone)]
pub struct RiskView {
    state: Arc<Mutex<State>>,
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
        Self { state }
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
            (Some(_), Some(price)) => self.local_margin(pool, intent, price, held).await?,
            _ => None,
        };
        let margin = match (ours, equity) {
            (Some(initial_after), Some(equity_with_loan)) => Some(MarginImpact {
                initial_after,
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
        held: Vec<(i64, Decimal, Option<Decimal>)>,
    ) -> Result<Option<Decimal>, StoreError> {
        let mut inputs = MarginInputs {
            as_of: Some(chrono::Utc::now().date_naive()),
            ..MarginInputs::default()
        };
        for (id, quantity, mark) in held {
            let Some(instrument) = instruments::get(pool, id).await? else {
                continue;
            };
            // No quote for a holding: its mark is unknown, so the margin is unknown.
            let Some(mark) = mark else { return Ok(None) };
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
        match margin::initial_after(&inputs, intent, price) {
            Ok(initial) => Ok(Some(initial)),
            Err(err) => {
                tracing::warn!(error = %err, "margin what-if unavailable");
                Ok(None)
            }
        }
    }
}
