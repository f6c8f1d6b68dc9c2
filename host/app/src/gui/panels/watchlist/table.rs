//! A live table: a `gtk::ColumnView` over rows (`Rc<R>` in `BoxedAnyObject`s) whose cells are
//! labels set directly. Each column's factory records the label it binds per row (and forgets
//! it at unbind), so a frame's quotes change the text of bound labels only: no items_changed,
//! no rebinding. Used by the watchlist and the positions panel.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::rc::Rc;

use gtk::prelude::*;
use gtk::{gio, glib};

use super::format;

/// What a cell shows: its text and an optional style class (`success`, `error`).
pub type Cell = (String, Option<&'static str>);

/// Computes a row's cell of one column.
type Fill<R> = Rc<dyn Fn(&R) -> Cell>;

/// The labels bound to one row, one slot per column.
type Bound = HashMap<usize, Vec<Option<gtk::Label>>>;

pub struct LiveTable<R: 'static> {
    pub view: gtk::ColumnView,
    pub store: gio::ListStore,
    pub selection: gtk::SingleSelection,
    bound: Rc<RefCell<Bound>>,
    fills: Vec<Fill<R>>,
}

fn key<R>(row: &Rc<R>) -> usize {
    Rc::as_ptr(row) as *const () as usize
}

/// The row an item of the store holds.
pub fn row_of<R: 'static>(item: &glib::Object) -> Option<Rc<R>> {
    let boxed = item.downcast_ref::<glib::BoxedAnyObject>()?;
    let row = boxed.try_borrow::<Rc<R>>().ok()?;
    Some(row.clone())
}

fn set_cell(label: &gtk::Label, (text, class): &Cell) {
    if label.text() != *text {
        label.set_text(text);
    }
    for trend in ["success", "error"] {
        let want = *class == Some(trend);
        if label.has_css_class(trend) != want {
            if want {
                label.add_css_class(trend);
            } else {
                label.remove_css_class(trend);
            }
        }
    }
}

impl<R: 'static> LiveTable<R> {
    pub fn new(name: &str) -> Self {
        let store = gio::ListStore::new::<glib::BoxedAnyObject>();
        let view = gtk::ColumnView::builder()
            .show_column_separators(false)
            .show_row_separators(true)
            .reorderable(false)
            .build();
        view.set_widget_name(name);
        view.add_css_class("data-table");
        let sorted = gtk::SortListModel::new(Some(store.clone()), view.sorter());
        let selection = gtk::SingleSelection::new(Some(sorted));
        selection.set_autoselect(false);
        selection.set_can_unselect(true);
        view.set_model(Some(&selection));
        Self {
            view,
            store,
            selection,
            bound: Rc::default(),
            fills: Vec::new(),
        }
    }

    /// Adds a column of labels: `fill` gives a row's cell, `compare` sorts by it (clicking
    /// the header); numeric columns are right-aligned with tabular figures.
    pub fn column(
        &mut self,
        title: &str,
        numeric: bool,
        expand: bool,
        fill: impl Fn(&R) -> Cell + 'static,
        compare: impl Fn(&R, &R) -> Ordering + 'static,
    ) -> gtk::ColumnViewColumn {
        let slot = self.fills.len();
        let fill: Fill<R> = Rc::new(fill);
        self.fills.push(fill.clone());
        let factory = gtk::SignalListItemFactory::new();
        factory.connect_setup(move |_, item| {
            let Some(item) = item.downcast_ref::<gtk::ListItem>() else {
                return;
            };
            let label = gtk::Label::new(None);
            if numeric {
                label.set_xalign(1.0);
                label.add_css_class("numeric");
            } else {
                label.set_xalign(0.0);
            }
            item.set_child(Some(&label));
        });
        let bound = self.bound.clone();
        factory.connect_bind(move |_, item| {
            let Some(item) = item.downcast_ref::<gtk::ListItem>() else {
                return;
            };
            let (Some(row), Some(label)) = (
                item.item().and_then(|o| row_of::<R>(&o)),
                item.child().and_downcast::<gtk::Label>(),
            ) else {
                return;
            };
            set_cell(&label, &fill(&row));
            let mut bound = bound.borrow_mut();
            let slots = bound.entry(key(&row)).or_default();
            if slots.len() <= slot {
                slots.resize(slot + 1, None);
            }
            slots[slot] = Some(label);
        });
        let bound = self.bound.clone();
        factory.connect_unbind(move |_, item| {
            let Some(item) = item.downcast_ref::<gtk::ListItem>() else {
                return;
            };
            let Some(row) = item.item().and_then(|o| row_of::<R>(&o)) else {
                return;
            };
            let mut bound = bound.borrow_mut();
            let k = key(&row);
            if let Some(slots) = bound.get_mut(&k) {
                if let Some(s) = slots.get_mut(slot) {
                    *s = None;
                }
                if slots.iter().all(Option::is_none) {
                    bound.remove(&k);
                }
            }
        });
        let sorter = gtk::CustomSorter::new(move |a, b| match (row_of::<R>(a), row_of::<R>(b)) {
            (Some(a), Some(b)) => compare(&a, &b).into(),
            _ => gtk::Ordering::Equal,
        });
        let column = gtk::ColumnViewColumn::builder()
            .title(title)
            .factory(&factory)
            .sorter(&sorter)
            .expand(expand)
            .resizable(true)
            .build();
        self.view.append_column(&column);
        column
    }

    /// Replaces every row.
    pub fn set_rows(&self, rows: &[Rc<R>]) {
        let items: Vec<glib::BoxedAnyObject> = rows
            .iter()
            .map(|r| glib::BoxedAnyObject::new(r.clone()))
            .collect();
        self.store.splice(0, self.store.n_items(), &items);
    }

    pub fn append(&self, row: Rc<R>) {
        self.store.append(&glib::BoxedAnyObject::new(row));
    }

    /// Removes a row (by identity).
    pub fn remove(&self, row: &Rc<R>) {
        let target = key(row);
        for i in 0..self.store.n_items() {
            if let Some(r) = self.store.item(i).and_then(|o| row_of::<R>(&o))
                && key(&r) == target
            {
                self.store.remove(i);
                return;
            }
        }
    }

    /// Sets the text of a row's bound labels again (after its quote changed); true if the
    /// row is on screen.
    pub fn refresh(&self, row: &Rc<R>) -> bool {
        let bound = self.bound.borrow();
        let Some(slots) = bound.get(&key(row)) else {
            return false;
        };
        for (slot, label) in slots.iter().enumerate() {
            if let (Some(label), Some(fill)) = (label, self.fills.get(slot)) {
                set_cell(label, &fill(row));
            }
        }
        true
    }

    /// Re-sorts once (the sorted column's values changed).
    pub fn resort(&self) {
        if let Some(sorter) = self.view.sorter() {
            sorter.changed(gtk::SorterChange::Different);
        }
    }

    /// The selected row, if any.
    pub fn selected(&self) -> Option<Rc<R>> {
        self.selection.selected_item().and_then(|o| row_of::<R>(&o))
    }

    /// The row at a position of the (sorted) view.
    pub fn at(&self, position: u32) -> Option<Rc<R>> {
        self.selection.item(position).and_then(|o| row_of::<R>(&o))
    }

    /// Number of labels currently bound (for tests: only what is on screen is updated).
    pub fn bound_rows(&self) -> usize {
        self.bound.borrow().len()
    }
}

/// Orders optional numbers with unknown ones last.
pub fn by_value(a: Option<rust_decimal::Decimal>, b: Option<rust_decimal::Decimal>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => a.cmp(&b),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// A plain text cell.
pub fn text(value: impl Into<String>) -> Cell {
    (value.into(), None)
}

/// A cell for a signed amount, coloured by its sign.
pub fn trend(value: Option<rust_decimal::Decimal>, shown: String) -> Cell {
    (shown, format::trend_class(value))
}
