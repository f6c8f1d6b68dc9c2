//! Stands in for a saved panel whose provider is gone (a removed or disabled plugin): the layout
//! keeps its place and its saved state, and the trader is told why it is empty.

use adw::prelude::*;

use super::Panel;

pub struct Placeholder {
    page: adw::StatusPage,
    saved: Option<serde_json::Value>,
}

impl Placeholder {
    pub fn new(provider: &str, saved: Option<serde_json::Value>) -> Self {
        let page = adw::StatusPage::builder()
            .icon_name("dialog-question-symbolic")
            .title("Panel not available")
            .description(format!(
                "The panel “{provider}” is not installed or its plugin is disabled. Install or \
                 enable it in Plugins, or close this tab."
            ))
            .build();
        Self { page, saved }
    }
}

impl Panel for Placeholder {
    fn widget(&self) -> gtk::Widget {
        self.page.clone().upcast()
    }

    fn saved_state(&self) -> Option<serde_json::Value> {
        self.saved.clone()
    }
}
