//! The watchlist's controls: the list switcher with new/rename/delete, the symbol search with
//! its results popover, the table (or its empty state), and the keyboard.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use adw::prelude::*;
use tickwork_core::domain::InstrumentSpec;

use super::table::LiveTable;
use super::{Row, State, WindowRequest};
use crate::gui::boundary::{MarketCommand, Watchlist, describe};

pub struct Ui {
    pub root: gtk::Box,
    lists: gtk::DropDown,
    names: gtk::StringList,
    delete: gtk::Button,
    rename: gtk::Button,
    search: gtk::SearchEntry,
    popover: gtk::Popover,
    results: gtk::ListBox,
    found: RefCell<Vec<InstrumentSpec>>,
    stack: gtk::Stack,
    /// Set while the dropdown is filled in code (its notify is not the trader's choice).
    updating: Cell<bool>,
    table: Rc<LiveTable<Row>>,
}

impl Ui {
    pub fn build(table: &Rc<LiveTable<Row>>, state: &Rc<RefCell<State>>) -> Rc<Self> {
        let names = gtk::StringList::new(&[]);
        let lists = gtk::DropDown::builder()
            .model(&names)
            .tooltip_text("Watchlist")
            .build();
        lists.set_widget_name("watchlist-lists");
        let add_list = icon_button("list-add-symbolic", "New list");
        let rename = icon_button("document-edit-symbolic", "Rename list");
        let delete = icon_button("user-trash-symbolic", "Delete list");
        let search = gtk::SearchEntry::builder()
            .placeholder_text("Add symbol…")
            .tooltip_text("Search a symbol to add (Enter adds the first match)")
            .hexpand(true)
            .build();
        search.set_widget_name("watchlist-search");
        let bar = gtk::Box::new(gtk::Orientation::Horizontal, 6);
        bar.set_margin_top(6);
        bar.set_margin_bottom(6);
        bar.set_margin_start(6);
        bar.set_margin_end(6);
        let list_group = gtk::Box::new(gtk::Orientation::Horizontal, 0);
        list_group.add_css_class("linked");
        list_group.append(&lists);
        list_group.append(&add_list);
        list_group.append(&rename);
        list_group.append(&delete);
        bar.append(&list_group);
        bar.append(&search);

        let results = gtk::ListBox::new();
        results.set_selection_mode(gtk::SelectionMode::None);
        results.add_css_class("navigation-sidebar");
        let scroller = gtk::ScrolledWindow::builder()
            .child(&results)
            .propagate_natural_height(true)
            .max_content_height(320)
            .min_content_width(280)
            .hscrollbar_policy(gtk::PolicyType::Never)
            .build();
        let popover = gtk::Popover::builder()
            .child(&scroller)
            .autohide(false)
            .has_arrow(true)
            .position(gtk::PositionType::Bottom)
            .build();
        popover.set_parent(&search);

        let scrolled = gtk::ScrolledWindow::builder()
            .child(&table.view)
            .vexpand(true)
            .hexpand(true)
            .build();
        let empty = adw::StatusPage::builder()
            .icon_name("view-list-symbolic")
            .title("No symbols in this list")
            .description(
                "Type a symbol in “Add symbol…” above and press Enter to add it. Prices stream \
                 once connected to TWS or the demo.",
            )
            .build();
        empty.add_css_class("compact");
        let stack = gtk::Stack::new();
        stack.add_named(&scrolled, Some("table"));
        stack.add_named(&empty, Some("empty"));

        let root = gtk::Box::new(gtk::Orientation::Vertical, 0);
        root.append(&bar);
        root.append(&gtk::Separator::new(gtk::Orientation::Horizontal));
        root.append(&stack);

        let ui = Rc::new(Self {
            root,
            lists,
            names,
            delete: delete.clone(),
            rename: rename.clone(),
            search,
            popover,
            results,
            found: RefCell::default(),
            stack,
            updating: Cell::new(false),
            table: table.clone(),
        });
        ui.connect(state, &add_list, &rename, &delete);
        ui.refresh(state, true);
        ui
    }

    fn connect(
        self: &Rc<Self>,
        state: &Rc<RefCell<State>>,
        add_list: &gtk::Button,
        rename: &gtk::Button,
        delete: &gtk::Button,
    ) {
        let weak = Rc::downgrade(self);
        let st = state.clone();
        self.lists.connect_selected_notify(move |dropdown| {
            let Some(ui) = weak.upgrade() else { return };
            if ui.updating.get() {
                return;
            }
            let selected = dropdown.selected() as usize;
            {
                let mut s = st.borrow_mut();
                if selected >= s.lists.len() || selected == s.current {
                    return;
                }
                s.current = selected;
                s.ctx.request(WindowRequest::LayoutChanged);
            }
            super::show_current(&st, &ui.table, &ui);
        });

        let weak = Rc::downgrade(self);
        let st = state.clone();
        add_list.connect_clicked(move |button| {
            let Some(ui) = weak.upgrade() else { return };
            let (st, ui2) = (st.clone(), ui.clone());
            ask_name(button, "New list", "Create", "", move |name| {
                {
                    let mut s = st.borrow_mut();
                    if s.lists.iter().any(|l| l.name == name) {
                        s.ctx
                            .request(WindowRequest::Toast(format!("A list named {name} exists")));
                        return;
                    }
                    s.lists.push(Watchlist {
                        name,
                        entries: Vec::new(),
                    });
                    s.current = s.lists.len() - 1;
                    super::save(&s);
                }
                super::show_current(&st, &ui2.table, &ui2);
            });
        });

        let weak = Rc::downgrade(self);
        let st = state.clone();
        rename.connect_clicked(move |button| {
            let Some(ui) = weak.upgrade() else { return };
            let old = {
                let s = st.borrow();
                match s.lists.get(s.current) {
                    Some(l) => l.name.clone(),
                    None => return,
                }
            };
            let (st, ui2) = (st.clone(), ui.clone());
            ask_name(button, "Rename list", "Rename", &old, move |name| {
                {
                    let mut s = st.borrow_mut();
                    if s.lists.iter().any(|l| l.name == name) {
                        return;
                    }
                    let current = s.current;
                    if let Some(list) = s.lists.get_mut(current) {
                        list.name = name;
                    }
                    super::save(&s);
                }
                ui2.refresh(&st, st.borrow().rows.is_empty());
            });
        });

        let weak = Rc::downgrade(self);
        let st = state.clone();
        delete.connect_clicked(move |button| {
            let Some(ui) = weak.upgrade() else { return };
            let name = {
                let s = st.borrow();
                match s.lists.get(s.current) {
                    Some(l) if s.lists.len() > 1 => l.name.clone(),
                    _ => return,
                }
            };
            let dialog = adw::MessageDialog::builder()
                .heading(format!("Delete “{name}”?"))
                .body("The list and its symbols are deleted. This cannot be undone.")
                .modal(true)
                .build();
            if let Some(window) = button.root().and_downcast::<gtk::Window>() {
                dialog.set_transient_for(Some(&window));
            }
            dialog.add_response("cancel", "_Cancel");
            dialog.add_response("delete", "_Delete");
            dialog.set_response_appearance("delete", adw::ResponseAppearance::Destructive);
            dialog.set_default_response(Some("cancel"));
            dialog.set_close_response("cancel");
            let (st, ui) = (st.clone(), ui.clone());
            dialog.connect_response(None, move |_, response| {
                if response != "delete" {
                    return;
                }
                {
                    let mut s = st.borrow_mut();
                    let current = s.current;
                    if current < s.lists.len() && s.lists.len() > 1 {
                        s.lists.remove(current);
                        s.current = current.saturating_sub(1);
                        super::save(&s);
                    }
                }
                super::show_current(&st, &ui.table, &ui);
            });
            dialog.present();
        });

        let weak = Rc::downgrade(self);
        let st = state.clone();
        self.search.connect_search_changed(move |entry| {
            let Some(ui) = weak.upgrade() else { return };
            let query = entry.text().trim().to_owned();
            if query.is_empty() {
                ui.popover.popdown();
                ui.found.borrow_mut().clear();
            } else {
                st.borrow().ctx.commands.send(MarketCommand::Search {
                    query: query.clone(),
                });
            }
            st.borrow_mut().query = query;
        });
        let weak = Rc::downgrade(self);
        let st = state.clone();
        self.search.connect_activate(move |_| {
            let Some(ui) = weak.upgrade() else { return };
            let first = ui.found.borrow().first().cloned();
            if let Some(spec) = first {
                ui.pick(&st, &spec);
            }
        });
        let weak = Rc::downgrade(self);
        self.search.connect_stop_search(move |entry| {
            entry.set_text("");
            if let Some(ui) = weak.upgrade() {
                ui.popover.popdown();
            }
        });
        let weak = Rc::downgrade(self);
        let st = state.clone();
        self.results.connect_row_activated(move |_, row| {
            let Some(ui) = weak.upgrade() else { return };
            let spec = ui.found.borrow().get(row.index() as usize).cloned();
            if let Some(spec) = spec {
                ui.pick(&st, &spec);
            }
        });

        // Enter or a double click on a row: every panel follows that instrument.
        let weak = Rc::downgrade(self);
        let st = state.clone();
        self.table.view.connect_activate(move |_, position| {
            let Some(ui) = weak.upgrade() else { return };
            let Some(id) = ui.table.at(position).and_then(|r| r.instrument.get()) else {
                return;
            };
            let s = st.borrow();
            let instrument = s.ctx.shared.borrow().instruments.get(&id).cloned();
            if let Some(instrument) = instrument {
                s.ctx.request(WindowRequest::Select(instrument));
            }
        });
        // Delete removes the selected row.
        let keys = gtk::EventControllerKey::new();
        let weak = Rc::downgrade(self);
        let st = state.clone();
        keys.connect_key_pressed(move |_, key, _, _| {
            if key != gtk::gdk::Key::Delete && key != gtk::gdk::Key::KP_Delete {
                return gtk::glib::Propagation::Proceed;
            }
            let Some(ui) = weak.upgrade() else {
                return gtk::glib::Propagation::Proceed;
            };
            match ui.table.selected() {
                Some(row) => {
                    super::remove(&st, &ui.table, &ui, &row);
                    gtk::glib::Propagation::Stop
                }
                None => gtk::glib::Propagation::Proceed,
            }
        });
        self.table.view.add_controller(keys);
        // A right click offers to remove the row under the pointer (or the selected one).
        let menu_button = icon_button("list-remove-symbolic", "Remove selected symbol (Delete)");
        let weak = Rc::downgrade(self);
        let st = state.clone();
        menu_button.connect_clicked(move |_| {
            let Some(ui) = weak.upgrade() else { return };
            if let Some(row) = ui.table.selected() {
                super::remove(&st, &ui.table, &ui, &row);
            }
        });
        if let Some(bar) = self.root.first_child().and_downcast::<gtk::Box>() {
            bar.append(&menu_button);
        }
    }

    /// Adds the picked result and clears the search.
    fn pick(&self, state: &Rc<RefCell<State>>, spec: &InstrumentSpec) {
        self.popover.popdown();
        self.found.borrow_mut().clear();
        self.search.set_text("");
        super::add(state, &self.table, self, spec);
    }

    /// Shows search results if they answer what is typed now.
    pub fn results(&self, state: &Rc<RefCell<State>>, query: &str, results: &[InstrumentSpec]) {
        if state.borrow().query != query {
            return;
        }
        while let Some(child) = self.results.first_child() {
            self.results.remove(&child);
        }
        *self.found.borrow_mut() = results.to_vec();
        if results.is_empty() {
            let none = gtk::Label::new(Some(&format!("No instrument matches “{query}”")));
            none.add_css_class("dim-label");
            none.set_margin_top(6);
            none.set_margin_bottom(6);
            self.results.append(&none);
        }
        for spec in results {
            let line = gtk::Box::new(gtk::Orientation::Horizontal, 12);
            let symbol = gtk::Label::new(Some(&describe(spec)));
            symbol.add_css_class("heading");
            symbol.set_xalign(0.0);
            let kind = gtk::Label::new(Some(&format!(
                "{} · {}{}",
                spec.sec_type.as_str(),
                spec.currency,
                spec.primary_exchange
                    .as_deref()
                    .map(|e| format!(" · {e}"))
                    .unwrap_or_default()
            )));
            kind.add_css_class("dim-label");
            kind.add_css_class("caption");
            let name = gtk::Label::new(spec.description.as_deref());
            name.set_xalign(0.0);
            name.set_hexpand(true);
            name.set_ellipsize(gtk::pango::EllipsizeMode::End);
            name.add_css_class("dim-label");
            line.append(&symbol);
            line.append(&name);
            line.append(&kind);
            line.set_tooltip_text(spec.description.as_deref());
            self.results.append(&line);
        }
        self.popover.popup();
    }

    /// Fills the list switcher and shows the table or the empty state.
    pub fn refresh(&self, state: &Rc<RefCell<State>>, empty: bool) {
        let st = state.borrow();
        self.updating.set(true);
        let names: Vec<&str> = st.lists.iter().map(|l| l.name.as_str()).collect();
        self.names.splice(0, self.names.n_items(), &names);
        self.lists.set_selected(st.current as u32);
        self.updating.set(false);
        self.delete.set_sensitive(st.lists.len() > 1);
        self.rename.set_sensitive(!st.lists.is_empty());
        self.stack
            .set_visible_child_name(if empty { "empty" } else { "table" });
    }
}

fn icon_button(icon: &str, tooltip: &str) -> gtk::Button {
    gtk::Button::builder()
        .icon_name(icon)
        .tooltip_text(tooltip)
        .build()
}

/// Asks for a list name in a dialog; `done` gets a non-empty, trimmed name.
fn ask_name(
    anchor: &gtk::Button,
    heading: &str,
    confirm: &str,
    initial: &str,
    done: impl Fn(String) + 'static,
) {
    let entry = gtk::Entry::builder()
        .text(initial)
        .activates_default(true)
        .placeholder_text("List name")
        .build();
    let dialog = adw::MessageDialog::builder()
        .heading(heading)
        .modal(true)
        .extra_child(&entry)
        .build();
    if let Some(window) = anchor.root().and_downcast::<gtk::Window>() {
        dialog.set_transient_for(Some(&window));
    }
    dialog.add_response("cancel", "_Cancel");
    dialog.add_response("ok", confirm);
    dialog.set_response_appearance("ok", adw::ResponseAppearance::Suggested);
    dialog.set_default_response(Some("ok"));
    dialog.set_close_response("cancel");
    dialog.connect_response(None, move |_, response| {
        if response == "ok" {
            let name = entry.text().trim().to_owned();
            if !name.is_empty() {
                done(name);
            }
        }
    });
    dialog.present();
}
