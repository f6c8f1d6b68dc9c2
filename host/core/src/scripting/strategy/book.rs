//! The strategy's own book: its positions (from its fills only) and its working orders. The
//! backtest and the live host feed it the same way, so `ctx.position(…)` answers the same in
//! both for the same fills.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::types::{IntentStatus, ScriptFill, ScriptOpenOrder, ScriptOrderUpdate, ScriptPosition};
use crate::domain::OrderSide;

#[derive(Debug, Clone, Default)]
pub struct Book {
    positions: BTreeMap<String, ScriptPosition>,
    open: BTreeMap<i64, ScriptOpenOrder>,
    multipliers: BTreeMap<String, Decimal>,
}

impl Book {
    /// The contract multiplier of a symbol (1 unless set: 100 for equity options).
    pub fn set_multiplier(&mut self, symbol: &str, multiplier: Decimal) {
        self.multipliers.insert(symbol.to_owned(), multiplier);
    }

    pub fn multiplier(&self, symbol: &str) -> Decimal {
        self.multipliers
            .get(symbol)
            .copied()
            .unwrap_or(Decimal::ONE)
    }

    pub fn position(&self, symbol: &str) -> ScriptPosition {
        self.positions
            .get(symbol)
            .cloned()
            .unwrap_or_else(|| ScriptPosition {
                symbol: symbol.to_owned(),
                multiplier: self.multiplier(symbol),
                ..ScriptPosition::default()
            })
    }

    pub fn positions(&self) -> impl Iterator<Item = &ScriptPosition> {
        self.positions.values()
    }

    pub fn open_orders(&self) -> impl Iterator<Item = &ScriptOpenOrder> {
        self.open.values()
    }

    pub fn open_order(&self, intent_id: i64) -> Option<&ScriptOpenOrder> {
        self.open.get(&intent_id)
    }

    /// The last price of a symbol, for the unrealised P&L.
    pub fn mark(&mut self, symbol: &str, price: Decimal) {
        if let Some(position) = self.positions.get_mut(symbol) {
            position.mark = Some(price);
        }
    }

    pub fn add_open(&mut self, order: ScriptOpenOrder) {
        self.open.insert(order.intent_id, order);
    }

    /// Applies a status change; a final status removes the order.
    pub fn apply_update(&mut self, update: &ScriptOrderUpdate) {
        if update.status.is_final() {
            self.open.remove(&update.intent_id);
        } else if let Some(order) = self.open.get_mut(&update.intent_id) {
            order.filled = update.filled;
        }
    }

    /// Applies an execution: the average price of what stays open, and the profit of what a
    /// fill closes (before commissions).
    pub fn apply_fill(&mut self, fill: &ScriptFill) {
        let multiplier = self.multiplier(&fill.symbol);
        let position = self
            .positions
            .entry(fill.symbol.clone())
            .or_insert_with(|| ScriptPosition {
                symbol: fill.symbol.clone(),
                multiplier,
                ..ScriptPosition::default()
            });
        let signed = match fill.side {
            OrderSide::Buy => fill.quantity,
            OrderSide::Sell => -fill.quantity,
        };
        let held = position.quantity;
        if held.is_zero() || held.is_sign_positive() == signed.is_sign_positive() {
            let total = held.abs() + signed.abs();
            position.average_price =
                (position.average_price * held.abs() + fill.price * signed.abs()) / total;
        } else {
            let closed = held.abs().min(signed.abs());
            let direction = if held.is_sign_positive() {
                Decimal::ONE
            } else {
                -Decimal::ONE
            };
            position.realized +=
                (fill.price - position.average_price) * closed * direction * multiplier;
            if signed.abs() > held.abs() {
                position.average_price = fill.price;
            }
        }
        position.quantity = held + signed;
        if position.quantity.is_zero() {
            position.average_price = Decimal::ZERO;
        }
        position.mark = Some(fill.price);
        if let Some(order) = self.open.get_mut(&fill.intent_id) {
            order.filled += fill.quantity;
            if order.filled >= order.quantity {
                self.open.remove(&fill.intent_id);
            }
        }
    }

    /// The status an order has after `fill` (for the order update that goes with it).
    pub fn status_after_fill(&self, fill: &ScriptFill) -> IntentStatus {
        if self.open.contains_key(&fill.intent_id) {
            IntentStatus::PartiallyFilled
        } else {
            IntentStatus::Filled
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use rust_decimal_macros::dec;

    use super::*;

    fn fill(side: OrderSide, quantity: Decimal, price: Decimal) -> ScriptFill {
        ScriptFill {
            intent_id: 1,
            symbol: "SPY".into(),
            side,
            quantity,
            price,
            commission: Decimal::ZERO,
            time: Utc::now(),
        }
    }

    #[test]
    fn average_price_and_realized_profit_follow_the_fills() {
        let mut book = Book::default();
        book.apply_fill(&fill(OrderSide::Buy, dec!(100), dec!(10)));
        book.apply_fill(&fill(OrderSide::Buy, dec!(100), dec!(12)));
        let p = book.position("SPY");
        assert_eq!((p.quantity, p.average_price), (dec!(200), dec!(11)));
        book.apply_fill(&fill(OrderSide::Sell, dec!(50), dec!(13)));
        let p = book.position("SPY");
        assert_eq!(
            (p.quantity, p.average_price, p.realized),
            (dec!(150), dec!(11), dec!(100))
        );
        // Through zero: the rest opens a short at the fill price.
        book.apply_fill(&fill(OrderSide::Sell, dec!(200), dec!(9)));
        let p = book.position("SPY");
        assert_eq!(
            (p.quantity, p.average_price, p.realized),
            (dec!(-50), dec!(9), dec!(-200))
        );
        book.mark("SPY", dec!(8));
        assert_eq!(book.position("SPY").unrealized(), dec!(50));
        book.apply_fill(&fill(OrderSide::Buy, dec!(50), dec!(8.5)));
        let p = book.position("SPY");
        assert_eq!(
            (p.quantity, p.average_price, p.realized),
            (dec!(0), dec!(0), dec!(-175))
        );
    }

    #[test]
    fn options_count_their_multiplier() {
        let mut book = Book::default();
        book.set_multiplier("SPY 20261218 C 600", dec!(100));
        let mut sold = fill(OrderSide::Sell, dec!(1), dec!(2.50));
        sold.symbol = "SPY 20261218 C 600".into();
        book.apply_fill(&sold);
        let mut bought = fill(OrderSide::Buy, dec!(1), dec!(1.00));
        bought.symbol = sold.symbol.clone();
        book.apply_fill(&bought);
        assert_eq!(book.position(&sold.symbol).realized, dec!(150));
    }
}
