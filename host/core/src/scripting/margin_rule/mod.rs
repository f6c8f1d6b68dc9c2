//! Margin-rule scripts: `fn margin(input)` is a pure function of the portfolio snapshot and the
//! requirement so far, run on an engine of its own that has no order, timer or storage
//! functions, and plugged into the margin engine's extension point ([`CustomRule`]). It
//! answers an add-on (or, if it asks, an override), which the host validates and clamps: by
//! default a rule can only raise the requirement (docs/scripting.md, "Margin-rule scripts").

mod input;
mod load;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use rhai::{AST, CallFnOptions, Dynamic, Engine, EvalAltResult, Map, Scope};
use rust_decimal::Decimal;
use tickwork_margin::{CustomRule, MarginResult, Portfolio, RuleOutcome};

pub use input::{MarginInput, MarginLeg, current_equity, with_equity};
pub use load::{ALLOW_LOWERING_SETTING, MarginRuleLoader, load_margin_rules};

use super::{MARGIN_OPERATIONS, ScriptError, base_engine, with_deadline};

/// Wall-clock budget of one `margin` call: rules run inside the gate's margin check, so they
/// must be quick (a rule does a few thousand operations in well under a millisecond; the rest
/// is headroom for a loaded machine).
pub const MARGIN_DEADLINE: Duration = Duration::from_millis(20);

/// Largest amount a rule may answer (10¹⁵): far above any account's margin, and small enough
/// that adding it to the requirement cannot overflow a `Decimal`.
const MAX_AMOUNT: Decimal = Decimal::from_parts(2_764_472_320, 232_830, 0, false, 0);

/// Names a trader might try from a strategy; a margin rule calling one is told why it fails.
const ORDER_FUNCTIONS: &[&str] = &[
    "buy",
    "sell",
    "buy_limit",
    "sell_limit",
    "buy_stop",
    "sell_stop",
    "cancel",
    "cancel_all",
    "flatten",
    "place",
    "order",
    "timer",
    "every",
    "after",
    "store",
    "save",
    "log",
];

/// The engine margin rules run on: the base limits with [`MARGIN_OPERATIONS`], the read-only
/// input types and `ta`, and nothing that can act (no `ctx`, orders, timers or storage;
/// `print` and `debug` go nowhere).
pub fn margin_engine() -> Engine {
    let mut engine = base_engine(MARGIN_OPERATIONS);
    super::ta::register(&mut engine);
    engine
        .build_type::<MarginInput>()
        .build_type::<MarginLeg>()
        .on_print(|_| {})
        .on_debug(|_, _, _| {});
    engine
}

/// One engine shared by every rule and thread (it holds no per-call state: each call gets a
/// fresh `Scope`, and the deadline is per thread).
static ENGINE: LazyLock<Engine> = LazyLock::new(margin_engine);

/// A compiled margin rule. Cheap to clone; safe to evaluate from any thread.
#[derive(Debug, Clone)]
pub struct ScriptMarginRule {
    /// `script:<name>`, as the explanation shows it.
    label: String,
    ast: Arc<AST>,
}

impl ScriptMarginRule {
    /// Compiles `source` on the margin engine (strict variables: an undefined name is an error
    /// here, with its line and column) and requires `fn margin(input)`.
    pub fn compile(name: &str, source: &str) -> Result<Self, ScriptError> {
        let mut ast = ENGINE
            .compile(source)
            .map_err(|err| ScriptError::parse(&err))?;
        ast.set_source(name);
        let margins: Vec<usize> = ast
            .iter_functions()
            .filter(|f| f.name == "margin")
            .map(|f| f.params.len())
            .collect();
        if !margins.contains(&1) {
            let message = match margins.first() {
                Some(n) => format!(
                    "fn margin takes one parameter (input), this one takes {n}: \
                     fn margin(input) {{ … }}"
                ),
                None => "a margin rule defines fn margin(input), returning \
                         #{initial: …, maintenance: …, reason: \"…\"} or ()"
                    .to_owned(),
            };
            return Err(ScriptError {
                line: None,
                column: None,
                message,
            });
        }
        Ok(Self {
            label: format!("script:{name}"),
            ast: Arc::new(ast),
        })
    }

    /// Calls `margin(input)` with a fresh scope under the deadline; a panic in the engine is
    /// an error like any other.
    fn call(&self, input: MarginInput) -> Result<Dynamic, String> {
        let run = || {
            with_deadline(MARGIN_DEADLINE, || {
                let mut scope = Scope::new();
                // Top-level statements run before each call (constants a rule declares there),
                // in this call's own scope: nothing survives from one call to the next.
                let options = CallFnOptions::new().eval_ast(true).rewind_scope(true);
                ENGINE.call_fn_with_options::<Dynamic>(
                    options,
                    &mut scope,
                    &self.ast,
                    "margin",
                    (input,),
                )
            })
        };
        match catch_unwind(AssertUnwindSafe(run)) {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) => Err(describe(&err)),
            Err(_) => Err("stopped: the script engine panicked".to_owned()),
        }
    }
}

impl CustomRule for ScriptMarginRule {
    fn name(&self) -> &str {
        &self.label
    }

    fn evaluate(
        &self,
        portfolio: &Portfolio,
        builtin: &MarginResult,
    ) -> Result<RuleOutcome, String> {
        let answer = self.call(MarginInput::new(portfolio, builtin))?;
        outcome(answer).map_err(|why| format!("fn margin returned {why}"))
    }
}

/// A stored rule that does not compile: it stays in the explanation, failed and ignored, so the
/// trader sees why it does not apply.
#[derive(Debug, Clone)]
pub struct BrokenMarginRule {
    label: String,
    error: String,
}

impl BrokenMarginRule {
    /// The rule `name` whose source failed with `error` (shown as `does not compile: …`).
    pub fn new(name: &str, error: &ScriptError) -> Self {
        Self {
            label: format!("script:{name}"),
            error: format!("does not compile: {error}"),
        }
    }
}

impl CustomRule for BrokenMarginRule {
    fn name(&self) -> &str {
        &self.label
    }

    fn evaluate(&self, _: &Portfolio, _: &MarginResult) -> Result<RuleOutcome, String> {
        Err(self.error.clone())
    }
}

/// The innermost error at its line and column (limit errors have none: "in fn margin"), with
/// the functions it was raised in, and a hint when the rule tried to trade.
fn describe(err: &EvalAltResult) -> String {
    let (mut inner, mut trail) = (err, Vec::new());
    while let EvalAltResult::ErrorInFunctionCall(name, _, next, pos) = inner {
        trail.push(match (pos.line(), pos.position()) {
            (Some(l), Some(c)) => format!("{name} (called at {l}:{c})"),
            _ => name.clone(),
        });
        inner = next;
    }
    let error = ScriptError::runtime(inner);
    let mut text = match error.line {
        Some(_) => error.to_string(),
        None => format!("in fn margin: {}", error.message),
    };
    if !trail.is_empty() {
        text.push_str(&format!(" (in fn {})", trail.join(" <- ")));
    }
    if error.message.starts_with("No writable property") {
        text.push_str(": the input of a margin rule is read-only");
    }
    if let EvalAltResult::ErrorFunctionNotFound(signature, _) = inner {
        let name = signature.split([' ', '(']).next().unwrap_or_default();
        if ORDER_FUNCTIONS.contains(&name) {
            text.push_str(": margin rules cannot trade or keep anything, they only answer");
        }
    }
    text
}

/// The host's reading of the answer: `()` is no change; a map is an add-on, or an override
/// with `override: true`. Both amounts are required, each a decimal or an integer, not
/// negative; `reason` is an optional string; any other key is an error (a typo would
/// otherwise be silently ignored).
fn outcome(answer: Dynamic) -> Result<RuleOutcome, String> {
    if answer.is_unit() {
        return Ok(RuleOutcome::Unchanged);
    }
    let type_name = answer.type_name();
    let Some(map) = answer.try_cast::<Map>() else {
        return Err(format!(
            "a value of type {type_name}: expected #{{initial: …, maintenance: …, reason: \"…\"}} or ()"
        ));
    };
    for key in map.keys() {
        if !["initial", "maintenance", "reason", "override"].contains(&key.as_str()) {
            return Err(format!(
                "an unknown key `{key}`: the keys are initial, maintenance, reason and override"
            ));
        }
    }
    let amount = |key: &str| -> Result<Decimal, String> {
        let value = map
            .get(key)
            .ok_or_else(|| format!("no `{key}`: both initial and maintenance are required"))?;
        let amount = if let Some(d) = value.clone().try_cast::<Decimal>() {
            d
        } else if let Ok(i) = value.as_int() {
            Decimal::from(i)
        } else {
            return Err(format!(
                "`{key}` as a {}: expected a decimal or an integer",
                value.type_name()
            ));
        };
        if amount.is_sign_negative() && !amount.is_zero() {
            return Err(format!(
                "a negative `{key}` ({amount}): amounts are not negative (an override \
                 can lower the requirement only where the user allowed it)"
            ));
        }
        if amount > MAX_AMOUNT {
            return Err(format!("`{key}` {amount}: more than 10^15"));
        }
        Ok(amount)
    };
    let (initial, maintenance) = (amount("initial")?, amount("maintenance")?);
    let reason = match map.get("reason") {
        None => "no reason given".to_owned(),
        Some(r) => r
            .clone()
            .into_immutable_string()
            .map_err(|t| format!("`reason` as a {t}: expected a string"))?
            .to_string(),
    };
    let is_override = match map.get("override") {
        None => false,
        Some(o) => o
            .as_bool()
            .map_err(|t| format!("`override` as a {t}: expected true or false"))?,
    };
    Ok(if is_override {
        RuleOutcome::Override {
            initial,
            maintenance,
            reason,
        }
    } else {
        RuleOutcome::AddOn {
            initial,
            maintenance,
            reason,
        }
    })
}

#[cfg(test)]
mod tests;
