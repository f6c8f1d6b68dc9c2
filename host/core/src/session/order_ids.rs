//! Which TWS order is which of ours.
//!
//! TWS numbers orders per client id: order 7 of client 1 and order 7 of client 2 are different
//! orders. The map is therefore keyed by (client id, order id). Orders of another client id —
//! ours from before a 326 moved the session to the next id, or anyone else's — are followed
//! read-only: their statuses are recorded, but the session never cancels or modifies them,
//! because an order id means something else under its own client id.

use std::collections::HashMap;

/// One TWS order as the session knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Known {
    pub order_ref: String,
    /// The last status TWS reported (`PendingSubmit` until it reports one).
    pub status: String,
}

/// (client id, order id) ↔ our `order_ref`, with each order's last status.
#[derive(Debug, Default)]
pub struct OrderIds {
    by_id: HashMap<(i32, i32), Known>,
}

impl OrderIds {
    pub fn link(&mut self, client_id: i32, order_id: i32, order_ref: &str) {
        let status = self
            .by_id
            .get(&(client_id, order_id))
            .filter(|k| k.order_ref == order_ref)
            .map_or_else(|| "PendingSubmit".to_owned(), |k| k.status.clone());
        // One ref has one id per client: a modification keeps its id, a resend gets a new one.
        self.by_id
            .retain(|(c, _), k| !(*c == client_id && k.order_ref == order_ref));
        self.by_id.insert(
            (client_id, order_id),
            Known {
                order_ref: order_ref.to_owned(),
                status,
            },
        );
    }

    pub fn set_status(&mut self, client_id: i32, order_id: i32, status: &str) {
        if let Some(known) = self.by_id.get_mut(&(client_id, order_id)) {
            status.clone_into(&mut known.status);
        }
    }

    pub fn order_ref(&self, client_id: i32, order_id: i32) -> Option<&str> {
        self.by_id
            .get(&(client_id, order_id))
            .map(|k| k.order_ref.as_str())
    }

    /// The id of one of our orders under `client_id`: the only id the session may act on.
    pub fn order_id(&self, client_id: i32, order_ref: &str) -> Option<i32> {
        self.by_id
            .iter()
            .find(|((c, _), k)| *c == client_id && k.order_ref == order_ref)
            .map(|((_, id), _)| *id)
    }

    /// The client id an order of ours was placed under, if TWS told us.
    pub fn owner(&self, order_ref: &str) -> Option<i32> {
        self.by_id
            .iter()
            .find(|(_, k)| k.order_ref == order_ref)
            .map(|((c, _), _)| *c)
    }

    /// Ids of our orders under `client_id` that may still fill.
    pub fn working(&self, client_id: i32) -> Vec<(i32, String)> {
        let mut working: Vec<(i32, String)> = self
            .by_id
            .iter()
            .filter(|((c, _), k)| {
                *c == client_id
                    && !crate::store::orders::FINAL_STATUSES.contains(&k.status.as_str())
            })
            .map(|((_, id), k)| (*id, k.order_ref.clone()))
            .collect();
        working.sort();
        working
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_order_id_under_two_client_ids_is_two_orders() {
        let mut ids = OrderIds::default();
        ids.link(1, 7, "tw-old");
        ids.link(2, 7, "tw-new");
        assert_eq!(ids.order_ref(1, 7), Some("tw-old"));
        assert_eq!(ids.order_ref(2, 7), Some("tw-new"));
        assert_eq!(
            ids.order_id(2, "tw-old"),
            None,
            "not actionable under client 2"
        );
        assert_eq!(ids.order_id(1, "tw-old"), Some(7));
        assert_eq!(ids.owner("tw-old"), Some(1));
        ids.set_status(2, 7, "Filled");
        assert!(ids.working(2).is_empty());
        assert_eq!(ids.working(1), vec![(7, "tw-old".to_owned())]);
    }

    #[test]
    fn a_resend_replaces_the_old_id_of_the_same_client() {
        let mut ids = OrderIds::default();
        ids.link(1, 7, "tw-a");
        ids.link(1, 9, "tw-a");
        assert_eq!(ids.order_ref(1, 7), None);
        assert_eq!(ids.order_id(1, "tw-a"), Some(9));
    }
}
