//! The market data and event hub: typed topics between the session and its consumers.
//!
//! Two delivery policies, chosen per consumer kind, and never unbounded memory:
//! - **coalesced** ([`Coalescing`]) for the UI: the latest quote per instrument; a slow window
//!   skips intermediate values, which it would never have drawn anyway;
//! - **bounded queues** ([`EventReceiver`]) for strategies and other consumers that need every
//!   event in order: a queue of [`QUEUE_CAPACITY`] events; a consumer that falls further behind
//!   gets [`Overflow`] with the number of events it missed, and must stop or resynchronise
//!   (the strategy host stops the strategy). Nothing is dropped silently.
//!
//! The recorder is fed by the session directly (it has its own spill-to-disk policy), so a slow
//! strategy can never cost a recorded tick.

mod coalesce;

use tokio::sync::{broadcast, watch};

pub use coalesce::{CoalescedReceiver, Coalescing};

use crate::domain::{Bar, ConnectionState, Execution, Quote, Tick};

/// Events a queue holds before a consumer counts as overflowed.
pub const QUEUE_CAPACITY: usize = 4096;

/// An order's state as TWS last reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderUpdate {
    pub order_ref: Option<String>,
    pub tws_order_id: i32,
    pub status: String,
    pub filled: rust_decimal::Decimal,
    pub remaining: rust_decimal::Decimal,
    pub average_fill_price: Option<rust_decimal::Decimal>,
}

/// A position as TWS last reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PositionUpdate {
    pub account: String,
    pub instrument_id: i64,
    pub quantity: rust_decimal::Decimal,
    pub average_cost: rust_decimal::Decimal,
}

/// One account value (`NetLiquidation`, `EquityWithLoanValue`, …) as TWS reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountValue {
    pub account: String,
    pub key: String,
    pub value: String,
    pub currency: String,
}

/// A consumer fell more than [`QUEUE_CAPACITY`] events behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("fell behind and missed {missed} events")]
pub struct Overflow {
    pub missed: u64,
}

/// An in-order, bounded stream of one topic.
pub struct EventReceiver<T> {
    inner: broadcast::Receiver<T>,
}

impl<T: Clone> EventReceiver<T> {
    /// The next event; `None` when the hub is gone; `Err(Overflow)` if events were missed.
    pub async fn recv(&mut self) -> Option<Result<T, Overflow>> {
        match self.inner.recv().await {
            Ok(event) => Some(Ok(event)),
            Err(broadcast::error::RecvError::Lagged(missed)) => Some(Err(Overflow { missed })),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }
}

/// The topics. Cheap to share behind an `Arc`.
pub struct Hub {
    quotes: Coalescing<i64, Quote>,
    ticks: broadcast::Sender<Tick>,
    bars: broadcast::Sender<Bar>,
    orders: broadcast::Sender<OrderUpdate>,
    fills: broadcast::Sender<Execution>,
    positions: broadcast::Sender<PositionUpdate>,
    account: broadcast::Sender<AccountValue>,
    connection: watch::Sender<ConnectionState>,
}

impl Default for Hub {
    fn default() -> Self {
        Self::new()
    }
}

macro_rules! topic {
    ($publish:ident, $subscribe:ident, $field:ident, $ty:ty) => {
        pub fn $publish(&self, event: $ty) {
            // No receiver is not an error: nobody is interested right now.
            let _ = self.$field.send(event);
        }

        pub fn $subscribe(&self) -> EventReceiver<$ty> {
            EventReceiver {
                inner: self.$field.subscribe(),
            }
        }
    };
}

impl Hub {
    pub fn new() -> Self {
        Self {
            quotes: Coalescing::default(),
            ticks: broadcast::channel(QUEUE_CAPACITY).0,
            bars: broadcast::channel(QUEUE_CAPACITY).0,
            orders: broadcast::channel(QUEUE_CAPACITY).0,
            fills: broadcast::channel(QUEUE_CAPACITY).0,
            positions: broadcast::channel(QUEUE_CAPACITY).0,
            account: broadcast::channel(QUEUE_CAPACITY).0,
            connection: watch::channel(ConnectionState::Disconnected).0,
        }
    }

    pub fn publish_quote(&self, quote: Quote) {
        self.quotes.publish(quote.instrument_id, quote);
    }

    /// Latest quote per instrument, for the UI (see the module docs).
    pub fn subscribe_quotes(&self) -> CoalescedReceiver<i64, Quote> {
        self.quotes.subscribe()
    }

    topic!(publish_tick, subscribe_ticks, ticks, Tick);
    topic!(publish_bar, subscribe_bars, bars, Bar);
    topic!(publish_order, subscribe_orders, orders, OrderUpdate);
    topic!(publish_fill, subscribe_fills, fills, Execution);
    topic!(
        publish_position,
        subscribe_positions,
        positions,
        PositionUpdate
    );
    topic!(publish_account, subscribe_account, account, AccountValue);

    pub fn set_connection(&self, state: ConnectionState) {
        self.connection.send_replace(state);
    }

    /// The connection state now and every change after.
    pub fn watch_connection(&self) -> watch::Receiver<ConnectionState> {
        self.connection.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use rust_decimal_macros::dec;

    use super::*;
    use crate::domain::TickKind;

    fn tick(i: i64) -> Tick {
        Tick {
            instrument_id: 1,
            ts: Utc::now(),
            kind: TickKind::Last,
            price: Some(dec!(100) + rust_decimal::Decimal::new(i, 2)),
            size: None,
        }
    }

    #[tokio::test]
    async fn in_order_delivery_and_explicit_overflow() {
        let hub = Hub::new();
        let mut strategy = hub.subscribe_ticks();
        let sent: Vec<Tick> = (0..10).map(tick).collect();
        for t in &sent {
            hub.publish_tick(t.clone());
        }
        for t in &sent {
            assert_eq!(&strategy.recv().await.unwrap().unwrap(), t);
        }
        for i in 0..(QUEUE_CAPACITY as i64 + 5) {
            hub.publish_tick(tick(i));
        }
        assert_eq!(strategy.recv().await.unwrap(), Err(Overflow { missed: 5 }));
    }

    #[tokio::test]
    async fn connection_state_is_watched() {
        let hub = Hub::new();
        let mut watcher = hub.watch_connection();
        assert_eq!(*watcher.borrow(), ConnectionState::Disconnected);
        hub.set_connection(ConnectionState::Connecting);
        watcher.changed().await.unwrap();
        assert_eq!(*watcher.borrow_and_update(), ConnectionState::Connecting);
    }
}
