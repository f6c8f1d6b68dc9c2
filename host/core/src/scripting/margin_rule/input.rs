//! What a margin rule reads: the portfolio snapshot and the requirement so far, as read-only
//! Rhai types (a rule that writes `input.initial = 0` or `leg.qty = 0` fails), so that a rule
//! can only answer, never change what the engine or the next rule sees.

use std::cell::Cell;

use rhai::{Array, CustomType, Dynamic, ImmutableString, Map, TypeBuilder};
use rust_decimal::Decimal;
use tickwork_margin::{Instrument, MarginResult, Portfolio, Position, UnderlyingClass};

thread_local! {
    /// The account's equity for the rules evaluated on this thread (see [`with_equity`]).
    static EQUITY: Cell<Option<Decimal>> = const { Cell::new(None) };
}

/// Runs `call` with the account's equity known to the margin rules it evaluates: the extension
/// point's signature carries only the snapshot and the built-in result, and the equity is not
/// part of a portfolio file (the CLI and an edited portfolio have none: `input.equity` is `()`).
pub fn with_equity<T>(equity: Option<Decimal>, call: impl FnOnce() -> T) -> T {
    struct Restore(Option<Decimal>);
    impl Drop for Restore {
        fn drop(&mut self) {
            EQUITY.with(|e| e.set(self.0));
        }
    }
    let _restore = Restore(EQUITY.with(|e| e.replace(equity)));
    call()
}

/// The equity set by [`with_equity`] on this thread (native plugin rules read it too).
pub fn current_equity() -> Option<Decimal> {
    EQUITY.with(Cell::get)
}

fn or_unit<T: Into<Dynamic>>(value: Option<T>) -> Dynamic {
    value.map_or(Dynamic::UNIT, Into::into)
}

/// One position as a rule sees it (`Leg` in scripts).
#[derive(Debug, Clone)]
pub struct MarginLeg {
    symbol: ImmutableString,
    sec_type: &'static str,
    qty: Decimal,
    mark: Decimal,
    multiplier: Decimal,
    strike: Option<Decimal>,
    right: Option<&'static str>,
    expiry: Option<ImmutableString>,
    underlying_price: Option<Decimal>,
    class: Option<&'static str>,
}

impl MarginLeg {
    fn new(portfolio: &Portfolio, position: &Position) -> Self {
        let (sec_type, multiplier, option) = match &position.instrument {
            Instrument::Stock => ("stock", Decimal::ONE, None),
            Instrument::Option(spec) => ("option", spec.multiplier, Some(spec)),
            Instrument::Future { multiplier, .. } => ("future", *multiplier, None),
            Instrument::FutureOption(spec) => ("future_option", spec.multiplier, Some(spec)),
        };
        let expiry = match &position.instrument {
            Instrument::Stock => None,
            Instrument::Option(spec) | Instrument::FutureOption(spec) => Some(spec.expiry),
            Instrument::Future { expiry, .. } => Some(*expiry),
        };
        let underlying = portfolio.underlyings.get(&position.symbol);
        Self {
            symbol: position.symbol.as_str().into(),
            sec_type,
            qty: position.qty,
            mark: position.price,
            multiplier,
            strike: option.map(|o| o.strike),
            right: option.map(|o| match o.right {
                tickwork_margin::Right::Call => "C",
                tickwork_margin::Right::Put => "P",
            }),
            expiry: expiry.map(|e| e.to_string().into()),
            underlying_price: underlying.map(|u| u.price),
            class: underlying.map(|u| class_name(u.class)),
        }
    }

    /// Signed market value: qty × mark × multiplier (`()` if it does not fit a decimal).
    fn value(&self) -> Option<Decimal> {
        self.qty
            .checked_mul(self.mark)?
            .checked_mul(self.multiplier)
    }

    /// Gross exposure to the underlying: |qty| × underlying price × multiplier.
    fn notional(&self) -> Option<Decimal> {
        self.qty
            .abs()
            .checked_mul(self.underlying_price?)?
            .checked_mul(self.multiplier)
    }
}

fn class_name(class: UnderlyingClass) -> &'static str {
    match class {
        UnderlyingClass::Equity => "equity",
        UnderlyingClass::Etf => "etf",
        UnderlyingClass::BroadIndex => "broad_index",
        UnderlyingClass::NarrowIndex => "narrow_index",
        UnderlyingClass::LeveragedEtf => "leveraged_etf",
        UnderlyingClass::Future => "future",
    }
}

impl CustomType for MarginLeg {
    fn build(mut builder: TypeBuilder<Self>) {
        builder
            .with_name("Leg")
            .with_get("symbol", |l: &mut Self| l.symbol.clone())
            .with_get("sec_type", |l: &mut Self| ImmutableString::from(l.sec_type))
            .with_get("qty", |l: &mut Self| l.qty)
            .with_get("mark", |l: &mut Self| l.mark)
            .with_get("multiplier", |l: &mut Self| l.multiplier)
            .with_get("strike", |l: &mut Self| or_unit(l.strike))
            .with_get("right", |l: &mut Self| {
                or_unit(l.right.map(ImmutableString::from))
            })
            .with_get("expiry", |l: &mut Self| or_unit(l.expiry.clone()))
            .with_get("underlying_price", |l: &mut Self| {
                or_unit(l.underlying_price)
            })
            .with_get("class", |l: &mut Self| {
                or_unit(l.class.map(ImmutableString::from))
            })
            .with_get("value", |l: &mut Self| or_unit(l.value()))
            .with_get("notional", |l: &mut Self| or_unit(l.notional()))
            .with_get("is_short", |l: &mut Self| {
                l.qty.is_sign_negative() && !l.qty.is_zero()
            })
            .with_get("is_option", |l: &mut Self| l.strike.is_some());
    }
}

/// The argument of `fn margin(input)` (`MarginInput` in scripts).
#[derive(Debug, Clone)]
pub struct MarginInput {
    legs: Array,
    prices: Map,
    equity: Option<Decimal>,
    initial: Decimal,
    maintenance: Decimal,
    method: &'static str,
    as_of: Option<ImmutableString>,
}

impl MarginInput {
    /// The snapshot and the requirement so far (the built-in figure and the rules before this
    /// one), with the equity set by [`with_equity`] on this thread.
    pub fn new(portfolio: &Portfolio, so_far: &MarginResult) -> Self {
        Self {
            legs: portfolio
                .positions
                .iter()
                .map(|p| Dynamic::from(MarginLeg::new(portfolio, p)))
                .collect(),
            prices: portfolio
                .underlyings
                .iter()
                .map(|(symbol, u)| (symbol.as_str().into(), Dynamic::from(u.price)))
                .collect(),
            equity: EQUITY.with(Cell::get),
            initial: so_far.initial,
            maintenance: so_far.maintenance,
            method: so_far.method.name(),
            as_of: portfolio.as_of.map(|d| d.to_string().into()),
        }
    }
}

impl CustomType for MarginInput {
    fn build(mut builder: TypeBuilder<Self>) {
        builder
            .with_name("MarginInput")
            .with_get("legs", |i: &mut Self| i.legs.clone())
            .with_get("prices", |i: &mut Self| i.prices.clone())
            .with_get("equity", |i: &mut Self| or_unit(i.equity))
            .with_get("initial", |i: &mut Self| i.initial)
            .with_get("maintenance", |i: &mut Self| i.maintenance)
            .with_get("method", |i: &mut Self| ImmutableString::from(i.method))
            .with_get("as_of", |i: &mut Self| or_unit(i.as_of.clone()));
    }
}
