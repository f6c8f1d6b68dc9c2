//! The panel sidebar: every registered panel, opened (or focused) with a click or Enter.

use adw::prelude::*;

use crate::gui::panels::PanelRegistry;

pub struct Sidebar {
    pub widget: gtk::ScrolledWindow,
    pub list: gtk::ListBox,
    ids: Vec<String>,
}

impl Sidebar {
    pub fn new(registry: &PanelRegistry) -> Self {
        let list = gtk::ListBox::new();
        list.add_css_class("navigation-sidebar");
        list.set_selection_mode(gtk::SelectionMode::None);
        list.set_widget_name("panel-sidebar");
        let mut ids = Vec::new();
        for (index, provider) in registry.providers().iter().enumerate() {
            let row = gtk::Box::new(gtk::Orientation::Horizontal, 12);
            row.set_margin_top(6);
            row.set_margin_bottom(6);
            row.set_margin_start(6);
            row.set_margin_end(6);
            row.append(&gtk::Image::from_icon_name(&provider.icon));
            let label = gtk::Label::new(Some(&provider.title));
            label.set_xalign(0.0);
            label.set_hexpand(true);
            row.append(&label);
            if index < 9 {
                let accel = gtk::Label::new(Some(&format!("Alt+{}", index + 1)));
                accel.add_css_class("dim-label");
                accel.add_css_class("caption");
                row.append(&accel);
            }
            let list_row = gtk::ListBoxRow::builder()
                .child(&row)
                .activatable(true)
                .tooltip_text(&provider.description)
                .build();
            list_row.set_widget_name(&format!("open-{}", provider.id));
            crate::gui::a11y::set_label(&list_row, &provider.title);
            crate::gui::a11y::set_description(&list_row, &provider.description);
            list.append(&list_row);
            ids.push(provider.id.clone());
        }
        let widget = gtk::ScrolledWindow::builder()
            .child(&list)
            .hscrollbar_policy(gtk::PolicyType::Never)
            .width_request(200)
            .build();
        Self { widget, list, ids }
    }

    /// The provider id of a row.
    pub fn id_at(&self, index: i32) -> Option<&str> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.ids.get(i))
            .map(String::as_str)
    }
}
