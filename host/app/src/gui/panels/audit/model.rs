//! What the audit viewer shows, without widgets: the filter choices and how entries read.

use chrono::{DateTime, Duration, Local, TimeZone, Utc};
use tickwork_core::store::audit::{AuditFacets, AuditFilter, AuditRecord};

/// Entries per page ("Load more" fetches the next).
pub const PAGE: i64 = 100;

/// The time range choices, in dropdown order.
pub const RANGES: [&str; 4] = ["Today", "Last 7 days", "Last 30 days", "All time"];

/// The start of a range chosen in the dropdown, at `now` (today starts at local midnight).
pub fn since(range: u32, now: DateTime<Local>) -> Option<DateTime<Utc>> {
    let days = match range {
        0 => {
            let midnight = now.date_naive().and_hms_opt(0, 0, 0)?;
            return Local
                .from_local_datetime(&midnight)
                .earliest()
                .map(|t| t.with_timezone(&Utc));
        }
        1 => 7,
        2 => 30,
        _ => return None,
    };
    Some((now - Duration::days(days)).with_timezone(&Utc))
}

/// One dropdown's choices: what is shown and the filter value (`None`: everything).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choices {
    pub shown: Vec<String>,
    pub values: Vec<Option<String>>,
}

impl Choices {
    fn new(all: &str, values: impl IntoIterator<Item = String>) -> Self {
        let mut c = Choices {
            shown: vec![all.to_owned()],
            values: vec![None],
        };
        for v in values {
            if !c.values.contains(&Some(v.clone())) {
                c.shown.push(v.clone());
                c.values.push(Some(v));
            }
        }
        c
    }

    pub fn position(&self, value: &Option<String>) -> u32 {
        self.values
            .iter()
            .position(|v| v == value)
            .and_then(|p| u32::try_from(p).ok())
            .unwrap_or(0)
    }

    pub fn value(&self, position: u32) -> Option<String> {
        self.values.get(position as usize).cloned().flatten()
    }
}

/// Origins: every kind first (`script:*` matches every script), then each actor logged.
pub fn origins(facets: &AuditFacets) -> Choices {
    let kinds = ["ui", "script:*", "plugin:*", "system", "session"].map(String::from);
    Choices::new(
        "All origins",
        kinds.into_iter().chain(facets.actors.iter().cloned()),
    )
}

/// Actions: each family (`order.*`) then each action logged.
pub fn actions(facets: &AuditFacets) -> Choices {
    let mut families: Vec<String> = facets
        .actions
        .iter()
        .filter_map(|a| a.split_once('.').map(|(f, _)| format!("{f}.*")))
        .collect();
    families.dedup();
    Choices::new(
        "All actions",
        families.into_iter().chain(facets.actions.iter().cloned()),
    )
}

pub fn accounts(facets: &AuditFacets) -> Choices {
    Choices::new("All accounts", facets.accounts.iter().cloned())
}

/// Whether an answer belongs to the filter now chosen (paging fields aside).
pub fn same_selection(a: &AuditFilter, b: &AuditFilter) -> bool {
    a.origin == b.origin && a.account == b.account && a.action == b.action && a.since == b.since
}

/// The entry's time, local.
pub fn local_time(record: &AuditRecord) -> String {
    record
        .at
        .with_timezone(&Local)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// The details in one line (`account=DU1 symbol=AAPL qty=100`) and in full (the tooltip).
pub fn details(record: &AuditRecord) -> (String, String) {
    let full = serde_json::to_string_pretty(&record.details).unwrap_or_default();
    let summary = match &record.details {
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => format!("{k}={s}"),
                serde_json::Value::Object(_) | serde_json::Value::Array(_) => format!("{k}=…"),
                other => format!("{k}={other}"),
            })
            .collect::<Vec<_>>()
            .join(" "),
        other => other.to_string(),
    };
    let summary = if summary.chars().count() > 80 {
        format!("{}…", summary.chars().take(79).collect::<String>())
    } else {
        summary
    };
    (summary, full)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn ranges_start_at_local_midnight_or_n_days_back() {
        let now = Local.with_ymd_and_hms(2026, 12, 3, 15, 30, 0).unwrap();
        let today = since(0, now).unwrap().with_timezone(&Local);
        assert_eq!(
            today.format("%Y-%m-%d %H:%M").to_string(),
            "2026-12-03 00:00"
        );
        assert_eq!(
            since(1, now).unwrap(),
            (now - Duration::days(7)).with_timezone(&Utc)
        );
        assert_eq!(since(3, now), None);
    }

    #[test]
    fn choices_offer_kinds_then_what_was_logged() {
        let facets = AuditFacets {
            actors: vec!["ui".into(), "script:sma".into()],
            actions: vec![
                "order.cancel".into(),
                "order.intent".into(),
                "trading.arm".into(),
            ],
            accounts: vec!["DU1".into()],
        };
        let o = origins(&facets);
        assert_eq!(o.shown[0], "All origins");
        assert_eq!(o.values[2], Some("script:*".into()));
        assert_eq!(
            o.shown.iter().filter(|s| *s == "ui").count(),
            1,
            "no duplicates"
        );
        assert!(o.shown.contains(&"script:sma".to_string()));
        let a = actions(&facets);
        assert_eq!(
            &a.shown[..3],
            &[
                "All actions".to_string(),
                "order.*".into(),
                "trading.*".into()
            ]
        );
        let acc = accounts(&facets);
        assert_eq!(acc.position(&Some("DU1".into())), 1);
        assert_eq!(acc.position(&Some("gone".into())), 0);
        assert_eq!(acc.value(1), Some("DU1".into()));
        assert_eq!(acc.value(0), None);
    }

    #[test]
    fn details_read_in_one_line() {
        let record = AuditRecord {
            id: 1,
            at: Utc::now(),
            actor: "ui".into(),
            action: "order.intent".into(),
            decision: Some("denied".into()),
            reason: None,
            details: json!({"account": "DU1", "qty": 250, "legs": [1, 2]}),
        };
        let (summary, full) = details(&record);
        assert_eq!(summary, "account=DU1 legs=… qty=250");
        assert!(full.contains("\"legs\""));
    }
}
