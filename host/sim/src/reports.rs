//! What the order engine tells clients: openOrder / orderStatus views, open and completed
//! orders, executions with their commission reports, and position and account updates after
//! fills.

use rust_decimal::Decimal;

use crate::accounts::{Accounts, f};
use crate::matching::{ExecRecord, SimOrder};
use crate::msg::{OrderView, Response, StatusView};
use crate::state::Core;

impl Core {
    pub(crate) fn order_view(&self, o: &SimOrder) -> OrderView {
        let contract = self
            .universe
            .get(o.con_id)
            .map(|i| i.view())
            .unwrap_or_default();
        OrderView {
            order_id: o.order_id,
            client_id: o.client_id,
            perm_id: o.perm_id,
            parent_id: o.spec.parent_id,
            contract,
            spec: o.spec.clone(),
            filled: o.filled,
            status: o.status.into(),
            margins: None,
            commission: (!o.commission.is_zero()).then(|| f(o.commission)),
            currency: "USD".into(),
            warning: String::new(),
            completed_time: o.completed_time.clone(),
            completed_status: match o.status {
                "Filled" => format!("Filled Size: {}", o.filled.normalize()),
                "Cancelled" => "Cancelled by Trader".into(),
                _ => String::new(),
            },
        }
    }

    pub(crate) fn status_view(o: &SimOrder) -> StatusView {
        StatusView {
            order_id: o.order_id,
            status: o.status.into(),
            filled: o.filled,
            remaining: if o.status == "Cancelled" {
                Decimal::ZERO
            } else {
                o.remaining()
            },
            avg_fill_price: f(o.avg_fill),
            perm_id: o.perm_id,
            parent_id: o.spec.parent_id,
            last_fill_price: f(o.last_fill),
            client_id: o.client_id,
            why_held: String::new(),
        }
    }

    pub(crate) fn announce(&self, idx: usize) {
        let o = &self.orders.orders[idx];
        self.send_client(
            o.client_id,
            Response::OpenOrder(Box::new(self.order_view(o))),
        );
        self.send_client(
            o.client_id,
            Response::OrderStatus(Box::new(Self::status_view(o))),
        );
    }

    /// OpenOrder + OrderStatus for every working order (of `client_id`, or all).
    pub fn open_orders(&self, conn_id: u64, client_id: Option<i32>) {
        self.working_orders(conn_id, client_id);
        self.send(conn_id, Response::OpenOrderEnd);
    }

    /// OpenOrder + OrderStatus per working order (of `client_id`, or all), without an end
    /// marker: also what a reconnecting client with working orders gets at startup.
    pub fn working_orders(&self, conn_id: u64, client_id: Option<i32>) {
        for o in self.orders.orders.iter().filter(|o| o.is_working()) {
            if client_id.is_none_or(|c| c == o.client_id) {
                self.send(conn_id, Response::OpenOrder(Box::new(self.order_view(o))));
                self.send(
                    conn_id,
                    Response::OrderStatus(Box::new(Self::status_view(o))),
                );
            }
        }
    }

    pub fn completed_orders(&self, conn_id: u64) {
        for o in self.orders.orders.iter().filter(|o| !o.is_working()) {
            self.send(
                conn_id,
                Response::CompletedOrder(Box::new(self.order_view(o))),
            );
        }
        self.send(conn_id, Response::CompletedOrdersEnd);
    }

    pub fn executions(&self, conn_id: u64, req_id: i32, filter: &crate::msg::ExecFilter) {
        for e in &self.orders.execs {
            let sym_ok = filter.symbol.is_empty()
                || self
                    .universe
                    .get(e.con_id)
                    .is_some_and(|i| i.symbol.eq_ignore_ascii_case(&filter.symbol));
            let sec_ok = filter.sec_type.is_empty()
                || self
                    .universe
                    .get(e.con_id)
                    .is_some_and(|i| i.sec_type.code() == filter.sec_type);
            let ok = (filter.client_id == 0 || filter.client_id == e.exec.client_id)
                && (filter.account.is_empty() || filter.account == e.exec.account)
                && (filter.side.is_empty()
                    || filter.side == e.exec.side
                    || (filter.side == "BUY") == (e.exec.side == "BOT"))
                && sym_ok
                && sec_ok;
            if ok && let Some(inst) = self.universe.get(e.con_id) {
                self.send(
                    conn_id,
                    Response::ExecDetails {
                        req_id,
                        contract: Box::new(inst.view()),
                        exec: Box::new(e.exec.clone()),
                    },
                );
                self.send(conn_id, self.commission_report(e));
            }
        }
        self.send(conn_id, Response::ExecDetailsEnd(req_id));
    }

    pub(crate) fn commission_report(&self, e: &ExecRecord) -> Response {
        Response::CommissionReport {
            exec_id: e.exec.exec_id.clone(),
            commission: e.commission,
            currency: "USD".into(),
            realized_pnl: e.realized,
        }
    }

    /// Pushes the changed position and account values to subscribed connections.
    pub fn notify_account(&self, account: &str, con_id: i32) {
        let Some(acct) = self.accounts.get(account) else {
            return;
        };
        let Some(inst) = self.universe.get(con_id) else {
            return;
        };
        let holding = acct.holdings.get(&con_id).cloned().unwrap_or_default();
        let position = Accounts::position(account, inst, &holding);
        let mut updates = None;
        for (conn_id, c) in &self.conns {
            if c.positions {
                self.send(*conn_id, position.clone());
            }
            if c.account_updates.as_deref() == Some(account) {
                let msgs = updates.get_or_insert_with(|| {
                    let v = self
                        .accounts
                        .value(acct, &self.universe, &self.market, self.now());
                    Accounts::update_messages(&v, self.now())
                });
                for m in msgs.iter() {
                    self.send(*conn_id, m.clone());
                }
            }
        }
    }
}
