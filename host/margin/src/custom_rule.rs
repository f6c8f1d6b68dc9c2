//! The extension point for custom margin rules (Rhai scripts and plugins implement it later): a rule
//! sees the snapshot and the built-in result and returns an add-on or an override, which is recorded
//! in the explanation. By default rules may only add to the built-in requirement (DESIGN.md).

use crate::explain::{Node, amt};
use crate::model::Portfolio;
use crate::result::MarginResult;
use rust_decimal::Decimal;

/// What a custom rule decides.
#[derive(Clone, Debug, PartialEq)]
pub enum RuleOutcome {
    /// No change.
    Unchanged,
    /// Add these amounts to the requirement.
    AddOn {
        /// Added to the initial requirement.
        initial: Decimal,
        /// Added to the maintenance requirement.
        maintenance: Decimal,
        /// Shown in the explanation.
        reason: String,
    },
    /// Replace the requirement with these amounts.
    Override {
        /// The new initial requirement.
        initial: Decimal,
        /// The new maintenance requirement.
        maintenance: Decimal,
        /// Shown in the explanation.
        reason: String,
    },
}

/// A custom rule. Must be pure: same snapshot and result, same outcome.
pub trait CustomRule {
    /// Shown in the explanation (e.g. `script:concentration.rhai`).
    fn name(&self) -> &str;
    /// Decides the outcome; an `Err` is recorded in the explanation and changes nothing.
    fn evaluate(
        &self,
        portfolio: &Portfolio,
        builtin: &MarginResult,
    ) -> Result<RuleOutcome, String>;
}

/// Whether custom rules may lower the built-in requirement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OverridePolicy {
    /// Add-ons below zero and overrides below the current figure are clamped (the default).
    #[default]
    OnlyRaise,
    /// The user allowed rules to lower the requirement.
    AllowLowering,
}

/// Applies `rules` in order to `result`, each seeing the result so far; every rule leaves a node.
pub fn apply_custom_rules(
    portfolio: &Portfolio,
    mut result: MarginResult,
    rules: &[&dyn CustomRule],
    policy: OverridePolicy,
) -> MarginResult {
    for rule in rules {
        let (init0, maint0) = (result.initial, result.maintenance);
        let clamp = |v: Decimal, floor: Decimal| {
            if policy == OverridePolicy::OnlyRaise {
                v.max(floor)
            } else {
                v.max(Decimal::ZERO)
            }
        };
        let (node, init, maint) = match rule.evaluate(portfolio, &result) {
            Ok(RuleOutcome::Unchanged) => (
                Node::new(
                    format!("custom rule {}", rule.name()),
                    "custom rule: no change",
                    Decimal::ZERO,
                    Decimal::ZERO,
                ),
                init0,
                maint0,
            ),
            Ok(RuleOutcome::AddOn {
                initial,
                maintenance,
                reason,
            }) => {
                let i = clamp(init0 + initial, init0);
                let m = clamp(maint0 + maintenance, maint0);
                (
                    Node::new(
                        format!("custom rule {}", rule.name()),
                        "custom rule: add-on",
                        i - init0,
                        m - maint0,
                    )
                    .with_detail(format!(
                        "{reason} (asked {} / {})",
                        amt(initial),
                        amt(maintenance)
                    )),
                    i,
                    m,
                )
            }
            Ok(RuleOutcome::Override {
                initial,
                maintenance,
                reason,
            }) => {
                let i = clamp(initial, init0);
                let m = clamp(maintenance, maint0);
                (
                    Node::new(
                        format!("custom rule {}", rule.name()),
                        "custom rule: override",
                        i - init0,
                        m - maint0,
                    )
                    .with_detail(format!(
                        "{reason}: {} / {} replaces built-in {} / {}",
                        amt(i),
                        amt(m),
                        amt(init0),
                        amt(maint0)
                    )),
                    i,
                    m,
                )
            }
            Err(e) => (
                Node::new(
                    format!("custom rule {}", rule.name()),
                    "custom rule failed: ignored",
                    Decimal::ZERO,
                    Decimal::ZERO,
                )
                .with_detail(e),
                init0,
                maint0,
            ),
        };
        result.initial = init;
        result.maintenance = maint;
        result.groups.push(node);
    }
    result
}
