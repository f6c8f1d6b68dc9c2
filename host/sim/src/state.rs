//! The simulator's shared state: one [`Core`] behind a mutex, holding the world, accounts,
//! orders and the registry of live connections. Handlers lock it briefly, never across an
//! await, and deliver responses by pushing them into each connection's outbox.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use tokio::sync::{Notify, mpsc};

use crate::accounts::Accounts;
use crate::codec::Codec;
use crate::config::SimConfig;
use crate::limits::{HistoryPacing, RateWindow};
use crate::matching::OrderBook;
use crate::msg::Response;
use crate::orderpath::OrderPath;
use crate::world::instruments::Universe;
use crate::world::prices::Market;

/// What a connection's writer task is asked to do.
#[derive(Debug)]
pub enum Outgoing {
    Resp(Response),
    /// Bytes written verbatim (fault injection of malformed frames).
    Raw(Bytes),
    /// Flush what is queued, then close the socket.
    Close(String),
}

/// One market-data line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    pub req_id: i32,
    pub delayed: bool,
}

/// Streaming subscriptions of one connection, shared with its writer task, which turns price
/// batches into ticks without taking the core lock.
#[derive(Debug, Default)]
pub struct Subs {
    pub by_con_id: HashMap<i32, Vec<Line>>,
}

impl Subs {
    pub fn lines(&self) -> usize {
        self.by_con_id.values().map(Vec::len).sum()
    }

    /// Removes a line by request id, returning its contract id.
    pub fn remove(&mut self, req_id: i32) -> Option<i32> {
        let mut found = None;
        for (con_id, lines) in &mut self.by_con_id {
            if let Some(pos) = lines.iter().position(|l| l.req_id == req_id) {
                lines.remove(pos);
                found = Some(*con_id);
                break;
            }
        }
        if let Some(c) = found
            && self.by_con_id.get(&c).is_some_and(Vec::is_empty)
        {
            self.by_con_id.remove(&c);
        }
        found
    }
}

/// The per-connection state the core knows about.
#[derive(Debug)]
pub struct Conn {
    pub client_id: Option<i32>,
    pub codec: Codec,
    out: mpsc::UnboundedSender<Outgoing>,
    /// Messages queued for the writer and not yet taken; bounded by `max_queued`.
    pub queued: Arc<AtomicUsize>,
    /// Wakes the writer to abandon a blocked write and close (slow consumer).
    pub kill: Arc<Notify>,
    max_queued: usize,
    pub subs: Arc<Mutex<Subs>>,
    pub md_type: i32,
    pub positions: bool,
    pub account_updates: Option<String>,
    pub summaries: HashMap<i32, String>,
    pub multi: HashMap<i32, String>,
    pub historical: HashSet<i32>,
    /// reqRealTimeBars subscriptions: the 5-second bar being built, by request id.
    pub rt_bars: HashMap<i32, crate::livebars::LiveBar>,
    /// P&L subscriptions: request id → (account, contract id or 0 for the account).
    pub pnl: HashMap<i32, (String, i32)>,
    /// keepUpToDate historical requests: the bar being built, by request id.
    pub live_bars: HashMap<i32, crate::livebars::LiveBar>,
}

impl Conn {
    pub fn new(codec: Codec, out: mpsc::UnboundedSender<Outgoing>, max_queued: usize) -> Self {
        Conn {
            client_id: None,
            codec,
            out,
            queued: Arc::new(AtomicUsize::new(0)),
            kill: Arc::new(Notify::new()),
            max_queued,
            subs: Arc::new(Mutex::new(Subs::default())),
            md_type: 1,
            positions: false,
            account_updates: None,
            summaries: HashMap::new(),
            multi: HashMap::new(),
            historical: HashSet::new(),
            live_bars: HashMap::new(),
            pnl: HashMap::new(),
            rt_bars: HashMap::new(),
        }
    }

    /// Queues a message for the writer. A client that stops reading while responses pile up
    /// beyond `max_queued` is disconnected instead of growing memory without bound.
    pub fn push(&self, m: Outgoing) {
        let n = self.queued.fetch_add(1, Ordering::Relaxed);
        if n == self.max_queued {
            tracing::warn!(queued = n, "closing connection: slow consumer");
            self.kill.notify_one();
        }
        if n < self.max_queued {
            let _ = self.out.send(m);
        }
    }
}

/// Everything the simulator knows.
#[derive(Debug)]
pub struct Core {
    pub cfg: SimConfig,
    pub universe: Arc<Universe>,
    pub market: Market,
    pub accounts: Accounts,
    pub orders: OrderBook,
    pub conns: HashMap<u64, Conn>,
    /// Live client ids and the connection holding each.
    pub clients: HashMap<i32, u64>,
    /// The highest order id each client id has used, across sessions.
    pub max_order_id: HashMap<i32, i32>,
    pub rate: RateWindow,
    pub pacing: HistoryPacing,
    /// Historical requests still to fail with a pacing violation (fault injection).
    pub forced_pacing: u32,
    /// Order-path faults (rejections, held acknowledgements) and the record of cancels.
    pub order_path: OrderPath,
    /// While set, market data is not streamed (between 1100 and 1101/1102).
    pub connectivity_lost: bool,
    /// Until this instant new connections are refused (a TWS restart).
    pub down_until: Option<Instant>,
    /// Until this instant nothing is written to clients (stall fault).
    pub stall_until: Option<Instant>,
}

impl Core {
    pub fn new(cfg: SimConfig, today: chrono::NaiveDate) -> Self {
        let universe = Arc::new(Universe::build(cfg.seed, today));
        let market = Market::new(&universe, cfg.seed);
        let accounts = Accounts::new(&cfg, &universe, &market);
        Core {
            rate: RateWindow::new(cfg.rate_limit),
            pacing: HistoryPacing::default(),
            cfg,
            universe,
            market,
            accounts,
            orders: OrderBook::starting_now(),
            conns: HashMap::new(),
            clients: HashMap::new(),
            max_order_id: HashMap::new(),
            forced_pacing: 0,
            order_path: OrderPath::default(),
            connectivity_lost: false,
            down_until: None,
            stall_until: None,
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    /// Queues a response for one connection; a closed connection is skipped.
    pub fn send(&self, conn_id: u64, r: Response) {
        if let Some(c) = self.conns.get(&conn_id) {
            c.push(Outgoing::Resp(r));
        }
    }

    /// Queues a response for the connection bound to `client_id`, if connected.
    pub fn send_client(&self, client_id: i32, r: Response) {
        if let Some(conn) = self.clients.get(&client_id) {
            self.send(*conn, r);
        }
    }

    /// Queues a response for every connection that has started the API.
    pub fn broadcast(&self, r: &Response) {
        for c in self.conns.values().filter(|c| c.client_id.is_some()) {
            c.push(Outgoing::Resp(r.clone()));
        }
    }

    /// An error or notice frame with the current time.
    pub fn error(&self, id: i32, code: i32, msg: impl Into<String>) -> Response {
        Response::Error {
            id,
            code,
            msg: msg.into(),
            time_ms: self.now().timestamp_millis(),
        }
    }

    /// Contract ids whose prices must move: subscribed instruments' underlyings and those of
    /// working orders.
    pub fn active_underlyings(&self) -> HashSet<i32> {
        let mut out = HashSet::new();
        let mut add = |con_id: i32| {
            if let Some(inst) = self.universe.get(con_id) {
                out.insert(if inst.sec_type.is_derivative_priced() {
                    inst.under_con_id
                } else {
                    con_id
                });
            }
        };
        for c in self.conns.values() {
            if let Ok(s) = c.subs.lock() {
                s.by_con_id.keys().for_each(|k| add(*k));
            }
            c.live_bars
                .values()
                .chain(c.rt_bars.values())
                .for_each(|b| add(b.con_id));
        }
        self.orders.working_con_ids().for_each(&mut add);
        out
    }

    /// Every contract id with at least one streaming line.
    pub fn subscribed_con_ids(&self) -> HashSet<i32> {
        let mut out = HashSet::new();
        for c in self.conns.values() {
            if let Ok(s) = c.subs.lock() {
                out.extend(s.by_con_id.keys().copied());
            }
        }
        out
    }

    /// Total market-data lines across all connections.
    pub fn lines_in_use(&self) -> usize {
        self.conns
            .values()
            .filter_map(|c| c.subs.lock().ok().map(|s| s.lines()))
            .sum()
    }
}
