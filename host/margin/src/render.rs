//! Output for the CLI and other consumers: the JSON shape of `tickwork margin --json` and a
//! human-readable table. Amounts are rounded to the cent here (the engine keeps them exact).

use crate::explain::Node;
use crate::result::MarginResult;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;
use serde_json::{Map, Value, json};

/// An amount to the cent, as text (`"4310.50"`).
pub fn cents(d: Decimal) -> String {
    let mut r = d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    r.rescale(2);
    if r.is_zero() {
        r = Decimal::new(0, 2);
    }
    r.to_string()
}

/// `{"method", "initial", "maintenance", "reg_t_end_of_day" (Reg T only), "groups": [...]}`, amounts
/// as decimal strings; each group is a node `{"label", "rule", "initial", "maintenance", "detail",
/// "children"}`.
pub fn render_json(result: &MarginResult) -> Value {
    let mut m = Map::new();
    m.insert("method".into(), Value::String(result.method.name().into()));
    m.insert("initial".into(), Value::String(cents(result.initial)));
    m.insert(
        "maintenance".into(),
        Value::String(cents(result.maintenance)),
    );
    if let Some(eod) = result.reg_t_end_of_day {
        m.insert("reg_t_end_of_day".into(), Value::String(cents(eod)));
    }
    m.insert(
        "groups".into(),
        Value::Array(result.groups.iter().map(node_json).collect()),
    );
    Value::Object(m)
}

/// The same JSON as [`render_json`], pretty-printed with the keys in the documented order
/// (`method`, `initial`, `maintenance`, `reg_t_end_of_day`, `groups`; nodes `label`, `rule`,
/// `initial`, `maintenance`, `detail`, `children`) — what `tickwork margin --json` prints.
pub fn render_json_text(result: &MarginResult) -> String {
    let doc = Doc {
        method: result.method.name(),
        initial: cents(result.initial),
        maintenance: cents(result.maintenance),
        reg_t_end_of_day: result.reg_t_end_of_day.map(cents),
        groups: result.groups.iter().map(ordered).collect(),
    };
    serde_json::to_string_pretty(&doc).unwrap_or_else(|_| render_json(result).to_string())
}

#[derive(Serialize)]
struct Doc<'a> {
    method: &'a str,
    initial: String,
    maintenance: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    reg_t_end_of_day: Option<String>,
    groups: Vec<OrderedNode<'a>>,
}

#[derive(Serialize)]
struct OrderedNode<'a> {
    label: &'a str,
    rule: &'a str,
    initial: String,
    maintenance: String,
    detail: &'a str,
    children: Vec<OrderedNode<'a>>,
}

fn ordered(n: &Node) -> OrderedNode<'_> {
    OrderedNode {
        label: &n.label,
        rule: &n.rule,
        initial: cents(n.initial),
        maintenance: cents(n.maintenance),
        detail: &n.detail,
        children: n.children.iter().map(ordered).collect(),
    }
}

fn node_json(n: &Node) -> Value {
    json!({
        "label": n.label,
        "rule": n.rule,
        "initial": cents(n.initial),
        "maintenance": cents(n.maintenance),
        "detail": n.detail,
        "children": n.children.iter().map(node_json).collect::<Vec<_>>(),
    })
}

/// A human-readable table: totals, then the tree indented, amounts right-aligned.
pub fn render_table(result: &MarginResult) -> String {
    let mut rows: Vec<(String, String, String, String)> = Vec::new();
    for g in &result.groups {
        walk(g, 0, &mut rows);
    }
    let w = rows
        .iter()
        .map(|r| r.0.chars().count())
        .max()
        .unwrap_or(0)
        .max(20);
    let mut out = String::new();
    out.push_str(&format!("Margin ({})\n", result.method.name()));
    out.push_str(&format!(
        "{:<w$}  {:>14}  {:>14}\n",
        "", "initial", "maintenance"
    ));
    for (label, i, m, rule) in &rows {
        let pad = w.saturating_sub(label.chars().count());
        out.push_str(&format!("{label}{}  {i:>14}  {m:>14}", " ".repeat(pad)));
        if !rule.is_empty() {
            out.push_str("  ");
            out.push_str(rule);
        }
        out.push('\n');
    }
    out.push_str(&format!("{}\n", "-".repeat(w + 32)));
    let total = "total";
    out.push_str(&format!(
        "{total}{}  {:>14}  {:>14}\n",
        " ".repeat(w.saturating_sub(total.len())),
        cents(result.initial),
        cents(result.maintenance)
    ));
    if let Some(eod) = result.reg_t_end_of_day {
        let label = "Reg T end of day";
        out.push_str(&format!(
            "{label}{}  {:>14}\n",
            " ".repeat(w.saturating_sub(label.len())),
            cents(eod)
        ));
    }
    out
}

fn walk(n: &Node, depth: usize, rows: &mut Vec<(String, String, String, String)>) {
    let label = format!("{}{}", "  ".repeat(depth), n.label);
    let is_leg = n.rule.is_empty() && n.initial.is_zero() && n.maintenance.is_zero();
    let (i, m) = if is_leg {
        (String::new(), String::new())
    } else {
        (cents(n.initial), cents(n.maintenance))
    };
    let short_rule = n.rule.split(':').next().unwrap_or("").to_string();
    rows.push((label, i, m, short_rule));
    for c in &n.children {
        walk(c, depth + 1, rows);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::Method;
    use rust_decimal_macros::dec;

    #[test]
    fn cents_round_half_away_from_zero() {
        assert_eq!(cents(dec!(80511.5)), "80511.50");
        assert_eq!(cents(dec!(4310.505)), "4310.51");
        assert_eq!(cents(dec!(4310.504999)), "4310.50");
        assert_eq!(cents(dec!(-0.001)), "0.00");
        assert_eq!(cents(dec!(0)), "0.00");
    }

    #[test]
    fn json_text_keeps_the_documented_key_order_and_matches_render_json() {
        let r = MarginResult {
            method: Method::RegT,
            initial: dec!(1),
            maintenance: dec!(2),
            reg_t_end_of_day: Some(dec!(3)),
            groups: vec![Node::new("A", "rule", dec!(1), dec!(2))],
        };
        let text = render_json_text(&r);
        let pos = |k: &str| text.find(&format!("\"{k}\"")).unwrap_or(usize::MAX);
        assert!(pos("method") < pos("initial") && pos("initial") < pos("maintenance"));
        assert!(
            pos("maintenance") < pos("reg_t_end_of_day") && pos("reg_t_end_of_day") < pos("groups")
        );
        let parsed: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed, render_json(&r));
    }
}
