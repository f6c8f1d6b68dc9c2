//! The TCP side: the accept loop, one reader and one writer task per connection, and the market
//! clock that moves prices, matches resting orders and fans quote batches out to writers.
//! A framing or decoding error closes only the connection it happened on, with a logged reason.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, broadcast, mpsc, watch};
use tracing::{debug, info, warn};

use crate::codec::Codec;
use crate::codec::frame::{self, take_frame, take_handshake};
use crate::handshake::{Negotiated, negotiate};
use crate::limits::RateVerdict;
use crate::marketdata::encode_update;
use crate::session::{self, Flow};
use crate::state::{Conn, Core, Outgoing, Subs};
use crate::world::prices::Quote;

/// A batch of quote updates from one clock wake-up.
pub type Batch = Arc<Vec<Quote>>;

/// What every task of one simulator shares.
#[derive(Debug)]
pub struct Shared {
    pub core: Mutex<Core>,
    pub ticks: broadcast::Sender<Batch>,
    pub shutdown: watch::Sender<bool>,
    next_conn: AtomicU64,
    /// API sessions started (StartApi accepted), for observing reconnects.
    pub sessions: AtomicU64,
}

impl Shared {
    pub fn new(core: Core) -> Arc<Self> {
        let (ticks, _) = broadcast::channel(256);
        let (shutdown, _) = watch::channel(false);
        Arc::new(Shared {
            core: Mutex::new(core),
            ticks,
            shutdown,
            next_conn: AtomicU64::new(1),
            sessions: AtomicU64::new(0),
        })
    }

    /// Locks the core; a poisoned lock (a panicked handler) is recovered rather than spread.
    pub fn lock(&self) -> std::sync::MutexGuard<'_, Core> {
        self.core.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Accepts connections until shutdown.
pub async fn accept_loop(shared: Arc<Shared>, listener: TcpListener) {
    let mut stop = shared.shutdown.subscribe();
    loop {
        tokio::select! {
            r = listener.accept() => match r {
                Ok((stream, peer)) => {
                    let id = shared.next_conn.fetch_add(1, Ordering::Relaxed);
                    debug!(conn_id = id, %peer, "accepted");
                    tokio::spawn(serve(shared.clone(), stream, id));
                }
                Err(e) => {
                    warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = stop.changed() => break,
        }
    }
}

/// Reads until the handshake is complete (bounded by a timeout).
async fn read_handshake(
    stream: &mut TcpStream,
    buf: &mut BytesMut,
) -> Result<frame::VersionRange, String> {
    let fut = async {
        loop {
            if let Some(r) = take_handshake(buf).map_err(|e| e.to_string())? {
                return Ok(r);
            }
            if stream.read_buf(buf).await.map_err(|e| e.to_string())? == 0 {
                return Err("closed during handshake".to_string());
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), fut)
        .await
        .map_err(|_| "handshake timed out".to_string())?
}

async fn serve(shared: Arc<Shared>, mut stream: TcpStream, conn_id: u64) {
    let _ = stream.set_nodelay(true);
    {
        let core = shared.lock();
        let down = core.down_until.is_some_and(|t| Instant::now() < t);
        if down || core.conns.len() >= core.cfg.max_clients {
            info!(conn_id, down, "connection refused");
            return;
        }
    }
    let mut buf = BytesMut::with_capacity(8 * 1024);
    let range = match read_handshake(&mut stream, &mut buf).await {
        Ok(r) => r,
        Err(why) => {
            warn!(conn_id, "closing connection: {why}");
            return;
        }
    };
    let (max_version, max_frame) = {
        let core = shared.lock();
        (core.cfg.max_version, core.cfg.max_frame_len)
    };
    let negotiated = negotiate(range, max_version);
    let codec = match negotiated {
        Negotiated::Proto(v) => Codec::Proto(v),
        Negotiated::Text => Codec::Text,
        Negotiated::Reject => {
            warn!(
                conn_id,
                min = range.min,
                max = range.max,
                "closing connection: client cannot speak 178 or later"
            );
            return;
        }
    };
    let mut reply = BytesMut::new();
    let time = chrono::Utc::now().format("%Y%m%d %H:%M:%S UTC").to_string();
    frame::put_handshake_reply(&mut reply, codec.version(), &time);
    if stream.write_all(&reply).await.is_err() {
        return;
    }
    info!(conn_id, version = codec.version(), "handshake done");
    let (tx, rx) = mpsc::unbounded_channel();
    let max_queued = shared.lock().cfg.max_queued;
    let conn = Conn::new(codec, tx, max_queued);
    let side = WriterSide {
        subs: conn.subs.clone(),
        queued: conn.queued.clone(),
        kill: conn.kill.clone(),
    };
    shared.lock().conns.insert(conn_id, conn);
    let (mut rd, wr) = stream.into_split();
    let (closed_tx, mut closed_rx) = tokio::sync::oneshot::channel::<()>();
    let writer = tokio::spawn(write_loop(
        shared.clone(),
        wr,
        rx,
        side,
        codec,
        conn_id,
        closed_tx,
    ));
    let mut stop = shared.shutdown.subscribe();
    let reason = loop {
        match drain_frames(&shared, conn_id, codec, &mut buf, max_frame) {
            Ok(()) => {}
            Err(why) => break why,
        }
        tokio::select! {
            r = rd.read_buf(&mut buf) => match r {
                Ok(0) => break "peer closed".to_string(),
                Ok(_) => {}
                Err(e) => break format!("read error: {e}"),
            },
            _ = &mut closed_rx => break "closed by server".to_string(),
            _ = stop.changed() => break "shutdown".to_string(),
        }
    };
    if reason.starts_with("malformed") || reason.starts_with("frame") || reason.starts_with("rate")
    {
        warn!(conn_id, "closing connection: {reason}");
    } else {
        info!(conn_id, "connection ended: {reason}");
    }
    remove_conn(&shared, conn_id);
    let _ = tokio::time::timeout(Duration::from_secs(2), writer).await;
}

/// Decodes and handles every complete frame in `buf`.
fn drain_frames(
    shared: &Shared,
    conn_id: u64,
    codec: Codec,
    buf: &mut BytesMut,
    max_frame: usize,
) -> Result<(), String> {
    loop {
        let body = match take_frame(buf, max_frame) {
            Ok(Some(b)) => b,
            Ok(None) => return Ok(()),
            Err(e) => return Err(format!("frame error: {e}")),
        };
        let req = codec
            .decode(&body)
            .map_err(|e| format!("malformed message: {e}"))?;
        let mut core = shared.lock();
        match core.rate.check(Instant::now()) {
            RateVerdict::Ok => {}
            RateVerdict::Warn(n) => {
                let r = core.error(
                    -1,
                    0,
                    format!("Warning: Approaching max rate of 50 messages per second ({n})"),
                );
                core.send(conn_id, r);
            }
            RateVerdict::Exceeded => {
                let r = core.error(
                    -1,
                    100,
                    "Max rate of messages per second has been exceeded:max=50",
                );
                core.send(conn_id, r);
                continue;
            }
            RateVerdict::Disconnect => {
                let r = core.error(
                    -1,
                    100,
                    "Max rate of messages per second has been exceeded:max=50",
                );
                core.send(conn_id, r);
                close_conn(&core, conn_id, "rate limit exceeded persistently");
                return Ok(());
            }
        }
        let starting = matches!(req, crate::msg::Request::StartApi { .. });
        match session::handle(&mut core, conn_id, req) {
            Flow::Close(why) => close_conn(&core, conn_id, &why),
            Flow::Continue if starting => {
                shared.sessions.fetch_add(1, Ordering::Relaxed);
            }
            Flow::Continue => {}
        }
    }
}

/// Asks a connection's writer to flush and close.
pub fn close_conn(core: &Core, conn_id: u64, why: &str) {
    if let Some(c) = core.conns.get(&conn_id) {
        c.push(Outgoing::Close(why.to_string()));
    }
}

fn remove_conn(shared: &Shared, conn_id: u64) {
    let mut core = shared.lock();
    core.drop_held(conn_id);
    if let Some(c) = core.conns.remove(&conn_id)
        && let Some(client) = c.client_id
        && core.clients.get(&client) == Some(&conn_id)
    {
        core.clients.remove(&client);
    }
}

/// The parts of a connection's state its writer task uses.
struct WriterSide {
    subs: Arc<Mutex<Subs>>,
    queued: Arc<AtomicUsize>,
    kill: Arc<Notify>,
}

async fn write_loop(
    shared: Arc<Shared>,
    mut wr: OwnedWriteHalf,
    mut rx: mpsc::UnboundedReceiver<Outgoing>,
    side: WriterSide,
    codec: Codec,
    conn_id: u64,
    _closed: tokio::sync::oneshot::Sender<()>,
) {
    let mut ticks = shared.ticks.subscribe();
    let mut out = BytesMut::with_capacity(64 * 1024);
    let mut closing = None;
    loop {
        tokio::select! {
            biased;
            _ = side.kill.notified() => break,
            m = rx.recv() => match m {
                Some(m) => {
                    side.queued.fetch_sub(1, Ordering::Relaxed);
                    closing = queue(codec, m, &mut out);
                }
                None => break,
            },
            b = ticks.recv() => match b {
                Ok(batch) => encode_batch(codec, &side.subs, &batch, &mut out),
                Err(broadcast::error::RecvError::Lagged(n)) => debug!(conn_id, n, "slow reader: quote batches conflated"),
                Err(broadcast::error::RecvError::Closed) => break,
            },
        }
        while closing.is_none()
            && out.len() < 256 * 1024
            && let Ok(m) = rx.try_recv()
        {
            side.queued.fetch_sub(1, Ordering::Relaxed);
            closing = queue(codec, m, &mut out);
        }
        let stall = shared.lock().stall_until;
        if let Some(until) = stall {
            tokio::time::sleep_until(until.into()).await;
        }
        if !out.is_empty() {
            tokio::select! {
                r = wr.write_all(&out) => if r.is_err() { break },
                _ = side.kill.notified() => break,
            }
            out.clear();
        }
        if let Some(why) = closing {
            info!(conn_id, "closing connection: {why}");
            break;
        }
    }
    let _ = wr.shutdown().await;
}

fn queue(codec: Codec, m: Outgoing, out: &mut BytesMut) -> Option<String> {
    match m {
        Outgoing::Resp(r) => codec.encode(&r, out),
        Outgoing::Raw(b) => out.extend_from_slice(&b),
        Outgoing::Close(why) => return Some(why),
    }
    None
}

fn encode_batch(codec: Codec, subs: &Mutex<Subs>, batch: &[Quote], out: &mut BytesMut) {
    let Ok(s) = subs.lock() else {
        return;
    };
    if s.by_con_id.is_empty() {
        return;
    }
    for q in batch {
        if let Some(lines) = s.by_con_id.get(&q.con_id) {
            for line in lines {
                encode_update(codec, *line, q, out);
            }
        }
    }
}

/// Moves prices `tick_rate` times a second per active instrument and publishes the quotes.
pub async fn clock(shared: Arc<Shared>) {
    let (tick_rate, refresh_every) = {
        let core = shared.lock();
        (core.cfg.tick_rate, core.cfg.account_refresh)
    };
    let mut last_refresh = Instant::now();
    let mut last_pnl = Instant::now();
    let period = Duration::from_secs_f64((1.0 / tick_rate).clamp(0.001, 1.0));
    let mut stop = shared.shutdown.subscribe();
    let mut last = Instant::now();
    let mut carry = 0.0f64;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(period) => {}
            _ = stop.changed() => break,
        }
        let now = Instant::now();
        if now.duration_since(last_pnl) >= Duration::from_secs(1) {
            last_pnl = now;
            shared.lock().publish_pnl(None);
        }
        if now.duration_since(last_refresh) >= refresh_every {
            last_refresh = now;
            shared.lock().refresh_accounts();
        }
        carry += now.duration_since(last).as_secs_f64() * tick_rate;
        last = now;
        let steps = carry.floor().min(200_000.0) as usize;
        carry -= carry.floor();
        if steps == 0 {
            continue;
        }
        let batch = step_market(&shared, steps, 1.0 / tick_rate);
        if !batch.is_empty() && shared.ticks.receiver_count() > 0 {
            let _ = shared.ticks.send(Arc::new(batch));
        }
    }
}

fn step_market(shared: &Shared, steps: usize, dt: f64) -> Vec<Quote> {
    let mut core = shared.lock();
    if core.connectivity_lost {
        return Vec::new();
    }
    let unders: Vec<_> = core
        .active_underlyings()
        .into_iter()
        .filter_map(|c| core.universe.get(c).cloned())
        .collect();
    if unders.is_empty() {
        return Vec::new();
    }
    let subscribed: Vec<_> = core
        .subscribed_con_ids()
        .into_iter()
        .filter_map(|c| core.universe.get(c).cloned())
        .collect();
    let wall = core.now();
    let universe = core.universe.clone();
    let mut batch = Vec::with_capacity(steps * subscribed.len());
    for _ in 0..steps {
        for u in &unders {
            core.market.step(u, dt);
        }
        for inst in &subscribed {
            if let Some(q) = core.market.quote(&universe, inst, wall) {
                batch.push(q);
            }
        }
    }
    core.match_all();
    core.update_live_bars();
    batch
}

/// Raw bytes for the malformed-frame fault: a well-framed message whose body cannot be decoded.
pub fn malformed_frame(codec: Codec) -> Bytes {
    let mut out = BytesMut::new();
    match codec {
        Codec::Proto(_) => frame::put_frame(&mut out, |b| {
            b.extend_from_slice(&(45u32 + 200).to_be_bytes());
            b.extend_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF, 0x0F]);
        }),
        Codec::Text => frame::put_frame(&mut out, |b| b.extend_from_slice(b"45\0")),
    }
    out.freeze()
}
