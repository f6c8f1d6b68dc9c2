//! Small builders for the text columns of the panels' `gtk::ColumnView`s.

use gtk::glib;
use gtk::prelude::*;

/// A column of labels; `text` reads the row's item (numbers right-aligned, `numeric` class).
pub fn text_column(
    title: &str,
    numeric: bool,
    text: impl Fn(&glib::Object) -> (String, Option<String>) + 'static,
) -> gtk::ColumnViewColumn {
    let factory = gtk::SignalListItemFactory::new();
    factory.connect_setup(move |_, item| {
        let Some(item) = item.downcast_ref::<gtk::ListItem>() else {
            return;
        };
        let label = gtk::Label::builder()
            .xalign(if numeric { 1.0 } else { 0.0 })
            .build();
        if numeric {
            label.add_css_class("numeric");
        }
        item.set_child(Some(&label));
    });
    factory.connect_bind(move |_, item| {
        let Some(item) = item.downcast_ref::<gtk::ListItem>() else {
            return;
        };
        let (Some(label), Some(row)) = (item.child().and_downcast::<gtk::Label>(), item.item())
        else {
            return;
        };
        let (shown, tooltip) = text(&row);
        label.set_text(&shown);
        label.set_tooltip_text(tooltip.as_deref());
    });
    let column = gtk::ColumnViewColumn::new(Some(title), Some(factory));
    column.set_resizable(true);
    column
}

/// A labelled control for a toolbar: the label's mnemonic focuses the control.
pub fn labelled(text: &str, control: &impl IsA<gtk::Widget>) -> gtk::Box {
    let label = gtk::Label::with_mnemonic(text);
    label.set_mnemonic_widget(Some(control));
    label.add_css_class("dim-label");
    let row = gtk::Box::new(gtk::Orientation::Horizontal, 6);
    row.append(&label);
    row.append(control);
    row
}

/// A toolbar that wraps onto a second line when the panel is narrow (nothing is cut off).
pub fn toolbar(items: &[gtk::Widget]) -> gtk::FlowBox {
    let bar = gtk::FlowBox::builder()
        .selection_mode(gtk::SelectionMode::None)
        .homogeneous(false)
        .column_spacing(12)
        .row_spacing(6)
        .max_children_per_line(12)
        .margin_top(6)
        .margin_bottom(6)
        .margin_start(6)
        .margin_end(6)
        .build();
    for item in items {
        let child = gtk::FlowBoxChild::new();
        child.set_child(Some(item));
        child.set_focusable(false);
        child.set_halign(gtk::Align::Start);
        bar.append(&child);
    }
    bar
}
