//! Delivering merged quotes once per frame: the other half of the [`QuoteBoard`].
//!
//! When the backend wakes the window, [`FrameDrain::schedule`] registers one tick callback on
//! the widget; at the next frame it drains the board and hands the batch over. The callback
//! removes itself, so an idle window never wakes for nothing, and however many quotes arrived
//! in between, the panels see each instrument once per frame.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;

use gtk::glib;
use gtk::prelude::*;
use tickwork_core::domain::Quote;

use super::boundary::QuoteBoard;

/// Hands a frame's quotes to whoever shows them.
pub type DeliverQuotes = Rc<dyn Fn(&[Quote])>;

pub struct FrameDrain {
    board: Arc<QuoteBoard>,
    scheduled: Rc<Cell<bool>>,
    deliver: DeliverQuotes,
}

impl FrameDrain {
    pub fn new(board: Arc<QuoteBoard>, deliver: DeliverQuotes) -> Self {
        Self {
            board,
            scheduled: Rc::default(),
            deliver,
        }
    }

    /// Drains the board at the next frame of `widget` (once, however often it is called).
    pub fn schedule(&self, widget: &impl IsA<gtk::Widget>) {
        if self.scheduled.replace(true) {
            return;
        }
        let board = self.board.clone();
        let scheduled = self.scheduled.clone();
        let deliver = self.deliver.clone();
        widget.add_tick_callback(move |_, _| {
            scheduled.set(false);
            let quotes = board.drain();
            if !quotes.is_empty() {
                deliver(&quotes);
            }
            glib::ControlFlow::Break
        });
    }
}
