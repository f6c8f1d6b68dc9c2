//! A margin rule's view of the portfolio: [`MarginInput`] decoded from the ABI (legs copied out
//! with their `leg_size` stride), and the [`MarginOutcome`] it answers.

use rust_decimal::Decimal;

use super::convert::{decimal_from_tw, decimal_to_tw, str_from_tw};
use crate::abi::{
    TW_ERR_BAD_ARG, TW_LEG_FUTURE, TW_LEG_FUTURE_OPTION, TW_LEG_OPTION, TW_LEG_STOCK,
    TW_MARGIN_ADD_ON, TW_MARGIN_HAS_EQUITY, TW_MARGIN_OVERRIDE, TW_MARGIN_UNCHANGED, TW_RIGHT_CALL,
    TW_RIGHT_PUT, TwMarginInput, TwMarginLeg, TwMarginResult, TwStatus, read_prefixed, v1_0_size,
};

/// What a leg is; a kind from a newer host is kept as its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegKind {
    Stock,
    Option,
    Future,
    FutureOption,
    Other(u32),
}

impl LegKind {
    pub fn from_raw(raw: u32) -> Self {
        match raw {
            TW_LEG_STOCK => Self::Stock,
            TW_LEG_OPTION => Self::Option,
            TW_LEG_FUTURE => Self::Future,
            TW_LEG_FUTURE_OPTION => Self::FutureOption,
            other => Self::Other(other),
        }
    }

    pub fn to_raw(self) -> u32 {
        match self {
            Self::Stock => TW_LEG_STOCK,
            Self::Option => TW_LEG_OPTION,
            Self::Future => TW_LEG_FUTURE,
            Self::FutureOption => TW_LEG_FUTURE_OPTION,
            Self::Other(raw) => raw,
        }
    }
}

/// Call or put.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Right {
    Call,
    Put,
}

/// One position of the portfolio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarginLeg {
    pub kind: LegKind,
    /// The underlying's symbol.
    pub symbol: String,
    pub right: Option<Right>,
    /// `YYYYMMDD` for options and futures.
    pub expiry_yyyymmdd: Option<u32>,
    /// Signed: shares or contracts.
    pub quantity: Decimal,
    /// Mark per share or unit.
    pub price: Decimal,
    pub strike: Decimal,
    /// Units per contract (1 for shares).
    pub multiplier: Decimal,
    /// Zero when unknown.
    pub underlying_price: Decimal,
}

impl MarginLeg {
    /// Shares of `symbol`: multiplier 1, no right or expiry.
    pub fn stock(symbol: &str, quantity: Decimal, price: Decimal) -> Self {
        Self {
            kind: LegKind::Stock,
            symbol: symbol.to_owned(),
            right: None,
            expiry_yyyymmdd: None,
            quantity,
            price,
            strike: Decimal::ZERO,
            multiplier: Decimal::ONE,
            underlying_price: price,
        }
    }

    /// Signed market value: quantity × price × multiplier.
    pub fn market_value(&self) -> Decimal {
        self.quantity * self.price * self.multiplier
    }
}

/// The portfolio and the requirement computed so far.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MarginInput {
    pub legs: Vec<MarginLeg>,
    /// Equity with loan value, when the host knows it.
    pub equity: Option<Decimal>,
    /// Initial requirement of the built-in rules and earlier custom rules.
    pub initial: Decimal,
    /// Maintenance requirement so far.
    pub maintenance: Decimal,
}

/// A rule's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MarginOutcome {
    /// Leave the requirement as it is.
    Unchanged,
    /// Add to the requirement; `reason` shows in the explanation tree.
    AddOn {
        initial: Decimal,
        maintenance: Decimal,
        reason: String,
    },
    /// Replace the requirement (lowering it needs the `margin = ["override"]` grant).
    Override {
        initial: Decimal,
        maintenance: Decimal,
        reason: String,
    },
}

impl MarginInput {
    /// Decodes the host's input: `TW_ERR_BAD_ARG` for a short struct, a leg stride below the
    /// v1.0 leg size, a null leg array, or a symbol that is not UTF-8.
    ///
    /// # Safety
    /// `input` must be null or point to a `TwMarginInput` whose `legs` hold `leg_count` legs
    /// `leg_size` bytes apart, all valid for the call.
    pub unsafe fn decode(input: *const TwMarginInput) -> Result<MarginInput, TwStatus> {
        // SAFETY: the caller's contract.
        let raw =
            unsafe { read_prefixed(input, v1_0_size::MARGIN_INPUT) }.map_err(|_| TW_ERR_BAD_ARG)?;
        if raw.leg_count > 0 && (raw.legs.is_null() || raw.leg_size < v1_0_size::MARGIN_LEG) {
            return Err(TW_ERR_BAD_ARG);
        }
        let mut legs = Vec::with_capacity(raw.leg_count.min(100_000));
        for i in 0..raw.leg_count {
            // SAFETY: leg `i` starts `i * leg_size` bytes into the host's array.
            let leg = unsafe {
                let at = raw.legs.cast::<u8>().add(i * raw.leg_size as usize);
                read_prefixed(at.cast::<TwMarginLeg>(), v1_0_size::MARGIN_LEG)
            }
            .map_err(|_| TW_ERR_BAD_ARG)?;
            // SAFETY: the symbol is valid for the call.
            let symbol = unsafe { str_from_tw(leg.symbol) }?.to_owned();
            legs.push(MarginLeg {
                kind: LegKind::from_raw(leg.kind),
                symbol,
                right: match leg.right {
                    TW_RIGHT_CALL => Some(Right::Call),
                    TW_RIGHT_PUT => Some(Right::Put),
                    _ => None,
                },
                expiry_yyyymmdd: (leg.expiry_yyyymmdd != 0).then_some(leg.expiry_yyyymmdd),
                quantity: decimal_from_tw(leg.quantity),
                price: decimal_from_tw(leg.price),
                strike: decimal_from_tw(leg.strike),
                multiplier: decimal_from_tw(leg.multiplier),
                underlying_price: decimal_from_tw(leg.underlying_price),
            });
        }
        Ok(MarginInput {
            legs,
            equity: (raw.flags & TW_MARGIN_HAS_EQUITY != 0).then(|| decimal_from_tw(raw.equity)),
            initial: decimal_from_tw(raw.initial),
            maintenance: decimal_from_tw(raw.maintenance),
        })
    }

    /// The ABI legs of this input; their symbols borrow from `self`.
    pub fn to_legs(&self) -> Vec<TwMarginLeg> {
        self.legs
            .iter()
            .map(|l| TwMarginLeg {
                struct_size: core::mem::size_of::<TwMarginLeg>() as u32,
                kind: l.kind.to_raw(),
                symbol: super::convert::str_to_tw(&l.symbol),
                right: match l.right {
                    Some(Right::Call) => TW_RIGHT_CALL,
                    Some(Right::Put) => TW_RIGHT_PUT,
                    None => 0,
                },
                expiry_yyyymmdd: l.expiry_yyyymmdd.unwrap_or(0),
                quantity: decimal_to_tw(l.quantity),
                price: decimal_to_tw(l.price),
                strike: decimal_to_tw(l.strike),
                multiplier: decimal_to_tw(l.multiplier),
                underlying_price: decimal_to_tw(l.underlying_price),
            })
            .collect()
    }

    /// The ABI input over `legs` (from [`Self::to_legs`], which must outlive it).
    pub fn to_raw(&self, legs: &[TwMarginLeg]) -> TwMarginInput {
        TwMarginInput {
            struct_size: core::mem::size_of::<TwMarginInput>() as u32,
            leg_size: core::mem::size_of::<TwMarginLeg>() as u32,
            legs: legs.as_ptr(),
            leg_count: legs.len(),
            flags: if self.equity.is_some() {
                TW_MARGIN_HAS_EQUITY
            } else {
                0
            },
            _pad: 0,
            equity: decimal_to_tw(self.equity.unwrap_or_default()),
            initial: decimal_to_tw(self.initial),
            maintenance: decimal_to_tw(self.maintenance),
        }
    }
}

impl MarginOutcome {
    /// Writes the outcome into the host's result (the reason through its `write_reason`).
    ///
    /// # Safety
    /// `out` must point to a writable `TwMarginResult` at least its v1.0 size, whose
    /// `write_reason` (if any) accepts `reason_user`.
    pub unsafe fn write(&self, out: *mut TwMarginResult) {
        let (outcome, initial, maintenance, reason) = match self {
            MarginOutcome::Unchanged => (TW_MARGIN_UNCHANGED, Decimal::ZERO, Decimal::ZERO, ""),
            MarginOutcome::AddOn {
                initial,
                maintenance,
                reason,
            } => (TW_MARGIN_ADD_ON, *initial, *maintenance, reason.as_str()),
            MarginOutcome::Override {
                initial,
                maintenance,
                reason,
            } => (TW_MARGIN_OVERRIDE, *initial, *maintenance, reason.as_str()),
        };
        // SAFETY: the fields written lie within the v1.0 size the caller guarantees.
        unsafe {
            core::ptr::addr_of_mut!((*out).outcome).write_unaligned(outcome);
            core::ptr::addr_of_mut!((*out).initial).write_unaligned(decimal_to_tw(initial));
            core::ptr::addr_of_mut!((*out).maintenance).write_unaligned(decimal_to_tw(maintenance));
            write_reason(out, reason);
        }
    }
}

/// Hands `reason` to the result's `write_reason`, if it has one.
///
/// # Safety
/// As [`MarginOutcome::write`].
pub(crate) unsafe fn write_reason(out: *mut TwMarginResult, reason: &str) {
    // SAFETY: both fields are within the v1.0 size.
    let (write, user) = unsafe {
        (
            core::ptr::addr_of!((*out).write_reason).read_unaligned(),
            core::ptr::addr_of!((*out).reason_user).read_unaligned(),
        )
    };
    if let (Some(write), false) = (write, reason.is_empty()) {
        // SAFETY: the host's sink copies `len` bytes borrowed for the call.
        unsafe { write(user, reason.as_ptr(), reason.len()) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn input_round_trips_through_the_abi_and_short_legs_are_refused() {
        let mut call = MarginLeg::stock("SPY", dec!(-2), dec!(4.10));
        call.kind = LegKind::Option;
        call.right = Some(Right::Call);
        call.expiry_yyyymmdd = Some(20261218);
        call.strike = dec!(600);
        call.multiplier = dec!(100);
        call.underlying_price = dec!(590.25);
        let input = MarginInput {
            legs: vec![MarginLeg::stock("SPY", dec!(100), dec!(590.25)), call],
            equity: Some(dec!(100000)),
            initial: dec!(15000.50),
            maintenance: dec!(12000),
        };
        let legs = input.to_legs();
        let raw = input.to_raw(&legs);
        // SAFETY: `raw` and `legs` are alive and consistent.
        assert_eq!(unsafe { MarginInput::decode(&raw) }, Ok(input.clone()));
        assert_eq!(input.legs[1].market_value(), dec!(-820.00));

        let mut short = raw;
        short.leg_size = 64;
        // SAFETY: as above; the stride is checked before any leg is read.
        assert_eq!(unsafe { MarginInput::decode(&short) }, Err(TW_ERR_BAD_ARG));
        // SAFETY: null is checked.
        assert_eq!(
            unsafe { MarginInput::decode(core::ptr::null()) },
            Err(TW_ERR_BAD_ARG)
        );
    }
}
