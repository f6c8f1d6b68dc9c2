//! Latest-value-per-key delivery for consumers that only want "what is it now" (the UI).
//!
//! A publisher overwrites each subscriber's pending value for the key; a subscriber drains
//! whatever changed since its last look. Memory per subscriber is bounded by the number of keys,
//! however fast values arrive and however slowly the subscriber reads.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::Notify;

struct Slot<K, V> {
    pending: Mutex<HashMap<K, V>>,
    notify: Notify,
}

type Subscribers<K, V> = Arc<Mutex<Vec<Weak<Slot<K, V>>>>>;

/// The publishing side; cheap to clone.
pub struct Coalescing<K, V> {
    subscribers: Subscribers<K, V>,
}

impl<K, V> Clone for Coalescing<K, V> {
    fn clone(&self) -> Self {
        Self {
            subscribers: self.subscribers.clone(),
        }
    }
}

impl<K: Eq + Hash + Clone, V: Clone> Default for Coalescing<K, V> {
    fn default() -> Self {
        Self {
            subscribers: Arc::default(),
        }
    }
}

impl<K: Eq + Hash + Clone, V: Clone> Coalescing<K, V> {
    /// Records the newest value for `key` in every live subscriber.
    pub fn publish(&self, key: K, value: V) {
        let mut subscribers = self.subscribers.lock().unwrap_or_else(|p| p.into_inner());
        subscribers.retain(|weak| {
            let Some(slot) = weak.upgrade() else {
                return false;
            };
            slot.pending
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(key.clone(), value.clone());
            slot.notify.notify_one();
            true
        });
    }

    pub fn subscribe(&self) -> CoalescedReceiver<K, V> {
        let slot = Arc::new(Slot {
            pending: Mutex::new(HashMap::new()),
            notify: Notify::new(),
        });
        self.subscribers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Arc::downgrade(&slot));
        CoalescedReceiver { slot }
    }

    pub fn subscriber_count(&self) -> usize {
        let subscribers = self.subscribers.lock().unwrap_or_else(|p| p.into_inner());
        subscribers.iter().filter(|w| w.strong_count() > 0).count()
    }
}

/// One consumer's view; dropping it unsubscribes.
pub struct CoalescedReceiver<K, V> {
    slot: Arc<Slot<K, V>>,
}

impl<K: Eq + Hash, V> CoalescedReceiver<K, V> {
    /// Everything that changed since the last call, latest value per key (may be empty).
    pub fn take_changed(&self) -> HashMap<K, V> {
        std::mem::take(&mut *self.slot.pending.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Waits until something changed, then returns it.
    pub async fn changed(&self) -> HashMap<K, V> {
        loop {
            let batch = self.take_changed();
            if !batch.is_empty() {
                return batch;
            }
            self.slot.notify.notified().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_reader_sees_latest_value_per_key_with_bounded_memory() {
        let topic: Coalescing<u32, u64> = Coalescing::default();
        let reader = topic.subscribe();
        for i in 0..100_000u64 {
            topic.publish((i % 3) as u32, i);
        }
        let batch = reader.take_changed();
        assert_eq!(batch.len(), 3);
        assert_eq!(batch[&0], 99_999);
        assert_eq!(batch[&1], 99_997);
        assert!(reader.take_changed().is_empty());
    }

    #[tokio::test]
    async fn readers_are_independent_and_dropped_ones_are_forgotten() {
        let topic: Coalescing<&str, i32> = Coalescing::default();
        let a = topic.subscribe();
        let b = topic.subscribe();
        topic.publish("AAPL", 1);
        assert_eq!(a.changed().await[&"AAPL"], 1);
        topic.publish("AAPL", 2);
        assert_eq!(
            b.take_changed()[&"AAPL"],
            2,
            "b missed nothing but the overwritten value"
        );
        drop(b);
        topic.publish("MSFT", 3);
        assert_eq!(topic.subscriber_count(), 1);
        let waiter = tokio::spawn(async move { a.changed().await });
        topic.publish("MSFT", 4);
        let got = tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got[&"MSFT"], 4);
    }
}
