//! Per-contract exchange margins from a dated table (CME performance-bond advisories): the rate in
//! force on the valuation date, scaled by |quantity|.

use crate::date::Date;
use crate::error::MarginError;
use crate::model::{DatedMargin, Portfolio};

/// The rate for `symbol` in force on `as_of` (the latest rate without a date limit if `as_of` is
/// unknown): the entry with the latest `effective` date on or before `as_of`.
pub(crate) fn rate<'a>(
    p: &'a Portfolio,
    symbol: &str,
    as_of: Option<Date>,
) -> Result<&'a DatedMargin, MarginError> {
    let path = format!("futures_margins.{symbol}");
    let rates = p.futures_margins.get(symbol).ok_or_else(|| {
        MarginError::new(
            &path,
            "missing: futures need an exchange margin rate (or SPAN risk arrays)",
        )
    })?;
    rates
        .iter()
        .filter(|r| match (r.effective, as_of) {
            (Some(e), Some(d)) => e <= d,
            _ => true,
        })
        .max_by_key(|r| r.effective)
        .ok_or_else(|| MarginError::new(&path, "no rate effective on the as_of date"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn picks_the_rate_in_force() {
        let mut p = Portfolio::default();
        let d = |s: &str| s.parse::<Date>().ok();
        p.futures_margins.insert(
            "ES".into(),
            vec![
                DatedMargin {
                    effective: d("2026-10-01"),
                    initial: dec!(14000),
                    maintenance: dec!(12700),
                },
                DatedMargin {
                    effective: d("2026-11-20"),
                    initial: dec!(14575),
                    maintenance: dec!(13250),
                },
                DatedMargin {
                    effective: d("2026-12-01"),
                    initial: dec!(15000),
                    maintenance: dec!(13600),
                },
            ],
        );
        assert_eq!(
            rate(&p, "ES", d("2026-11-24")).unwrap().maintenance,
            dec!(13250)
        );
        assert_eq!(
            rate(&p, "ES", d("2026-10-15")).unwrap().maintenance,
            dec!(12700)
        );
        assert!(rate(&p, "ES", d("2026-09-01")).is_err());
        assert!(rate(&p, "NQ", d("2026-11-24")).is_err());
    }
}
