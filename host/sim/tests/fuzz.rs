//! Property tests: random and truncated frames fed to both decoders, to the framing layer and,
//! through the session handler, to the whole simulator state. Nothing may panic or hang.

use bytes::BytesMut;
use proptest::prelude::*;
use prost::Message;
use tickwork_sim::SimConfig;
use tickwork_sim::codec::Codec;
use tickwork_sim::codec::frame::{MAX_FRAME_LEN, take_frame, take_handshake};
use tickwork_sim::codec::proto::pb;
use tickwork_sim::msg::Request;
use tickwork_sim::session;
use tickwork_sim::state::{Conn, Core};

/// Valid request bodies of both codecs, used as seeds for truncation and mutation.
fn seeds() -> Vec<(Codec, Vec<u8>)> {
    let mut out = Vec::new();
    let proto = |id: u32, m: &dyn Fn(&mut Vec<u8>)| {
        let mut v = (id + 200).to_be_bytes().to_vec();
        m(&mut v);
        (Codec::Proto(226), v)
    };
    let contract = pb::Contract {
        symbol: Some("AAPL".into()),
        sec_type: Some("STK".into()),
        ..Default::default()
    };
    out.push(proto(71, &|v| {
        pb::StartApiRequest {
            client_id: Some(1),
            optional_capabilities: None,
        }
        .encode(v)
        .unwrap_or(())
    }));
    out.push(proto(1, &|v| {
        pb::MarketDataRequest {
            req_id: Some(1),
            contract: Some(contract.clone()),
            snapshot: Some(true),
            ..Default::default()
        }
        .encode(v)
        .unwrap_or(())
    }));
    out.push(proto(3, &|v| {
        pb::PlaceOrderRequest {
            order_id: Some(5),
            contract: Some(contract.clone()),
            order: Some(pb::Order {
                action: Some("BUY".into()),
                total_quantity: Some("10".into()),
                order_type: Some("LMT".into()),
                lmt_price: Some(1.5),
                transmit: Some(true),
                ..Default::default()
            }),
            attached_orders: None,
        }
        .encode(v)
        .unwrap_or(())
    }));
    out.push(proto(20, &|v| {
        pb::HistoricalDataRequest {
            req_id: Some(3),
            contract: Some(contract.clone()),
            bar_size_setting: Some("5 mins".into()),
            duration: Some("2 D".into()),
            format_date: Some(2),
            ..Default::default()
        }
        .encode(v)
        .unwrap_or(())
    }));
    let text: &[&[u8]] = &[
        b"71\x002\x001\x00\x00",
        b"1\x0011\x0013\x000\x00AAPL\x00STK\x00\x00\x00\x00\x00SMART\x00\x00USD\x00\x00\x000\x00\x001\x000\x00\x00",
        b"20\x004\x000\x00AAPL\x00STK\x00\x000\x00\x00\x00SMART\x00\x00USD\x00\x00\x000\x00\x001 day\x001 M\x001\x00TRADES\x001\x000\x00\x00",
        b"7\x003\x005\x000\x00\x00\x00\x00\x00\x00\x00",
        b"62\x001\x009\x00All\x00NetLiquidation,$LEDGER\x00",
    ];
    out.extend(text.iter().map(|t| (Codec::Text, t.to_vec())));
    out
}

fn core_with_conn(codec: Codec) -> (Core, u64) {
    let today = chrono::NaiveDate::from_ymd_opt(2026, 4, 6).unwrap_or_default();
    let mut core = Core::new(
        SimConfig {
            rate_limit: None,
            historical_pacing: false,
            ..SimConfig::default()
        },
        today,
    );
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    std::mem::forget(rx); // keep the outbox open; nothing reads it in these tests
    core.conns.insert(1, Conn::new(codec, tx, usize::MAX));
    let _ = session::handle(&mut core, 1, Request::StartApi { client_id: 1 });
    (core, 1)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_bodies_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Codec::Text.decode(&body);
        let _ = Codec::Proto(226).decode(&body);
        let mut with_id = (200u32 + (body.first().copied().unwrap_or(0) as u32 % 120)).to_be_bytes().to_vec();
        with_id.extend_from_slice(&body);
        let _ = Codec::Proto(226).decode(&with_id);
    }

    #[test]
    fn truncated_and_mutated_seeds_never_panic(pick in 0usize..9, cut in 0usize..400, flip in any::<(usize, u8)>()) {
        let seeds = seeds();
        let (codec, body) = &seeds[pick % seeds.len()];
        let cut = cut.min(body.len());
        let _ = codec.decode(&body[..cut]);
        let mut mutated = body.clone();
        if !mutated.is_empty() {
            let i = flip.0 % mutated.len();
            mutated[i] ^= flip.1;
        }
        let (mut core, conn) = core_with_conn(*codec);
        if let Ok(req) = codec.decode(&mutated) {
            let _ = session::handle(&mut core, conn, req);
        }
    }

    #[test]
    fn framing_never_panics_or_loops(stream in proptest::collection::vec(any::<u8>(), 0..1024)) {
        let mut hs = BytesMut::from(&stream[..]);
        let _ = take_handshake(&mut hs);
        let mut buf = BytesMut::from(&stream[..]);
        let mut rounds = 0;
        while let Ok(Some(_)) = take_frame(&mut buf, MAX_FRAME_LEN) {
            rounds += 1;
            prop_assert!(rounds <= 1024);
        }
    }
}

#[test]
fn every_seed_decodes_and_is_handled() {
    for (codec, body) in seeds() {
        let req = codec
            .decode(&body)
            .unwrap_or_else(|e| panic!("seed {body:?} failed: {e}"));
        let (mut core, conn) = core_with_conn(codec);
        let _ = session::handle(&mut core, conn, req);
    }
}
