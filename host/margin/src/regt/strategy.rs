//! The Reg T strategies (docs/margin.md): recognition by shape (same multiplier, expiry order,
//! stock in lots of the multiplier; butterflies and condors with equal or unequal wings); their
//! requirements are in `formulas`. `generate` lists every recognisable strategy instance of a book;
//! grouping then chooses how many of each to use.

use super::book::{Book, OptLeg};
use super::naked::Costs;
use crate::model::Right;
use rust_decimal::Decimal;
use std::collections::HashMap;

/// A strategy shape. Leg order in [`Template::legs`] follows the comment on each variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Kind {
    /// [short, long], same right, long expires on/after short.
    Spread,
    /// [short call, short put], same expiry.
    ShortStraddle,
    /// [low wing, middle ×2, high wing] long wings, same right and expiry, any intervals.
    LongButterfly,
    /// [low wing, middle ×2, high wing] short wings.
    ShortButterfly,
    /// [long put, short put, short call, long call], same expiry, any wings.
    IronCondor,
    /// [long K1, short K2, short K3, long K4], same right and expiry, K1 < K2 < K3 < K4.
    Condor,
    /// [long call K1, short call K2, long put K2, short put K1].
    LongBox,
    /// [short call K1, long call K2, short put K2, long put K1].
    ShortBox,
    /// [short call] + long stock lot.
    CoveredCall,
    /// [short put] + short stock lot.
    CoveredPut,
    /// [long put] + long stock lot.
    ProtectivePut,
    /// [long call] + short stock lot.
    ProtectiveCall,
    /// [long put, short call] + long stock lot, put strike below call strike.
    Collar,
    /// [long put, short call] + long stock lot, same strike and expiry.
    Conversion,
    /// [short put, long call] + short stock lot, same strike and expiry.
    ReverseConversion,
}

impl Kind {
    /// The rule text with its source, shown in explanations.
    pub fn rule(self) -> &'static str {
        match self {
            Kind::Spread => {
                "spread: call max(K_long − K_short, 0), put max(K_short − K_long, 0); long leg expires on/after short (IB; CBOE 12.3(c)(5)(C)(ii))"
            }
            Kind::ShortStraddle => {
                "short straddle/strangle: max(naked call, naked put) + the other leg's value (IB; FINRA 4210(f)(2)(G)(viii))"
            }
            Kind::LongButterfly => {
                "long butterfly, same expiry: min(max loss at expiry, spreads); 0 with equal wings (IB; CBOE 12.3)"
            }
            Kind::ShortButterfly => {
                "short butterfly: min(max loss at expiry, spreads) = calls K_mid − K_low, puts K_high − K_mid (IB; CBOE 12.3)"
            }
            Kind::IronCondor => {
                "iron condor/butterfly, same expiry: min(max loss at expiry, spreads) = the wider wing (IB; CBOE 12.3)"
            }
            Kind::Condor => {
                "long condor, same right and expiry: min(max loss at expiry, spreads) (IB; CBOE 12.3)"
            }
            Kind::LongBox => "long box: 0 (IB; CBOE 12.3)",
            Kind::ShortBox => "short box: max(1.02 × cost to close, strike width) (IB)",
            Kind::CoveredCall => {
                "covered call: initial stock initial + call ITM; maintenance max(ITM + stock margin at min(S,K), min(stock value, max(call value, stock margin))) (IB)"
            }
            Kind::CoveredPut => {
                "covered put: short-stock margin + put ITM (IB; FINRA 4210(f)(2)(C))"
            }
            Kind::ProtectivePut => {
                "protective put: initial stock initial; maintenance min(10%·K + put OTM, stock maintenance) (IB)"
            }
            Kind::ProtectiveCall => {
                "protective call: initial stock initial; maintenance min(10%·K + call OTM, short-stock maintenance) (IB)"
            }
            Kind::Collar => {
                "collar: initial stock initial + call ITM; maintenance min(10%·K_put + put OTM, 25%·K_call) (IB)"
            }
            Kind::Conversion => {
                "conversion: initial stock initial + call ITM; maintenance 10%·K + call ITM (IB)"
            }
            Kind::ReverseConversion => {
                "reverse conversion: initial short-stock initial + put ITM; maintenance 10%·K + put ITM (IB)"
            }
        }
    }

    /// Whether the strategy contains a stock lot.
    pub fn uses_stock(self) -> bool {
        matches!(
            self,
            Kind::CoveredCall
                | Kind::CoveredPut
                | Kind::ProtectivePut
                | Kind::ProtectiveCall
                | Kind::Collar
                | Kind::Conversion
                | Kind::ReverseConversion
        )
    }
}

/// One recognised strategy instance: per unit, it uses `uses` (unit index, count).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Template {
    pub kind: Kind,
    /// Option series in the order documented on [`Kind`].
    pub legs: Vec<usize>,
    pub uses: Vec<(usize, i64)>,
    /// Requirement of one unit of the strategy.
    pub cost: Costs,
}

/// Most four-leg combinations (condors, iron condors) listed per underlying. Their number grows with
/// the fourth power of the chain; beyond this the grouping may miss some (and says so).
pub(crate) const MAX_FOUR_LEG: usize = 4_000;

/// Lists every strategy instance recognisable in `book`; `true` when four-leg shapes were capped.
pub(crate) fn generate(book: &Book) -> (Vec<Template>, bool) {
    let o = &book.options;
    let mut out = Vec::new();
    let mut four_legs = 0usize;
    let mut capped = false;
    let mut push = |kind: Kind, legs: Vec<usize>| {
        if matches!(kind, Kind::Condor | Kind::IronCondor) {
            if four_legs >= MAX_FOUR_LEG {
                capped = true;
                return;
            }
            four_legs += 1;
        }
        let (cost, _) = super::formulas::price(book, kind, &legs, false);
        let mut uses: Vec<(usize, i64)> = Vec::with_capacity(legs.len() + 1);
        for (pos, &l) in legs.iter().enumerate() {
            let n = if matches!(kind, Kind::LongButterfly | Kind::ShortButterfly) && pos == 1 {
                2
            } else {
                1
            };
            uses.push((l, n));
        }
        if kind.uses_stock() {
            let lot = legs
                .first()
                .map_or(100, |&l| stock_lot(o[l].spec.multiplier));
            uses.push((book.stock_index(), lot));
        }
        out.push(Template {
            kind,
            legs,
            uses,
            cost,
        });
    };
    let index: HashMap<(crate::date::Date, Right, Decimal, Decimal), usize> = o
        .iter()
        .enumerate()
        .map(|(i, l)| {
            (
                (
                    l.spec.expiry,
                    l.spec.right,
                    l.spec.strike,
                    l.spec.multiplier.normalize(),
                ),
                i,
            )
        })
        .collect();
    let find = |like: &OptLeg, right: Right, strike: Decimal| -> Option<usize> {
        index
            .get(&(
                like.spec.expiry,
                right,
                strike.normalize(),
                like.spec.multiplier.normalize(),
            ))
            .copied()
    };
    let same_class = |a: &OptLeg, b: &OptLeg| a.spec.multiplier == b.spec.multiplier;
    for (i, a) in o.iter().enumerate() {
        for (j, b) in o.iter().enumerate() {
            if i == j || !same_class(a, b) {
                continue;
            }
            // Spreads and calendars: a short leg covered by a long leg expiring on/after it.
            if a.qty < 0
                && b.qty > 0
                && a.spec.right == b.spec.right
                && b.spec.expiry >= a.spec.expiry
            {
                push(Kind::Spread, vec![i, j]);
            }
            // Short straddles and strangles.
            if a.qty < 0
                && b.qty < 0
                && a.spec.right == Right::Call
                && b.spec.right == Right::Put
                && a.spec.expiry == b.spec.expiry
            {
                push(Kind::ShortStraddle, vec![i, j]);
            }
            // Boxes: (i call K1, j call K2) with K1 < K2 and puts at the same strikes.
            if a.spec.right == Right::Call
                && b.spec.right == Right::Call
                && a.spec.expiry == b.spec.expiry
                && a.spec.strike < b.spec.strike
                && let (Some(p2), Some(p1)) = (
                    find(a, Right::Put, b.spec.strike),
                    find(a, Right::Put, a.spec.strike),
                )
            {
                if a.qty > 0 && b.qty < 0 && o[p2].qty > 0 && o[p1].qty < 0 {
                    push(Kind::LongBox, vec![i, j, p2, p1]);
                }
                if a.qty < 0 && b.qty > 0 && o[p2].qty < 0 && o[p1].qty > 0 {
                    push(Kind::ShortBox, vec![i, j, p2, p1]);
                }
            }
            // Collars and conversions: (i long put, j short call) against long stock.
            if book.stock_capacity() >= stock_lot(a.spec.multiplier)
                && book.stock > Decimal::ZERO
                && a.spec.right == Right::Put
                && a.qty > 0
                && b.spec.right == Right::Call
                && b.qty < 0
            {
                if a.spec.strike == b.spec.strike && a.spec.expiry == b.spec.expiry {
                    push(Kind::Conversion, vec![i, j]);
                } else if a.spec.strike < b.spec.strike && a.spec.expiry >= b.spec.expiry {
                    push(Kind::Collar, vec![i, j]);
                }
            }
            // Reverse conversions: (i short put, j long call) against short stock.
            if book.stock_capacity() >= stock_lot(a.spec.multiplier)
                && book.stock < Decimal::ZERO
                && a.spec.right == Right::Put
                && a.qty < 0
                && b.spec.right == Right::Call
                && b.qty > 0
                && a.spec.strike == b.spec.strike
                && a.spec.expiry == b.spec.expiry
            {
                push(Kind::ReverseConversion, vec![i, j]);
            }
        }
        // Stock with one option.
        if book.stock_capacity() >= stock_lot(a.spec.multiplier) {
            let long_stock = book.stock > Decimal::ZERO;
            match (a.spec.right, a.qty < 0, long_stock) {
                (Right::Call, true, true) => push(Kind::CoveredCall, vec![i]),
                (Right::Put, true, false) => push(Kind::CoveredPut, vec![i]),
                (Right::Put, false, true) => push(Kind::ProtectivePut, vec![i]),
                (Right::Call, false, false) => push(Kind::ProtectiveCall, vec![i]),
                _ => {}
            }
        }
    }
    super::shapes::generate(book, &mut push);
    (out, capped)
}

/// Display name of a strategy instance (e.g. "bull call spread").
pub(crate) fn name(book: &Book, t: &Template) -> &'static str {
    let o = &book.options;
    let leg = |n: usize| &o[t.legs.get(n).copied().unwrap_or(0)];
    match t.kind {
        Kind::Spread => {
            let (short, long) = (leg(0), leg(1));
            if short.spec.strike == long.spec.strike {
                return "calendar spread";
            }
            let diagonal = short.spec.expiry != long.spec.expiry;
            match (
                short.spec.right,
                long.spec.strike < short.spec.strike,
                diagonal,
            ) {
                (_, _, true) => "diagonal spread",
                (Right::Call, true, false) => "bull call spread",
                (Right::Call, false, false) => "bear call spread",
                (Right::Put, true, false) => "bull put spread",
                (Right::Put, false, false) => "bear put spread",
            }
        }
        Kind::ShortStraddle => {
            if leg(0).spec.strike == leg(1).spec.strike {
                "short straddle"
            } else {
                "short strangle"
            }
        }
        Kind::LongButterfly | Kind::ShortButterfly => {
            let equal =
                leg(1).spec.strike - leg(0).spec.strike == leg(2).spec.strike - leg(1).spec.strike;
            match (t.kind == Kind::LongButterfly, equal) {
                (true, true) => "long butterfly",
                (true, false) => "long broken-wing butterfly",
                (false, true) => "short butterfly",
                (false, false) => "short broken-wing butterfly",
            }
        }
        Kind::IronCondor => {
            let equal =
                leg(1).spec.strike - leg(0).spec.strike == leg(3).spec.strike - leg(2).spec.strike;
            match (leg(1).spec.strike == leg(2).spec.strike, equal) {
                (true, true) => "iron butterfly",
                (true, false) => "iron butterfly, unequal wings",
                (false, true) => "iron condor",
                (false, false) => "iron condor, unequal wings",
            }
        }
        Kind::Condor => "long condor",
        Kind::LongBox => "long box",
        Kind::ShortBox => "short box",
        Kind::CoveredCall => "covered call",
        Kind::CoveredPut => "covered put",
        Kind::ProtectivePut => "protective put",
        Kind::ProtectiveCall => "protective call",
        Kind::Collar => "collar",
        Kind::Conversion => "conversion",
        Kind::ReverseConversion => "reverse conversion",
    }
}

/// Shares one contract covers: its multiplier when whole; a fractional multiplier cannot be
/// covered by shares (`i64::MAX` never fits).
fn stock_lot(multiplier: Decimal) -> i64 {
    use rust_decimal::prelude::ToPrimitive;
    if multiplier.fract().is_zero() {
        multiplier.to_i64().unwrap_or(i64::MAX)
    } else {
        i64::MAX
    }
}
