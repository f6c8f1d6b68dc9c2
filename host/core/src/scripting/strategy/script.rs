//! A compiled strategy script: its AST (shared by every instance), which hooks it defines,
//! the parameters it declares, and its content hash (what a live-trading grant is tied to).

use std::sync::Arc;
use std::time::Duration;

use rhai::{AST, CallFnOptions, Dynamic, Engine, Map, Scope};
use sha2::{Digest, Sha256};

use super::params::{ParamSpec, ParamValue};
use crate::scripting::{ScriptError, check, with_deadline};

/// The hooks the host calls, with the parameters each takes.
pub const HOOKS: [(&str, usize); 7] = [
    ("on_start", 1),
    ("on_tick", 2),
    ("on_bar", 2),
    ("on_order", 2),
    ("on_fill", 2),
    ("on_timer", 2),
    ("on_stop", 1),
];

/// Which hooks a script defines; only those are called.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Hooks {
    pub on_start: bool,
    pub on_tick: bool,
    pub on_bar: bool,
    pub on_order: bool,
    pub on_fill: bool,
    pub on_timer: bool,
    pub on_stop: bool,
}

impl Hooks {
    fn set(&mut self, name: &str) {
        match name {
            "on_start" => self.on_start = true,
            "on_tick" => self.on_tick = true,
            "on_bar" => self.on_bar = true,
            "on_order" => self.on_order = true,
            "on_fill" => self.on_fill = true,
            "on_timer" => self.on_timer = true,
            "on_stop" => self.on_stop = true,
            _ => {}
        }
    }
}

/// A strategy ready to run: compile once, start as many instances as needed.
#[derive(Debug, Clone)]
pub struct StrategyScript {
    pub name: String,
    pub source: String,
    /// SHA-256 of the source, hex.
    pub content_sha256: String,
    pub(super) ast: Arc<AST>,
    pub hooks: Hooks,
    pub params: Vec<ParamSpec>,
    /// Things that compile but are probably mistakes (`fn on_bars(ctx, bar)`).
    pub warnings: Vec<String>,
}

/// Hex SHA-256 of a script's text.
pub fn content_sha256(source: &str) -> String {
    Sha256::digest(source.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl StrategyScript {
    /// Compiles `source` with the strategy engine, finds its hooks and reads its parameters.
    pub fn compile(engine: &Engine, name: &str, source: &str) -> Result<Self, ScriptError> {
        let mut ast = check(engine, source)?;
        ast.set_source(name);
        let mut hooks = Hooks::default();
        let mut warnings = Vec::new();
        let mut declares_params = false;
        for function in ast.iter_functions() {
            let arity = function.params.len();
            if function.name == "params" {
                if arity != 0 {
                    return Err(ScriptError::message("`fn params()` takes no parameters"));
                }
                declares_params = true;
                continue;
            }
            match HOOKS.iter().find(|(hook, _)| *hook == function.name) {
                Some((hook, wanted)) if *wanted == arity => hooks.set(hook),
                Some((hook, wanted)) => {
                    return Err(ScriptError::message(format!(
                        "`{hook}` takes {wanted} parameter{} ({}), not {arity}",
                        if *wanted == 1 { "" } else { "s" },
                        if *wanted == 1 { "ctx" } else { "ctx, event" }
                    )));
                }
                None if function.name.starts_with("on_") => warnings.push(format!(
                    "`{}` is not a hook and will never be called (hooks: {})",
                    function.name,
                    HOOKS.map(|(h, _)| h).join(", ")
                )),
                None => {}
            }
        }
        let params = if declares_params {
            declared_params(engine, &ast)?
        } else {
            Vec::new()
        };
        Ok(Self {
            name: name.to_owned(),
            content_sha256: content_sha256(source),
            source: source.to_owned(),
            ast: Arc::new(ast),
            hooks,
            params,
            warnings,
        })
    }
}

/// Calls `fn params()` once, alone (no top level, no state), and checks what it returns.
fn declared_params(engine: &Engine, ast: &AST) -> Result<Vec<ParamSpec>, ScriptError> {
    let mut scope = Scope::new();
    scope.push("state", Map::new());
    scope.push("params", Map::new());
    let options = CallFnOptions::new().eval_ast(false);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        with_deadline(Duration::from_millis(200), || {
            engine.call_fn_with_options::<Dynamic>(options, &mut scope, ast, "params", ())
        })
    }));
    let value = match result {
        Ok(Ok(value)) => value,
        Ok(Err(err)) => return Err(ScriptError::in_hook(&err, "params")),
        Err(_) => return Err(ScriptError::message("the script engine failed in `params`")),
    };
    let map = value.try_cast::<Map>().ok_or_else(|| {
        ScriptError::message("`fn params()` must return a map like #{ fast: 10 }")
    })?;
    map.iter()
        .map(|(name, value)| {
            ParamValue::from_dynamic(value)
                .map(|default| ParamSpec {
                    name: name.to_string(),
                    default,
                })
                .ok_or_else(|| {
                    ScriptError::message(format!(
                        "parameter `{name}` must default to an integer, a decimal, true/false or text, not {}",
                        value.type_name()
                    ))
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scripting::strategy_engine;

    #[test]
    fn hooks_params_and_mistakes_are_found() {
        let engine = strategy_engine();
        let script = StrategyScript::compile(
            &engine,
            "t",
            "fn params() { #{ fast: 10, k: 2.5, name: \"x\", on: true } }\n\
             fn on_bar(ctx, bar) { }\nfn on_bars(ctx, bar) { }",
        )
        .unwrap();
        assert!(script.hooks.on_bar && !script.hooks.on_tick);
        let names: Vec<_> = script.params.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["fast", "k", "name", "on"]);
        assert!(script.warnings[0].contains("`on_bars` is not a hook"));
        assert_eq!(script.content_sha256.len(), 64);
        let err = StrategyScript::compile(&engine, "t", "fn on_bar(bar) { }").unwrap_err();
        assert!(err.message.contains("`on_bar` takes 2 parameters"), "{err}");
        let err = StrategyScript::compile(&engine, "t", "fn params() { #{ a: [] } }").unwrap_err();
        assert!(err.message.contains("parameter `a`"), "{err}");
        let err = StrategyScript::compile(&engine, "t", "fn params() { loop {} }").unwrap_err();
        assert!(err.message.contains("too many operations"), "{err}");
    }
}
