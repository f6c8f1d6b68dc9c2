//! Fault injection, scriptable from tests (through [`crate::SimHandle::inject`]) and from the
//! CLI (control port and signals): what a flaky TWS does to its clients.

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::info;

use crate::orderpath::RejectPlan;
use crate::server::{Shared, close_conn, malformed_frame};
use crate::state::Outgoing;

/// A fault to inject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Close every client connection (TWS stays up; clients may reconnect at once).
    DropConnections,
    /// Write nothing to any client for this long (requests are still processed).
    Stall(Duration),
    /// Send 1100, stop streaming, and after `restore_after` send 1102 (data kept) or
    /// 1101 (data lost: every market-data line is dropped, clients must resubscribe).
    ConnectivityLoss {
        restore_after: Duration,
        data_kept: bool,
    },
    /// Market-data and HMDS farm broken notices (2103, 2105).
    FarmDown,
    /// Farm OK notices (2104, 2106).
    FarmUp,
    /// The next `n` historical requests fail with a 162 pacing violation.
    PacingViolation(u32),
    /// A well-framed message whose body cannot be decoded, to every client.
    MalformedFrame,
    /// A frame whose length prefix exceeds the protocol maximum (clients drop the connection).
    OversizedFrame,
    /// TWS restart: every connection closed, all subscriptions gone, new connections refused
    /// for `down_for`. Orders, positions and order-id counters survive, as in TWS.
    Restart { down_for: Duration },
    /// The next `count` new orders (placeOrder with an unused id; not modifications, not
    /// what-if) are rejected as TWS rejects them: error `code` bound to the order id (for 201
    /// the text is "Order rejected - reason:<reason>"), then openOrder and orderStatus with
    /// status Inactive. The order id counts as used. Replaces any rejections still pending.
    RejectOrders {
        count: u32,
        code: i32,
        reason: String,
    },
    /// For this long, order requests (placeOrder, modifications, cancelOrder, reqGlobalCancel)
    /// are queued unapplied, as if still on their way to TWS: no openOrder, orderStatus or error
    /// answers them. When the time is up (or on [`Fault::ReleaseAcks`]) they are applied in
    /// order; those of a connection that closes first are dropped, never having reached TWS.
    HoldAcks(Duration),
    /// Ends [`Fault::HoldAcks`] now.
    ReleaseAcks,
}

impl FromStr for Fault {
    type Err = String;

    /// Parses the control-port syntax, e.g. `drop`, `stall 500`, `lost 1101 2000`,
    /// `lost 1102 2000`, `farm down`, `farm up`, `pacing 1`, `malformed`, `oversized`,
    /// `restart 3000`, `reject 1 201 insufficient margin`, `hold 5000`, `release` (durations
    /// in milliseconds).
    fn from_str(s: &str) -> Result<Self, String> {
        let words: Vec<&str> = s.split_whitespace().collect();
        let ms = |w: Option<&&str>, default: u64| -> Result<Duration, String> {
            match w {
                None => Ok(Duration::from_millis(default)),
                Some(v) => v
                    .parse::<u64>()
                    .ok()
                    .filter(|ms| *ms <= MAX_FAULT_DURATION.as_millis() as u64)
                    .ok_or(())
                    .map(Duration::from_millis)
                    .map_err(|_| format!("expected milliseconds (at most 3600000), got {v}")),
            }
        };
        match words.as_slice() {
            ["drop"] => Ok(Fault::DropConnections),
            ["stall", rest @ ..] => Ok(Fault::Stall(ms(rest.first(), 1000)?)),
            ["lost", code, rest @ ..] => {
                let data_kept = match *code {
                    "1101" => false,
                    "1102" => true,
                    other => return Err(format!("lost takes 1101 or 1102, not {other}")),
                };
                Ok(Fault::ConnectivityLoss {
                    restore_after: ms(rest.first(), 1000)?,
                    data_kept,
                })
            }
            ["farm", "down"] => Ok(Fault::FarmDown),
            ["farm", "up"] => Ok(Fault::FarmUp),
            ["pacing", rest @ ..] => {
                let n = rest.first().map_or(Ok(1), |v| {
                    v.parse::<u32>().map_err(|_| format!("not a count: {v}"))
                })?;
                Ok(Fault::PacingViolation(n))
            }
            ["malformed"] => Ok(Fault::MalformedFrame),
            ["oversized"] => Ok(Fault::OversizedFrame),
            ["restart", rest @ ..] => Ok(Fault::Restart {
                down_for: ms(rest.first(), 1000)?,
            }),
            ["reject", rest @ ..] => {
                let count = rest.first().map_or(Ok(1), |v| {
                    v.parse::<u32>().map_err(|_| format!("not a count: {v}"))
                })?;
                let code = rest.get(1).map_or(Ok(201), |v| {
                    v.parse::<i32>()
                        .map_err(|_| format!("not an error code: {v}"))
                })?;
                let reason = match rest.get(2..) {
                    Some(words) if !words.is_empty() => words.join(" "),
                    _ => DEFAULT_REJECT_REASON.to_string(),
                };
                Ok(Fault::RejectOrders {
                    count,
                    code,
                    reason,
                })
            }
            ["hold", rest @ ..] => Ok(Fault::HoldAcks(ms(rest.first(), 5000)?)),
            ["release"] => Ok(Fault::ReleaseAcks),
            _ => Err(format!("unknown fault {s:?}")),
        }
    }
}

/// Reason of `reject` without one.
pub const DEFAULT_REJECT_REASON: &str = "Simulated rejection";

/// Longest stall, outage, restart or hold a fault may ask for.
pub const MAX_FAULT_DURATION: Duration = Duration::from_secs(3600);

/// `now + d`, with `d` capped so the instant cannot overflow.
fn later(d: Duration) -> Instant {
    Instant::now() + d.min(MAX_FAULT_DURATION)
}

fn notice(shared: &Shared, code: i32, msg: &str) {
    let core = shared.lock();
    let r = core.error(-1, code, msg);
    core.broadcast(&r);
}

fn drop_all(shared: &Shared, why: &str) {
    let core = shared.lock();
    for id in core.conns.keys() {
        close_conn(&core, *id, why);
    }
}

/// Applies a fault; timed parts run on the current tokio runtime.
pub fn inject(shared: &Arc<Shared>, fault: Fault) {
    info!(?fault, "injecting fault");
    match fault {
        Fault::DropConnections => drop_all(shared, "fault: drop connections"),
        Fault::Stall(d) => shared.lock().stall_until = Some(later(d)),
        Fault::ConnectivityLoss {
            restore_after,
            data_kept,
        } => {
            shared.lock().connectivity_lost = true;
            notice(
                shared,
                1100,
                "Connectivity between IB and Trader Workstation has been lost.",
            );
            let shared = shared.clone();
            tokio::spawn(async move {
                tokio::time::sleep(restore_after.min(MAX_FAULT_DURATION)).await;
                if data_kept {
                    notice(
                        &shared,
                        1102,
                        "Connectivity between IB and Trader Workstation has been restored - data maintained.",
                    );
                } else {
                    {
                        let core = shared.lock();
                        for c in core.conns.values() {
                            if let Ok(mut s) = c.subs.lock() {
                                s.by_con_id.clear();
                            }
                        }
                    }
                    notice(
                        &shared,
                        1101,
                        "Connectivity between IB and Trader Workstation has been restored - data lost.",
                    );
                }
                shared.lock().connectivity_lost = false;
            });
        }
        Fault::FarmDown => {
            notice(shared, 2103, "Market data farm connection is broken:usfarm");
            notice(shared, 2105, "HMDS data farm connection is broken:ushmds");
        }
        Fault::FarmUp => {
            notice(shared, 2104, "Market data farm connection is OK:usfarm");
            notice(shared, 2106, "HMDS data farm connection is OK:ushmds");
        }
        Fault::PacingViolation(n) => shared.lock().forced_pacing += n,
        Fault::MalformedFrame => {
            let core = shared.lock();
            for c in core.conns.values() {
                c.push(Outgoing::Raw(malformed_frame(c.codec)));
            }
        }
        Fault::OversizedFrame => {
            let core = shared.lock();
            for c in core.conns.values() {
                c.push(Outgoing::Raw(bytes::Bytes::from_static(&[
                    0x01, 0x00, 0x00, 0x00,
                ])));
            }
        }
        Fault::Restart { down_for } => {
            shared.lock().down_until = Some(later(down_for));
            drop_all(shared, "fault: TWS restart");
        }
        Fault::RejectOrders {
            count,
            code,
            reason,
        } => {
            shared.lock().order_path.rejects = RejectPlan {
                count,
                code,
                reason,
            };
        }
        Fault::HoldAcks(d) => {
            let until = later(d);
            shared.lock().order_path.held.until = Some(until);
            let shared = shared.clone();
            tokio::spawn(async move {
                tokio::time::sleep_until(until.into()).await;
                let mut core = shared.lock();
                // A later hold moved the end; its own timer releases.
                if core
                    .order_path
                    .held
                    .until
                    .is_some_and(|t| t <= Instant::now())
                {
                    core.release_held();
                }
            });
        }
        Fault::ReleaseAcks => shared.lock().release_held(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_control_commands() {
        assert_eq!("drop".parse(), Ok(Fault::DropConnections));
        assert_eq!(
            "stall 250".parse(),
            Ok(Fault::Stall(Duration::from_millis(250)))
        );
        assert_eq!(
            "lost 1101 10".parse(),
            Ok(Fault::ConnectivityLoss {
                restore_after: Duration::from_millis(10),
                data_kept: false
            })
        );
        assert!("lost 1200".parse::<Fault>().is_err());
        assert!("stall 99999999999999".parse::<Fault>().is_err());
        assert_eq!(
            "restart".parse(),
            Ok(Fault::Restart {
                down_for: Duration::from_millis(1000)
            })
        );
    }

    #[test]
    fn parses_order_path_commands() {
        assert_eq!(
            "reject 2 201 insufficient margin".parse(),
            Ok(Fault::RejectOrders {
                count: 2,
                code: 201,
                reason: "insufficient margin".into()
            })
        );
        assert_eq!(
            "reject".parse(),
            Ok(Fault::RejectOrders {
                count: 1,
                code: 201,
                reason: DEFAULT_REJECT_REASON.into()
            })
        );
        assert!("reject many".parse::<Fault>().is_err());
        assert!("reject 1 x".parse::<Fault>().is_err());
        assert_eq!(
            "hold 250".parse(),
            Ok(Fault::HoldAcks(Duration::from_millis(250)))
        );
        assert_eq!(
            "hold".parse(),
            Ok(Fault::HoldAcks(Duration::from_millis(5000)))
        );
        assert_eq!("release".parse(), Ok(Fault::ReleaseAcks));
        assert!("release now".parse::<Fault>().is_err());
    }
}
