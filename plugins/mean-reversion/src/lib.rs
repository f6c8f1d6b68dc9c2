//! Example strategy plugin: mean reversion on one symbol.
//!
//! On every completed bar it computes the z-score of the close against the mean and standard
//! deviation of the `window` closes before it. Below `-entry_z` it wants to be long `qty`,
//! above `+entry_z` short `qty`; once the close crosses back through the mean it goes flat. It
//! trades only through the host's orders service, so every order passes the same risk gate as
//! any other, and it waits for each order to finish before sending the next.
//!
//! Parameters (a JSON object; decimals as strings so they stay exact):
//! `{"symbol":"SPY","window":20,"entry_z":"2.0","qty":"10"}`.
//!
//! The closes are kept in the plugin's kv namespace, so a restarted instance needs no new
//! warm-up (without the `storage` grant it simply warms up again).

mod params;
mod zscore;

use std::collections::VecDeque;

use rust_decimal::Decimal;
use tickwork_plugin_api::sdk::{
    Event, MarketData, OrderRequest, ServiceError, Side, Strategy, StrategyCtx,
};

pub use params::Params;
pub use zscore::z_score;

tickwork_plugin_api::export_plugin! {
    id: "org.tickwork.example.mean-reversion",
    version: env!("CARGO_PKG_VERSION"),
    strategies: [MeanReversion],
    margin_rules: [],
    panels: [],
}

/// Bar length the strategy trades on, in seconds.
const BAR_SECS: u32 = 60;

/// One running instance.
pub struct MeanReversion {
    params: Params,
    instrument: u32,
    /// The last `window` closes, oldest first.
    closes: VecDeque<Decimal>,
    /// Signed position from this instance's fills.
    position: Decimal,
    /// The intent still working, if any: no new order until it is final.
    pending: Option<u64>,
}

impl MeanReversion {
    fn kv_key(&self) -> String {
        format!("closes/{}", self.params.symbol)
    }

    /// Restores the closes a previous instance saved (best effort: a bad value is logged).
    fn restore(&mut self, ctx: &mut StrategyCtx) {
        match ctx.kv_get(&self.kv_key()) {
            Ok(Some(text)) => {
                let parsed: Result<Vec<Decimal>, _> = text.split(',').map(str::parse).collect();
                match parsed {
                    Ok(closes) => {
                        let skip = closes.len().saturating_sub(self.params.window);
                        self.closes.extend(closes.into_iter().skip(skip));
                        ctx.info(&format!("restored {} closes", self.closes.len()));
                    }
                    Err(e) => ctx.warn(&format!("saved closes unreadable ({e}); warming up")),
                }
            }
            Ok(None) => {}
            Err(ServiceError::Unavailable(_)) => {
                ctx.info("no storage grant: closes are not kept across restarts");
            }
            Err(e) => ctx.warn(&format!("cannot read saved closes: {e}")),
        }
    }

    fn save(&self, ctx: &mut StrategyCtx) {
        let text: Vec<String> = self.closes.iter().map(Decimal::to_string).collect();
        match ctx.kv_put(&self.kv_key(), &text.join(",")) {
            Ok(()) | Err(ServiceError::Unavailable(_)) => {}
            Err(e) => ctx.warn(&format!("cannot save closes: {e}")),
        }
    }

    /// The position the strategy wants after a bar with z-score `z`.
    pub fn target(&self, z: Decimal) -> Decimal {
        let (entry, qty, pos) = (self.params.entry_z, self.params.qty, self.position);
        if z < -entry {
            qty
        } else if z > entry {
            -qty
        } else if (pos > Decimal::ZERO && z >= Decimal::ZERO)
            || (pos < Decimal::ZERO && z <= Decimal::ZERO)
        {
            Decimal::ZERO
        } else {
            pos
        }
    }

    fn on_close(&mut self, ctx: &mut StrategyCtx, close: Decimal) -> Result<(), String> {
        if self.pending.is_none()
            && let Some(z) = z_score(&self.closes, close)
        {
            let delta = self.target(z) - self.position;
            if !delta.is_zero() {
                let side = if delta > Decimal::ZERO {
                    Side::Buy
                } else {
                    Side::Sell
                };
                let order = OrderRequest::new(side, self.instrument, delta.abs())
                    .tag(format!("z={:.2}", z.round_dp(2)));
                match ctx.submit(&order) {
                    Ok(id) => self.pending = Some(id),
                    // A refusal is the host's decision, not a fault: log it and keep watching.
                    Err(e) => ctx.warn(&format!("order not sent: {e}")),
                }
            }
        }
        self.closes.push_back(close);
        while self.closes.len() > self.params.window {
            self.closes.pop_front();
        }
        self.save(ctx);
        Ok(())
    }
}

impl Strategy for MeanReversion {
    const TYPE_ID: &'static str = "org.tickwork.example.mean-reversion";

    fn create(ctx: &mut StrategyCtx, params_json: &str) -> Result<Self, String> {
        let params = Params::parse(params_json)?;
        let instrument = ctx
            .subscribe(&params.symbol, MarketData::bars(BAR_SECS))
            .map_err(|e| format!("cannot subscribe to {}: {e}", params.symbol))?;
        let mut me = Self {
            closes: VecDeque::with_capacity(params.window + 1),
            params,
            instrument,
            position: Decimal::ZERO,
            pending: None,
        };
        me.restore(ctx);
        Ok(me)
    }

    fn on_event(&mut self, ctx: &mut StrategyCtx, event: &Event<'_>) -> Result<(), String> {
        match event {
            Event::Bar(bar) if bar.instrument_id == self.instrument => {
                self.on_close(ctx, bar.close)
            }
            Event::Order(update) if Some(update.intent_id) == self.pending => {
                if update.status.is_final() {
                    self.pending = None;
                    if !update.reason.is_empty() {
                        ctx.warn(&format!(
                            "intent {} ended {:?}: {}",
                            update.intent_id, update.status, update.reason
                        ));
                    }
                }
                Ok(())
            }
            Event::Fill(fill) if fill.instrument_id == self.instrument => {
                match fill.side {
                    Some(Side::Buy) => self.position += fill.quantity,
                    Some(Side::Sell) => self.position -= fill.quantity,
                    None => return Err(format!("fill {} without a side", fill.intent_id)),
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn on_destroy(&mut self, ctx: &mut StrategyCtx) {
        let _ = ctx.unsubscribe(self.instrument);
    }
}

#[cfg(test)]
mod tests;
