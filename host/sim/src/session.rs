//! What TWS does with each request of one connection: the startup sequence, one-shots,
//! contract details, market data, historical bars, accounts, positions and order requests.
//! Called with the core locked; responses are queued on connection outboxes.

use std::time::Instant;

use tracing::{debug, info};

use crate::accounts::Accounts;
use crate::limits::PacingKey;
use crate::marketdata::initial_ticks;
use crate::msg::{HistoricalRequest, Request, Response};
use crate::state::{Core, Line};
use crate::world::history;

/// What the connection should do after a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// Close after flushing queued responses (e.g. 326).
    Close(String),
}

const NO_SECDEF: &str = "No security definition has been found for the request";

/// Handles one decoded request from `conn_id`.
pub fn handle(core: &mut Core, conn_id: u64, req: Request) -> Flow {
    let Some(conn) = core.conns.get(&conn_id) else {
        return Flow::Close("connection is gone".into());
    };
    let client_id = match (conn.client_id, &req) {
        (None, Request::StartApi { client_id }) => return start_api(core, conn_id, *client_id),
        (Some(_), Request::StartApi { .. }) => return Flow::Continue,
        (None, other) => {
            debug!(conn_id, ?other, "request before startApi ignored");
            return Flow::Continue;
        }
        (Some(c), _) => c,
    };
    let Some(req) = core.hold_order_request(conn_id, req) else {
        return Flow::Continue;
    };
    match req {
        Request::StartApi { .. } => {}
        Request::ReqIds => {
            let next = core
                .max_order_id
                .get(&client_id)
                .copied()
                .unwrap_or(0)
                .saturating_add(1);
            core.send(conn_id, Response::NextValidId(next));
        }
        Request::CurrentTime => core.send(conn_id, Response::CurrentTime(core.now().timestamp())),
        Request::ManagedAccounts => core.send(
            conn_id,
            Response::ManagedAccounts(core.accounts.ids().join(",")),
        ),
        Request::MktData {
            req_id,
            contract,
            snapshot,
            ..
        } => market_data(core, conn_id, req_id, &contract, snapshot),
        Request::CancelMktData { req_id } => {
            if let Some(c) = core.conns.get(&conn_id)
                && let Ok(mut s) = c.subs.lock()
            {
                s.remove(req_id);
            }
        }
        Request::MarketDataType { kind } => {
            if let Some(c) = core.conns.get_mut(&conn_id)
                && (1..=4).contains(&kind)
            {
                c.md_type = kind;
            }
        }
        Request::ContractDetails { req_id, contract } => {
            let found = core.universe.matches(&contract);
            if found.is_empty() {
                core.send(conn_id, core.error(req_id, 200, NO_SECDEF));
            } else {
                for inst in found {
                    let details = inst.details(core.universe.underlying(inst));
                    core.send(
                        conn_id,
                        Response::ContractData {
                            req_id,
                            details: Box::new(details),
                        },
                    );
                }
                core.send(conn_id, Response::ContractDataEnd(req_id));
            }
        }
        Request::CancelContractData { .. } => {}
        Request::HistoricalData(h) => historical(core, conn_id, &h),
        Request::CancelHistoricalData { req_id } => {
            let known = core.conns.get_mut(&conn_id).is_some_and(|c| {
                c.live_bars.remove(&req_id);
                c.historical.contains(&req_id)
            });
            if !known {
                let msg = format!("No historical data query found for ticker id:{req_id}");
                core.send(conn_id, core.error(req_id, 366, msg));
            }
        }
        Request::AccountSummary { req_id, tags, .. } => {
            account_summary(core, conn_id, req_id, &tags)
        }
        Request::CancelAccountSummary { req_id } => {
            if let Some(c) = core.conns.get_mut(&conn_id) {
                c.summaries.remove(&req_id);
            }
        }
        Request::AccountUpdates { subscribe, account } => {
            account_updates(core, conn_id, subscribe, &account)
        }
        Request::AccountUpdatesMulti { req_id, account } => {
            let accounts: Vec<_> = core
                .accounts
                .list
                .iter()
                .filter(|a| account.is_empty() || account == "All" || a.id == account)
                .cloned()
                .collect();
            for a in &accounts {
                let v = core
                    .accounts
                    .value(a, &core.universe, &core.market, core.now());
                for (key, value, currency) in
                    Accounts::values(&v).into_iter().chain(Accounts::ledger(&v))
                {
                    let r = Response::AccountUpdateMulti {
                        req_id,
                        account: a.id.clone(),
                        key: key.into(),
                        value,
                        currency: currency.into(),
                    };
                    core.send(conn_id, r);
                }
            }
            core.send(conn_id, Response::AccountUpdateMultiEnd(req_id));
        }
        Request::CancelAccountUpdatesMulti { .. } => {}
        Request::Positions => {
            if let Some(c) = core.conns.get_mut(&conn_id) {
                c.positions = true;
            }
            for p in core.accounts.positions(&core.universe) {
                core.send(conn_id, p);
            }
            core.send(conn_id, Response::PositionEnd);
        }
        Request::CancelPositions => {
            if let Some(c) = core.conns.get_mut(&conn_id) {
                c.positions = false;
            }
        }
        Request::PlaceOrder {
            order_id,
            contract,
            order,
        } => core.place_order(client_id, order_id, &contract, *order),
        Request::CancelOrder { order_id } => {
            core.record_cancel(client_id, order_id);
            core.cancel_order(client_id, order_id);
        }
        Request::GlobalCancel => {
            core.order_path.global_cancels += 1;
            core.global_cancel();
        }
        Request::RealTimeBars { req_id, contract } => {
            let now = core.now();
            let found = core.universe.resolve(&contract).cloned();
            let price = found
                .as_ref()
                .and_then(|i| core.market.quote(&core.universe, i, now))
                .map(|q| q.last);
            match (found, price) {
                (Some(inst), Some(price)) => {
                    if let Some(c) = core.conns.get_mut(&conn_id) {
                        c.rt_bars.insert(
                            req_id,
                            crate::livebars::LiveBar::realtime(inst.con_id, price, now),
                        );
                    }
                }
                _ => core.send(conn_id, core.error(req_id, 200, NO_SECDEF)),
            }
        }
        Request::CancelRealTimeBars { req_id } => {
            if let Some(c) = core.conns.get_mut(&conn_id) {
                c.rt_bars.remove(&req_id);
            }
        }
        Request::PositionsMulti { req_id, account } => {
            for a in core
                .accounts
                .list
                .iter()
                .filter(|a| account.is_empty() || account == "All" || a.id == account)
            {
                for (con_id, h) in &a.holdings {
                    if let Some(inst) = core.universe.get(*con_id) {
                        let avg_cost = crate::accounts::f(
                            h.avg_price * crate::accounts::dec(inst.point_value()),
                        );
                        let r = Response::PositionMulti {
                            req_id,
                            account: a.id.clone(),
                            contract: Box::new(inst.view()),
                            position: h.qty,
                            avg_cost,
                        };
                        core.send(conn_id, r);
                    }
                }
            }
            core.send(conn_id, Response::PositionMultiEnd(req_id));
        }
        Request::Pnl {
            req_id,
            account,
            con_id,
        } => {
            if let Some(c) = core.conns.get_mut(&conn_id) {
                c.pnl.insert(req_id, (account, con_id));
            }
            core.publish_pnl(Some(conn_id));
        }
        Request::CancelPnl { req_id } => {
            if let Some(c) = core.conns.get_mut(&conn_id) {
                c.pnl.remove(&req_id);
            }
        }
        Request::CurrentTimeMillis => core.send(
            conn_id,
            Response::CurrentTimeMillis(core.now().timestamp_millis()),
        ),
        Request::FamilyCodes => core.send(conn_id, Response::FamilyCodes),
        Request::SoftDollarTiers { req_id } => {
            core.send(conn_id, Response::SoftDollarTiers(req_id))
        }
        Request::MatchingSymbols { req_id, pattern } => {
            core.matching_symbols(conn_id, req_id, &pattern)
        }
        Request::SecDefOptParams {
            req_id,
            symbol,
            sec_type,
            con_id,
        } => core.sec_def_opt_params(conn_id, req_id, &symbol, &sec_type, con_id),
        Request::HeadTimestamp {
            req_id,
            contract,
            format_date,
        } => core.head_timestamp(conn_id, req_id, &contract, format_date),
        Request::OpenOrders => core.open_orders(conn_id, Some(client_id)),
        Request::AllOpenOrders => core.open_orders(conn_id, None),
        Request::AutoOpenOrders => {}
        Request::CompletedOrders => core.completed_orders(conn_id),
        Request::Executions { req_id, filter } => core.executions(conn_id, req_id, &filter),
        Request::Unsupported { id } => debug!(conn_id, id, "unsupported request ignored"),
        Request::UnsupportedRequest { id, req_id } => {
            debug!(conn_id, id, req_id, "unsupported request answered with 321");
            let msg = format!(
                "Error validating request.-'bN' : cause - tickwork-sim does not support this request (message {id})"
            );
            core.send(conn_id, core.error(req_id, 321, msg));
        }
    }
    Flow::Continue
}

/// StartApi: 326 and close for a taken id; otherwise the TWS startup sequence.
fn start_api(core: &mut Core, conn_id: u64, client_id: i32) -> Flow {
    if core.clients.contains_key(&client_id) {
        let msg =
            "Unable to connect as the client id is already in use. Retry with a unique client id.";
        core.send(conn_id, core.error(-1, 326, msg));
        return Flow::Close(format!("client id {client_id} already in use"));
    }
    core.clients.insert(client_id, conn_id);
    if let Some(c) = core.conns.get_mut(&conn_id) {
        c.client_id = Some(client_id);
    }
    info!(conn_id, client_id, "API started");
    let next = core
        .max_order_id
        .get(&client_id)
        .copied()
        .unwrap_or(0)
        .saturating_add(1);
    core.send(
        conn_id,
        Response::ManagedAccounts(core.accounts.ids().join(",")),
    );
    core.send(conn_id, Response::NextValidId(next));
    core.send(
        conn_id,
        core.error(-1, 2104, "Market data farm connection is OK:usfarm"),
    );
    core.send(
        conn_id,
        core.error(-1, 2106, "HMDS data farm connection is OK:ushmds"),
    );
    core.send(
        conn_id,
        core.error(-1, 2158, "Sec-def data farm connection is OK:secdefnj"),
    );
    // Like TWS, a client id whose previous session left working orders hears about them now.
    core.working_orders(conn_id, Some(client_id));
    Flow::Continue
}

fn market_data(
    core: &mut Core,
    conn_id: u64,
    req_id: i32,
    contract: &crate::msg::ContractSpec,
    snapshot: bool,
) {
    let Some(inst) = core.universe.resolve(contract).cloned() else {
        core.send(conn_id, core.error(req_id, 200, NO_SECDEF));
        return;
    };
    if !snapshot && core.lines_in_use() >= core.cfg.max_market_data_lines {
        core.send(
            conn_id,
            core.error(req_id, 101, "Max number of tickers has been reached"),
        );
        return;
    }
    let md_type = core.conns.get(&conn_id).map_or(1, |c| c.md_type);
    let delayed = md_type >= 3;
    let now = core.now();
    let Some(q) = core.market.quote(&core.universe, &inst, now) else {
        core.send(
            conn_id,
            core.error(req_id, 354, "Requested market data is not subscribed"),
        );
        return;
    };
    core.send(
        conn_id,
        Response::TickReqParams {
            req_id,
            min_tick: inst.min_tick,
            bbo_exchange: "9c0001".into(),
        },
    );
    core.send(
        conn_id,
        Response::MarketDataType {
            req_id,
            kind: if delayed { 3 } else { 1 },
        },
    );
    for t in initial_ticks(req_id, &q, delayed, now.timestamp()) {
        core.send(conn_id, t);
    }
    if snapshot {
        core.send(conn_id, Response::TickSnapshotEnd(req_id));
    } else if let Some(c) = core.conns.get(&conn_id)
        && let Ok(mut s) = c.subs.lock()
    {
        s.remove(req_id);
        s.by_con_id
            .entry(inst.con_id)
            .or_default()
            .push(Line { req_id, delayed });
    }
}

fn historical(core: &mut Core, conn_id: u64, h: &HistoricalRequest) {
    let req_id = h.req_id;
    if let Some(c) = core.conns.get_mut(&conn_id) {
        c.historical.insert(req_id);
    }
    let Some(inst) = core.universe.resolve(&h.contract).cloned() else {
        core.send(conn_id, core.error(req_id, 200, NO_SECDEF));
        return;
    };
    let hmds = "Historical Market Data Service error message:";
    let plan = match history::plan(&h.bar_size, &h.duration) {
        Ok(p) => p,
        Err(e) => {
            core.send(conn_id, core.error(req_id, 162, format!("{hmds}{e}")));
            return;
        }
    };
    if core.forced_pacing > 0 {
        core.forced_pacing -= 1;
        core.send(
            conn_id,
            core.error(
                req_id,
                162,
                format!("{hmds}API historical data query cancelled: pacing violation"),
            ),
        );
        return;
    }
    if core.cfg.historical_pacing {
        let key = PacingKey {
            series: format!("{}|{}|{}", inst.con_id, h.contract.exchange, h.what_to_show),
            window: format!("{}|{}|{}|{}", h.end, h.bar_size, h.duration, h.use_rth),
            bar_secs: plan.bar_secs,
        };
        if let Err(e) = core.pacing.check(&key, Instant::now()) {
            core.send(conn_id, core.error(req_id, 162, e));
            return;
        }
    }
    let now = core.now();
    let Some(end) = history::parse_end(&h.end, now) else {
        core.send(
            conn_id,
            core.error(
                req_id,
                162,
                format!("{hmds}Invalid end date/time: {}", h.end),
            ),
        );
        return;
    };
    let times = history::bar_times(plan, end);
    let last = core
        .market
        .quote(&core.universe, &inst, now)
        .map(|q| q.last)
        .unwrap_or(inst.base_price);
    let vol = if inst.sec_type.is_derivative_priced() {
        inst.vol * 2.0
    } else {
        inst.vol
    };
    let series = history::Series {
        seed: core.cfg.seed,
        con_id: inst.con_id,
        vol,
        tick: inst.min_tick,
        last_close: last,
    };
    let bars = history::bars(series, plan, &times, h.format_date);
    let start = end - chrono::Duration::seconds(plan.duration_secs);
    core.send(
        conn_id,
        Response::HistoricalData {
            req_id,
            start: history::fmt_time(start),
            end: history::fmt_time(end),
            bars,
        },
    );
    if h.keep_up_to_date
        && let Some(c) = core.conns.get_mut(&conn_id)
    {
        let bar = crate::livebars::LiveBar::new(inst.con_id, plan, h.format_date, last, now);
        c.live_bars.insert(req_id, bar);
    }
}

/// Sends the summary rows for `tags` and the end marker (on request and on each refresh).
pub(crate) fn account_summary(core: &mut Core, conn_id: u64, req_id: i32, tags: &str) {
    let wanted: Vec<&str> = tags
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect();
    let ledger = wanted.iter().any(|t| t.starts_with("$LEDGER"));
    let now = core.now();
    for a in &core.accounts.list {
        let v = core.accounts.value(a, &core.universe, &core.market, now);
        for (tag, value, currency) in Accounts::values(&v) {
            if wanted.contains(&tag) {
                let r = Response::AccountSummary {
                    req_id,
                    account: a.id.clone(),
                    tag: tag.into(),
                    value,
                    currency: currency.into(),
                };
                core.send(conn_id, r);
            }
        }
        if ledger {
            for (tag, value, currency) in Accounts::ledger(&v) {
                let r = Response::AccountSummary {
                    req_id,
                    account: a.id.clone(),
                    tag: tag.into(),
                    value,
                    currency: currency.into(),
                };
                core.send(conn_id, r);
            }
        }
    }
    core.send(conn_id, Response::AccountSummaryEnd(req_id));
    if let Some(c) = core.conns.get_mut(&conn_id) {
        c.summaries.insert(req_id, tags.to_string());
    }
}

fn account_updates(core: &mut Core, conn_id: u64, subscribe: bool, account: &str) {
    if !subscribe {
        if let Some(c) = core.conns.get_mut(&conn_id) {
            c.account_updates = None;
        }
        return;
    }
    let Some(a) = core.accounts.resolve(account).cloned() else {
        core.send(
            conn_id,
            core.error(
                -1,
                321,
                format!("Error validating request.-'bF' : cause - Invalid account code {account}"),
            ),
        );
        return;
    };
    let now = core.now();
    let v = core.accounts.value(&a, &core.universe, &core.market, now);
    for m in Accounts::update_messages(&v, now) {
        core.send(conn_id, m);
    }
    core.send(conn_id, Response::AccountDownloadEnd(a.id.clone()));
    if let Some(c) = core.conns.get_mut(&conn_id) {
        c.account_updates = Some(a.id);
    }
}
