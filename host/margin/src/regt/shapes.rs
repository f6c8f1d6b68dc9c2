//! Which butterflies, condors and iron condors the grouping is offered (their requirement is
//! min(max loss, spreads), see `defined_risk`). Every equal-wing shape is offered, and for each
//! short strike the nearest long wing on each side (broken-wing butterflies, unbalanced condors and
//! iron condors). Offering every wing combination grows with the fourth power of the chain and the
//! grouping search with it (a 200-series chain took seconds with two wings a side); the nearest
//! wings make the narrowest spreads, the ones a minimal grouping uses first.

use super::book::Book;
use super::strategy::Kind;
use crate::date::Date;
use crate::model::Right;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashSet};

/// Nearest wings offered on each side of a short strike, beyond the equal-wing ones.
const WINGS: usize = 1;

/// Series of one (expiry, right, multiplier), sorted by strike.
type Chains = BTreeMap<(Date, Right, rust_decimal::Decimal), Vec<usize>>;

/// Calls `push` once for every shape to offer.
pub(crate) fn generate(book: &Book, push: &mut dyn FnMut(Kind, Vec<usize>)) {
    let o = &book.options;
    let mut chains: Chains = BTreeMap::new();
    for (i, l) in o.iter().enumerate() {
        chains
            .entry((l.spec.expiry, l.spec.right, l.spec.multiplier.normalize()))
            .or_default()
            .push(i);
    }
    let mut seen: HashSet<(Kind, Vec<usize>)> = HashSet::new();
    let mut offer = |kind: Kind, legs: Vec<usize>| {
        if seen.insert((kind, legs.clone())) {
            push(kind, legs);
        }
    };
    for chain in chains.values() {
        butterflies(book, chain, &mut offer);
        condors(book, chain, &mut offer);
    }
    for (&(expiry, right, mult), puts) in &chains {
        if right == Right::Put
            && let Some(calls) = chains.get(&(expiry, Right::Call, mult))
        {
            iron_condors(book, puts, calls, &mut offer);
        }
    }
}

/// The nearest `n` series of `chain` below (or above) position `p` whose quantity has the sign
/// `long`, nearest first.
fn nearest(
    book: &Book,
    chain: &[usize],
    p: usize,
    long: bool,
    above: bool,
    n: usize,
) -> Vec<usize> {
    let pick = |&&i: &&usize| (book.options[i].qty > 0) == long;
    if above {
        chain[p + 1..]
            .iter()
            .filter(pick)
            .take(n)
            .copied()
            .collect()
    } else {
        chain[..p]
            .iter()
            .rev()
            .filter(pick)
            .take(n)
            .copied()
            .collect()
    }
}

fn strike(book: &Book, i: usize) -> Decimal {
    book.options[i].spec.strike
}

/// Long (+1 −2 +1) and short (−1 +2 −1) butterflies around every middle strike.
fn butterflies(book: &Book, chain: &[usize], offer: &mut dyn FnMut(Kind, Vec<usize>)) {
    for (p, &mid) in chain.iter().enumerate() {
        let wings_long = book.options[mid].qty < 0;
        let kind = if wings_long {
            Kind::LongButterfly
        } else {
            Kind::ShortButterfly
        };
        let below: Vec<usize> = chain[..p]
            .iter()
            .copied()
            .filter(|&i| (book.options[i].qty > 0) == wings_long)
            .collect();
        let above = nearest(book, chain, p, wings_long, true, usize::MAX);
        for (n, &lo) in below.iter().rev().enumerate() {
            for (m, &hi) in above.iter().enumerate() {
                let equal =
                    strike(book, mid) - strike(book, lo) == strike(book, hi) - strike(book, mid);
                if equal || (n < WINGS && m < WINGS) {
                    offer(kind, vec![lo, mid, hi]);
                }
            }
        }
    }
}

/// Long condors (+1 −1 −1 +1): two short strikes, the nearest long wings outside them.
fn condors(book: &Book, chain: &[usize], offer: &mut dyn FnMut(Kind, Vec<usize>)) {
    for (p2, &k2) in chain.iter().enumerate() {
        if book.options[k2].qty >= 0 {
            continue;
        }
        for k3 in nearest(book, chain, p2, false, true, WINGS) {
            let p3 = chain.iter().position(|&i| i == k3).unwrap_or(p2);
            for k1 in nearest(book, chain, p2, true, false, WINGS) {
                for k4 in nearest(book, chain, p3, true, true, WINGS) {
                    offer(Kind::Condor, vec![k1, k2, k3, k4]);
                }
            }
        }
    }
}

/// Iron condors and butterflies [long put, short put, short call, long call] with short put ≤
/// short call: every equal-wing one, and the nearest short calls and wings otherwise.
fn iron_condors(
    book: &Book,
    puts: &[usize],
    calls: &[usize],
    offer: &mut dyn FnMut(Kind, Vec<usize>),
) {
    let short_calls: Vec<usize> = calls
        .iter()
        .copied()
        .filter(|&i| book.options[i].qty < 0)
        .collect();
    let long_call_at = |k: Decimal| -> Option<usize> {
        calls
            .iter()
            .copied()
            .find(|&i| book.options[i].qty > 0 && strike(book, i) == k)
    };
    for (p, &sp) in puts.iter().enumerate() {
        if book.options[sp].qty >= 0 {
            continue;
        }
        let k_sp = strike(book, sp);
        let wings = nearest(book, puts, p, true, false, usize::MAX);
        for (n_sc, &sc) in short_calls
            .iter()
            .filter(|&&c| strike(book, c) >= k_sp)
            .enumerate()
        {
            let pc = calls.iter().position(|&i| i == sc).unwrap_or(0);
            let call_wings = nearest(book, calls, pc, true, true, WINGS);
            for (n_lp, &lp) in wings.iter().enumerate() {
                let width = k_sp - strike(book, lp);
                if let Some(lc) = long_call_at(strike(book, sc) + width) {
                    offer(Kind::IronCondor, vec![lp, sp, sc, lc]);
                }
                if n_sc < WINGS && n_lp < WINGS {
                    for &lc in &call_wings {
                        offer(Kind::IronCondor, vec![lp, sp, sc, lc]);
                    }
                }
            }
        }
    }
}
