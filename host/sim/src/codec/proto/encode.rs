//! Server messages at 213..226 as protobuf (reference §9): every field TWS sets is present,
//! zeros included, because both clients treat absence as unset.

use bytes::{BufMut, BytesMut};
use prost::Message;
use rust_decimal::Decimal;

use super::{PROTO_OFFSET, pb};
use crate::codec::text;
use crate::msg::{BarView, ContractView, DetailsView, OrderView, Response};

fn contract(c: &ContractView) -> pb::Contract {
    pb::Contract {
        con_id: Some(c.con_id),
        symbol: Some(c.symbol.clone()),
        sec_type: Some(c.sec_type.clone()),
        last_trade_date_or_contract_month: Some(c.expiry.clone()),
        strike: Some(c.strike),
        right: Some(c.right.clone()),
        multiplier: (c.multiplier != 0.0).then_some(c.multiplier),
        exchange: Some(c.exchange.clone()),
        primary_exch: Some(c.primary_exchange.clone()),
        currency: Some(c.currency.clone()),
        local_symbol: Some(c.local_symbol.clone()),
        trading_class: Some(c.trading_class.clone()),
        ..Default::default()
    }
}

fn dstr(d: Decimal) -> Option<String> {
    Some(d.normalize().to_string())
}

fn details(d: &DetailsView) -> pb::ContractDetails {
    pb::ContractDetails {
        market_name: Some(d.market_name.clone()),
        min_tick: Some(text::fmt_f64(d.min_tick)),
        order_types: Some(d.order_types.clone()),
        valid_exchanges: Some(d.valid_exchanges.clone()),
        price_magnifier: Some(1),
        under_con_id: Some(d.under_con_id),
        long_name: Some(d.long_name.clone()),
        contract_month: Some(d.contract_month.clone()),
        industry: Some(d.industry.clone()),
        category: Some(d.category.clone()),
        subcategory: Some(d.subcategory.clone()),
        time_zone_id: Some(d.time_zone_id.clone()),
        trading_hours: Some(d.trading_hours.clone()),
        liquid_hours: Some(d.liquid_hours.clone()),
        agg_group: Some(0),
        under_symbol: Some(d.under_symbol.clone()),
        under_sec_type: Some(d.under_sec_type.clone()),
        market_rule_ids: Some("26".into()),
        real_expiration_date: Some(d.real_expiration_date.clone()),
        stock_type: Some(d.stock_type.clone()),
        min_size: Some("1".into()),
        size_increment: Some("1".into()),
        suggested_size_increment: Some("1".into()),
        ..Default::default()
    }
}

fn bar(b: &BarView) -> pb::HistoricalDataBar {
    pb::HistoricalDataBar {
        date: Some(b.date.clone()),
        open: Some(b.open),
        high: Some(b.high),
        low: Some(b.low),
        close: Some(b.close),
        volume: dstr(b.volume),
        wap: dstr(b.wap),
        bar_count: Some(b.count),
    }
}

fn order(o: &OrderView) -> pb::Order {
    let s = &o.spec;
    pb::Order {
        client_id: Some(o.client_id),
        order_id: Some(o.order_id),
        perm_id: Some(o.perm_id),
        parent_id: Some(o.parent_id),
        action: Some(s.action.clone()),
        total_quantity: dstr(s.total_quantity),
        order_type: Some(s.order_type.clone()),
        lmt_price: s.lmt_price,
        aux_price: s.aux_price,
        tif: Some(s.tif.clone()),
        account: Some(s.account.clone()),
        outside_rth: Some(s.outside_rth),
        oca_group: Some(s.oca_group.clone()),
        order_ref: Some(s.order_ref.clone()),
        what_if: Some(s.what_if),
        transmit: Some(s.transmit),
        trigger_method: Some(s.trigger_method),
        open_close: Some("O".into()),
        origin: Some(0),
        exempt_code: Some(-1),
        delta_neutral_order_type: Some("None".into()),
        adjusted_order_type: Some("None".into()),
        filled_quantity: dstr(o.filled),
        ..Default::default()
    }
}

fn order_state(o: &OrderView) -> pb::OrderState {
    let mut st = pb::OrderState {
        status: Some(o.status.clone()),
        commission_and_fees: o.commission,
        commission_and_fees_currency: (!o.currency.is_empty()).then(|| o.currency.clone()),
        warning_text: (!o.warning.is_empty()).then(|| o.warning.clone()),
        completed_time: (!o.completed_time.is_empty()).then(|| o.completed_time.clone()),
        completed_status: (!o.completed_status.is_empty()).then(|| o.completed_status.clone()),
        ..Default::default()
    };
    if let Some(m) = &o.margins {
        st.init_margin_before = Some(m.init_before);
        st.maint_margin_before = Some(m.maint_before);
        st.equity_with_loan_before = Some(m.ewl_before);
        st.init_margin_change = Some(m.init_change);
        st.maint_margin_change = Some(m.maint_change);
        st.equity_with_loan_change = Some(m.ewl_change);
        st.init_margin_after = Some(m.init_after);
        st.maint_margin_after = Some(m.maint_after);
        st.equity_with_loan_after = Some(m.ewl_after);
        st.margin_currency = Some(o.currency.clone());
    }
    st
}

/// Writes `be32(id + 200)` and the encoded message.
fn put<M: Message>(out: &mut BytesMut, id: u32, m: &M) {
    out.put_u32(id + PROTO_OFFSET);
    // Encoding into a BytesMut grows it as needed and cannot fail.
    out.reserve(m.encoded_len());
    let _ = m.encode(out);
}

/// Encodes one response as protobuf frame bodies; `frame` wraps each body in its length prefix.
pub fn encode_response(r: &Response, out: &mut BytesMut) {
    use crate::codec::frame::put_frame;
    match r {
        Response::HistoricalData {
            req_id,
            start,
            end,
            bars,
        } => {
            let m = pb::HistoricalData {
                req_id: Some(*req_id),
                historical_data_bars: bars.iter().map(bar).collect(),
            };
            put_frame(out, |b| put(b, 17, &m));
            let e = pb::HistoricalDataEnd {
                req_id: Some(*req_id),
                start_date_str: Some(start.clone()),
                end_date_str: Some(end.clone()),
            };
            put_frame(out, |b| put(b, 108, &e));
        }
        other => put_frame(out, |b| encode_single(other, b)),
    }
}

fn encode_single(r: &Response, b: &mut BytesMut) {
    match r {
        Response::NextValidId(id) => put(
            b,
            9,
            &pb::NextValidId {
                order_id: Some(*id),
            },
        ),
        Response::ManagedAccounts(a) => put(
            b,
            15,
            &pb::ManagedAccounts {
                accounts_list: Some(a.clone()),
            },
        ),
        Response::CurrentTime(t) => put(
            b,
            49,
            &pb::CurrentTime {
                current_time: Some(*t),
            },
        ),
        Response::Error {
            id,
            code,
            msg,
            time_ms,
        } => put(
            b,
            4,
            &pb::ErrorMessage {
                id: Some(*id),
                error_time: Some(*time_ms),
                error_code: Some(*code),
                error_msg: Some(msg.clone()),
                advanced_order_reject_json: Some(String::new()),
            },
        ),
        Response::TickReqParams {
            req_id,
            min_tick,
            bbo_exchange,
        } => put(
            b,
            81,
            &pb::TickReqParams {
                req_id: Some(*req_id),
                min_tick: Some(text::fmt_f64(*min_tick)),
                bbo_exchange: Some(bbo_exchange.clone()),
                snapshot_permissions: Some(3),
                last_price_precision: None,
                last_size_precision: None,
            },
        ),
        Response::MarketDataType { req_id, kind } => put(
            b,
            58,
            &pb::MarketDataType {
                req_id: Some(*req_id),
                market_data_type: Some(*kind),
            },
        ),
        Response::TickPrice {
            req_id,
            tick_type,
            price,
            size,
            attr,
        } => put(
            b,
            1,
            &pb::TickPrice {
                req_id: Some(*req_id),
                tick_type: Some(*tick_type),
                price: Some(*price),
                size: dstr(*size),
                attr_mask: Some(*attr),
            },
        ),
        Response::TickSize {
            req_id,
            tick_type,
            size,
        } => put(
            b,
            2,
            &pb::TickSize {
                req_id: Some(*req_id),
                tick_type: Some(*tick_type),
                size: dstr(*size),
            },
        ),
        Response::TickString {
            req_id,
            tick_type,
            value,
        } => put(
            b,
            46,
            &pb::TickString {
                req_id: Some(*req_id),
                tick_type: Some(*tick_type),
                value: Some(value.clone()),
            },
        ),
        Response::TickGeneric {
            req_id,
            tick_type,
            value,
        } => put(
            b,
            45,
            &pb::TickGeneric {
                req_id: Some(*req_id),
                tick_type: Some(*tick_type),
                value: Some(*value),
            },
        ),
        Response::TickSnapshotEnd(id) => put(b, 57, &pb::ReqIdOnly { req_id: Some(*id) }),
        Response::AccountSummary {
            req_id,
            account,
            tag,
            value,
            currency,
        } => put(
            b,
            63,
            &pb::AccountSummary {
                req_id: Some(*req_id),
                account: Some(account.clone()),
                tag: Some(tag.clone()),
                value: Some(value.clone()),
                currency: Some(currency.clone()),
            },
        ),
        Response::AccountSummaryEnd(id) => put(b, 64, &pb::ReqIdOnly { req_id: Some(*id) }),
        Response::AccountValue {
            key,
            value,
            currency,
            account,
        } => put(
            b,
            6,
            &pb::AccountValue {
                key: Some(key.clone()),
                value: Some(value.clone()),
                currency: Some(currency.clone()),
                account_name: Some(account.clone()),
            },
        ),
        Response::PortfolioValue(p) => put(
            b,
            7,
            &pb::PortfolioValue {
                contract: Some(contract(&p.contract)),
                position: dstr(p.position),
                market_price: Some(p.market_price),
                market_value: Some(p.market_value),
                average_cost: Some(p.avg_cost),
                unrealized_pnl: Some(p.unrealized),
                realized_pnl: Some(p.realized),
                account_name: Some(p.account.clone()),
            },
        ),
        Response::AccountUpdateTime(t) => put(
            b,
            8,
            &pb::AccountUpdateTime {
                time_stamp: Some(t.clone()),
            },
        ),
        Response::AccountDownloadEnd(a) => put(
            b,
            54,
            &pb::AccountDataEnd {
                account_name: Some(a.clone()),
            },
        ),
        Response::AccountUpdateMulti {
            req_id,
            account,
            key,
            value,
            currency,
        } => put(
            b,
            73,
            &pb::AccountUpdateMulti {
                req_id: Some(*req_id),
                account: Some(account.clone()),
                model_code: Some(String::new()),
                key: Some(key.clone()),
                value: Some(value.clone()),
                currency: Some(currency.clone()),
            },
        ),
        Response::AccountUpdateMultiEnd(id) => put(b, 74, &pb::ReqIdOnly { req_id: Some(*id) }),
        Response::Position {
            account,
            contract: c,
            position,
            avg_cost,
        } => put(
            b,
            61,
            &pb::Position {
                account: Some(account.clone()),
                contract: Some(contract(c)),
                position: dstr(*position),
                avg_cost: Some(*avg_cost),
            },
        ),
        Response::PositionEnd => put(b, 62, &pb::Empty {}),
        Response::ContractData { req_id, details: d } => put(
            b,
            10,
            &pb::ContractData {
                req_id: Some(*req_id),
                contract: Some(contract(&d.contract)),
                contract_details: Some(details(d)),
            },
        ),
        Response::ContractDataEnd(id) => put(b, 52, &pb::ReqIdOnly { req_id: Some(*id) }),
        Response::HistoricalData { req_id, bars, .. } => put(
            b,
            17,
            &pb::HistoricalData {
                req_id: Some(*req_id),
                historical_data_bars: bars.iter().map(bar).collect(),
            },
        ),
        Response::HistoricalDataUpdate { req_id, bar: br } => put(
            b,
            90,
            &pb::HistoricalDataUpdate {
                req_id: Some(*req_id),
                historical_data_bar: Some(bar(br)),
            },
        ),
        Response::OpenOrder(o) => put(
            b,
            5,
            &pb::OpenOrder {
                order_id: Some(o.order_id),
                contract: Some(contract(&o.contract)),
                order: Some(order(o)),
                order_state: Some(order_state(o)),
            },
        ),
        Response::OrderStatus(s) => put(
            b,
            3,
            &pb::OrderStatus {
                order_id: Some(s.order_id),
                status: Some(s.status.clone()),
                filled: dstr(s.filled),
                remaining: dstr(s.remaining),
                avg_fill_price: Some(s.avg_fill_price),
                perm_id: Some(s.perm_id),
                parent_id: Some(s.parent_id),
                last_fill_price: Some(s.last_fill_price),
                client_id: Some(s.client_id),
                why_held: Some(s.why_held.clone()),
                mkt_cap_price: Some(0.0),
            },
        ),
        Response::OpenOrderEnd => put(b, 53, &pb::Empty {}),
        Response::CompletedOrder(o) => put(
            b,
            101,
            &pb::CompletedOrder {
                contract: Some(contract(&o.contract)),
                order: Some(order(o)),
                order_state: Some(order_state(o)),
            },
        ),
        Response::CompletedOrdersEnd => put(b, 102, &pb::Empty {}),
        Response::ExecDetails {
            req_id,
            contract: c,
            exec: e,
        } => put(
            b,
            11,
            &pb::ExecutionDetails {
                req_id: Some(*req_id),
                contract: Some(contract(c)),
                execution: Some(pb::Execution {
                    order_id: Some(e.order_id),
                    exec_id: Some(e.exec_id.clone()),
                    time: Some(e.time.clone()),
                    acct_number: Some(e.account.clone()),
                    exchange: Some(e.exchange.clone()),
                    side: Some(e.side.clone()),
                    shares: dstr(e.shares),
                    price: Some(e.price),
                    perm_id: Some(e.perm_id),
                    client_id: Some(e.client_id),
                    is_liquidation: Some(false),
                    cum_qty: dstr(e.cum_qty),
                    avg_price: Some(e.avg_price),
                    order_ref: Some(e.order_ref.clone()),
                    last_liquidity: Some(1),
                    is_price_revision_pending: Some(false),
                    ..Default::default()
                }),
            },
        ),
        Response::ExecDetailsEnd(id) => put(b, 55, &pb::ReqIdOnly { req_id: Some(*id) }),
        Response::SymbolSamples { req_id, items } => put(
            b,
            79,
            &pb::SymbolSamples {
                req_id: Some(*req_id),
                contract_descriptions: items
                    .iter()
                    .map(|(c, d)| pb::ContractDescription {
                        contract: Some(contract(c)),
                        derivative_sec_types: d.clone(),
                    })
                    .collect(),
            },
        ),
        Response::SecDefOptParam(p) => put(
            b,
            75,
            &pb::SecDefOptParameter {
                req_id: Some(p.req_id),
                exchange: Some(p.exchange.clone()),
                underlying_con_id: Some(p.under_con_id),
                trading_class: Some(p.trading_class.clone()),
                multiplier: Some(p.multiplier.clone()),
                expirations: p.expirations.clone(),
                strikes: p.strikes.clone(),
            },
        ),
        Response::CurrentTimeMillis(ms) => put(
            b,
            109,
            &pb::CurrentTimeInMillis {
                current_time_in_millis: Some(*ms),
            },
        ),
        Response::FamilyCodes => put(b, 78, &pb::Empty {}),
        Response::SoftDollarTiers(id) => put(b, 77, &pb::ReqIdOnly { req_id: Some(*id) }),
        Response::Pnl {
            req_id,
            daily,
            unrealized,
            realized,
        } => put(
            b,
            94,
            &pb::PnL {
                req_id: Some(*req_id),
                daily_pnl: Some(*daily),
                unrealized_pnl: Some(*unrealized),
                realized_pnl: Some(*realized),
            },
        ),
        Response::PnlSingle {
            req_id,
            position,
            daily,
            unrealized,
            realized,
            value,
        } => put(
            b,
            95,
            &pb::PnLSingle {
                req_id: Some(*req_id),
                position: dstr(*position),
                daily_pnl: Some(*daily),
                unrealized_pnl: Some(*unrealized),
                realized_pnl: Some(*realized),
                value: Some(*value),
            },
        ),
        Response::PositionMulti {
            req_id,
            account,
            contract: c,
            position,
            avg_cost,
        } => put(
            b,
            71,
            &pb::PositionMulti {
                req_id: Some(*req_id),
                account: Some(account.clone()),
                contract: Some(contract(c)),
                position: dstr(*position),
                avg_cost: Some(*avg_cost),
                model_code: Some(String::new()),
            },
        ),
        Response::PositionMultiEnd(id) => put(b, 72, &pb::ReqIdOnly { req_id: Some(*id) }),
        Response::RealTimeBar { req_id, bar: br } => put(
            b,
            50,
            &pb::RealTimeBarTick {
                req_id: Some(*req_id),
                time: br.date.parse().ok(),
                open: Some(br.open),
                high: Some(br.high),
                low: Some(br.low),
                close: Some(br.close),
                volume: dstr(br.volume),
                wap: dstr(br.wap),
                count: Some(br.count),
            },
        ),
        Response::SecDefOptParamEnd(id) => put(b, 76, &pb::ReqIdOnly { req_id: Some(*id) }),
        Response::HeadTimestamp { req_id, value } => put(
            b,
            88,
            &pb::HeadTimestamp {
                req_id: Some(*req_id),
                head_timestamp: Some(value.clone()),
            },
        ),
        Response::CommissionReport {
            exec_id,
            commission,
            currency,
            realized_pnl,
        } => put(
            b,
            59,
            &pb::CommissionAndFeesReport {
                exec_id: Some(exec_id.clone()),
                commission_and_fees: Some(*commission),
                currency: Some(currency.clone()),
                realized_pnl: Some(realized_pnl.unwrap_or(f64::MAX)),
                bond_yield: None,
                yield_redemption_date: None,
            },
        ),
    }
}
