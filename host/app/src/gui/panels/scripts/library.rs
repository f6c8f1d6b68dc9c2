//! The script list: the strategies stored in PostgreSQL, with New, Open example and Delete
//! above them. The examples shipped with Tickwork are embedded here.

use adw::prelude::*;
use gtk::gio;

use crate::gui::boundary::ScriptSummary;
use tickwork_core::store::scripts::ScriptKind;

/// The example strategies of `scripts/`: name, one line, source.
pub const EXAMPLES: [(&str, &str, &str); 3] = [
    (
        "sma_cross",
        "Two moving averages: long above, flat below",
        include_str!("../../../../../../scripts/sma_cross.rhai"),
    ),
    (
        "bollinger_reversion",
        "Buys at the lower Bollinger band, sells at the middle",
        include_str!("../../../../../../scripts/bollinger_reversion.rhai"),
    ),
    (
        "covered_call",
        "Holds shares and writes monthly calls against them",
        include_str!("../../../../../../scripts/covered_call.rhai"),
    ),
];

/// The source of an example by name.
pub fn example(name: &str) -> Option<&'static str> {
    EXAMPLES
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, _, source)| *source)
}

pub struct Library {
    pub widget: gtk::Box,
    pub list: gtk::ListBox,
    names: std::cell::RefCell<Vec<String>>,
}

fn icon_button(icon: &str, tooltip: &str, name: &str, action: &str) -> gtk::Button {
    let button = gtk::Button::from_icon_name(icon);
    button.set_tooltip_text(Some(tooltip));
    button.set_widget_name(name);
    button.set_action_name(Some(action));
    button.add_css_class("flat");
    button
}

impl Library {
    pub fn new() -> Self {
        let title = gtk::Label::new(Some("Scripts"));
        title.add_css_class("heading");
        title.set_xalign(0.0);
        title.set_hexpand(true);
        let new = icon_button(
            "document-new-symbolic",
            "New script",
            "scripts-new",
            "scripts.new",
        );
        let menu = gio::Menu::new();
        for (name, _, _) in EXAMPLES {
            menu.append(Some(name), Some(&format!("scripts.open-example::{name}")));
        }
        let examples = gtk::MenuButton::builder()
            .icon_name("folder-templates-symbolic")
            .tooltip_text("Open an example…")
            .menu_model(&menu)
            .build();
        examples.set_widget_name("scripts-examples");
        examples.add_css_class("flat");
        let delete = icon_button(
            "user-trash-symbolic",
            "Delete the selected script",
            "scripts-delete",
            "scripts.delete",
        );
        let header = gtk::Box::new(gtk::Orientation::Horizontal, 2);
        header.set_margin_start(8);
        header.set_margin_end(4);
        header.set_margin_top(4);
        header.set_margin_bottom(4);
        header.append(&title);
        header.append(&new);
        header.append(&examples);
        header.append(&delete);

        let list = gtk::ListBox::new();
        list.set_widget_name("scripts-list");
        list.add_css_class("navigation-sidebar");
        list.set_selection_mode(gtk::SelectionMode::Single);
        let empty = gtk::Label::new(Some(
            "No saved scripts yet.\nStart from an example (the template button above).",
        ));
        empty.set_wrap(true);
        empty.set_justify(gtk::Justification::Center);
        empty.add_css_class("dim-label");
        empty.set_margin_top(24);
        empty.set_margin_start(12);
        empty.set_margin_end(12);
        list.set_placeholder(Some(&empty));
        let scrolled = gtk::ScrolledWindow::builder()
            .child(&list)
            .hscrollbar_policy(gtk::PolicyType::Never)
            .vexpand(true)
            .build();

        let widget = gtk::Box::new(gtk::Orientation::Vertical, 0);
        widget.set_width_request(150);
        widget.append(&header);
        widget.append(&gtk::Separator::new(gtk::Orientation::Horizontal));
        widget.append(&scrolled);
        Self {
            widget,
            list,
            names: Default::default(),
        }
    }

    /// Shows the stored strategies (margin rules belong to the margin panel); keeps `current`
    /// selected.
    pub fn fill(&self, scripts: &[ScriptSummary], current: Option<&str>) {
        while let Some(row) = self.list.row_at_index(0) {
            self.list.remove(&row);
        }
        let mut names = Vec::new();
        for script in scripts.iter().filter(|s| s.kind == ScriptKind::Strategy) {
            let row = adw::ActionRow::builder()
                .title(&script.name)
                .subtitle(
                    script
                        .updated_at
                        .with_timezone(&chrono::Local)
                        .format("%Y-%m-%d %H:%M")
                        .to_string(),
                )
                .activatable(true)
                .build();
            row.set_widget_name(&format!("scripts-row-{}", script.name));
            if script.trading_granted {
                let granted = gtk::Image::from_icon_name("security-high-symbolic");
                granted.set_tooltip_text(Some("Allowed to trade live"));
                row.add_suffix(&granted);
            }
            self.list.append(&row);
            names.push(script.name.clone());
        }
        self.names.replace(names);
        self.select(current);
    }

    /// Selects the row of `name` (none when it is not stored).
    pub fn select(&self, name: Option<&str>) {
        let index = name.and_then(|n| self.names.borrow().iter().position(|s| s == n));
        match index.and_then(|i| self.list.row_at_index(i32::try_from(i).ok()?)) {
            Some(row) => self.list.select_row(Some(&row)),
            None => self.list.unselect_all(),
        }
    }

    /// The stored script of a row.
    pub fn name_at(&self, index: i32) -> Option<String> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.names.borrow().get(i).cloned())
    }
}
