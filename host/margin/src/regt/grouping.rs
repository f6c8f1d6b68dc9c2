//! Choosing how many of each strategy instance to form so that the total requirement is minimal.
//!
//! Every unit (option contract, share) has a stand-alone cost; a strategy instance saves
//! `Σ stand-alone costs of what it uses − its own requirement`. The optimal grouping maximises the
//! total saving subject to the quantities held: an integer packing programme. It is solved exactly
//! per connected component (legs that share no strategy are independent) by depth-first branch and
//! bound over the LP relaxation, starting from a greedy incumbent, with reduced-cost fixing and the
//! savings' common quantum for pruning. A deterministic work budget keeps pathological books (well
//! over a hundred series on one underlying) bounded; if it is hit the best grouping found is used
//! and the explanation says it is not proven optimal, with the remaining gap.

use rust_decimal::Decimal;

/// A candidate strategy for the search: what one unit uses and what it saves.
#[derive(Clone, Debug)]
pub(crate) struct Item<'a> {
    pub uses: &'a [(usize, i64)],
    pub save: Decimal,
}

/// How many units of each item to form.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Solution {
    pub counts: Vec<i64>,
    /// False only if the search budget stopped the search.
    pub proven: bool,
    /// When not proven: how much more the best grouping could at most save (LP bound − found).
    pub gap: f64,
}

/// The grouping with maximal total saving (= minimal requirement).
pub(crate) fn optimal(caps: &[i64], items: &[Item<'_>]) -> Solution {
    let mut counts = vec![0i64; items.len()];
    let mut proven = true;
    let mut gap = 0.0;
    for comp in components(caps.len(), items) {
        let sub: Vec<Item<'_>> = comp.iter().map(|&t| items[t].clone()).collect();
        let (x, ok, g) = super::branch_bound::branch_and_bound(caps, &sub);
        proven &= ok;
        gap += g;
        for (k, &t) in comp.iter().enumerate() {
            counts[t] = x[k];
        }
    }
    Solution {
        counts,
        proven,
        gap,
    }
}

/// The baseline: "largest strategy first" greedy matching (most legs, then largest saving), each
/// taken as many times as the remaining quantities allow. Known to be suboptimal.
pub(crate) fn greedy(caps: &[i64], items: &[Item<'_>]) -> Solution {
    let mut order: Vec<usize> = (0..items.len())
        .filter(|&t| items[t].save > Decimal::ZERO)
        .collect();
    order.sort_by(|&a, &b| {
        items[b]
            .uses
            .len()
            .cmp(&items[a].uses.len())
            .then(items[b].save.cmp(&items[a].save))
            .then(a.cmp(&b))
    });
    let mut res = caps.to_vec();
    let mut counts = vec![0i64; items.len()];
    fill(&mut res, items, &order, &mut counts);
    Solution {
        counts,
        proven: false,
        gap: 0.0,
    }
}

/// Takes each item in `order` as many times as `res` allows.
pub(super) fn fill(res: &mut [i64], items: &[Item<'_>], order: &[usize], counts: &mut [i64]) {
    for &t in order {
        let k = max_units(res, items[t].uses);
        if k > 0 {
            counts[t] += k;
            for &(u, a) in items[t].uses {
                res[u] -= a * k;
            }
        }
    }
}

pub(super) fn max_units(res: &[i64], uses: &[(usize, i64)]) -> i64 {
    uses.iter()
        .map(|&(u, a)| if a > 0 { res[u].max(0) / a } else { i64::MAX })
        .min()
        .unwrap_or(0)
}

/// Groups of items that share units (union-find over units).
fn components(n_units: usize, items: &[Item<'_>]) -> Vec<Vec<usize>> {
    let mut parent: Vec<usize> = (0..n_units).collect();
    fn root(p: &mut [usize], mut x: usize) -> usize {
        while p[x] != x {
            p[x] = p[p[x]];
            x = p[x];
        }
        x
    }
    for it in items.iter().filter(|it| it.save > Decimal::ZERO) {
        if let Some(&(first, _)) = it.uses.first() {
            for &(u, _) in &it.uses[1..] {
                let (a, b) = (root(&mut parent, first), root(&mut parent, u));
                parent[a] = b;
            }
        }
    }
    let mut by_root: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for (t, it) in items.iter().enumerate() {
        if it.save > Decimal::ZERO
            && let Some(&(u, _)) = it.uses.first()
        {
            by_root.entry(root(&mut parent, u)).or_default().push(t);
        }
    }
    by_root.into_values().collect()
}

pub(super) fn value(items: &[Item<'_>], x: &[i64]) -> Decimal {
    items
        .iter()
        .zip(x)
        .map(|(it, &k)| it.save * Decimal::from(k))
        .sum()
}

pub(super) fn feasible(caps: &[i64], items: &[Item<'_>], x: &[i64]) -> bool {
    let mut res = caps.to_vec();
    for (it, &k) in items.iter().zip(x) {
        for &(u, a) in it.uses {
            res[u] -= a * k;
        }
    }
    res.iter().all(|&r| r >= 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn optimal_beats_greedy_on_a_trap() {
        // Units 0,1,2. Big item uses {0,1,2} saving 10; two small items {0},{1,2} saving 6 each.
        let big = [(0, 1), (1, 1), (2, 1)];
        let s1 = [(0, 1)];
        let s2 = [(1, 1), (2, 1)];
        let items = [
            Item {
                uses: &big,
                save: dec!(10),
            },
            Item {
                uses: &s1,
                save: dec!(6),
            },
            Item {
                uses: &s2,
                save: dec!(6),
            },
        ];
        let caps = [1, 1, 1];
        assert_eq!(greedy(&caps, &items).counts, vec![1, 0, 0]);
        let opt = optimal(&caps, &items);
        assert_eq!(opt.counts, vec![0, 1, 1]);
        assert!(opt.proven);
    }

    #[test]
    fn fractional_lp_is_branched() {
        // Triangle: items on pairs of 3 units each capacity 1: LP gives 1.5 × 1, integer optimum 1.
        let a = [(0, 1), (1, 1)];
        let b = [(1, 1), (2, 1)];
        let c = [(0, 1), (2, 1)];
        let items = [
            Item {
                uses: &a,
                save: dec!(1),
            },
            Item {
                uses: &b,
                save: dec!(1),
            },
            Item {
                uses: &c,
                save: dec!(1),
            },
        ];
        let opt = optimal(&[1, 1, 1], &items);
        assert_eq!(value(&items, &opt.counts), dec!(1));
    }
}

#[cfg(test)]
mod brute_force {
    use super::*;
    use proptest::prelude::*;

    /// Best saving by enumerating every count vector.
    fn brute(caps: &[i64], items: &[Item<'_>]) -> Decimal {
        fn go(t: usize, res: &mut Vec<i64>, items: &[Item<'_>]) -> Decimal {
            if t == items.len() {
                return Decimal::ZERO;
            }
            let mut best = go(t + 1, res, items);
            let mut k = 0;
            while items[t].uses.iter().all(|&(u, a)| res[u] >= a) {
                for &(u, a) in items[t].uses {
                    res[u] -= a;
                }
                k += 1;
                best = best.max(items[t].save * Decimal::from(k) + go(t + 1, res, items));
            }
            for &(u, a) in items[t].uses {
                res[u] += a * k;
            }
            best
        }
        go(0, &mut caps.to_vec(), items)
    }

    proptest! {
        #[test]
        fn branch_and_bound_matches_brute_force(
            caps in prop::collection::vec(0i64..=4, 4),
            raw in prop::collection::vec((prop::collection::btree_set(0usize..4, 1..=3), 1i64..=2, 1i64..=100), 1..=6),
        ) {
            let uses: Vec<Vec<(usize, i64)>> =
                raw.iter().map(|(set, a, _)| set.iter().enumerate().map(|(n, &u)| (u, if n == 0 { *a } else { 1 })).collect()).collect();
            let items: Vec<Item<'_>> =
                uses.iter().zip(&raw).map(|(u, r)| Item { uses: u, save: Decimal::from(r.2) }).collect();
            let sol = optimal(&caps, &items);
            prop_assert!(feasible(&caps, &items, &sol.counts));
            prop_assert_eq!(value(&items, &sol.counts), brute(&caps, &items));
        }
    }
}
