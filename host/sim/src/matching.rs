//! The order matching engine: market, limit, stop and stop-limit orders (triggered per
//! [`crate::stops`]) against the simulated top of book, partial fills limited by the displayed size, DAY/GTC/IOC, brackets through
//! parent ids (children wait for the parent's fill and cancel each other), OCA groups, cancels
//! and modifications, executions and commission reports.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::accounts::{dec, f};
use crate::msg::{ContractSpec, ExecView, OrderSpec, Response};
use crate::state::Core;
use crate::stops::{StopWatch, TriggerMethod};
use crate::world::instruments::{Instrument, SecType};
use crate::world::prices::Quote;

/// An order the simulator knows, working or done.
#[derive(Debug, Clone)]
pub struct SimOrder {
    pub order_id: i32,
    pub client_id: i32,
    pub perm_id: i64,
    pub con_id: i32,
    pub spec: OrderSpec,
    pub filled: Decimal,
    pub avg_fill: Decimal,
    pub last_fill: Decimal,
    pub commission: Decimal,
    pub status: &'static str,
    /// A stop order whose trigger has been hit.
    pub triggered: bool,
    /// What a stop order has seen of the market on its way to the trigger.
    pub watch: StopWatch,
    pub completed_time: String,
}

impl SimOrder {
    /// A new order with nothing filled.
    pub(crate) fn new(
        client_id: i32,
        order_id: i32,
        perm_id: i64,
        con_id: i32,
        spec: OrderSpec,
        status: &'static str,
    ) -> Self {
        SimOrder {
            order_id,
            client_id,
            perm_id,
            con_id,
            spec,
            filled: Decimal::ZERO,
            avg_fill: Decimal::ZERO,
            last_fill: Decimal::ZERO,
            commission: Decimal::ZERO,
            status,
            triggered: false,
            watch: StopWatch::default(),
            completed_time: String::new(),
        }
    }

    pub fn is_working(&self) -> bool {
        matches!(self.status, "PreSubmitted" | "Submitted")
    }
    pub(crate) fn remaining(&self) -> Decimal {
        self.spec.total_quantity - self.filled
    }
    fn buy(&self) -> bool {
        self.spec.action == "BUY"
    }
}

/// One execution, kept for reqExecutions.
#[derive(Debug, Clone)]
pub struct ExecRecord {
    pub con_id: i32,
    pub exec: ExecView,
    pub commission: f64,
    pub realized: Option<f64>,
}

/// All orders and executions of the session (survives client reconnects).
#[derive(Debug, Default, Clone)]
pub struct OrderBook {
    pub orders: Vec<SimOrder>,
    pub execs: Vec<ExecRecord>,
    next_perm: i64,
    next_exec: u64,
    /// When this simulator started (Unix seconds), in every execution id.
    epoch: u64,
}

impl OrderBook {
    /// An empty book whose permanent and execution ids do not repeat those of an earlier
    /// simulator: TWS's never do, and a database that keeps the orders and fills of earlier
    /// runs (the demo's) relies on it.
    pub fn starting_now() -> Self {
        let epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Self {
            // 100 ids per second of wall time between starts, below i32::MAX for old clients.
            next_perm: i64::try_from(epoch % 10_000_000).unwrap_or(0) * 100,
            epoch,
            ..Self::default()
        }
    }

    pub fn working_con_ids(&self) -> impl Iterator<Item = i32> + '_ {
        self.orders
            .iter()
            .filter(|o| o.is_working())
            .map(|o| o.con_id)
    }

    pub(crate) fn find(&self, client_id: i32, order_id: i32) -> Option<usize> {
        self.orders
            .iter()
            .position(|o| o.client_id == client_id && o.order_id == order_id)
    }

    /// The next permanent id (unique across clients and sessions).
    pub(crate) fn new_perm_id(&mut self) -> i64 {
        self.next_perm += 1;
        1_000_000_000 + self.next_perm
    }
}

/// Commission schedule (IBKR-like fixed pricing).
pub fn commission(inst: &Instrument, qty: Decimal, price: Decimal) -> Decimal {
    let c = match inst.sec_type {
        SecType::Stock | SecType::Index => {
            let raw = qty * Decimal::new(5, 3);
            let cap = qty * price * Decimal::new(1, 2);
            raw.max(Decimal::ONE).min(cap.max(Decimal::ONE))
        }
        SecType::Option => (qty * Decimal::new(65, 2)).max(Decimal::ONE),
        SecType::Future | SecType::FutureOption => qty * Decimal::new(85, 2),
    };
    c.round_dp(4)
}

fn time_str(t: DateTime<Utc>) -> String {
    t.format("%Y%m%d %H:%M:%S UTC").to_string()
}

/// Largest order size accepted (keeps Decimal arithmetic far from overflow).
const MAX_ORDER_QTY: i64 = 10_000_000;

fn validate(spec: &OrderSpec) -> Result<(), String> {
    if !matches!(spec.action.as_str(), "BUY" | "SELL") {
        return Err(format!("Invalid action: {}", spec.action));
    }
    if spec.total_quantity <= Decimal::ZERO {
        return Err("Order quantity must be positive".into());
    }
    if spec.total_quantity > Decimal::from(MAX_ORDER_QTY) {
        return Err(format!("Order quantity exceeds {MAX_ORDER_QTY}"));
    }
    let sane = |p: Option<f64>| p.is_none_or(|v| v.is_finite() && v.abs() < 1e9);
    if !sane(spec.lmt_price) || !sane(spec.aux_price) {
        return Err("Price out of range".into());
    }
    let needs = match spec.order_type.as_str() {
        "MKT" => (false, false),
        "LMT" => (true, false),
        "STP" => (false, true),
        "STP LMT" => (true, true),
        other => return Err(format!("Invalid order type was entered: {other}")),
    };
    if needs.0 && spec.lmt_price.is_none() {
        return Err("Limit price is missing".into());
    }
    if needs.1 && spec.aux_price.is_none() {
        return Err("Stop price is missing".into());
    }
    if !matches!(spec.tif.as_str(), "" | "DAY" | "GTC" | "IOC") {
        return Err(format!("Unsupported time in force: {}", spec.tif));
    }
    if !TriggerMethod::is_valid_code(spec.trigger_method) {
        return Err(format!("Invalid trigger method: {}", spec.trigger_method));
    }
    Ok(())
}

impl Core {
    /// placeOrder: validation, order-id rules, what-if, modification or a new order.
    pub fn place_order(
        &mut self,
        client_id: i32,
        order_id: i32,
        contract: &ContractSpec,
        mut spec: OrderSpec,
    ) {
        let Some(inst) = self.universe.resolve(contract).cloned() else {
            self.send_client(
                client_id,
                self.error(
                    order_id,
                    200,
                    "No security definition has been found for the request",
                ),
            );
            return;
        };
        if spec.tif.is_empty() {
            spec.tif = "DAY".into();
        }
        if spec.account.is_empty() {
            spec.account = self
                .accounts
                .list
                .first()
                .map(|a| a.id.clone())
                .unwrap_or_default();
        }
        if let Err(why) = validate(&spec) {
            let msg = format!("Error validating request.-'bF' : cause - {why}");
            self.send_client(client_id, self.error(order_id, 321, msg));
            return;
        }
        if self.accounts.get(&spec.account).is_none() {
            let msg = format!(
                "Order rejected - reason:Invalid account code {}",
                spec.account
            );
            self.send_client(client_id, self.error(order_id, 201, msg));
            return;
        }
        if let Some(idx) = self.orders.find(client_id, order_id) {
            if self.orders.orders[idx].is_working() && !spec.what_if {
                self.modify(idx, spec);
            } else {
                self.send_client(
                    client_id,
                    self.error(order_id, 103, format!("Duplicate order id {order_id}")),
                );
            }
            return;
        }
        let used = self.max_order_id.get(&client_id).copied().unwrap_or(0);
        if order_id <= used {
            self.send_client(
                client_id,
                self.error(order_id, 103, format!("Duplicate order id {order_id}")),
            );
            return;
        }
        self.max_order_id.insert(client_id, order_id);
        if !spec.what_if && self.take_injected_reject() {
            self.reject_injected(client_id, order_id, inst.con_id, spec);
            return;
        }
        if inst.sec_type == SecType::Index {
            let msg = "Order rejected - reason:An index is not tradable";
            self.send_client(client_id, self.error(order_id, 201, msg));
            return;
        }
        let what_if = match self.what_if(&inst, &spec) {
            Ok(w) => w,
            Err(e) => {
                let msg = format!("Order rejected - reason:margin cannot be computed: {e}");
                self.send_client(client_id, self.error(order_id, 201, msg));
                return;
            }
        };
        let perm_id = self.orders.new_perm_id();
        if spec.what_if {
            let order = SimOrder::new(
                client_id,
                order_id,
                perm_id,
                inst.con_id,
                spec,
                "PreSubmitted",
            );
            let mut view = self.order_view(&order);
            view.margins = Some(what_if.margins);
            view.commission = Some(f(what_if.commission));
            self.send_client(client_id, Response::OpenOrder(Box::new(view)));
            return;
        }
        if what_if.margins.init_after > what_if.margins.ewl_after
            && what_if.margins.init_change > 0.0
        {
            let msg = format!(
                "Order rejected - reason:YOUR ORDER IS NOT ACCEPTED. IN ORDER TO OBTAIN THE DESIRED POSITION YOUR EQUITY WITH LOAN VALUE [{:.2} USD] MUST EXCEED THE INITIAL MARGIN [{:.2} USD]",
                what_if.margins.ewl_after, what_if.margins.init_after
            );
            self.send_client(client_id, self.error(order_id, 201, msg));
            return;
        }
        let parent_pending = spec.parent_id != 0
            && self
                .orders
                .find(client_id, spec.parent_id)
                .is_some_and(|p| self.orders.orders[p].status != "Filled");
        if spec.transmit && spec.parent_id != 0 {
            // Transmitting the last child of a bracket transmits the whole group.
            for o in &mut self.orders.orders {
                if o.client_id == client_id
                    && (o.order_id == spec.parent_id || o.spec.parent_id == spec.parent_id)
                {
                    o.spec.transmit = true;
                }
            }
        }
        let active = spec.transmit && !parent_pending;
        let status = if active { "Submitted" } else { "PreSubmitted" };
        let order = SimOrder::new(client_id, order_id, perm_id, inst.con_id, spec, status);
        self.orders.orders.push(order);
        let idx = self.orders.orders.len() - 1;
        self.announce(idx);
        self.promote_transmitted(client_id);
        self.match_all();
    }

    /// Orders that were held only because nothing had been transmitted yet become Submitted.
    fn promote_transmitted(&mut self, client_id: i32) {
        let ready: Vec<usize> = (0..self.orders.orders.len())
            .filter(|i| {
                let o = &self.orders.orders[*i];
                o.client_id == client_id
                    && o.status == "PreSubmitted"
                    && o.spec.transmit
                    && !self.parent_pending(o)
            })
            .collect();
        for i in ready {
            self.orders.orders[i].status = "Submitted";
            self.announce(i);
        }
    }

    fn parent_pending(&self, o: &SimOrder) -> bool {
        o.spec.parent_id != 0
            && self
                .orders
                .find(o.client_id, o.spec.parent_id)
                .is_some_and(|p| self.orders.orders[p].status != "Filled")
    }

    fn modify(&mut self, idx: usize, spec: OrderSpec) {
        let o = &mut self.orders.orders[idx];
        if spec.total_quantity < o.filled {
            let id = o.order_id;
            let client = o.client_id;
            self.send_client(
                client,
                self.error(
                    id,
                    201,
                    "Order rejected - reason:Quantity below the filled quantity",
                ),
            );
            return;
        }
        o.spec.total_quantity = spec.total_quantity;
        o.spec.lmt_price = spec.lmt_price;
        o.spec.aux_price = spec.aux_price;
        o.spec.order_type = spec.order_type;
        o.spec.tif = spec.tif;
        o.spec.trigger_method = spec.trigger_method;
        o.triggered = false;
        o.watch = StopWatch::default();
        self.announce(idx);
        self.match_all();
    }

    /// cancelOrder: PendingCancel, Cancelled, then 202; children go with their parent.
    pub fn cancel_order(&mut self, client_id: i32, order_id: i32) {
        let idx = self
            .orders
            .find(client_id, order_id)
            .filter(|i| self.orders.orders[*i].is_working());
        let Some(idx) = idx else {
            let msg = format!("OrderId {order_id} that needs to be cancelled is not found.");
            self.send_client(client_id, self.error(order_id, 10147, msg));
            return;
        };
        let mut targets = vec![idx];
        targets.extend(
            (0..self.orders.orders.len())
                .filter(|i| {
                    let o = &self.orders.orders[*i];
                    o.client_id == client_id && o.spec.parent_id == order_id && o.is_working()
                })
                .collect::<Vec<_>>(),
        );
        for i in targets {
            self.cancel_idx(i, "Order Canceled - reason:");
        }
    }

    /// reqGlobalCancel: every working order of every client is cancelled.
    pub fn global_cancel(&mut self) {
        let working: Vec<usize> = (0..self.orders.orders.len())
            .filter(|i| self.orders.orders[*i].is_working())
            .collect();
        for i in working {
            self.cancel_idx(i, "Order Canceled - reason:Global cancel");
        }
    }

    fn cancel_idx(&mut self, idx: usize, reason: &str) {
        let now = time_str(self.now());
        let o = &mut self.orders.orders[idx];
        o.status = "PendingCancel";
        let pending = Self::status_view(o);
        o.status = "Cancelled";
        o.completed_time = now;
        let (client, id) = (o.client_id, o.order_id);
        let done = Self::status_view(o);
        self.send_client(client, Response::OrderStatus(Box::new(pending)));
        self.send_client(client, Response::OrderStatus(Box::new(done)));
        self.send_client(client, self.error(id, 202, reason));
    }

    /// Matches every active working order against the current quotes, until nothing changes.
    pub fn match_all(&mut self) {
        let now = self.now();
        for _ in 0..8 {
            let mut progressed = false;
            for idx in 0..self.orders.orders.len() {
                let o = &self.orders.orders[idx];
                if o.status != "Submitted" {
                    continue;
                }
                let Some(inst) = self.universe.get(o.con_id).cloned() else {
                    continue;
                };
                let Some(q) = self.market.quote(&self.universe, &inst, now) else {
                    continue;
                };
                progressed |= self.try_match(idx, &inst, &q);
            }
            if !progressed {
                break;
            }
        }
    }

    fn try_match(&mut self, idx: usize, inst: &Instrument, q: &Quote) -> bool {
        let o = &mut self.orders.orders[idx];
        let buy = o.buy();
        if o.spec.order_type.starts_with("STP") && !o.triggered {
            let stop = o.spec.aux_price.unwrap_or(0.0);
            let method =
                TriggerMethod::resolve(o.spec.trigger_method, inst).unwrap_or(TriggerMethod::Last);
            o.triggered = o.watch.observe(method, buy, stop, q);
        }
        let marketable_type = match o.spec.order_type.as_str() {
            "MKT" => Some(None),
            "LMT" => Some(o.spec.lmt_price),
            "STP" if o.triggered => Some(None),
            "STP LMT" if o.triggered => Some(o.spec.lmt_price),
            _ => None,
        };
        let (price, size) = if buy {
            (q.ask, q.ask_size)
        } else {
            (q.bid, q.bid_size)
        };
        let fills = match marketable_type {
            Some(None) => price > 0.0,
            Some(Some(limit)) => price > 0.0 && if buy { price <= limit } else { price >= limit },
            None => false,
        };
        let ioc = o.spec.tif == "IOC";
        let mut progressed = false;
        if fills {
            let qty = o.remaining().min(size.max(Decimal::ONE));
            self.fill(idx, inst, qty, dec(price));
            progressed = true;
        }
        if ioc && self.orders.orders[idx].is_working() {
            self.cancel_idx(idx, "Order Canceled - reason:IOC remainder");
            progressed = true;
        }
        progressed
    }

    fn fill(&mut self, idx: usize, inst: &Instrument, qty: Decimal, price: Decimal) {
        let now = self.now();
        let o = self.orders.orders[idx].clone();
        let comm = commission(inst, qty, price);
        let realized = self
            .accounts
            .apply_fill(&o.spec.account, inst, o.buy(), qty, price, comm);
        let filled = o.filled + qty;
        let avg = ((o.avg_fill * o.filled + price * qty) / filled).round_dp(6);
        self.orders.next_exec += 1;
        let exec = ExecView {
            order_id: o.order_id,
            client_id: o.client_id,
            exec_id: format!(
                "{:04x}{:08x}.{:08x}.01.01",
                self.cfg.seed % 0xFFFF,
                self.orders.epoch,
                self.orders.next_exec
            ),
            time: time_str(now),
            account: o.spec.account.clone(),
            exchange: inst.exchange.clone(),
            side: if o.buy() { "BOT".into() } else { "SLD".into() },
            shares: qty,
            price: f(price),
            perm_id: o.perm_id,
            cum_qty: filled,
            avg_price: f(avg),
            order_ref: o.spec.order_ref.clone(),
        };
        let closing = !realized.is_zero();
        let record = ExecRecord {
            con_id: inst.con_id,
            exec: exec.clone(),
            commission: f(comm),
            realized: closing.then(|| f(realized.round_dp(2))),
        };
        self.orders.execs.push(record.clone());
        {
            let m = &mut self.orders.orders[idx];
            m.filled = filled;
            m.avg_fill = avg;
            m.last_fill = price;
            m.commission += comm;
            if m.remaining().is_zero() {
                m.status = "Filled";
                m.completed_time = time_str(now);
            }
        }
        let client = o.client_id;
        self.send_client(
            client,
            Response::ExecDetails {
                req_id: -1,
                contract: Box::new(inst.view()),
                exec: Box::new(exec),
            },
        );
        if self.orders.orders[idx].status == "Filled" {
            self.announce(idx);
        } else {
            self.send_client(
                client,
                Response::OrderStatus(Box::new(Self::status_view(&self.orders.orders[idx]))),
            );
        }
        self.send_client(client, self.commission_report(&record));
        if self.orders.orders[idx].status == "Filled" {
            self.after_complete(idx);
        }
        self.notify_account(&o.spec.account, inst.con_id);
    }

    /// A filled order activates its bracket children and cancels its OCA siblings.
    fn after_complete(&mut self, idx: usize) {
        let o = self.orders.orders[idx].clone();
        let siblings: Vec<usize> = (0..self.orders.orders.len())
            .filter(|i| {
                let s = &self.orders.orders[*i];
                *i != idx
                    && s.client_id == o.client_id
                    && s.is_working()
                    && ((o.spec.parent_id != 0 && s.spec.parent_id == o.spec.parent_id)
                        || (!o.spec.oca_group.is_empty() && s.spec.oca_group == o.spec.oca_group))
            })
            .collect();
        for i in siblings {
            self.cancel_idx(i, "Order Canceled - reason:OCA group fill");
        }
        self.promote_transmitted(o.client_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SimConfig;

    /// A core and a stock whose last print lies strictly between bid and ask (prices only move
    /// on the clock, which these tests do not run).
    fn core_and_stock() -> (Core, ContractSpec, Quote) {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 4, 6).unwrap_or_default();
        let core = Core::new(SimConfig::default(), today);
        let now = core.now();
        let (inst, q) = core
            .universe
            .all()
            .iter()
            .filter(|i| i.sec_type == SecType::Stock)
            .find_map(|i| {
                let q = core.market.quote(&core.universe, i, now)?;
                (q.bid < q.last && q.last < q.ask).then(|| (i.clone(), q))
            })
            .unwrap_or_else(|| panic!("no stock with bid < last < ask"));
        let contract = ContractSpec {
            con_id: inst.con_id,
            ..ContractSpec::default()
        };
        (core, contract, q)
    }

    fn buy_stop(stop: f64, trigger_method: i32) -> OrderSpec {
        OrderSpec {
            action: "BUY".into(),
            total_quantity: Decimal::ONE,
            order_type: "STP".into(),
            aux_price: Some(stop),
            transmit: true,
            trigger_method,
            ..OrderSpec::default()
        }
    }

    /// Each trigger method against one quote: a buy stop at the ask, then one at the last.
    #[test]
    fn stops_trigger_by_their_method() {
        let (mut core, contract, q) = core_and_stock();
        let cases = [
            // (method, stop, triggered at once)
            (0, q.ask, false),
            (1, q.ask, false), // one quote so far; double bid/ask needs two
            (2, q.ask, false),
            (3, q.ask, false),
            (4, q.ask, true),
            (7, q.ask, true),
            (8, q.ask, false), // the mid-point is below the ask
            (8, q.bid, true),
            (0, q.last, true),
            (2, q.last, true),
            (3, q.last, false), // one print so far; double last needs two
            (7, q.last, true),
        ];
        for (n, (method, stop, fills)) in cases.into_iter().enumerate() {
            let id = n as i32 + 1;
            core.place_order(1, id, &contract, buy_stop(stop, method));
            core.match_all();
            let idx = core.orders.find(1, id);
            let idx = idx.unwrap_or_else(|| panic!("order {id} (method {method}) was refused"));
            let o = &core.orders.orders[idx];
            let expected = if fills { "Filled" } else { "Submitted" };
            assert_eq!(o.status, expected, "method {method} stop {stop} ({q:?})");
        }
        // An undefined method is refused like any invalid field.
        core.place_order(1, 100, &contract, buy_stop(q.ask, 5));
        assert!(core.orders.find(1, 100).is_none());
    }
}
