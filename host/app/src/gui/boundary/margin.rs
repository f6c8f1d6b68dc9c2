//! The margin calculator: the live portfolio or a hypothetical one.

#[derive(Debug, Clone)]
pub enum MarginCommand {
    /// Margin of the live portfolio of an account.
    Live { account: String },
}

#[derive(Debug, Clone)]
pub enum MarginEvent {
    /// A calculation's outcome, rendered as text until the panel draws it.
    Calculated { account: String, text: String },
}
