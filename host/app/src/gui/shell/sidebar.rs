//! The panel sidebar: every registered panel, opened (or focused) with a click or Enter.
//! Plugin panels join it once they are loaded.

use std::cell::RefCell;

use adw::prelude::*;

use crate::gui::panels::{PanelProvider, PanelRegistry};

pub struct Sidebar {
    pub widget: gtk::ScrolledWindow,
    pub list: gtk::ListBox,
    ids: RefCell<Vec<String>>,
}

impl Sidebar {
    pub fn new(registry: &PanelRegistry) -> Self {
        let list = gtk::ListBox::new();
        list.add_css_class("navigation-sidebar");
        list.set_selection_mode(gtk::SelectionMode::None);
        list.set_widget_name("panel-sidebar");
        let widget = gtk::ScrolledWindow::builder()
            .child(&list)
            .hscrollbar_policy(gtk::PolicyType::Never)
            .width_request(200)
            .build();
        let sidebar = Self {
            widget,
            list,
            ids: RefCell::default(),
        };
        for provider in registry.providers() {
            sidebar.add(provider);
        }
        sidebar
    }

    /// Appends a row for `provider` (the first nine get an Alt+digit shortcut).
    pub fn add(&self, provider: &PanelProvider) {
        let index = self.ids.borrow().len();
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
        self.list.append(&list_row);
        self.ids.borrow_mut().push(provider.id.clone());
    }

    /// The provider id of a row.
    pub fn id_at(&self, index: i32) -> Option<String> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.ids.borrow().get(i).cloned())
    }
}
