//! The workspace layout as data: a tree of splits and tab groups, saved per profile as JSON.
//!
//! The widgets are realised from it ([`super::view`]) and read back into it when saving, so
//! whatever the trader did (dragged a tab, resized a split) is what is stored.

use serde::{Deserialize, Serialize};

/// One open panel: its provider id and the state the panel saved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PanelRef {
    pub provider: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<serde_json::Value>,
}

impl PanelRef {
    pub fn new(provider: &str) -> Self {
        Self {
            provider: provider.into(),
            state: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Orientation {
    /// Side by side.
    Horizontal,
    /// One above the other.
    Vertical,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Layout {
    Split {
        orientation: Orientation,
        /// The first child's share of the space, in (0, 1).
        ratio: f64,
        first: Box<Layout>,
        second: Box<Layout>,
    },
    Tabs {
        panels: Vec<PanelRef>,
        #[serde(default)]
        active: usize,
    },
}

/// The saved form: versioned so a future layout format can be told apart.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Saved {
    version: u32,
    root: Layout,
}

const VERSION: u32 = 1;

impl Layout {
    pub fn tabs(panels: &[&str]) -> Self {
        Layout::Tabs {
            panels: panels.iter().map(|p| PanelRef::new(p)).collect(),
            active: 0,
        }
    }

    pub fn split(orientation: Orientation, ratio: f64, first: Layout, second: Layout) -> Self {
        Layout::Split {
            orientation,
            ratio,
            first: Box::new(first),
            second: Box::new(second),
        }
    }

    /// What a new profile (and the demo) opens with: watchlist and positions on the left,
    /// chart and ticket on the right, orders below.
    pub fn default_workbench() -> Self {
        Layout::split(
            Orientation::Horizontal,
            0.44,
            Layout::split(
                Orientation::Vertical,
                0.55,
                Layout::tabs(&["watchlist"]),
                Layout::tabs(&["positions", "margin", "connection"]),
            ),
            Layout::split(
                Orientation::Vertical,
                0.66,
                Layout::split(
                    Orientation::Horizontal,
                    0.62,
                    Layout::tabs(&["chart"]),
                    Layout::tabs(&["ticket"]),
                ),
                Layout::tabs(&["orders", "audit"]),
            ),
        )
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(&Saved {
            version: VERSION,
            root: self.clone(),
        })
        .unwrap_or_default()
    }

    /// Parses a saved layout; the error names what is wrong.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let saved: Saved =
            serde_json::from_str(text).map_err(|err| format!("saved layout: {err}"))?;
        if saved.version != VERSION {
            return Err(format!(
                "saved layout: version {} (this workbench reads version {VERSION})",
                saved.version
            ));
        }
        let layout = saved.root.normalised();
        layout
            .ok_or_else(|| "saved layout: no panels".to_owned())
            .and_then(|layout| layout.validated())
    }

    fn validated(self) -> Result<Self, String> {
        match &self {
            Layout::Split {
                ratio,
                first,
                second,
                ..
            } => {
                if !(ratio.is_finite() && *ratio > 0.0 && *ratio < 1.0) {
                    return Err(format!(
                        "saved layout: split ratio {ratio} is not in (0, 1)"
                    ));
                }
                first.clone().validated()?;
                second.clone().validated()?;
            }
            Layout::Tabs { .. } => {}
        }
        Ok(self)
    }

    /// Drops empty tab groups and splits left with one child; `None` when nothing is left.
    pub fn normalised(self) -> Option<Self> {
        match self {
            Layout::Tabs { panels, active } if panels.is_empty() => {
                let _ = active;
                None
            }
            Layout::Tabs { panels, active } => {
                let active = active.min(panels.len() - 1);
                Some(Layout::Tabs { panels, active })
            }
            Layout::Split {
                orientation,
                ratio,
                first,
                second,
            } => match (first.normalised(), second.normalised()) {
                (Some(first), Some(second)) => {
                    Some(Layout::split(orientation, ratio, first, second))
                }
                (Some(only), None) | (None, Some(only)) => Some(only),
                (None, None) => None,
            },
        }
    }

    /// Every panel, in tree order.
    pub fn panels(&self) -> Vec<&PanelRef> {
        match self {
            Layout::Tabs { panels, .. } => panels.iter().collect(),
            Layout::Split { first, second, .. } => {
                let mut all = first.panels();
                all.extend(second.panels());
                all
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_json() {
        let layout = Layout::default_workbench();
        assert_eq!(Layout::from_json(&layout.to_json()).unwrap(), layout);
        let ids: Vec<&str> = layout
            .panels()
            .iter()
            .map(|p| p.provider.as_str())
            .collect();
        assert_eq!(
            ids,
            [
                "watchlist",
                "positions",
                "margin",
                "connection",
                "chart",
                "ticket",
                "orders",
                "audit"
            ]
        );
    }

    #[test]
    fn empty_groups_collapse_and_the_active_tab_is_clamped() {
        let layout = Layout::split(
            Orientation::Horizontal,
            0.5,
            Layout::Tabs {
                panels: vec![],
                active: 0,
            },
            Layout::Tabs {
                panels: vec![PanelRef::new("chart")],
                active: 7,
            },
        );
        assert_eq!(
            layout.normalised(),
            Some(Layout::Tabs {
                panels: vec![PanelRef::new("chart")],
                active: 0
            })
        );
    }

    #[test]
    fn bad_saved_layouts_are_errors_naming_the_problem() {
        for (text, expected) in [
            ("{", "saved layout: EOF"),
            (
                r#"{"version":9,"root":{"kind":"tabs","panels":[]}}"#,
                "version 9",
            ),
            (
                r#"{"version":1,"root":{"kind":"tabs","panels":[]}}"#,
                "no panels",
            ),
            (
                r#"{"version":1,"root":{"kind":"split","orientation":"horizontal","ratio":1.5,
                   "first":{"kind":"tabs","panels":[{"provider":"a"}]},
                   "second":{"kind":"tabs","panels":[{"provider":"b"}]}}}"#,
                "ratio 1.5",
            ),
            (
                r#"{"version":1,"root":{"kind":"grid"}}"#,
                "unknown variant `grid`",
            ),
        ] {
            let err = Layout::from_json(text).unwrap_err();
            assert!(err.contains(expected), "{text}: {err}");
        }
    }

    #[test]
    fn unknown_providers_are_kept_with_their_state() {
        let text = r#"{"version":1,"root":{"kind":"tabs","panels":[
            {"provider":"plugin.heatmap.chain","state":{"symbol":"SPY"}}]}}"#;
        let layout = Layout::from_json(text).unwrap();
        let panel = layout.panels()[0].clone();
        assert_eq!(panel.provider, "plugin.heatmap.chain");
        assert_eq!(panel.state, Some(serde_json::json!({"symbol": "SPY"})));
    }
}
