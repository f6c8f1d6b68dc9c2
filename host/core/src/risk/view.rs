//! What the risk gate knows about the market and the account: a view kept up to date from the
//! hub (quotes, positions, account values), from which a [`RiskContext`] is built for an intent —
//! with our margin what-if and, when connected, TWS's own.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use rust_decimal::Decimal;
use sqlx::PgPool;

use super::intent::OrderIntent;
use super::margin::{self, Holding, MarginInputs};
use super::rules::{MarginImpact, RiskContext};
use crate::domain::{InstrumentSpec, Quote};
use crate::hub::Hub;
use crate::session::SessionHandle;
use crate::store::{StoreError, instruments};

#[derive(Debug, Default)]
struct State {
    quotes: HashMap<i64, Quote>,
    /// (account, instrument id) → signed quantity.
    positions: HashMap<(String, i64), Decimal>,
    /// (account, key) → value, for the tags the gate reads.
    values: HashMap<(String, String), Decimal>,
}

/// Account value tags the gate uses (IB's `updateAccountValue` keys).
const EQUITY_WITH_LOAN: &str = "EquityWithLoanValue";
const REALIZED_PNL: &str = "RealizedPnL";
const UNREALIZED_PNL: &str = "UnrealizedPnL";

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
                if let Ok(v) = event
                    && matches!(
                        v.key.as_str(),
                        EQUITY_WITH_LOAN | REALIZED_PNL | UNREALIZED_PNL
                    )
                    && let Ok(value) = Decimal::from_str(&v.value)
                {
                    let mut state = into.lock().unwrap_or_else(|p| p.into_inner());
                    state.values.insert((v.account, v.key), value);
                }
            }
        });
        Self { state }
    }

    fn snapshot<T>(&self, read: impl FnOnce(&State) -> T) -> T {
        read(&self.state.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// The context for `intent`. `origin_may_trade` is the caller's knowledge of the grant
    /// (scripts and plugins); `session` adds TWS's what-if when connected.
    pub async fn context_for(
        &self,
        pool: &PgPool,
        intent: &OrderIntent,
        origin_may_trade: bool,
        session: Option<&SessionHandle>,
    ) -> Result<RiskContext, StoreError> {
        let instrument_id = match instruments::equivalent(pool, &intent.instrument).await? {
            Some(found) => found.id,
            None => instruments::upsert(pool, &intent.instrument).await?.id,
        };
        let account = intent.account.clone();
        let (last_price, position, daily_pnl, equity, held) = self.snapshot(|s| {
            let value = |key: &str| s.values.get(&(account.clone(), key.to_owned())).copied();
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
                s.positions
                    .get(&(account.clone(), instrument_id))
                    .copied()
                    .unwrap_or_default(),
                value(REALIZED_PNL).unwrap_or_default() + value(UNREALIZED_PNL).unwrap_or_default(),
                value(EQUITY_WITH_LOAN),
                held,
            )
        });
        let ours = match (equity, intent.reference_price().or(last_price)) {
            (Some(_), Some(price)) => self.local_margin(pool, intent, price, held).await?,
            _ => None,
        };
        let tws = match session {
            Some(session) => session
                .what_if(intent.clone())
                .await
                .ok()
                .and_then(|w| w.initial_margin_after),
            None => None,
        };
        let margin = match (ours, equity) {
            (Some(initial_after), Some(equity_with_loan)) => Some(MarginImpact {
                initial_after,
                equity_with_loan,
                tws_initial_after: tws,
            }),
            _ => None,
        };
        Ok(RiskContext {
            last_price,
            position,
            daily_pnl,
            origin_may_trade,
            margin,
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
