//! Server messages at 178 (reference §8.2, §8.4, §8.5): exact field counts and layouts.

use bytes::BytesMut;

use super::{UNSET_DOUBLE, Writer, fmt_f64};
use crate::msg::{ContractView, OrderView, Response};

fn multiplier_text(m: f64) -> String {
    if m == 0.0 { String::new() } else { fmt_f64(m) }
}

/// conId symbol secType expiry strike right multiplier (shared prefix of many layouts).
fn contract_head(w: &mut Writer<'_>, c: &ContractView) {
    w.i(c.con_id.into())
        .s(&c.symbol)
        .s(&c.sec_type)
        .s(&c.expiry)
        .f(c.strike)
        .s(&c.right);
    w.s(&multiplier_text(c.multiplier));
}

/// Encodes one response as a 178 frame body (textual id first).
pub fn encode_response(r: &Response, out: &mut BytesMut) {
    let mut w = Writer(out);
    match r {
        Response::NextValidId(id) => {
            w.i(9).i(1).i((*id).into());
        }
        Response::ManagedAccounts(a) => {
            w.i(15).i(1).s(a);
        }
        Response::CurrentTime(t) => {
            w.i(49).i(1).i(*t);
        }
        Response::Error { id, code, msg, .. } => {
            w.i(4).i(2).i((*id).into()).i((*code).into()).s(msg).s("");
        }
        Response::TickReqParams {
            req_id,
            min_tick,
            bbo_exchange,
        } => {
            w.i(81)
                .i((*req_id).into())
                .f(*min_tick)
                .s(bbo_exchange)
                .i(3);
        }
        Response::MarketDataType { req_id, kind } => {
            w.i(58).i(1).i((*req_id).into()).i((*kind).into());
        }
        Response::TickPrice {
            req_id,
            tick_type,
            price,
            size,
            attr,
        } => {
            w.i(1)
                .i(6)
                .i((*req_id).into())
                .i((*tick_type).into())
                .f(*price)
                .d(*size)
                .i((*attr).into());
        }
        Response::TickSize {
            req_id,
            tick_type,
            size,
        } => {
            w.i(2)
                .i(6)
                .i((*req_id).into())
                .i((*tick_type).into())
                .d(*size);
        }
        Response::TickString {
            req_id,
            tick_type,
            value,
        } => {
            w.i(46)
                .i(6)
                .i((*req_id).into())
                .i((*tick_type).into())
                .s(value);
        }
        Response::TickGeneric {
            req_id,
            tick_type,
            value,
        } => {
            w.i(45)
                .i(6)
                .i((*req_id).into())
                .i((*tick_type).into())
                .f(*value);
        }
        Response::TickSnapshotEnd(id) => {
            w.i(57).i(1).i((*id).into());
        }
        Response::AccountSummary {
            req_id,
            account,
            tag,
            value,
            currency,
        } => {
            w.i(63)
                .i(1)
                .i((*req_id).into())
                .s(account)
                .s(tag)
                .s(value)
                .s(currency);
        }
        Response::AccountSummaryEnd(id) => {
            w.i(64).i(1).i((*id).into());
        }
        Response::AccountValue {
            key,
            value,
            currency,
            account,
        } => {
            w.i(6).i(2).s(key).s(value).s(currency).s(account);
        }
        Response::PortfolioValue(p) => {
            let c = &p.contract;
            w.i(7).i(8);
            contract_head(&mut w, c);
            w.s(&c.primary_exchange)
                .s(&c.currency)
                .s(&c.local_symbol)
                .s(&c.trading_class);
            w.d(p.position)
                .f(p.market_price)
                .f(p.market_value)
                .f(p.avg_cost);
            w.f(p.unrealized).f(p.realized).s(&p.account);
        }
        Response::AccountUpdateTime(t) => {
            w.i(8).i(1).s(t);
        }
        Response::AccountDownloadEnd(a) => {
            w.i(54).i(1).s(a);
        }
        Response::AccountUpdateMulti {
            req_id,
            account,
            key,
            value,
            currency,
        } => {
            w.i(73)
                .i(1)
                .i((*req_id).into())
                .s(account)
                .s("")
                .s(key)
                .s(value)
                .s(currency);
        }
        Response::AccountUpdateMultiEnd(id) => {
            w.i(74).i(1).i((*id).into());
        }
        Response::Position {
            account,
            contract: c,
            position,
            avg_cost,
        } => {
            w.i(61).i(3).s(account);
            contract_head(&mut w, c);
            w.s(&c.exchange)
                .s(&c.currency)
                .s(&c.local_symbol)
                .s(&c.trading_class);
            w.d(*position).f(*avg_cost);
        }
        Response::PositionEnd => {
            w.i(62).i(1);
        }
        Response::ContractData { req_id, details: d } => {
            let c = &d.contract;
            w.i(10)
                .i((*req_id).into())
                .s(&c.symbol)
                .s(&c.sec_type)
                .s(&c.expiry)
                .f(c.strike)
                .s(&c.right);
            w.s(&c.exchange)
                .s(&c.currency)
                .s(&c.local_symbol)
                .s(&d.market_name)
                .s(&c.trading_class);
            w.i(c.con_id.into())
                .f(d.min_tick)
                .s(&multiplier_text(c.multiplier))
                .s(&d.order_types);
            w.s(&d.valid_exchanges)
                .i(1)
                .i(d.under_con_id.into())
                .s(&d.long_name)
                .s(&c.primary_exchange);
            w.s(&d.contract_month)
                .s(&d.industry)
                .s(&d.category)
                .s(&d.subcategory)
                .s(&d.time_zone_id);
            w.s(&d.trading_hours).s(&d.liquid_hours).s("").i(0).i(0); // evRule evMultiplier secIdListCount
            w.i(0)
                .s(&d.under_symbol)
                .s(&d.under_sec_type)
                .s("26")
                .s(&d.real_expiration_date);
            w.s(&d.stock_type).s("1").s("1").s("1");
        }
        Response::ContractDataEnd(id) => {
            w.i(52).i(1).i((*id).into());
        }
        Response::HistoricalData {
            req_id,
            start,
            end,
            bars,
        } => {
            w.i(17)
                .i((*req_id).into())
                .s(start)
                .s(end)
                .i(bars.len() as i64);
            for b in bars {
                w.s(&b.date)
                    .f(b.open)
                    .f(b.high)
                    .f(b.low)
                    .f(b.close)
                    .d(b.volume)
                    .d(b.wap)
                    .i(b.count.into());
            }
        }
        Response::HistoricalDataUpdate { req_id, bar: b } => {
            w.i(90)
                .i((*req_id).into())
                .i(b.count.into())
                .s(&b.date)
                .f(b.open)
                .f(b.close)
                .f(b.high)
                .f(b.low);
            w.d(b.wap).d(b.volume);
        }
        Response::OpenOrder(o) => encode_open_order(&mut w, o),
        Response::OrderStatus(s) => {
            w.i(3)
                .i(s.order_id.into())
                .s(&s.status)
                .d(s.filled)
                .d(s.remaining)
                .f(s.avg_fill_price);
            w.i(s.perm_id)
                .i(s.parent_id.into())
                .f(s.last_fill_price)
                .i(s.client_id.into())
                .s(&s.why_held);
            w.f(0.0);
        }
        Response::OpenOrderEnd => {
            w.i(53).i(1);
        }
        Response::CompletedOrder(o) => encode_completed_order(&mut w, o),
        Response::CompletedOrdersEnd => {
            w.i(102);
        }
        Response::ExecDetails {
            req_id,
            contract: c,
            exec: e,
        } => {
            w.i(11).i((*req_id).into()).i(e.order_id.into());
            contract_head(&mut w, c);
            w.s(&c.exchange)
                .s(&c.currency)
                .s(&c.local_symbol)
                .s(&c.trading_class);
            w.s(&e.exec_id)
                .s(&e.time)
                .s(&e.account)
                .s(&e.exchange)
                .s(&e.side)
                .d(e.shares)
                .f(e.price);
            w.i(e.perm_id)
                .i(e.client_id.into())
                .i(0)
                .d(e.cum_qty)
                .f(e.avg_price)
                .s(&e.order_ref);
            w.s("").s("").s("").i(1).b(false);
        }
        Response::ExecDetailsEnd(id) => {
            w.i(55).i(1).i((*id).into());
        }
        Response::SymbolSamples { req_id, items } => {
            w.i(79).i((*req_id).into()).i(items.len() as i64);
            for (c, derivs) in items {
                w.i(c.con_id.into())
                    .s(&c.symbol)
                    .s(&c.sec_type)
                    .s(&c.primary_exchange)
                    .s(&c.currency);
                w.i(derivs.len() as i64);
                for d in derivs {
                    w.s(d);
                }
                w.s("").s("");
            }
        }
        Response::SecDefOptParam(p) => {
            w.i(75)
                .i(p.req_id.into())
                .s(&p.exchange)
                .i(p.under_con_id.into())
                .s(&p.trading_class);
            w.s(&p.multiplier).i(p.expirations.len() as i64);
            for e in &p.expirations {
                w.s(e);
            }
            w.i(p.strikes.len() as i64);
            for k in &p.strikes {
                w.f(*k);
            }
        }
        Response::CurrentTimeMillis(ms) => {
            w.i(109).i(*ms);
        }
        Response::FamilyCodes => {
            w.i(78).i(0);
        }
        Response::SoftDollarTiers(id) => {
            w.i(77).i((*id).into()).i(0);
        }
        Response::Pnl {
            req_id,
            daily,
            unrealized,
            realized,
        } => {
            w.i(94)
                .i((*req_id).into())
                .f(*daily)
                .f(*unrealized)
                .f(*realized);
        }
        Response::PnlSingle {
            req_id,
            position,
            daily,
            unrealized,
            realized,
            value,
        } => {
            w.i(95)
                .i((*req_id).into())
                .d(*position)
                .f(*daily)
                .f(*unrealized)
                .f(*realized)
                .f(*value);
        }
        Response::PositionMulti {
            req_id,
            account,
            contract: c,
            position,
            avg_cost,
        } => {
            w.i(71).i(1).i((*req_id).into()).s(account);
            contract_head(&mut w, c);
            w.s(&c.exchange)
                .s(&c.currency)
                .s(&c.local_symbol)
                .s(&c.trading_class);
            w.d(*position).f(*avg_cost).s("");
        }
        Response::PositionMultiEnd(id) => {
            w.i(72).i(1).i((*id).into());
        }
        Response::RealTimeBar { req_id, bar: b } => {
            w.i(50)
                .i(3)
                .i((*req_id).into())
                .s(&b.date)
                .f(b.open)
                .f(b.high)
                .f(b.low)
                .f(b.close);
            w.d(b.volume).d(b.wap).i(b.count.into());
        }
        Response::SecDefOptParamEnd(id) => {
            w.i(76).i((*id).into());
        }
        Response::HeadTimestamp { req_id, value } => {
            w.i(88).i((*req_id).into()).s(value);
        }
        Response::CommissionReport {
            exec_id,
            commission,
            currency,
            realized_pnl,
        } => {
            w.i(59).i(1).s(exec_id).f(*commission).s(currency);
            w.s(&realized_pnl
                .map(fmt_f64)
                .unwrap_or_else(|| UNSET_DOUBLE.into()));
            w.s(UNSET_DOUBLE).s("");
        }
    }
}

/// The order block shared by openOrder and completedOrder: action … orderRef.
fn order_core(w: &mut Writer<'_>, o: &OrderView) {
    let s = &o.spec;
    w.s(&s.action)
        .d(s.total_quantity)
        .s(&s.order_type)
        .of(s.lmt_price)
        .of(s.aux_price);
    w.s(&s.tif)
        .s(&s.oca_group)
        .s(&o.spec.account)
        .s("O")
        .i(0)
        .s(&s.order_ref);
}

/// openOrder at 178: 126 fields after the id for a plain order (§8.4).
fn encode_open_order(w: &mut Writer<'_>, o: &OrderView) {
    let c = &o.contract;
    let s = &o.spec;
    w.i(5).i(o.order_id.into());
    contract_head(w, c);
    w.s(&c.exchange)
        .s(&c.currency)
        .s(&c.local_symbol)
        .s(&c.trading_class); // 2-12
    order_core(w, o);
    w.i(o.client_id.into())
        .i(o.perm_id)
        .b(s.outside_rth)
        .b(false)
        .s("")
        .s(""); // -29
    w.s("").s("").s("").s("").s("").s("").s("").s("").s(""); // 30-38
    w.i(0).s("").i(-1).i(0).s("").s("").s("").s("").s(""); // 39-47
    w.s("")
        .b(false)
        .b(false)
        .b(false)
        .s("")
        .i(0)
        .b(false)
        .b(false)
        .s("")
        .i(o.parent_id.into())
        .i(s.trigger_method.into()); // 48-58
    w.s("").i(0).s("").s(""); // 59-62 volatility volatilityType dnOrderType dnAuxPrice
    w.b(false).i(0).s("").s("").s("").s(""); // 63-68
    w.s("").i(0).i(0).i(0); // 69-72
    w.s("").s("").s(""); // 73-75
    w.s("")
        .b(false)
        .s("")
        .s("")
        .b(false)
        .b(false)
        .s("")
        .b(false); // 76-83
    w.b(s.what_if).s(&o.status); // 84-85
    match &o.margins {
        Some(m) => {
            for v in [
                m.init_before,
                m.maint_before,
                m.ewl_before,
                m.init_change,
                m.maint_change,
                m.ewl_change,
                m.init_after,
                m.maint_after,
                m.ewl_after,
            ] {
                w.f(v);
            }
        }
        None => {
            for _ in 0..9 {
                w.s(UNSET_DOUBLE);
            }
        }
    }
    w.of(o.commission).s("").s("").s(&o.currency).s(&o.warning); // 95-99
    w.b(false).b(false); // 100-101
    w.i(0); // 102 nConditions
    w.s("").s("").s("").s("").s("").s("").s("").i(0); // 103-110
    w.s("")
        .s("")
        .s("")
        .s("")
        .b(false)
        .b(false)
        .b(false)
        .s("")
        .s("")
        .s("")
        .b(false); // 111-121
    w.s("").s("").s("").s("").s(""); // 122-126
}

/// completedOrder at 178: 95 fields after the id for a plain order (§8.5).
fn encode_completed_order(w: &mut Writer<'_>, o: &OrderView) {
    let c = &o.contract;
    w.i(101);
    contract_head(w, c);
    w.s(&c.exchange)
        .s(&c.currency)
        .s(&c.local_symbol)
        .s(&c.trading_class); // 1-11
    order_core(w, o); // 12-22
    w.i(o.perm_id).b(o.spec.outside_rth).b(false).s("").s(""); // 23-27
    w.s("")
        .s("")
        .s("")
        .s("")
        .s("")
        .s("")
        .s("")
        .s("")
        .i(0)
        .s("")
        .i(-1); // 28-38
    w.s("").s("").s("").s("").s(""); // 39-43
    w.s("")
        .b(false)
        .b(false)
        .s("")
        .i(0)
        .i(0)
        .s("")
        .i(0)
        .s("")
        .s(""); // 44-53
    w.b(false).i(0).s("").s("").s("").i(0).i(0).i(0); // 54-61
    w.s("")
        .s("")
        .s("")
        .s("")
        .s("")
        .s("")
        .b(false)
        .b(false)
        .s("")
        .b(false); // 62-71
    w.s(&o.status).b(false).b(false).i(0); // 72-75
    w.s("")
        .s("")
        .s("")
        .b(false)
        .b(false)
        .s("")
        .d(o.filled)
        .i(0)
        .b(false)
        .s("")
        .b(false)
        .i(0)
        .i(0); // 76-88
    w.s(&o.completed_time).s(&o.completed_status); // 89-90
    w.s("").s("").s("").s("").s(""); // 91-95
}
