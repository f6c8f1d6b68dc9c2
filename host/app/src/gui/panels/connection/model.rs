//! What the connection panel says, without widgets: capacity lines and reconciliation reports.

use serde_json::Value;
use tickwork_core::session::LineStatus;

/// `12 of 100 lines in use` and the queue.
pub fn lines(status: &LineStatus) -> (String, String) {
    let used = format!("{} of {} in use", status.active, status.limit);
    let queue = match status.queue.len() {
        0 => "No instrument waiting".to_owned(),
        1 => "1 instrument waiting for a line".to_owned(),
        n => format!("{n} instruments waiting for a line"),
    };
    (used, queue)
}

/// The fraction of lines in use (for the level bar).
pub fn line_fraction(status: &LineStatus) -> f64 {
    if status.limit == 0 {
        return 0.0;
    }
    (status.active as f64 / status.limit as f64).clamp(0.0, 1.0)
}

pub fn pacing(status: &LineStatus) -> String {
    let h = &status.historical;
    format!(
        "{} of {} open · {} of {} paced requests in 10 min",
        h.open, h.max_open, h.sent_last_10_min, h.max_per_10_min
    )
}

fn count(report: &Value, key: &str) -> usize {
    match &report[key] {
        Value::Array(a) => a.len(),
        Value::Number(n) => n
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(0),
        _ => 0,
    }
}

/// The counts of a stored report, in the order the panel lists them.
pub const COUNTS: [(&str, &str); 7] = [
    ("positions_changed", "positions changed"),
    ("orders_updated", "orders updated"),
    ("orders_unknown", "orders unknown"),
    ("orders_never_received", "never received"),
    ("orders_amended", "amended"),
    ("modifications_lost", "modifications lost"),
    ("executions_added", "executions added"),
];

/// One line of counts, naming only what is not zero (`Nothing changed` otherwise).
pub fn summary(report: &Value) -> String {
    let parts: Vec<String> = COUNTS
        .iter()
        .filter_map(|(key, label)| {
            let n = count(report, key);
            (n > 0).then(|| format!("{n} {label}"))
        })
        .collect();
    if parts.is_empty() {
        "Nothing changed".to_owned()
    } else {
        parts.join(" · ")
    }
}

/// The details, one line each: which positions, which orders, and how.
pub fn details(report: &Value) -> Vec<String> {
    let mut lines = Vec::new();
    let list = |key: &str| report[key].as_array().cloned().unwrap_or_default();
    for p in list("positions_changed") {
        lines.push(format!(
            "Position {} #{}: {} → {}",
            p["account"].as_str().unwrap_or("?"),
            p["instrument_id"],
            text(&p["before"]),
            text(&p["after"])
        ));
    }
    for o in list("orders_updated") {
        lines.push(format!(
            "Order {}: {} → {}",
            text(&o["order_ref"]),
            text(&o["before"]),
            text(&o["after"])
        ));
    }
    for (key, what) in [
        ("orders_unknown", "unknown to TWS"),
        ("orders_never_received", "never received by TWS"),
        ("modifications_lost", "modification lost"),
    ] {
        for r in list(key) {
            lines.push(format!("Order {}: {what}", text(&r)));
        }
    }
    for a in list("orders_amended") {
        lines.push(format!(
            "Order {}: amended at TWS {} → {}",
            text(&a["order_ref"]),
            a["before"],
            a["after"]
        ));
    }
    let executions = count(report, "executions_added");
    if executions > 0 {
        lines.push(format!("{executions} executions added"));
    }
    for (key, label) in [
        ("positions", "positions"),
        ("open_orders", "open orders"),
        ("account_values", "account values"),
    ] {
        if let Some(n) = report[key].as_u64() {
            lines.push(format!("{n} {label} read"));
        }
    }
    lines
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "—".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use tickwork_core::session::{PacingStatus, SyncReport};

    use super::*;

    #[test]
    fn a_report_reads_as_counts_and_details() {
        let report = SyncReport {
            positions: 3,
            orders_unknown: vec!["tw-7".into()],
            executions_added: 2,
            orders_updated: vec![tickwork_core::session::OrderChange {
                order_ref: "tw-1".into(),
                before: "Submitted".into(),
                after: "Filled".into(),
            }],
            ..SyncReport::default()
        };
        let value = serde_json::to_value(&report).unwrap();
        assert_eq!(
            summary(&value),
            "1 orders updated · 1 orders unknown · 2 executions added"
        );
        let d = details(&value);
        assert!(
            d.contains(&"Order tw-1: Submitted → Filled".to_string()),
            "{d:?}"
        );
        assert!(d.contains(&"Order tw-7: unknown to TWS".to_string()));
        assert!(d.contains(&"3 positions read".to_string()));
        assert_eq!(summary(&json!({})), "Nothing changed");
    }

    #[test]
    fn lines_and_pacing() {
        let status = LineStatus {
            active: 99,
            limit: 100,
            queue: vec![5, 6],
            historical: PacingStatus {
                open: 1,
                max_open: 50,
                sent_last_10_min: 12,
                max_per_10_min: 60,
            },
        };
        assert_eq!(
            lines(&status),
            (
                "99 of 100 in use".into(),
                "2 instruments waiting for a line".into()
            )
        );
        assert!((line_fraction(&status) - 0.99).abs() < 1e-9);
        assert_eq!(
            pacing(&status),
            "1 of 50 open · 12 of 60 paced requests in 10 min"
        );
        assert_eq!(line_fraction(&LineStatus::default()), 0.0);
    }
}
