//! Byte-level checks with a hand-written client: stream parsing of the handshake, version
//! answers (never 179..212), coalesced frames, malformed and oversized input closing only the
//! offending connection, the client-id rule and the message rate limit.

mod common;

use std::time::Duration;

use common::{bounded, config, start, start_with, step};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn frame(body: &[u8]) -> Vec<u8> {
    let mut v = (body.len() as u32).to_be_bytes().to_vec();
    v.extend_from_slice(body);
    v
}

fn handshake(range: &str) -> Vec<u8> {
    let mut v = b"API\0".to_vec();
    v.extend_from_slice(&frame(range.as_bytes()));
    v
}

/// Reads one frame; `None` when the server closed the socket.
async fn read_frame(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut len = [0u8; 4];
    step("frame length", s.read_exact(&mut len)).await.ok()?;
    let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
    step("frame body", s.read_exact(&mut body)).await.ok()?;
    Some(body)
}

fn fields(body: &[u8]) -> Vec<String> {
    let mut parts: Vec<String> = body
        .split(|b| *b == 0)
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect();
    parts.pop();
    parts
}

async fn connect(sim: &tickwork_sim::SimHandle) -> TcpStream {
    step("tcp connect", TcpStream::connect(sim.local_addr()))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Text-codec session: handshake for `v100..178` and StartApi.
async fn text_session(sim: &tickwork_sim::SimHandle, client_id: u32) -> TcpStream {
    let mut s = connect(sim).await;
    s.write_all(&handshake("v100..178"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let reply = read_frame(&mut s)
        .await
        .unwrap_or_else(|| panic!("no handshake reply"));
    assert_eq!(fields(&reply)[0], "178");
    let start = format!("71\x002\x00{client_id}\x00\x00");
    s.write_all(&frame(start.as_bytes()))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    s
}

async fn closed(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 4096];
    step("close", async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return true,
                Ok(_) => {}
            }
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn split_prefix_version_answers_and_startup_at_178() {
    bounded(async {
        let sim = start(226).await;
        for (range, expect) in [
            ("v100..200", "178"),
            ("v100..212", "178"),
            ("v100..226", "226"),
            ("v213..226", "226"),
            ("v100..300", "226"),
        ] {
            let mut s = connect(&sim).await;
            let bytes = handshake(range);
            for b in &bytes {
                s.write_all(std::slice::from_ref(b))
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
            }
            let reply = read_frame(&mut s)
                .await
                .unwrap_or_else(|| panic!("no reply to {range}"));
            let f = fields(&reply);
            assert_eq!(f.len(), 2, "reply is exactly two fields");
            assert_eq!(f[0], expect, "{range}");
            assert!(
                f[1].ends_with(" UTC") && f[1].len() == 21,
                "time {:?}",
                f[1]
            );
        }
        let mut old = connect(&sim).await;
        old.write_all(&handshake("v100..177"))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(closed(&mut old).await, "a client below 178 is closed");

        // Startup sequence at 178 with StartApi and a reqCurrentTime coalesced in one write.
        let mut s = connect(&sim).await;
        let mut bytes = handshake("v100..178");
        s.write_all(&bytes).await.unwrap_or_else(|e| panic!("{e}"));
        let _ = read_frame(&mut s).await;
        bytes = frame(b"71\x002\x0042\x00\x00");
        bytes.extend(frame(b"49\x001\x00"));
        s.write_all(&bytes).await.unwrap_or_else(|e| panic!("{e}"));
        let ids: Vec<String> = {
            let mut v = Vec::new();
            for _ in 0..6 {
                let f = fields(
                    &read_frame(&mut s)
                        .await
                        .unwrap_or_else(|| panic!("startup frame")),
                );
                v.push(format!(
                    "{}:{}",
                    f[0],
                    f.get(3).cloned().unwrap_or_default()
                ));
            }
            v
        };
        assert!(
            ids[0].starts_with("15:") && ids[1].starts_with("9:"),
            "{ids:?}"
        );
        assert_eq!(&ids[2..5], &["4:2104", "4:2106", "4:2158"]);
        assert!(ids[5].starts_with("49:"));
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_and_oversized_close_only_that_connection() {
    bounded(async {
        let sim = start(226).await;
        let mut good = text_session(&sim, 1).await;
        for _ in 0..5 {
            read_frame(&mut good).await;
        }
        let mut http = connect(&sim).await;
        http.write_all(b"GET / HTTP/1.1\r\n\r\n")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(closed(&mut http).await);

        let mut big = text_session(&sim, 2).await;
        big.write_all(&[0x7F, 0xFF, 0xFF, 0xFF])
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(closed(&mut big).await);

        let mut bad = text_session(&sim, 3).await;
        bad.write_all(&frame(b"49\x00one\x00"))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        bad.write_all(&frame(b"1\x0011\x00x"))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(closed(&mut bad).await);

        good.write_all(&frame(b"49\x001\x00"))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let f = fields(
            &read_frame(&mut good)
                .await
                .unwrap_or_else(|| panic!("good connection must survive")),
        );
        assert_eq!(f[0], "49");
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_id_in_use_gets_326_and_close() {
    bounded(async {
        let sim = start(178).await;
        let mut first = text_session(&sim, 7).await;
        read_frame(&mut first).await;
        let mut second = text_session(&sim, 7).await;
        let f = fields(
            &read_frame(&mut second)
                .await
                .unwrap_or_else(|| panic!("326 frame")),
        );
        assert_eq!(
            (f[0].as_str(), f[2].as_str(), f[3].as_str()),
            ("4", "-1", "326")
        );
        assert!(closed(&mut second).await);
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_rate_warns_then_errors_100() {
    bounded(async {
        let sim = start_with(config(178)).await;
        let mut s = text_session(&sim, 1).await;
        for _ in 0..5 {
            read_frame(&mut s).await;
        }
        let mut burst = Vec::new();
        for _ in 0..55 {
            burst.extend(frame(b"49\x001\x00"));
        }
        s.write_all(&burst).await.unwrap_or_else(|e| panic!("{e}"));
        let mut codes = Vec::new();
        let mut times = 0;
        while codes.len() < 2 {
            let f = fields(
                &read_frame(&mut s)
                    .await
                    .unwrap_or_else(|| panic!("rate frames")),
            );
            match f[0].as_str() {
                "4" => codes.push(f[3].clone()),
                "49" => times += 1,
                other => panic!("unexpected message {other}"),
            }
        }
        assert_eq!(codes, ["0", "100"]);
        tokio::time::sleep(Duration::from_millis(1100)).await;
        s.write_all(&frame(b"49\x001\x00"))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        loop {
            let f = fields(
                &read_frame(&mut s)
                    .await
                    .unwrap_or_else(|| panic!("after window")),
            );
            if f[0] == "49" {
                times += 1;
                if times > 48 {
                    break;
                }
            }
        }
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_client_limit_are_refused() {
    bounded(async {
        let sim = start_with(tickwork_sim::SimConfig {
            max_clients: 2,
            ..config(226)
        })
        .await;
        let mut a = text_session(&sim, 1).await;
        let mut b = text_session(&sim, 2).await;
        read_frame(&mut a).await;
        read_frame(&mut b).await;
        let mut c = connect(&sim).await;
        let _ = c.write_all(&handshake("v100..178")).await;
        assert!(closed(&mut c).await, "the third connection must be closed");
        drop(a);
        step("slot freed", async {
            while sim.connections() > 1 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        let mut d = text_session(&sim, 3).await;
        assert!(
            read_frame(&mut d).await.is_some(),
            "a freed slot accepts a new client"
        );
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_disconnected_not_buffered_for_ever() {
    bounded(async {
        let cfg = tickwork_sim::SimConfig { max_queued: 5, rate_limit: None, historical_pacing: false, ..config(226) };
        let sim = start_with(cfg).await;
        let mut lazy = text_session(&sim, 1).await;
        let mut burst = Vec::new();
        for req in 0..60 {
            let body = format!(
                "20\0{req}\00\0AAPL\0STK\0\00\0\0\0SMART\0\0USD\0\0\00\0\01 hour\01 Y\00\0TRADES\01\00\0\0"
            );
            burst.extend(frame(body.as_bytes()));
        }
        lazy.write_all(&burst).await.unwrap_or_else(|e| panic!("{e}"));
        step("slow consumer closed", async {
            while sim.connections() > 0 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        assert!(closed(&mut lazy).await);
        let mut fresh = text_session(&sim, 2).await;
        assert!(read_frame(&mut fresh).await.is_some(), "other clients are unaffected");
        sim.shutdown().await;
    })
    .await;
}
