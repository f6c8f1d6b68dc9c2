//! Checks every snapshot passes before it is margined, whether it comes from a file or is built in
//! code: magnitudes that keep all arithmetic inside `Decimal` (no input can panic), and fields the
//! engine would not apply, which are errors rather than silently ignored. Each problem is returned
//! as (path, message) so that it prints as one line naming the field.

use crate::model::{
    Instrument, MAX_MAGNITUDE, MAX_UNITS, Portfolio, Position, UnderlyingClass, in_range,
};
use rust_decimal::Decimal;

type Problem = Option<(String, String)>;

fn out_of_range(path: String) -> Problem {
    Some((path, format!("out of range (|value| ≤ {MAX_MAGNITUDE})")))
}

impl Portfolio {
    /// The first problem of the snapshot, as (path, message).
    pub(crate) fn problem(&self) -> Problem {
        if !(Decimal::NEGATIVE_ONE..=Decimal::ONE).contains(&self.rate) {
            return Some(("rate".into(), "must be between -1 and 1".into()));
        }
        for (sym, u) in &self.underlyings {
            if !in_range(u.price) || u.price.is_sign_negative() {
                return Some((
                    format!("underlyings.{sym}.price"),
                    format!("must be in [0, {MAX_MAGNITUDE}]"),
                ));
            }
            if u.leverage <= Decimal::ZERO || u.leverage > Decimal::ONE_HUNDRED {
                return Some((
                    format!("underlyings.{sym}.leverage"),
                    "must be in (0, 100]".into(),
                ));
            }
            if u.class == UnderlyingClass::Future && u.leverage != Decimal::ONE {
                return Some((
                    format!("underlyings.{sym}.leverage"),
                    "not applied to class future (futures are margined per contract or by SPAN)"
                        .into(),
                ));
            }
            if u.class == UnderlyingClass::Future && !u.marginable {
                return Some((
                    format!("underlyings.{sym}.marginable"),
                    "not applied to class future (futures are margined per contract or by SPAN)"
                        .into(),
                ));
            }
        }
        for (i, p) in self.positions.iter().enumerate() {
            if let Some(problem) = p.problem(i) {
                return Some(problem);
            }
        }
        self.futures_problem()
    }

    /// Problems of the futures inputs: rates, risk arrays, SPAN parameters.
    fn futures_problem(&self) -> Problem {
        let not_a_future = |path: String, sym: &str| -> Problem {
            let class = self.underlyings.get(sym)?.class;
            (class != UnderlyingClass::Future).then(|| {
                (
                    path,
                    format!("{sym} is not of class future; these inputs apply to futures only"),
                )
            })
        };
        for (sym, rates) in &self.futures_margins {
            if rates
                .iter()
                .any(|r| !in_range(r.initial) || !in_range(r.maintenance))
            {
                return out_of_range(format!("futures_margins.{sym}"));
            }
            if let Some(p) = not_a_future(format!("futures_margins.{sym}"), sym) {
                return Some(p);
            }
        }
        for (j, a) in self.risk_arrays.iter().enumerate() {
            let path = format!("risk_arrays[{j}]");
            let fields = a
                .scenarios
                .iter()
                .chain([&a.extreme_fraction, &a.short_option_minimum]);
            if fields.copied().any(|v| !in_range(v)) || a.strike.is_some_and(|k| !in_range(k)) {
                return out_of_range(path);
            }
            if !(Decimal::ZERO..=Decimal::ONE).contains(&a.extreme_fraction) {
                return Some((
                    format!("{path}.extreme_fraction"),
                    "must be in [0, 1]".into(),
                ));
            }
            if a.right.is_some() != a.strike.is_some() {
                return Some((
                    format!(
                        "{path}.{}",
                        if a.right.is_some() { "strike" } else { "right" }
                    ),
                    "an option array needs both right and strike; a futures array neither".into(),
                ));
            }
            if a.right.is_none() && !a.short_option_minimum.is_zero() {
                return Some((
                    format!("{path}.short_option_minimum"),
                    "not applied to a futures array (right and strike absent)".into(),
                ));
            }
            if a.short_option_minimum.is_sign_negative() {
                return Some((
                    format!("{path}.short_option_minimum"),
                    "must not be negative".into(),
                ));
            }
            if let Some(p) = not_a_future(format!("{path}.symbol"), &a.symbol) {
                return Some(p);
            }
        }
        for (sym, s) in &self.span_params {
            let path = format!("span_params.{sym}");
            if !in_range(s.spread_charge) || s.spread_charge.is_sign_negative() {
                return Some((
                    format!("{path}.spread_charge"),
                    format!("must be in [0, {MAX_MAGNITUDE}]"),
                ));
            }
            if !(Decimal::ZERO..=Decimal::TEN).contains(&s.initial_ratio) {
                return Some((format!("{path}.initial_ratio"), "must be in [0, 10]".into()));
            }
            if let Some(p) = not_a_future(path, sym) {
                return Some(p);
            }
        }
        None
    }
}

impl Position {
    /// The first problem of this position (index `i` for the path).
    pub(crate) fn problem(&self, i: usize) -> Problem {
        let path = |field: &str| format!("positions[{i}].{field}");
        if !in_range(self.qty) {
            return out_of_range(path("qty"));
        }
        if !in_range(self.price) {
            return out_of_range(path("price"));
        }
        let (multiplier, strike) = match &self.instrument {
            Instrument::Stock => (None, None),
            Instrument::Option(s) | Instrument::FutureOption(s) => {
                (Some(s.multiplier), Some(s.strike))
            }
            Instrument::Future { multiplier, .. } => (Some(*multiplier), None),
        };
        if let Some(iv) = self.iv {
            if strike.is_none() {
                return Some((
                    path("iv"),
                    "not applied to stock or futures (they are revalued linearly); give it on options"
                        .into(),
                ));
            }
            if iv.is_sign_negative() || iv > Decimal::ONE_HUNDRED {
                return Some((path("iv"), "must be in [0, 100]".into()));
            }
        }
        if multiplier.is_some_and(|m| m <= Decimal::ZERO) {
            return Some((path("multiplier"), "must be a positive number".into()));
        }
        let units = self.qty.abs() * multiplier.unwrap_or(Decimal::ONE);
        if units > MAX_UNITS {
            return Some((
                path("qty"),
                format!("|qty| × multiplier = {units} exceeds {MAX_UNITS} units"),
            ));
        }
        if let Some(k) = strike {
            if !in_range(k) {
                return out_of_range(path("strike"));
            }
            if k <= Decimal::ZERO {
                return Some((path("strike"), "must be positive".into()));
            }
            if !self.qty.fract().is_zero() {
                return Some((path("qty"), "option quantity must be a whole number".into()));
            }
        }
        None
    }
}
