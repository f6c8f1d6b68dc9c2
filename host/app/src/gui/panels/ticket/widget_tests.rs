//! Both order panels as widgets, under a display (the suite runs inside Xvfb): the ticket's
//! validation, debounced preview, verdict and margin figures; the blotter's rows, empty states
//! and the widget names the GUI tests drive. One test function, because GTK is initialised on
//! one thread only.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use adw::prelude::*;
use chrono::Utc;
use gtk::glib;
use tickwork_core::domain::{
    ExecSide, Execution, Instrument, InstrumentSpec, Order, OrderIntent, OrderSide, OrderType,
    TimeInForce, TwsWhatIf,
};
use tickwork_core::store::profiles::ConnectionProfile;

use crate::gui::boundary::{
    Command, Commands, MarketCommand, Notification, OrderCommand, OrderEvent, OurMargin,
};
use crate::gui::panels::{Panel, PanelContext, PanelEvent, Shared, WindowRequest};

fn d(text: &str) -> rust_decimal::Decimal {
    text.parse().expect("a decimal")
}

/// Runs the main loop for `time` (timers, idle callbacks, layout).
fn pump(time: Duration) {
    let context = glib::MainContext::default();
    let until = Instant::now() + time;
    while Instant::now() < until {
        while context.iteration(false) {}
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn find(root: &gtk::Widget, name: &str) -> Option<gtk::Widget> {
    if root.widget_name() == name {
        return Some(root.clone());
    }
    let mut child = root.first_child();
    while let Some(widget) = child {
        if let Some(found) = find(&widget, name) {
            return Some(found);
        }
        child = widget.next_sibling();
    }
    None
}

fn named<T: IsA<gtk::Widget>>(root: &gtk::Widget, name: &str) -> T {
    find(root, name)
        .unwrap_or_else(|| panic!("no widget named {name}"))
        .downcast::<T>()
        .unwrap_or_else(|_| panic!("{name} has another type"))
}

fn commands_sent(rx: &mut tokio::sync::mpsc::UnboundedReceiver<Command>) -> Vec<Command> {
    let mut sent = Vec::new();
    while let Ok(command) = rx.try_recv() {
        sent.push(command);
    }
    sent
}

struct Harness {
    ctx: PanelContext,
    rx: tokio::sync::mpsc::UnboundedReceiver<Command>,
    requests: Rc<RefCell<Vec<WindowRequest>>>,
}

fn harness() -> Harness {
    let (commands, rx) = Commands::channel();
    let shared = Rc::new(RefCell::new(Shared {
        profile: Some(ConnectionProfile::local_paper("demo")),
        account: Some("DU1".into()),
        ..Shared::default()
    }));
    let requests = Rc::new(RefCell::new(Vec::new()));
    let seen = requests.clone();
    let ctx = PanelContext::new(
        commands,
        shared,
        Rc::new(move |request| seen.borrow_mut().push(request)),
        None,
    );
    Harness { ctx, rx, requests }
}

fn in_window(widget: &gtk::Widget) -> gtk::Window {
    let window = gtk::Window::builder()
        .default_width(900)
        .default_height(700)
        .child(widget)
        .build();
    window.present();
    pump(Duration::from_millis(100));
    window
}

// On GTK's one test thread, shared with the chart's widget test (GTK runs on one thread per
// process); without a display it fails, it does not pass.
#[gtk::test]
fn order_panels_validate_preview_and_list_orders() {
    adw::init().expect("libadwaita");
    ticket_validates_and_previews();
    blotter_lists_orders_and_fills();
}

fn ticket_validates_and_previews() {
    let mut h = harness();
    let ticket = super::Ticket::new(h.ctx.clone());
    let root = ticket.widget();
    let window = in_window(&root);
    let place: gtk::Button = named(&root, "ticket-place");
    let quantity: gtk::Entry = named(&root, "ticket-quantity");
    let limit: gtk::Entry = named(&root, "ticket-limit");
    let symbol: gtk::Entry = named(&root, "ticket-symbol");
    let refusal: gtk::Label = named(&root, "ticket-refusal");
    let ours: gtk::Label = named(&root, "ticket-ours");
    let tws: gtk::Label = named(&root, "ticket-tws");
    let order_type: gtk::DropDown = named(&root, "ticket-type");
    for name in [
        "ticket-side-buy",
        "ticket-side-sell",
        "ticket-stop",
        "ticket-tif",
    ] {
        assert!(find(&root, name).is_some(), "{name}");
    }
    assert!(!place.is_sensitive(), "an empty form cannot be placed");
    assert!(
        place.tooltip_text().unwrap().contains("instrument"),
        "{:?}",
        place.tooltip_text()
    );

    // A typed symbol becomes a stock and is streamed for its quote.
    symbol.set_text("aapl");
    symbol.emit_activate();
    assert_eq!(symbol.text(), "AAPL");
    let sent = commands_sent(&mut h.rx);
    assert!(
        sent.iter().any(|c| matches!(
            c,
            Command::Market(MarketCommand::Watch { spec }) if *spec == InstrumentSpec::stock("AAPL")
        )),
        "{sent:?}"
    );

    // Invalid input: the reason at the field and on the button; nothing is previewed.
    quantity.set_text("0");
    limit.set_text("187.5");
    pump(Duration::from_millis(400));
    assert!(!place.is_sensitive());
    assert_eq!(
        place.tooltip_text().as_deref(),
        Some("The quantity must be more than 0")
    );
    assert!(
        commands_sent(&mut h.rx).is_empty(),
        "no preview of an invalid order"
    );

    // Valid: one preview after the debounce, with the exact intent.
    quantity.set_text("1");
    quantity.set_text("10");
    assert!(place.is_sensitive());
    pump(Duration::from_millis(450));
    let previews: Vec<OrderIntent> = commands_sent(&mut h.rx)
        .into_iter()
        .filter_map(|c| match c {
            Command::Orders(OrderCommand::Preview { intent }) => Some(*intent),
            _ => None,
        })
        .collect();
    assert_eq!(previews.len(), 1, "debounced: one preview for two edits");
    let intent = previews[0].clone();
    assert_eq!(intent.quantity, d("10"));
    assert_eq!(intent.limit_price, Some(d("187.5")));
    assert_eq!(intent.account, "DU1");

    // The verdict and our margin, then TWS's what-if, shown beside each other.
    let event = |e: OrderEvent| ticket.event(&PanelEvent::Backend(Notification::Orders(e)));
    event(OrderEvent::Preview {
        intent: Box::new(intent.clone()),
        refusal: Some("not_armed: trading is not armed for account DU1".into()),
        ours: Ok(OurMargin {
            price: d("187.5"),
            initial_before: d("0"),
            initial_after: d("468.75"),
            maintenance_before: d("0"),
            maintenance_after: d("468.75"),
            equity_with_loan: None,
            explanation: Some(tickwork_margin::Node::new(
                "AAPL",
                "",
                d("468.75"),
                d("468.75"),
            )),
        }),
    });
    assert!(refusal.is_visible());
    assert!(refusal.text().starts_with("not_armed:"));
    assert_eq!(ours.text(), "468.75");
    assert_eq!(tws.text(), "—");
    event(OrderEvent::PreviewTws {
        intent: Box::new(intent.clone()),
        tws: Ok(TwsWhatIf {
            initial_margin_after: Some(d("470.1")),
            maintenance_margin_after: None,
            equity_with_loan_after: None,
            commission: Some(d("1")),
        }),
    });
    assert_eq!(tws.text(), "470.10");
    assert_eq!(ours.text(), "468.75", "ours stays");
    // A stale answer (another intent) is ignored.
    let mut stale = intent.clone();
    stale.quantity = d("99");
    event(OrderEvent::PreviewTws {
        intent: Box::new(stale),
        tws: Err("timeout".into()),
    });
    assert_eq!(tws.text(), "470.10");

    // A market order hides the limit field; a refusal at placing stays visible and is toasted.
    order_type.set_selected(0);
    assert!(!WidgetExt::is_visible(&limit));
    event(OrderEvent::PlaceRefused {
        intent: Box::new(intent.clone()),
        reason: "order denied by max_quantity: 10 > 5".into(),
    });
    assert_eq!(refusal.text(), "order denied by max_quantity: 10 > 5");
    event(OrderEvent::Placed {
        order_ref: "tw-1".into(),
        intent: Box::new(intent),
    });
    assert!(!refusal.is_visible());
    let toasts: Vec<String> = h
        .requests
        .borrow()
        .iter()
        .filter_map(|r| match r {
            WindowRequest::Toast(text) => Some(text.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        toasts,
        vec![
            "Order refused: order denied by max_quantity: 10 > 5".to_owned(),
            "Order sent: Buy 10 AAPL LMT 187.50 DAY on DU1".to_owned(),
        ]
    );
    assert_eq!(
        ticket.saved_state(),
        Some(serde_json::json!({"symbol": "AAPL"}))
    );
    window.destroy();
}

fn order(order_ref: &str) -> Order {
    Order {
        order_ref: order_ref.into(),
        account: "DU1".into(),
        instrument_id: 7,
        origin: "ui".into(),
        side: OrderSide::Buy,
        quantity: d("10"),
        order_type: OrderType::Limit,
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

fn blotter_lists_orders_and_fills() {
    let mut h = harness();
    let orders = crate::gui::panels::orders::Orders::new(h.ctx.clone());
    assert!(
        commands_sent(&mut h.rx)
            .iter()
            .any(|c| matches!(c, Command::Orders(OrderCommand::Refresh))),
        "the blotter asks for its data when opened"
    );
    let root = orders.widget();
    let window = in_window(&root);
    let view: gtk::ColumnView = named(&root, "orders-view");
    let fills: gtk::ColumnView = named(&root, "executions-view");
    assert_eq!(view.model().unwrap().n_items(), 0);
    let fill = Execution {
        exec_id: "e1".into(),
        order_ref: Some("tw-1".into()),
        tws_order_id: None,
        tws_perm_id: None,
        account: "DU2".into(),
        instrument_id: 7,
        side: ExecSide::Bought,
        quantity: d("5"),
        price: d("187.25"),
        commission: Some(d("1")),
        commission_currency: Some("USD".into()),
        realized_pnl: None,
        executed_at: Utc::now(),
    };
    orders.event(&PanelEvent::Backend(Notification::Orders(
        OrderEvent::Blotter {
            orders: vec![order("tw-1"), order("tw-2")],
            executions: vec![fill],
            instruments: vec![Instrument {
                id: 7,
                spec: InstrumentSpec::stock("AAPL"),
            }],
        },
    )));
    pump(Duration::from_millis(200));
    assert_eq!(view.model().unwrap().n_items(), 2);
    assert_eq!(fills.model().unwrap().n_items(), 1);
    let cancel: gtk::Button = named(&root, "order-cancel");
    assert_eq!(cancel.tooltip_text().as_deref(), Some("Cancel the order"));
    assert!(find(&root, "order-modify").is_some());
    // The order's audit trail is one click away.
    let audit: gtk::Button = named(&root, "order-audit");
    audit.emit_clicked();
    assert!(
        commands_sent(&mut h.rx).iter().any(|c| matches!(
            c,
            Command::Orders(OrderCommand::Audit { order_ref }) if order_ref == "tw-1"
        )),
        "the audit button asks for the row's order"
    );
    orders.event(&PanelEvent::Backend(Notification::Orders(
        OrderEvent::Audit {
            order_ref: "tw-1".into(),
            entries: Vec::new(),
        },
    )));
    for toplevel in gtk::Window::list_toplevels() {
        if let Ok(w) = toplevel.downcast::<gtk::Window>()
            && w != window
        {
            w.destroy();
        }
    }
    window.destroy();
}
