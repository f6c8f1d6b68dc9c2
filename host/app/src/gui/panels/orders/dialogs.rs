//! The blotter's dialogs: cancel confirmation, modification, and an order's audit trail.

use adw::prelude::*;
use tickwork_core::domain::{Order, OrderType};
use tickwork_core::store::audit::AuditRecord;

use crate::gui::boundary::OrderCommand;
use crate::gui::panels::ticket::form::{positive_decimal, price_text};

pub fn confirm_cancel(window: Option<&gtk::Window>, order: &str, cancel: impl Fn() + 'static) {
    let dialog = adw::MessageDialog::new(
        window,
        Some("Cancel this order?"),
        Some(&format!(
            "{order} will be cancelled at TWS. A part already filled stays filled."
        )),
    );
    dialog.set_widget_name("confirm-cancel");
    dialog.add_responses(&[("keep", "_Keep order"), ("cancel-order", "_Cancel order")]);
    dialog.set_response_appearance("cancel-order", adw::ResponseAppearance::Destructive);
    dialog.set_default_response(Some("keep"));
    dialog.set_close_response("keep");
    dialog.connect_response(None, move |_, response| {
        if response == "cancel-order" {
            cancel();
        }
    });
    dialog.present();
}

fn uses_limit(order_type: OrderType) -> bool {
    matches!(order_type, OrderType::Limit | OrderType::StopLimit)
}

fn uses_stop(order_type: OrderType) -> bool {
    matches!(order_type, OrderType::Stop | OrderType::StopLimit)
}

/// The modification a dialog's fields ask for: `None` for a value left as it was.
pub fn changes(
    order: &Order,
    quantity: &str,
    limit: &str,
    stop: &str,
) -> Result<OrderCommand, String> {
    let quantity = positive_decimal(quantity, "quantity")?;
    let limit = if uses_limit(order.order_type) {
        Some(positive_decimal(limit, "limit price")?)
    } else {
        None
    };
    let stop = if uses_stop(order.order_type) {
        Some(positive_decimal(stop, "stop price")?)
    } else {
        None
    };
    let changed = |new: Option<rust_decimal::Decimal>, old| new.filter(|n| Some(*n) != old);
    let quantity = Some(quantity).filter(|q| *q != order.quantity);
    let limit_price = changed(limit, order.limit_price);
    let stop_price = changed(stop, order.stop_price);
    if quantity.is_none() && limit_price.is_none() && stop_price.is_none() {
        return Err("Nothing changed: the order is left as it is".into());
    }
    Ok(OrderCommand::Modify {
        order_ref: order.order_ref.clone(),
        quantity,
        limit_price,
        stop_price,
    })
}

pub fn modify(
    window: Option<&gtk::Window>,
    order: &Order,
    described: &str,
    done: impl Fn(Result<OrderCommand, String>) + 'static,
) {
    let dialog = adw::MessageDialog::new(
        window,
        Some("Modify order"),
        Some(&format!(
            "{described}. The change passes the risk gate like a new order; TWS confirms it."
        )),
    );
    dialog.set_widget_name("modify-order");
    let grid = gtk::Grid::builder()
        .row_spacing(6)
        .column_spacing(12)
        .build();
    let mut row = 0;
    let mut field = |mnemonic: &str, name: &str, value: String| {
        let entry = gtk::Entry::builder().text(value).hexpand(true).build();
        entry.set_widget_name(name);
        entry.set_activates_default(true);
        let label = gtk::Label::with_mnemonic(mnemonic);
        label.set_xalign(0.0);
        label.set_mnemonic_widget(Some(&entry));
        grid.attach(&label, 0, row, 1, 1);
        grid.attach(&entry, 1, row, 1, 1);
        row += 1;
        entry
    };
    let quantity = field(
        "_Quantity",
        "modify-quantity",
        order.quantity.normalize().to_string(),
    );
    let limit = uses_limit(order.order_type).then(|| {
        field(
            "_Limit",
            "modify-limit",
            order.limit_price.map(price_text).unwrap_or_default(),
        )
    });
    let stop = uses_stop(order.order_type).then(|| {
        field(
            "St_op",
            "modify-stop",
            order.stop_price.map(price_text).unwrap_or_default(),
        )
    });
    dialog.set_extra_child(Some(&grid));
    dialog.add_responses(&[("cancel", "_Cancel"), ("modify", "_Modify")]);
    dialog.set_response_appearance("modify", adw::ResponseAppearance::Suggested);
    dialog.set_default_response(Some("modify"));
    dialog.set_close_response("cancel");
    let order = order.clone();
    dialog.connect_response(None, move |_, response| {
        if response != "modify" {
            return;
        }
        let text = |entry: &Option<gtk::Entry>| {
            entry
                .as_ref()
                .map(|e| e.text().to_string())
                .unwrap_or_default()
        };
        done(changes(
            &order,
            &quantity.text(),
            &text(&limit),
            &text(&stop),
        ));
    });
    dialog.present();
}

/// A window listing an order's audit entries; filled when they arrive.
pub struct AuditDialog {
    list: gtk::ListBox,
    stack: gtk::Stack,
}

impl AuditDialog {
    pub fn open(window: Option<&gtk::Window>, order_ref: &str) -> Self {
        let list = gtk::ListBox::new();
        list.add_css_class("boxed-list");
        list.set_selection_mode(gtk::SelectionMode::None);
        list.set_widget_name("audit-entries");
        let loading = adw::StatusPage::builder()
            .title("Reading the audit log…")
            .build();
        let content = gtk::ScrolledWindow::builder()
            .hscrollbar_policy(gtk::PolicyType::Never)
            .vexpand(true)
            .child(
                &adw::Clamp::builder()
                    .child(&list)
                    .margin_top(12)
                    .margin_bottom(12)
                    .margin_start(12)
                    .margin_end(12)
                    .build(),
            )
            .build();
        let stack = gtk::Stack::new();
        stack.add_named(&loading, Some("loading"));
        stack.add_named(&content, Some("entries"));
        let body = gtk::Box::new(gtk::Orientation::Vertical, 0);
        body.append(&adw::HeaderBar::new());
        body.append(&stack);
        let dialog = adw::Window::builder()
            .title(format!("Audit trail of {order_ref}"))
            .default_width(560)
            .default_height(420)
            .modal(true)
            .content(&body)
            .build();
        dialog.set_widget_name("order-audit-dialog");
        dialog.set_transient_for(window);
        dialog.present();
        Self { list, stack }
    }

    pub fn fill(&self, entries: &[AuditRecord]) {
        if entries.is_empty() {
            let none = adw::StatusPage::builder()
                .icon_name("document-open-recent-symbolic")
                .title("No audit entries")
                .description("Nothing was recorded for this order yet.")
                .build();
            self.stack.add_named(&none, Some("none"));
            self.stack.set_visible_child_name("none");
            return;
        }
        for entry in entries {
            let (title, subtitle) = audit_text(entry);
            let row = adw::ActionRow::builder()
                .title(glib_escape(&title))
                .subtitle(glib_escape(&subtitle))
                .build();
            self.list.append(&row);
        }
        self.stack.set_visible_child_name("entries");
    }
}

fn glib_escape(text: &str) -> String {
    gtk::glib::markup_escape_text(text).to_string()
}

/// One entry as a title (when, what, the decision) and a subtitle (who, why, the details).
pub fn audit_text(entry: &AuditRecord) -> (String, String) {
    let when = entry
        .at
        .with_timezone(&chrono::Local)
        .format("%Y-%m-%d %H:%M:%S");
    let decision = entry
        .decision
        .as_deref()
        .map(|d| format!(" — {d}"))
        .unwrap_or_default();
    let title = format!("{when}  {}{decision}", entry.action);
    let mut subtitle = format!("by {}", entry.actor);
    if let Some(reason) = &entry.reason {
        subtitle.push_str(&format!("; {reason}"));
    }
    if let Some(map) = entry.details.as_object() {
        let details: Vec<String> = map
            .iter()
            .filter(|(key, value)| key.as_str() != "order_ref" && !value.is_null())
            .map(|(key, value)| match value.as_str() {
                Some(text) => format!("{key}={text}"),
                None => format!("{key}={value}"),
            })
            .collect();
        if !details.is_empty() {
            subtitle.push('\n');
            subtitle.push_str(&details.join(", "));
        }
    }
    (title, subtitle)
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    /// An exact decimal from its text (the app has no decimal macro).
    fn d(text: &str) -> rust_decimal::Decimal {
        text.parse().expect("a decimal")
    }
    use tickwork_core::domain::{OrderSide, TimeInForce};

    use super::*;

    fn order(order_type: OrderType) -> Order {
        Order {
            order_ref: "tw-1".into(),
            account: "DU1".into(),
            instrument_id: 1,
            origin: "ui".into(),
            side: OrderSide::Buy,
            quantity: d("10"),
            order_type,
            limit_price: Some(d("187.5")),
            stop_price: None,
            time_in_force: TimeInForce::Day,
            parent_ref: None,
            tws_order_id: None,
            tws_perm_id: None,
            tws_client_id: None,
            status: "Submitted".into(),
            status_reason: None,
            requested: None,
            cancel_requested_at: None,
            filled_quantity: d("0"),
            average_fill_price: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn a_modification_sends_only_what_changed() {
        let limit = order(OrderType::Limit);
        match changes(&limit, "10", "186.25", "").unwrap() {
            OrderCommand::Modify {
                order_ref,
                quantity,
                limit_price,
                stop_price,
            } => {
                assert_eq!(order_ref, "tw-1");
                assert_eq!(quantity, None);
                assert_eq!(limit_price, Some(d("186.25")));
                assert_eq!(stop_price, None);
            }
            other => panic!("{other:?}"),
        }
        assert!(
            changes(&limit, "10", "187.50", "").is_err(),
            "nothing changed"
        );
        assert_eq!(
            changes(&limit, "0", "187.5", "").unwrap_err(),
            "The quantity must be more than 0"
        );
        let market = order(OrderType::Market);
        assert!(matches!(
            changes(&market, "20", "junk", "junk").unwrap(),
            OrderCommand::Modify { quantity: Some(q), limit_price: None, .. } if q == d("20")
        ));
    }

    #[test]
    fn audit_entries_read_as_sentences() {
        let entry = AuditRecord {
            id: 1,
            at: Utc::now(),
            actor: "ui".into(),
            action: "order.intent".into(),
            decision: Some("allowed".into()),
            reason: None,
            details: serde_json::json!({
                "order_ref": "tw-1", "symbol": "AAPL", "quantity": "10", "stop_price": null
            }),
        };
        let (title, subtitle) = audit_text(&entry);
        assert!(title.ends_with("order.intent — allowed"), "{title}");
        assert_eq!(subtitle, "by ui\nquantity=10, symbol=AAPL");
    }
}
