//! The risk gate's state: which accounts are armed, the kill switch, limits and order rate.
//!
//! The gate decides; it does not send or write. [`super::OrderRouter`] wraps it with the audit
//! log and the session so that no order can skip it.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::limits::RiskLimits;
use super::rules::{self, Denial, RiskContext, RiskRule};
use crate::domain::OrderIntent;

const RATE_WINDOW: Duration = Duration::from_secs(60);

#[derive(Debug, Default)]
pub struct RiskGate {
    default_limits: RiskLimits,
    limits: HashMap<String, RiskLimits>,
    armed: HashSet<String>,
    /// Set by the kill switch; cleared only by an explicit reset. Shared with the router so the
    /// kill switch takes effect at once, without waiting for the gate's lock.
    halted: Arc<AtomicBool>,
    /// The connection profile says read-only: no account can be armed at all.
    read_only: bool,
    sent: HashMap<String, VecDeque<Instant>>,
}

impl RiskGate {
    /// A gate with every account disarmed: the workbench starts read-only.
    pub fn new(default_limits: RiskLimits) -> Self {
        Self {
            default_limits,
            ..Self::default()
        }
    }

    /// A gate for a read-only connection profile: arming is refused, so nothing is ever sent.
    pub fn read_only(default_limits: RiskLimits) -> Self {
        Self {
            read_only: true,
            ..Self::new(default_limits)
        }
    }

    /// The gate for a connection profile: read-only profiles get a gate that can never be armed.
    pub fn for_profile(read_only: bool, default_limits: RiskLimits) -> Self {
        if read_only {
            Self::read_only(default_limits)
        } else {
            Self::new(default_limits)
        }
    }

    pub fn limits(&self, account: &str) -> &RiskLimits {
        self.limits.get(account).unwrap_or(&self.default_limits)
    }

    pub fn set_limits(&mut self, account: &str, limits: RiskLimits) {
        self.limits.insert(account.to_owned(), limits);
    }

    /// Allows trading on `account`. Refused while the kill switch is engaged.
    pub fn arm(&mut self, account: &str) -> Result<(), Denial> {
        if self.read_only {
            return Err(Denial {
                rule: RiskRule::NotArmed,
                reason: "the connection profile is read-only; edit the profile to allow trading"
                    .into(),
            });
        }
        if self.is_halted() {
            return Err(Denial {
                rule: RiskRule::KillSwitch,
                reason: "the kill switch is engaged; reset it before arming".into(),
            });
        }
        self.armed.insert(account.to_owned());
        Ok(())
    }

    pub fn disarm(&mut self, account: &str) {
        self.armed.remove(account);
    }

    pub fn is_armed(&self, account: &str) -> bool {
        !self.is_halted() && self.armed.contains(account)
    }

    pub fn armed_accounts(&self) -> Vec<String> {
        let mut accounts: Vec<String> = self.armed.iter().cloned().collect();
        accounts.sort();
        accounts
    }

    /// Disarms every account and refuses arming until [`RiskGate::reset_kill_switch`].
    pub fn engage_kill_switch(&mut self) {
        self.halted.store(true, Ordering::SeqCst);
        self.armed.clear();
    }

    pub fn reset_kill_switch(&mut self) {
        self.halted.store(false, Ordering::SeqCst);
    }

    pub fn is_halted(&self) -> bool {
        self.halted.load(Ordering::SeqCst)
    }

    /// The kill switch's flag, for engaging it without the gate's lock.
    pub(super) fn halt_flag(&self) -> Arc<AtomicBool> {
        self.halted.clone()
    }

    /// Runs every rule in order; the first that fails decides. An allowed order counts
    /// towards the account's order rate.
    pub fn decide(
        &mut self,
        intent: &OrderIntent,
        ctx: &RiskContext,
        now: Instant,
    ) -> Result<(), Denial> {
        self.check(intent, ctx, now)?;
        self.sent
            .entry(intent.account.clone())
            .or_default()
            .push_back(now);
        Ok(())
    }

    /// What [`RiskGate::decide`] would answer now, without counting the order: the ticket
    /// shows the gate's reason before the trader presses anything.
    pub fn check(
        &mut self,
        intent: &OrderIntent,
        ctx: &RiskContext,
        now: Instant,
    ) -> Result<(), Denial> {
        if self.is_halted() {
            return Err(Denial {
                rule: RiskRule::KillSwitch,
                reason: "the kill switch is engaged".into(),
            });
        }
        if !self.armed.contains(&intent.account) {
            return Err(Denial {
                rule: RiskRule::NotArmed,
                reason: format!(
                    "trading is not armed for account {} (the workbench starts read-only)",
                    intent.account
                ),
            });
        }
        let sent = self.sent.entry(intent.account.clone()).or_default();
        while sent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= RATE_WINDOW)
        {
            sent.pop_front();
        }
        let sent_last_minute = sent.len();
        let limits = self
            .limits
            .get(&intent.account)
            .unwrap_or(&self.default_limits);
        rules::check_well_formed(intent)?;
        rules::check_origin(ctx, intent)?;
        rules::check_max_quantity(limits, intent)?;
        rules::check_max_notional(limits, ctx, intent)?;
        rules::check_price_collar(limits, ctx, intent)?;
        rules::check_position_limit(limits, ctx, intent)?;
        rules::check_order_rate(limits, sent_last_minute)?;
        rules::check_daily_loss(limits, ctx, intent)?;
        rules::check_margin(limits, ctx, intent)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_only_profiles_gate_refuses_arming_and_a_trading_one_allows_it() {
        let mut gate = RiskGate::for_profile(true, RiskLimits::default());
        let denial = gate.arm("DU1").unwrap_err();
        assert_eq!(denial.rule, RiskRule::NotArmed);
        assert!(denial.reason.contains("read-only"), "{denial}");
        assert!(!gate.is_armed("DU1"));
        let mut gate = RiskGate::for_profile(false, RiskLimits::default());
        gate.arm("DU1").unwrap();
        assert!(gate.is_armed("DU1"));
    }
}
