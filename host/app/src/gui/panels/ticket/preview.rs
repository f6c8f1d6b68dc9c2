//! What the ticket shows of a preview: the figures of our margin engine and of TWS side by side,
//! and our explanation as text. Pure functions of the preview, tested here.

use rust_decimal::{Decimal, RoundingStrategy};
use tickwork_core::domain::TwsWhatIf;
use tickwork_margin::Node;

use crate::gui::boundary::OurMargin;

/// An amount to the cent with thousands separators: `-12,345.60`.
pub fn money(amount: Decimal) -> String {
    let mut rounded = amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    rounded.rescale(2);
    let text = rounded.abs().to_string();
    let (whole, cents) = text.split_once('.').unwrap_or((&text, "00"));
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    let sign = if rounded.is_sign_negative() && !rounded.is_zero() {
        "-"
    } else {
        ""
    };
    format!("{sign}{grouped}.{cents}")
}

fn or_dash(amount: Option<Decimal>) -> String {
    amount.map(money).unwrap_or_else(|| "—".into())
}

/// The rows of the side-by-side grid: a label, our figure, TWS's figure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub label: &'static str,
    pub ours: String,
    pub tws: String,
}

/// What the grid shows; `None` on a side: not known (yet), the note says why.
pub fn rows(ours: Option<&OurMargin>, tws: Option<&TwsWhatIf>) -> Vec<Row> {
    vec![
        Row {
            label: "Initial before",
            ours: or_dash(ours.map(|o| o.initial_before)),
            tws: "—".into(),
        },
        Row {
            label: "Initial after",
            ours: or_dash(ours.map(|o| o.initial_after)),
            tws: or_dash(tws.and_then(|t| t.initial_margin_after)),
        },
        Row {
            label: "Maint. before",
            ours: or_dash(ours.map(|o| o.maintenance_before)),
            tws: "—".into(),
        },
        Row {
            label: "Maint. after",
            ours: or_dash(ours.map(|o| o.maintenance_after)),
            tws: or_dash(tws.and_then(|t| t.maintenance_margin_after)),
        },
        Row {
            label: "Equity w/ loan",
            ours: or_dash(ours.and_then(|o| o.equity_with_loan)),
            tws: or_dash(tws.and_then(|t| t.equity_with_loan_after)),
        },
        Row {
            label: "Commission",
            ours: "—".into(),
            tws: or_dash(tws.and_then(|t| t.commission)),
        },
    ]
}

/// One line on our figure: the change of the initial requirement and the price it used.
pub fn ours_note(ours: &OurMargin) -> String {
    let change = ours.initial_after - ours.initial_before;
    let sign = if change.is_sign_negative() { "" } else { "+" };
    format!(
        "Ours (Reg T) at {}: initial {sign}{}",
        crate::gui::panels::ticket::form::price_text(ours.price),
        money(change)
    )
}

/// The explanation tree as indented text: label, amounts, rule and formula per node.
pub fn explanation(node: &Node) -> String {
    let mut out = String::new();
    walk(node, 0, &mut out);
    out.trim_end().to_owned()
}

fn walk(node: &Node, depth: usize, out: &mut String) {
    let indent = "  ".repeat(depth);
    let has_amounts = !node.initial.is_zero() || !node.maintenance.is_zero() || depth == 0;
    out.push_str(&indent);
    out.push_str(&node.label);
    if has_amounts {
        out.push_str(&format!(
            ": initial {}, maintenance {}",
            money(node.initial),
            money(node.maintenance)
        ));
    }
    out.push('\n');
    if !node.rule.is_empty() {
        out.push_str(&format!("{indent}  rule: {}\n", node.rule));
    }
    if !node.detail.is_empty() {
        out.push_str(&format!("{indent}  {}\n", node.detail));
    }
    for child in &node.children {
        walk(child, depth + 1, out);
    }
}

#[cfg(test)]
mod tests {
    /// An exact decimal from its text (the app has no decimal macro).
    fn d(text: &str) -> rust_decimal::Decimal {
        text.parse().expect("a decimal")
    }

    use super::*;

    fn ours() -> OurMargin {
        OurMargin {
            price: d("187.5"),
            initial_before: d("0"),
            initial_after: d("468.75"),
            maintenance_before: d("0"),
            maintenance_after: d("468.75"),
            equity_with_loan: Some(d("1000000")),
            explanation: None,
        }
    }

    #[test]
    fn money_is_to_the_cent_with_separators() {
        assert_eq!(money(d("0")), "0.00");
        assert_eq!(money(d("468.745")), "468.75");
        assert_eq!(money(d("1234567.8")), "1,234,567.80");
        assert_eq!(money(d("-12345.6")), "-12,345.60");
        assert_eq!(money(d("-0.001")), "0.00");
        assert_eq!(money(d("100")), "100.00");
    }

    #[test]
    fn both_figures_side_by_side_and_unknowns_are_dashes() {
        let tws = TwsWhatIf {
            initial_margin_after: Some(d("470.1")),
            maintenance_margin_after: None,
            equity_with_loan_after: Some(d("999999")),
            commission: Some(d("1")),
        };
        let rows = rows(Some(&ours()), Some(&tws));
        let after = rows.iter().find(|r| r.label == "Initial after").unwrap();
        assert_eq!(
            (after.ours.as_str(), after.tws.as_str()),
            ("468.75", "470.10")
        );
        let maint = rows.iter().find(|r| r.label == "Maint. after").unwrap();
        assert_eq!(maint.tws, "—");
        let commission = rows.iter().find(|r| r.label == "Commission").unwrap();
        assert_eq!(
            (commission.ours.as_str(), commission.tws.as_str()),
            ("—", "1.00")
        );
        assert!(
            super::rows(None, None)
                .iter()
                .all(|r| r.ours == "—" && r.tws == "—")
        );
    }

    #[test]
    fn the_note_gives_the_change_and_the_price() {
        assert_eq!(
            ours_note(&ours()),
            "Ours (Reg T) at 187.50: initial +468.75"
        );
        let smaller = OurMargin {
            initial_before: d("1000"),
            initial_after: d("400"),
            ..ours()
        };
        assert_eq!(
            ours_note(&smaller),
            "Ours (Reg T) at 187.50: initial -600.00"
        );
    }

    #[test]
    fn the_explanation_is_an_indented_tree() {
        let node = Node::new("AAPL", "", d("468.75"), d("468.75")).with_children(vec![
            Node::new(
                "long stock ×10",
                "IB Reg T: 25% of value",
                d("468.75"),
                d("468.75"),
            )
            .with_detail("0.25 × 10 × 187.5 = 468.75")
            .with_children(vec![Node::leg("+10 AAPL @ 187.5")]),
        ]);
        assert_eq!(
            explanation(&node),
            "AAPL: initial 468.75, maintenance 468.75\n\
             \x20 long stock ×10: initial 468.75, maintenance 468.75\n\
             \x20   rule: IB Reg T: 25% of value\n\
             \x20   0.25 × 10 × 187.5 = 468.75\n\
             \x20   +10 AAPL @ 187.5"
        );
    }
}
