//! A plugin's margin rule (`tickwork.margin-rule/1`) as the margin engine's extension point
//! sees it ([`CustomRule`]): the portfolio encoded as `TwMarginLeg`s, `compute` called on a
//! worker thread of the rule's own under a deadline, the answer decoded and validated. An
//! error, a panic, a bad outcome or a timeout is an `Err`: the engine records it in the
//! explanation and keeps the requirement as it was. A rule that misses its deadline is marked
//! hung and not called again (its thread cannot be stopped). A rule may lower the requirement
//! only with the `margin = ["override"]` grant and the user's setting.

use core::ffi::c_void;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock, mpsc};
use std::time::Duration;

use rust_decimal::Decimal;
use sqlx::PgPool;
use tickwork_margin::{CustomRule, Instrument, MarginResult, Portfolio, Right, RuleOutcome};
use tickwork_plugin_api::abi::{
    TW_LEG_FUTURE, TW_LEG_FUTURE_OPTION, TW_LEG_OPTION, TW_LEG_STOCK, TW_MARGIN_ADD_ON,
    TW_MARGIN_HAS_EQUITY, TW_MARGIN_OVERRIDE, TW_MARGIN_UNCHANGED, TW_OK, TW_RIGHT_CALL,
    TW_RIGHT_PUT, TwDecimal, TwMarginInput, TwMarginLeg, TwMarginResult, TwStr, v1_0_size,
};

use super::capability::PluginMarginRule;
use super::journal;
use super::library::status_name;
use crate::risk::margin::SharedRule;
use crate::store::{StoreError, plugins as store};

/// How long one `compute` may take: rules run inside the gate's margin check.
pub const COMPUTE_DEADLINE: Duration = Duration::from_millis(50);

/// Largest amount a rule may answer (10¹⁵), as for margin-rule scripts.
const MAX_AMOUNT: Decimal = Decimal::from_parts(2_764_472_320, 232_830, 0, false, 0);
/// Longest reason kept from a rule.
const MAX_REASON_BYTES: usize = 1024;

/// What the worker thread decodes from a call.
type Answer = Result<RuleOutcome, String>;

/// The portfolio as the ABI carries it, owning what the pointers point to.
struct Job {
    symbols: Vec<String>,
    legs: Vec<TwMarginLeg>,
    input: TwMarginInput,
    reply: mpsc::Sender<Answer>,
}

// SAFETY: the raw pointers in `legs` and `input` point into the job's own vectors, which move
// with it to the worker thread.
unsafe impl Send for Job {}

/// A loaded plugin's margin rule, ready for [`crate::risk::margin::MarginRules`].
pub struct PluginRule {
    /// `plugin:<plugin id>/<rule id>`, as the explanation shows it.
    name: String,
    plugin_id: String,
    rule_id: String,
    may_lower: bool,
    deadline: Duration,
    jobs: Mutex<mpsc::Sender<Job>>,
    hung: AtomicBool,
}

impl std::fmt::Debug for PluginRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginRule")
            .field("name", &self.name)
            .field("hung", &self.hung.load(Ordering::Relaxed))
            .finish()
    }
}

fn dec(d: Decimal) -> TwDecimal {
    TwDecimal {
        bytes: d.serialize(),
    }
}

fn tw(s: &str) -> TwStr {
    TwStr {
        ptr: s.as_ptr(),
        len: s.len(),
    }
}

fn yyyymmdd(date: tickwork_margin::Date) -> u32 {
    date.to_string().replace('-', "").parse().unwrap_or(0)
}

unsafe extern "C" fn write_reason(user: *mut c_void, data: *const u8, len: usize) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: `user` is the `Vec<u8>` the worker put in the result for this call.
        let Some(out) = (unsafe { user.cast::<Vec<u8>>().as_mut() }) else {
            return;
        };
        if data.is_null() || len == 0 {
            return;
        }
        let room = MAX_REASON_BYTES.saturating_sub(out.len()).min(len);
        // SAFETY: the plugin passes `len` readable bytes.
        out.extend_from_slice(unsafe { std::slice::from_raw_parts(data, room) });
    }));
}

impl PluginRule {
    /// Starts the rule's worker thread. `may_lower` is the plugin's `margin = ["override"]`
    /// grant (the user's setting still applies on top).
    pub fn new(rule: &PluginMarginRule) -> std::io::Result<Self> {
        Self::with_deadline(rule, COMPUTE_DEADLINE)
    }

    /// [`Self::new`] with another deadline (tests).
    pub fn with_deadline(rule: &PluginMarginRule, deadline: Duration) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel::<Job>();
        let table = rule.table;
        let plugin_id = rule.provider.plugin_id.clone();
        let rule_id = rule.rule_id.clone();
        let (p, r) = (plugin_id.clone(), rule_id.clone());
        std::thread::Builder::new()
            .name(format!("margin:{rule_id}"))
            .spawn(move || {
                while let Ok(mut job) = rx.recv() {
                    job.input.legs = job.legs.as_ptr();
                    let mut reason: Vec<u8> = Vec::new();
                    let mut out = TwMarginResult {
                        struct_size: v1_0_size::MARGIN_RESULT,
                        outcome: TW_MARGIN_UNCHANGED,
                        initial: TwDecimal::default(),
                        maintenance: TwDecimal::default(),
                        reason_user: (&mut reason as *mut Vec<u8>).cast(),
                        write_reason: Some(write_reason),
                    };
                    let compute = table.0.compute.expect("validated when loaded");
                    let status = {
                        let _guard = journal::enter(&p, &r, "compute");
                        // SAFETY: a validated table's `compute` (pure, re-entrant) with an
                        // input whose pointers live in `job` for the whole call.
                        unsafe { compute(&job.input, &mut out) }
                    };
                    let _ = job.reply.send(decode(status, &out, &reason));
                }
            })?;
        Ok(Self {
            name: format!("plugin:{plugin_id}/{rule_id}"),
            may_lower: rule.provider.permissions.margin_override,
            plugin_id,
            rule_id,
            deadline,
            jobs: Mutex::new(tx),
            hung: AtomicBool::new(false),
        })
    }

    /// Whether the rule missed its deadline and is no longer called.
    pub fn is_hung(&self) -> bool {
        self.hung.load(Ordering::Acquire)
    }

    fn job(portfolio: &Portfolio, so_far: &MarginResult, reply: mpsc::Sender<Answer>) -> Job {
        let equity = crate::scripting::margin_rule::current_equity();
        let symbols: Vec<String> = portfolio
            .positions
            .iter()
            .map(|p| p.symbol.clone())
            .collect();
        let legs = portfolio
            .positions
            .iter()
            .zip(&symbols)
            .map(|(p, symbol)| {
                let (kind, right, expiry, strike, multiplier) = match &p.instrument {
                    Instrument::Stock => (TW_LEG_STOCK, 0, 0, Decimal::ZERO, Decimal::ONE),
                    Instrument::Option(o) | Instrument::FutureOption(o) => (
                        if matches!(p.instrument, Instrument::Option(_)) {
                            TW_LEG_OPTION
                        } else {
                            TW_LEG_FUTURE_OPTION
                        },
                        match o.right {
                            Right::Call => TW_RIGHT_CALL,
                            Right::Put => TW_RIGHT_PUT,
                        },
                        yyyymmdd(o.expiry),
                        o.strike,
                        o.multiplier,
                    ),
                    Instrument::Future { expiry, multiplier } => (
                        TW_LEG_FUTURE,
                        0,
                        yyyymmdd(*expiry),
                        Decimal::ZERO,
                        *multiplier,
                    ),
                };
                TwMarginLeg {
                    struct_size: v1_0_size::MARGIN_LEG,
                    kind,
                    symbol: tw(symbol),
                    right,
                    expiry_yyyymmdd: expiry,
                    quantity: dec(p.qty),
                    price: dec(p.price),
                    strike: dec(strike),
                    multiplier: dec(multiplier),
                    underlying_price: dec(portfolio
                        .underlyings
                        .get(&p.symbol)
                        .map_or(Decimal::ZERO, |u| u.price)),
                }
            })
            .collect::<Vec<_>>();
        let input = TwMarginInput {
            struct_size: v1_0_size::MARGIN_INPUT,
            leg_size: v1_0_size::MARGIN_LEG,
            legs: std::ptr::null(),
            leg_count: legs.len(),
            flags: if equity.is_some() {
                TW_MARGIN_HAS_EQUITY
            } else {
                0
            },
            _pad: 0,
            equity: dec(equity.unwrap_or_default()),
            initial: dec(so_far.initial),
            maintenance: dec(so_far.maintenance),
        };
        Job {
            symbols,
            legs,
            input,
            reply,
        }
    }

    fn call(&self, portfolio: &Portfolio, so_far: &MarginResult) -> Answer {
        if self.is_hung() {
            return Err(format!(
                "hung earlier (a call took over {} ms): not called again until Tickwork restarts",
                self.deadline.as_millis()
            ));
        }
        let (reply, answer) = mpsc::channel();
        let job = Self::job(portfolio, so_far, reply);
        debug_assert_eq!(job.symbols.len(), job.legs.len());
        // One call at a time per rule: the deadline measures the plugin, not the queue.
        let jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
        if jobs.send(job).is_err() {
            return Err("its worker thread stopped".into());
        }
        match answer.recv_timeout(self.deadline) {
            Ok(answer) => answer,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                self.hung.store(true, Ordering::Release);
                Err(format!(
                    "no answer within {} ms: marked hung, not called again until Tickwork \
                     restarts",
                    self.deadline.as_millis()
                ))
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => Err("its worker thread stopped".into()),
        }
    }
}

fn amount(field: &str, d: TwDecimal) -> Result<Decimal, String> {
    let v = Decimal::deserialize(d.bytes);
    if v.is_sign_negative() && !v.is_zero() {
        return Err(format!(
            "a negative {field} ({v}): amounts are not negative"
        ));
    }
    if v > MAX_AMOUNT {
        return Err(format!("{field} {v}: more than 10^15"));
    }
    Ok(v)
}

fn decode(status: u32, out: &TwMarginResult, reason: &[u8]) -> Answer {
    if status != TW_OK {
        return Err(format!("compute returned {}", status_name(status)));
    }
    let reason = match String::from_utf8_lossy(reason).trim() {
        "" => "no reason given".to_owned(),
        r => r.to_owned(),
    };
    let (initial, maintenance) = match out.outcome {
        TW_MARGIN_UNCHANGED => return Ok(RuleOutcome::Unchanged),
        TW_MARGIN_ADD_ON | TW_MARGIN_OVERRIDE => (
            amount("initial", out.initial)?,
            amount("maintenance", out.maintenance)?,
        ),
        other => return Err(format!("unknown outcome {other}")),
    };
    Ok(if out.outcome == TW_MARGIN_ADD_ON {
        RuleOutcome::AddOn {
            initial,
            maintenance,
            reason,
        }
    } else {
        RuleOutcome::Override {
            initial,
            maintenance,
            reason,
        }
    })
}

impl CustomRule for PluginRule {
    fn name(&self) -> &str {
        &self.name
    }

    fn evaluate(
        &self,
        portfolio: &Portfolio,
        builtin: &MarginResult,
    ) -> Result<RuleOutcome, String> {
        let answer = self.call(portfolio, builtin);
        let answer = match answer {
            // Without the override grant an override never goes below the figure so far,
            // whatever the user's setting.
            Ok(RuleOutcome::Override {
                initial,
                maintenance,
                reason,
            }) if !self.may_lower
                && (initial < builtin.initial || maintenance < builtin.maintenance) =>
            {
                Ok(RuleOutcome::Override {
                    initial: initial.max(builtin.initial),
                    maintenance: maintenance.max(builtin.maintenance),
                    reason: format!(
                        "{reason} (not lowered: the plugin has no margin override permission)"
                    ),
                })
            }
            other => other,
        };
        if let Err(e) = &answer {
            tracing::warn!(
                plugin = %self.plugin_id,
                rule = %self.rule_id,
                "margin rule failed, the requirement is unchanged: {e}"
            );
        }
        answer
    }
}

/// The margin rules of the plugins loaded into this process, in load order.
static REGISTERED: RwLock<Vec<(String, SharedRule)>> = RwLock::new(Vec::new());

/// Makes a loaded plugin's rule part of every margin figure from now on (the gate's check,
/// the ticket, the calculator, `tickwork margin --plugins`).
pub fn register(rule: &PluginMarginRule) -> std::io::Result<()> {
    let adapter: SharedRule = Arc::new(PluginRule::new(rule)?);
    REGISTERED
        .write()
        .unwrap_or_else(|p| p.into_inner())
        .push((rule.provider.plugin_id.clone(), adapter));
    Ok(())
}

/// The registered plugin rules, in load order.
pub fn registered() -> Vec<SharedRule> {
    REGISTERED
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .map(|(_, r)| r.clone())
        .collect()
}

/// The registered rules of the plugins still enabled in the allowlist: a plugin the user
/// disables stops counting at the next decision, though its library stays loaded.
pub async fn active(pool: &PgPool) -> Result<Vec<SharedRule>, StoreError> {
    if REGISTERED
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .is_empty()
    {
        return Ok(Vec::new());
    }
    let enabled = store::enabled_ids(pool).await?;
    Ok(REGISTERED
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .filter(|(id, _)| enabled.contains(id))
        .map(|(_, r)| r.clone())
        .collect())
}

#[cfg(test)]
mod tests;
