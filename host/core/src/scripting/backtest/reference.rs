//! `scripts/sma_cross.rhai` written in Rust against the same [`BacktestStrategy`] interface:
//! the baseline the script engine is benchmarked against, and a check that the script and the
//! Rust strategy trade the same under the same fill model.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::run::BacktestStrategy;
use crate::domain::{OrderSide, OrderType, TimeInForce};
use crate::scripting::strategy::{
    Fault, Intent, OrderRequest, Output, ScriptBar, ScriptFill, ScriptOrderUpdate,
};
use crate::scripting::ta::{Cross, Sma};

/// Long `quantity` while the fast average is above the slow one, flat otherwise (short instead
/// of flat with `allow_short`): market orders decided on a bar's close, like the script.
#[derive(Debug, Clone)]
pub struct SmaCross {
    fast: Sma,
    slow: Sma,
    cross: Cross,
    quantity: Decimal,
    allow_short: bool,
    /// The strategy's own position, from its fills (what `ctx.position(…).qty` answers).
    held: Decimal,
    next_intent: i64,
}

impl SmaCross {
    pub fn new(fast: usize, slow: usize, quantity: Decimal, allow_short: bool) -> Self {
        Self {
            fast: Sma::new(fast),
            slow: Sma::new(slow),
            cross: Cross::default(),
            quantity,
            allow_short,
            held: Decimal::ZERO,
            next_intent: 1,
        }
    }

    fn market(&mut self, symbol: &str, side: OrderSide, quantity: Decimal) -> Intent {
        let intent_id = self.next_intent;
        self.next_intent += 1;
        Intent::Place(OrderRequest {
            intent_id,
            symbol: symbol.to_owned(),
            side,
            quantity,
            order_type: OrderType::Market,
            limit: None,
            stop: None,
            time_in_force: TimeInForce::Day,
            tag: String::new(),
        })
    }
}

impl BacktestStrategy for SmaCross {
    fn on_bar(&mut self, bar: ScriptBar) -> Result<Output, Fault> {
        let mut output = Output::default();
        let fast = self.fast.update(bar.close);
        let slow = self.slow.update(bar.close);
        let (Some(fast), Some(slow)) = (fast, slow) else {
            return Ok(output);
        };
        let crossed = self.cross.update(fast, slow);
        if crossed > 0 && self.held < self.quantity {
            let quantity = self.quantity - self.held;
            output
                .intents
                .push(self.market(&bar.symbol, OrderSide::Buy, quantity));
        } else if crossed < 0 {
            let target = if self.allow_short {
                -self.quantity
            } else {
                Decimal::ZERO
            };
            if self.held > target {
                let quantity = self.held - target;
                output
                    .intents
                    .push(self.market(&bar.symbol, OrderSide::Sell, quantity));
            }
        }
        Ok(output)
    }

    fn on_fill(&mut self, fill: ScriptFill) -> Result<Output, Fault> {
        match fill.side {
            OrderSide::Buy => self.held += fill.quantity,
            OrderSide::Sell => self.held -= fill.quantity,
        }
        Ok(Output::default())
    }

    fn on_order(&mut self, _update: ScriptOrderUpdate) -> Result<Output, Fault> {
        Ok(Output::default())
    }

    fn on_timer(&mut self, _name: &str, _now: DateTime<Utc>) -> Result<Output, Fault> {
        Ok(Output::default())
    }

    fn stop(&mut self) -> Result<Output, Fault> {
        Ok(Output::default())
    }
}
