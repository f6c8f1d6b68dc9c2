//! A measuring client: subscribes to market data and only reads and discards, counting frames.
//! It is the baseline every throughput benchmark compares against (the simulator's raw socket
//! rate), shared so the simulator's and the session's benchmarks measure the same thing.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::{Buf, BytesMut};
use prost::Message;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::codec::proto::pb;

fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = (body.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(body);
    out
}

fn proto_frame(id: u32, message: &impl Message) -> Vec<u8> {
    let mut body = (id + 200).to_be_bytes().to_vec();
    body.extend(message.encode_to_vec());
    frame(&body)
}

/// Market-data frames per second read over `secs` (after a 0.5 s warm-up) by a protobuf client
/// streaming `symbols` as `client_id`.
pub async fn raw_market_data_rate(
    addr: SocketAddr,
    symbols: &[&str],
    client_id: i32,
    secs: f64,
) -> std::io::Result<f64> {
    let mut socket = TcpStream::connect(addr).await?;
    let mut hello = b"API\0".to_vec();
    hello.extend(frame(b"v213..226"));
    hello.extend(proto_frame(
        71,
        &pb::StartApiRequest {
            client_id: Some(client_id),
            optional_capabilities: None,
        },
    ));
    for (i, symbol) in symbols.iter().enumerate() {
        let request = pb::MarketDataRequest {
            req_id: Some(i as i32 + 1),
            contract: Some(pb::Contract {
                symbol: Some((*symbol).into()),
                sec_type: Some("STK".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        hello.extend(proto_frame(1, &request));
    }
    socket.write_all(&hello).await?;
    let mut buf = BytesMut::with_capacity(1 << 20);
    let warm = Instant::now() + Duration::from_millis(500);
    let mut counted: Option<(Instant, u64)> = None;
    loop {
        if socket.read_buf(&mut buf).await? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "simulator closed the connection",
            ));
        }
        while buf.len() >= 4 {
            let len = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
            if buf.len() < 4 + len {
                break;
            }
            buf.advance(4 + len);
            if let Some((_, n)) = counted.as_mut() {
                *n += 1;
            }
        }
        match counted {
            None if Instant::now() >= warm => counted = Some((Instant::now(), 0)),
            Some((t, n)) if t.elapsed().as_secs_f64() >= secs => {
                return Ok(n as f64 / t.elapsed().as_secs_f64());
            }
            _ => {}
        }
    }
}
