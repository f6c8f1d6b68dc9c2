//! The exact search behind [`super::grouping::optimal`]: depth-first branch and bound over the LP
//! relaxation of one connected component, with quantum pruning, reduced-cost fixing and a
//! deterministic work budget.

use super::grouping::{Item, feasible, fill, greedy, max_units, value};
use super::lp::{Lp, maximize};
use rust_decimal::prelude::ToPrimitive;
use std::rc::Rc;

/// Branch-and-bound nodes allowed per component before giving up the proof of optimality.
const NODE_CAP: usize = 200_000;

/// Columns of each row that start in the LP before column generation adds the rest as needed.
const SEED_COLUMNS: usize = 3;

/// LPs with at most this many columns are solved whole (column generation would cost more).
const ALL_COLUMNS_UP_TO: usize = 120;

/// Work allowed per component (Σ pivots × rows × columns over the LPs solved, plus the columns
/// priced; half a second or so on the reference machine): deterministic, so a result never
/// depends on the machine's speed.
const WORK_BUDGET: u64 = 1_000_000_000;

/// The largest q such that every item's saving is a whole multiple of q (as f64; 0 if unknown).
fn saving_quantum(items: &[Item<'_>]) -> f64 {
    let scale = items.iter().map(|it| it.save.scale()).max().unwrap_or(0);
    let mut g: u128 = 0;
    for it in items {
        let mut v = it.save;
        v.rescale(scale);
        let m = v.mantissa().unsigned_abs();
        g = gcd(g, m);
    }
    if g == 0 {
        return 0.0;
    }
    (g as f64) / 10f64.powi(i32::try_from(scale).unwrap_or(0))
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Bound changes of a search node relative to its parent, shared by its children.
struct Chain {
    changes: Vec<(usize, i64, i64)>,
    parent: Option<Rc<Chain>>,
}

/// An open node: its bound (the parent's LP value) and its chain of bound changes.
struct Open {
    bound: f64,
    chain: Option<Rc<Chain>>,
}

/// Applies a node's chain of bound changes to the root bounds.
fn materialize(chain: &Option<Rc<Chain>>, lo: &mut [i64], hi: &mut [i64]) {
    let mut links: Vec<&Chain> = Vec::new();
    let mut cur = chain.as_deref();
    while let Some(c) = cur {
        links.push(c);
        cur = c.parent.as_deref();
    }
    for c in links.iter().rev() {
        for &(t, l, h) in &c.changes {
            lo[t] = l;
            hi[t] = h;
        }
    }
}

/// Depth-first branch and bound over the LP relaxation: (counts, proven, remaining gap).
pub(super) fn branch_and_bound(caps: &[i64], items: &[Item<'_>]) -> (Vec<i64>, bool, f64) {
    let n = items.len();
    let quantum = saving_quantum(items);
    let save_f: Vec<f64> = items
        .iter()
        .map(|it| it.save.to_f64().unwrap_or(0.0))
        .collect();
    let mut density: Vec<usize> = (0..n).collect();
    density.sort_by(|&a, &b| items[b].save.cmp(&items[a].save).then(a.cmp(&b)));
    let mut best = vec![0i64; n];
    fill(&mut caps.to_vec(), items, &density, &mut best);
    let mut best_v = value(items, &best);
    let greedy_best = greedy(caps, items);
    if value(items, &greedy_best.counts) > best_v {
        best_v = value(items, &greedy_best.counts);
        best = greedy_best.counts;
    }
    // Every grouping's saving is a multiple of `quantum`: a bound below best + quantum cannot be
    // beaten.
    let margin = |best_f: f64| {
        let tol = 1e-6 + 1e-9 * best_f.abs();
        if quantum > 2.0 * tol {
            quantum - tol
        } else {
            tol
        }
    };
    let max0: Vec<i64> = items.iter().map(|it| max_units(caps, it.uses)).collect();
    // Depth first (the up branch first): good groupings early, small LPs deep in the tree.
    let mut stack = vec![Open {
        bound: f64::INFINITY,
        chain: None,
    }];
    let (mut nodes, mut work) = (0usize, 0u64);
    let (mut proven, mut gap) = (true, 0.0_f64);
    while let Some(node) = stack.pop() {
        let best_f = best_v.to_f64().unwrap_or(0.0);
        if node.bound <= best_f + margin(best_f) {
            continue;
        }
        if nodes >= NODE_CAP || work >= WORK_BUDGET {
            // The largest open bound caps what any unexplored grouping could save.
            proven = false;
            let open = stack.iter().map(|o| o.bound).fold(node.bound, f64::max);
            gap = if open.is_finite() {
                (open - best_f).max(0.0)
            } else {
                f64::INFINITY
            };
            break;
        }
        nodes += 1;
        let (mut lo, mut hi) = (vec![0i64; n], max0.clone());
        materialize(&node.chain, &mut lo, &mut hi);
        let mut res = caps.to_vec();
        for (it, &k) in items.iter().zip(&lo) {
            for &(u, a) in it.uses {
                res[u] -= a * k;
            }
        }
        if res.iter().any(|&r| r < 0) || lo.iter().zip(&hi).any(|(l, h)| l > h) {
            continue;
        }
        let ub: Vec<i64> = (0..n)
            .map(|t| (hi[t] - lo[t]).min(max_units(&res, items[t].uses)))
            .collect();
        let active: Vec<usize> = (0..n).filter(|&t| ub[t] > 0).collect();
        let base = value(items, &lo);
        if active.is_empty() {
            if base > best_v {
                best_v = base;
                best = lo;
            }
            continue;
        }
        let lp = relaxation(items, &res, &ub, &active, &save_f);
        work += lp.work;
        let base_f = base.to_f64().unwrap_or(0.0);
        let Lp::Optimal {
            value: lp_v,
            x: y,
            reduced,
            ..
        } = lp.outcome
        else {
            // Cannot bound this node: keep the greedy completion and give up the proof.
            proven = false;
            gap = f64::INFINITY;
            let mut x = lo.clone();
            let order: Vec<usize> = density.iter().copied().filter(|&t| ub[t] > 0).collect();
            fill(&mut res.clone(), items, &order, &mut x);
            if feasible(caps, items, &x) && value(items, &x) > best_v {
                best_v = value(items, &x);
                best = x;
            }
            continue;
        };
        let bound = base_f + lp_v;
        if bound <= best_f + margin(best_f) {
            continue;
        }
        // Round the LP point to a feasible grouping (floor, then greedy completion).
        let (candidate, frac) = round(caps, items, &lo, &hi, &active, &y, &density);
        if let Some(x) = candidate {
            let v = value(items, &x);
            if v > best_v {
                best_v = v;
                best = x;
            }
        }
        let Some((t, fl)) = frac else { continue };
        // Reduced-cost fixing: a column whose increase would drop the bound below what the
        // incumbent needs stays at its lower bound below this node.
        let best_f = best_v.to_f64().unwrap_or(0.0);
        let mut changes: Vec<(usize, i64, i64)> = Vec::new();
        for (col, &c) in active.iter().enumerate() {
            if c != t && y[col] <= 1e-9 && bound - reduced[col] <= best_f + margin(best_f) {
                changes.push((c, lo[c], lo[c]));
            }
        }
        let shared = Rc::new(Chain {
            changes,
            parent: node.chain.clone(),
        });
        for (l, h) in [(lo[t], lo[t] + fl), (lo[t] + fl + 1, hi[t])] {
            let chain = Rc::new(Chain {
                changes: vec![(t, l, h)],
                parent: Some(shared.clone()),
            });
            stack.push(Open {
                bound,
                chain: Some(chain),
            });
        }
    }
    (best, proven, gap)
}

/// The LP relaxation of a node and the work it cost (pivots × rows × columns, deterministic).
struct Relaxation {
    outcome: Lp,
    work: u64,
}

fn relaxation(
    items: &[Item<'_>],
    res: &[i64],
    ub: &[i64],
    active: &[usize],
    save_f: &[f64],
) -> Relaxation {
    // One row per unit the active items use, one per upper bound tighter than the units imply.
    let mut rows: Vec<usize> = active
        .iter()
        .flat_map(|&t| items[t].uses.iter().map(|&(u, _)| u))
        .collect();
    rows.sort_unstable();
    rows.dedup();
    // The LP's own bound is min(res / a) as a real number; add a row when `ub` is tighter.
    let bounded: Vec<usize> = active
        .iter()
        .copied()
        .filter(|&t| items[t].uses.iter().all(|&(u, a)| ub[t] * a < res[u]))
        .collect();
    let m = rows.len() + bounded.len();
    let mut b = vec![0.0; m];
    for (r, &u) in rows.iter().enumerate() {
        b[r] = res[u] as f64;
    }
    // Each column as (row, coefficient) pairs.
    let column = |t: usize| -> Vec<(usize, f64)> {
        let mut col: Vec<(usize, f64)> = items[t]
            .uses
            .iter()
            .filter_map(|&(u, q)| rows.binary_search(&u).ok().map(|r| (r, q as f64)))
            .collect();
        if let Ok(k) = bounded.binary_search(&t) {
            col.push((rows.len() + k, 1.0));
        }
        col
    };
    for (k, &t) in bounded.iter().enumerate() {
        b[rows.len() + k] = ub[t] as f64;
    }
    let cols: Vec<Vec<(usize, f64)>> = active.iter().map(|&t| column(t)).collect();
    // Column generation: solve over a subset (the best few columns of every row), price the rest
    // with the duals, add those that could improve, until none can. The LP value is then the
    // full LP's value.
    let small = active.len() <= ALL_COLUMNS_UP_TO;
    let mut in_lp = vec![small; active.len()];
    for r in (0..m).filter(|_| !small) {
        let mut best: Vec<usize> = (0..active.len())
            .filter(|&c| cols[c].iter().any(|&(row, _)| row == r))
            .collect();
        best.sort_by(|&x, &y| {
            save_f[active[y]]
                .total_cmp(&save_f[active[x]])
                .then(x.cmp(&y))
        });
        for &c in best.iter().take(SEED_COLUMNS) {
            in_lp[c] = true;
        }
    }
    let mut work = 0u64;
    loop {
        let subset: Vec<usize> = (0..active.len()).filter(|&c| in_lp[c]).collect();
        let na = subset.len();
        let mut a = vec![0.0; m * na];
        for (k, &c) in subset.iter().enumerate() {
            for &(r, q) in &cols[c] {
                a[r * na + k] += q;
            }
        }
        let cost: Vec<f64> = subset.iter().map(|&c| save_f[active[c]]).collect();
        let outcome = maximize(&a, m, na, &b, &cost);
        let pivots = match &outcome {
            Lp::Optimal { pivots, .. } => *pivots,
            Lp::Failed => 50 * (m + na) + 500,
        };
        work = work.saturating_add(
            (pivots.max(1) as u64)
                .saturating_mul(m as u64)
                .saturating_mul((na + m) as u64),
        );
        let Lp::Optimal {
            value,
            x,
            reduced,
            duals,
            pivots,
        } = outcome
        else {
            return Relaxation {
                outcome: Lp::Failed,
                work,
            };
        };
        // Price the columns left out (counted in the work: with many columns it dominates).
        work = work.saturating_add((active.len() as u64).saturating_mul(m as u64 + 1));
        let priced: Vec<(usize, f64)> = (0..active.len())
            .filter(|&c| !in_lp[c])
            .map(|c| {
                (
                    c,
                    save_f[active[c]] - cols[c].iter().map(|&(r, q)| q * duals[r]).sum::<f64>(),
                )
            })
            .collect();
        let mut entering: Vec<(usize, f64)> = priced
            .iter()
            .copied()
            .filter(|&(_, rc)| rc > 1e-9)
            .collect();
        if entering.is_empty() {
            let mut full_x = vec![0.0; active.len()];
            let mut full_reduced = vec![0.0; active.len()];
            for (k, &c) in subset.iter().enumerate() {
                full_x[c] = x[k];
                full_reduced[c] = reduced[k];
            }
            for (c, rc) in priced {
                full_reduced[c] = (-rc).max(0.0);
            }
            let outcome = Lp::Optimal {
                value,
                x: full_x,
                reduced: full_reduced,
                pivots,
                duals,
            };
            return Relaxation { outcome, work };
        }
        entering.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
        for &(c, _) in entering.iter().take(m.max(16)) {
            in_lp[c] = true;
        }
    }
}

/// Rounds an LP point: a feasible candidate, and the most fractional column with its floor.
fn round(
    caps: &[i64],
    items: &[Item<'_>],
    lo: &[i64],
    hi: &[i64],
    active: &[usize],
    y: &[f64],
    density: &[usize],
) -> (Option<Vec<i64>>, Option<(usize, i64)>) {
    let mut x = lo.to_vec();
    let mut frac: Option<(usize, f64, i64)> = None;
    for (col, &t) in active.iter().enumerate() {
        let v = y[col].max(0.0);
        let r = v.round();
        if (v - r).abs() < 1e-7 {
            x[t] += r as i64;
        } else {
            x[t] += v.floor() as i64;
            let dist = (v - v.floor() - 0.5).abs();
            if frac.is_none_or(|(_, d, _)| dist < d) {
                frac = Some((t, dist, v.floor() as i64));
            }
        }
    }
    if !feasible(caps, items, &x) {
        x = lo.to_vec();
        for (col, &t) in active.iter().enumerate() {
            x[t] += y[col].max(0.0).floor() as i64;
        }
    }
    let mut rest = caps.to_vec();
    for (it, &k) in items.iter().zip(&x) {
        for &(u, q) in it.uses {
            rest[u] -= q * k;
        }
    }
    let order: Vec<usize> = density.iter().copied().filter(|&t| x[t] < hi[t]).collect();
    fill(&mut rest, items, &order, &mut x);
    let ok = x.iter().zip(hi).all(|(v, h)| v <= h) && feasible(caps, items, &x);
    (ok.then_some(x), frac.map(|(t, _, f)| (t, f)))
}
