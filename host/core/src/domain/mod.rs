//! The workbench's own domain types. Prices, quantities and amounts are `Decimal`; conversion
//! from the wire's `f64` happens once, at the session boundary.

mod connection;
mod execution;
mod instrument;
mod intent;
mod market;
mod order;
mod position;

pub use connection::ConnectionState;
pub use execution::{ExecSide, Execution};
pub use instrument::{Instrument, InstrumentSpec, OptionRight, SecType};
pub use intent::{OrderIntent, Origin, TwsWhatIf};
pub use market::{Bar, Quote, Tick, TickKind};
pub use order::{Order, OrderSide, OrderType, RequestedChange, TimeInForce};
pub use position::Position;

/// A value read from storage or the wire that is not one of the expected spellings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{value}`")]
pub struct UnknownValue {
    pub what: &'static str,
    pub value: String,
}

/// Implements `as_str`/`FromStr` for a fieldless enum from one table of spellings, so the
/// database, the wire and the UI agree on one set of names.
macro_rules! spelled_enum {
    ($ty:ident, $what:literal, { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $text),+ }
            }
        }

        impl std::str::FromStr for $ty {
            type Err = $crate::domain::UnknownValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($ty::$variant),)+
                    _ => Err($crate::domain::UnknownValue { what: $what, value: s.to_owned() }),
                }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use spelled_enum;
