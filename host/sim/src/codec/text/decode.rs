//! Client requests at 178 (reference §8.1, §8.3), and text payloads under a binary id.

use super::{DecodeError, Fields};
use crate::msg::{
    ExecFilter, HistoricalRequest, OrderSpec, Request, UNSUPPORTED_WITH_REQ_ID, VERSIONED_AT_178,
};

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
        58 => Request::GlobalCancel,
        50 => {
            f.skip(1)?;
            Request::RealTimeBars {
                req_id: f.i32()?,
                contract: f.contract12()?,
            }
        }
        51 => {
            f.skip(1)?;
            Request::CancelRealTimeBars { req_id: f.i32()? }
        }
        74 => {
            f.skip(1)?;
            Request::PositionsMulti {
                req_id: f.i32()?,
                account: f.string()?,
            }
        }
        75 => Request::Unsupported { id: 75 }, // cancelPositionsMulti: the answer is complete
        92 => {
            let req_id = f.i32()?;
            Request::Pnl {
                req_id,
                account: f.string()?,
                con_id: 0,
            }
        }
        94 => {
            let req_id = f.i32()?;
            let account = f.string()?;
            f.skip(1)?; // modelCode
            Request::Pnl {
                req_id,
                account,
                con_id: f.i32()?,
            }
        }
        93 | 95 => Request::CancelPnl { req_id: f.i32()? },
        105 => Request::CurrentTimeMillis,
        80 => Request::FamilyCodes,
        79 => Request::SoftDollarTiers { req_id: f.i32()? },
        81 => Request::MatchingSymbols {
            req_id: f.i32()?,
            pattern: f.string()?,
        },
        78 => {
            let req_id = f.i32()?;
            let symbol = f.string()?;
            f.skip(1)?; // futFopExchange
            let sec_type = f.string()?;
            Request::SecDefOptParams {
                req_id,
                symbol,
                sec_type,
                con_id: f.i32()?,
            }
        }
        87 => {
            let req_id = f.i32()?;
            let contract = f.contract12()?;
            f.skip(3)?; // includeExpired useRTH whatToShow
            Request::HeadTimestamp {
                req_id,
                contract,
                format_date: f.i32()?,
            }
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
        other if UNSUPPORTED_WITH_REQ_ID.contains(&other) => {
            if VERSIONED_AT_178.contains(&other) {
                f.skip(1)?;
            }
            Request::UnsupportedRequest {
                id: other,
                req_id: f.i32()?,
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
    f.skip(3)?; // blockOrder sweepToFill displaySize
    o.trigger_method = f.i32()?;
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
