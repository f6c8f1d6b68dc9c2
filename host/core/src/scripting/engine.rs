//! The engine factory: every limit set, nothing loadable, a wall-clock deadline per call.

use std::cell::Cell;
use std::time::{Duration, Instant};

use rhai::module_resolvers::DummyModuleResolver;
use rhai::{AST, Dynamic, Engine, Scope};

use super::ScriptError;

/// Operations per hook call of a strategy (the counter restarts on every call).
pub const STRATEGY_OPERATIONS: u64 = 200_000;
/// Operations per call of a margin rule.
pub const MARGIN_OPERATIONS: u64 = 50_000;
/// Wall-clock budget of one strategy hook call.
pub const DEADLINE: Duration = Duration::from_millis(50);

thread_local! {
    /// The deadline of the call running on this thread (the engine is shared by threads).
    static CALL_DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Runs `call` with a wall-clock budget: a script that does little per operation, or waits in
/// slow native calls, is still stopped (`stopped: wall-clock budget exceeded`).
/// Calls nest (a margin rule evaluated while another script's call runs): the outer deadline
/// is restored afterwards.
pub fn with_deadline<T>(budget: Duration, call: impl FnOnce() -> T) -> T {
    struct Reset(Option<Instant>);
    impl Drop for Reset {
        fn drop(&mut self) {
            CALL_DEADLINE.with(|d| d.set(self.0));
        }
    }
    let _reset = Reset(CALL_DEADLINE.with(|d| d.replace(Some(Instant::now() + budget))));
    call()
}

/// An engine with every limit a user script runs under. `max_operations` is the CPU budget per
/// call (0 would mean unlimited, so it is at least 1).
pub fn base_engine(max_operations: u64) -> Engine {
    let mut engine = Engine::new();
    engine
        .set_max_operations(max_operations.max(1))
        .set_max_call_levels(32)
        .set_max_expr_depths(64, 32)
        .set_max_string_size(4 * 1024)
        .set_max_array_size(10_000)
        .set_max_map_size(1_000)
        .set_max_variables(256)
        .set_max_functions(256)
        // No modules at all: `import` fails (0 means none here, unlike the other limits).
        .set_max_modules(0)
        .set_strict_variables(true)
        .set_fail_on_invalid_map_property(true)
        .set_module_resolver(DummyModuleResolver::new());
    engine.disable_symbol("eval");
    engine.on_progress(|operations| {
        // Reading the clock every operation would cost more than the scripts.
        if operations % 1024 != 0 {
            return None;
        }
        let late = CALL_DEADLINE
            .with(|d| d.get())
            .is_some_and(|t| Instant::now() > t);
        late.then(|| Dynamic::from("wall-clock budget exceeded"))
    });
    engine
}

/// The strategy engine: the base limits, the `ta` module, the event types and `ctx`.
pub fn strategy_engine() -> Engine {
    let mut engine = base_engine(STRATEGY_OPERATIONS);
    super::ta::register(&mut engine);
    super::strategy::register(&mut engine);
    engine
}

/// Compiles `source` with the names the host provides to every script (`state`, `params`)
/// declared, so that strict variables accept them; the error is at line and column.
pub fn check(engine: &Engine, source: &str) -> Result<AST, ScriptError> {
    let mut scope = Scope::new();
    scope.push("state", rhai::Map::new());
    scope.push("params", rhai::Map::new());
    engine
        .compile_with_scope(&scope, source)
        .map_err(|err| ScriptError::parse(&err))
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;
    use rust_decimal_macros::dec;

    use super::*;

    fn run(source: &str) -> Result<Dynamic, ScriptError> {
        let engine = strategy_engine();
        let ast = check(&engine, source)?;
        let mut scope = Scope::new();
        scope.push("state", rhai::Map::new());
        scope.push("params", rhai::Map::new());
        with_deadline(Duration::from_secs(20), || {
            engine
                .eval_ast_with_scope::<Dynamic>(&mut scope, &ast)
                .map_err(|err| ScriptError::runtime(&err))
        })
    }

    #[test]
    fn decimals_are_exact() {
        assert!(run("0.1 + 0.2 == 0.3").unwrap().as_bool().unwrap());
        let total = run("let qty = 3; qty * 4210.25 * 0.05").unwrap();
        assert_eq!(total.cast::<Decimal>(), dec!(631.5375));
    }

    #[test]
    fn malicious_scripts_are_stopped_with_a_clear_message() {
        for (source, expected) in [
            ("loop { }", "too many operations"),
            ("fn f(n) { f(n + 1) } f(0)", "nested too deeply"),
            ("let s = \"x\"; loop { s += s; }", "too large"),
            ("let a = []; loop { a.push(1); }", "too large"),
        ] {
            let err = run(source).unwrap_err();
            assert!(err.message.contains(expected), "{source}: {err}");
        }
    }

    #[test]
    fn what_cannot_compile_is_named_at_line_and_column() {
        let err = run("let a = 1;\nlet b = nope + 1;").unwrap_err();
        assert_eq!((err.line, err.column), (Some(2), Some(9)), "{err}");
        assert!(err.message.contains("nope"), "{err}");
        assert!(err.to_string().starts_with("2:9: "), "{err}");
        let err = run("eval(\"1\")").unwrap_err();
        assert!(err.to_string().starts_with("1:1: "), "{err}");
        let err = run("import \"x\" as x;").unwrap_err();
        assert!(err.message.to_lowercase().contains("module"), "{err}");
        // The host's names are known; a typo in a map property is an error, not `()`.
        assert!(run("state.count = 1; state.count").is_ok());
        let err = run("let m = #{a: 1}; m.b").unwrap_err();
        assert!(err.message.contains('b'), "{err}");
    }

    #[test]
    fn the_wall_clock_deadline_stops_a_call_within_its_budget() {
        let engine = base_engine(u64::MAX);
        let ast = check(&engine, "let n = 0; loop { n += 1; }").unwrap();
        let started = Instant::now();
        let err = with_deadline(Duration::from_millis(20), || {
            engine
                .run_ast(&ast)
                .map_err(|err| ScriptError::runtime(&err))
        })
        .unwrap_err();
        assert!(err.message.contains("wall-clock budget exceeded"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}
