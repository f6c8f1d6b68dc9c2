//! Reg T (IB strategy-based) margin for one underlying: net the book, recognise every strategy,
//! choose the grouping with the minimal requirement, and explain it.

mod book;
mod branch_bound;
mod defined_risk;
mod formulas;
mod grouping;
mod lp;
mod naked;
mod shapes;
mod strategy;

use crate::error::MarginError;
use crate::explain::{Node, amt};
use crate::group::GroupResult;
use crate::model::{Position, Underlying};
use book::Book;
use grouping::{Item, Solution};
use naked::{Costs, option_detail, option_unit, stock_detail, stock_share};
use rust_decimal::Decimal;
use strategy::Template;

/// How a book is carved into strategies. `Optimal` is the engine; the others are baselines for
/// tests and benchmarks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Grouping {
    /// Exact minimisation (branch and bound over the LP relaxation).
    Optimal,
    /// "Largest strategy first" greedy matching.
    Greedy,
    /// No strategies: every leg margined on its own.
    Naked,
}

/// Requirement of one underlying's securities positions under Reg T.
pub(crate) fn group(
    und: &Underlying,
    positions: &[(usize, &Position)],
    grouping: Grouping,
) -> Result<GroupResult, MarginError> {
    let book = Book::build(und, positions)?;
    let (templates, capped) = strategy::generate(&book);
    let mut caps: Vec<i64> = book.options.iter().map(|l| l.qty.abs()).collect();
    caps.push(book.stock_capacity());
    let mut unit: Vec<Costs> = book.options.iter().map(|l| option_unit(&book, l)).collect();
    unit.push(stock_share(&book));

    let solve = |pick: fn(&Costs) -> Decimal| -> Solution {
        let items: Vec<Item<'_>> = templates
            .iter()
            .map(|t| {
                let alone: Decimal = t
                    .uses
                    .iter()
                    .map(|&(u, a)| pick(&unit[u]) * Decimal::from(a))
                    .sum();
                Item {
                    uses: &t.uses,
                    save: alone - pick(&t.cost),
                }
            })
            .collect();
        match grouping {
            Grouping::Optimal => grouping::optimal(&caps, &items),
            Grouping::Greedy => grouping::greedy(&caps, &items),
            Grouping::Naked => Solution {
                counts: vec![0; items.len()],
                proven: true,
                gap: 0.0,
            },
        }
    };
    let by_init = solve(|c| c.init);
    let by_maint = solve(|c| c.maint);
    let a = tally(&book, &templates, &caps, &unit, &by_init.counts);
    let b = tally(&book, &templates, &caps, &unit, &by_maint.counts);
    let initial = a.init;
    let maintenance = b.maint;
    let eod = a.eod;

    let mut children = Vec::new();
    if by_init.counts == by_maint.counts {
        children = explain_grouping(&book, &templates, &caps, &unit, &by_init.counts);
    } else {
        children.push(
            Node::new(
                "grouping that minimises initial",
                "optimal grouping for the initial figure",
                a.init,
                a.maint,
            )
            .with_children(explain_grouping(
                &book,
                &templates,
                &caps,
                &unit,
                &by_init.counts,
            )),
        );
        children.push(
            Node::new(
                "grouping that minimises maintenance",
                "optimal grouping for the maintenance figure",
                b.init,
                b.maint,
            )
            .with_children(explain_grouping(
                &book,
                &templates,
                &caps,
                &unit,
                &by_maint.counts,
            )),
        );
    }
    let mut detail = format!(
        "S = {}; Reg T end of day (50% stock) {}",
        amt(book.rates.s),
        amt(eod)
    );
    if capped {
        detail.push_str(&format!(
            "; more than {} condor / iron condor combinations: the first {} were considered",
            strategy::MAX_FOUR_LEG,
            strategy::MAX_FOUR_LEG
        ));
    }
    if grouping == Grouping::Optimal {
        for (what, sol) in [("initial", &by_init), ("maintenance", &by_maint)] {
            if !sol.proven {
                let bound = if sol.gap.is_finite() {
                    format!("at most {:.2} above the minimum", sol.gap)
                } else {
                    "no bound".to_string()
                };
                detail.push_str(&format!(
                    "; {what}: search budget reached, best grouping found, optimality not proven ({bound})"
                ));
            }
        }
    }
    let rule = match grouping {
        Grouping::Optimal => "Reg T strategy-based (IB), grouping minimising the requirement",
        Grouping::Greedy => "Reg T strategy-based (IB), greedy grouping (baseline)",
        Grouping::Naked => "Reg T strategy-based (IB), every leg alone (baseline)",
    };
    Ok(GroupResult {
        initial,
        maintenance,
        eod,
        node: Node::new(und.symbol.clone(), rule, initial, maintenance)
            .with_detail(detail)
            .with_children(children),
        stress: None,
    })
}

/// Total of a grouping: strategies plus whatever is left alone.
fn tally(
    book: &Book,
    templates: &[Template],
    caps: &[i64],
    unit: &[Costs],
    counts: &[i64],
) -> Costs {
    let mut total = Costs::default();
    let rest = leftovers(templates, caps, counts);
    for (t, &k) in templates.iter().zip(counts) {
        if k > 0 {
            total = total + t.cost * Decimal::from(k);
        }
    }
    for (u, &r) in rest.iter().enumerate().take(book.options.len()) {
        total = total + unit[u] * Decimal::from(r);
    }
    total + unit[book.stock_index()] * leftover_shares(book, templates, counts)
}

fn leftovers(templates: &[Template], caps: &[i64], counts: &[i64]) -> Vec<i64> {
    let mut rest = caps.to_vec();
    for (t, &k) in templates.iter().zip(counts) {
        for &(u, a) in &t.uses {
            rest[u] -= a * k;
        }
    }
    rest
}

/// Shares not used by any strategy (fractional shares included), as a positive number.
fn leftover_shares(book: &Book, templates: &[Template], counts: &[i64]) -> Decimal {
    let s = book.stock_index();
    let used: i64 = templates
        .iter()
        .zip(counts)
        .map(|(t, &k)| {
            t.uses
                .iter()
                .filter(|(u, _)| *u == s)
                .map(|&(_, a)| a * k)
                .sum::<i64>()
        })
        .sum();
    book.stock.abs() - Decimal::from(used)
}

fn explain_grouping(
    book: &Book,
    templates: &[Template],
    caps: &[i64],
    unit: &[Costs],
    counts: &[i64],
) -> Vec<Node> {
    let mut out = Vec::new();
    let sym = &book.symbol;
    for (t, &k) in templates.iter().zip(counts) {
        if k <= 0 {
            continue;
        }
        let (cost, detail) = formulas::price(book, t.kind, &t.legs, true);
        let total = cost * Decimal::from(k);
        let mut legs = Vec::new();
        for &(u, a) in &t.uses {
            if u < book.options.len() {
                let l = &book.options[u];
                let q = a * k * l.qty.signum();
                legs.push(Node::leg(format!(
                    "{q} {sym} {} {} {} ×{} @ {}",
                    l.spec.expiry,
                    l.spec.strike,
                    l.spec.right,
                    l.spec.multiplier,
                    amt(l.mark)
                )));
            } else {
                let sh = Decimal::from(a * k)
                    * if book.stock < Decimal::ZERO {
                        -Decimal::ONE
                    } else {
                        Decimal::ONE
                    };
                legs.push(Node::leg(format!(
                    "{} {sym} shares @ {}",
                    amt(sh),
                    amt(book.rates.s)
                )));
            }
        }
        out.push(
            Node::new(
                format!("{} ×{k}", strategy::name(book, t)),
                t.kind.rule(),
                total.init,
                total.maint,
            )
            .with_detail(format!(
                "{detail}; × {k} {}",
                if k == 1 { "unit" } else { "units" }
            ))
            .with_children(legs),
        );
    }
    let rest = leftovers(templates, caps, counts);
    for (u, l) in book.options.iter().enumerate() {
        let r = rest[u];
        if r <= 0 {
            continue;
        }
        let c = unit[u] * Decimal::from(r);
        let (rule, detail) = option_detail(book, l);
        let q = r * l.qty.signum();
        let what = if l.qty < 0 { "naked" } else { "long" };
        out.push(
            Node::new(format!("{what} ×{r}"), rule, c.init, c.maint)
                .with_detail(format!("{detail}; × {r}"))
                .with_children(vec![Node::leg(format!(
                    "{q} {sym} {} {} {} ×{} @ {}",
                    l.spec.expiry,
                    l.spec.strike,
                    l.spec.right,
                    l.spec.multiplier,
                    amt(l.mark)
                ))]),
        );
    }
    let shares = leftover_shares(book, templates, counts);
    if shares > Decimal::ZERO {
        let c = unit[book.stock_index()] * shares;
        let (rule, detail) = stock_detail(book, shares);
        let label = if book.stock > Decimal::ZERO {
            "long stock"
        } else {
            "short stock"
        };
        out.push(Node::new(label, rule, c.init, c.maint).with_detail(detail));
    }
    out
}
