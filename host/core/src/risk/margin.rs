//! The margin check's own figure: the account's initial requirement after an order, from
//! `tickwork-margin` (Reg T with optimal grouping), computed on our positions and marks, with
//! the user's custom margin rules (scripts) applied on top.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use tickwork_margin as margin;

use crate::domain::OrderIntent;
use crate::domain::{InstrumentSpec, OptionRight, SecType};

/// One position as the margin engine needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holding {
    pub spec: InstrumentSpec,
    /// Signed quantity.
    pub quantity: Decimal,
    /// Current price per unit (never the entry price).
    pub mark: Decimal,
}

/// The account as the margin check sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MarginInputs {
    pub holdings: Vec<Holding>,
    /// Price of each underlying by symbol (needed for options).
    pub underlying_prices: BTreeMap<String, Decimal>,
    pub as_of: Option<NaiveDate>,
    /// The account's equity with loan value, when known: custom rules may read it.
    pub equity: Option<Decimal>,
}

/// A custom rule that can be shared with the gate's tasks.
pub type SharedRule = Arc<dyn margin::CustomRule + Send + Sync>;

/// The custom rules applied after the built-in figure, in order, and whether they may lower
/// it (only when the user configured it). Cheap to clone.
#[derive(Clone, Default)]
pub struct MarginRules {
    rules: Vec<SharedRule>,
    policy: margin::OverridePolicy,
}

impl fmt::Debug for MarginRules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MarginRules")
            .field(
                "rules",
                &self.rules.iter().map(|r| r.name()).collect::<Vec<_>>(),
            )
            .field("policy", &self.policy)
            .finish()
    }
}

impl MarginRules {
    /// `rules` in the order they apply (each sees the result of the ones before).
    pub fn new(rules: Vec<SharedRule>, policy: margin::OverridePolicy) -> Self {
        Self { rules, policy }
    }

    /// These rules followed by `more` (the loaded plugins' rules come after the scripts).
    pub fn chain(mut self, more: Vec<SharedRule>) -> Self {
        self.rules.extend(more);
        self
    }

    /// The same rules under another policy.
    pub fn with_policy(self, policy: margin::OverridePolicy) -> Self {
        Self { policy, ..self }
    }

    /// No rule: the built-in figure is the answer (and the what-if stays incremental).
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Whether these rules may lower the built-in figure (the user's setting).
    pub fn policy(&self) -> margin::OverridePolicy {
        self.policy
    }

    /// `result` with every rule applied: each adds a node to its groups (the explanation),
    /// failed ones included. `equity` is what the rules see as `input.equity`.
    pub fn apply(
        &self,
        portfolio: &margin::Portfolio,
        result: margin::MarginResult,
        equity: Option<Decimal>,
    ) -> margin::MarginResult {
        if self.rules.is_empty() {
            return result;
        }
        let rules: Vec<&dyn margin::CustomRule> = self
            .rules
            .iter()
            .map(|r| r.as_ref() as &dyn margin::CustomRule)
            .collect();
        crate::scripting::margin_rule::with_equity(equity, || {
            margin::apply_custom_rules(portfolio, result, &rules, self.policy)
        })
    }
}

/// One line of what the custom rules did, for the gate's denial and the audit log
/// (`script:concentration +1200 initial; script:floor failed: ignored`); `None` without rules.
pub fn rules_summary(rule_nodes: &[margin::Node]) -> Option<String> {
    if rule_nodes.is_empty() {
        return None;
    }
    let parts: Vec<String> = rule_nodes
        .iter()
        .map(|node| {
            let name = node
                .label
                .strip_prefix("custom rule ")
                .unwrap_or(&node.label);
            if node.rule.contains("failed") {
                format!("{name} failed: ignored")
            } else if node.rule.contains("no change") {
                format!("{name} no change")
            } else {
                let sign = if node.initial.is_sign_negative() {
                    ""
                } else {
                    "+"
                };
                format!("{name} {sign}{} initial", node.initial.normalize())
            }
        })
        .collect();
    Some(parts.join("; "))
}

/// The account's initial requirement after an order, custom rules included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarginAfter {
    /// Compared with equity with loan by the gate.
    pub initial: Decimal,
    /// What the custom rules did ([`rules_summary`]); `None` when none apply.
    pub custom_rules: Option<String>,
}

/// Why the margin figure could not be computed; the gate then denies (margin unknown).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MarginCheckError {
    #[error("no price for {0} to value the order or its underlying")]
    NoPrice(String),
    #[error("{0}")]
    Engine(String),
    #[error("{0} positions are not margined by the built-in engine")]
    Unsupported(&'static str),
}

fn class_of(sec_type: SecType) -> Result<margin::UnderlyingClass, MarginCheckError> {
    Ok(match sec_type {
        SecType::Stock | SecType::Option => margin::UnderlyingClass::Equity,
        SecType::Etf => margin::UnderlyingClass::Etf,
        SecType::Index => margin::UnderlyingClass::BroadIndex,
        SecType::Future | SecType::FutureOption => margin::UnderlyingClass::Future,
        SecType::Cash => return Err(MarginCheckError::Unsupported("cash (forex)")),
    })
}

fn engine_position(
    spec: &InstrumentSpec,
    quantity: Decimal,
    mark: Decimal,
) -> Result<margin::Position, MarginCheckError> {
    let option_spec = || -> Result<margin::OptionSpec, MarginCheckError> {
        let expiry = spec.expiry.ok_or_else(|| {
            MarginCheckError::Engine(format!("{}: option without expiry", spec.symbol))
        })?;
        Ok(margin::OptionSpec {
            expiry: margin::Date::new(expiry.year(), expiry.month() as u8, expiry.day() as u8)
                .ok_or_else(|| {
                    MarginCheckError::Engine(format!("{}: bad expiry {expiry}", spec.symbol))
                })?,
            right: match spec.right {
                Some(OptionRight::Put) => margin::Right::Put,
                _ => margin::Right::Call,
            },
            strike: spec.strike.ok_or_else(|| {
                MarginCheckError::Engine(format!("{}: option without strike", spec.symbol))
            })?,
            multiplier: spec.multiplier,
        })
    };
    Ok(match spec.sec_type {
        SecType::Stock | SecType::Etf | SecType::Index => {
            margin::Position::stock(&spec.symbol, quantity, mark)
        }
        SecType::Option => margin::Position::option(&spec.symbol, option_spec()?, quantity, mark),
        SecType::FutureOption => margin::Position {
            instrument: margin::Instrument::FutureOption(option_spec()?),
            ..margin::Position::stock(&spec.symbol, quantity, mark)
        },
        SecType::Future => margin::Position {
            instrument: margin::Instrument::Future {
                expiry: spec
                    .expiry
                    .and_then(|e| margin::Date::new(e.year(), e.month() as u8, e.day() as u8))
                    .ok_or_else(|| {
                        MarginCheckError::Engine(format!("{}: future without expiry", spec.symbol))
                    })?,
                multiplier: spec.multiplier,
            },
            ..margin::Position::stock(&spec.symbol, quantity, mark)
        },
        SecType::Cash => return Err(MarginCheckError::Unsupported("cash (forex)")),
    })
}

/// The engine's snapshot of `inputs`: every holding, and an underlying (with its class and
/// price) for each symbol. `extra` adds an underlying without a position (an order's).
fn snapshot<'a>(
    inputs: &'a MarginInputs,
    extra: Option<(&'a InstrumentSpec, Decimal)>,
) -> Result<margin::Portfolio, MarginCheckError> {
    let mut portfolio = margin::Portfolio {
        as_of: inputs
            .as_of
            .and_then(|d| margin::Date::new(d.year(), d.month() as u8, d.day() as u8)),
        ..margin::Portfolio::default()
    };
    let all = inputs
        .holdings
        .iter()
        .map(|h| (&h.spec, h.quantity, h.mark))
        .chain(extra.map(|(spec, price)| (spec, Decimal::ZERO, price)));
    for (spec, quantity, mark) in all {
        let underlying_price = match spec.sec_type {
            SecType::Stock | SecType::Etf | SecType::Index | SecType::Future => Some(mark),
            _ => inputs.underlying_prices.get(&spec.symbol).copied(),
        }
        .ok_or_else(|| MarginCheckError::NoPrice(spec.symbol.clone()))?;
        portfolio
            .underlyings
            .entry(spec.symbol.clone())
            .or_insert_with(|| {
                margin::Underlying::new(
                    &spec.symbol,
                    underlying_price,
                    margin::UnderlyingClass::Equity,
                )
            })
            .class = class_of(spec.sec_type)?;
        if !quantity.is_zero() {
            portfolio
                .positions
                .push(engine_position(spec, quantity, mark)?);
        }
    }
    Ok(portfolio)
}

/// The account's holdings as the margin engine's portfolio (the margin calculator's "live
/// portfolio"): options need their underlying's price in `underlying_prices`.
pub fn portfolio(inputs: &MarginInputs) -> Result<margin::Portfolio, MarginCheckError> {
    snapshot(inputs, None)
}

fn engine_error(e: margin::MarginError) -> MarginCheckError {
    MarginCheckError::Engine(e.to_string())
}

/// The book before the order (the order's underlying known, at `price`) and the order.
fn book_and_order(
    inputs: &MarginInputs,
    intent: &OrderIntent,
    price: Decimal,
) -> Result<(margin::MarginBook, margin::Position), MarginCheckError> {
    let portfolio = snapshot(inputs, Some((&intent.instrument, price)))?;
    let book = margin::MarginBook::new(portfolio, margin::Method::RegT).map_err(engine_error)?;
    let order = engine_position(&intent.instrument, intent.signed_quantity(), price)?;
    Ok((book, order))
}

/// The account's result after the order with `rules` applied, and the rules' nodes.
fn ruled_after(
    book: &margin::MarginBook,
    order: margin::Position,
    rules: &MarginRules,
    equity: Option<Decimal>,
) -> Result<(margin::MarginResult, Vec<margin::Node>), MarginCheckError> {
    let mut after = book.clone();
    after.apply(order).map_err(engine_error)?;
    let builtin = after.result();
    let first_rule = builtin.groups.len();
    let result = rules.apply(after.portfolio(), builtin, equity);
    let nodes = result.groups[first_rule..].to_vec();
    Ok((result, nodes))
}

/// The account's initial requirement (Reg T) after `intent` fills at `price`, with the custom
/// `rules` applied: the figure the gate's margin check compares with equity.
pub fn initial_after(
    inputs: &MarginInputs,
    intent: &OrderIntent,
    price: Decimal,
    rules: &MarginRules,
) -> Result<MarginAfter, MarginCheckError> {
    let (book, order) = book_and_order(inputs, intent, price)?;
    if rules.is_empty() {
        let w = book.what_if(&order).map_err(engine_error)?;
        return Ok(MarginAfter {
            initial: w.initial_after,
            custom_rules: None,
        });
    }
    let (after, nodes) = ruled_after(&book, order, rules, inputs.equity)?;
    Ok(MarginAfter {
        initial: after.initial,
        custom_rules: rules_summary(&nodes),
    })
}

/// The account's requirements (Reg T) before and after `intent` fills at `price`, with the
/// explanation of the order's underlying after it (what the order ticket shows). With custom
/// `rules`, the figures include them and the explanation is the account after the order: the
/// underlying's node, then one node per rule.
pub fn what_if(
    inputs: &MarginInputs,
    intent: &OrderIntent,
    price: Decimal,
    rules: &MarginRules,
) -> Result<margin::WhatIf, MarginCheckError> {
    let (book, order) = book_and_order(inputs, intent, price)?;
    let builtin = book.what_if(&order).map_err(engine_error)?;
    if rules.is_empty() {
        return Ok(builtin);
    }
    let before = rules.apply(book.portfolio(), book.result(), inputs.equity);
    let (after, nodes) = ruled_after(&book, order, rules, inputs.equity)?;
    let explanation = margin::Node::new(
        "account after the order",
        "built-in requirement, then the custom margin rules",
        after.initial,
        after.maintenance,
    )
    .with_detail(format!(
        "built-in {} / {}; {}",
        builtin.initial_after,
        builtin.maintenance_after,
        rules_summary(&nodes).unwrap_or_default()
    ))
    .with_children(builtin.group_after.into_iter().chain(nodes).collect());
    Ok(margin::WhatIf {
        initial_before: before.initial,
        initial_after: after.initial,
        maintenance_before: before.maintenance,
        maintenance_after: after.maintenance,
        group_after: Some(explanation),
    })
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;
    use crate::domain::{OrderSide, OrderType, TimeInForce};
    use crate::risk::Origin;

    /// AAPL 2026-12-18 190 call.
    fn aapl_call() -> InstrumentSpec {
        InstrumentSpec {
            sec_type: SecType::Option,
            expiry: NaiveDate::from_ymd_opt(2026, 12, 18),
            strike: Some(dec!(190)),
            right: Some(OptionRight::Call),
            multiplier: dec!(100),
            ..InstrumentSpec::stock("AAPL")
        }
    }

    fn buy(spec: InstrumentSpec, quantity: Decimal) -> OrderIntent {
        OrderIntent {
            origin: Origin::Ui,
            account: "DU1".into(),
            instrument: spec,
            side: OrderSide::Buy,
            quantity,
            order_type: OrderType::Market,
            limit_price: None,
            stop_price: None,
            time_in_force: TimeInForce::Day,
            parent_ref: None,
        }
    }

    #[test]
    fn long_stock_needs_a_quarter_of_its_value() {
        // Reg T at IB: long stock 25 % of value at the time of trade.
        let inputs = MarginInputs::default();
        let initial = initial_after(
            &inputs,
            &buy(InstrumentSpec::stock("AAPL"), dec!(100)),
            dec!(187.20),
            &MarginRules::default(),
        )
        .unwrap();
        assert_eq!(initial.initial, dec!(4680.00));
        assert_eq!(initial.custom_rules, None);
    }

    #[test]
    fn what_if_gives_before_and_after_with_the_explanation() {
        let inputs = MarginInputs {
            holdings: vec![Holding {
                spec: InstrumentSpec::stock("AAPL"),
                quantity: dec!(100),
                mark: dec!(187.20),
            }],
            ..MarginInputs::default()
        };
        let w = what_if(
            &inputs,
            &buy(InstrumentSpec::stock("AAPL"), dec!(100)),
            dec!(187.20),
            &MarginRules::default(),
        )
        .unwrap();
        assert_eq!(w.initial_before, dec!(4680.00));
        assert_eq!(w.initial_after, dec!(9360.00));
        assert!(w.maintenance_after >= w.maintenance_before);
        let node = w.group_after.expect("the order's underlying is explained");
        assert!(node.label.contains("AAPL"), "{}", node.label);
    }

    /// A rule adding `amount` to both requirements.
    fn surcharge(name: &str, amount: &str) -> SharedRule {
        let source = format!(
            "fn margin(input) {{ #{{initial: {amount}, maintenance: {amount}, reason: \"house\"}} }}"
        );
        Arc::new(crate::scripting::ScriptMarginRule::compile(name, &source).unwrap())
    }

    #[test]
    fn custom_rules_add_to_the_figures_and_explain_themselves() {
        let inputs = MarginInputs {
            holdings: vec![Holding {
                spec: InstrumentSpec::stock("AAPL"),
                quantity: dec!(100),
                mark: dec!(187.20),
            }],
            equity: Some(dec!(20000)),
            ..MarginInputs::default()
        };
        let order = buy(InstrumentSpec::stock("AAPL"), dec!(100));
        let rules = MarginRules::new(
            vec![
                surcharge("house", "250.5"),
                Arc::new(
                    crate::scripting::ScriptMarginRule::compile(
                        "equity",
                        "fn margin(input) { if input.equity > 10000 { () } else { 1 / 0 } }",
                    )
                    .unwrap(),
                ),
            ],
            margin::OverridePolicy::OnlyRaise,
        );
        let after = initial_after(&inputs, &order, dec!(187.20), &rules).unwrap();
        assert_eq!(after.initial, dec!(9610.50));
        assert_eq!(
            after.custom_rules.as_deref(),
            Some("script:house +250.5 initial; script:equity no change")
        );

        let w = what_if(&inputs, &order, dec!(187.20), &rules).unwrap();
        assert_eq!(
            (w.initial_before, w.initial_after),
            (dec!(4930.50), dec!(9610.50))
        );
        let node = w.group_after.expect("the account after the order");
        assert_eq!(node.label, "account after the order");
        let labels: Vec<&str> = node.children.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(labels.len(), 3);
        assert!(labels[0].contains("AAPL"), "{labels:?}");
        assert_eq!(
            &labels[1..],
            ["custom rule script:house", "custom rule script:equity"]
        );

        // Without the equity the second rule fails, and is named as ignored.
        let inputs = MarginInputs {
            equity: None,
            ..inputs
        };
        let after = initial_after(&inputs, &order, dec!(187.20), &rules).unwrap();
        assert_eq!(after.initial, dec!(9610.50));
        assert_eq!(
            after.custom_rules.as_deref(),
            Some("script:house +250.5 initial; script:equity failed: ignored")
        );
    }

    #[test]
    fn existing_positions_count_and_a_covered_call_is_recognised() {
        let call = aapl_call();
        let inputs = MarginInputs {
            holdings: vec![Holding {
                spec: InstrumentSpec::stock("AAPL"),
                quantity: dec!(100),
                mark: dec!(187.20),
            }],
            underlying_prices: [("AAPL".to_owned(), dec!(187.20))].into(),
            as_of: NaiveDate::from_ymd_opt(2026, 11, 24),
            equity: None,
        };
        let mut sell_call = buy(call, dec!(1));
        sell_call.side = OrderSide::Sell;
        // Covered call: stock initial + ITM of the call (0: 190 > 187.20).
        assert_eq!(
            initial_after(&inputs, &sell_call, dec!(4.15), &MarginRules::default())
                .unwrap()
                .initial,
            dec!(4680.00)
        );
    }

    #[test]
    fn an_option_without_an_underlying_price_is_unknown() {
        let call = aapl_call();
        let err = initial_after(
            &MarginInputs::default(),
            &buy(call, dec!(1)),
            dec!(4),
            &MarginRules::default(),
        )
        .unwrap_err();
        assert_eq!(err, MarginCheckError::NoPrice("AAPL".into()));
    }

    #[test]
    fn the_holdings_become_the_engines_portfolio() {
        let call = aapl_call();
        let inputs = MarginInputs {
            holdings: vec![
                Holding {
                    spec: InstrumentSpec::stock("AAPL"),
                    quantity: dec!(100),
                    mark: dec!(187.20),
                },
                Holding {
                    spec: call,
                    quantity: dec!(-1),
                    mark: dec!(4.15),
                },
            ],
            underlying_prices: [("AAPL".to_owned(), dec!(187.20))].into(),
            as_of: NaiveDate::from_ymd_opt(2026, 11, 24),
            equity: None,
        };
        let p = portfolio(&inputs).unwrap();
        assert_eq!(p.positions.len(), 2);
        assert_eq!(p.underlyings["AAPL"].price, dec!(187.20));
        let result = margin::compute(&p, margin::Method::RegT).unwrap();
        assert_eq!(result.initial, dec!(4680.00));
    }
}
