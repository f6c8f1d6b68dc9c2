//! The add-leg form of the hypothetical portfolio, in a popover of the "Add leg" button.

use std::rc::Rc;

use gtk::prelude::*;

use super::Inner;
use super::model::{self, LegForm};

fn entry(placeholder: &str) -> gtk::Entry {
    gtk::Entry::builder()
        .placeholder_text(placeholder)
        .activates_default(true)
        .width_chars(12)
        .build()
}

/// The popover: symbol, kind, expiry, strike, right, multiplier, quantity, price, and the
/// underlying's price and class when the symbol is new.
pub fn popover(inner: &Rc<Inner>) -> gtk::Popover {
    let grid = gtk::Grid::builder()
        .row_spacing(6)
        .column_spacing(12)
        .margin_top(6)
        .margin_bottom(6)
        .margin_start(6)
        .margin_end(6)
        .build();
    let symbol = entry("AAPL");
    symbol.set_widget_name("margin-leg-symbol");
    let kind = gtk::DropDown::from_strings(&["Stock", "Option", "Future", "Future option"]);
    kind.set_widget_name("margin-leg-kind");
    let expiry = entry("YYYY-MM-DD");
    let strike = entry("190");
    let right = gtk::DropDown::from_strings(&["Call", "Put"]);
    let multiplier = entry("100");
    let quantity = entry("−3 for short");
    quantity.set_widget_name("margin-leg-quantity");
    let price = entry("4.15");
    price.set_widget_name("margin-leg-price");
    let underlying_price = entry("if new");
    let classes: Vec<String> = model::CLASSES.iter().map(|c| c.replace('_', " ")).collect();
    let class_names: Vec<&str> = classes.iter().map(String::as_str).collect();
    let class = gtk::DropDown::from_strings(&class_names);
    let rows: [(&str, gtk::Widget); 10] = [
        ("S_ymbol", symbol.clone().upcast()),
        ("_Kind", kind.clone().upcast()),
        ("_Expiry", expiry.clone().upcast()),
        ("S_trike", strike.clone().upcast()),
        ("_Right", right.clone().upcast()),
        ("M_ultiplier", multiplier.clone().upcast()),
        ("_Quantity", quantity.clone().upcast()),
        ("_Price", price.clone().upcast()),
        ("U_nderlying price", underlying_price.clone().upcast()),
        ("_Class", class.clone().upcast()),
    ];
    for (i, (text, widget)) in rows.iter().enumerate() {
        let label = gtk::Label::with_mnemonic(text);
        label.set_mnemonic_widget(Some(widget));
        label.set_xalign(1.0);
        grid.attach(&label, 0, i as i32, 1, 1);
        grid.attach(widget, 1, i as i32, 1, 1);
    }
    let option_fields: Vec<gtk::Widget> = vec![strike.clone().upcast(), right.clone().upcast()];
    let dated: Vec<gtk::Widget> = vec![expiry.clone().upcast(), multiplier.clone().upcast()];
    let sync_kind = {
        let (option_fields, dated) = (option_fields.clone(), dated.clone());
        move |kind: &gtk::DropDown| {
            let k = kind.selected();
            for w in &option_fields {
                w.set_sensitive(k == 1 || k == 3);
            }
            for w in &dated {
                w.set_sensitive(k != 0);
            }
        }
    };
    sync_kind(&kind);
    kind.connect_selected_notify(sync_kind);
    let error = gtk::Label::new(None);
    error.add_css_class("error");
    error.set_wrap(true);
    error.set_max_width_chars(40);
    error.set_xalign(0.0);
    grid.attach(&error, 0, 10, 2, 1);
    let add = gtk::Button::with_mnemonic("_Add");
    add.set_widget_name("margin-leg-add");
    add.add_css_class("suggested-action");
    add.set_halign(gtk::Align::End);
    grid.attach(&add, 1, 11, 1, 1);
    let popover = gtk::Popover::builder().child(&grid).build();
    popover.set_default_widget(Some(&add));
    let weak = Rc::downgrade(inner);
    let pop = popover.downgrade();
    add.connect_clicked(move |_| {
        let Some(inner) = weak.upgrade() else { return };
        let form = LegForm {
            symbol: symbol.text().into(),
            kind: kind.selected() as usize,
            expiry: expiry.text().into(),
            strike: strike.text().into(),
            right: right.selected() as usize,
            multiplier: multiplier.text().into(),
            quantity: quantity.text().into(),
            price: price.text().into(),
            underlying_price: underlying_price.text().into(),
            class: class.selected() as usize,
        };
        let added = model::add_leg(&mut inner.state.borrow_mut().hypo, &form);
        match added {
            Ok(()) => {
                error.set_text("");
                for e in [&quantity, &price, &strike] {
                    e.set_text("");
                }
                if let Some(p) = pop.upgrade() {
                    p.popdown();
                }
                inner.changed();
            }
            Err(err) => error.set_text(&err),
        }
    });
    popover
}
