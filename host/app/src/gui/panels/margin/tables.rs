//! The calculator's tables: the legs and underlyings (prices editable in hypothetical mode)
//! and the explanation tree.

use std::rc::Rc;

use gtk::prelude::*;
use gtk::{gio, glib};
use tickwork_margin::Portfolio;

use super::model::{self, TreeRow};
use crate::gui::panels::columns::text_column;

/// A row of the legs or underlyings table: its index / symbol in the portfolio shown.
#[derive(Debug, Clone)]
pub enum Item {
    Leg(usize),
    Underlying(String),
}

fn item(o: &glib::Object) -> Option<Item> {
    o.downcast_ref::<glib::BoxedAnyObject>()
        .map(|b| b.borrow::<Item>().clone())
}

/// The portfolio the tables read, and what an edited price does.
pub trait Source: 'static {
    fn portfolio(&self) -> std::cell::Ref<'_, Portfolio>;
    fn editable(&self) -> bool;
    /// A price typed in a cell: Enter applies it.
    fn set_price(&self, item: &Item, text: &str);
    fn remove_leg(&self, index: usize);
}

fn text_of<S: Source>(
    source: &Rc<S>,
    read: impl Fn(&Portfolio, &Item) -> String + 'static,
) -> impl Fn(&glib::Object) -> (String, Option<String>) + 'static {
    let source = Rc::downgrade(source);
    move |o| {
        let (Some(source), Some(item)) = (source.upgrade(), item(o)) else {
            return Default::default();
        };
        (read(&source.portfolio(), &item), None)
    }
}

/// A column of price entries: Enter applies the typed price.
fn price_column<S: Source>(source: &Rc<S>, name: &str) -> gtk::ColumnViewColumn {
    let factory = gtk::SignalListItemFactory::new();
    let weak = Rc::downgrade(source);
    let title = name.to_owned();
    factory.connect_setup(move |_, list_item| {
        let Some(list_item) = list_item.downcast_ref::<gtk::ListItem>() else {
            return;
        };
        let entry = gtk::Entry::builder()
            .width_chars(9)
            .xalign(1.0)
            .tooltip_text("Type a price and press Enter")
            .build();
        crate::gui::a11y::set_label(&entry, &title);
        entry.add_css_class("numeric");
        let row = list_item.downgrade();
        let source = weak.clone();
        entry.connect_activate(move |entry| {
            let (Some(source), Some(row)) = (source.upgrade(), row.upgrade()) else {
                return;
            };
            if let Some(it) = row.item().as_ref().and_then(item) {
                source.set_price(&it, &entry.text());
            }
        });
        list_item.set_child(Some(&entry));
    });
    let weak = Rc::downgrade(source);
    factory.connect_bind(move |_, list_item| {
        let Some(list_item) = list_item.downcast_ref::<gtk::ListItem>() else {
            return;
        };
        let (Some(source), Some(entry), Some(it)) = (
            weak.upgrade(),
            list_item.child().and_downcast::<gtk::Entry>(),
            list_item.item().as_ref().and_then(item),
        ) else {
            return;
        };
        let p = source.portfolio();
        let price = match &it {
            Item::Leg(i) => p.positions.get(*i).map(|l| l.price),
            Item::Underlying(s) => p.underlyings.get(s).map(|u| u.price),
        };
        entry.set_text(&price.map(|d| d.to_string()).unwrap_or_default());
        entry.set_editable(source.editable());
        entry.set_can_focus(source.editable());
        entry.set_has_frame(source.editable());
    });
    let column = gtk::ColumnViewColumn::new(Some(name), Some(factory));
    column.set_resizable(true);
    column
}

/// The legs table.
pub fn legs<S: Source>(source: &Rc<S>, store: &gio::ListStore) -> gtk::ColumnView {
    let view = gtk::ColumnView::new(Some(gtk::NoSelection::new(Some(store.clone()))));
    view.set_widget_name("margin-legs");
    view.add_css_class("data-table");
    fn leg(
        f: impl Fn(&tickwork_margin::Position) -> String + 'static,
    ) -> impl Fn(&Portfolio, &Item) -> String + 'static {
        move |p: &Portfolio, it: &Item| match it {
            Item::Leg(i) => p.positions.get(*i).map(&f).unwrap_or_default(),
            Item::Underlying(_) => String::new(),
        }
    }
    fn term(k: usize) -> impl Fn(&tickwork_margin::Position) -> String + 'static {
        move |p| model::leg_terms(p)[k].clone()
    }
    view.append_column(&text_column(
        "Symbol",
        false,
        text_of(source, leg(|p| p.symbol.clone())),
    ));
    view.append_column(&text_column("Kind", false, text_of(source, leg(term(0)))));
    view.append_column(&text_column("Expiry", false, text_of(source, leg(term(1)))));
    view.append_column(&text_column("Strike", true, text_of(source, leg(term(2)))));
    view.append_column(&text_column("Right", false, text_of(source, leg(term(3)))));
    view.append_column(&text_column("Mult.", true, text_of(source, leg(term(4)))));
    view.append_column(&text_column(
        "Qty",
        true,
        text_of(source, leg(|p| p.qty.to_string())),
    ));
    view.append_column(&price_column(source, "Price"));
    // Remove buttons (hypothetical mode).
    let factory = gtk::SignalListItemFactory::new();
    let weak = Rc::downgrade(source);
    factory.connect_setup(move |_, list_item| {
        let Some(list_item) = list_item.downcast_ref::<gtk::ListItem>() else {
            return;
        };
        let button = gtk::Button::from_icon_name("user-trash-symbolic");
        button.set_tooltip_text(Some("Remove this leg"));
        button.add_css_class("flat");
        let row = list_item.downgrade();
        let source = weak.clone();
        button.connect_clicked(move |_| {
            let (Some(source), Some(row)) = (source.upgrade(), row.upgrade()) else {
                return;
            };
            if let Some(Item::Leg(i)) = row.item().as_ref().and_then(item) {
                source.remove_leg(i);
            }
        });
        list_item.set_child(Some(&button));
    });
    let weak = Rc::downgrade(source);
    factory.connect_bind(move |_, list_item| {
        let Some(list_item) = list_item.downcast_ref::<gtk::ListItem>() else {
            return;
        };
        if let (Some(source), Some(child)) = (weak.upgrade(), list_item.child()) {
            child.set_visible(source.editable());
        }
    });
    view.append_column(&gtk::ColumnViewColumn::new(None, Some(factory)));
    view
}

/// The underlyings table (their prices drive every leg's requirement).
pub fn underlyings<S: Source>(source: &Rc<S>, store: &gio::ListStore) -> gtk::ColumnView {
    let view = gtk::ColumnView::new(Some(gtk::NoSelection::new(Some(store.clone()))));
    view.set_widget_name("margin-underlyings");
    view.add_css_class("data-table");
    let und = |f: fn(&tickwork_margin::Underlying) -> String| {
        move |p: &Portfolio, it: &Item| match it {
            Item::Underlying(s) => p.underlyings.get(s).map(f).unwrap_or_default(),
            Item::Leg(_) => String::new(),
        }
    };
    view.append_column(&text_column(
        "Underlying",
        false,
        text_of(source, und(|u| u.symbol.clone())),
    ));
    view.append_column(&text_column(
        "Class",
        false,
        text_of(
            source,
            und(|u| {
                serde_json::to_value(u.class)
                    .ok()
                    .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
                    .unwrap_or_default()
            }),
        ),
    ));
    view.append_column(&price_column(source, "Price"));
    view
}

/// Fills the legs and underlyings stores from the portfolio shown.
pub fn refill(portfolio: &Portfolio, legs: &gio::ListStore, underlyings: &gio::ListStore) {
    let boxed = |i: Item| glib::BoxedAnyObject::new(i).upcast::<glib::Object>();
    let l: Vec<glib::Object> = (0..portfolio.positions.len())
        .map(|i| boxed(Item::Leg(i)))
        .collect();
    legs.splice(0, legs.n_items(), &l);
    let u: Vec<glib::Object> = portfolio
        .underlyings
        .keys()
        .map(|s| boxed(Item::Underlying(s.clone())))
        .collect();
    underlyings.splice(0, underlyings.n_items(), &u);
}

fn tree_row(o: &glib::Object) -> Option<TreeRow> {
    let row = o.downcast_ref::<gtk::TreeListRow>()?;
    let item = row.item()?;
    let boxed = item.downcast_ref::<glib::BoxedAnyObject>()?;
    let r = boxed.borrow::<TreeRow>().clone();
    Some(r)
}

fn rows_store(rows: Vec<TreeRow>) -> gio::ListStore {
    let store = gio::ListStore::new::<glib::BoxedAnyObject>();
    let items: Vec<glib::Object> = rows
        .into_iter()
        .map(|r| glib::BoxedAnyObject::new(r).upcast())
        .collect();
    store.splice(0, 0, &items);
    store
}

/// The explanation: groups → strategies → legs, each with its rule and formula lines.
pub fn tree(root: &gio::ListStore) -> (gtk::ColumnView, gtk::TreeListModel) {
    let model = gtk::TreeListModel::new(root.clone(), false, false, |item| {
        let boxed = item.downcast_ref::<glib::BoxedAnyObject>()?;
        let children = boxed.borrow::<TreeRow>().children();
        (!children.is_empty()).then(|| rows_store(children).upcast::<gio::ListModel>())
    });
    let view = gtk::ColumnView::new(Some(gtk::NoSelection::new(Some(model.clone()))));
    view.set_widget_name("margin-tree");
    view.add_css_class("data-table");
    let factory = gtk::SignalListItemFactory::new();
    factory.connect_setup(|_, list_item| {
        let Some(list_item) = list_item.downcast_ref::<gtk::ListItem>() else {
            return;
        };
        let label = gtk::Label::builder()
            .xalign(0.0)
            .wrap(true)
            .wrap_mode(gtk::pango::WrapMode::WordChar)
            .max_width_chars(70)
            .build();
        let expander = gtk::TreeExpander::new();
        expander.set_child(Some(&label));
        list_item.set_child(Some(&expander));
    });
    factory.connect_bind(|_, list_item| {
        let Some(list_item) = list_item.downcast_ref::<gtk::ListItem>() else {
            return;
        };
        let (Some(expander), Some(o)) = (
            list_item.child().and_downcast::<gtk::TreeExpander>(),
            list_item.item(),
        ) else {
            return;
        };
        let row = o.downcast::<gtk::TreeListRow>().ok();
        expander.set_list_row(row.as_ref());
        let Some(label) = expander.child().and_downcast::<gtk::Label>() else {
            return;
        };
        let shown = row.as_ref().and_then(|r| tree_row(r.upcast_ref()));
        label.set_text(shown.as_ref().map(TreeRow::label).unwrap_or_default());
        let line = matches!(shown, Some(TreeRow::Line(_)));
        if line {
            label.add_css_class("dim-label");
        } else {
            label.remove_css_class("dim-label");
        }
    });
    let what = gtk::ColumnViewColumn::new(Some("Explanation"), Some(factory));
    what.set_expand(true);
    view.append_column(&what);
    view.append_column(&text_column("Initial", true, |o| {
        (
            tree_row(o)
                .and_then(|r| r.amounts())
                .map(|a| a.0)
                .unwrap_or_default(),
            None,
        )
    }));
    view.append_column(&text_column("Maintenance", true, |o| {
        (
            tree_row(o)
                .and_then(|r| r.amounts())
                .map(|a| a.1)
                .unwrap_or_default(),
            None,
        )
    }));
    (view, model)
}

/// Opens the groups (one level: strategies show, their legs stay folded).
pub fn expand_groups(model: &gtk::TreeListModel) {
    // From the end, so that rows opened below do not shift the ones still to open.
    for i in (0..model.n_items()).rev() {
        if let Some(row) = model.row(i)
            && row.depth() == 0
        {
            row.set_expanded(true);
        }
    }
}

/// Replaces the tree's top level with the result's groups.
pub fn fill_tree(root: &gio::ListStore, groups: &[tickwork_margin::Node]) {
    let items: Vec<glib::Object> = groups
        .iter()
        .cloned()
        .map(|n| glib::BoxedAnyObject::new(TreeRow::Node(n)).upcast())
        .collect();
    root.splice(0, root.n_items(), &items);
}
