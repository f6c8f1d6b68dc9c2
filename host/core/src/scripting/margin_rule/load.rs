//! The margin rules that apply: the enabled stored `margin_rule` scripts, compiled, then the
//! margin rules of the loaded, enabled native plugins, with the policy the user chose
//! (`margin.rules.allow_lowering`; rules only raise by default).

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tickwork_margin::OverridePolicy;

use super::{BrokenMarginRule, ScriptMarginRule};
use crate::risk::margin::{MarginRules, SharedRule};
use crate::store::{StoreError, scripts, settings};

/// The settings key that lets rules lower the built-in requirement (JSON `true`); anything
/// else, or nothing, keeps the default: rules may only raise it.
pub const ALLOW_LOWERING_SETTING: &str = "margin.rules.allow_lowering";

async fn policy(pool: &PgPool) -> Result<OverridePolicy, StoreError> {
    Ok(
        match settings::get::<bool>(pool, ALLOW_LOWERING_SETTING).await {
            Ok(Some(true)) => OverridePolicy::AllowLowering,
            Ok(_) => OverridePolicy::OnlyRaise,
            // A stored value of the wrong shape keeps the safe default rather than failing every
            // margin check.
            Err(StoreError::Corrupt { message, .. }) => {
                tracing::warn!(%message, "margin rule policy unreadable: rules only raise");
                OverridePolicy::OnlyRaise
            }
            Err(err) => return Err(err),
        },
    )
}

fn compile(stored: &[scripts::StoredScript]) -> Vec<SharedRule> {
    stored
        .iter()
        .map(|s| match ScriptMarginRule::compile(&s.name, &s.source) {
            Ok(rule) => Arc::new(rule) as SharedRule,
            Err(err) => Arc::new(BrokenMarginRule::new(&s.name, &err)) as SharedRule,
        })
        .collect()
}

/// Loads and compiles the enabled margin rules (in name order). A rule that does not compile
/// is kept as a failed node in the explanation instead of stopping the others.
pub async fn load_margin_rules(pool: &PgPool) -> Result<MarginRules, StoreError> {
    let stored = scripts::enabled_margin_rules(pool).await?;
    Ok(MarginRules::new(compile(&stored), policy(pool).await?)
        .chain(crate::plugins::margin_rule::active(pool).await?))
}

type Key = Vec<(String, DateTime<Utc>)>;

/// [`load_margin_rules`] that compiles again only when a rule was added, edited, switched or
/// removed: the gate reads the rules for every order, so an edit applies to the next one.
#[derive(Debug, Default)]
pub struct MarginRuleLoader {
    compiled: Mutex<Option<(Key, MarginRules)>>,
}

impl MarginRuleLoader {
    /// The rules that apply now, with the user's current policy.
    pub async fn load(&self, pool: &PgPool) -> Result<MarginRules, StoreError> {
        let stored = scripts::enabled_margin_rules(pool).await?;
        let policy = policy(pool).await?;
        let plugins = crate::plugins::margin_rule::active(pool).await?;
        let key: Key = stored
            .iter()
            .map(|s| (s.name.clone(), s.updated_at))
            .collect();
        let mut compiled = self.compiled.lock().unwrap_or_else(|p| p.into_inner());
        let rules = match compiled.as_ref() {
            Some((cached, rules)) if *cached == key => rules.clone(),
            _ => {
                let rules = MarginRules::new(compile(&stored), OverridePolicy::OnlyRaise);
                *compiled = Some((key, rules.clone()));
                rules
            }
        };
        Ok(rules.with_policy(policy).chain(plugins))
    }
}
