//! A small dense simplex for packing LPs (max c·x, A·x ≤ b, x ≥ 0 with A, b ≥ 0), the relaxation
//! that bounds the exact grouping search. f64 is fine here: the LP only prunes; every figure the
//! engine reports is recomputed in `Decimal` from an integer grouping.

/// Outcome of [`maximize`].
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Lp {
    /// Optimal value and solution.
    Optimal {
        value: f64,
        x: Vec<f64>,
        /// Reduced cost of each column (≥ 0): raising a column to 1 loses at least this much.
        reduced: Vec<f64>,
        /// Pivots performed (the solver's work is pivots × rows × columns).
        pivots: usize,
        /// Shadow price of each row (≥ 0), for pricing columns left out of the LP.
        duals: Vec<f64>,
    },
    /// Did not converge within the iteration cap (never observed; handled conservatively).
    Failed,
}

const EPS: f64 = 1e-9;

/// Maximises `c·x` subject to `a·x ≤ b`, `x ≥ 0`; `a` is row-major `m × n`, `b ≥ 0`.
pub(crate) fn maximize(a: &[f64], m: usize, n: usize, b: &[f64], c: &[f64]) -> Lp {
    let w = n + m + 1;
    let mut t = vec![0.0; (m + 1) * w];
    for i in 0..m {
        t[i * w..i * w + n].copy_from_slice(&a[i * n..i * n + n]);
        t[i * w + n + i] = 1.0;
        t[i * w + w - 1] = b[i];
    }
    for j in 0..n {
        t[m * w + j] = -c[j];
    }
    let mut basis: Vec<usize> = (n..n + m).collect();
    let cap = 50 * (m + n) + 500;
    for iter in 0..cap {
        let z = &t[m * w..m * w + w - 1];
        // Dantzig's rule first (fast), Bland's rule later (guaranteed termination).
        let entering = if iter < 10 * (m + n) + 50 {
            let mut best = None;
            let mut most = -EPS;
            for (j, &v) in z.iter().enumerate() {
                if v < most {
                    most = v;
                    best = Some(j);
                }
            }
            best
        } else {
            z.iter().position(|&v| v < -EPS)
        };
        let Some(e) = entering else {
            let mut x = vec![0.0; n];
            for (i, &bv) in basis.iter().enumerate() {
                if bv < n {
                    x[bv] = t[i * w + w - 1];
                }
            }
            let reduced = t[m * w..m * w + n].iter().map(|v| v.max(0.0)).collect();
            let duals = t[m * w + n..m * w + n + m]
                .iter()
                .map(|v| v.max(0.0))
                .collect();
            return Lp::Optimal {
                value: t[m * w + w - 1],
                x,
                reduced,
                pivots: iter,
                duals,
            };
        };
        let mut leave: Option<(usize, f64)> = None;
        for i in 0..m {
            let coef = t[i * w + e];
            if coef > EPS {
                let ratio = t[i * w + w - 1] / coef;
                let better = match leave {
                    None => true,
                    Some((l, r)) => ratio < r - EPS || (ratio <= r + EPS && basis[i] < basis[l]),
                };
                if better {
                    leave = Some((i, ratio));
                }
            }
        }
        let Some((l, _)) = leave else {
            return Lp::Failed;
        };
        pivot(&mut t, w, l, e);
        basis[l] = e;
    }
    Lp::Failed
}

fn pivot(t: &mut [f64], w: usize, l: usize, e: usize) {
    let p = t[l * w + e];
    for v in &mut t[l * w..l * w + w] {
        *v /= p;
    }
    let (before, rest) = t.split_at_mut(l * w);
    let (row, after) = rest.split_at_mut(w);
    let apply = |other: &mut [f64]| {
        let f = other[e];
        if f != 0.0 {
            for (o, r) in other.iter_mut().zip(row.iter()) {
                *o -= f * r;
            }
        }
    };
    for chunk in before.chunks_mut(w) {
        apply(chunk);
    }
    for chunk in after.chunks_mut(w) {
        apply(chunk);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_a_small_packing_lp() {
        // max 3x + 2y, x + y ≤ 4, x + 3y ≤ 6, x ≤ 3 → x = 3, y = 1, value 11.
        let a = [1.0, 1.0, 1.0, 3.0, 1.0, 0.0];
        match maximize(&a, 3, 2, &[4.0, 6.0, 3.0], &[3.0, 2.0]) {
            Lp::Optimal { value, x, .. } => {
                assert!((value - 11.0).abs() < 1e-9);
                assert!((x[0] - 3.0).abs() < 1e-9 && (x[1] - 1.0).abs() < 1e-9);
            }
            Lp::Failed => panic!("LP failed"),
        }
    }
}
