//! The text codec of server version 178 (reference §5, §8): NUL-terminated fields, a textual
//! message id, sequential layouts. Also decodes the text payload a client may send under a
//! binary id at ≥ 213 (same fields without the textual id).

use bytes::{BufMut, BytesMut};
use rust_decimal::Decimal;
use std::str::FromStr;

use super::DecodeError;
use crate::msg::{
    ContractSpec, ContractView, ExecFilter, HistoricalRequest, OrderSpec, OrderView, Request,
    Response,
};

/// Java's spelling of an unset double, as TWS sends it.
pub const UNSET_DOUBLE: &str = "1.7976931348623157E308";

/// Sequential reader over NUL-separated fields.
pub struct Fields<'a> {
    parts: Vec<&'a [u8]>,
    pos: usize,
}

impl<'a> Fields<'a> {
    /// Splits a body on NUL, dropping the empty piece after the final terminator.
    pub fn new(body: &'a [u8]) -> Self {
        let mut parts: Vec<&[u8]> = body.split(|b| *b == 0).collect();
        if body.last() == Some(&0) {
            parts.pop();
        }
        Fields { parts, pos: 0 }
    }

    fn raw(&mut self) -> Result<&'a str, DecodeError> {
        let p = self.parts.get(self.pos).ok_or(DecodeError::Truncated)?;
        self.pos += 1;
        std::str::from_utf8(p).map_err(|_| DecodeError::BadField("non-UTF-8 field".into()))
    }

    pub fn skip(&mut self, n: usize) -> Result<(), DecodeError> {
        for _ in 0..n {
            self.raw()?;
        }
        Ok(())
    }

    pub fn string(&mut self) -> Result<String, DecodeError> {
        self.raw().map(str::to_owned)
    }

    /// An int; empty and the unset sentinels read as 0.
    pub fn int(&mut self) -> Result<i64, DecodeError> {
        let s = self.raw()?;
        if is_unset(s) {
            return Ok(0);
        }
        s.parse::<i64>()
            .map_err(|_| DecodeError::BadField(format!("not an integer: {s:.32}")))
    }

    pub fn i32(&mut self) -> Result<i32, DecodeError> {
        let v = self.int()?;
        i32::try_from(v).map_err(|_| DecodeError::BadField(format!("out of range: {v}")))
    }

    pub fn bool(&mut self) -> Result<bool, DecodeError> {
        Ok(self.int()? != 0)
    }

    /// A double; empty and the unset sentinels read as `None`.
    pub fn opt_f64(&mut self) -> Result<Option<f64>, DecodeError> {
        let s = self.raw()?;
        if is_unset(s) {
            return Ok(None);
        }
        if s == "Infinity" {
            return Ok(Some(f64::INFINITY));
        }
        let v = s
            .parse::<f64>()
            .map_err(|_| DecodeError::BadField(format!("not a number: {s:.32}")))?;
        Ok(v.is_finite().then_some(v))
    }

    pub fn f64(&mut self) -> Result<f64, DecodeError> {
        Ok(self.opt_f64()?.unwrap_or(0.0))
    }

    pub fn decimal(&mut self) -> Result<Decimal, DecodeError> {
        let s = self.raw()?;
        if is_unset(s) {
            return Ok(Decimal::ZERO);
        }
        Decimal::from_str(s)
            .or_else(|_| Decimal::from_scientific(s))
            .map_err(|_| DecodeError::BadField(format!("not a decimal: {s:.32}")))
    }

    /// The 12-field contract of requests.
    fn contract12(&mut self) -> Result<ContractSpec, DecodeError> {
        Ok(ContractSpec {
            con_id: self.i32()?,
            symbol: self.string()?,
            sec_type: self.string()?,
            expiry: self.string()?,
            strike: self.f64()?,
            right: self.string()?,
            multiplier: self.string()?,
            exchange: self.string()?,
            primary_exchange: self.string()?,
            currency: self.string()?,
            local_symbol: self.string()?,
            trading_class: self.string()?,
        })
    }
}

fn is_unset(s: &str) -> bool {
    matches!(
        s,
        "" | "2147483647"
            | "9223372036854775807"
            | "-9223372036854775808"
            | "1.7976931348623157E308"
            | "1.7976931348623157e+308"
            | "1.7976931348623157e308"
    )
}

/// Decodes a 178 frame body: `"<id>\0fields…"`.
pub fn decode_request(body: &[u8]) -> Result<Request, DecodeError> {
    let mut f = Fields::new(body);
    let id = f.int()?;
    let id =
        u32::try_from(id).map_err(|_| DecodeError::BadField(format!("bad message id {id}")))?;
    decode_fields(id, &mut f)
}

/// Decodes the fields of request `id` (after the id).
pub fn decode_fields(id: u32, f: &mut Fields<'_>) -> Result<Request, DecodeError> {
    Ok(match id {
        71 => {
            f.skip(1)?;
            Request::StartApi {
                client_id: f.i32()?,
            }
        }
        8 => Request::ReqIds,
        49 => Request::CurrentTime,
        17 => Request::ManagedAccounts,
        1 => {
            f.skip(1)?;
            let req_id = f.i32()?;
            let contract = f.contract12()?;
            if contract.sec_type == "BAG" {
                let n = f.int()?.clamp(0, 1000) as usize;
                f.skip(4 * n)?;
            }
            if f.bool()? {
                f.skip(3)?;
            }
            let generic_ticks = f.string()?;
            let snapshot = f.bool()?;
            Request::MktData {
                req_id,
                contract,
                generic_ticks,
                snapshot,
            }
        }
        2 => {
            f.skip(1)?;
            Request::CancelMktData { req_id: f.i32()? }
        }
        59 => {
            f.skip(1)?;
            Request::MarketDataType { kind: f.i32()? }
        }
        62 => {
            f.skip(1)?;
            Request::AccountSummary {
                req_id: f.i32()?,
                group: f.string()?,
                tags: f.string()?,
            }
        }
        63 => {
            f.skip(1)?;
            Request::CancelAccountSummary { req_id: f.i32()? }
        }
        6 => {
            f.skip(1)?;
            Request::AccountUpdates {
                subscribe: f.bool()?,
                account: f.string()?,
            }
        }
        76 => {
            f.skip(1)?;
            Request::AccountUpdatesMulti {
                req_id: f.i32()?,
                account: f.string()?,
            }
        }
        77 => {
            f.skip(1)?;
            Request::CancelAccountUpdatesMulti { req_id: f.i32()? }
        }
        61 => Request::Positions,
        64 => Request::CancelPositions,
        9 => {
            f.skip(1)?;
            Request::ContractDetails {
                req_id: f.i32()?,
                contract: f.contract12()?,
            }
        }
        106 => Request::CancelContractData { req_id: f.i32()? },
        20 => {
            let req_id = f.i32()?;
            let contract = f.contract12()?;
            f.skip(1)?;
            let end = f.string()?;
            let bar_size = f.string()?;
            let duration = f.string()?;
            let use_rth = f.bool()?;
            let what_to_show = f.string()?;
            let format_date = f.i32()?;
            if contract.sec_type == "BAG" {
                let n = f.int()?.clamp(0, 1000) as usize;
                f.skip(4 * n)?;
            }
            let keep_up_to_date = f.bool()?;
            Request::HistoricalData(Box::new(HistoricalRequest {
                req_id,
                contract,
                end,
                bar_size,
                duration,
                use_rth,
                what_to_show,
                format_date,
                keep_up_to_date,
            }))
        }
        25 => {
            f.skip(1)?;
            Request::CancelHistoricalData { req_id: f.i32()? }
        }
        3 => decode_place_order(f)?,
        4 => {
            f.skip(1)?;
            Request::CancelOrder { order_id: f.i32()? }
        }
        5 => Request::OpenOrders,
        16 => Request::AllOpenOrders,
        15 => Request::AutoOpenOrders,
        99 => Request::CompletedOrders,
        7 => {
            f.skip(1)?;
            let req_id = f.i32()?;
            let client_id = f.i32()?;
            let account = f.string()?;
            let _time = f.string()?;
            let symbol = f.string()?;
            let sec_type = f.string()?;
            let _exchange = f.string()?;
            let side = f.string()?;
            Request::Executions {
                req_id,
                filter: ExecFilter {
                    client_id,
                    account,
                    symbol,
                    sec_type,
                    side,
                },
            }
        }
        other => Request::Unsupported { id: other },
    })
}

/// placeOrder at 178 (§8.3): walk the sequential layout, including its conditional blocks, up to
/// `whatIf`; later fields do not affect the simulation.
fn decode_place_order(f: &mut Fields<'_>) -> Result<Request, DecodeError> {
    let order_id = f.i32()?;
    let contract = f.contract12()?;
    f.skip(2)?; // secIdType secId
    let mut o = OrderSpec {
        action: f.string()?,
        total_quantity: f.decimal()?,
        order_type: f.string()?,
        lmt_price: f.opt_f64()?,
        aux_price: f.opt_f64()?,
        tif: f.string()?,
        oca_group: f.string()?,
        account: f.string()?,
        ..OrderSpec::default()
    };
    f.skip(2)?; // openClose origin
    o.order_ref = f.string()?;
    o.transmit = f.bool()?;
    o.parent_id = f.i32()?;
    f.skip(4)?; // blockOrder sweepToFill displaySize triggerMethod
    o.outside_rth = f.bool()?;
    f.skip(1)?; // hidden
    if contract.sec_type == "BAG" {
        let legs = f.int()?.clamp(0, 1000) as usize;
        f.skip(8 * legs)?;
        let prices = f.int()?.clamp(0, 1000) as usize;
        f.skip(prices)?;
        let params = f.int()?.clamp(0, 1000) as usize;
        f.skip(2 * params)?;
    }
    f.skip(1 + 6 + 4 + 9 + 7)?; // sharesAllocation .. overridePercentageConstraints
    f.skip(2)?; // volatility volatilityType
    let dn_type = f.string()?;
    f.skip(1)?;
    if !dn_type.is_empty() {
        f.skip(8)?;
    }
    f.skip(6)?; // continuousUpdate .. scaleSubsLevelSize
    if let Some(inc) = f.opt_f64()?
        && inc > 0.0
    {
        f.skip(7)?;
    }
    f.skip(3)?; // scaleTable activeStartTime activeStopTime
    if !f.string()?.is_empty() {
        f.skip(1)?; // hedgeParam
    }
    f.skip(4)?; // optOutSmartRouting clearingAccount clearingIntent notHeld
    if f.bool()? {
        f.skip(3)?;
    }
    if !f.string()?.is_empty() {
        let n = f.int()?.clamp(0, 1000) as usize;
        f.skip(2 * n)?;
    }
    f.skip(1)?; // algoId
    o.what_if = f.bool()?;
    Ok(Request::PlaceOrder {
        order_id,
        contract,
        order: Box::new(o),
    })
}

/// Appends NUL-terminated fields.
pub struct Writer<'a>(pub &'a mut BytesMut);

impl Writer<'_> {
    pub fn s(&mut self, v: &str) -> &mut Self {
        // Fields may not contain NUL; strip any so the framing stays intact.
        if v.as_bytes().contains(&0) {
            self.0.put_slice(v.replace('\0', "").as_bytes());
        } else {
            self.0.put_slice(v.as_bytes());
        }
        self.0.put_u8(0);
        self
    }
    pub fn i(&mut self, v: i64) -> &mut Self {
        self.s(&v.to_string())
    }
    pub fn b(&mut self, v: bool) -> &mut Self {
        self.s(if v { "1" } else { "0" })
    }
    pub fn f(&mut self, v: f64) -> &mut Self {
        self.s(&fmt_f64(v))
    }
    pub fn of(&mut self, v: Option<f64>) -> &mut Self {
        match v {
            Some(v) => self.f(v),
            None => self.s(""),
        }
    }
    pub fn d(&mut self, v: Decimal) -> &mut Self {
        self.s(&v.normalize().to_string())
    }
    pub fn blank(&mut self, n: usize) -> &mut Self {
        for _ in 0..n {
            self.0.put_u8(0);
        }
        self
    }
}

/// Doubles as TWS writes them: plain decimal notation, `Infinity` for +inf.
pub fn fmt_f64(v: f64) -> String {
    if v == f64::INFINITY {
        "Infinity".into()
    } else if !v.is_finite() {
        UNSET_DOUBLE.into()
    } else {
        format!("{v}")
    }
}

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
        .i(0); // 48-58
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::OrderView;

    fn count_fields(r: &Response) -> usize {
        let mut out = BytesMut::new();
        encode_response(r, &mut out);
        out.iter().filter(|b| **b == 0).count()
    }

    #[test]
    fn exact_counts_and_layout_sizes() {
        assert_eq!(count_fields(&Response::NextValidId(1000)), 3);
        assert_eq!(count_fields(&Response::PositionEnd), 2);
        assert_eq!(count_fields(&Response::OpenOrderEnd), 2);
        assert_eq!(
            count_fields(&Response::MarketDataType { req_id: 1, kind: 1 }),
            4
        );
        let o = OrderView {
            status: "Submitted".into(),
            ..OrderView::default()
        };
        assert_eq!(count_fields(&Response::OpenOrder(Box::new(o.clone()))), 127);
        assert_eq!(count_fields(&Response::CompletedOrder(Box::new(o))), 96);
        let mut out = BytesMut::new();
        encode_response(&Response::NextValidId(1000), &mut out);
        assert_eq!(&out[..], b"9\x001\x001000\x00");
    }

    #[test]
    fn python_snapshot_request_decodes() {
        let body = b"1\x0011\x0013\x000\x00AAPL\x00STK\x00\x00\x00\x00\x00SMART\x00\x00USD\x00\x00\x000\x00\x001\x000\x00\x00";
        match decode_request(body).unwrap() {
            Request::MktData {
                req_id,
                contract,
                snapshot,
                ..
            } => {
                assert_eq!(
                    (req_id, contract.symbol.as_str(), snapshot),
                    (13, "AAPL", true)
                );
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
