//! The simulated market: a seeded instrument universe, live prices and historical bars.

pub mod catalog;
pub mod history;
pub mod instruments;
pub mod prices;
pub mod pricing;
pub mod rng;
