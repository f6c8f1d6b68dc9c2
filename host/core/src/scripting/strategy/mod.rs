//! Strategies written in Rhai: a compiled [`StrategyScript`], running [`StrategyInstance`]s
//! that turn events (bars, ticks, fills, order updates, timers) into [`Intent`]s, and the
//! strategy's own [`Book`]. The same instance code runs in a backtest, on paper and live; only
//! what feeds it and what carries out its intents differ.

mod book;
mod ctx;
mod instance;
pub mod params;
pub mod persist;
mod script;
pub mod symbols;
mod types;

#[cfg(test)]
mod tests;

pub use book::Book;
pub use ctx::{CONSOLE_LINES_PER_CALL, Intent, OrderRequest, StrategyCtx, TimerRequest, register};
pub use instance::{Fault, Output, SavedInstance, StrategyInstance};
pub use params::{ParamSpec, ParamValue, ParamValues};
pub use script::{HOOKS, Hooks, StrategyScript, content_sha256};
pub use types::{
    IntentStatus, ScriptBar, ScriptFill, ScriptOpenOrder, ScriptOrderUpdate, ScriptPosition,
    ScriptTick, nanos,
};
