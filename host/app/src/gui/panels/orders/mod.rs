//! Orders & executions: the working orders of every account (modify, cancel, audit trail) and
//! today's fills of every account the session reports, refreshed on order and fill events.

mod dialogs;
pub mod table;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use adw::prelude::*;
use gtk::{gio, glib};
use tickwork_core::domain::{Execution, Instrument, Order};

use self::table::{
    EXECUTION_COLUMNS, ExecutionRow, ORDER_COLUMNS, OrderRow, execution_cell, execution_tooltip,
    order_cell, order_tooltip, symbol_of, text_column,
};
use super::{Panel, PanelContext, PanelEvent, PanelProvider, WindowRequest};
use crate::gui::boundary::{Notification, OrderCommand, OrderEvent, SessionEvent};

pub fn provider() -> PanelProvider {
    PanelProvider {
        id: "orders".into(),
        title: "Orders & executions".into(),
        icon: "view-list-bullet-symbolic".into(),
        description: "Working orders (modify, cancel, audit trail) and today's executions".into(),
        multiple: false,
        build: Rc::new(|ctx| Box::new(Orders::new(ctx))),
    }
}

struct Inner {
    ctx: PanelContext,
    root: gtk::Box,
    orders: gio::ListStore,
    orders_stack: gtk::Stack,
    orders_view: gtk::ColumnView,
    executions: gio::ListStore,
    executions_stack: gtk::Stack,
    /// Instrument id → symbol, from the blotter and the instruments the window knows.
    symbols: RefCell<HashMap<i64, String>>,
    /// Audit dialogs waiting for their entries, by order_ref.
    audits: RefCell<HashMap<String, dialogs::AuditDialog>>,
}

pub struct Orders {
    inner: Rc<Inner>,
}

fn empty_page(icon: &str, title: &str, description: &str) -> adw::StatusPage {
    let page = adw::StatusPage::builder()
        .icon_name(icon)
        .title(title)
        .description(description)
        .build();
    page.add_css_class("compact");
    page
}

fn page(empty: &adw::StatusPage, view: &gtk::ColumnView) -> gtk::Stack {
    let scrolled = gtk::ScrolledWindow::builder()
        .vexpand(true)
        .hexpand(true)
        .child(view)
        .build();
    let stack = gtk::Stack::new();
    stack.add_named(empty, Some("empty"));
    stack.add_named(&scrolled, Some("table"));
    stack.set_visible_child_name("empty");
    stack
}

impl Orders {
    pub fn new(ctx: PanelContext) -> Self {
        let orders = gio::ListStore::new::<glib::BoxedAnyObject>();
        let orders_view =
            gtk::ColumnView::new(Some(gtk::SingleSelection::new(Some(orders.clone()))));
        orders_view.set_widget_name("orders-view");
        orders_view.add_css_class("data-table");
        orders_view.set_reorderable(false);
        for (index, (title, numeric)) in ORDER_COLUMNS.iter().enumerate() {
            orders_view.append_column(&text_column::<OrderRow>(
                title,
                *numeric,
                move |row| order_cell(row, index),
                move |row| order_tooltip(row, index),
            ));
        }

        let executions = gio::ListStore::new::<glib::BoxedAnyObject>();
        let executions_view =
            gtk::ColumnView::new(Some(gtk::NoSelection::new(Some(executions.clone()))));
        executions_view.set_widget_name("executions-view");
        executions_view.add_css_class("data-table");
        for (index, (title, numeric)) in EXECUTION_COLUMNS.iter().enumerate() {
            executions_view.append_column(&text_column::<ExecutionRow>(
                title,
                *numeric,
                move |row| execution_cell(row, index),
                move |row| execution_tooltip(row, index),
            ));
        }

        let orders_stack = page(
            &empty_page(
                "view-list-bullet-symbolic",
                "No working orders",
                "Orders placed in the ticket appear here until they fill or are cancelled.",
            ),
            &orders_view,
        );
        let executions_stack = page(
            &empty_page(
                "emblem-ok-symbolic",
                "No executions today",
                "Fills of every account of the session appear here.",
            ),
            &executions_view,
        );
        let stack = adw::ViewStack::new();
        let orders_page = stack.add_titled(&orders_stack, Some("orders"), "Working orders");
        orders_page.set_icon_name(Some("view-list-bullet-symbolic"));
        let executions_page = stack.add_titled(&executions_stack, Some("executions"), "Executions");
        executions_page.set_icon_name(Some("emblem-ok-symbolic"));
        let switcher = adw::ViewSwitcher::builder()
            .stack(&stack)
            .policy(adw::ViewSwitcherPolicy::Wide)
            .halign(gtk::Align::Center)
            .build();
        let root = gtk::Box::new(gtk::Orientation::Vertical, 6);
        root.set_margin_top(6);
        root.append(&switcher);
        root.append(&stack);

        let inner = Rc::new(Inner {
            ctx,
            root,
            orders,
            orders_stack,
            orders_view,
            executions,
            executions_stack,
            symbols: RefCell::default(),
            audits: RefCell::default(),
        });
        inner.add_actions_column();
        inner.connect_keys();
        inner.ctx.commands.send(OrderCommand::Refresh);
        Self { inner }
    }
}

impl Inner {
    /// Modify, Cancel and Audit buttons on each row; the row's order is read when clicked.
    fn add_actions_column(self: &Rc<Self>) {
        let factory = gtk::SignalListItemFactory::new();
        let weak = Rc::downgrade(self);
        factory.connect_setup(move |_, item| {
            let Some(item) = item.downcast_ref::<gtk::ListItem>() else {
                return;
            };
            let buttons = gtk::Box::new(gtk::Orientation::Horizontal, 4);
            let button = |icon: &str, name: &str, tooltip: &str| {
                let button = gtk::Button::from_icon_name(icon);
                button.set_widget_name(name);
                button.set_tooltip_text(Some(tooltip));
                button.add_css_class("flat");
                buttons.append(&button);
                button
            };
            let modify = button("document-edit-symbolic", "order-modify", "Modify the order");
            let cancel = button("process-stop-symbolic", "order-cancel", "Cancel the order");
            cancel.add_css_class("error");
            let audit = button(
                "document-open-recent-symbolic",
                "order-audit",
                "Show the order's audit trail",
            );
            let order_of = {
                let item = item.downgrade();
                move || -> Option<Order> {
                    let row = item
                        .upgrade()?
                        .item()
                        .and_downcast::<glib::BoxedAnyObject>()?;
                    let order = row.borrow::<OrderRow>().order.clone();
                    Some(order)
                }
            };
            let (w, find) = (weak.clone(), order_of.clone());
            modify.connect_clicked(move |_| {
                if let (Some(inner), Some(order)) = (w.upgrade(), find()) {
                    inner.modify(&order);
                }
            });
            let (w, find) = (weak.clone(), order_of.clone());
            cancel.connect_clicked(move |_| {
                if let (Some(inner), Some(order)) = (w.upgrade(), find()) {
                    inner.confirm_cancel(&order);
                }
            });
            let (w, find) = (weak.clone(), order_of);
            audit.connect_clicked(move |_| {
                if let (Some(inner), Some(order)) = (w.upgrade(), find()) {
                    inner.show_audit(&order.order_ref);
                }
            });
            item.set_child(Some(&buttons));
        });
        // First, so that cancelling never needs a sideways scroll.
        let column = gtk::ColumnViewColumn::new(Some("Actions"), Some(factory));
        self.orders_view.insert_column(0, &column);
        let weak = Rc::downgrade(self);
        self.orders_view.connect_activate(move |_, position| {
            if let Some(inner) = weak.upgrade()
                && let Some(order) = inner.order_at(position)
            {
                inner.show_audit(&order.order_ref);
            }
        });
    }

    /// Delete on the selected order cancels it, after a confirmation.
    fn connect_keys(self: &Rc<Self>) {
        let keys = gtk::EventControllerKey::new();
        let weak = Rc::downgrade(self);
        keys.connect_key_pressed(move |_, key, _, _| {
            if !matches!(key, gtk::gdk::Key::Delete | gtk::gdk::Key::KP_Delete) {
                return glib::Propagation::Proceed;
            }
            let Some(inner) = weak.upgrade() else {
                return glib::Propagation::Proceed;
            };
            let selected = inner
                .orders_view
                .model()
                .and_downcast::<gtk::SingleSelection>()
                .map(|s| s.selected())
                .unwrap_or(gtk::INVALID_LIST_POSITION);
            match inner.order_at(selected) {
                Some(order) => {
                    inner.confirm_cancel(&order);
                    glib::Propagation::Stop
                }
                None => glib::Propagation::Proceed,
            }
        });
        self.orders_view.add_controller(keys);
    }

    fn order_at(&self, position: u32) -> Option<Order> {
        let row = self
            .orders
            .item(position)
            .and_downcast::<glib::BoxedAnyObject>()?;
        let order = row.borrow::<OrderRow>().order.clone();
        Some(order)
    }

    fn symbol(&self, id: i64) -> String {
        if let Some(known) = self.ctx.shared.borrow().instruments.get(&id) {
            return known.spec.symbol.clone();
        }
        symbol_of(&self.symbols.borrow(), id)
    }

    fn blotter(&self, orders: &[Order], executions: &[Execution], instruments: &[Instrument]) {
        self.symbols
            .borrow_mut()
            .extend(instruments.iter().map(|i| (i.id, i.spec.symbol.clone())));
        let order_rows: Vec<OrderRow> = orders
            .iter()
            .map(|o| OrderRow {
                order: o.clone(),
                symbol: self.symbol(o.instrument_id),
            })
            .collect();
        let fill_rows: Vec<ExecutionRow> = executions
            .iter()
            .map(|e| ExecutionRow {
                execution: e.clone(),
                symbol: self.symbol(e.instrument_id),
            })
            .collect();
        self.orders_stack
            .set_visible_child_name(if order_rows.is_empty() {
                "empty"
            } else {
                "table"
            });
        self.executions_stack
            .set_visible_child_name(if fill_rows.is_empty() {
                "empty"
            } else {
                "table"
            });
        table::replace(&self.orders, order_rows);
        table::replace(&self.executions, fill_rows);
    }

    fn window(&self) -> Option<gtk::Window> {
        self.root.root().and_downcast::<gtk::Window>()
    }

    fn confirm_cancel(&self, order: &Order) {
        let commands = self.ctx.commands.clone();
        let order_ref = order.order_ref.clone();
        dialogs::confirm_cancel(
            self.window().as_ref(),
            &describe(order, &self.symbol(order.instrument_id)),
            move || {
                commands.send(OrderCommand::Cancel {
                    order_ref: order_ref.clone(),
                });
            },
        );
    }

    fn modify(&self, order: &Order) {
        let commands = self.ctx.commands.clone();
        let ctx = self.ctx.clone();
        dialogs::modify(
            self.window().as_ref(),
            order,
            &describe(order, &self.symbol(order.instrument_id)),
            move |result| match result {
                Ok(command) => {
                    commands.send(command);
                }
                Err(why) => ctx.request(WindowRequest::Toast(why)),
            },
        );
    }

    fn show_audit(&self, order_ref: &str) {
        let dialog = dialogs::AuditDialog::open(self.window().as_ref(), order_ref);
        self.audits
            .borrow_mut()
            .insert(order_ref.to_owned(), dialog);
        self.ctx.commands.send(OrderCommand::Audit {
            order_ref: order_ref.to_owned(),
        });
    }

    fn order_event(&self, event: &OrderEvent) {
        match event {
            OrderEvent::Blotter {
                orders,
                executions,
                instruments,
            } => self.blotter(orders, executions, instruments),
            OrderEvent::Audit { order_ref, entries } => {
                if let Some(dialog) = self.audits.borrow_mut().remove(order_ref) {
                    dialog.fill(entries);
                }
            }
            OrderEvent::Modified { order_ref } => self
                .ctx
                .request(WindowRequest::Toast(format!("Order {order_ref} modified"))),
            OrderEvent::ModifyRefused { order_ref, reason } => self.ctx.request(
                WindowRequest::Toast(format!("Order {order_ref} not modified: {reason}")),
            ),
            _ => {}
        }
    }
}

/// `Buy 10 AAPL LMT 187.50 (DU1)`, for dialogs.
fn describe(order: &Order, symbol: &str) -> String {
    let mut text = format!(
        "{} {} {symbol} {}",
        table::side(order.side),
        order.quantity.normalize(),
        order.order_type
    );
    if let Some(stop) = order.stop_price {
        text.push_str(&format!(" stop {}", super::ticket::form::price_text(stop)));
    }
    if let Some(limit) = order.limit_price {
        text.push_str(&format!(" {}", super::ticket::form::price_text(limit)));
    }
    text.push_str(&format!(" ({})", order.account));
    text
}

impl Panel for Orders {
    fn widget(&self) -> gtk::Widget {
        self.inner.root.clone().upcast()
    }

    fn event(&self, event: &PanelEvent) {
        match event {
            PanelEvent::Backend(Notification::Orders(event)) => self.inner.order_event(event),
            PanelEvent::Backend(Notification::Session(
                SessionEvent::Connected { .. }
                | SessionEvent::Disconnected
                | SessionEvent::Synchronised(_),
            )) => {
                self.inner.ctx.commands.send(OrderCommand::Refresh);
            }
            _ => {}
        }
    }
}
