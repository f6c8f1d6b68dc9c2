//! A script's error as the trader needs it: where (line and column) and what.

use rhai::{EvalAltResult, ParseError, Position};

/// One line: `LINE:COL: message` (the CLI prefixes the file name).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct ScriptError {
    /// 1-based; `None` when the error has no position (a limit hit inside the engine).
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl ScriptError {
    fn at(position: Position, message: String) -> Self {
        Self {
            line: position.line(),
            column: position.position(),
            message,
        }
    }

    fn render(&self) -> String {
        match (self.line, self.column) {
            (Some(line), Some(column)) => format!("{line}:{column}: {}", self.message),
            (Some(line), None) => format!("{line}: {}", self.message),
            _ => self.message.clone(),
        }
    }

    /// An error about the script as a whole, with no position.
    pub fn message(message: impl Into<String>) -> Self {
        Self {
            line: None,
            column: None,
            message: message.into(),
        }
    }

    pub fn parse(err: &ParseError) -> Self {
        Self::at(err.position(), err.err_type().to_string())
    }

    /// A run-time error inside hook `hook`: the innermost position (in the function the
    /// trader wrote), the trail of calls, and the hook when the engine gives no position
    /// (limits hit under `call_fn`).
    pub fn in_hook(err: &EvalAltResult, hook: &str) -> Self {
        let mut inner = err;
        let mut trail = Vec::new();
        while let EvalAltResult::ErrorInFunctionCall(name, _source, next, _) = inner {
            trail.push(name.clone());
            inner = next;
        }
        let mut error = Self::runtime(inner);
        if error.line.is_none() {
            error.message = format!("in `{hook}`: {}", error.message);
        } else if !trail.is_empty() {
            error.message = format!("{} (in `{}`)", error.message, trail.join("` ← `"));
        }
        error
    }

    /// A run-time error; a limit hit names the limit and how to fix it.
    pub fn runtime(err: &EvalAltResult) -> Self {
        let position = err.position();
        let message = match err {
            EvalAltResult::ErrorTooManyOperations(_) => {
                "stopped: too many operations (an endless loop, or too much work in one call)"
                    .to_owned()
            }
            EvalAltResult::ErrorStackOverflow(_) => {
                "stopped: calls nested too deeply (endless recursion?)".to_owned()
            }
            EvalAltResult::ErrorTerminated(reason, _) => format!("stopped: {reason}"),
            EvalAltResult::ErrorDataTooLarge(what, _) => {
                format!("stopped: {what} too large for a script")
            }
            other => other.to_string(),
        };
        // The innermost position is the one the trader can act on.
        let message = message
            .split(" (line ")
            .next()
            .unwrap_or(&message)
            .to_owned();
        Self::at(position, message)
    }
}
