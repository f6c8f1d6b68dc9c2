//! What a plugin author implements. Each trait's constant id is listed in the manifest's
//! `[provides]`; the [`crate::export_plugin!`] macro turns the types into capability tables.

use super::event::Event;
use super::host::StrategyCtx;
use super::margin::{MarginInput, MarginOutcome};

/// A trading strategy (`tickwork.strategy/1`). One instance per configured strategy; its calls
/// come one at a time on a host-owned worker thread. It trades only through
/// [`StrategyCtx::submit`], which the host's risk gate checks like any other order.
pub trait Strategy: Sized + 'static {
    /// Reverse-DNS type id, e.g. `org.tickwork.example.mean-reversion`.
    const TYPE_ID: &'static str;

    /// Makes an instance from its parameters (a JSON object as text); `Err` refuses with a
    /// one-line reason that the host shows.
    fn create(ctx: &mut StrategyCtx, params_json: &str) -> Result<Self, String>;

    /// Handles one event; `Err` faults the instance (the host applies its fault policy).
    fn on_event(&mut self, ctx: &mut StrategyCtx, event: &Event<'_>) -> Result<(), String>;

    /// Called before the instance is freed (e.g. to unsubscribe); no call follows.
    fn on_destroy(&mut self, _ctx: &mut StrategyCtx) {}
}

/// A custom margin rule (`tickwork.margin-rule/1`): pure and re-entrant, called on any thread,
/// with no host services. By default the host only lets it add to the requirement.
pub trait MarginRule: 'static {
    /// Reverse-DNS rule id, e.g. `org.tickwork.example.concentration`.
    const RULE_ID: &'static str;

    /// Decides the outcome; `Err` leaves the requirement unchanged and the host shows a warning
    /// with the reason.
    fn compute(input: &MarginInput) -> Result<MarginOutcome, String>;
}
