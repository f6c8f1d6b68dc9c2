//! Work a panel repeats only while it is on screen (a status that changes, new audit entries):
//! done at once when the panel is shown, then every period, and stopped when it is hidden.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use gtk::glib;
use gtk::prelude::*;

/// Calls `tick` on `owner` when `widget` is mapped and every `every` after, until it is unmapped
/// or `owner` is dropped.
pub fn while_shown<T: 'static>(
    widget: &impl IsA<gtk::Widget>,
    owner: &Rc<T>,
    every: Duration,
    tick: impl Fn(&T) + 'static,
) {
    let timer: Rc<RefCell<Option<glib::SourceId>>> = Rc::default();
    let tick = Rc::new(tick);
    let weak = Rc::downgrade(owner);
    let running = timer.clone();
    widget.connect_map(move |_| {
        let Some(owner) = weak.upgrade() else { return };
        tick(&owner);
        let (again, tick) = (Rc::downgrade(&owner), tick.clone());
        let id = glib::timeout_add_local(every, move || match again.upgrade() {
            Some(owner) => {
                tick(&owner);
                glib::ControlFlow::Continue
            }
            None => glib::ControlFlow::Break,
        });
        if let Some(old) = running.replace(Some(id)) {
            old.remove();
        }
    });
    widget.connect_unmap(move |_| {
        if let Some(id) = timer.take() {
            id.remove();
        }
    });
}
