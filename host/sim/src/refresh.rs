//! Unsolicited account refreshes: like TWS, subscribed account updates (values, portfolio at
//! current prices, update time) and account summaries are re-sent periodically, every
//! `SimConfig::account_refresh` (3 minutes by default). Fills push changes immediately as well.

use crate::accounts::{Accounts, f};
use crate::msg::Response;
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

impl Core {
    /// P&L of every subscription (of one connection, or all): account P&L (daily against the
    /// previous close, unrealized against cost, realized) or one position's P&L and value.
    pub fn publish_pnl(&self, only: Option<u64>) {
        let now = self.now();
        for (conn_id, conn) in &self.conns {
            if only.is_some_and(|o| o != *conn_id) {
                continue;
            }
            for (req_id, (account, con_id)) in &conn.pnl {
                let Some(acct) = self.accounts.resolve(account) else {
                    let msg = format!(
                        "Error validating request.-'bN' : cause - Invalid account code {account}"
                    );
                    self.send(*conn_id, self.error(*req_id, 321, msg));
                    continue;
                };
                let v = self.accounts.value(acct, &self.universe, &self.market, now);
                let daily_of = |m: &crate::accounts::Marked| {
                    let close = self
                        .market
                        .quote(&self.universe, &m.inst, now)
                        .map(|q| q.close)
                        .unwrap_or(0.0);
                    (f(m.price) - close) * f(m.holding.qty) * m.inst.point_value()
                };
                let r = if *con_id == 0 {
                    let daily: f64 = v.marked.iter().map(daily_of).sum::<f64>() + f(v.realized);
                    Response::Pnl {
                        req_id: *req_id,
                        daily,
                        unrealized: f(v.unrealized),
                        realized: f(v.realized),
                    }
                } else {
                    match v.marked.iter().find(|m| m.inst.con_id == *con_id) {
                        Some(m) => Response::PnlSingle {
                            req_id: *req_id,
                            position: m.holding.qty,
                            daily: daily_of(m),
                            unrealized: f(m.unrealized),
                            realized: 0.0,
                            value: f(m.value),
                        },
                        None => Response::PnlSingle {
                            req_id: *req_id,
                            position: rust_decimal::Decimal::ZERO,
                            daily: 0.0,
                            unrealized: 0.0,
                            realized: 0.0,
                            value: 0.0,
                        },
                    }
                };
                self.send(*conn_id, r);
            }
        }
    }
}
