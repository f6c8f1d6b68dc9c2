//! [`OrderRequest`]: an order intent in `Decimal`, built fluently and turned into the ABI's
//! [`TwOrderIntent`] only at the call.

use rust_decimal::Decimal;

use super::convert::{decimal_to_tw, str_to_tw};
use super::event::Side;
use crate::abi::{
    TW_ORDER_LIMIT, TW_ORDER_MARKET, TW_ORDER_STOP, TW_ORDER_STOP_LIMIT, TW_TIF_DAY, TW_TIF_GTC,
    TW_TIF_IOC, TwDecimal, TwOrderIntent,
};

/// How long an intent works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeInForce {
    #[default]
    Day,
    Gtc,
    Ioc,
}

impl TimeInForce {
    /// The `TW_TIF_*` value.
    pub const fn to_raw(self) -> u32 {
        match self {
            TimeInForce::Day => TW_TIF_DAY,
            TimeInForce::Gtc => TW_TIF_GTC,
            TimeInForce::Ioc => TW_TIF_IOC,
        }
    }
}

/// An order a plugin asks the host for: a market order unless a limit or stop price is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRequest {
    pub side: Side,
    pub instrument_id: u32,
    /// Positive quantity (the host refuses zero or negative).
    pub quantity: Decimal,
    pub limit_price: Option<Decimal>,
    pub stop_price: Option<Decimal>,
    pub time_in_force: TimeInForce,
    /// Kept in the audit trail beside the intent.
    pub tag: String,
}

impl OrderRequest {
    /// A day market order to buy `quantity` of `instrument_id`.
    pub fn buy(instrument_id: u32, quantity: Decimal) -> Self {
        Self::new(Side::Buy, instrument_id, quantity)
    }

    /// A day market order to sell `quantity` of `instrument_id`.
    pub fn sell(instrument_id: u32, quantity: Decimal) -> Self {
        Self::new(Side::Sell, instrument_id, quantity)
    }

    /// A day market order on `side`.
    pub fn new(side: Side, instrument_id: u32, quantity: Decimal) -> Self {
        Self {
            side,
            instrument_id,
            quantity,
            limit_price: None,
            stop_price: None,
            time_in_force: TimeInForce::Day,
            tag: String::new(),
        }
    }

    /// Makes it a limit (or, with a stop, a stop-limit) order.
    pub fn limit(mut self, price: Decimal) -> Self {
        self.limit_price = Some(price);
        self
    }

    /// Makes it a stop (or, with a limit, a stop-limit) order.
    pub fn stop(mut self, price: Decimal) -> Self {
        self.stop_price = Some(price);
        self
    }

    pub fn time_in_force(mut self, tif: TimeInForce) -> Self {
        self.time_in_force = tif;
        self
    }

    /// The plugin's label for the audit trail.
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tag = tag.into();
        self
    }

    /// The `TW_ORDER_*` type the prices imply.
    pub fn order_type(&self) -> u32 {
        match (self.limit_price, self.stop_price) {
            (None, None) => TW_ORDER_MARKET,
            (Some(_), None) => TW_ORDER_LIMIT,
            (None, Some(_)) => TW_ORDER_STOP,
            (Some(_), Some(_)) => TW_ORDER_STOP_LIMIT,
        }
    }

    /// The ABI form; its `tag` borrows from `self`, so it must not outlive it.
    pub fn to_intent(&self) -> TwOrderIntent {
        TwOrderIntent {
            struct_size: core::mem::size_of::<TwOrderIntent>() as u32,
            side: self.side.to_raw(),
            order_type: self.order_type(),
            time_in_force: self.time_in_force.to_raw(),
            instrument_id: self.instrument_id,
            _pad: 0,
            quantity: decimal_to_tw(self.quantity),
            limit_price: self.limit_price.map_or(TwDecimal::default(), decimal_to_tw),
            stop_price: self.stop_price.map_or(TwDecimal::default(), decimal_to_tw),
            tag: str_to_tw(&self.tag),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sdk::convert::decimal_from_tw;
    use rust_decimal_macros::dec;

    #[test]
    fn the_builder_picks_the_order_type_and_keeps_decimals() {
        let market = OrderRequest::buy(3, dec!(10));
        assert_eq!(market.order_type(), TW_ORDER_MARKET);
        let stop_limit = OrderRequest::sell(3, dec!(2.5))
            .limit(dec!(99.95))
            .stop(dec!(100.05))
            .time_in_force(TimeInForce::Gtc)
            .tag("exit");
        let intent = stop_limit.to_intent();
        assert_eq!(intent.order_type, TW_ORDER_STOP_LIMIT);
        assert_eq!(intent.time_in_force, TW_TIF_GTC);
        assert_eq!(decimal_from_tw(intent.quantity), dec!(2.5));
        assert_eq!(decimal_from_tw(intent.limit_price), dec!(99.95));
        assert_eq!(intent.struct_size, 88);
        assert_eq!(intent.tag.len, 4);
    }
}
