//! Unsolicited account refreshes: like TWS, subscribed account updates (values, portfolio at
//! current prices, update time) and account summaries are re-sent periodically, every
//! `SimConfig::account_refresh` (3 minutes by default). Fills push changes immediately as well.

use crate::accounts::Accounts;
use crate::session::account_summary;
use crate::state::Core;

impl Core {
    /// Re-sends every account-update and account-summary subscription.
    pub fn refresh_accounts(&mut self) {
        let now = self.now();
        let updates: Vec<(u64, String)> = self
            .conns
            .iter()
            .filter_map(|(id, c)| c.account_updates.clone().map(|a| (*id, a)))
            .collect();
        for (conn_id, account) in updates {
            if let Some(a) = self.accounts.get(&account) {
                let v = self.accounts.value(a, &self.universe, &self.market, now);
                for m in Accounts::update_messages(&v, now) {
                    self.send(conn_id, m);
                }
            }
        }
        let summaries: Vec<(u64, i32, String)> = self
            .conns
            .iter()
            .flat_map(|(id, c)| {
                c.summaries
                    .iter()
                    .map(move |(req, tags)| (*id, *req, tags.clone()))
            })
            .collect();
        for (conn_id, req_id, tags) in summaries {
            account_summary(self, conn_id, req_id, &tags);
        }
    }
}
