//! The protobuf codec of server versions 213..226 (reference §4, §9): `be32(id)` then, for
//! id > 200, the protobuf message `id − 200`; text fields otherwise.
mod encode;

pub use encode::encode_response;

use prost::Message;
use rust_decimal::Decimal;
use std::str::FromStr;

use super::DecodeError;
use super::text::{self, Fields};
use crate::msg::{
    ContractSpec, ExecFilter, HistoricalRequest, OrderSpec, Request, UNSUPPORTED_WITH_REQ_ID,
};

/// The generated schema types (`proto/tws.proto`).
#[allow(clippy::all, missing_docs)]
pub mod pb {
    include!(concat!(env!("OUT_DIR"), "/tws.rs"));
}

const PROTO_OFFSET: u32 = 200;

/// Decodes a ≥ 213 frame body.
pub fn decode_request(body: &[u8]) -> Result<Request, DecodeError> {
    if body.len() < 4 {
        return Err(DecodeError::Truncated);
    }
    let id = u32::from_be_bytes([body[0], body[1], body[2], body[3]]);
    let payload = &body[4..];
    if id <= PROTO_OFFSET {
        // Text payload under a binary id (a client without a protobuf form for this request).
        return text::decode_fields(id, &mut Fields::new(payload));
    }
    decode_proto(id - PROTO_OFFSET, payload)
}

fn dec<M: Message + Default>(payload: &[u8]) -> Result<M, DecodeError> {
    M::decode(payload).map_err(|e| DecodeError::BadField(format!("protobuf: {e}")))
}

fn contract_spec(c: Option<pb::Contract>) -> ContractSpec {
    let c = c.unwrap_or_default();
    ContractSpec {
        con_id: c.con_id.unwrap_or(0),
        symbol: c.symbol.unwrap_or_default(),
        sec_type: c.sec_type.unwrap_or_default(),
        expiry: c.last_trade_date_or_contract_month.unwrap_or_default(),
        strike: c.strike.filter(|v| v.is_finite()).unwrap_or(0.0),
        right: c.right.unwrap_or_default(),
        multiplier: c
            .multiplier
            .filter(|m| m.is_finite() && *m != 0.0)
            .map(text::fmt_f64)
            .unwrap_or_default(),
        exchange: c.exchange.unwrap_or_default(),
        primary_exchange: c.primary_exch.unwrap_or_default(),
        currency: c.currency.unwrap_or_default(),
        local_symbol: c.local_symbol.unwrap_or_default(),
        trading_class: c.trading_class.unwrap_or_default(),
    }
}

fn finite(v: Option<f64>) -> Option<f64> {
    v.filter(|x| x.is_finite() && *x != f64::MAX)
}

fn decimal_str(s: Option<String>) -> Result<Decimal, DecodeError> {
    match s.as_deref() {
        None | Some("") => Ok(Decimal::ZERO),
        Some(v) => Decimal::from_str(v)
            .or_else(|_| Decimal::from_scientific(v))
            .map_err(|_| DecodeError::BadField(format!("not a decimal: {v:.32}"))),
    }
}

fn decode_proto(id: u32, p: &[u8]) -> Result<Request, DecodeError> {
    Ok(match id {
        71 => Request::StartApi {
            client_id: dec::<pb::StartApiRequest>(p)?.client_id.unwrap_or(0),
        },
        8 => Request::ReqIds,
        49 => Request::CurrentTime,
        17 => Request::ManagedAccounts,
        1 => {
            let m: pb::MarketDataRequest = dec(p)?;
            Request::MktData {
                req_id: m.req_id.unwrap_or(0),
                contract: contract_spec(m.contract),
                generic_ticks: m.generic_tick_list.unwrap_or_default(),
                snapshot: m.snapshot.unwrap_or(false),
            }
        }
        2 => Request::CancelMktData {
            req_id: dec::<pb::ReqIdOnly>(p)?.req_id.unwrap_or(0),
        },
        59 => Request::MarketDataType {
            kind: dec::<pb::MarketDataTypeRequest>(p)?
                .market_data_type
                .unwrap_or(1),
        },
        62 => {
            let m: pb::AccountSummaryRequest = dec(p)?;
            Request::AccountSummary {
                req_id: m.req_id.unwrap_or(0),
                group: m.group.unwrap_or_default(),
                tags: m.tags.unwrap_or_default(),
            }
        }
        63 => Request::CancelAccountSummary {
            req_id: dec::<pb::ReqIdOnly>(p)?.req_id.unwrap_or(0),
        },
        6 => {
            let m: pb::AccountDataRequest = dec(p)?;
            Request::AccountUpdates {
                subscribe: m.subscribe.unwrap_or(false),
                account: m.acct_code.unwrap_or_default(),
            }
        }
        76 => {
            let m: pb::AccountUpdatesMultiRequest = dec(p)?;
            Request::AccountUpdatesMulti {
                req_id: m.req_id.unwrap_or(0),
                account: m.account.unwrap_or_default(),
            }
        }
        77 => Request::CancelAccountUpdatesMulti {
            req_id: dec::<pb::ReqIdOnly>(p)?.req_id.unwrap_or(0),
        },
        61 => Request::Positions,
        64 => Request::CancelPositions,
        9 => {
            let m: pb::ContractDataRequest = dec(p)?;
            Request::ContractDetails {
                req_id: m.req_id.unwrap_or(0),
                contract: contract_spec(m.contract),
            }
        }
        106 => Request::CancelContractData {
            req_id: dec::<pb::ReqIdOnly>(p)?.req_id.unwrap_or(0),
        },
        20 => {
            let m: pb::HistoricalDataRequest = dec(p)?;
            Request::HistoricalData(Box::new(HistoricalRequest {
                req_id: m.req_id.unwrap_or(0),
                contract: contract_spec(m.contract),
                end: m.end_date_time.unwrap_or_default(),
                bar_size: m.bar_size_setting.unwrap_or_default(),
                duration: m.duration.unwrap_or_default(),
                use_rth: m.use_rth.unwrap_or(false),
                what_to_show: m.what_to_show.unwrap_or_default(),
                format_date: m.format_date.unwrap_or(1),
                keep_up_to_date: m.keep_up_to_date.unwrap_or(false),
            }))
        }
        25 => Request::CancelHistoricalData {
            req_id: dec::<pb::ReqIdOnly>(p)?.req_id.unwrap_or(0),
        },
        3 => {
            let m: pb::PlaceOrderRequest = dec(p)?;
            let o = m.order.unwrap_or_default();
            Request::PlaceOrder {
                order_id: m.order_id.unwrap_or(0),
                contract: contract_spec(m.contract),
                order: Box::new(OrderSpec {
                    action: o.action.unwrap_or_default(),
                    total_quantity: decimal_str(o.total_quantity)?,
                    order_type: o.order_type.unwrap_or_default(),
                    lmt_price: finite(o.lmt_price),
                    aux_price: finite(o.aux_price),
                    tif: o.tif.unwrap_or_default(),
                    account: o.account.unwrap_or_default(),
                    parent_id: o.parent_id.unwrap_or(0),
                    // Clients leave `transmit` out when it is false (the field has presence
                    // and defaults to false), so a missing field holds the order.
                    transmit: o.transmit.unwrap_or(false),
                    what_if: o.what_if.unwrap_or(false),
                    outside_rth: o.outside_rth.unwrap_or(false),
                    oca_group: o.oca_group.unwrap_or_default(),
                    order_ref: o.order_ref.unwrap_or_default(),
                    trigger_method: o.trigger_method.unwrap_or(0),
                }),
            }
        }
        4 => Request::CancelOrder {
            order_id: dec::<pb::CancelOrderRequest>(p)?.order_id.unwrap_or(0),
        },
        58 => Request::GlobalCancel,
        50 => {
            let m: pb::RealTimeBarsRequest = dec(p)?;
            Request::RealTimeBars {
                req_id: m.req_id.unwrap_or(0),
                contract: contract_spec(m.contract),
            }
        }
        51 => Request::CancelRealTimeBars {
            req_id: dec::<pb::ReqIdOnly>(p)?.req_id.unwrap_or(0),
        },
        74 => {
            let m: pb::PositionsMultiRequest = dec(p)?;
            Request::PositionsMulti {
                req_id: m.req_id.unwrap_or(0),
                account: m.account.unwrap_or_default(),
            }
        }
        75 => Request::Unsupported { id: 75 }, // cancelPositionsMulti: the answer is complete
        92 => {
            let m: pb::PnLRequest = dec(p)?;
            Request::Pnl {
                req_id: m.req_id.unwrap_or(0),
                account: m.account.unwrap_or_default(),
                con_id: 0,
            }
        }
        94 => {
            let m: pb::PnLSingleRequest = dec(p)?;
            Request::Pnl {
                req_id: m.req_id.unwrap_or(0),
                account: m.account.unwrap_or_default(),
                con_id: m.con_id.unwrap_or(0),
            }
        }
        93 | 95 => Request::CancelPnl {
            req_id: dec::<pb::ReqIdOnly>(p)?.req_id.unwrap_or(0),
        },
        105 => Request::CurrentTimeMillis,
        80 => Request::FamilyCodes,
        79 => Request::SoftDollarTiers {
            req_id: dec::<pb::ReqIdOnly>(p)?.req_id.unwrap_or(0),
        },
        81 => {
            let m: pb::MatchingSymbolsRequest = dec(p)?;
            Request::MatchingSymbols {
                req_id: m.req_id.unwrap_or(0),
                pattern: m.pattern.unwrap_or_default(),
            }
        }
        78 => {
            let m: pb::SecDefOptParamsRequest = dec(p)?;
            Request::SecDefOptParams {
                req_id: m.req_id.unwrap_or(0),
                symbol: m.underlying_symbol.unwrap_or_default(),
                sec_type: m.underlying_sec_type.unwrap_or_default(),
                con_id: m.underlying_con_id.unwrap_or(0),
            }
        }
        87 => {
            let m: pb::HeadTimestampRequest = dec(p)?;
            Request::HeadTimestamp {
                req_id: m.req_id.unwrap_or(0),
                contract: contract_spec(m.contract),
                format_date: m.format_date.unwrap_or(1),
            }
        }
        5 => Request::OpenOrders,
        16 => Request::AllOpenOrders,
        15 => Request::AutoOpenOrders,
        99 => Request::CompletedOrders,
        7 => {
            let m: pb::ExecutionRequest = dec(p)?;
            let f = m.execution_filter.unwrap_or_default();
            Request::Executions {
                req_id: m.req_id.unwrap_or(0),
                filter: ExecFilter {
                    client_id: f.client_id.unwrap_or(0),
                    account: f.acct_code.unwrap_or_default(),
                    symbol: f.symbol.unwrap_or_default(),
                    sec_type: f.sec_type.unwrap_or_default(),
                    side: f.side.unwrap_or_default(),
                },
            }
        }
        other if UNSUPPORTED_WITH_REQ_ID.contains(&other) => {
            match dec::<pb::ReqIdOnly>(p)?.req_id {
                Some(req_id) => Request::UnsupportedRequest { id: other, req_id },
                None => Request::Unsupported { id: other },
            }
        }
        other => Request::Unsupported { id: other },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::Response;
    use bytes::BytesMut;

    #[test]
    fn reference_byte_examples() {
        let mut out = BytesMut::new();
        encode_response(&Response::NextValidId(558), &mut out);
        assert_eq!(&out[..], &[0, 0, 0, 7, 0, 0, 0, 0xD1, 0x08, 0xAE, 0x04]);
        out.clear();
        encode_response(&Response::ManagedAccounts("DU9000001".into()), &mut out);
        assert_eq!(&out[..8], &[0, 0, 0, 0x0F, 0, 0, 0, 0xD7]);
        out.clear();
        encode_response(&Response::PositionEnd, &mut out);
        assert_eq!(&out[..], &[0, 0, 0, 4, 0, 0, 1, 6]);
    }

    #[test]
    fn start_api_decodes() {
        let body = [0, 0, 1, 0x0F, 0x08, 0x2A];
        assert_eq!(
            decode_request(&body).unwrap(),
            Request::StartApi { client_id: 42 }
        );
    }
}
