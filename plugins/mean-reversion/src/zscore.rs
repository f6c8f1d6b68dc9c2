//! The z-score of a price against a window of earlier prices, in exact decimals.

use std::collections::VecDeque;

use rust_decimal::{Decimal, MathematicalOps};

/// `(x − mean) / sd` over `window` (population deviation); `None` while the window has fewer
/// than two prices or they are all equal.
pub fn z_score(window: &VecDeque<Decimal>, x: Decimal) -> Option<Decimal> {
    if window.len() < 2 {
        return None;
    }
    let n = Decimal::from(window.len());
    let mean = window.iter().sum::<Decimal>() / n;
    let var = window
        .iter()
        .map(|p| (p - mean) * (p - mean))
        .sum::<Decimal>()
        / n;
    let sd = var.sqrt()?;
    if sd.is_zero() {
        return None;
    }
    Some((x - mean) / sd)
}
