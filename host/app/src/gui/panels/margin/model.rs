//! The margin calculator without widgets: methods, the add-leg form, the explanation rows and
//! how amounts read.

use std::str::FromStr;

use rust_decimal::Decimal;
use tickwork_margin::render::cents;
use tickwork_margin::{
    Date, Instrument, Method, Node, OptionSpec, Portfolio, Position, Right, Underlying,
    UnderlyingClass,
};

/// The methods in dropdown order.
pub const METHODS: [(Method, &str); 3] = [
    (Method::RegT, "Reg T"),
    (Method::Portfolio, "Portfolio"),
    (Method::Futures, "Futures"),
];

/// Leg kinds in dropdown order (the file's spelling).
pub const KINDS: [&str; 4] = ["stock", "option", "future", "future_option"];

/// Underlying classes in dropdown order (the file's spelling).
pub const CLASSES: [&str; 6] = [
    "equity",
    "etf",
    "broad_index",
    "narrow_index",
    "leveraged_etf",
    "future",
];

/// An amount to the cent with thousands separators: `12,345.60`.
pub fn amount(d: Decimal) -> String {
    let text = cents(d);
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text.as_str()),
    };
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, "00"));
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped}.{frac}")
}

/// What the trader typed in the add-leg form.
#[derive(Debug, Clone, Default)]
pub struct LegForm {
    pub symbol: String,
    /// Index into [`KINDS`].
    pub kind: usize,
    pub expiry: String,
    pub strike: String,
    /// 0 call, 1 put.
    pub right: usize,
    pub multiplier: String,
    pub quantity: String,
    pub price: String,
    /// Used when the symbol is a new underlying.
    pub underlying_price: String,
    /// Index into [`CLASSES`].
    pub class: usize,
}

fn decimal(field: &str, text: &str) -> Result<Decimal, String> {
    Decimal::from_str(text.trim()).map_err(|_| format!("{field}: expected a number, got “{text}”"))
}

/// Adds the leg to `portfolio` (and its underlying when new); an error names the field.
pub fn add_leg(portfolio: &mut Portfolio, form: &LegForm) -> Result<(), String> {
    let symbol = form.symbol.trim().to_uppercase();
    if symbol.is_empty() {
        return Err("Symbol: required".into());
    }
    let kind = KINDS.get(form.kind).copied().unwrap_or("stock");
    let qty = decimal("Quantity", &form.quantity)?;
    if qty.is_zero() {
        return Err("Quantity: must not be zero (negative for short)".into());
    }
    let price = decimal("Price", &form.price)?;
    let multiplier = || -> Result<Decimal, String> {
        if form.multiplier.trim().is_empty() {
            return Ok(Decimal::ONE_HUNDRED);
        }
        decimal("Multiplier", &form.multiplier)
    };
    let expiry = || -> Result<Date, String> {
        Date::from_str(form.expiry.trim())
            .map_err(|_| format!("Expiry: expected YYYY-MM-DD, got “{}”", form.expiry))
    };
    let option = || -> Result<OptionSpec, String> {
        Ok(OptionSpec {
            expiry: expiry()?,
            right: if form.right == 1 {
                Right::Put
            } else {
                Right::Call
            },
            strike: decimal("Strike", &form.strike)?,
            multiplier: multiplier()?,
        })
    };
    let instrument = match kind {
        "option" => Instrument::Option(option()?),
        "future_option" => Instrument::FutureOption(option()?),
        "future" => Instrument::Future {
            expiry: expiry()?,
            multiplier: multiplier()?,
        },
        _ => Instrument::Stock,
    };
    let futures_kind = matches!(kind, "future" | "future_option");
    if !portfolio.underlyings.contains_key(&symbol) {
        let under_price = if form.underlying_price.trim().is_empty() {
            match instrument {
                Instrument::Stock | Instrument::Future { .. } => price,
                _ => return Err("Underlying price: required for a new underlying".into()),
            }
        } else {
            decimal("Underlying price", &form.underlying_price)?
        };
        let class = if futures_kind {
            UnderlyingClass::Future
        } else {
            CLASSES
                .get(form.class)
                .and_then(|c| UnderlyingClass::from_name(c))
                .filter(|c| *c != UnderlyingClass::Future)
                .unwrap_or(UnderlyingClass::Equity)
        };
        portfolio
            .underlyings
            .insert(symbol.clone(), Underlying::new(&symbol, under_price, class));
    }
    portfolio.positions.push(Position {
        symbol,
        instrument,
        qty,
        price,
        iv: None,
    });
    Ok(())
}

/// Removes a leg and, when it was the last on its underlying, the underlying.
pub fn remove_leg(portfolio: &mut Portfolio, index: usize) {
    if index >= portfolio.positions.len() {
        return;
    }
    let removed = portfolio.positions.remove(index);
    if !portfolio
        .positions
        .iter()
        .any(|p| p.symbol == removed.symbol)
    {
        portfolio.underlyings.remove(&removed.symbol);
    }
}

/// A row of the explanation tree: a node of the engine's explanation, or one of its rule /
/// formula lines.
#[derive(Debug, Clone, PartialEq)]
pub enum TreeRow {
    Node(Node),
    Line(String),
}

impl TreeRow {
    /// What the row expands to: the rule and the formula, then the sub-nodes.
    pub fn children(&self) -> Vec<TreeRow> {
        let TreeRow::Node(node) = self else {
            return Vec::new();
        };
        let mut rows = Vec::new();
        if !node.rule.is_empty() {
            rows.push(TreeRow::Line(format!("Rule: {}", node.rule)));
        }
        if !node.detail.is_empty() {
            rows.push(TreeRow::Line(format!("= {}", node.detail)));
        }
        rows.extend(node.children.iter().cloned().map(TreeRow::Node));
        rows
    }

    pub fn label(&self) -> &str {
        match self {
            TreeRow::Node(n) => &n.label,
            TreeRow::Line(l) => l,
        }
    }

    /// Initial and maintenance, shown for nodes that carry an amount.
    pub fn amounts(&self) -> Option<(String, String)> {
        match self {
            TreeRow::Node(n)
                if !(n.rule.is_empty() && n.initial.is_zero() && n.maintenance.is_zero()) =>
            {
                Some((amount(n.initial), amount(n.maintenance)))
            }
            _ => None,
        }
    }
}

/// The leg's columns: kind, expiry, strike, right, multiplier.
pub fn leg_terms(p: &Position) -> [String; 5] {
    let (kind, expiry, strike, right, mult) = match &p.instrument {
        Instrument::Stock => (
            "stock",
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ),
        Instrument::Option(s) | Instrument::FutureOption(s) => (
            if matches!(p.instrument, Instrument::Option(_)) {
                "option"
            } else {
                "future option"
            },
            s.expiry.to_string(),
            s.strike.to_string(),
            s.right.to_string(),
            s.multiplier.to_string(),
        ),
        Instrument::Future { expiry, multiplier } => (
            "future",
            expiry.to_string(),
            String::new(),
            String::new(),
            multiplier.to_string(),
        ),
    };
    [kind.to_owned(), expiry, strike, right, mult]
}

#[cfg(test)]
mod tests {

    use super::*;

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    #[test]
    fn amounts_group_thousands_to_the_cent() {
        assert_eq!(amount(d("4680")), "4,680.00");
        assert_eq!(amount(d("1234567.005")), "1,234,567.01");
        assert_eq!(amount(d("-999.5")), "-999.50");
        assert_eq!(amount(d("0")), "0.00");
    }

    fn covered_call_form() -> [LegForm; 2] {
        [
            LegForm {
                symbol: "aapl".into(),
                quantity: "100".into(),
                price: "187.20".into(),
                ..LegForm::default()
            },
            LegForm {
                symbol: "AAPL".into(),
                kind: 1,
                expiry: "2026-12-18".into(),
                strike: "190".into(),
                quantity: "-1".into(),
                price: "4.15".into(),
                ..LegForm::default()
            },
        ]
    }

    #[test]
    fn the_form_builds_the_engines_legs() {
        let mut p = Portfolio {
            as_of: "2026-11-24".parse().ok(),
            ..Portfolio::default()
        };
        for leg in covered_call_form() {
            add_leg(&mut p, &leg).unwrap();
        }
        assert_eq!(p.underlyings["AAPL"].price, d("187.20"));
        assert_eq!(p.positions[1].option_spec().unwrap().multiplier, d("100"));
        let result = tickwork_margin::compute(&p, Method::RegT).unwrap();
        assert_eq!(result.initial, d("4680.00"));
        remove_leg(&mut p, 0);
        assert!(
            p.underlyings.contains_key("AAPL"),
            "the call still needs it"
        );
        remove_leg(&mut p, 0);
        assert!(p.underlyings.is_empty());
    }

    #[test]
    fn form_errors_name_the_field() {
        let mut p = Portfolio::default();
        let mut bad = covered_call_form()[1].clone();
        assert_eq!(
            add_leg(&mut p, &bad).unwrap_err(),
            "Underlying price: required for a new underlying"
        );
        bad.underlying_price = "187".into();
        bad.strike = "x".into();
        assert_eq!(
            add_leg(&mut p, &bad).unwrap_err(),
            "Strike: expected a number, got “x”"
        );
        bad.strike = "190".into();
        bad.expiry = "12/18".into();
        assert!(add_leg(&mut p, &bad).unwrap_err().starts_with("Expiry:"));
        assert!(p.positions.is_empty() && p.underlyings.is_empty());
    }

    #[test]
    fn the_tree_shows_rules_formulas_then_sub_nodes() {
        let leg = Node::leg("-1 AAPL call");
        let node = Node::new("covered call", "Reg T covered call", d("4680"), d("2500"))
            .with_detail("25% × 18720")
            .with_children(vec![leg.clone()]);
        let row = TreeRow::Node(node);
        assert_eq!(
            row.children(),
            vec![
                TreeRow::Line("Rule: Reg T covered call".into()),
                TreeRow::Line("= 25% × 18720".into()),
                TreeRow::Node(leg.clone()),
            ]
        );
        assert_eq!(row.amounts(), Some(("4,680.00".into(), "2,500.00".into())));
        assert_eq!(
            TreeRow::Node(leg).amounts(),
            None,
            "plain legs carry no amount"
        );
        assert!(TreeRow::Line("x".into()).children().is_empty());
    }
}
