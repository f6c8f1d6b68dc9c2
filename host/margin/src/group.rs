//! The unit of caching and of the explanation: the requirement of one group (an underlying under
//! Reg T and portfolio margin, a commodity under the futures rules).

use crate::explain::Node;
use rust_decimal::Decimal;

/// Portfolio-margin figures the account-level IB concentration stress needs from a group.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Stress {
    /// Worst loss over ±30% moves.
    pub big: Decimal,
    /// Worst loss over ±5% moves.
    pub small: Decimal,
}

/// One group's requirement and explanation node.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct GroupResult {
    pub initial: Decimal,
    pub maintenance: Decimal,
    /// Reg T end-of-day figure (Reg T groups; equal to `initial` elsewhere).
    pub eod: Decimal,
    pub node: Node,
    pub stress: Option<Stress>,
}
