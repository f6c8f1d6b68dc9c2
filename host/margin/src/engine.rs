//! [`MarginBook`]: a portfolio with its per-group results cached, so that a price change or a
//! proposed order recomputes only the affected underlying; and the account-level aggregation
//! (sums, IB's portfolio-margin concentration stress).

use crate::error::MarginError;
use crate::explain::{Node, amt};
use crate::group::GroupResult;
use crate::model::{Instrument, Portfolio, Position, UnderlyingClass};
use crate::regt::{self, Grouping};
use crate::result::{MarginResult, Method};
use crate::{futures, portfolio_margin};
use rust_decimal::Decimal;
use std::collections::BTreeMap;

const RULE_STRESS: &str = "IB concentration stress: two riskiest class groups at ±30%, the others at ±5%; charged if larger than the sum of the groups (IB portfolio margin)";

/// A portfolio with cached per-group requirements.
#[derive(Clone, Debug)]
pub struct MarginBook {
    portfolio: Portfolio,
    method: Method,
    grouping: Grouping,
    /// Position indices by underlying symbol.
    by_symbol: BTreeMap<String, Vec<usize>>,
    /// Cached group results by underlying symbol (absent: nothing to margin, or skipped).
    groups: BTreeMap<String, GroupResult>,
    /// Securities positions the futures method does not margin.
    skipped: usize,
}

/// The effect of a proposed order.
#[derive(Clone, Debug, PartialEq)]
pub struct WhatIf {
    /// Account initial requirement before the order.
    pub initial_before: Decimal,
    /// Account initial requirement with the order.
    pub initial_after: Decimal,
    /// Account maintenance requirement before the order.
    pub maintenance_before: Decimal,
    /// Account maintenance requirement with the order.
    pub maintenance_after: Decimal,
    /// The affected group after the order (its explanation).
    pub group_after: Option<Node>,
}

impl WhatIf {
    /// Change of the initial requirement.
    pub fn initial_change(&self) -> Decimal {
        self.initial_after - self.initial_before
    }

    /// Change of the maintenance requirement.
    pub fn maintenance_change(&self) -> Decimal {
        self.maintenance_after - self.maintenance_before
    }
}

impl MarginBook {
    /// Validates the snapshot and computes every group.
    pub fn new(portfolio: Portfolio, method: Method) -> Result<MarginBook, MarginError> {
        MarginBook::with_grouping(portfolio, method, Grouping::Optimal)
    }

    /// As [`MarginBook::new`] with a chosen Reg T grouping (baselines for tests and benchmarks).
    pub fn with_grouping(
        portfolio: Portfolio,
        method: Method,
        grouping: Grouping,
    ) -> Result<MarginBook, MarginError> {
        if let Some((path, message)) = portfolio.problem() {
            return Err(MarginError::new(path, message));
        }
        for (i, pos) in portfolio.positions.iter().enumerate() {
            validate(&portfolio, i, pos)?;
        }
        let mut by_symbol: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, pos) in portfolio.positions.iter().enumerate() {
            by_symbol.entry(pos.symbol.clone()).or_default().push(i);
        }
        let mut book = MarginBook {
            portfolio,
            method,
            grouping,
            by_symbol,
            groups: BTreeMap::new(),
            skipped: 0,
        };
        let symbols: Vec<String> = book.by_symbol.keys().cloned().collect();
        for sym in symbols {
            book.refresh(&sym)?;
        }
        Ok(book)
    }

    /// The snapshot.
    pub fn portfolio(&self) -> &Portfolio {
        &self.portfolio
    }

    /// The account result (aggregation of the cached groups).
    pub fn result(&self) -> MarginResult {
        aggregate(self.method, self.groups.values().collect(), self.skipped)
    }

    /// The requirement change of adding `order` (a signed position) — only its underlying is
    /// recomputed; the book is not changed.
    pub fn what_if(&self, order: &Position) -> Result<WhatIf, MarginError> {
        validate(&self.portfolio, self.portfolio.positions.len(), order)?;
        let before = self.totals(None);
        let mut idx: Vec<(usize, &Position)> = self
            .by_symbol
            .get(&order.symbol)
            .map(|v| {
                v.iter()
                    .map(|&i| (i, &self.portfolio.positions[i]))
                    .collect()
            })
            .unwrap_or_default();
        idx.push((self.portfolio.positions.len(), order));
        let after_group = self.compute_group(&order.symbol, &idx)?;
        let after = self.totals(Some((&order.symbol, after_group.as_ref())));
        Ok(WhatIf {
            initial_before: before.0,
            initial_after: after.0,
            maintenance_before: before.1,
            maintenance_after: after.1,
            group_after: after_group.map(|g| g.node),
        })
    }

    /// Adds a position and recomputes its underlying.
    pub fn apply(&mut self, order: Position) -> Result<(), MarginError> {
        validate(&self.portfolio, self.portfolio.positions.len(), &order)?;
        let sym = order.symbol.clone();
        self.by_symbol
            .entry(sym.clone())
            .or_default()
            .push(self.portfolio.positions.len());
        self.portfolio.positions.push(order);
        self.refresh(&sym)
    }

    /// Updates an underlying's price and recomputes its group.
    pub fn set_price(&mut self, symbol: &str, price: Decimal) -> Result<(), MarginError> {
        let und = self.portfolio.underlyings.get_mut(symbol).ok_or_else(|| {
            MarginError::new(format!("underlyings.{symbol}"), "unknown underlying")
        })?;
        if price.is_sign_negative() || !crate::model::in_range(price) {
            return Err(MarginError::new(
                format!("underlyings.{symbol}.price"),
                "out of range",
            ));
        }
        und.price = price;
        self.refresh(symbol)
    }

    /// Updates the mark of position `index` (an option's new price) and recomputes its group.
    pub fn set_mark(&mut self, index: usize, price: Decimal) -> Result<(), MarginError> {
        let pos =
            self.portfolio.positions.get_mut(index).ok_or_else(|| {
                MarginError::new(format!("positions[{index}]"), "no such position")
            })?;
        if price.is_sign_negative() || !crate::model::in_range(price) {
            return Err(MarginError::new(
                format!("positions[{index}].price"),
                "out of range",
            ));
        }
        pos.price = price;
        let sym = pos.symbol.clone();
        self.refresh(&sym)
    }

    fn refresh(&mut self, sym: &str) -> Result<(), MarginError> {
        let idx: Vec<(usize, &Position)> = self
            .by_symbol
            .get(sym)
            .map(|v| {
                v.iter()
                    .map(|&i| (i, &self.portfolio.positions[i]))
                    .collect()
            })
            .unwrap_or_default();
        let g = self.compute_group(sym, &idx)?;
        match g {
            Some(g) => {
                self.groups.insert(sym.to_string(), g);
            }
            None => {
                self.groups.remove(sym);
            }
        }
        self.skipped = self.count_skipped();
        Ok(())
    }

    fn count_skipped(&self) -> usize {
        if self.method != Method::Futures {
            return 0;
        }
        self.portfolio
            .positions
            .iter()
            .filter(|p| matches!(p.instrument, Instrument::Stock | Instrument::Option(_)))
            .count()
    }

    fn compute_group(
        &self,
        sym: &str,
        positions: &[(usize, &Position)],
    ) -> Result<Option<GroupResult>, MarginError> {
        if positions.is_empty() {
            return Ok(None);
        }
        let und =
            self.portfolio.underlyings.get(sym).ok_or_else(|| {
                MarginError::new(format!("underlyings.{sym}"), "unknown underlying")
            })?;
        let g = match (und.class, self.method) {
            (UnderlyingClass::Future, Method::Portfolio) => {
                portfolio_margin::group(&self.portfolio, und, positions)?
            }
            (UnderlyingClass::Future, _) => futures::group(&self.portfolio, und, positions)?,
            (_, Method::RegT) => regt::group(und, positions, self.grouping)?,
            (_, Method::Portfolio) => portfolio_margin::group(&self.portfolio, und, positions)?,
            (_, Method::Futures) => return Ok(None),
        };
        Ok(Some(g))
    }

    /// (initial, maintenance) with one group optionally replaced.
    fn totals(&self, replace: Option<(&str, Option<&GroupResult>)>) -> (Decimal, Decimal) {
        let mut list: Vec<&GroupResult> = Vec::with_capacity(self.groups.len() + 1);
        for (k, g) in &self.groups {
            if replace.is_some_and(|(s, _)| s == k) {
                continue;
            }
            list.push(g);
        }
        if let Some((_, Some(g))) = replace {
            list.push(g);
        }
        let (i, m, _, _) = sums(self.method, &list);
        (i, m)
    }
}

fn validate(p: &Portfolio, i: usize, pos: &Position) -> Result<(), MarginError> {
    let und = p.underlyings.get(&pos.symbol).ok_or_else(|| {
        MarginError::new(
            format!("positions[{i}].symbol"),
            format!("no underlying {:?}", pos.symbol),
        )
    })?;
    let future_class = und.class == UnderlyingClass::Future;
    let future_kind = matches!(
        pos.instrument,
        Instrument::Future { .. } | Instrument::FutureOption(_)
    );
    if future_class != future_kind {
        return Err(MarginError::new(
            format!("positions[{i}].kind"),
            if future_kind {
                "futures and futures options need an underlying of class future"
            } else {
                "stock and options cannot have an underlying of class future"
            },
        ));
    }
    if let Some((path, message)) = pos.problem(i) {
        return Err(MarginError::new(path, message));
    }
    Ok(())
}

/// (initial, maintenance, end of day, stress add-on).
fn sums(method: Method, groups: &[&GroupResult]) -> (Decimal, Decimal, Decimal, Decimal) {
    let initial: Decimal = groups.iter().map(|g| g.initial).sum();
    let maint: Decimal = groups.iter().map(|g| g.maintenance).sum();
    let eod: Decimal = groups.iter().map(|g| g.eod).sum();
    let add_on = if method == Method::Portfolio {
        stress_add_on(groups).0
    } else {
        Decimal::ZERO
    };
    (initial + add_on, maint + add_on, eod, add_on)
}

/// IB concentration stress: (add-on over the group sum, stressed total, chosen groups' labels).
fn stress_add_on(groups: &[&GroupResult]) -> (Decimal, Decimal, Vec<String>) {
    let stressed: Vec<(&GroupResult, Decimal, Decimal)> = groups
        .iter()
        .filter_map(|g| g.stress.as_ref().map(|s| (*g, s.big, s.small)))
        .collect();
    if stressed.is_empty() {
        return (Decimal::ZERO, Decimal::ZERO, Vec::new());
    }
    let mut order: Vec<usize> = (0..stressed.len()).collect();
    order.sort_by(|&a, &b| {
        let da = stressed[a].1 - stressed[a].2;
        let db = stressed[b].1 - stressed[b].2;
        db.cmp(&da)
            .then(stressed[a].0.node.label.cmp(&stressed[b].0.node.label))
    });
    let mut total: Decimal = stressed.iter().map(|s| s.2).sum();
    let mut chosen = Vec::new();
    for &k in order.iter().take(2) {
        total += stressed[k].1 - stressed[k].2;
        chosen.push(stressed[k].0.node.label.clone());
    }
    let standard: Decimal = stressed.iter().map(|s| s.0.maintenance).sum();
    ((total - standard).max(Decimal::ZERO), total, chosen)
}

/// The account result from group results.
pub(crate) fn aggregate(method: Method, groups: Vec<&GroupResult>, skipped: usize) -> MarginResult {
    let (initial, maintenance, eod, _) = sums(method, &groups);
    let mut nodes: Vec<Node> = groups.iter().map(|g| g.node.clone()).collect();
    if method == Method::Portfolio {
        let (add, stressed, chosen) = stress_add_on(&groups);
        if !chosen.is_empty() {
            nodes.push(
                Node::new("IB concentration stress", RULE_STRESS, add, add).with_detail(format!(
                    "±30% on {}, ±5% on the others: {} stressed vs {} by groups; add-on {}",
                    chosen.join(", "),
                    amt(stressed),
                    amt(stressed - add),
                    amt(add)
                )),
            );
        }
    }
    if skipped > 0 {
        nodes.push(
            Node::new(
                "securities not margined",
                "the futures method margins futures and futures options only",
                Decimal::ZERO,
                Decimal::ZERO,
            )
            .with_detail(format!(
                "{skipped} stock/option positions skipped; use --method regt or portfolio"
            )),
        );
    }
    MarginResult {
        method,
        initial,
        maintenance,
        reg_t_end_of_day: (method == Method::RegT).then_some(eod),
        groups: nodes,
    }
}
