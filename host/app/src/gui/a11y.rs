//! Accessible names for controls that show no text (icon-only buttons, drop-downs, drawing
//! areas). GTK 4.8 does not use a tooltip as the accessible name — a screen reader would read
//! the widget's type name ("GtkToggleButton") — and gtk4-rs only binds
//! `gtk_accessible_update_property_value` from its 4.10 feature, although the C function exists
//! since GTK 4.0. So it is declared here and called with GTK's own property ids.

use gtk::glib::translate::ToGlibPtr;
use gtk::prelude::*;

unsafe extern "C" {
    fn gtk_accessible_update_property_value(
        accessible: *mut gtk::ffi::GtkAccessible,
        n_properties: std::ffi::c_int,
        properties: *mut gtk::ffi::GtkAccessibleProperty,
        values: *const gtk::glib::gobject_ffi::GValue,
    );
}

fn update(widget: &impl IsA<gtk::Widget>, property: gtk::ffi::GtkAccessibleProperty, text: &str) {
    let value = text.to_value();
    let mut properties = [property];
    // SAFETY: `widget` is a live GtkWidget, hence a GtkAccessible; one property id paired with one string GValue,
    // as the function requires for LABEL and DESCRIPTION; GTK copies the value.
    unsafe {
        gtk_accessible_update_property_value(
            // Every GtkWidget implements the GtkAccessible interface.
            ToGlibPtr::<*mut gtk::ffi::GtkWidget>::to_glib_none(widget.as_ref()).0
                as *mut gtk::ffi::GtkAccessible,
            1,
            properties.as_mut_ptr(),
            value.to_glib_none().0,
        );
    }
}

/// Sets what a screen reader calls the widget.
pub fn set_label(widget: &impl IsA<gtk::Widget>, label: &str) {
    update(widget, gtk::ffi::GTK_ACCESSIBLE_PROPERTY_LABEL, label);
}

/// Sets the longer description a screen reader offers after the name.
pub fn set_description(widget: &impl IsA<gtk::Widget>, description: &str) {
    update(
        widget,
        gtk::ffi::GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
        description,
    );
}

/// Names an icon-only control after its tooltip, so the two never disagree.
pub fn name_from_tooltip(widget: &impl IsA<gtk::Widget>) {
    if let Some(tooltip) = widget.as_ref().tooltip_text() {
        set_label(widget, &tooltip);
    }
}

/// Names the button a composite widget (a drop-down) draws inside itself, which a screen reader
/// reaches separately from the composite.
pub fn name_inner_button(widget: &impl IsA<gtk::Widget>, label: &str) {
    let mut stack = vec![widget.as_ref().clone()];
    while let Some(w) = stack.pop() {
        if w.is::<gtk::Button>() || w.is::<gtk::ToggleButton>() {
            set_label(&w, label);
        }
        let mut child = w.first_child();
        while let Some(c) = child {
            child = c.next_sibling();
            stack.push(c);
        }
    }
}

/// Names each tab's close button after its tab ("Close Watchlist"); libadwaita 1.2 leaves
/// them nameless. Called whenever tabs change.
pub fn name_tab_close_buttons(bar: &impl IsA<gtk::Widget>) {
    let mut stack = vec![bar.as_ref().clone()];
    while let Some(w) = stack.pop() {
        if w.css_name() == "tab" {
            let mut title = None;
            let mut buttons = Vec::new();
            let mut inner = vec![w.clone()];
            while let Some(i) = inner.pop() {
                if let Some(label) = i.downcast_ref::<gtk::Label>()
                    && title.is_none()
                    && !label.text().is_empty()
                {
                    title = Some(label.text().to_string());
                }
                if i.is::<gtk::Button>() {
                    buttons.push(i.clone());
                }
                let mut child = i.last_child();
                while let Some(c) = child {
                    child = c.prev_sibling();
                    inner.push(c);
                }
            }
            for button in buttons {
                set_label(
                    &button,
                    &format!("Close {}", title.as_deref().unwrap_or("tab")),
                );
            }
            continue;
        }
        let mut child = w.first_child();
        while let Some(c) = child {
            child = c.next_sibling();
            stack.push(c);
        }
    }
}

/// Gives every nameless control under `root` a name a screen reader can read, the one a sighted
/// user would use: its tooltip, else an entry's placeholder, else the label just before it;
/// the buttons a composite (drop-down, menu button) draws inside itself take the composite's
/// name; list rows take their first line of text; tables and lists are named after `table`
/// (the panel). Panels call nothing themselves: the workspace runs this when a panel is built
/// and whenever it is shown.
pub fn name_controls(root: &impl IsA<gtk::Widget>, table: &str) {
    let mut stack = vec![(root.as_ref().clone(), None::<String>)];
    while let Some((w, inherited)) = stack.pop() {
        let own = w
            .downcast_ref::<gtk::MenuButton>()
            .and_then(|b| b.label())
            .map(|l| l.replace('_', ""))
            .filter(|l| !l.is_empty())
            .or_else(|| w.tooltip_text().map(|t| t.to_string()))
            .or_else(|| placeholder(&w))
            .or_else(|| label_before(&w));
        let name = inherited.clone().or(own);
        let control = w.is::<gtk::Button>()
            || w.is::<gtk::MenuButton>()
            || w.is::<gtk::DropDown>()
            || w.is::<gtk::Entry>()
            || w.is::<gtk::SearchEntry>()
            || w.is::<gtk::Text>()
            || w.is::<gtk::SpinButton>()
            || w.is::<gtk::Switch>();
        if control
            && !has_text_label(&w)
            && let Some(name) = &name
        {
            set_label(&w, name);
        }
        if w.is::<gtk::ColumnView>() || w.is::<gtk::ListView>() {
            set_label(&w, table);
        } else if w.is::<gtk::FlowBox>() {
            set_label(&w, &format!("{table} controls"));
        } else if w.is::<gtk::ListBoxRow>()
            && let Some(text) = first_text(&w)
        {
            set_label(&w, &text);
        }
        // Everything a composite draws inside itself takes the composite's name.
        let composite = w.is::<gtk::DropDown>()
            || w.is::<gtk::MenuButton>()
            || w.is::<gtk::SearchEntry>()
            || w.is::<gtk::SpinButton>()
            || w.is::<gtk::Entry>();
        let pass_down = if composite { name.clone() } else { inherited };
        let mut child = w.first_child();
        while let Some(c) = child {
            child = c.next_sibling();
            stack.push((c, pass_down.clone()));
        }
    }
}

fn placeholder(widget: &gtk::Widget) -> Option<String> {
    widget
        .downcast_ref::<gtk::Entry>()
        .and_then(|e| e.placeholder_text())
        .map(|t| t.to_string())
        .filter(|t| !t.is_empty())
}

/// The text of a label directly before the widget (a form's "Symbol" before its entry).
fn label_before(widget: &gtk::Widget) -> Option<String> {
    widget
        .prev_sibling()
        .and_then(|s| s.downcast::<gtk::Label>().ok())
        .map(|l| l.text().to_string())
        .filter(|t| !t.is_empty())
}

/// The first non-empty label text under `widget`.
fn first_text(widget: &gtk::Widget) -> Option<String> {
    let mut stack = vec![widget.clone()];
    while let Some(w) = stack.pop() {
        if let Some(label) = w.downcast_ref::<gtk::Label>()
            && !label.text().is_empty()
        {
            return Some(label.text().to_string());
        }
        let mut child = w.last_child();
        while let Some(c) = child {
            child = c.prev_sibling();
            stack.push(c);
        }
    }
    None
}

/// Whether a button already shows text (its accessible name then comes from it).
fn has_text_label(widget: &gtk::Widget) -> bool {
    if let Some(button) = widget.downcast_ref::<gtk::Button>() {
        return button.label().is_some_and(|l| !l.is_empty());
    }
    // A menu button's outer node is not named after its label in GTK 4.8: name it anyway.
    false
}
