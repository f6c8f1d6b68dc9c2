//! The explanation tree carried by every result: group → strategy → legs, each node naming the rule
//! and the numbers that produced its amounts ("why is this 4,310.50?").

use rust_decimal::Decimal;
use serde::Serialize;

/// One node of the explanation. Amounts are exact; rendering rounds them to the cent.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Node {
    /// What this node is: an underlying, a strategy (`bull call spread ×3`) or a leg.
    pub label: String,
    /// The rule applied, with its source (empty for plain legs).
    pub rule: String,
    /// Initial requirement of this node.
    pub initial: Decimal,
    /// Maintenance requirement of this node.
    pub maintenance: Decimal,
    /// The formula with the numbers filled in.
    pub detail: String,
    /// Sub-nodes (strategies of a group, legs of a strategy).
    pub children: Vec<Node>,
}

impl Node {
    /// A node with amounts and no children.
    pub fn new(
        label: impl Into<String>,
        rule: impl Into<String>,
        initial: Decimal,
        maintenance: Decimal,
    ) -> Node {
        Node {
            label: label.into(),
            rule: rule.into(),
            initial,
            maintenance,
            detail: String::new(),
            children: Vec::new(),
        }
    }

    /// Sets the formula text.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Node {
        self.detail = detail.into();
        self
    }

    /// Sets the children.
    pub fn with_children(mut self, children: Vec<Node>) -> Node {
        self.children = children;
        self
    }

    /// A leg (no amounts of its own).
    pub fn leg(label: impl Into<String>) -> Node {
        Node::new(label, "", Decimal::ZERO, Decimal::ZERO)
    }
}

/// Formats an amount for explanation text: exact, trailing zeros trimmed.
pub(crate) fn amt(d: Decimal) -> String {
    d.normalize().to_string()
}
