//! Tick messages for a quote: the initial set sent on subscription or snapshot, and the four
//! ticks (bid, ask, last, volume) streamed on every update. Delayed lines use tick types 66+.

use bytes::BytesMut;

use crate::codec::Codec;
use crate::msg::Response;
use crate::state::Line;
use crate::world::prices::Quote;

/// Live tick type → its delayed counterpart.
fn tick(t: i32, delayed: bool) -> i32 {
    if !delayed {
        return t;
    }
    match t {
        0 => 69,
        1 => 66,
        2 => 67,
        3 => 70,
        4 => 68,
        5 => 71,
        6 => 72,
        7 => 73,
        8 => 74,
        9 => 75,
        14 => 76,
        45 => 88,
        other => other,
    }
}

/// Everything a new line or a snapshot gets after TickReqParams and MarketDataType.
pub fn initial_ticks(req_id: i32, q: &Quote, delayed: bool, epoch: i64) -> Vec<Response> {
    let price = |t: i32, price: f64, size| Response::TickPrice {
        req_id,
        tick_type: tick(t, delayed),
        price,
        size,
        attr: 0,
    };
    let size = |t: i32, size| Response::TickSize {
        req_id,
        tick_type: tick(t, delayed),
        size,
    };
    let zero = rust_decimal::Decimal::ZERO;
    vec![
        price(1, q.bid, q.bid_size),
        size(0, q.bid_size),
        price(2, q.ask, q.ask_size),
        size(3, q.ask_size),
        price(4, q.last, q.last_size),
        size(5, q.last_size),
        size(8, q.volume),
        price(6, q.high, zero),
        price(7, q.low, zero),
        price(9, q.close, zero),
        price(14, q.open, zero),
        Response::TickString {
            req_id,
            tick_type: tick(45, delayed),
            value: epoch.to_string(),
        },
    ]
}

/// Appends the streamed ticks of one quote update for one line.
pub fn encode_update(codec: Codec, line: Line, q: &Quote, out: &mut BytesMut) {
    let req_id = line.req_id;
    let d = line.delayed;
    codec.encode(
        &Response::TickPrice {
            req_id,
            tick_type: tick(1, d),
            price: q.bid,
            size: q.bid_size,
            attr: 0,
        },
        out,
    );
    codec.encode(
        &Response::TickPrice {
            req_id,
            tick_type: tick(2, d),
            price: q.ask,
            size: q.ask_size,
            attr: 0,
        },
        out,
    );
    codec.encode(
        &Response::TickPrice {
            req_id,
            tick_type: tick(4, d),
            price: q.last,
            size: q.last_size,
            attr: 0,
        },
        out,
    );
    codec.encode(
        &Response::TickSize {
            req_id,
            tick_type: tick(8, d),
            size: q.volume,
        },
        out,
    );
}
